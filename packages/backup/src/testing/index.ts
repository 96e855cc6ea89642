/**
 * @sotto/backup/testing — helpers for tests and benchmarks (Node and Vitest only).
 */
export {
  syntheticHistory,
  seededRandom,
  encodedRecordLength,
  encodeRecords,
  type SyntheticHistoryOptions,
} from './synthetic-history.js';
