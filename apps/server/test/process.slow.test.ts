// The relay as a real process: readiness line, registration through the development SMS sink, a
// message over a real WebSocket, SIGTERM shutdown with exit 0, and refusal of plain HTTP off
// loopback with exit 1.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  decodeServerFrame,
  encodeClientFrame,
  formatAuthorization,
  fromBase64Url,
  toBase64,
  type ServerFrame,
} from '@sotto/api';
import { spawnRelay } from '../src/testing/index.js';

async function registerOverHttp(
  url: string,
  number: string,
  codeFor: (n: string) => Promise<string>,
) {
  const sent = await fetch(`${url}/v1/verification/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ number }),
  });
  expect(sent.status).toBe(202);
  const key = randomBytes(33);
  key[0] = 5;
  const res = await fetch(`${url}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      number,
      code: await codeFor(number),
      registrationId: 11,
      identityKey: toBase64(key),
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { accountId: string; credential: string };
  return {
    accountId: body.accountId,
    authorization: formatAuthorization({
      accountId: body.accountId,
      deviceId: 1,
      credential: fromBase64Url(body.credential),
    }),
  };
}

function open(
  url: string,
  authorization: string,
): Promise<{ ws: WebSocket; frames: ServerFrame[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/websocket`, {
      headers: { authorization },
    });
    const frames: ServerFrame[] = [];
    ws.on('message', (d: Buffer) => frames.push(decodeServerFrame(new Uint8Array(d))));
    ws.on('open', () => resolve({ ws, frames }));
    ws.on('error', reject);
  });
}

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('relay process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sotto-proc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, relays a message, and stops cleanly on SIGTERM', async () => {
    const relay = await spawnRelay({ SOTTO_DATA_DIR: dir, SOTTO_SMS: 'console' });
    try {
      expect(relay.url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
      const alice = await registerOverHttp(relay.url, '+14155550101', (n) => relay.codeFor(n));
      const bob = await registerOverHttp(relay.url, '+14155550102', (n) => relay.codeFor(n));
      const a = await open(relay.url, alice.authorization);
      const b = await open(relay.url, bob.authorization);
      await until(() => b.frames.find((f) => f.type === 'queue-empty'));
      const content = randomBytes(50);
      a.ws.send(
        encodeClientFrame({
          type: 'send',
          requestId: 1,
          clientMessageId: randomBytes(16),
          recipient: bob.accountId,
          envelopes: [{ deviceId: 1, registrationId: 11, type: 1, content }],
        }),
      );
      await until(() => a.frames.find((f) => f.type === 'send-result'));
      const env = await until(() => b.frames.find((f) => f.type === 'envelope'));
      expect(env.type === 'envelope' && Buffer.from(env.content).equals(content)).toBe(true);
      const closed = new Promise((r) => b.ws.on('close', r));
      relay.child.kill('SIGTERM');
      expect(await relay.exited).toBe(0);
      await closed;
      a.ws.terminate();
      const logs = relay.lines.filter((l) => l.startsWith('{')).join('\n');
      expect(logs).toContain('sotto relay stopped');
      expect(logs).not.toContain('+14155550101');
    } finally {
      relay.child.kill('SIGKILL');
    }
  });

  it('refuses plain HTTP off loopback with exit status 1 and a reason', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=sotto-source', '--import', 'tsx', main], {
      env: { ...process.env, SOTTO_HOST: '0.0.0.0', SOTTO_DATA_DIR: dir },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^sotto: refusing to serve plain HTTP on 0\.0\.0\.0/);
  });
});
