/**
 * Fetches a vault credential from the relay (`GET /v1/vault/credential`, @sotto/api
 * vault-routes.ts) with the device's own credential: a full credential for the device's account,
 * valid for an hour. The answer is a secret: it is returned, never logged or put into an error.
 */
import {
  ApiError,
  formatAuthorization,
  isApiErrorCode,
  vaultRoutes,
  type DeviceCredentials,
  type VaultCredential,
} from '@sotto/api';
import { ClientError } from '../errors.js';
import { serverRejected, type FetchLike } from '../transport/http-api.js';

export async function fetchVaultCredential(
  serverUrl: string,
  fetchImpl: FetchLike,
  device: DeviceCredentials,
): Promise<VaultCredential> {
  const route = vaultRoutes.vaultCredential;
  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(serverUrl.replace(/\/+$/, '') + route.url, {
      method: route.method,
      headers: { authorization: formatAuthorization(device) },
    });
    status = response.status;
    text = await response.text();
  } catch (cause) {
    throw new ClientError('NETWORK', 'vaultCredential: the relay could not be reached', { cause });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new ClientError('NETWORK', `vaultCredential: malformed answer (HTTP ${status})`, {
      cause,
    });
  }
  if (status !== 200) {
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    if (!isApiErrorCode(code)) {
      throw new ClientError('NETWORK', `vaultCredential: unexpected HTTP ${status} from the relay`);
    }
    throw serverRejected('vaultCredential', new ApiError(code));
  }
  const c = body as { username?: unknown; password?: unknown };
  if (typeof c.username !== 'string' || typeof c.password !== 'string') {
    throw new ClientError('NETWORK', 'vaultCredential: the relay sent no credential');
  }
  return { username: c.username, password: c.password };
}

/** The vault credential inside REGISTRATION_LOCKED details, if the relay put one there. */
export function lockedVaultCredential(details: unknown): VaultCredential | undefined {
  const c = (details as { vaultCredential?: { username?: unknown; password?: unknown } } | null)
    ?.vaultCredential;
  if (c === undefined || c === null) return undefined;
  return typeof c.username === 'string' && typeof c.password === 'string'
    ? { username: c.username, password: c.password }
    : undefined;
}

/** `details` without the vault credential (errors handed to apps never carry it). */
export function withoutVaultCredential<T>(details: T): T {
  if (details === null || typeof details !== 'object' || !('vaultCredential' in details)) {
    return details;
  }
  const { vaultCredential: _secret, ...rest } = details as Record<string, unknown>;
  return rest as T;
}

/**
 * The REGISTRATION_LOCKED error handed to the app when the relay's lock could not be opened: the
 * relay's code and details, without the vault credential.
 */
export function registrationLockedError(err: ClientError, message: string): ClientError {
  return new ClientError('REGISTRATION_LOCKED', message, {
    cause: err,
    ...(err.apiCode === undefined ? {} : { apiCode: err.apiCode }),
    ...(err.details === undefined ? {} : { details: withoutVaultCredential(err.details) }),
  });
}
