/**
 * @sotto/server-app — the relay executable's pieces (ARCHITECTURE.md "apps/server"): configuration
 * (config.ts) and start-up wiring (start.ts). The executable itself is main.ts.
 */
export {
  loadConfig,
  isLoopback,
  ConfigError,
  type RelayConfig,
  type SmsMode,
  type VaultConfig,
  type VaultMode,
} from './config.js';
export { startRelay, loadOrCreateSecret, type RunningRelay, type StartOptions } from './start.js';
export {
  startVaultService,
  loadOrCreateVaultSetup,
  loadVaultCredentialKey,
  openVault,
} from './vault.js';
