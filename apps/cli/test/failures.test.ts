// Every error a user can cause maps to one line and the documented exit code (docs/cli.md
// "Exit codes"); unknown errors say "internal error"; nothing secret is repeated.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClientError, type ClientErrorCode } from '@sotto/client';
import {
  SqliteClientStoreError,
  type SqliteClientStoreErrorCode,
} from '@sotto/client-store-sqlite';
import { CliError, describeFailure, EXIT, type CliErrorCode } from '../src/index.js';

const ctx = { profileDir: '/home/ada/.sotto', serverUrl: 'https://chat.example.org' };

describe('describeFailure', () => {
  it('maps every store error code to a one-line message', () => {
    const codes: Record<SqliteClientStoreErrorCode, number> = {
      WRONG_PASSPHRASE: EXIT.REFUSED,
      PASSPHRASE_REQUIRED: EXIT.USAGE,
      WEAK_PASSPHRASE: EXIT.USAGE,
      TAMPERED: EXIT.FAILURE,
      NOT_FOUND: EXIT.FAILURE,
      NOT_A_STORE: EXIT.FAILURE,
      UNSUPPORTED_FORMAT: EXIT.FAILURE,
      IN_USE: EXIT.UNAVAILABLE,
      CLOSED: EXIT.FAILURE,
      TRANSACTION_ENDED: EXIT.FAILURE,
      BAD_ARGUMENT: EXIT.FAILURE,
      KEYCHAIN_NOT_INSTALLED: EXIT.FAILURE,
      KEYCHAIN_UNAVAILABLE: EXIT.UNAVAILABLE,
      KEYCHAIN_ENTRY_INVALID: EXIT.FAILURE,
    };
    for (const [code, exit] of Object.entries(codes)) {
      const f = describeFailure(
        new SqliteClientStoreError(code as SqliteClientStoreErrorCode, 'x'),
        ctx,
      );
      expect(f.exitCode, code).toBe(exit);
      expect(f.message, code).not.toContain('\n');
    }
    expect(
      describeFailure(new SqliteClientStoreError('WRONG_PASSPHRASE', 'wrong'), ctx).message,
    ).toBe('wrong passphrase for the profile in /home/ada/.sotto');
  });

  it('maps relay refusals by their registry code, with the details that help', () => {
    const refused = (apiCode: string, details?: object): ClientError =>
      new ClientError('SERVER_REJECTED', 'refused', {
        apiCode: apiCode as never,
        ...(details === undefined ? {} : { details: details as never }),
      });
    expect(describeFailure(refused('VERIFICATION_CODE_INVALID'), ctx)).toEqual({
      message: 'wrong verification code',
      exitCode: EXIT.REFUSED,
    });
    expect(describeFailure(refused('RATE_LIMITED', { retryAfterMs: 125_000 }), ctx)).toEqual({
      message: 'https://chat.example.org is rate limiting this request; try again in 3 minutes',
      exitCode: EXIT.UNAVAILABLE,
    });
    const locked = describeFailure(
      new ClientError('REGISTRATION_LOCKED', 'locked', {
        apiCode: 'REGISTRATION_LOCKED',
        details: { timeRemainingMs: 6 * 24 * 3600_000 + 1 } as never,
      }),
      ctx,
    );
    expect(locked.exitCode).toBe(EXIT.REFUSED);
    expect(locked.message).toMatch(/two-step PIN .* lapses in 7 days/);
    expect(describeFailure(new ClientError('NETWORK', 'x'), ctx)).toEqual({
      message:
        'server unreachable at https://chat.example.org: is it running and is the address right?',
      exitCode: EXIT.UNAVAILABLE,
    });
  });

  it('gives every SDK error code a non-zero exit and one line', () => {
    const codes: ClientErrorCode[] = [
      'INVALID_ARGUMENT',
      'NOT_REGISTERED',
      'ALREADY_REGISTERED',
      'NOT_PRIMARY',
      'REGISTRATION_LOCKED',
      'PIN_NOT_RECOVERABLE',
      'UNKNOWN_CONTACT',
      'LINK_FAILED',
      'SERVER_REJECTED',
      'NETWORK',
      'TIMEOUT',
      'CLOSED',
      'DEREGISTERED',
      'SERVER_UNSUPPORTED',
      'STORE_CORRUPT',
    ];
    for (const code of codes) {
      const f = describeFailure(new ClientError(code, `message of ${code}`), ctx);
      expect(f.exitCode, code).toBeGreaterThan(0);
      expect(f.message, code).not.toContain('\n');
      expect(f.message.length, code).toBeGreaterThan(0);
    }
  });

  it('maps CLI errors and unknown errors', () => {
    const codes: Record<CliErrorCode, number> = {
      USAGE: EXIT.USAGE,
      INTERRUPTED: EXIT.INTERRUPTED,
      NO_PROFILE: EXIT.FAILURE,
      UNKNOWN_CONTACT: EXIT.FAILURE,
      MISMATCH: EXIT.USAGE,
      NO_TERMINAL: EXIT.USAGE,
      UNREACHABLE: EXIT.UNAVAILABLE,
      NOT_SENT: EXIT.FAILURE,
      SAFETY_NUMBER_MISMATCH: EXIT.REFUSED,
      TIMEOUT: EXIT.UNAVAILABLE,
      BACKUP_KEY_REFUSED: EXIT.REFUSED,
      BACKUP_FAILED: EXIT.FAILURE,
    };
    for (const [code, exit] of Object.entries(codes)) {
      expect(describeFailure(new CliError(code as CliErrorCode, 'm'), ctx).exitCode, code).toBe(
        exit,
      );
    }
    expect(describeFailure(new TypeError('boom'), ctx)).toEqual({
      message: 'internal error: boom',
      exitCode: EXIT.FAILURE,
    });
  });
});

describe('docs/cli.md', () => {
  it('documents every exit code the CLI uses', () => {
    const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
    for (const [name, code] of Object.entries(EXIT)) {
      expect(doc, `exit code ${code} (${name})`).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
    }
  });
});
