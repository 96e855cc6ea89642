/**
 * `createServer`: the relay as one Fastify instance built from its ports. Features are plugins
 * (routes/*.ts) sharing one ServerContext. Secure by default (ARCHITECTURE.md): strict schemas
 * (unknown fields rejected, no type coercion), body and frame size limits, a per-IP flood guard on
 * every route plus durable per-number/per-account limits on sensitive ones, security headers
 * (HSTS when serving TLS), and errors that name a registry code and nothing else.
 */
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import {
  ApiError,
  MAX_ATTACHMENT_BYTES,
  MAX_BACKUP_BYTES,
  MAX_BACKUPS_PER_ACCOUNT,
  MAX_FRAME_BYTES,
  STRICT_VALIDATOR_OPTIONS,
} from '@sotto/api';
import { MemoryFanOut } from '../fan-out/memory-fan-out.js';
import {
  DEFAULT_ATTACHMENT_RETENTION_MS,
  DEFAULT_AUDIT_RETENTION_MS,
  DEFAULT_BACKUP_QUOTA_BYTES,
  DEFAULT_BACKUP_RETENTION_COUNT,
  DEFAULT_MESSAGE_RETENTION_MS,
  HTTP_REQUESTS_PER_IP_PER_MINUTE,
  MAX_JSON_BODY_BYTES,
  MAX_MAILBOX_ENVELOPES,
  SWEEP_INTERVAL_MS,
  WS_HEARTBEAT_INTERVAL_MS,
} from '../limits.js';
import type { DeviceConnection } from '../messages/device-connection.js';
import { MessageService } from '../messages/message-service.js';
import type { AttachmentStore } from '../ports/attachment-store.js';
import type { BackupBlobStore } from '../ports/backup-blob-store.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { FanOut } from '../ports/fan-out.js';
import type { SmsSender } from '../ports/sms.js';
import type { RateLimitPolicy, Storage, SweepResult } from '../ports/storage.js';
import { accountRoutes } from '../routes/accounts.js';
import { attachmentRoutes } from '../routes/attachments.js';
import { backupRoutes } from '../routes/backups.js';
import { deviceRoutes } from '../routes/devices.js';
import { directoryRoutes } from '../routes/directory.js';
import { keyRoutes } from '../routes/keys.js';
import { provisioningRoutes } from '../routes/provisioning.js';
import { vaultCredentialRoutes, VaultCredentialIssuer } from '../routes/vault-credential.js';
import { verificationRoutes } from '../routes/verification.js';
import { websocketRoutes } from '../routes/websocket.js';
import { ServerSecret } from '../secrets.js';
import { startSweeper, sweepOnce } from '../sweeper.js';
import {
  clientAddress,
  createContext,
  type ServerContext,
  type ServerSettings,
} from './context.js';
import { defineRoute } from './route.js';

export interface ServerOptions {
  readonly storage: Storage;
  readonly attachments: AttachmentStore;
  /** Backup archive bytes (a store of their own); absent: backup routes answer BACKUP_STORAGE_UNAVAILABLE. */
  readonly backups?: BackupBlobStore | null;
  /** `null`: no SMS sender configured; registration answers SMS_UNAVAILABLE. */
  readonly sms: SmsSender | null;
  /** At least 32 bytes; HMAC key for codes, tokens and lookup keys. Keep it with the database. */
  readonly secret: Uint8Array;
  readonly fanOut?: FanOut;
  readonly clock?: Clock;
  /** A pino logger (see logging.ts); none by default. */
  readonly logger?: FastifyBaseLogger;
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Send Strict-Transport-Security (default: when `https` is set or behind a TLS proxy). */
  readonly hsts?: boolean;
  /** Trust X-Forwarded-* from this proxy (Fastify `trustProxy`), for client addresses. */
  readonly trustProxy?: boolean | string;
  readonly messageRetentionMs?: number;
  readonly attachmentRetentionMs?: number;
  readonly auditRetentionMs?: number;
  readonly maxMailboxEnvelopes?: number;
  readonly maxAttachmentBytes?: number;
  /** Largest backup archive; default MAX_BACKUP_BYTES. */
  readonly maxBackupBytes?: number;
  /** Backups kept per account (newest first); default DEFAULT_BACKUP_RETENTION_COUNT. */
  readonly backupRetentionCount?: number;
  /** Bytes the kept backups of an account may take; default DEFAULT_BACKUP_QUOTA_BYTES. */
  readonly backupQuotaBytes?: number;
  /** Extra group-commit gathering window; 0 (default) flushes at the end of each event-loop turn. */
  readonly groupCommitWindowMs?: number;
  /** Message sends per account (in memory per process); default MESSAGE_SENDS_PER_ACCOUNT. */
  readonly messageSendsPerAccount?: RateLimitPolicy;
  /** How long a provisioning socket waits for its envelope; default PROVISIONING_SOCKET_TTL_MS. */
  readonly provisioningSocketTtlMs?: number;
  /** Sweeper period; 0 disables the timer (tests call `sweep()`). */
  readonly sweepIntervalMs?: number;
  /**
   * At least 32 bytes, shared with the key vault (@sotto/vault): signs vault credentials
   * (routes/vault-credential.ts). Absent: GET /v1/vault/credential answers VAULT_UNAVAILABLE and
   * REGISTRATION_LOCKED carries no credential.
   */
  readonly vaultCredentialKey?: Uint8Array;
  /**
   * Encapsulated Fastify plugins mounted on the relay after its own routes (apps/server mounts
   * @sotto/vault's `vaultPlugin` here). They share the relay's listener, flood guard and headers.
   */
  readonly plugins?: readonly RelayPlugin[];
  /** Called after an account was erased, to erase what the owner keeps elsewhere (vault records). */
  readonly onAccountDeleted?: (accountId: string) => Promise<void>;
  readonly heartbeatIntervalMs?: number;
  /** Per-IP HTTP requests per minute (in-memory flood guard). */
  readonly httpRequestsPerMinute?: number;
  /**
   * Client addresses exempt from every per-address limit (the flood guard included): the
   * operator's monitoring, or a load-test harness on loopback. Per-number and per-account limits
   * still apply. Empty by default.
   */
  readonly unlimitedAddresses?: readonly string[];
}

/** A plugin mounted by `ServerOptions.plugins`: `app.register(plugin.plugin, plugin.options)`. */
export interface RelayPlugin {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Fastify plugin's options
  readonly plugin: (app: FastifyInstance, options: any) => Promise<void>;
  readonly options?: object;
}

export interface SottoServer {
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  readonly messages: MessageService;
  /** Open device sockets. */
  readonly connections: ReadonlySet<DeviceConnection>;
  /** One sweep now; `orphanBlobs` counts blobs deleted because no row pointed at them. */
  sweep(): Promise<SweepResult & { readonly orphanBlobs: number }>;
  /**
   * Stops accepting work, closes sockets, commits queued writes. The storage, attachment store and
   * a fan-out passed in are left open for their owner to close.
   */
  close(): Promise<void>;
}

const SILENT = Fastify({ logger: false }).log;

export async function createServer(options: ServerOptions): Promise<SottoServer> {
  const log = options.logger ?? SILENT;
  const settings: ServerSettings = {
    messageRetentionMs: options.messageRetentionMs ?? DEFAULT_MESSAGE_RETENTION_MS,
    attachmentRetentionMs: options.attachmentRetentionMs ?? DEFAULT_ATTACHMENT_RETENTION_MS,
    auditRetentionMs: options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS,
    maxMailboxEnvelopes: options.maxMailboxEnvelopes ?? MAX_MAILBOX_ENVELOPES,
    maxAttachmentBytes: options.maxAttachmentBytes ?? MAX_ATTACHMENT_BYTES,
    maxBackupBytes: Math.min(options.maxBackupBytes ?? MAX_BACKUP_BYTES, MAX_BACKUP_BYTES),
    backupRetention: {
      keep: Math.min(
        Math.max(1, options.backupRetentionCount ?? DEFAULT_BACKUP_RETENTION_COUNT),
        MAX_BACKUPS_PER_ACCOUNT,
      ),
      quotaBytes: options.backupQuotaBytes ?? DEFAULT_BACKUP_QUOTA_BYTES,
    },
  };
  const ownFanOut = options.fanOut === undefined;
  const fanOut = options.fanOut ?? new MemoryFanOut();
  const clock = options.clock ?? systemClock;
  const unlimited = new Set(options.unlimitedAddresses ?? []);
  const ctx = createContext(
    {
      storage: options.storage,
      fanOut,
      sms: options.sms,
      clock,
      secret: new ServerSecret(options.secret),
      attachments: options.attachments,
      backups: options.backups ?? null,
      settings,
      log,
    },
    unlimited,
  );
  const messages = new MessageService({
    storage: options.storage,
    fanOut,
    clock,
    maxMailboxEnvelopes: settings.maxMailboxEnvelopes,
    groupCommitWindowMs: options.groupCommitWindowMs ?? 0,
    ...(options.messageSendsPerAccount === undefined
      ? {}
      : { sendsPerAccount: options.messageSendsPerAccount }),
  });
  const connections = new Set<DeviceConnection>();

  const fastifyOptions: FastifyServerOptions & { https?: unknown } = {
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    // Per-request lines are written by our onResponse hook, without URLs or addresses.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: MAX_JSON_BODY_BYTES,
    // Backup names (MAX_BACKUP_NAME_LENGTH, 200) are the longest path parameters.
    routerOptions: { maxParamLength: 256 },
    requestIdHeader: false,
    return503OnClosing: true,
    ajv: { customOptions: { ...STRICT_VALIDATOR_OPTIONS } },
    ...(options.https === undefined
      ? {}
      : { https: { cert: options.https.cert, key: options.https.key } }),
  };
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;
  app.decorateRequest('device', null);

  await app.register(fastifyHelmet, {
    hsts:
      (options.hsts ?? options.https !== undefined)
        ? { maxAge: 31_536_000, includeSubDomains: true }
        : false,
    // A JSON API: nothing here may be framed, sniffed or run as a page.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: options.httpRequestsPerMinute ?? HTTP_REQUESTS_PER_IP_PER_MINUTE,
    timeWindow: 60_000,
    allowList: (req) => unlimited.has(clientAddress(req)),
    errorResponseBuilder: (_req, c) =>
      new ApiError('RATE_LIMITED', undefined, { details: { retryAfterMs: c.ttl } }),
  });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false },
    errorHandler: (err, socket) => {
      log.warn({ err: { message: err.message } }, 'websocket error');
      socket.terminate();
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const apiError = toApiError(err);
    if (apiError.code === 'INTERNAL') {
      req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    }
    if (apiError.code === 'RATE_LIMITED' && apiError.details !== undefined) {
      const ms = (apiError.details as { retryAfterMs?: number }).retryAfterMs ?? 1000;
      void reply.header('retry-after', Math.max(1, Math.ceil(ms / 1000)));
    }
    return reply.code(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(new ApiError('NOT_FOUND').toBody()));
  app.addHook('onResponse', (req, reply, done) => {
    req.log.debug(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });

  defineRoute(app, ctx, 'health', () => Promise.resolve({ status: 'ok' as const }));
  verificationRoutes(app, ctx);
  const vaultCredentials =
    options.vaultCredentialKey === undefined
      ? null
      : new VaultCredentialIssuer(options.vaultCredentialKey, clock);
  accountRoutes(app, ctx, vaultCredentials, options.onAccountDeleted ?? null);
  vaultCredentialRoutes(app, ctx, vaultCredentials);
  directoryRoutes(app, ctx);
  deviceRoutes(app, ctx);
  keyRoutes(app, ctx);
  provisioningRoutes(app, ctx, options.provisioningSocketTtlMs);
  // Encapsulated: the raw octet-stream body parser exists only for attachment routes.
  await app.register((scoped, _opts, done) => {
    attachmentRoutes(scoped, ctx);
    done();
  });
  await app.register((scoped, _opts, done) => {
    backupRoutes(scoped, ctx);
    done();
  });
  websocketRoutes(app, ctx, messages, connections);
  for (const p of options.plugins ?? []) await app.register(p.plugin, p.options ?? {});

  await app.ready();

  const heartbeatMs = options.heartbeatIntervalMs ?? WS_HEARTBEAT_INTERVAL_MS;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => connections.forEach((c) => c.heartbeat()), heartbeatMs)
      : null;
  heartbeat?.unref();
  const sweepMs = options.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
  const stopSweeper = sweepMs > 0 ? startSweeper(ctx, sweepMs, log) : () => Promise.resolve();

  let closing: Promise<void> | null = null;
  return {
    app,
    context: ctx,
    messages,
    connections,
    sweep: () => sweepOnce(ctx),
    close() {
      closing ??= (async () => {
        if (heartbeat !== null) clearInterval(heartbeat);
        await stopSweeper();
        // Closes the listener and every socket (code 1001), waits for in-flight requests.
        await app.close();
        await messages.close();
        if (ownFanOut) await fanOut.close();
      })();
      return closing;
    },
  };
}

function toApiError(err: FastifyError): ApiError {
  if (ApiError.is(err)) return err;
  if (err.validation !== undefined) return new ApiError('INVALID_REQUEST', err.message);
  const status = err.statusCode ?? 500;
  switch (status) {
    case 404:
      return new ApiError('NOT_FOUND');
    case 413:
      return new ApiError('PAYLOAD_TOO_LARGE');
    case 415:
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    case 429:
      return new ApiError('RATE_LIMITED', undefined, { details: { retryAfterMs: 1000 } });
    case 503:
      return new ApiError('SERVICE_UNAVAILABLE');
    default:
      if (status >= 400 && status < 500) {
        // Fastify's own 4xx (bad JSON, empty body, bad headers): a clear code, a generic message.
        return new ApiError(
          'INVALID_REQUEST',
          err.code === undefined ? undefined : `request refused (${err.code})`,
        );
      }
      return new ApiError('INTERNAL');
  }
}
