/**
 * The export list shared by the Node entry (`index.ts`) and the browser entry
 * (`index.browser.ts`). Everything here is runtime-neutral: it never imports `node:crypto`.
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
  shake128,
  aes256CbcEncrypt,
  aes256CbcDecrypt,
  aes256Ctr,
  aes256GcmEncrypt,
  aes256GcmDecrypt,
  x25519,
  x25519PublicKey,
  x25519GenerateKeyPair,
  clampX25519,
  ed25519PublicKey,
  ed25519Verify,
  constantTimeEqual,
  type X25519KeyPair,
} from './primitives.js';
export { XEDDSA_SIGNATURE_LENGTH, xeddsaSign, xeddsaVerify } from './xeddsa.js';
export {
  KYBER1024_PUBLIC_KEY_LENGTH,
  KYBER1024_SECRET_KEY_LENGTH,
  KYBER1024_CIPHERTEXT_LENGTH,
  KYBER1024_SHARED_SECRET_LENGTH,
  kyber1024GenerateKeyPair,
  kyber1024Encapsulate,
  kyber1024Decapsulate,
  type Kyber1024KeyPair,
  type Kyber1024Encapsulation,
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
