/**
 * The key vault inside the relay for backups (purpose 'backup'), reached over HTTP
 * (`HttpVaultApi`) with a vault credential the relay issues to a registered device.
 */
import type { DeviceCredentials } from '@sotto/api';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import type { FetchLike } from '../transport/http-api.js';
import { HttpVaultApi } from '../vault/http-vault-api.js';
import { fetchVaultCredential } from '../vault/relay-credential.js';

/** The client's fetch, or the global one. */
export function fetchOf(core: ClientCore<unknown>): FetchLike {
  const f: FetchLike | undefined = core.options.fetch ?? globalThis.fetch;
  if (f === undefined) throw new ClientError('INVALID_ARGUMENT', 'no fetch implementation');
  return f;
}

/** The key vault inside the relay, reached with a vault credential fetched for `device`. */
export function relayVault(
  core: ClientCore<unknown>,
  device: () => DeviceCredentials,
): HttpVaultApi {
  const fetchImpl = fetchOf(core);
  return new HttpVaultApi({
    url: core.options.serverUrl,
    fetch: fetchImpl,
    credential: () => fetchVaultCredential(core.options.serverUrl, fetchImpl, device()),
  });
}
