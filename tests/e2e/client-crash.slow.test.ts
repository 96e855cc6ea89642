/**
 * End-to-end crash safety with real processes: the receiver runs as a child process over a
 * file-backed store and is killed with SIGKILL three times while a sender streams messages — the
 * first life never acknowledges anything — then restarted from its store. Every message is
 * stored exactly once and reported at most once across all lives; the sender learns that all
 * were delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileLogStore } from './client-file-store.js';
import {
  newClient,
  newNumber,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

const CHILD = fileURLToPath(new URL('./client-crash-child.ts', import.meta.url));

interface Life {
  readonly child: ChildProcess;
  readonly reported: string[];
  readonly ready: Promise<void>;
  readonly exited: Promise<unknown>;
}

function startLife(url: string, storePath: string, dropAcks: boolean): Life {
  const child = spawn(process.execPath, ['--conditions=sotto-source', '--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      SERVER_URL: url,
      STORE_PATH: storePath,
      DROP_ACKS: dropAcks ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reported: string[] = [];
  let partial = '';
  let stderr = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line === 'READY') readyResolve();
      else if (line.startsWith('MSG ')) reported.push(line.slice(4));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  void exited.then(() => {
    if (stderr.length > 0 && child.signalCode !== 'SIGKILL') console.error(stderr);
  });
  return { child, reported, ready, exited };
}

describe('receiver SIGKILLed and restarted (real processes)', () => {
  let relay: Relay;
  let dir: string;
  beforeAll(async () => {
    relay = await startRelay();
    dir = mkdtempSync(join(tmpdir(), 'sotto-client-crash-'));
  });
  afterAll(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every message exactly once across three kills', async () => {
    const storePath = join(dir, 'b.log');
    // B registers in this process over the file store, then its "app" moves to a child process.
    const number = newNumber();
    const setupStore = await openFileLogStore(storePath);
    const setup = await newClient(relay, { store: setupStore });
    await setup.requestCode(number);
    const b = await setup.register({ number, code: await relay.process.codeFor(number) });
    await setup.close();
    await setupStore.close();

    const a = await registeredClient(relay);
    const N = 150;
    const sent: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        sent.push((await a.client.send(b.accountId, `m${i}`)).id);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const lives: Life[] = [];
    for (let kill = 0; kill < 3; kill++) {
      const life = startLife(relay.url, storePath, kill === 0);
      lives.push(life);
      await life.ready;
      const target = kill === 0 ? 20 : 5 + Math.floor(Math.random() * 20);
      await until(
        () => life.reported.length >= target || sent.length === N,
        60_000,
        `life ${kill} to receive`,
      );
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 50)));
      life.child.kill('SIGKILL');
      await life.exited;
    }
    await sending;
    const last = startLife(relay.url, storePath, false);
    lives.push(last);
    await last.ready;

    const expected = sent.map((id) => `${a.accountId}/${id}`);
    const allReported = () => lives.flatMap((l) => l.reported);
    await until(() => new Set(allReported()).size === N, 90_000, 'every message reported');
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate would show up now
    last.child.kill('SIGKILL');
    await last.exited;

    // Reported at most once across all lives, and every message was reported.
    expect(allReported().length).toBe(N);
    expect([...allReported()].sort()).toEqual([...expected].sort());
    // The first life acknowledged nothing, yet nothing it stored came back as a second event.
    expect(lives[0]!.reported.length).toBeGreaterThanOrEqual(20);
    // Stored exactly once, in order.
    const finalStore = await openFileLogStore(storePath);
    const reader = await newClient(relay, { store: finalStore });
    const stored = await reader.messages(a.accountId);
    expect(stored.map((m) => m.body)).toEqual(sent.map((_, i) => `m${i}`));
    await finalStore.close();
    // The receipts B staged survive the kills too: A learns that all were delivered.
    await until(
      async () => (await a.client.messages(b.accountId)).every((m) => m.status === 'delivered'),
      60_000,
      'all delivered',
    );
    await a.client.close();
  }, 240_000);
});
