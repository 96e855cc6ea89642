/**
 * The key hierarchy of the SQLite client store (ARCHITECTURE.md, "device data at rest"):
 *
 *   store key (random, 256 bits, never written in clear)
 *     ├─ wrapped by Argon2id(passphrase, salt, m/t/p) with AES-256-GCM   — always present
 *     ├─ wrapped by a random 256-bit key held in an OS keychain (KeychainPort) — optional
 *     ├─ HKDF → value key: AES-256-GCM seals every value (entry-cipher.ts)
 *     └─ HKDF → name key: HMAC-SHA256 of namespaces and keys (entry-cipher.ts)
 *
 * Changing the passphrase re-wraps the store key; no value is re-encrypted. A wrap's AAD binds the
 * store id and (for the passphrase) the Argon2id parameters and salt, so a wrap cannot be moved to
 * another store or paired with other parameters. A wrong passphrase and a modified wrap are
 * indistinguishable (both fail the GCM tag) and are reported as WRONG_PASSPHRASE.
 *
 * Left out on purpose: a PIN as a key (MIN_PASSPHRASE_LENGTH; docs/cli.md "Why not a PIN").
 */
import { hashRaw } from '@node-rs/argon2';
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  CryptoError,
  concatBytes,
  hkdfSha256,
  randomBytes,
  utf8,
} from '@sotto/crypto';
import { SqliteClientStoreError } from './errors.js';
import {
  ARGON2_MAX_MEMORY_KIB,
  ARGON2_MAX_PARALLELISM,
  ARGON2_MAX_TIME_COST,
  ARGON2_MEMORY_KIB,
  ARGON2_MIN_MEMORY_KIB,
  ARGON2_MIN_TIME_COST,
  ARGON2_PARALLELISM,
  ARGON2_SALT_LENGTH,
  ARGON2_TIME_COST,
  GCM_NONCE_LENGTH,
  GCM_TAG_LENGTH,
  MIN_PASSPHRASE_LENGTH,
  STORE_KEY_LENGTH,
} from './limits.js';

/** Argon2 version 0x13 (RFC 9106), the only one accepted. */
const ARGON2_VERSION = 0x13;
/** `@node-rs/argon2`'s `Algorithm.Argon2id` (an ambient const enum, unusable under isolatedModules). */
const ALGORITHM_ARGON2ID = 2;
/** `@node-rs/argon2`'s `Version.V0x13`. */
const NODE_RS_VERSION_0X13 = 1;

const PASSPHRASE_WRAP_LABEL = utf8('sotto client-store v1 passphrase wrap');
const KEYCHAIN_WRAP_LABEL = utf8('sotto client-store v1 keychain wrap');
const VALUE_KEY_INFO = utf8('sotto client-store v1 value key');
const NAME_KEY_INFO = utf8('sotto client-store v1 name key');

export interface Argon2idParams {
  readonly memoryKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export const DEFAULT_ARGON2ID_PARAMS: Argon2idParams = {
  memoryKiB: ARGON2_MEMORY_KIB,
  timeCost: ARGON2_TIME_COST,
  parallelism: ARGON2_PARALLELISM,
};

/** The store key sealed under a key-encryption key: `nonce(12) ‖ GCM(store key) ‖ tag(16)`. */
export interface WrappedKey {
  readonly nonce: Uint8Array;
  readonly sealed: Uint8Array;
}

export interface PassphraseWrap extends WrappedKey {
  readonly params: Argon2idParams;
  readonly salt: Uint8Array;
}

export interface KeychainWrap extends WrappedKey {
  readonly service: string;
  readonly account: string;
}

/** Throws WEAK_PASSPHRASE unless `passphrase` may become the key of a store. */
export function checkNewPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string') {
    throw new SqliteClientStoreError('BAD_ARGUMENT', 'the passphrase must be a string');
  }
  const length = [...passphrase.normalize('NFC')].length;
  if (length < MIN_PASSPHRASE_LENGTH) {
    throw new SqliteClientStoreError(
      'WEAK_PASSPHRASE',
      `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long (a short PIN alone is too easy to guess offline)`,
    );
  }
}

/** Argon2id(NFC(passphrase) as UTF-8, salt) → 32-byte key-encryption key. */
export async function derivePassphraseKey(
  passphrase: string,
  salt: Uint8Array,
  params: Argon2idParams,
): Promise<Uint8Array> {
  const secret = utf8(passphrase.normalize('NFC'));
  try {
    const out = await hashRaw(secret, {
      algorithm: ALGORITHM_ARGON2ID,
      version: NODE_RS_VERSION_0X13,
      memoryCost: params.memoryKiB,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      outputLen: STORE_KEY_LENGTH,
      salt,
    });
    const key = new Uint8Array(out);
    out.fill(0);
    return key;
  } finally {
    secret.fill(0);
  }
}

function passphraseAad(storeId: Uint8Array, params: Argon2idParams, salt: Uint8Array): Uint8Array {
  const description = utf8(
    `argon2id v=${ARGON2_VERSION} m=${params.memoryKiB} t=${params.timeCost} p=${params.parallelism}`,
  );
  return concatBytes(PASSPHRASE_WRAP_LABEL, storeId, description, salt);
}

function keychainAad(storeId: Uint8Array, service: string, account: string): Uint8Array {
  return concatBytes(KEYCHAIN_WRAP_LABEL, storeId, utf8(`${service}\0${account}`));
}

function seal(kek: Uint8Array, storeKey: Uint8Array, aad: Uint8Array): WrappedKey {
  const nonce = randomBytes(GCM_NONCE_LENGTH);
  return { nonce, sealed: aes256GcmEncrypt(kek, nonce, storeKey, aad) };
}

function unseal(kek: Uint8Array, wrap: WrappedKey, aad: Uint8Array): Uint8Array | undefined {
  try {
    const key = aes256GcmDecrypt(kek, wrap.nonce, wrap.sealed, aad);
    if (key.length !== STORE_KEY_LENGTH) return undefined;
    return key;
  } catch (err) {
    if (CryptoError.is(err)) return undefined;
    throw err;
  }
}

/** Wraps `storeKey` under a fresh salt with the default Argon2id parameters. */
export async function wrapWithPassphrase(
  storeId: Uint8Array,
  storeKey: Uint8Array,
  passphrase: string,
): Promise<PassphraseWrap> {
  const params = DEFAULT_ARGON2ID_PARAMS;
  const salt = randomBytes(ARGON2_SALT_LENGTH);
  const kek = await derivePassphraseKey(passphrase, salt, params);
  try {
    return { params, salt, ...seal(kek, storeKey, passphraseAad(storeId, params, salt)) };
  } finally {
    kek.fill(0);
  }
}

/** The store key, or undefined if the passphrase (or the wrap) is wrong. */
export async function unwrapWithPassphrase(
  storeId: Uint8Array,
  wrap: PassphraseWrap,
  passphrase: string,
): Promise<Uint8Array | undefined> {
  const kek = await derivePassphraseKey(passphrase, wrap.salt, wrap.params);
  try {
    return unseal(kek, wrap, passphraseAad(storeId, wrap.params, wrap.salt));
  } finally {
    kek.fill(0);
  }
}

export function wrapWithKeychainKey(
  storeId: Uint8Array,
  storeKey: Uint8Array,
  keychainKey: Uint8Array,
  service: string,
  account: string,
): KeychainWrap {
  return {
    service,
    account,
    ...seal(keychainKey, storeKey, keychainAad(storeId, service, account)),
  };
}

export function unwrapWithKeychainKey(
  storeId: Uint8Array,
  wrap: KeychainWrap,
  keychainKey: Uint8Array,
): Uint8Array | undefined {
  if (keychainKey.length !== STORE_KEY_LENGTH) return undefined;
  return unseal(keychainKey, wrap, keychainAad(storeId, wrap.service, wrap.account));
}

/** The two working keys derived from the store key. */
export function deriveWorkingKeys(
  storeKey: Uint8Array,
  storeId: Uint8Array,
): { valueKey: Uint8Array; nameKey: Uint8Array } {
  return {
    valueKey: hkdfSha256(storeKey, storeId, VALUE_KEY_INFO, STORE_KEY_LENGTH),
    nameKey: hkdfSha256(storeKey, storeId, NAME_KEY_INFO, STORE_KEY_LENGTH),
  };
}

// ---- header encodings (JSON, base64 for bytes; parsed strictly) ----

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function tampered(what: string): SqliteClientStoreError {
  return new SqliteClientStoreError(
    'TAMPERED',
    `the store header is damaged (${what}); the file was modified or is corrupt`,
  );
}

function fromB64(value: unknown, length: number, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw tampered(what);
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  if (bytes.length !== length) throw tampered(what);
  return bytes;
}

function intIn(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw tampered(what);
  }
  return value;
}

function parseObject(
  bytes: Uint8Array,
  what: string,
  fields: readonly string[],
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw tampered(what);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw tampered(what);
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) throw tampered(what);
  return record;
}

const SEALED_KEY_LENGTH = STORE_KEY_LENGTH + GCM_TAG_LENGTH;

export function encodePassphraseWrap(wrap: PassphraseWrap): Uint8Array {
  return utf8(
    JSON.stringify({
      kdf: 'argon2id',
      v: ARGON2_VERSION,
      m: wrap.params.memoryKiB,
      t: wrap.params.timeCost,
      p: wrap.params.parallelism,
      salt: b64(wrap.salt),
      nonce: b64(wrap.nonce),
      key: b64(wrap.sealed),
    }),
  );
}

export function decodePassphraseWrap(bytes: Uint8Array): PassphraseWrap {
  const what = 'passphrase wrap';
  const r = parseObject(bytes, what, ['kdf', 'v', 'm', 't', 'p', 'salt', 'nonce', 'key']);
  if (r.kdf !== 'argon2id' || r.v !== ARGON2_VERSION) throw tampered(what);
  return {
    params: {
      memoryKiB: intIn(r.m, ARGON2_MIN_MEMORY_KIB, ARGON2_MAX_MEMORY_KIB, what),
      timeCost: intIn(r.t, ARGON2_MIN_TIME_COST, ARGON2_MAX_TIME_COST, what),
      parallelism: intIn(r.p, 1, ARGON2_MAX_PARALLELISM, what),
    },
    salt: fromB64(r.salt, ARGON2_SALT_LENGTH, what),
    nonce: fromB64(r.nonce, GCM_NONCE_LENGTH, what),
    sealed: fromB64(r.key, SEALED_KEY_LENGTH, what),
  };
}

export function encodeKeychainWrap(wrap: KeychainWrap): Uint8Array {
  return utf8(
    JSON.stringify({
      service: wrap.service,
      account: wrap.account,
      nonce: b64(wrap.nonce),
      key: b64(wrap.sealed),
    }),
  );
}

export function decodeKeychainWrap(bytes: Uint8Array): KeychainWrap {
  const what = 'keychain wrap';
  const r = parseObject(bytes, what, ['service', 'account', 'nonce', 'key']);
  if (typeof r.service !== 'string' || typeof r.account !== 'string') throw tampered(what);
  return {
    service: r.service,
    account: r.account,
    nonce: fromB64(r.nonce, GCM_NONCE_LENGTH, what),
    sealed: fromB64(r.key, SEALED_KEY_LENGTH, what),
  };
}
