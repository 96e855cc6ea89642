/**
 * The facade: each function delegates to the active {@link CryptoBackend} at call time, so
 * `useBackend` takes effect immediately. Semantics are documented on the interface (backend.ts).
 */
import { activeBackend } from './active-backend.js';
import { abytes } from './assert.js';

/** CSPRNG output of `length` bytes. */
export function randomBytes(length: number): Uint8Array {
  return activeBackend().randomBytes(length);
}

export function sha256(data: Uint8Array): Uint8Array {
  return activeBackend().sha256(data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return activeBackend().sha512(data);
}

/** SHA-512 of the concatenation of `parts`, without concatenating. */
export function sha512Parts(parts: readonly Uint8Array[]): Uint8Array {
  return activeBackend().sha512Parts(parts);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return activeBackend().hmacSha256(key, data);
}

/** HMAC-SHA256 of the concatenation of `parts`, without concatenating. */
export function hmacSha256Parts(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  return activeBackend().hmacSha256Parts(key, parts);
}

/** RFC 5869 HKDF-SHA256; an empty `salt` means 32 zero bytes. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  return activeBackend().hkdfSha256(ikm, salt, info, length);
}

export function sha3_256(data: Uint8Array): Uint8Array {
  return activeBackend().sha3_256(data);
}

export function sha3_512(data: Uint8Array): Uint8Array {
  return activeBackend().sha3_512(data);
}

export function shake256(data: Uint8Array, length: number): Uint8Array {
  return activeBackend().shake256(data, length);
}

export function shake128(data: Uint8Array, length: number): Uint8Array {
  return activeBackend().shake128(data, length);
}

/** AES-256-CBC with PKCS#7 padding. */
export function aes256CbcEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  return activeBackend().aes256CbcEncrypt(key, iv, plaintext);
}

/** Throws `CryptoError('BAD_PADDING')` on a bad pad, `BAD_LENGTH` on a ragged input. */
export function aes256CbcDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  return activeBackend().aes256CbcDecrypt(key, iv, ciphertext);
}

/** AES-256-CTR; `iv` is the 16-byte initial counter block. Encrypts and decrypts. */
export function aes256Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return activeBackend().aes256Ctr(key, iv, data);
}

/** AES-256-GCM with a 12-byte nonce; returns `ciphertext ‖ tag(16)`. */
export function aes256GcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  return activeBackend().aes256GcmEncrypt(key, nonce, plaintext, aad);
}

/** Throws `CryptoError('BAD_TAG')` if the tag does not verify. */
export function aes256GcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  return activeBackend().aes256GcmDecrypt(key, nonce, sealed, aad);
}

/** X25519; throws `CryptoError('BAD_DH')` on an all-zero result. */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return activeBackend().x25519(privateKey, publicKey);
}

/** The 32-byte X25519 public key (u-coordinate) of a 32-byte private key. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return activeBackend().x25519PublicKey(privateKey);
}

export interface X25519KeyPair {
  /** 32 bytes, clamped (as libsignal stores private keys). */
  readonly privateKey: Uint8Array;
  /** 32-byte u-coordinate (no 0x05 type byte). */
  readonly publicKey: Uint8Array;
}

/**
 * A fresh X25519 key pair. `rng(n)` defaults to the backend CSPRNG; the private key is clamped
 * (RFC 7748 §5) like libsignal's `PrivateKey::deserialize`.
 */
export function x25519GenerateKeyPair(rng?: (length: number) => Uint8Array): X25519KeyPair {
  const backend = activeBackend();
  const privateKey = (rng === undefined ? backend.randomBytes(32) : rng(32)).slice(0, 32);
  abytes(privateKey, 32, 'rng output');
  clampX25519(privateKey);
  return { privateKey, publicKey: backend.x25519PublicKey(privateKey) };
}

/** RFC 7748 §5 clamping, in place. */
export function clampX25519(privateKey: Uint8Array): Uint8Array {
  privateKey[0]! &= 248;
  privateKey[31]! &= 127;
  privateKey[31]! |= 64;
  return privateKey;
}

/** RFC 8032 §5.1.5 Ed25519 public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return activeBackend().ed25519PublicKey(seed);
}

/** Standard Ed25519 (RFC 8032) verification of a 32-byte Edwards public key. */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return activeBackend().ed25519Verify(publicKey, message, signature);
}

/** Constant-time equality; false for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return activeBackend().constantTimeEqual(a, b);
}
