/**
 * The relay as a real child process for the CLI's process tests: the same start-up as
 * `apps/server/test/support/relay-process.ts`, which lives in another TypeScript project and
 * cannot be imported from here (tests/e2e/support keeps its own copy for the same reason).
 *
 * `node --conditions=sotto-source --import tsx apps/server/src/main.ts` on SOTTO_HOST=127.0.0.1,
 * SOTTO_PORT=0; waits for the readiness line `{"msg":"sotto relay ready","url",…}`. With
 * SOTTO_SMS=console the relay prints `[sotto dev-only sms] to=<number> code=<code>` for each
 * verification code; `codeFor(number)` reads the latest one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RELAY_MAIN = fileURLToPath(new URL('../../../server/src/main.ts', import.meta.url));
const SMS_LINE = /^\[sotto dev-only sms\] to=(\+[0-9]+) code=([0-9]{6})$/;

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  codeFor(number: string, timeoutMs?: number): Promise<string>;
  /** The exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
}

export async function spawnRelay(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=sotto-source', '--import', 'tsx', RELAY_MAIN],
    {
      env: { ...process.env, SOTTO_HOST: '127.0.0.1', SOTTO_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
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
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`relay exited while waiting for ${what}; stderr: ${stderr}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.on('exit', onExit);
      check();
    });

  const url = await waitFor(
    () => {
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const j = JSON.parse(l) as { msg?: string; url?: string };
        if (j.msg === 'sotto relay ready' && j.url !== undefined) return j.url;
      }
      return undefined;
    },
    timeoutMs,
    'the readiness line',
  );

  return {
    child,
    url,
    exited,
    codeFor: (number, ms = 10_000) =>
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
