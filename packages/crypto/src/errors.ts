/**
 * The one error class of @sotto/crypto (CONVENTIONS.md, "Errors"). Codes are a string union;
 * messages never contain key material, plaintext or MACs.
 */
export type CryptoErrorCode =
  /** An argument has the wrong type or length. */
  | 'BAD_LENGTH'
  /** AES-CBC PKCS#7 padding did not verify. */
  | 'BAD_PADDING'
  /** An AEAD tag did not verify. */
  | 'BAD_TAG'
  /** X25519 produced the all-zero shared secret (small-order public key). */
  | 'BAD_DH'
  /** A key is malformed (e.g. not a valid encoding). */
  | 'BAD_KEY'
  /** A signature is malformed. */
  | 'BAD_SIGNATURE'
  /** A KEM ciphertext is malformed. */
  | 'BAD_CIPHERTEXT';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** True if `err` is a CryptoError (with the given `code`, if one is given). */
  static is(err: unknown, code?: CryptoErrorCode): err is CryptoError {
    return err instanceof CryptoError && (code === undefined || err.code === code);
  }
}
