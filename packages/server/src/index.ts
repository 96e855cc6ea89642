/**
 * @sotto/server — the relay (ARCHITECTURE.md): Fastify plugins over four ports (storage, fan-out,
 * SMS, clock) plus an attachment blob port. It handles opaque bytes only and never imports the
 * protocol or crypto packages: the import graph proves it cannot read messages.
 */
export type * from './ports/storage.js';
export type { Clock } from './ports/clock.js';
export { systemClock } from './ports/clock.js';
export type { SmsSender, SmsMessage } from './ports/sms.js';
export type { FanOut, DeviceEvent, Unsubscribe } from './ports/fan-out.js';
export type { AttachmentStore } from './ports/attachment-store.js';
export type { BackupBlobStore } from './ports/backup-blob-store.js';
export type { Database as StorageDatabase, SqlFlavour } from './storage/schema.js';
export {
  KyselyStorage,
  type KyselyStorageOptions,
  type HotTransaction,
} from './storage/kysely-storage.js';
export type { QueryExecutor } from './storage/prepared.js';
export { migrateToLatest } from './storage/migrations.js';
export {
  verifyAuditLog,
  verifyAuditRows,
  auditRowHash,
  canonicalAuditRow,
  AUDIT_GENESIS_HASH,
  type AuditVerification,
} from './audit/audit-chain.js';
export {
  createServer,
  type ServerOptions,
  type SottoServer,
  type RelayPlugin,
} from './http/app.js';
export {
  VaultCredentialIssuer,
  VAULT_CREDENTIAL_KEY_BYTES,
  type VaultCredentialScope,
} from './routes/vault-credential.js';
export type { ServerContext, ServerSettings } from './http/context.js';
export { MemoryFanOut } from './fan-out/memory-fan-out.js';
export { ConsoleSmsSender, CONSOLE_SMS_PREFIX } from './sms/console-sender.js';
export { WebhookSmsSender, type WebhookSmsOptions } from './sms/webhook-sender.js';
export { FileAttachmentStore } from './attachments/file-store.js';
export { MemoryAttachmentStore } from './attachments/memory-store.js';
export { ServerSecret, SERVER_SECRET_BYTES } from './secrets.js';
export { relayLoggerOptions, createRelayLogger, REDACTED_PATHS } from './logging.js';
export { GroupCommit, type GroupCommitOptions } from './group-commit.js';
export { CLOSE_DEVICE_REMOVED, CLOSE_DISPLACED } from './messages/device-connection.js';
export * as serverLimits from './limits.js';
