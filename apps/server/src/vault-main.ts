#!/usr/bin/env node
/**
 * The key vault alone: `node apps/server/dist/src/vault-main.js [--config <file>]`, for a
 * deployment that keeps the vault apart from the relay (docs/server.md "Key vault"). It reads the
 * same configuration keys as the relay — host, port, tls, dataDir, trustProxy, logLevel,
 * unlimitedAddresses and `vault.*` — so give it a file of its own (another port, another data
 * directory) and the relay's credential key (`vault.credentialKeyFile`); set the relay's
 * `vault.mode` to `external`. SIGTERM and SIGINT shut it down cleanly.
 */
import { VAULT_SHUTDOWN_GRACE_MS } from '@sotto/vault';
import { runService } from './run-service.js';
import { startVaultService } from './vault.js';

runService('sotto-vault', VAULT_SHUTDOWN_GRACE_MS, (config) => startVaultService(config));
