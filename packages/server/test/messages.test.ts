// Messages over the WebSocket: durable mailbox, push, drain, acknowledgement, device-list errors,
// duplicates, limits, expiry, displacement and flow control.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVELOPE_TYPES } from '@sotto/api';
import { serverLimits, type MailboxAck, type SendRecord } from '../src/index.js';
import {
  connect,
  freshIp,
  isEnvelope,
  isQueueEmpty,
  linkDevice,
  register,
  startHarness,
  type Harness,
  type TestDevice,
  type TestSocket,
  type ErrorBody,
} from './support/harness.js';

const DAY = 24 * 60 * 60 * 1000;

describe('messages', () => {
  let h: Harness;
  let sockets: TestSocket[];
  beforeEach(async () => {
    h = await startHarness();
    sockets = [];
  });
  afterEach(async () => {
    for (const s of sockets) s.close();
    await h.close();
  });

  async function online(d: TestDevice): Promise<TestSocket> {
    const s = await connect(h, d);
    sockets.push(s);
    await s.next(isQueueEmpty);
    return s;
  }
  const to = (d: TestDevice, content: Uint8Array = randomBytes(64)) => ({
    deviceId: d.deviceId,
    registrationId: d.registrationId,
    content,
  });

  it('pushes to a connected device with GUID, server timestamp and source', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const b = await online(bob);
    const content = randomBytes(300);
    const result = await a.send(bob.accountId, [
      { ...to(bob, content), type: ENVELOPE_TYPES.prekeyMessage },
    ]);
    expect(result).toEqual({
      type: 'send-result',
      requestId: 1,
      serverTimestamp: h.clock.now(),
      duplicate: false,
    });
    const env = await b.next(isEnvelope);
    expect(Buffer.from(env.content).equals(content)).toBe(true);
    expect(env).toMatchObject({
      serverTimestamp: h.clock.now(),
      sourceAccountId: alice.accountId,
      sourceDeviceId: 1,
      envelopeType: ENVELOPE_TYPES.prekeyMessage,
    });
    expect(env.guid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('acknowledges the sender only after the envelope is stored', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const r = await a.send(bob.accountId, [to(bob)]);
    expect(r.type).toBe('send-result');
    // The instant the sender has its answer, the envelope is in the mailbox.
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(1);
  });

  it('drains a mailbox oldest first on connect, then signals QUEUE_EMPTY, and deletes on ack', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const contents = Array.from({ length: 5 }, () => randomBytes(32));
    for (const c of contents)
      expect((await a.send(bob.accountId, [to(bob, c)])).type).toBe('send-result');
    const b = await connect(h, bob);
    sockets.push(b);
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await b.next(isEnvelope));
    await b.next(isQueueEmpty);
    expect(got.map((e) => Buffer.from(e.content).toString('hex'))).toEqual(
      contents.map((c) => c.toString('hex')),
    );
    b.sendFrame({ type: 'ack', guids: got.map((e) => e.guid) });
    await waitFor(async () => (await h.storage.mailboxSize(bob.accountId, 1)) === 0);
  });

  it('redelivers unacknowledged envelopes on the next connection, never acknowledged ones', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    await a.send(bob.accountId, [to(bob)]);
    await a.send(bob.accountId, [to(bob)]);
    const b1 = await connect(h, bob);
    const first = await b1.next(isEnvelope);
    const second = await b1.next(isEnvelope);
    b1.sendFrame({ type: 'ack', guids: [first.guid] });
    await waitFor(async () => (await h.storage.mailboxSize(bob.accountId, 1)) === 1);
    b1.close();
    await b1.closed();
    const b2 = await connect(h, bob);
    sockets.push(b2);
    const again = await b2.next(isEnvelope);
    await b2.next(isQueueEmpty);
    expect(again.guid).toBe(second.guid);
    expect(b2.frames.filter(isEnvelope)).toHaveLength(0);
  });

  it('answers 409 with missing and extra devices, 410 with stale ones, and stores nothing', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const bob2 = await linkDevice(h, bob, 888);
    const a = await online(alice);
    const missing = await a.send(bob.accountId, [to(bob)]);
    expect(missing).toMatchObject({
      type: 'error',
      status: 409,
      code: 'MISMATCHED_DEVICES',
      details: { missingDevices: [2], extraDevices: [] },
    });
    const extra = await a.send(bob.accountId, [
      to(bob),
      to(bob2),
      { deviceId: 9, registrationId: 1, content: randomBytes(4) },
    ]);
    expect(extra).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      details: { missingDevices: [], extraDevices: [9] },
    });
    const stale = await a.send(bob.accountId, [to(bob), { ...to(bob2), registrationId: 887 }]);
    expect(stale).toMatchObject({
      type: 'error',
      status: 410,
      code: 'STALE_DEVICES',
      details: { staleDevices: [2] },
    });
    const unknown = await a.send(crypto.randomUUID(), [to(bob)]);
    expect(unknown).toMatchObject({ type: 'error', status: 404, code: 'ACCOUNT_NOT_FOUND' });
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(0);
    const ok = await a.send(bob.accountId, [to(bob), to(bob2)]);
    expect(ok.type).toBe('send-result');
    expect(await h.storage.mailboxSize(bob.accountId, 2)).toBe(1);
  });

  it('sends to one’s own other devices, never to the sending device', async () => {
    const alice = await register(h);
    const alice2 = await linkDevice(h, alice, 333);
    const a = await online(alice);
    const a2 = await online(alice2);
    const self = await a.send(alice.accountId, [to(alice), to(alice2)]);
    expect(self).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      details: { missingDevices: [], extraDevices: [1] },
    });
    const ok = await a.send(alice.accountId, [to(alice2)]);
    expect(ok.type).toBe('send-result');
    expect((await a2.next(isEnvelope)).sourceDeviceId).toBe(1);
  });

  it('stores a retried send once and tells the sender it was a duplicate', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const b = await online(bob);
    const id = randomBytes(16);
    const first = await a.send(bob.accountId, [to(bob)], id);
    h.clock.advance(5000);
    const second = await a.send(bob.accountId, [to(bob)], id);
    expect(first).toMatchObject({ type: 'send-result', duplicate: false });
    expect(second).toMatchObject({ type: 'send-result', duplicate: true });
    if (first.type === 'send-result' && second.type === 'send-result') {
      expect(second.serverTimestamp).toBe(first.serverTimestamp);
    }
    await b.next(isEnvelope);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.frames.filter(isEnvelope)).toHaveLength(0);
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(1);
  });

  it('refuses sends to a full mailbox', async () => {
    await h.close();
    h = await startHarness({ maxMailboxEnvelopes: 2 });
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    expect((await a.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect((await a.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    const full = await a.send(bob.accountId, [to(bob)]);
    expect(full).toMatchObject({ type: 'error', status: 507, code: 'MAILBOX_FULL' });
  });

  it('expires undelivered envelopes after the retention', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    await a.send(bob.accountId, [to(bob)]);
    h.clock.advance(29 * DAY);
    await a.send(bob.accountId, [to(bob)]);
    expect((await h.server.sweep()).envelopes).toBe(0);
    h.clock.advance(1 * DAY + 1);
    expect((await h.server.sweep()).envelopes).toBe(1);
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(1);
    h.clock.advance(29 * DAY);
    expect((await h.server.sweep()).envelopes).toBe(1);
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(0);
  });

  it('honours a configured retention', async () => {
    await h.close();
    h = await startHarness({ messageRetentionMs: DAY });
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    await a.send(bob.accountId, [to(bob)]);
    h.clock.advance(DAY - 1);
    expect((await h.server.sweep()).envelopes).toBe(0);
    h.clock.advance(2);
    expect((await h.server.sweep()).envelopes).toBe(1);
  });

  it('closes an older connection of the same device', async () => {
    const bob = await register(h);
    const first = await online(bob);
    const second = await online(bob);
    expect(await first.closed()).toBe(4409);
    expect(second.closeCode).toBeUndefined();
  });

  it('refuses the upgrade without a valid credential, and plain GETs', async () => {
    await expect(h.app.injectWS('/v1/websocket', { headers: {} })).rejects.toThrow(/401/);
    const plain = await h.app.inject({
      method: 'GET',
      url: '/v1/websocket',
      remoteAddress: freshIp(),
    });
    expect(plain.statusCode).toBe(401);
    const bob = await register(h);
    const plainAuthed = await h.app.inject({
      method: 'GET',
      url: '/v1/websocket',
      headers: { authorization: bob.authorization },
    });
    expect(plainAuthed.statusCode).toBe(400);
    expect(plainAuthed.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
  });

  it('keeps answering clients alive and drops silent ones (heartbeat)', async () => {
    await h.close();
    h = await startHarness({ heartbeatIntervalMs: 40 });
    const alive = await connect(h, await register(h));
    sockets.push(alive);
    // Injected test sockets do not answer pings by themselves (real ws clients do).
    alive.ws.on('ping', (data: Buffer) => alive.ws.pong(data));
    const silent = await connect(h, await register(h));
    sockets.push(silent);
    // A client that does not answer WebSocket pings is cut off after a missed round.
    expect(await silent.closed(2000)).toBe(1006);
    expect(alive.closeCode).toBeUndefined();
    expect(h.server.connections.size).toBe(1);
  });

  it('answers pings', async () => {
    const bob = await register(h);
    const b = await online(bob);
    b.sendFrame({ type: 'ping', requestId: 77 });
    expect(await b.next((f) => f.type === 'pong')).toEqual({ type: 'pong', requestId: 77 });
  });

  it('groups the sends of one event-loop turn into one transaction', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const batches: number[] = [];
    const original = h.storage.commitMailboxBatch.bind(h.storage);
    h.storage.commitMailboxBatch = (
      sends: readonly SendRecord[],
      acks: readonly MailboxAck[],
      max: number,
    ) => {
      if (sends.length > 0) batches.push(sends.length);
      return original(sends, acks, max);
    };
    const ids = Array.from({ length: 50 }, () => a.requestId());
    for (const requestId of ids) {
      a.sendFrame({
        type: 'send',
        requestId,
        clientMessageId: randomBytes(16),
        recipient: bob.accountId,
        envelopes: [{ ...to(bob), type: 1 }],
      });
    }
    for (const requestId of ids)
      await a.next((f) => f.type === 'send-result' && f.requestId === requestId);
    expect(batches.reduce((x, y) => x + y, 0)).toBe(50);
    expect(batches.length).toBeLessThan(10);
    expect(Math.max(...batches)).toBeGreaterThan(5);
  });

  it('keeps at most 1000 envelopes outstanding and sends the rest after acknowledgements', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const a = await online(alice);
    const total = 1100;
    // Two halves, with time passing in between: the per-account send rate refuses more than
    // MESSAGE_SENDS_PER_ACCOUNT.burst sends at one instant.
    for (const n of [total / 2, total / 2]) {
      h.clock.advance(n * serverLimits.MESSAGE_SENDS_PER_ACCOUNT.intervalMs);
      const answers = await Promise.all(
        Array.from({ length: n }, () => a.send(bob.accountId, [to(bob, randomBytes(8))])),
      );
      expect(answers.every((r) => r.type === 'send-result')).toBe(true);
    }
    const b = await connect(h, bob);
    sockets.push(b);
    const first: string[] = [];
    for (let i = 0; i < 1000; i++) first.push((await b.next(isEnvelope)).guid);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames.filter(isEnvelope)).toHaveLength(0);
    expect(b.frames.filter(isQueueEmpty)).toHaveLength(0);
    b.sendFrame({ type: 'ack', guids: first.slice(0, 600) });
    const rest: string[] = [];
    for (let i = 0; i < 100; i++) rest.push((await b.next(isEnvelope)).guid);
    await b.next(isQueueEmpty);
    expect(new Set([...first, ...rest]).size).toBe(total);
  });
});

describe('per-account send rate limit', () => {
  let h: Harness;
  let sockets: TestSocket[];
  afterEach(async () => {
    for (const s of sockets) s.close();
    await h.close();
  });
  const to = (d: TestDevice) => ({
    deviceId: d.deviceId,
    registrationId: d.registrationId,
    content: randomBytes(16),
  });
  async function online(d: TestDevice): Promise<TestSocket> {
    const s = await connect(h, d);
    sockets.push(s);
    await s.next(isQueueEmpty);
    return s;
  }

  it('allows the documented burst, then refuses with retryAfterMs and stores nothing', async () => {
    h = await startHarness();
    sockets = [];
    const { burst, intervalMs } = serverLimits.MESSAGE_SENDS_PER_ACCOUNT;
    const alice = await register(h);
    const bob = await register(h);
    const carol = await register(h);
    const a = await online(alice);
    // The clock stands still: exactly `burst` sends fit.
    const answers = await Promise.all(
      Array.from({ length: burst }, () => a.send(bob.accountId, [to(bob)])),
    );
    expect(answers.every((r) => r.type === 'send-result')).toBe(true);
    const refused = await a.send(bob.accountId, [to(bob)]);
    expect(refused).toMatchObject({
      type: 'error',
      status: 429,
      code: 'RATE_LIMITED',
      details: { retryAfterMs: intervalMs },
    });
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(burst);
    // Per account: another account sends freely, and the same one again once time passed.
    const c = await online(carol);
    expect((await c.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    h.clock.advance(intervalMs);
    expect((await a.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect((await a.send(bob.accountId, [to(bob)])).type).toBe('error');
  });

  it('counts every device of an account together and recovers at the configured rate', async () => {
    h = await startHarness({ messageSendsPerAccount: { burst: 3, intervalMs: 1000 } });
    sockets = [];
    const alice = await register(h);
    const alice2 = await linkDevice(h, alice);
    const bob = await register(h);
    const a1 = await online(alice);
    const a2 = await online(alice2);
    expect((await a1.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect((await a2.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect((await a1.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect(await a2.send(bob.accountId, [to(bob)])).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterMs: 1000 },
    });
    h.clock.advance(400);
    expect(await a1.send(bob.accountId, [to(bob)])).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterMs: 600 },
    });
    h.clock.advance(600);
    expect((await a1.send(bob.accountId, [to(bob)])).type).toBe('send-result');
    expect(await h.storage.mailboxSize(bob.accountId, 1)).toBe(4);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
