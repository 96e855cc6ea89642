/**
 * @sotto/crypto — the primitives facade (ARCHITECTURE.md). Every function here delegates to the
 * active {@link CryptoBackend} (`node:crypto` in Node, `@noble/*` elsewhere) or is built on audited
 * `@noble/*` code where runtimes lack the primitive. No I/O.
 *
 * Public surface (each module's header says which spec section it follows):
 * - backend selection: `activeBackend()`, `useBackend()`, `nodeBackend` (Node only), `nobleBackend`
 * - hashes / MACs / KDF / ciphers: thin wrappers over the active backend
 * - `x25519*`, XEdDSA (`xeddsaSign`, `xeddsaVerify`), Ed25519 verify
 * - Kyber1024 round 3 (`kyber1024*`, signal-wire.md §3.3)
 * - ML-KEM-768 keygen/decaps and the split encapsulation (`mlKem768*`, signal-wire.md §3.4)
 * - `CryptoError` with string-union codes, `concatBytes`, `bytesEqual`, hex helpers
 */
export type { CryptoBackend } from './backend.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export { activeBackend, useBackend } from './active-backend.js';
export { nobleBackend } from './backends/noble.js';
export {
  randomBytes,
  sha256,
  sha512,
  sha512Parts,
  hmacSha256,
  hmacSha256Parts,
  hkdfSha256,
  sha3_256,
  sha3_512,
  shake256,
  aes256CbcEncrypt,
  aes256CbcDecrypt,
  aes256Ctr,
  aes256GcmEncrypt,
  aes256GcmDecrypt,
  x25519,
  x25519PublicKey,
  x25519GenerateKeyPair,
  ed25519Verify,
  constantTimeEqual,
} from './primitives.js';
export { xeddsaSign, xeddsaVerify } from './xeddsa.js';
export {
  KYBER1024_PUBLIC_KEY_LENGTH,
  KYBER1024_SECRET_KEY_LENGTH,
  KYBER1024_CIPHERTEXT_LENGTH,
  kyber1024GenerateKeyPair,
  kyber1024Encapsulate,
  kyber1024Decapsulate,
} from './kyber1024.js';
export {
  ML_KEM_768_HEADER_LENGTH,
  ML_KEM_768_ENCAPSULATION_KEY_LENGTH,
  ML_KEM_768_DECAPSULATION_KEY_LENGTH,
  ML_KEM_768_CT1_LENGTH,
  ML_KEM_768_CT2_LENGTH,
  mlKem768GenerateKeyPair,
  mlKem768Encapsulate1,
  mlKem768Encapsulate2,
  mlKem768Decapsulate,
  type MlKem768KeyPair,
  type MlKem768Encapsulation1,
} from './ml-kem-768-incremental.js';
export { concatBytes, bytesEqual, toHex, fromHex, utf8 } from './bytes.js';
