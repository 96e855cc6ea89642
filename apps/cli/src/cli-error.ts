/**
 * The one error class of the `sotto` command (CONVENTIONS.md, "Errors") and the translation of
 * every error a user can cause — from the CLI, the client store or the SDK — into one line and an
 * exit code (docs/cli.md, "Exit codes"). Nothing here prints a stack, a passphrase, a code or a PIN.
 */
import { ClientError } from '@sotto/client';
import { SqliteClientStoreError } from '@sotto/client-store-sqlite';

export type CliErrorCode =
  /** Bad arguments or options. */
  | 'USAGE'
  /** Ctrl-C at a prompt. */
  | 'INTERRUPTED'
  /** The profile directory holds no store yet. */
  | 'NO_PROFILE'
  /** A contact argument is neither a number nor a known alias. */
  | 'UNKNOWN_CONTACT'
  /** The two passphrase (or PIN) entries differ. */
  | 'MISMATCH'
  /** Something was needed from a terminal that is not there (no TTY, no variable). */
  | 'NO_TERMINAL'
  /** The relay could not be reached (or did not answer in time). */
  | 'UNREACHABLE'
  /** A message was not sent: held (the contact's safety number changed) or refused by the relay. */
  | 'NOT_SENT'
  /** A compared safety number does not match. */
  | 'SAFETY_NUMBER_MISMATCH'
  /** The relay did not confirm something in time. */
  | 'TIMEOUT'
  /** A recovery key or backup password that does not open the backup. */
  | 'BACKUP_KEY_REFUSED'
  /** A backup could not be made or read (damaged, storage failed). */
  | 'BACKUP_FAILED';

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static is(err: unknown, code?: CliErrorCode): err is CliError {
    return err instanceof CliError && (code === undefined || err.code === code);
  }
}

/** Exit codes (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** Wrong passphrase, wrong code, registration lock: what you typed was refused. */
  REFUSED: 3,
  /** The server cannot be reached, is rate limiting, or the profile is busy: try again. */
  UNAVAILABLE: 4,
  INTERRUPTED: 130,
} as const;

export interface Failure {
  readonly message: string;
  readonly exitCode: number;
}

export interface ErrorContext {
  readonly profileDir: string;
  readonly serverUrl?: string;
}

function minutes(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  if (m < 120) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.ceil(m / 60);
  if (h < 48) return `${h} hours`;
  return `${Math.ceil(h / 24)} days`;
}

function detailNumber(details: unknown, name: string): number | undefined {
  if (typeof details === 'object' && details !== null && name in details) {
    const value = (details as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

function storeFailure(err: SqliteClientStoreError, ctx: ErrorContext): Failure {
  switch (err.code) {
    case 'WRONG_PASSPHRASE':
      return {
        message: `wrong passphrase for the profile in ${ctx.profileDir}`,
        exitCode: EXIT.REFUSED,
      };
    case 'PASSPHRASE_REQUIRED':
      return {
        message: 'a passphrase is needed: set SOTTO_PASSPHRASE or run sotto in a terminal',
        exitCode: EXIT.USAGE,
      };
    case 'WEAK_PASSPHRASE':
      return { message: err.message, exitCode: EXIT.USAGE };
    case 'NOT_FOUND':
      return {
        message: `no profile in ${ctx.profileDir}: run "sotto register <number>" first (or pass --profile)`,
        exitCode: EXIT.FAILURE,
      };
    case 'IN_USE':
      return {
        message: `the profile in ${ctx.profileDir} is in use by another sotto process; close it and try again`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'TAMPERED':
    case 'NOT_A_STORE':
    case 'UNSUPPORTED_FORMAT':
      return {
        message: `cannot read the profile in ${ctx.profileDir}: ${err.message}`,
        exitCode: EXIT.FAILURE,
      };
    case 'CLOSED':
    case 'TRANSACTION_ENDED':
    case 'BAD_ARGUMENT':
      return { message: `internal error: ${err.message}`, exitCode: EXIT.FAILURE };
    // The OS keychain (docs/cli.md "Data at rest"): the adapter's messages say what to do.
    case 'KEYCHAIN_NOT_INSTALLED':
    case 'KEYCHAIN_ENTRY_INVALID':
      return { message: err.message, exitCode: EXIT.FAILURE };
    case 'KEYCHAIN_UNAVAILABLE':
      return { message: err.message, exitCode: EXIT.UNAVAILABLE };
  }
}

function serverFailure(err: ClientError, ctx: ErrorContext): Failure {
  const server = ctx.serverUrl ?? 'the server';
  switch (err.apiCode) {
    case 'VERIFICATION_CODE_INVALID':
      return { message: 'wrong verification code', exitCode: EXIT.REFUSED };
    case 'VERIFICATION_CODE_EXPIRED':
      return {
        message:
          'the verification code expired (or none was requested): run "sotto register" again',
        exitCode: EXIT.REFUSED,
      };
    case 'VERIFICATION_ATTEMPTS_EXHAUSTED':
      return {
        message: 'too many wrong codes: run "sotto register" again for a new code',
        exitCode: EXIT.REFUSED,
      };
    case 'REGISTRATION_LOCKED':
    case 'REGISTRATION_LOCK_MISMATCH': {
      const remaining = detailNumber(err.details, 'timeRemainingMs');
      const lapse =
        remaining === undefined
          ? ''
          : ` (the lock lapses in ${minutes(remaining)} if no device uses the account)`;
      return {
        message:
          err.apiCode === 'REGISTRATION_LOCKED'
            ? `this number is protected by a two-step PIN (registration lock): give the PIN (SOTTO_PIN, or run in a terminal) to register it here${lapse}`
            : `wrong registration-lock PIN${lapse}`,
        exitCode: EXIT.REFUSED,
      };
    }
    case 'RATE_LIMITED': {
      const retry = detailNumber(err.details, 'retryAfterMs');
      return {
        message: `${server} is rate limiting this request${retry === undefined ? '' : `; try again in ${minutes(retry)}`}`,
        exitCode: EXIT.UNAVAILABLE,
      };
    }
    case 'INVALID_PHONE_NUMBER':
      return {
        message: 'not a valid phone number: use international (E.164) form, e.g. +14155550100',
        exitCode: EXIT.USAGE,
      };
    case 'SMS_UNAVAILABLE':
    case 'SMS_DELIVERY_FAILED':
      return {
        message: `${server} cannot send verification codes right now`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'SERVICE_UNAVAILABLE':
      return {
        message: `${server} is not ready (starting or stopping); try again`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'ACCOUNT_NOT_FOUND':
      return { message: 'no Sotto account has that number on this server', exitCode: EXIT.FAILURE };
    case 'PROVISIONING_ADDRESS_NOT_FOUND':
      return {
        message:
          'the new device is no longer waiting (the link expired or was used): run "sotto link" on it again',
        exitCode: EXIT.FAILURE,
      };
    case 'UNAUTHENTICATED':
      return {
        message:
          'the server no longer accepts this device (removed, or the number was registered again)',
        exitCode: EXIT.REFUSED,
      };
    case 'MAILBOX_FULL':
      return {
        message: `the recipient's mailbox on ${server} is full; try again later`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'INTERNAL':
      return { message: `${server} had an internal error; try again`, exitCode: EXIT.FAILURE };
    case 'BACKUP_NOT_FOUND':
      return { message: `no such backup on ${server}`, exitCode: EXIT.FAILURE };
    case 'BACKUP_TOO_LARGE':
      return { message: `the backup is larger than ${server} accepts`, exitCode: EXIT.FAILURE };
    case 'BACKUP_QUOTA_EXCEEDED':
      return {
        message: `${server} holds as many backups as it allows: delete one ("sotto backup delete") or use --keep`,
        exitCode: EXIT.FAILURE,
      };
    case 'BACKUP_STORAGE_UNAVAILABLE':
      return {
        message: `${server} cannot store backups right now; try again`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'VAULT_UNAVAILABLE':
      return { message: `${server} runs no key vault`, exitCode: EXIT.FAILURE };
    case 'VAULT_LOGIN_FAILED':
    case 'VAULT_RECORD_DESTROYED':
    case 'VAULT_RECORD_NOT_FOUND':
      return { message: `the key vault refused: ${err.message}`, exitCode: EXIT.REFUSED };
    case 'VAULT_CREDENTIAL_INVALID':
    case 'VAULT_LOGIN_EXPIRED':
    case 'VAULT_CONFLICT':
      return {
        message: `the key vault of ${server} refused the request (${err.apiCode}); try again`,
        exitCode: EXIT.UNAVAILABLE,
      };
    // Contract errors the SDK handles itself, or that mean a bug, not something the user did.
    case 'ATTACHMENT_NOT_FOUND':
    case 'DEVICE_LIMIT_REACHED':
    case 'DEVICE_NOT_FOUND':
    case 'FORBIDDEN':
    case 'FRAME_INVALID':
    case 'FRAME_VERSION_UNSUPPORTED':
    case 'INVALID_KEY':
    case 'INVALID_REQUEST':
    case 'KEYS_NOT_FOUND':
    case 'LINKED_DEVICES_PRESENT':
    case 'MISMATCHED_DEVICES':
    case 'NOT_FOUND':
    case 'PAYLOAD_TOO_LARGE':
    case 'PREKEY_STORE_FULL':
    case 'PROVISIONING_CODE_INVALID':
    case 'STALE_DEVICES':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case undefined:
      return {
        message: `${server} refused the request (${err.apiCode ?? 'no code'}): ${err.message}`,
        exitCode: EXIT.FAILURE,
      };
  }
}

function clientFailure(err: ClientError, ctx: ErrorContext): Failure {
  const server = ctx.serverUrl ?? 'the server';
  switch (err.code) {
    case 'SERVER_REJECTED':
    case 'REGISTRATION_LOCKED':
      return serverFailure(err, ctx);
    case 'PIN_NOT_RECOVERABLE':
      // The SDK's message says why (wrong PIN and the guesses left, destroyed, no vault, wait).
      return {
        message: `the PIN did not unlock this number: ${err.message}`,
        exitCode:
          (err.details as { reason?: string } | undefined)?.reason === 'rate-limited'
            ? EXIT.UNAVAILABLE
            : EXIT.REFUSED,
      };
    case 'NOT_PRIMARY':
      return { message: 'only the primary device (device 1) can do this', exitCode: EXIT.FAILURE };
    case 'NETWORK':
      return {
        message: `server unreachable at ${server}: is it running and is the address right?`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case 'SERVER_UNSUPPORTED':
      return {
        message: `${server} speaks another version of the Sotto protocol: update sotto or the server`,
        exitCode: EXIT.FAILURE,
      };
    case 'TIMEOUT':
      return { message: `${server} did not answer in time`, exitCode: EXIT.UNAVAILABLE };
    case 'NOT_REGISTERED':
      return {
        message: 'this profile holds no registered account: run "sotto register <number>"',
        exitCode: EXIT.FAILURE,
      };
    case 'ALREADY_REGISTERED':
      return {
        message:
          'this profile already holds an account; use another --profile to register another number',
        exitCode: EXIT.FAILURE,
      };
    case 'DEREGISTERED':
      return {
        message:
          'this device was removed from its account, or the number was registered on another device',
        exitCode: EXIT.REFUSED,
      };
    case 'UNKNOWN_CONTACT':
      return { message: err.message, exitCode: EXIT.FAILURE };
    case 'INVALID_ARGUMENT':
      return { message: err.message, exitCode: EXIT.USAGE };
    case 'STORE_CORRUPT':
      return {
        message: `the profile in ${ctx.profileDir} holds a record that does not parse: ${err.message}`,
        exitCode: EXIT.FAILURE,
      };
    case 'LINK_FAILED':
    case 'CLOSED':
      return { message: err.message, exitCode: EXIT.FAILURE };
    case 'NO_BACKUP_KEY':
    case 'RECOVERY_KEY_MISMATCH':
      return { message: err.message, exitCode: EXIT.USAGE };
    case 'BACKUP_NOT_FOUND':
    case 'BACKUP_WRONG_ACCOUNT':
      return { message: err.message, exitCode: EXIT.FAILURE };
  }
}

function cliExitCode(code: CliErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'MISMATCH':
    case 'NO_TERMINAL':
      return EXIT.USAGE;
    case 'INTERRUPTED':
      return EXIT.INTERRUPTED;
    case 'UNREACHABLE':
    case 'TIMEOUT':
      return EXIT.UNAVAILABLE;
    case 'SAFETY_NUMBER_MISMATCH':
    case 'BACKUP_KEY_REFUSED':
      return EXIT.REFUSED;
    case 'BACKUP_FAILED':
      return EXIT.FAILURE;
    case 'NO_PROFILE':
    case 'UNKNOWN_CONTACT':
    case 'NOT_SENT':
      return EXIT.FAILURE;
  }
}

/** One line and an exit code for any error; unknown errors say "internal error" with their message. */
export function describeFailure(err: unknown, ctx: ErrorContext): Failure {
  if (CliError.is(err)) return { message: err.message, exitCode: cliExitCode(err.code) };
  if (SqliteClientStoreError.is(err)) return storeFailure(err, ctx);
  if (ClientError.is(err)) return clientFailure(err, ctx);
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${message}`, exitCode: EXIT.FAILURE };
}
