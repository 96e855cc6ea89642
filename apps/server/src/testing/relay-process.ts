/**
 * The relay as a real child process, as an operator runs it, for every process-level suite (the
 * server app's own tests, the CLI's tests, tests/e2e and the benchmarks): `apps/server`'s
 * `main` on SOTTO_HOST=127.0.0.1 and SOTTO_PORT=0, configured by SOTTO_* variables, waiting for
 * the readiness line `{"msg":"sotto relay ready","url",…}`. From TypeScript sources (tests run
 * with the `sotto-source` condition) it starts `src/main.ts` through tsx; from a build,
 * `dist/src/main.js`. With SOTTO_SMS=console the relay prints
 * `[sotto dev-only sms] to=<number> code=<code>` for each verification code; `codeFor(number)`
 * reads the latest one. Crash and leak tests get the pid, every stdout and stderr line, and
 * SIGKILL/SIGTERM with the exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The relay's entry point next to this module: `src/main.ts`, or `dist/src/main.js` when built. */
export const RELAY_MAIN = fileURLToPath(
  new URL(FROM_SOURCE ? '../main.ts' : '../main.js', import.meta.url),
);
const RUN_MAIN = FROM_SOURCE
  ? ['--conditions=sotto-source', '--import', 'tsx', RELAY_MAIN]
  : [RELAY_MAIN];

export const DEV_SMS_PREFIX = '[sotto dev-only sms] ';
const SMS_LINE = /^\[sotto dev-only sms\] to=(\+[0-9]+) code=([0-9]{6})$/;

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  /** Every complete stdout line so far: JSON log lines and development SMS lines. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** The latest code sent to `number`, waiting up to `timeoutMs` for it. */
  readonly codeFor: (number: string, timeoutMs?: number) => Promise<string>;
  /** Resolves with the exit code, or the signal name, once the process ended. */
  readonly exited: Promise<number | string>;
  /** Sends `signal` and waits for the exit. */
  readonly stop: (signal: 'SIGTERM' | 'SIGKILL') => Promise<number | string>;
}

export async function spawnRelay(
  env: Record<string, string>,
  options: { timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<RelayProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...RUN_MAIN], {
    env: { ...process.env, SOTTO_HOST: '127.0.0.1', SOTTO_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) lines.push(p);
    for (const l of listeners) l();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let exitStatus: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      exitStatus = code ?? signal ?? 'unknown';
      if (partial.length > 0) lines.push(partial);
      partial = '';
      resolve(exitStatus);
    }),
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

  let scanned = 0;
  const ready = await waitFor(
    () => {
      for (; scanned < lines.length; scanned++) {
        const l = lines[scanned]!;
        if (!l.startsWith('{')) continue;
        const j = JSON.parse(l) as { msg?: string; url?: string; port?: number };
        if (j.msg === 'sotto relay ready' && j.url !== undefined && j.port !== undefined) {
          return { url: j.url, port: j.port };
        }
      }
      return undefined;
    },
    options.timeoutMs ?? 30_000,
    'the readiness line',
  );

  return {
    child,
    pid: child.pid!,
    url: ready.url,
    port: ready.port,
    lines,
    stderr: () => stderr,
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
    stop: async (signal) => {
      if (exitStatus === undefined) child.kill(signal);
      return exited;
    },
  };
}

/** Reads VmHWM and VmRSS (kB) of a process from /proc (Linux only; `undefined` elsewhere). */
export async function processMemoryKb(
  pid: number,
): Promise<{ hwmKb: number; rssKb: number } | undefined> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+([0-9]+) kB`, 'm').exec(text);
    return m === null ? NaN : Number(m[1]);
  };
  return { hwmKb: field('VmHWM'), rssKb: field('VmRSS') };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux only;
 * `undefined` elsewhere). Resolution: one clock tick (10 ms at the usual 100 Hz).
 */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces) start at index 2 ("state").
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
/** USER_HZ on Linux is 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
