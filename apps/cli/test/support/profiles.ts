// Shared set-up of the CLI process tests: a relay process, temporary profiles, registration
// through the real binary with the code the relay's development SMS sender printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { spawnRelay, type RelayProcess } from '@sotto/server-app/testing';
import { runSotto, type SottoResult } from './cli-process.js';

export const PASSPHRASE = 'correct horse battery staple';

export interface World {
  readonly relay: RelayProcess;
  readonly dir: string;
  /** Environment for every sotto run: a private HOME and the passphrase. */
  readonly env: Record<string, string>;
  profile(name: string): string;
  /** `sotto --profile <dir of name> <args>` */
  sotto(name: string, args: readonly string[], env?: Record<string, string>): Promise<SottoResult>;
  register(name: string, number: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-'));
  const relay = await spawnRelay({ SOTTO_SMS: 'console', SOTTO_DATA_DIR: join(dir, 'relay') });
  const env = { HOME: join(dir, 'home'), SOTTO_PASSPHRASE: PASSPHRASE };
  const profile = (name: string): string => join(dir, name);
  const sotto = (name: string, args: readonly string[], extra: Record<string, string> = {}) =>
    runSotto(['--profile', profile(name), ...args], { env: { ...env, ...extra } });
  return {
    relay,
    dir,
    env,
    profile,
    sotto,
    async register(name, number) {
      const result = await runSotto(
        ['--profile', profile(name), '--server', relay.url, 'register', number],
        { env, answers: [{ waitFor: /Verification code: $/, text: () => relay.codeFor(number) }] },
      );
      expect(result.stderr).toContain(`A verification code was sent to ${number}`);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Registered ${number} on ${relay.url}`);
    },
    async stop() {
      if (relay.child.exitCode === null) relay.child.kill('SIGTERM');
      await relay.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A failure as the CLI must report it: one line on stderr, "sotto: …", no stack trace. */
export function expectOneLineFailure(result: SottoResult, exitCode: number, pattern: RegExp): void {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(exitCode);
  const lines = result.stderr
    .split('\n')
    .filter((l) => l.length > 0 && !/^(Passphrase|Verification code|A verification code)/.test(l));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sotto: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}
