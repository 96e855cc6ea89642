/**
 * End-to-end: a second device linked through the provisioning-code route receives the
 * account's identity end-to-end encrypted, then sees every message — those a contact sends and
 * those the first device sends — while 100 messages go each way with delivery and read receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '@sotto/client';
import {
  newClient,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

describe('linked devices through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('links B2, exchanges 100 messages each way with receipts, and B2 sees both sides', async () => {
    const a = await registeredClient(relay);
    const b1 = await registeredClient(relay);
    const b1Events = record(b1.client);

    const b2 = await newClient(relay);
    const code = await b1.client.createLinkCode();
    const linked = await b2.linkDevice(code, { timeoutMs: 30_000 });
    expect(linked.accountId).toBe(b1.accountId);
    expect(linked.deviceId).toBe(2);
    expect(linked.number).toBe(b1.number);
    await until(
      () => b1Events.some((e) => e.type === 'device-linked' && e.deviceId === 2),
      20_000,
      'device-linked',
    );
    expect((await b2.devices()).map((d) => d.deviceId)).toEqual([1, 2]);
    const b2Events = record(b2);
    const aEvents = record(a.client);

    const N = 100;
    const fromA: string[] = [];
    const fromB: string[] = [];
    for (let i = 0; i < N; i++) {
      fromA.push((await a.client.send(b1.accountId, `a→b ${i}`)).id);
      fromB.push((await b1.client.send(a.accountId, `b→a ${i}`)).id);
    }
    const texts = (events: typeof aEvents) =>
      events
        .filter((e): e is { type: 'message'; message: StoredMessage } => e.type === 'message')
        .map((e) => e.message);

    await until(() => texts(aEvents).length >= N, 60_000, 'A to receive 100');
    await until(() => texts(b1Events).length >= N, 60_000, 'B1 to receive 100');
    await until(() => texts(b2Events).length >= 2 * N, 60_000, 'B2 to see 200');

    // A got B's 100 in B's order of ids, exactly once.
    expect(
      texts(aEvents)
        .map((m) => m.id)
        .sort(),
    ).toEqual([...fromB].sort());
    expect(new Set(texts(b1Events).map((m) => m.id))).toEqual(new Set(fromA));
    const b2Messages = texts(b2Events);
    expect(
      b2Messages
        .filter((m) => m.direction === 'incoming')
        .map((m) => m.id)
        .sort(),
    ).toEqual([...fromA].sort());
    const b2Outgoing = b2Messages.filter((m) => m.direction === 'outgoing');
    expect(b2Outgoing.map((m) => m.id).sort()).toEqual([...fromB].sort());
    expect(b2Outgoing.every((m) => m.conversation === a.accountId && m.authorDevice === 1)).toBe(
      true,
    );

    // Delivery receipts for every message both ways; then read receipts.
    const statusOf = async (client: typeof a.client, contact: string) =>
      (await client.messages(contact))
        .filter((m) => m.direction === 'outgoing')
        .map((m) => m.status);
    await until(
      async () => (await statusOf(a.client, b1.accountId)).every((s) => s === 'delivered'),
      60_000,
      'A delivered',
    );
    await until(
      async () => (await statusOf(b1.client, a.accountId)).every((s) => s === 'delivered'),
      60_000,
      'B delivered',
    );
    await b1.client.markRead(a.accountId, fromA);
    await a.client.markRead(b1.accountId, fromB);
    await until(
      async () => (await statusOf(a.client, b1.accountId)).every((s) => s === 'read'),
      60_000,
      'A read',
    );
    await until(
      async () => (await statusOf(b1.client, a.accountId)).every((s) => s === 'read'),
      60_000,
      'B read',
    );

    // Every conversation stored once per device, in order of sending.
    const b2Conversation = await b2.messages(a.accountId);
    expect(b2Conversation.length).toBe(2 * N);
    expect(new Set(b2Conversation.map((m) => `${m.author}/${m.id}`)).size).toBe(2 * N);
    // B2 learnt that B1 read A's messages.
    await until(
      async () =>
        (await b2.messages(a.accountId))
          .filter((m) => m.direction === 'incoming')
          .every((m) => m.status === 'read'),
      30_000,
      'B2 synced reads',
    );

    // B1 unlinks B2: B2 learns it is out; A's next message meets a 409 (extra device 2) and still
    // reaches B1, and nothing goes to B2 any more.
    const b2State = b2.waitFor('connection', (e) => e.state === 'deregistered', 20_000);
    await b1.client.removeDevice(2);
    await b2State;
    expect((await b1.client.devices()).map((d) => d.deviceId)).toEqual([1]);
    const before = texts(b1Events).length;
    const late = await a.client.send(b1.accountId, 'after unlinking');
    await until(() => texts(b1Events).length === before + 1, 30_000, 'B1 to receive after unlink');
    await until(
      async () =>
        (await a.client.messages(b1.accountId)).find((m) => m.id === late.id)?.status ===
        'delivered',
      30_000,
      'delivered after unlink',
    );
    // B1's own copy of its next message no longer targets the removed device.
    await b1.client.send(a.accountId, 'b1 alone');
    await b1.client.flush();
    expect(b1.client.pendingSends).toBe(0);

    for (const c of [a.client, b1.client, b2]) await c.close();
  }, 180_000);
});
