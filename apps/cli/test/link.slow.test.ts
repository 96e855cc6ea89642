/**
 * Linking a second device through the real `sotto` executable and a real relay process: `sotto
 * link` on a new profile prints a link URI and its QR code and waits; `sotto devices add <uri>` on
 * the primary approves it; the new profile then belongs to the account as device 2 and can send.
 * A used URI, a malformed one and a second link on a registered profile are refused in one line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ARGS, REPO_ROOT } from './support/cli-process.js';
import { expectOneLineFailure, startWorld, type World } from './support/profiles.js';

const ALICE = '+14155550401';
const BOB = '+14155550402';

let world: World;
beforeAll(async () => {
  world = await startWorld();
}, 60_000);
afterAll(async () => {
  await world.stop();
});

/** Starts `sotto <args>` and lets the test read its output while it runs. */
function startSotto(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = stdout.match(pattern);
        if (m !== null) return m;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`no ${String(pattern)}; stdout: ${stdout}; stderr: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

describe('sotto link', () => {
  it('links a new profile as device 2, shown as URI and QR code, approved on the primary', async () => {
    await world.register('alice', ALICE);
    await world.register('bob', BOB);

    const linking = startSotto(
      ['--profile', world.profile('laptop'), '--server', world.relay.url, 'link'],
      world.env,
    );
    try {
      const [, uri] = await linking.waitFor(/sotto devices add '(sotto:\/\/link\?[^']+)'/);
      await linking.waitFor(/Waiting for the primary to approve/);
      const { stdout } = linking.output();
      expect(stdout).toMatch(/[▀▄█]{10}/); // the QR code, drawn with block characters
      expect(uri).toMatch(/^sotto:\/\/link\?uuid=[A-Za-z0-9_-]{22}&pub_key=[A-Za-z0-9%]+$/);

      const approved = await world.sotto('alice', ['devices', 'add', uri!]);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toBe('Linked device 2 ✓\n');

      expect(await linking.exited).toBe(0);
      expect(linking.output().stdout).toContain(
        `Linked to ${ALICE} on ${world.relay.url} as device 2.`,
      );

      // The URI is used up.
      expectOneLineFailure(
        await world.sotto('alice', ['devices', 'add', uri!]),
        1,
        /no longer waiting/,
      );
    } finally {
      linking.child.kill('SIGKILL');
    }

    // The new profile is a device of Alice's account and can send as Alice.
    const listed = await world.sotto('laptop', ['devices']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^1 +primary/m);
    expect(listed.stdout).toMatch(/^2 \(this one\) +linked/m);
    const sent = await world.sotto('laptop', ['send', BOB, 'sent from the laptop']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe(`Sent to ${BOB} ✓\n`);
  }, 120_000);

  it('refuses a malformed URI, a second link on a registered profile, and a non-primary', async () => {
    expectOneLineFailure(
      await world.sotto('alice', ['devices', 'add', 'https://example.org/x']),
      2,
      /not a Sotto link URI/,
    );
    expectOneLineFailure(await world.sotto('alice', ['link', '--no-qr']), 1, /already holds/);
    // The linked device cannot approve links.
    const uri = `sotto://link?uuid=${'A'.repeat(22)}&pub_key=${encodeURIComponent(
      Buffer.concat([Buffer.of(5), Buffer.alloc(32, 9)]).toString('base64'),
    )}`;
    expectOneLineFailure(await world.sotto('laptop', ['devices', 'add', uri]), 1, /primary/);
  }, 60_000);

  it('an unreachable relay: one line, exit 4, and no profile left behind', async () => {
    const result = await world.sotto('tablet', ['--server', 'http://127.0.0.1:9', 'link']);
    expectOneLineFailure(result, 4, /server unreachable at http:\/\/127\.0\.0\.1:9/);
    expect(existsSync(join(world.profile('tablet'), 'store.sqlite'))).toBe(false);
  }, 60_000);
});
