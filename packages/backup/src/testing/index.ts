/**
 * @sotto/backup/testing — for tests and benchmarks (Node + Vitest): the conformance suites every
 * adapter of the VaultStore and BackupStorage ports runs, and a deterministic synthetic history.
 */
export {
  syntheticHistory,
  seededRandom,
  encodedRecordLength,
  encodeRecords,
  type SyntheticHistoryOptions,
} from './synthetic-history.js';
export { describeVaultStoreConformance } from './vault-store-conformance.js';
export { describeBackupStorageConformance } from './storage-conformance.js';
