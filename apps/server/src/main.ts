#!/usr/bin/env node
/**
 * The relay executable: `node apps/server/dist/src/main.js [--config <file>]`, configured by the
 * file and SOTTO_* environment variables (docs/server.md). Exits 1 with a one-line reason when the
 * configuration is refused (e.g. plain HTTP off loopback). SIGTERM and SIGINT shut down cleanly:
 * sockets closed, queued writes committed, database closed, exit 0.
 */
import { serverLimits } from '@sotto/server';
import { runService } from './run-service.js';
import { startRelay } from './start.js';

runService('sotto', serverLimits.SHUTDOWN_GRACE_MS, (config) => startRelay(config));
