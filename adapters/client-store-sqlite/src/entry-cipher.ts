/**
 * How one entry of the client store is kept on disk (ARCHITECTURE.md, "device data at rest";
 * packages/client/src/client-store.ts, the port's contract):
 *
 * - Names. The namespace is stored as `nsId = HMAC-SHA256(nameKey, 0x01 ‖ namespace)` and the key
 *   as `keyId = HMAC-SHA256(nameKey, 0x02 ‖ nsId ‖ key)`: namespaces and keys can name contacts,
 *   so neither is written in clear, and equal keys in different namespaces do not correlate.
 * - Values. `sealed = 0x01 ‖ nonce(12) ‖ AES-256-GCM(valueKey, nonce, plaintext, aad) ‖ tag(16)`
 *   with `aad = 0x01 ‖ nsId ‖ keyId` (a sealed value moved to another row fails its tag) and
 *   `plaintext = u32be(len key) ‖ key ‖ u32be(len value) ‖ value ‖ zeros`, padded to a multiple of
 *   VALUE_PAD_BLOCK. The key travels inside so `list` can return it.
 *
 * Left out on purpose: freshness. Someone who can write the file can put back an older sealed
 * value of the same entry, or delete entries; the store detects modification, not rollback.
 */
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  CryptoError,
  hmacSha256Parts,
  randomBytes,
} from '@sotto/crypto';
import { SqliteClientStoreError } from './errors.js';
import { GCM_NONCE_LENGTH, GCM_TAG_LENGTH, MAX_NAME_BYTES, VALUE_PAD_BLOCK } from './limits.js';

const ENTRY_FORMAT = 0x01;
const NAMESPACE_DOMAIN = Uint8Array.of(0x01);
const KEY_DOMAIN = Uint8Array.of(0x02);
/** Namespaces in use are few; their ids are cached (they are not secret once a row exists). */
const NAMESPACE_CACHE_LIMIT = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function encodeName(name: string, what: string): Uint8Array {
  if (typeof name !== 'string') {
    throw new SqliteClientStoreError('BAD_ARGUMENT', `${what} must be a string`);
  }
  const bytes = encoder.encode(name);
  if (bytes.length > MAX_NAME_BYTES) {
    throw new SqliteClientStoreError(
      'BAD_ARGUMENT',
      `${what} is longer than ${MAX_NAME_BYTES} bytes`,
    );
  }
  return bytes;
}

function tamperedRow(cause?: unknown): SqliteClientStoreError {
  return new SqliteClientStoreError(
    'TAMPERED',
    'a stored value failed authentication; the store file was modified or is corrupt',
    cause === undefined ? undefined : { cause },
  );
}

export interface OpenedEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

export class EntryCipher {
  readonly #valueKey: Uint8Array;
  readonly #nameKey: Uint8Array;
  readonly #namespaces = new Map<string, Uint8Array>();

  constructor(valueKey: Uint8Array, nameKey: Uint8Array) {
    this.#valueKey = valueKey;
    this.#nameKey = nameKey;
  }

  namespaceId(namespace: string): Uint8Array {
    let id = this.#namespaces.get(namespace);
    if (id === undefined) {
      id = hmacSha256Parts(this.#nameKey, [NAMESPACE_DOMAIN, encodeName(namespace, 'namespace')]);
      if (this.#namespaces.size >= NAMESPACE_CACHE_LIMIT) this.#namespaces.clear();
      this.#namespaces.set(namespace, id);
    }
    return id;
  }

  keyId(namespaceId: Uint8Array, key: string): Uint8Array {
    return hmacSha256Parts(this.#nameKey, [KEY_DOMAIN, namespaceId, encodeName(key, 'key')]);
  }

  seal(namespaceId: Uint8Array, keyId: Uint8Array, key: string, value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new SqliteClientStoreError('BAD_ARGUMENT', 'value must be a Uint8Array');
    }
    const keyBytes = encoder.encode(key);
    const used = 8 + keyBytes.length + value.length;
    const plaintext = new Uint8Array(Math.ceil(used / VALUE_PAD_BLOCK) * VALUE_PAD_BLOCK);
    const view = new DataView(plaintext.buffer);
    view.setUint32(0, keyBytes.length);
    plaintext.set(keyBytes, 4);
    view.setUint32(4 + keyBytes.length, value.length);
    plaintext.set(value, 8 + keyBytes.length);

    const nonce = randomBytes(GCM_NONCE_LENGTH);
    const body = aes256GcmEncrypt(this.#valueKey, nonce, plaintext, aad(namespaceId, keyId));
    plaintext.fill(0);
    const sealed = new Uint8Array(1 + GCM_NONCE_LENGTH + body.length);
    sealed[0] = ENTRY_FORMAT;
    sealed.set(nonce, 1);
    sealed.set(body, 1 + GCM_NONCE_LENGTH);
    return sealed;
  }

  /** Opens a sealed value; throws TAMPERED if it fails authentication or is malformed. */
  open(namespaceId: Uint8Array, keyId: Uint8Array, sealed: Uint8Array): OpenedEntry {
    if (sealed.length < 1 + GCM_NONCE_LENGTH + GCM_TAG_LENGTH + 8 || sealed[0] !== ENTRY_FORMAT) {
      throw tamperedRow();
    }
    let plaintext: Uint8Array;
    try {
      plaintext = aes256GcmDecrypt(
        this.#valueKey,
        sealed.subarray(1, 1 + GCM_NONCE_LENGTH),
        sealed.subarray(1 + GCM_NONCE_LENGTH),
        aad(namespaceId, keyId),
      );
    } catch (err) {
      if (CryptoError.is(err)) throw tamperedRow(err);
      throw err;
    }
    try {
      // Authenticated, so a bad layout means a bug or a forged key, not noise; check anyway.
      const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
      const keyLength = view.getUint32(0);
      if (8 + keyLength > plaintext.length) throw tamperedRow();
      const valueLength = view.getUint32(4 + keyLength);
      const valueStart = 8 + keyLength;
      if (valueStart + valueLength > plaintext.length) throw tamperedRow();
      let key: string;
      try {
        key = decoder.decode(plaintext.subarray(4, 4 + keyLength));
      } catch (cause) {
        throw tamperedRow(cause);
      }
      return { key, value: plaintext.slice(valueStart, valueStart + valueLength) };
    } finally {
      plaintext.fill(0);
    }
  }

  /** Zeroes the working keys (JavaScript cannot guarantee no copies remain elsewhere). */
  wipe(): void {
    this.#valueKey.fill(0);
    this.#nameKey.fill(0);
    this.#namespaces.clear();
  }
}

function aad(namespaceId: Uint8Array, keyId: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + namespaceId.length + keyId.length);
  out[0] = ENTRY_FORMAT;
  out.set(namespaceId, 1);
  out.set(keyId, 1 + namespaceId.length);
  return out;
}
