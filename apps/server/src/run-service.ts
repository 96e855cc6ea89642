/**
 * The process shell shared by the executables (main.ts: the relay; vault-main.ts: the key vault
 * alone): configuration from argv, SOTTO_* and the file; exit 1 with a one-line reason when the
 * configuration is refused or the service fails to start; SIGTERM and SIGINT close the service
 * (exit 0), forced after `graceMs`.
 */
import { ConfigError, loadConfig, type RelayConfig } from './config.js';

export interface ClosableService {
  close(): Promise<void>;
}

export function runService(
  name: string,
  graceMs: number,
  start: (config: RelayConfig) => Promise<ClosableService>,
): void {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(1);
  };
  const main = async (): Promise<void> => {
    let config: RelayConfig;
    try {
      config = loadConfig(process.argv.slice(2), process.env, process.cwd());
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
    const service = await start(config);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(
        () => fail(`shutdown after ${signal} took too long; exiting`),
        graceMs,
      );
      force.unref();
      service.close().then(
        () => process.exit(0),
        (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  };
  main().catch((err: unknown) => fail(`failed to start: ${(err as Error).message}`));
}
