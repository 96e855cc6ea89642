/**
 * Runs the real `sotto` executable as a child process — the development form of the bin entry,
 * `node --conditions=sotto-source --import tsx apps/cli/src/main.ts` — with a private HOME, and
 * drives the interactive `chat` inside tmux (a real terminal: raw mode, redraws, Ctrl keys).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
export const NODE_ARGS = ['--conditions=sotto-source', '--import', 'tsx', CLI_MAIN] as const;

export interface SottoResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SottoOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Lines written to stdin, each when `waitFor` (on stderr) first matches, or at once. */
  readonly answers?: ReadonlyArray<{
    readonly waitFor?: RegExp;
    readonly text: () => string | Promise<string>;
  }>;
  readonly timeoutMs?: number;
}

/** Runs `sotto <args>` to completion. */
export function runSotto(
  args: readonly string[],
  options: SottoOptions = {},
): Promise<SottoResult> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const pending = [...(options.answers ?? [])];
  let answering = false;
  const answerNext = async (): Promise<void> => {
    if (answering) return;
    answering = true;
    try {
      while (pending.length > 0) {
        const next = pending[0]!;
        if (next.waitFor !== undefined && !next.waitFor.test(stderr)) return;
        pending.shift();
        child.stdin.write((await next.text()) + '\n');
      }
      child.stdin.end();
    } finally {
      answering = false;
    }
  };
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    void answerNext();
  });
  void answerNext();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sotto ${args.join(' ')} timed out; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A tmux server of its own (a private socket), so tests never touch a user's sessions. */
export class Tmux {
  readonly #socket = `sotto-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  #tmux(args: readonly string[]): string {
    const r = spawnSync('/usr/bin/tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts `sotto <args>` in a new 100×40 terminal; the pane stays open after it exits. */
  start(name: string, args: readonly string[], env: Readonly<Record<string, string>>): void {
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, ...NODE_ARGS, ...args].map(quote).join(' ');
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.#tmux([
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '100',
      '-y',
      '40',
      '-c',
      REPO_ROOT,
      ...envArgs,
      `${command}; echo "[sotto exited $?]"; sleep 600`,
    ]);
  }

  /** Types `text` and presses Enter. */
  type(name: string, text: string): void {
    this.#tmux(['send-keys', '-t', name, '-l', text]);
    this.#tmux(['send-keys', '-t', name, 'Enter']);
  }

  keys(name: string, ...keys: string[]): void {
    this.#tmux(['send-keys', '-t', name, ...keys]);
  }

  /** What the terminal shows now (including scrollback). */
  screen(name: string): string {
    return this.#tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', name]);
  }

  /** Waits until the screen matches `pattern`; returns the screen. */
  async waitFor(name: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen(name);
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(pattern)} in tmux ${name}:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  /**
   * Ends one terminal: Ctrl-C to the sotto in it (it closes its profile), a moment to exit, then
   * the session is killed.
   */
  async close(name: string): Promise<void> {
    const has = spawnSync('/usr/bin/tmux', ['-L', this.#socket, 'has-session', '-t', name]);
    if (has.status !== 0) return;
    if (!/\[sotto exited \d+\]/.test(this.screen(name))) {
      this.keys(name, 'C-c');
      await this.waitFor(name, /\[sotto exited \d+\]/, 10_000).catch(() => undefined);
    }
    spawnSync('/usr/bin/tmux', ['-L', this.#socket, 'kill-session', '-t', name]);
  }

  kill(): void {
    spawnSync('/usr/bin/tmux', ['-L', this.#socket, 'kill-server']);
  }
}
