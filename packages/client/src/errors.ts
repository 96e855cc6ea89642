/**
 * The one error class of @sotto/client (CONVENTIONS.md "Errors"): a string-union `code`, a
 * `cause`, and a static `is(err, code)` guard. A refusal by the server keeps the registry code of
 * `@sotto/api` in `apiCode` (and its structured `details`), so an app can tell a wrong
 * verification code from a rate limit. Messages never contain keys, codes, PINs, credentials,
 * phone numbers or message text.
 */
import type { ApiErrorCode, ApiErrorDetails } from '@sotto/api';

export type ClientErrorCode =
  | 'INVALID_ARGUMENT' // a caller passed something malformed (the message names the argument)
  | 'NOT_REGISTERED' // the operation needs a registered (or fully linked) device
  | 'ALREADY_REGISTERED' // register/link on a store that already holds an account
  | 'NOT_PRIMARY' // only the primary device may do this (registration lock, linking)
  | 'REGISTRATION_LOCKED' // the number has a registration lock: give the PIN (details: timeRemainingMs)
  | 'PIN_NOT_RECOVERABLE' // a PIN was given but no PIN vault is configured or it refused
  | 'UNKNOWN_CONTACT' // no such account, or nothing known about this contact yet
  | 'LINK_FAILED' // the link URI is stale, or the provisioning message is not for this device
  | 'SERVER_REJECTED' // the relay answered with an error; see `apiCode` and `details`
  | 'NETWORK' // the relay could not be reached or the connection dropped
  | 'TIMEOUT' // an awaited event did not happen in time
  | 'CLOSED' // the client was closed
  | 'DEREGISTERED' // the relay no longer accepts this device's credential (removed, re-registered)
  | 'SERVER_UNSUPPORTED' // the relay speaks a protocol version this client does not
  | 'STORE_CORRUPT' // a stored record does not parse
  | 'NO_BACKUP_KEY' // backups need a recovery key or a password first (client.backups)
  | 'RECOVERY_KEY_MISMATCH' // the typed-back recovery key is not the one shown
  | 'BACKUP_NOT_FOUND' // no backup in the storage (or none of that name)
  | 'BACKUP_WRONG_ACCOUNT'; // the backup belongs to another phone number

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** For `SERVER_REJECTED` (and `REGISTRATION_LOCKED`): the relay's error code. */
  readonly apiCode: ApiErrorCode | undefined;
  /** Structured details the relay gave (numbers only, never secrets). */
  readonly details: ApiErrorDetails | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    options: { cause?: unknown; apiCode?: ApiErrorCode; details?: ApiErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.apiCode = options.apiCode;
    this.details = options.details;
  }

  /** True if `err` is a ClientError (with the given `code`, if one is given). */
  static is(err: unknown, code?: ClientErrorCode): err is ClientError {
    return err instanceof ClientError && (code === undefined || err.code === code);
  }

  /** True if `err` is a refusal by the relay with this registry code. */
  static isApi(err: unknown, apiCode: ApiErrorCode): err is ClientError {
    return err instanceof ClientError && err.apiCode === apiCode;
  }
}
