#!/usr/bin/env node
/**
 * The `sotto` executable (apps/cli/package.json "bin"). Development form, from the repository:
 * `node --conditions=sotto-source --import tsx apps/cli/src/main.ts <command>`.
 */
import { runCli } from './program.js';

const code = await runCli(process.argv);
// Let stdout and stderr drain, then end even if a socket or timer would keep the loop alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
