#!/usr/bin/env node
/**
 * The relay executable: `node apps/server/dist/src/main.js [--config <file>]`, configured by the
 * file and SOTTO_* environment variables (docs/server.md). Exits 1 with a one-line reason when the
 * configuration is refused (e.g. plain HTTP off loopback). SIGTERM and SIGINT shut down cleanly:
 * sockets closed, queued writes committed, database closed, exit 0.
 */
import { ConfigError, loadConfig } from './config.js';
import { startRelay } from './start.js';
import { serverLimits } from '@sotto/server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sotto: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const relay = await startRelay(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`sotto: shutdown after ${signal} took too long; exiting\n`);
      process.exit(1);
    }, serverLimits.SHUTDOWN_GRACE_MS);
    force.unref();
    relay.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sotto: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sotto: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
