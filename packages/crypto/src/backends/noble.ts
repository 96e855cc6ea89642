/**
 * The browser backend: every primitive of {@link CryptoBackend} in pure JS on audited `@noble/*`
 * code, synchronous (WebCrypto's SubtleCrypto is asynchronous, the protocol core is not).
 * Randomness comes from `globalThis.crypto.getRandomValues`. No `node:` imports here.
 */
import { cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256, sha3_512, shake128, shake256 } from '@noble/hashes/sha3.js';
import { abytes, anumber } from '../assert.js';
import type { CryptoBackend } from '../backend.js';
import { CryptoError } from '../errors.js';

/** getRandomValues fills at most 65536 bytes per call. */
const GET_RANDOM_VALUES_MAX = 65536;

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

function hmacParts(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const mac = hmac.create(sha256, key);
  for (const p of parts) mac.update(p);
  return mac.digest();
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  nativeEd25519Verify: false,

  randomBytes(length) {
    anumber(length, 0, 1 << 24, 'length');
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += GET_RANDOM_VALUES_MAX) {
      globalThis.crypto.getRandomValues(out.subarray(i, i + GET_RANDOM_VALUES_MAX));
    }
    return out;
  },

  sha256(data) {
    abytes(data, undefined, 'data');
    return sha256(data);
  },

  sha512(data) {
    abytes(data, undefined, 'data');
    return sha512(data);
  },

  sha512Parts(parts) {
    const h = sha512.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },

  hmacSha256(key, data) {
    abytes(key, undefined, 'key');
    abytes(data, undefined, 'data');
    return hmac(sha256, key, data);
  },

  hmacSha256Parts(key, parts) {
    abytes(key, undefined, 'key');
    return hmacParts(key, parts);
  },

  hkdfSha256(ikm, salt, info, length) {
    abytes(ikm, undefined, 'ikm');
    abytes(salt, undefined, 'salt');
    abytes(info, undefined, 'info');
    anumber(length, 0, 255 * 32, 'length');
    if (length === 0) return new Uint8Array(0);
    // noble treats an empty salt as HashLen zero bytes, as RFC 5869 §2.2 says.
    return hkdf(sha256, ikm, salt, info, length);
  },

  sha3_256(data) {
    abytes(data, undefined, 'data');
    return sha3_256(data);
  },

  sha3_512(data) {
    abytes(data, undefined, 'data');
    return sha3_512(data);
  },

  shake256(data, length) {
    abytes(data, undefined, 'data');
    anumber(length, 0, 1 << 20, 'length');
    if (length === 0) return new Uint8Array(0);
    return shake256(data, { dkLen: length });
  },

  shake128(data, length) {
    abytes(data, undefined, 'data');
    anumber(length, 0, 1 << 20, 'length');
    if (length === 0) return new Uint8Array(0);
    return shake128(data, { dkLen: length });
  },

  aes256CbcEncrypt(key, iv, plaintext) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(plaintext, undefined, 'plaintext');
    return cbc(key, iv).encrypt(plaintext);
  },

  aes256CbcDecrypt(key, iv, ciphertext) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(ciphertext, undefined, 'ciphertext');
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
      throw new CryptoError('BAD_LENGTH', 'ciphertext must be a non-empty multiple of 16 bytes');
    }
    try {
      return cbc(key, iv).decrypt(ciphertext);
    } catch (cause) {
      throw new CryptoError('BAD_PADDING', 'AES-CBC padding is invalid', { cause });
    }
  },

  aes256Ctr(key, iv, data) {
    abytes(key, 32, 'key');
    abytes(iv, 16, 'iv');
    abytes(data, undefined, 'data');
    return ctr(key, iv).encrypt(data);
  },

  aes256GcmEncrypt(key, nonce, plaintext, aad) {
    abytes(key, 32, 'key');
    abytes(nonce, 12, 'nonce');
    abytes(plaintext, undefined, 'plaintext');
    if (aad !== undefined) abytes(aad, undefined, 'aad');
    return gcm(key, nonce, aad).encrypt(plaintext);
  },

  aes256GcmDecrypt(key, nonce, sealed, aad) {
    abytes(key, 32, 'key');
    abytes(nonce, 12, 'nonce');
    abytes(sealed, undefined, 'sealed');
    if (aad !== undefined) abytes(aad, undefined, 'aad');
    if (sealed.length < 16) throw new CryptoError('BAD_LENGTH', 'sealed must be at least 16 bytes');
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch (cause) {
      throw new CryptoError('BAD_TAG', 'AES-GCM tag does not verify', { cause });
    }
  },

  x25519PublicKey(privateKey) {
    abytes(privateKey, 32, 'privateKey');
    return x25519.getPublicKey(privateKey);
  },

  x25519(privateKey, publicKey) {
    abytes(privateKey, 32, 'privateKey');
    abytes(publicKey, 32, 'publicKey');
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(privateKey, publicKey);
    } catch (cause) {
      // noble refuses the all-zero result itself.
      throw new CryptoError('BAD_DH', 'X25519 failed (small-order public key)', { cause });
    }
    if (isAllZero(shared)) throw new CryptoError('BAD_DH', 'X25519 result is all zero');
    return shared;
  },

  ed25519PublicKey(seed) {
    abytes(seed, 32, 'seed');
    return ed25519.getPublicKey(seed);
  },

  ed25519Verify(publicKey, message, signature) {
    abytes(publicKey, 32, 'publicKey');
    abytes(message, undefined, 'message');
    abytes(signature, 64, 'signature');
    try {
      // zip215: false = RFC 8032 strict decoding, as OpenSSL does.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },

  constantTimeEqual(a, b) {
    abytes(a, undefined, 'a');
    abytes(b, undefined, 'b');
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  },
};
