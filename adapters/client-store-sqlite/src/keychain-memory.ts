/**
 * An in-memory `KeychainPort`, the reference implementation for tests (and a template for an OS
 * binding). It keeps copies of the secrets it is given and hands out copies.
 */
import type { KeychainPort } from './keychain.js';

export interface MemoryKeychain extends KeychainPort {
  /** Number of secrets held (tests check enrolment and removal). */
  readonly size: number;
}

export function memoryKeychain(): MemoryKeychain {
  const secrets = new Map<string, Uint8Array>();
  const slot = (service: string, account: string): string => `${service}\0${account}`;
  return {
    get size() {
      return secrets.size;
    },
    get(service, account) {
      return Promise.resolve(secrets.get(slot(service, account))?.slice());
    },
    set(service, account, secret) {
      secrets.set(slot(service, account), secret.slice());
      return Promise.resolve();
    },
    delete(service, account) {
      secrets.get(slot(service, account))?.fill(0);
      secrets.delete(slot(service, account));
      return Promise.resolve();
    },
  };
}
