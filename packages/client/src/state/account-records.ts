/**
 * The device's account records in the `account` namespace: its registration (account id, device
 * id, credential, registration id, number), the identity key pair (libsignal
 * `IdentityKeyPairStructure`), the registration-lock master key, and the prekey bookkeeping
 * (id counters, the current signed and last-resort prekeys, retired ones awaiting deletion).
 */
import { fromBase64Url, toBase64Url } from '@sotto/api';
import { IdentityKeyPair } from '@sotto/protocol';
import type { ClientStoreReader } from '../client-store.js';
import { ClientError } from '../errors.js';
import { fromJsonBytes, toJsonBytes } from './json.js';
import { NS } from './namespaces.js';

export const ACCOUNT_KEYS = {
  registration: 'registration',
  identity: 'identity',
  masterKey: 'master-key',
  registrationLock: 'registration-lock',
  keyState: 'key-state',
} as const;

export interface RegistrationRecord {
  readonly accountId: string;
  readonly deviceId: number;
  /** The device credential (32 bytes; a secret). */
  readonly credential: Uint8Array;
  readonly registrationId: number;
  /** The account's number (known after registration or provisioning). */
  readonly number: string | null;
  /**
   * `linking`: written only by an earlier version whose link never finished (a store in this
   * state holds no identity and must be discarded); linking now stores `registered` at once.
   */
  readonly status: 'registered' | 'linking';
}

interface RegistrationJson {
  accountId: string;
  deviceId: number;
  credential: string;
  registrationId: number;
  number: string | null;
  status: 'registered' | 'linking';
}

export function encodeRegistration(r: RegistrationRecord): Uint8Array {
  const j: RegistrationJson = {
    accountId: r.accountId,
    deviceId: r.deviceId,
    credential: toBase64Url(r.credential),
    registrationId: r.registrationId,
    number: r.number,
    status: r.status,
  };
  return toJsonBytes(j);
}

export function decodeRegistration(bytes: Uint8Array): RegistrationRecord {
  const j = fromJsonBytes<RegistrationJson>(bytes, 'registration');
  try {
    return {
      accountId: j.accountId,
      deviceId: j.deviceId,
      credential: fromBase64Url(j.credential),
      registrationId: j.registrationId,
      number: j.number,
      status: j.status,
    };
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'stored registration is malformed', { cause });
  }
}

/** Prekey ids and the keys currently published. */
export interface KeyState {
  readonly nextPreKeyId: number;
  readonly nextKyberPreKeyId: number;
  readonly nextSignedPreKeyId: number;
  readonly currentSignedPreKeyId: number;
  readonly currentLastResortKyberId: number;
  /** When the current signed prekey was made (ms). */
  readonly rotatedAt: number;
  /** Replaced signed and last-resort ids, deleted OLD_SIGNED_PREKEY_RETENTION_MS after `at`. */
  readonly retired: ReadonlyArray<{
    readonly signedId: number;
    readonly kyberId: number;
    readonly at: number;
  }>;
  /** The current signed and last-resort prekeys reached the relay. */
  readonly published: boolean;
}

export function encodeKeyState(s: KeyState): Uint8Array {
  return toJsonBytes(s);
}

export function decodeKeyState(bytes: Uint8Array): KeyState {
  return fromJsonBytes<KeyState>(bytes, 'key state');
}

export async function loadRegistration(
  store: ClientStoreReader,
): Promise<RegistrationRecord | null> {
  const bytes = await store.get(NS.account, ACCOUNT_KEYS.registration);
  return bytes === undefined ? null : decodeRegistration(bytes);
}

export async function loadIdentity(store: ClientStoreReader): Promise<IdentityKeyPair | null> {
  const bytes = await store.get(NS.account, ACCOUNT_KEYS.identity);
  if (bytes === undefined) return null;
  try {
    return IdentityKeyPair.deserialize(bytes);
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'stored identity key pair is malformed', { cause });
  }
}
