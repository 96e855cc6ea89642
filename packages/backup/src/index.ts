/**
 * @sotto/backup — the end-to-end encrypted backup archive and the guess-limited key vault
 * (ARCHITECTURE.md "E2E encrypted backups"; docs/backup-format.md, docs/backups.md).
 *
 * Runs in browsers and Node: nothing reachable from this entry imports `node:*` (the local
 * directory storage adapter lives in `@sotto/backup/node`; conformance suites and synthetic
 * histories in `@sotto/backup/testing`).
 */
export { BackupError, type BackupErrorCode, type BackupErrorDetails } from './errors.js';
export * as limits from './limits.js';
export { BackupKey, BACKUP_KEY_LENGTH } from './keys/backup-key.js';
export {
  RecoveryKey,
  recoveryKeySlot,
  openRecoveryKeySlot,
  RECOVERY_KEY_SLOT_TYPE,
  RECOVERY_KEY_SLOT_LENGTH,
  type KeySlot,
} from './keys/recovery-key.js';
export { FORMAT_VERSION, type Compression } from './format/header.js';
export { padme } from './format/padding.js';
export {
  SCHEMA_VERSION,
  type BackupRecord,
  type ContentRecord,
  type BackupInfoRecord,
  type AccountRecord,
  type ContactRecord,
  type ConversationRecord,
  type MessageRecord,
  type SettingRecord,
  type SettingValue,
  type AttachmentPointer,
  type Receipt,
  type ReceiptStatus,
  type VerificationState,
} from './format/records.js';
export {
  createBackup,
  type CreateBackupOptions,
  type RecordSource,
} from './format/backup-writer.js';
export { openBackup, BackupReader, type BackupArchiveInfo } from './format/backup-reader.js';
export type { ByteSource } from './format/byte-input.js';
export {
  KeyVault,
  defaultAttemptDelayMs,
  type KeyVaultOptions,
  type VaultApi,
  type VaultStatus,
  type VaultRegistrationStartRequest,
  type VaultRegistrationStartResponse,
  type VaultRegistrationFinishRequest,
  type VaultLoginStartRequest,
  type VaultLoginStartResponse,
  type VaultLoginFinishRequest,
  type VaultLoginFinishResponse,
} from './vault/key-vault.js';
export {
  MemoryVaultStore,
  VAULT_PURPOSES,
  type MemoryVaultStoreOptions,
  type VaultPurpose,
  type VaultRecord,
  type VaultRecordKey,
  type StoredVaultRecord,
  type VaultStore,
} from './vault/vault-store.js';
export {
  storeVaultSecret,
  recoverVaultSecret,
  storeBackupKeyInVault,
  recoverBackupKeyFromVault,
  wrapVaultSecret,
  unwrapVaultSecret,
  DEFAULT_KEY_STRETCHING,
  type VaultClientOptions,
} from './vault/vault-client.js';
export type { KeyStretching } from './vault/opaque.js';
export {
  MemoryBackupStorage,
  checkObjectName,
  type BackupStorage,
  type BackupObjectInfo,
} from './storage/backup-storage.js';
