/**
 * @sotto/client-store-sqlite/testing — an in-memory `KeychainPort` for tests, and a private, real
 * Secret Service (session bus + gnome-keyring) for tests of `SecretServiceKeychain`.
 */
export { memoryKeychain, type MemoryKeychain } from '../keychain-memory.js';
export {
  secretServiceToolsMissing,
  startPrivateSecretService,
  type PrivateSecretService,
} from './secret-service.js';
