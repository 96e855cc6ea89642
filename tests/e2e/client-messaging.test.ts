/**
 * End-to-end: two SDK clients through a real relay process exchange messages both ways with
 * delivery and read receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '@sotto/client';
import { record, registeredClient, startRelay, until, type Relay } from './client-support.js';

describe('client messaging through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('A and B exchange messages with delivery and read receipts', async () => {
    const a = await registeredClient(relay);
    const b = await registeredClient(relay);
    const aEvents = record(a.client);
    const bEvents = record(b.client);
    const bId = await a.client.lookup(b.number);
    expect(bId).toBe(b.accountId);

    const sent = await a.client.send(b.accountId, 'hello B');
    await until(() => bEvents.some((e) => e.type === 'message'), 20_000, 'B to receive');
    const got = bEvents.find((e) => e.type === 'message') as { message: StoredMessage };
    expect(got.message.body).toBe('hello B');
    expect(got.message.author).toBe(a.accountId);
    expect(got.message.id).toBe(sent.id);

    await until(
      () => aEvents.some((e) => e.type === 'message-status' && e.status === 'delivered'),
      20_000,
      'delivery receipt',
    );
    await b.client.markRead(a.accountId, [sent.id]);
    await until(
      () => aEvents.some((e) => e.type === 'message-status' && e.status === 'read'),
      20_000,
      'read receipt',
    );
    const stored = await a.client.messages(b.accountId);
    expect(stored.map((m) => [m.body, m.status])).toEqual([['hello B', 'read']]);

    await b.client.send(a.accountId, 'hi A');
    await until(() => aEvents.some((e) => e.type === 'message'), 20_000, 'A to receive');
    await a.client.close();
    await b.client.close();
  });
});
