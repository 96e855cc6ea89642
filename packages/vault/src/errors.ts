/**
 * How the vault answers: the vault core's `BackupError` codes mapped onto the relay's error
 * registry (@sotto/api errors.ts, docs/errors.md), so a client of the relay and of a standalone
 * vault sees the same codes. The service has no error class of its own: it answers with
 * `ApiError`. Messages never name the account, the password or an OPAQUE message.
 */
import type { FastifyError } from 'fastify';
import { ApiError } from '@sotto/api';
import { BackupError, limits } from '@sotto/backup';

/** The registry error for any error a vault route can raise. */
export function toVaultApiError(err: unknown): ApiError {
  if (ApiError.is(err)) return err;
  if (err instanceof BackupError) {
    const code = err.code;
    if (code === 'VAULT_NOT_FOUND') return new ApiError('VAULT_RECORD_NOT_FOUND');
    if (code === 'VAULT_RECORD_DESTROYED') {
      return new ApiError(
        'VAULT_RECORD_DESTROYED',
        `the vault record was destroyed after ${limits.VAULT_MAX_ATTEMPTS} wrong guesses; the secret it held is gone`,
      );
    }
    if (code === 'VAULT_WRONG_PASSWORD') {
      return new ApiError('VAULT_LOGIN_FAILED', undefined, {
        details: { attemptsRemaining: err.details.attemptsRemaining ?? 0 },
      });
    }
    if (code === 'VAULT_RATE_LIMITED') {
      return new ApiError('RATE_LIMITED', 'too many guesses: wait before the next attempt', {
        details: { retryAfterMs: err.details.retryAfterMs ?? 1000 },
      });
    }
    if (code === 'VAULT_LOGIN_EXPIRED') return new ApiError('VAULT_LOGIN_EXPIRED');
    if (code === 'VAULT_BAD_REQUEST') return new ApiError('INVALID_REQUEST', err.message);
    if (code === 'VAULT_CONFLICT') return new ApiError('VAULT_CONFLICT');
    // Any other code (a store failing, a malformed server setup) is the vault's own fault.
    return new ApiError('INTERNAL');
  }
  const e = err as Partial<FastifyError>;
  if (e.validation !== undefined) return new ApiError('INVALID_REQUEST', e.message);
  const status = e.statusCode;
  if (status === 404) return new ApiError('NOT_FOUND');
  if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 429) {
    return new ApiError('RATE_LIMITED', undefined, { details: { retryAfterMs: 1000 } });
  }
  if (status === 503) return new ApiError('SERVICE_UNAVAILABLE');
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, empty body, bad headers): a clear code, a generic message.
    return new ApiError(
      'INVALID_REQUEST',
      e.code === undefined ? undefined : `request refused (${e.code})`,
    );
  }
  return new ApiError('INTERNAL');
}
