/**
 * @sotto/server/testing — helpers for tests of the server and of its adapters: the storage
 * conformance suite, a clock tests can move, an SMS sender that records codes in memory.
 */
export { describeStorageConformance } from './storage-conformance.js';
export { ManualClock } from './manual-clock.js';
export { MemorySmsSender } from './memory-sms-sender.js';
