/**
 * The HTTP half of the transport: typed calls of the routes in `@sotto/api` (routes.ts), with the
 * device credential header of credentials.ts. `fetch` is injected (the global one by default), so
 * the SDK runs in Node and browsers alike. Relay errors become `ClientError('SERVER_REJECTED')`
 * with the registry code in `apiCode`; unreachable relays `ClientError('NETWORK')`. Nothing
 * secret (bodies, credentials) is put into an error message.
 */
import {
  ApiError,
  formatAuthorization,
  isApiErrorCode,
  routes,
  type ApiErrorDetails,
  type DeviceCredentials,
  type RequestBody,
  type ResponseBody,
  type RouteName,
} from '@sotto/api';
import { ClientError } from '../errors.js';

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  readonly status: number;
  text(): Promise<string>;
}>;

export interface CallOptions<N extends RouteName> {
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: RequestBody<N>;
  /** Send the device credential (default: when the route requires one). */
  readonly credentials?: DeviceCredentials;
}

export class HttpApi {
  readonly #base: string;

  constructor(
    serverUrl: string,
    private readonly fetchImpl: FetchLike,
  ) {
    this.#base = serverUrl.replace(/\/+$/, '');
  }

  /** The base URL with `http` replaced by `ws` (for the message socket). */
  get webSocketUrl(): string {
    return this.#base.replace(/^http/, 'ws') + routes.websocket.url;
  }

  /** The new device's provisioning socket (device linking). */
  get provisioningSocketUrl(): string {
    return this.#base.replace(/^http/, 'ws') + routes.provisioningSocket.url;
  }

  /** Like `call`, for routes that answer with a JSON body: a missing body is `NETWORK`. */
  async json<N extends RouteName>(name: N, options: CallOptions<N> = {}): Promise<ResponseBody<N>> {
    const body = await this.call(name, options);
    if (body === undefined) throw new ClientError('NETWORK', `${name}: the relay sent no body`);
    return body;
  }

  async call<N extends RouteName>(
    name: N,
    options: CallOptions<N> = {},
  ): Promise<ResponseBody<N> | undefined> {
    const route = routes[name];
    let path: string = route.url;
    if (options.params !== undefined) {
      for (const [k, v] of Object.entries(options.params)) {
        path = path.replace(`:${k}`, encodeURIComponent(v));
      }
    }
    const headers: Record<string, string> = {};
    if (route.auth !== 'none') {
      if (options.credentials === undefined) {
        throw new ClientError('NOT_REGISTERED', `${name} needs a registered device`);
      }
      headers.authorization = formatAuthorization(options.credentials);
    }
    const init: { method: string; headers: Record<string, string>; body?: string } = {
      method: route.method,
      headers,
    };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    let response: Awaited<ReturnType<FetchLike>>;
    let text: string;
    try {
      response = await this.fetchImpl(this.#base + path, init);
      text = await response.text();
    } catch (cause) {
      throw new ClientError('NETWORK', `${name}: the relay could not be reached`, { cause });
    }
    if (response.status >= 200 && response.status < 300) {
      if (text.length === 0) return undefined;
      try {
        return JSON.parse(text) as ResponseBody<N>;
      } catch (cause) {
        throw new ClientError('NETWORK', `${name}: the relay answered with malformed JSON`, {
          cause,
        });
      }
    }
    throw errorFrom(name, response.status, text);
  }
}

function errorFrom(name: string, status: number, text: string): ClientError {
  const apiError = apiErrorFromBody(text);
  if (apiError === undefined) {
    return new ClientError('NETWORK', `${name}: unexpected HTTP ${status} from the relay`);
  }
  return serverRejected(name, apiError);
}

/**
 * The registry error in an error response's body (`{ error: { code, details } }`, the shape of
 * packages/api errors.ts), or `undefined` when the body is not JSON or names no registry code.
 * Shared by every client of a Sotto server: the relay's HTTP API, its backup store, the key vault.
 */
export function apiErrorFromBody(text: string): ApiError | undefined {
  let code: unknown;
  let details: ApiErrorDetails | undefined;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; details?: unknown } };
    code = body.error?.code;
    const d = body.error?.details;
    if (d !== null && typeof d === 'object' && !Array.isArray(d)) details = d as ApiErrorDetails;
  } catch {
    return undefined;
  }
  if (!isApiErrorCode(code)) return undefined;
  return new ApiError(code, undefined, details === undefined ? {} : { details });
}

/** A `SERVER_REJECTED` ClientError for a relay error (HTTP body or WebSocket ERROR frame). */
export function serverRejected(what: string, err: ApiError): ClientError {
  if (err.code === 'UNAUTHENTICATED') {
    return new ClientError('DEREGISTERED', `${what}: the relay refused this device's credential`, {
      cause: err,
      apiCode: err.code,
    });
  }
  return new ClientError('SERVER_REJECTED', `${what}: ${err.code}`, {
    cause: err,
    apiCode: err.code,
    ...(err.details === undefined ? {} : { details: err.details }),
  });
}
