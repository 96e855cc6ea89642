/**
 * Vault credentials: Signal-Server's "external service credentials"
 * (`org.whispersystems.textsecuregcm.auth.ExternalServiceCredentialsGenerator`), with which the
 * relay vouches for an account to a service that has no accounts of its own:
 *
 *     username = accountId
 *     password = <unix seconds> ":" hex(HMAC-SHA256(K, username ":" <unix seconds>)[0..10])
 *
 * checked in constant time with an expiry. The relay signs (packages/server
 * routes/vault-credential.ts does the same computation); the vault checks and takes the account
 * id from the credential, never from a request body.
 *
 * What Sotto adds: two scopes, by domain-separated keys derived from the shared key with HKDF
 * (RFC 5869), `K_scope = HKDF-SHA256(ikm = key, salt = "", info = "sotto-vault-credential-v1/"
 * scope, 32)`. A `full` credential (the relay's authenticated route, for a device of the account)
 * allows everything; a `recover` credential (the REGISTRATION_LOCKED answer, for whoever just
 * proved the SMS code) allows only login and status, so an SMS-code holder cannot replace or
 * delete the record that guards the master key. The wire format is Signal's, unchanged.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import {
  ApiError,
  VAULT_CREDENTIAL_SIGNATURE_BYTES,
  isVaultUsername,
  parseVaultAuthorization,
  type VaultCredential,
} from '@sotto/api';
import { VAULT_CREDENTIAL_MAX_AGE_MS, VAULT_CREDENTIAL_MAX_SKEW_MS } from './limits.js';

/** The shared key's minimum length: a full HMAC-SHA256 key. */
export const VAULT_CREDENTIAL_KEY_BYTES = 32;

export type VaultCredentialScope = 'full' | 'recover';
export const VAULT_CREDENTIAL_SCOPES: readonly VaultCredentialScope[] = ['full', 'recover'];

export interface VaultCredentialsOptions {
  /** At least VAULT_CREDENTIAL_KEY_BYTES bytes, shared by the relay and the vault. */
  readonly key: Uint8Array;
  /** Default VAULT_CREDENTIAL_MAX_AGE_MS. */
  readonly maxAgeMs?: number;
  /** Clock (ms since the epoch); default `Date.now`. */
  readonly now?: () => number;
}

/** A checked credential: whose it is and what it allows. */
export interface VerifiedVaultCredential {
  readonly accountId: string;
  readonly scope: VaultCredentialScope;
}

/** HKDF-SHA256 of the shared key for one scope (see the module header). */
export function vaultCredentialScopeKey(key: Uint8Array, scope: VaultCredentialScope): Buffer {
  return Buffer.from(
    hkdfSync('sha256', key, new Uint8Array(0), `sotto-vault-credential-v1/${scope}`, 32),
  );
}

/** Signal's signature: hex of HMAC-SHA256(key, username ":" seconds) truncated to 10 bytes. */
export function vaultCredentialSignature(
  scopeKey: Uint8Array,
  username: string,
  timestampSeconds: number,
): string {
  return createHmac('sha256', scopeKey)
    .update(`${username}:${timestampSeconds}`)
    .digest()
    .subarray(0, VAULT_CREDENTIAL_SIGNATURE_BYTES)
    .toString('hex');
}

/** Issues and checks vault credentials under one shared key. Never prints the key. */
export class VaultCredentials {
  readonly #keys: ReadonlyMap<VaultCredentialScope, Buffer>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: VaultCredentialsOptions) {
    if (!(options.key instanceof Uint8Array) || options.key.length < VAULT_CREDENTIAL_KEY_BYTES) {
      throw new RangeError(
        `the vault credential key must be at least ${VAULT_CREDENTIAL_KEY_BYTES} bytes`,
      );
    }
    this.#keys = new Map(
      VAULT_CREDENTIAL_SCOPES.map((s) => [s, vaultCredentialScopeKey(options.key, s)]),
    );
    this.#maxAgeMs = options.maxAgeMs ?? VAULT_CREDENTIAL_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A credential for `accountId` with `scope`, signed now. */
  issue(accountId: string, scope: VaultCredentialScope): VaultCredential {
    if (!isVaultUsername(accountId)) throw new RangeError('accountId cannot be a vault username');
    const seconds = Math.floor(this.#now() / 1000);
    const signature = vaultCredentialSignature(this.#keys.get(scope)!, accountId, seconds);
    return { username: accountId, password: `${seconds}:${signature}` };
  }

  /**
   * Checks an `Authorization` header: well-formed, signed under one of the scope keys (compared
   * in constant time, every scope checked), not expired and not from the future. Throws
   * VAULT_CREDENTIAL_INVALID otherwise, naming no part of the header.
   */
  verify(header: string | undefined): VerifiedVaultCredential {
    const parsed = parseVaultAuthorization(header);
    const given = Buffer.from(parsed.signatureHex, 'hex');
    let scope: VaultCredentialScope | undefined;
    for (const s of VAULT_CREDENTIAL_SCOPES) {
      const expected = Buffer.from(
        vaultCredentialSignature(this.#keys.get(s)!, parsed.username, parsed.timestampSeconds),
        'hex',
      );
      if (timingSafeEqual(expected, given) && scope === undefined) scope = s;
    }
    if (scope === undefined) throw new ApiError('VAULT_CREDENTIAL_INVALID');
    const issuedAtMs = parsed.timestampSeconds * 1000;
    const now = this.#now();
    if (now - issuedAtMs > this.#maxAgeMs || issuedAtMs - now > VAULT_CREDENTIAL_MAX_SKEW_MS) {
      throw new ApiError(
        'VAULT_CREDENTIAL_INVALID',
        'the vault credential expired; ask the relay for a new one',
      );
    }
    return { accountId: parsed.username, scope };
  }

  toJSON(): string {
    return '[VaultCredentials]';
  }
  toString(): string {
    return '[VaultCredentials]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[VaultCredentials]';
  }
}
