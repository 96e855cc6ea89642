/**
 * @sotto/client/testing — helpers for tests of the SDK and of client-store adapters: an in-memory
 * `ClientStore` and the port's conformance suite (`runClientStoreConformance`), which every
 * adapter runs from its own tests (CONVENTIONS.md, test layer 5).
 */
export { MemoryClientStore, createMemoryClientStore } from './memory-client-store.js';
export {
  runClientStoreConformance,
  type ClientStoreConformanceOptions,
} from './client-store-conformance.js';
