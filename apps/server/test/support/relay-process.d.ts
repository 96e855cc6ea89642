/**
 * Runs the relay as a real child process, as an operator would (`node apps/server/src/main.ts` via
 * tsx, configured by SOTTO_* variables), for process-level tests: crash tests, benchmarks, the
 * "server learns nothing" test. It waits for the readiness log line, collects the development SMS
 * lines (SOTTO_SMS=console) so tests can read verification codes, and exposes the exit status.
 */
import { type ChildProcess } from 'node:child_process';
export interface RelayProcess {
    readonly child: ChildProcess;
    readonly url: string;
    readonly port: number;
    /** Every stdout line so far (JSON log lines and dev SMS lines). */
    readonly lines: string[];
    readonly stderr: () => string;
    /** The latest code sent to `number`, waiting up to `timeoutMs` for it. */
    codeFor(number: string, timeoutMs?: number): Promise<string>;
    /** Resolves with the exit code (or signal name) once the process ended. */
    readonly exited: Promise<number | string>;
}
export declare function spawnRelay(env: Record<string, string>, timeoutMs?: number): Promise<RelayProcess>;
//# sourceMappingURL=relay-process.d.ts.map