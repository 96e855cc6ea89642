/** @sotto/client-store-sqlite/testing — an in-memory `KeychainPort` for tests. */
export { memoryKeychain, type MemoryKeychain } from '../keychain-memory.js';
