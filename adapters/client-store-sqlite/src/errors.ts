/**
 * The one error class of @sotto/client-store-sqlite (CONVENTIONS.md, "Errors"). Messages are
 * written for the person at the keyboard (the CLI prints them as they are) and never contain the
 * passphrase, keys, namespaces, keys of entries or values.
 */
export type SqliteClientStoreErrorCode =
  /** The passphrase does not unwrap the store key. Nothing was changed. */
  | 'WRONG_PASSPHRASE'
  /**
   * The store is locked and no passphrase was given (nor a keychain that holds its key). When the
   * store has a keychain wrap and a keychain was given, `cause` is the KEYCHAIN_* error saying why
   * the keychain did not unlock it.
   */
  | 'PASSPHRASE_REQUIRED'
  /** A new passphrase is too short to be the key of a store (see MIN_PASSPHRASE_LENGTH). */
  | 'WEAK_PASSPHRASE'
  /** A row or the header failed authentication or is malformed: the file was modified or damaged. */
  | 'TAMPERED'
  /** No store exists at the path and `create: false` was given. */
  | 'NOT_FOUND'
  /** The file is not an SQLite database, or an SQLite database that is not a Sotto store. */
  | 'NOT_A_STORE'
  /** The store was written by a newer version of this adapter. */
  | 'UNSUPPORTED_FORMAT'
  /** Another process has the store open. */
  | 'IN_USE'
  /** The store was closed. */
  | 'CLOSED'
  /** A transaction handle was used after its transaction ended. */
  | 'TRANSACTION_ENDED'
  /** A namespace or key is not a string, or is too long. */
  | 'BAD_ARGUMENT'
  /** The OS keychain's command-line tool (`secret-tool` of libsecret) is not installed. */
  | 'KEYCHAIN_NOT_INSTALLED'
  /**
   * The OS keychain cannot be used now: no Secret Service on the session bus, the keychain is
   * locked (or its unlock prompt was dismissed), or it did not answer in time.
   */
  | 'KEYCHAIN_UNAVAILABLE'
  /** The keychain's entry for a store is missing, malformed, or does not unlock the store. */
  | 'KEYCHAIN_ENTRY_INVALID';

export class SqliteClientStoreError extends Error {
  override readonly name = 'SqliteClientStoreError';
  readonly code: SqliteClientStoreErrorCode;

  constructor(code: SqliteClientStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** True if `err` is a SqliteClientStoreError (with the given `code`, if one is given). */
  static is(err: unknown, code?: SqliteClientStoreErrorCode): err is SqliteClientStoreError {
    return err instanceof SqliteClientStoreError && (code === undefined || err.code === code);
  }
}
