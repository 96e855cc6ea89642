/**
 * @sotto/client — Sotto's client SDK (ARCHITECTURE.md "packages/client"): one device of an
 * account, with registration, the two-step PIN, linked devices, prekey upkeep, 1:1 messaging with
 * an outbox and an exactly-once inbox, end-to-end encrypted receipts, trust on first use with
 * identity-change holds, safety numbers, and a typed event stream. The transport (HTTP and one
 * WebSocket, both injected) is its only I/O; storage goes through the `ClientStore` port.
 * Test helpers (an in-memory store, the store conformance suite) are in `@sotto/client/testing`.
 */
export type { ClientStore, ClientStoreReader, ClientStoreTransaction } from './client-store.js';
export { ClientError, type ClientErrorCode } from './errors.js';
export * as limits from './limits.js';
export {
  createClient,
  SottoClient,
  type ContactInfo,
  type SafetyNumber,
  type DeviceInfo,
  type LinkOptions,
  type ApproveLinkOptions,
  type ConnectOptions,
} from './client.js';
export type { ClientOptions, PinVault, PinVaultContext } from './core.js';
export { HttpVaultApi, type HttpVaultApiOptions } from './vault/http-vault-api.js';
export {
  VaultPinVault,
  type VaultPinVaultOptions,
  type PinFailureReason,
} from './vault/pin-vault.js';
export { fetchVaultCredential } from './vault/relay-credential.js';
export type { AccountInfo, PendingLink, RegisterOptions } from './account/account-manager.js';
export { formatLinkUri, parseLinkUri, type LinkUri } from './account/link-uri.js';
export { registrationLockToken } from './account/account-manager.js';
export type { KeyStatus } from './account/key-manager.js';
export type {
  ClientEvent,
  ClientEventOf,
  ClientEventType,
  ConnectionState,
  OutgoingStatus,
  ProblemKind,
  Sender,
  StoredMessage,
} from './events.js';
export type { FetchLike } from './transport/http-api.js';
export {
  BackupManager,
  backupName,
  backupTime,
  backupTag,
  listBackups,
  newestBackup,
  type BackupListing,
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  type BackupStatus,
  type CreateOptions as CreateBackupOptions,
  type PendingRecoveryKey,
  type SchedulerOptions as BackupSchedulerOptions,
} from './backup/backup-manager.js';
export type { RestoreOptions, RestoreResult } from './backup/restore.js';
export {
  RelayBackupStorage,
  type RelayBackupStorageOptions,
  type BackupFetch,
} from './backup/relay-storage.js';
export type { WebSocketFactory, WebSocketLike } from './transport/message-socket.js';
export {
  sottoSessionEngine,
  type SessionEngine,
  type EngineStores,
  type EngineSessionStore,
} from './session-engine.js';
export {
  pad,
  unpad,
  encodeContent,
  decodeContent,
  CONTENT_VERSION,
  type Content,
  type ReceiptKind,
} from './messaging/content.js';
