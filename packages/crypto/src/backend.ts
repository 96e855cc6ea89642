/**
 * The primitives whose fastest implementation depends on the runtime. `node:crypto` in Node (plus
 * a JavaScript SHA-256 for short HMAC/HKDF inputs, `backends/hmac-sha256.ts`), `@noble/*` in
 * browsers (WebCrypto is asynchronous and the protocol core is synchronous, so the browser backend
 * is pure JS apart from `crypto.getRandomValues`). Both backends pass the same tests
 * (`test/backend-conformance.test.ts`). XEdDSA (`hazmat/`), Kyber1024 and ML-KEM (`ml-kem/`) are
 * Sotto's own code above this interface and take only hashes and randomness from it
 * (docs/crypto.md, "Own implementations").
 */
export interface CryptoBackend {
  readonly name: 'node' | 'noble';
  /**
   * True when `ed25519Verify` is native code (OpenSSL) and faster than `hazmat/` for a key seen
   * once. XEdDSA then verifies a key's first signatures through it (xeddsa.ts).
   */
  readonly nativeEd25519Verify: boolean;
  /** CSPRNG. */
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  /** Concatenation-free SHA-512 over several parts (hot path of XEdDSA and safety numbers). */
  sha512Parts(parts: readonly Uint8Array[]): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hmacSha256Parts(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array;
  /** RFC 5869 HKDF-SHA256. An empty `salt` means 32 zero bytes (RFC 5869 §2.2). */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  sha3_256(data: Uint8Array): Uint8Array;
  sha3_512(data: Uint8Array): Uint8Array;
  shake256(data: Uint8Array, length: number): Uint8Array;
  /** SHAKE128 (FIPS 202) with a `length`-byte output; ML-KEM's XOF (FIPS 203 §4.1). */
  shake128(data: Uint8Array, length: number): Uint8Array;
  /** AES-256-CBC with PKCS#7 padding. */
  aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws `CryptoError('BAD_PADDING')` on a bad pad and `BAD_LENGTH` on a ragged input. */
  aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** AES-256-CTR; the 16-byte `iv` is the initial counter block (big-endian increment). */
  aes256Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES-256-GCM, 12-byte nonce, output `ciphertext ‖ tag(16)`. */
  aes256GcmEncrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad?: Uint8Array,
  ): Uint8Array;
  /** Throws `CryptoError('BAD_TAG')` if the tag does not verify. */
  aes256GcmDecrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    sealed: Uint8Array,
    aad?: Uint8Array,
  ): Uint8Array;
  /** X25519 public key (u-coordinate, 32 bytes) of a 32-byte private key (clamped internally). */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** X25519; throws `CryptoError('BAD_DH')` on an all-zero result. */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /**
   * RFC 8032 §5.1.5 Ed25519 public key of a 32-byte seed: `encode(clamp(SHA-512(seed)[0..32])·B)`.
   * Not used by XEdDSA (which runs on `hazmat/`); exported from the facade for callers.
   */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** Standard Ed25519 verification (RFC 8032, cofactorless) of a 32-byte Edwards public key. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Constant-time equality; false for different lengths. */
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean;
}
