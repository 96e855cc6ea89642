/**
 * @sotto/cli — the `sotto` command (ARCHITECTURE.md "apps/cli"): parsing and rendering only, over
 * `@sotto/client` and the encrypted SQLite client store. `runCli(argv)` runs it in-process and
 * returns the exit code; the executable is `src/main.ts` (docs/cli.md).
 */
export { runCli, VERSION } from './program.js';
export { describeFailure, CliError, EXIT, type CliErrorCode, type Failure } from './cli-error.js';
