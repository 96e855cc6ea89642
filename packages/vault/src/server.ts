/**
 * `createVaultServer`: the key vault as its own Fastify server, for a deployment that keeps the
 * vault apart from the relay (another process, another machine, its own database). The same
 * `vaultPlugin` runs inside the relay by default (apps/server). Secure by default like the relay:
 * strict schemas (no coercion, unknown fields rejected), a per-address flood guard on every route,
 * errors that name a registry code and nothing else, `no-store` and `nosniff` on every answer.
 * TLS off loopback is the caller's rule to enforce (apps/server config.ts does).
 */
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { ApiError, routes, STRICT_VALIDATOR_OPTIONS } from '@sotto/api';
import { KeyVault, type KeyVaultOptions, type VaultStore } from '@sotto/backup';
import { toVaultApiError } from './errors.js';
import { VAULT_HTTP_REQUESTS_PER_IP_PER_MINUTE, VAULT_SHUTDOWN_GRACE_MS } from './limits.js';
import { vaultPlugin, type VaultPluginOptions } from './plugin.js';

export interface VaultServerOptions
  extends Omit<VaultPluginOptions, 'vault'>, Pick<KeyVaultOptions, 'attemptDelayMs' | 'random'> {
  readonly store: VaultStore;
  /** The OPAQUE server setup from a secret manager (see docs/backups.md); else kept in the store. */
  readonly serverSetup?: string;
  /** A pino logger; none by default. */
  readonly logger?: FastifyBaseLogger;
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Trust X-Forwarded-* from this proxy (Fastify `trustProxy`), for client addresses. */
  readonly trustProxy?: boolean | string;
  /** Per-address flood guard, every route; default VAULT_HTTP_REQUESTS_PER_IP_PER_MINUTE. */
  readonly httpRequestsPerMinute?: number;
}

export interface VaultServer {
  readonly app: FastifyInstance;
  readonly vault: KeyVault;
  /** Stops accepting requests and waits for in-flight ones; the store is left to its owner. */
  close(): Promise<void>;
}

export { VAULT_SHUTDOWN_GRACE_MS };

export async function createVaultServer(options: VaultServerOptions): Promise<VaultServer> {
  const vault = await KeyVault.open({
    store: options.store,
    ...(options.serverSetup === undefined ? {} : { serverSetup: options.serverSetup }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.attemptDelayMs === undefined ? {} : { attemptDelayMs: options.attemptDelayMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const fastifyOptions: FastifyServerOptions & { https?: unknown } = {
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    return503OnClosing: true,
    ajv: { customOptions: { ...STRICT_VALIDATOR_OPTIONS } },
    ...(options.https === undefined
      ? {}
      : { https: { cert: options.https.cert, key: options.https.key } }),
  };
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;
  const unlimited = new Set(options.unlimitedAddresses ?? []);
  await app.register(fastifyRateLimit, {
    global: true,
    max: options.httpRequestsPerMinute ?? VAULT_HTTP_REQUESTS_PER_IP_PER_MINUTE,
    timeWindow: 60_000,
    allowList: (req) => unlimited.has(req.ip),
    errorResponseBuilder: (_req, c) =>
      new ApiError('RATE_LIMITED', undefined, { details: { retryAfterMs: c.ttl } }),
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const apiError = toVaultApiError(err);
    if (apiError.code === 'INTERNAL') {
      req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    }
    return reply.code(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(new ApiError('NOT_FOUND').toBody()));
  app.route({
    method: 'GET',
    url: routes.health.url,
    schema: { response: routes.health.response },
    handler: () => Promise.resolve({ status: 'ok' as const }),
  });
  const {
    store: _store,
    serverSetup: _setup,
    logger: _logger,
    https: _https,
    ...pluginOptions
  } = options;
  await app.register(vaultPlugin, { ...pluginOptions, vault });
  await app.ready();
  let closing: Promise<void> | null = null;
  return {
    app,
    vault,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
