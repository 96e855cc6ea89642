/**
 * The one error class of @sotto/backup (CONVENTIONS.md "Errors"). Codes are a string union so a
 * caller can switch over them exhaustively. Messages and details never contain key material,
 * passwords, recovery keys or plaintext; they name positions (chunk index, byte offset) only.
 */
export type BackupErrorCode =
  /** An argument is malformed (wrong type, length or range); a programming error. */
  | 'INVALID_ARGUMENT'
  /** The backup key (or the recovery key's slot) does not open this archive. */
  | 'BAD_KEY'
  /** The text is not a well-formed recovery key (length, alphabet or checksum). */
  | 'BAD_RECOVERY_KEY'
  /** The archive has no recovery-key slot, so a recovery key cannot open it. */
  | 'NO_RECOVERY_SLOT'
  /** Not a Sotto backup, or its header fails authentication or is malformed. */
  | 'BAD_HEADER'
  /** The archive (or a header field) uses a version or algorithm this code does not speak. */
  | 'UNSUPPORTED_VERSION'
  /** The archive ends before its final chunk: chunks were cut off the end. */
  | 'TRUNCATED'
  /** Bytes follow the final chunk. */
  | 'TRAILING_DATA'
  /** A chunk fails authentication: flipped bits, a dropped, reordered or foreign chunk. */
  | 'CORRUPT_CHUNK'
  /** The authenticated plaintext does not parse as records (only a key holder can cause this). */
  | 'CORRUPT_RECORD'
  /** A record exceeds MAX_RECORD_LENGTH. */
  | 'RECORD_TOO_LARGE'
  /** A wrapped key does not open under the given key (wrong password-derived key, wrong purpose). */
  | 'BAD_WRAPPED_KEY'
  /** The vault has no record for this account and purpose. */
  | 'VAULT_NOT_FOUND'
  /** Too many wrong guesses: the vault record was destroyed, the secret it held is gone. */
  | 'VAULT_RECORD_DESTROYED'
  /** The password (or PIN) is wrong; `details.attemptsRemaining` says how many guesses are left. */
  | 'VAULT_WRONG_PASSWORD'
  /** Guessing too fast; `details.retryAfterMs` says when the next attempt is accepted. */
  | 'VAULT_RATE_LIMITED'
  /** The login state is expired, forged, or belongs to a registration that was replaced. */
  | 'VAULT_LOGIN_EXPIRED'
  /** A vault request is malformed (bad OPAQUE message, bad identifiers, oversize fields). */
  | 'VAULT_BAD_REQUEST'
  /** The vault store kept losing compare-and-set races (pathological contention). */
  | 'VAULT_CONFLICT'
  /** The vault's OPAQUE public key is not the one the client pinned. */
  | 'VAULT_SERVER_MISMATCH'
  /** No stored backup object with this name. */
  | 'STORAGE_NOT_FOUND'
  /** A storage adapter failed (I/O error); `cause` holds the adapter's error. */
  | 'STORAGE_IO'
  /** The store refused the object: larger than it accepts, or over the account's quota. */
  | 'STORAGE_FULL';

/** Machine-readable extras for some codes. Never secret. */
export interface BackupErrorDetails {
  /** VAULT_WRONG_PASSWORD: guesses left before the record is destroyed. */
  readonly attemptsRemaining?: number;
  /** VAULT_RATE_LIMITED: milliseconds until the next attempt is accepted. */
  readonly retryAfterMs?: number;
  /** CORRUPT_CHUNK / TRUNCATED / TRAILING_DATA: the index of the chunk concerned. */
  readonly chunkIndex?: number;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
  readonly code: BackupErrorCode;
  readonly details: BackupErrorDetails;

  constructor(
    code: BackupErrorCode,
    message: string,
    options?: { cause?: unknown; details?: BackupErrorDetails },
  ) {
    super(
      `${code}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = options?.details ?? {};
  }

  /** True if `err` is a BackupError (with the given `code`, if one is given). */
  static is(err: unknown, code?: BackupErrorCode): err is BackupError {
    return err instanceof BackupError && (code === undefined || err.code === code);
  }
}
