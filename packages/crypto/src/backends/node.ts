/**
 * The Node backend: every primitive of {@link CryptoBackend} on `node:crypto` (OpenSSL 3).
 * This is the protocol's hot path; the choices below were measured (docs/crypto.md):
 * - OpenSSL's output Buffers are re-wrapped as plain Uint8Array views (no copy; Node allocates
 *   them unpooled), so callers never see Buffer's `slice()` semantics.
 * - Raw X25519/Ed25519 keys are imported as JWK, not DER: OpenSSL 3's DER decoder costs ~10× more.
 * - One-shot hashes use `crypto.hash`. HMAC of short messages and HKDF of short outputs run on
 *   the JavaScript SHA-256 of `hmac-sha256.ts`: `createHmac` costs ~2.8 µs of set-up per call,
 *   more than hashing two blocks in JS (long inputs stay on OpenSSL).
 * - Small random requests are served from a 4 KiB pool refilled by `randomFillSync`.
 *
 * Caches: public KeyObjects in a bounded LRU keyed by the raw key. A private X25519 KeyObject is
 * remembered only in a WeakMap keyed by the caller's own Uint8Array (so it lives no longer than
 * that array) and only while the array still holds the same bytes.
 */
import * as nodeCrypto from 'node:crypto';
import { abytes, anumber } from '../assert.js';
import type { CryptoBackend } from '../backend.js';
import { BoundedCache, bytesKey } from '../bounded-cache.js';
import { CryptoError } from '../errors.js';
import { hkdfSha256Js, hmacSha256Js, hmacSha256PartsJs } from './hmac-sha256.js';

type KeyObject = nodeCrypto.KeyObject;

/** Re-wraps a Node Buffer as a plain Uint8Array over the same memory (no copy). */
function plain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function fromBase64url(text: string | undefined, length: number): Uint8Array {
  // Buffer.from(string) may hand out a slice of Node's shared pool: copy into owned memory.
  const decoded = Buffer.from(text ?? '', 'base64url');
  if (decoded.length !== length)
    throw new CryptoError('BAD_KEY', 'OpenSSL returned a malformed key');
  const out = new Uint8Array(length);
  out.set(decoded);
  return out;
}

type OkpCurve = 'X25519' | 'Ed25519';

function importPrivate(curve: OkpCurve, privateKey: Uint8Array): KeyObject {
  // `x` is required by Node's JWK parser but unused for private keys: OpenSSL derives it.
  return nodeCrypto.createPrivateKey({
    key: { kty: 'OKP', crv: curve, d: base64url(privateKey), x: '' },
    format: 'jwk',
  });
}

/** The raw public key of a private KeyObject (via its public half, so `d` is not exported). */
function exportPublic(privateKey: KeyObject): Uint8Array {
  return fromBase64url(nodeCrypto.createPublicKey(privateKey).export({ format: 'jwk' }).x, 32);
}

/** Bound on cached public KeyObjects per curve (a few hundred bytes each). */
const PUBLIC_KEY_CACHE_SIZE = 256;

/** Public KeyObjects, cached by raw key (public material only). */
class PublicKeyCache {
  private readonly cache = new BoundedCache<KeyObject>(PUBLIC_KEY_CACHE_SIZE);
  constructor(private readonly curve: OkpCurve) {}

  get(raw: Uint8Array): KeyObject {
    const id = bytesKey(raw);
    let key = this.cache.get(id);
    if (key === undefined) {
      key = nodeCrypto.createPublicKey({
        key: { kty: 'OKP', crv: this.curve, x: base64url(raw) },
        format: 'jwk',
      });
      this.cache.set(id, key);
    }
    return key;
  }
}

const x25519PublicKeys = new PublicKeyCache('X25519');
const ed25519PublicKeys = new PublicKeyCache('Ed25519');

interface PrivateKeyEntry {
  /** The bytes the KeyObject was made from, to notice a caller mutating (e.g. wiping) the array. */
  readonly bytes: Uint8Array;
  readonly key: KeyObject;
}

/**
 * X25519 private KeyObjects by the identity of the caller's array. A double-ratchet key pair is
 * typically used for its public key and two DHs; importing costs a scalar multiplication.
 */
const x25519PrivateKeys = new WeakMap<Uint8Array, PrivateKeyEntry>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function x25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  const entry = x25519PrivateKeys.get(privateKey);
  if (entry !== undefined && sameBytes(entry.bytes, privateKey)) return entry.key;
  const key = importPrivate('X25519', privateKey);
  x25519PrivateKeys.set(privateKey, { bytes: privateKey.slice(), key });
  return key;
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/** Above this output length `hkdfSync` (one native call) beats the JavaScript HKDF. */
const HKDF_JS_MAX_LENGTH = 128;
/** HMAC messages up to this length fit two SHA-256 blocks: JavaScript is faster than OpenSSL. */
const HMAC_JS_MAX_LENGTH = 119;
const ZERO_SALT = new Uint8Array(32);

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  if (length <= HKDF_JS_MAX_LENGTH) return hkdfSha256Js(ikm, salt, info, length);
  // RFC 5869 §2.2: an empty salt means HashLen zero bytes.
  const effectiveSalt = salt.length === 0 ? ZERO_SALT : salt;
  return new Uint8Array(nodeCrypto.hkdfSync('sha256', ikm, effectiveSalt, info, length));
}

/** `update()` ‖ `final()` without a copy when one of them is empty. */
function joinOutput(head: Buffer, tail: Buffer): Uint8Array {
  if (tail.length === 0) return plain(head);
  if (head.length === 0) return plain(tail);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** Requests up to this size are served from the pool. */
const RANDOM_POOL_MAX_REQUEST = 256;
const RANDOM_POOL_SIZE = 4096;
const randomPool = new Uint8Array(RANDOM_POOL_SIZE);
let randomPoolOffset = RANDOM_POOL_SIZE;

function randomBytes(length: number): Uint8Array {
  anumber(length, 0, 1 << 30, 'length');
  if (length > RANDOM_POOL_MAX_REQUEST) return nodeCrypto.randomFillSync(new Uint8Array(length));
  if (randomPoolOffset + length > RANDOM_POOL_SIZE) {
    nodeCrypto.randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const end = randomPoolOffset + length;
  const out = randomPool.slice(randomPoolOffset, end);
  // Handed-out bytes never stay in the pool.
  randomPool.fill(0, randomPoolOffset, end);
  randomPoolOffset = end;
  return out;
}

function digest(algorithm: string, data: Uint8Array): Uint8Array {
  abytes(data, undefined, 'data');
  return plain(nodeCrypto.hash(algorithm, data, 'buffer'));
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  nativeEd25519Verify: true,

  randomBytes,

  sha256: (data) => digest('sha256', data),
  sha512: (data) => digest('sha512', data),

  sha512Parts(parts) {
    const h = nodeCrypto.createHash('sha512');
    for (const p of parts) h.update(p);
    return plain(h.digest());
  },

  hmacSha256(key, data) {
    abytes(key, undefined, 'key');
    abytes(data, undefined, 'data');
    if (data.length <= HMAC_JS_MAX_LENGTH) return hmacSha256Js(key, data);
    return plain(nodeCrypto.createHmac('sha256', key).update(data).digest());
  },

  hmacSha256Parts(key, parts) {
    abytes(key, undefined, 'key');
    let total = 0;
    for (const p of parts) {
      abytes(p, undefined, 'part');
      total += p.length;
    }
    if (total <= HMAC_JS_MAX_LENGTH) return hmacSha256PartsJs(key, parts);
    const mac = nodeCrypto.createHmac('sha256', key);
    for (const p of parts) mac.update(p);
    return plain(mac.digest());
  },

  hkdfSha256(ikm, salt, info, length) {
    abytes(ikm, undefined, 'ikm');
    abytes(salt, undefined, 'salt');
    abytes(info, undefined, 'info');
    anumber(length, 0, 255 * 32, 'length');
    return hkdf(ikm, salt, info, length);
  },

  sha3_256: (data) => digest('sha3-256', data),
  sha3_512: (data) => digest('sha3-512', data),

  shake256(data, length) {
    abytes(data, undefined, 'data');
    anumber(length, 0, 1 << 20, 'length');
    if (length === 0) return new Uint8Array(0);
    return plain(nodeCrypto.createHash('shake256', { outputLength: length }).update(data).digest());
  },

  shake128(data, length) {
    abytes(data, undefined, 'data');
    anumber(length, 0, 1 << 20, 'length');
    if (length === 0) return new Uint8Array(0);
    return plain(nodeCrypto.createHash('shake128', { outputLength: length }).update(data).digest());
  },

  aes256CbcEncrypt(key, iv, plaintext) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(plaintext, undefined, 'plaintext');
    const cipher = nodeCrypto.createCipheriv('aes-256-cbc', key, iv);
    return joinOutput(cipher.update(plaintext), cipher.final());
  },

  aes256CbcDecrypt(key, iv, ciphertext) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(ciphertext, undefined, 'ciphertext');
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
      throw new CryptoError('BAD_LENGTH', 'ciphertext must be a non-empty multiple of 16 bytes');
    }
    const decipher = nodeCrypto.createDecipheriv('aes-256-cbc', key, iv);
    const head = decipher.update(ciphertext);
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch (cause) {
      head.fill(0);
      throw new CryptoError('BAD_PADDING', 'AES-CBC padding is invalid', { cause });
    }
    return joinOutput(head, tail);
  },

  aes256Ctr(key, iv, data) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(data, undefined, 'data');
    const cipher = nodeCrypto.createCipheriv('aes-256-ctr', key, iv);
    return joinOutput(cipher.update(data), cipher.final());
  },

  aes256GcmEncrypt(key, nonce, plaintext, aad) {
    abytes(key, 32, 'key');
    abytes(nonce, 12, 'nonce');
    abytes(plaintext, undefined, 'plaintext');
    const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    if (aad !== undefined) {
      abytes(aad, undefined, 'aad');
      cipher.setAAD(aad);
    }
    const body = cipher.update(plaintext);
    cipher.final();
    const out = new Uint8Array(body.length + 16);
    out.set(body, 0);
    out.set(cipher.getAuthTag(), body.length);
    return out;
  },

  aes256GcmDecrypt(key, nonce, sealed, aad) {
    abytes(key, 32, 'key');
    abytes(nonce, 12, 'nonce');
    abytes(sealed, undefined, 'sealed');
    if (sealed.length < 16) throw new CryptoError('BAD_LENGTH', 'sealed must be at least 16 bytes');
    const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    if (aad !== undefined) {
      abytes(aad, undefined, 'aad');
      decipher.setAAD(aad);
    }
    const body = decipher.update(sealed.subarray(0, sealed.length - 16));
    try {
      decipher.final();
    } catch (cause) {
      body.fill(0);
      throw new CryptoError('BAD_TAG', 'AES-GCM tag does not verify', { cause });
    }
    return plain(body);
  },

  x25519PublicKey(privateKey) {
    abytes(privateKey, 32, 'privateKey');
    return exportPublic(x25519PrivateKeyObject(privateKey));
  },

  x25519(privateKey, publicKey) {
    abytes(privateKey, 32, 'privateKey');
    abytes(publicKey, 32, 'publicKey');
    let shared: Uint8Array;
    try {
      shared = plain(
        nodeCrypto.diffieHellman({
          privateKey: x25519PrivateKeyObject(privateKey),
          publicKey: x25519PublicKeys.get(publicKey),
        }),
      );
    } catch (cause) {
      // OpenSSL refuses the all-zero result itself (the RFC 7748 §6.1 check).
      throw new CryptoError('BAD_DH', 'X25519 failed (small-order public key)', { cause });
    }
    if (isAllZero(shared)) throw new CryptoError('BAD_DH', 'X25519 result is all zero');
    return shared;
  },

  ed25519PublicKey(seed) {
    abytes(seed, 32, 'seed');
    return exportPublic(importPrivate('Ed25519', seed));
  },

  ed25519Verify(publicKey, message, signature) {
    abytes(publicKey, 32, 'publicKey');
    abytes(message, undefined, 'message');
    abytes(signature, 64, 'signature');
    let key: KeyObject;
    try {
      key = ed25519PublicKeys.get(publicKey);
    } catch {
      return false; // not a valid point encoding
    }
    return nodeCrypto.verify(null, message, key, signature);
  },

  constantTimeEqual(a, b) {
    abytes(a, undefined, 'a');
    abytes(b, undefined, 'b');
    return a.length === b.length && nodeCrypto.timingSafeEqual(a, b);
  },
};
