/**
 * @sotto/client-store-sqlite — the SDK's storage port (`ClientStore`) on SQLite, encrypted at rest
 * (ARCHITECTURE.md, "device data at rest"): every value sealed with AES-256-GCM under a random
 * store key, names kept only as HMACs, the store key wrapped by a passphrase through Argon2id and
 * optionally by an OS keychain (`KeychainPort`; `SecretServiceKeychain` on Linux). See docs/cli.md,
 * "Data at rest".
 */
export {
  openSqliteClientStore,
  type SqliteClientStore,
  type SqliteClientStoreOptions,
  type SqliteClientStoreDescription,
} from './sqlite-client-store.js';
export { SqliteClientStoreError, type SqliteClientStoreErrorCode } from './errors.js';
export { KEYCHAIN_SERVICE, type KeychainPort } from './keychain.js';
export {
  SecretServiceKeychain,
  type SecretServiceKeychainOptions,
} from './keychain-secret-service.js';
export { MIN_PASSPHRASE_LENGTH } from './limits.js';
