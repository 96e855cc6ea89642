/**
 * What every route plugin receives: the ports, the server secret, the resolved settings and a few
 * helpers (rate limiting, audit). Built once by `createServer` (http/app.ts).
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { ApiError } from '@sotto/api';
import type { AttachmentStore } from '../ports/attachment-store.js';
import type { BackupBlobStore } from '../ports/backup-blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { FanOut } from '../ports/fan-out.js';
import type { SmsSender } from '../ports/sms.js';
import type {
  AuditEventInput,
  AuditEventType,
  BackupRetention,
  RateLimitPolicy,
  Storage,
} from '../ports/storage.js';
import type { ServerSecret } from '../secrets.js';

export interface ServerSettings {
  readonly messageRetentionMs: number;
  readonly attachmentRetentionMs: number;
  readonly auditRetentionMs: number;
  readonly maxMailboxEnvelopes: number;
  readonly maxAttachmentBytes: number;
  /** Largest backup archive (routes/backups.ts). */
  readonly maxBackupBytes: number;
  /** Backups kept per account and their byte quota. */
  readonly backupRetention: BackupRetention;
}

export interface ServerContext {
  readonly storage: Storage;
  readonly fanOut: FanOut;
  readonly sms: SmsSender | null;
  readonly clock: Clock;
  readonly secret: ServerSecret;
  readonly attachments: AttachmentStore;
  /** Backup archive bytes; `null` when this relay stores no backups (BACKUP_STORAGE_UNAVAILABLE). */
  readonly backups: BackupBlobStore | null;
  readonly settings: ServerSettings;
  readonly log: FastifyBaseLogger;
  /** Takes one event from a durable bucket; throws RATE_LIMITED (with retryAfterMs) when empty. */
  limit(bucket: string, policy: RateLimitPolicy): Promise<void>;
  /**
   * Takes one event from the client address's bucket for `purpose`, unless the address is one of
   * the operator's `unlimitedAddresses` (monitoring probes, test harnesses).
   */
  limitAddress(req: FastifyRequest, purpose: string, policy: RateLimitPolicy): Promise<void>;
  /**
   * Appends one security event that is not part of another change (a failed code or token) to
   * the hash-chained audit log. Events that record a change are built with `auditEvent` and handed
   * to the storage method making the change, which writes them in the same transaction.
   */
  audit(
    event: AuditEventType,
    accountId: string | null,
    deviceId: number | null,
    details?: Readonly<Record<string, string | number | boolean>>,
  ): Promise<void>;
  /** One audit event stamped with the current time, for a storage method's `audit` argument. */
  auditEvent(
    event: AuditEventType,
    accountId: string | null,
    deviceId: number | null,
    details?: Readonly<Record<string, string | number | boolean>>,
  ): AuditEventInput;
}

export function createContext(
  parts: Omit<ServerContext, 'limit' | 'limitAddress' | 'audit' | 'auditEvent'>,
  unlimitedAddresses: ReadonlySet<string> = new Set(),
): ServerContext {
  const limit = async (bucket: string, policy: RateLimitPolicy): Promise<void> => {
    const d = await parts.storage.consumeRateLimit(bucket, policy, parts.clock.now());
    if (!d.allowed) {
      throw new ApiError('RATE_LIMITED', undefined, { details: { retryAfterMs: d.retryAfterMs } });
    }
  };
  const ctx: ServerContext = {
    ...parts,
    limit,
    async limitAddress(req, purpose, policy) {
      if (unlimitedAddresses.has(clientAddress(req))) return;
      await limit(ipBucket(ctx, req, purpose), policy);
    },
    auditEvent(event, accountId, deviceId, details) {
      return { at: parts.clock.now(), event, accountId, deviceId, details: details ?? null };
    },
    async audit(event, accountId, deviceId, details) {
      await parts.storage.appendAuditEvents([ctx.auditEvent(event, accountId, deviceId, details)]);
    },
  };
  return ctx;
}

/** The client address (`ip` is always set for real sockets; injected upgrades in tests may lack it). */
export function clientAddress(req: FastifyRequest): string {
  return typeof req.ip === 'string' ? req.ip : 'unknown';
}

/** Rate-limit bucket of the client address. The address itself is never stored: only its HMAC. */
export function ipBucket(ctx: ServerContext, req: FastifyRequest, purpose: string): string {
  return `ip:${ctx.secret.key('rate-limit', clientAddress(req)).slice(0, 32)}:${purpose}`;
}

/** Rate-limit bucket of an account; deleted with the account. */
export function accountBucket(accountId: string, purpose: string): string {
  return `acct:${accountId}:${purpose}`;
}
