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
import { ConfigError, loadConfig } from './config.js';
import { startVaultService } from './vault.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sotto-vault: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const vault = await startVaultService(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`sotto-vault: shutdown after ${signal} took too long; exiting\n`);
      process.exit(1);
    }, VAULT_SHUTDOWN_GRACE_MS);
    force.unref();
    vault.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sotto-vault: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sotto-vault: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
