/**
 * Runs the relay as a real child process, as an operator would (`node apps/server/src/main.ts` via
 * tsx, configured by SOTTO_* variables), for process-level tests: crash tests, benchmarks, the
 * "server learns nothing" test. It waits for the readiness log line, collects the development SMS
 * lines (SOTTO_SMS=console) so tests can read verification codes, and exposes the exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const SMS_LINE = /^\[sotto dev-only sms\] to=(\+[0-9]+) code=([0-9]{6})$/;

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

export async function spawnRelay(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--conditions=sotto-source', '--import', 'tsx', MAIN], {
    env: { ...process.env, SOTTO_HOST: '127.0.0.1', SOTTO_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );

  const waitFor = <T>(find: () => T | undefined, ms: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`));
      }, ms);
      const onExit = () => {
        cleanup();
        reject(new Error(`relay exited while waiting for ${what}; stderr: ${stderr}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.on('exit', onExit);
      check();
    });

  const ready = await waitFor(
    () => {
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const j = JSON.parse(l) as { msg?: string; url?: string; port?: number };
        if (j.msg === 'sotto relay ready') return { url: j.url!, port: j.port! };
      }
      return undefined;
    },
    timeoutMs,
    'the readiness line',
  );

  return {
    child,
    url: ready.url,
    port: ready.port,
    lines,
    stderr: () => stderr,
    exited,
    codeFor: (number, ms = 5000) =>
      waitFor(
        () => {
          for (let i = lines.length - 1; i >= 0; i--) {
            const m = SMS_LINE.exec(lines[i]!);
            if (m !== null && m[1] === number) return m[2]!;
          }
          return undefined;
        },
        ms,
        `a code for ${number}`,
      ),
  };
}
