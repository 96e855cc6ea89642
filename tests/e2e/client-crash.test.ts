/**
 * End-to-end crash safety with a real relay: a receiver killed before it acknowledged, and a
 * sender killed before it learnt that its sends were accepted, both restarted from their stores.
 * Every message is stored exactly once and nothing is lost. (The "process" is killed in-process:
 * its sockets are cut and its store refuses every further write, rolling back what was in
 * flight; client-crash.slow.test.ts does the same with a real child process and SIGKILL.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent } from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import {
  FRAME,
  faultyNetwork,
  KillableStore,
  newClient,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

const ids = (events: ClientEvent[]) =>
  events
    .filter((e): e is Extract<ClientEvent, { type: 'message' }> => e.type === 'message')
    .map((e) => e.message.id);

describe('crash safety through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('a receiver killed before acknowledging gets every message exactly once after restart', async () => {
    const a = await registeredClient(relay);
    const memory = createMemoryClientStore();
    const store = new KillableStore(memory);
    const net = faultyNetwork();
    const b = await registeredClient(relay, { store, webSocketFactory: net.factory });
    const bEvents = record(b.client);
    // B stores and reports messages but its acknowledgements never reach the relay.
    net.dropOutgoing.add(FRAME.ack);

    const N = 60;
    const sent: string[] = [];
    for (let i = 0; i < N; i++) sent.push((await a.client.send(b.accountId, `m${i}`)).id);
    await until(() => ids(bEvents).length >= 20, 30_000, 'B to store some');
    net.kill();
    store.kill();
    const beforeCrash = ids(bEvents);

    const b2 = await newClient(relay, { store: memory });
    const b2Events = record(b2);
    await b2.connect();
    await until(
      async () => (await b2.messages(a.accountId)).length === N,
      30_000,
      'all messages stored',
    );
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would show up now
    const afterRestart = ids(b2Events);
    // Each message was reported once, by one of the two lives of B.
    expect([...beforeCrash, ...afterRestart].sort()).toEqual([...sent].sort());
    const stored = await b2.messages(a.accountId);
    expect(stored.map((m) => m.id).sort()).toEqual([...sent].sort());
    expect(stored.map((m) => m.body)).toEqual(sent.map((_, i) => `m${i}`));
    // Receipts staged before the crash are sent after it: A learns that all were delivered.
    await until(
      async () => (await a.client.messages(b.accountId)).every((m) => m.status === 'delivered'),
      30_000,
      'all delivered',
    );
    await a.client.close();
    await b2.close();
  }, 90_000);

  it('a sender killed before its sends were confirmed re-sends them; the relay stores them once', async () => {
    const memory = createMemoryClientStore();
    const store = new KillableStore(memory);
    const net = faultyNetwork();
    const a = await registeredClient(relay, { store, webSocketFactory: net.factory });
    const b = await registeredClient(relay);
    const bEvents = record(b.client);
    await a.client.send(b.accountId, 'hello'); // establishes the session first
    await until(() => ids(bEvents).length === 1, 20_000, 'first message');
    await a.client.flush();

    net.dropIncoming.add(FRAME.sendResult); // the relay stores, but A never hears so
    const N = 20;
    const sent: string[] = [];
    for (let i = 0; i < N; i++) sent.push((await a.client.send(b.accountId, `s${i}`)).id);
    // Some sends reached the relay (and B); A heard of none of them.
    await until(() => ids(bEvents).length >= 2, 30_000, 'B to receive some');
    expect(a.client.pendingSends).toBe(N);
    net.kill();
    store.kill();

    const a2 = await newClient(relay, { store: memory });
    expect(a2.pendingSends).toBeGreaterThan(0);
    await a2.connect();
    await a2.flush();
    expect(a2.pendingSends).toBe(0);
    await until(() => ids(bEvents).length >= N + 1, 30_000, 'B to receive the rest');
    await new Promise((r) => setTimeout(r, 1000)); // any duplicate would show up now
    expect(ids(bEvents).sort()).toEqual([ids(bEvents)[0]!, ...sent].sort());
    const stored = await b.client.messages(a.accountId);
    expect(stored.map((m) => m.body)).toEqual(['hello', ...sent.map((_, i) => `s${i}`)]);
    await until(
      async () => (await a2.messages(b.accountId)).every((m) => m.status === 'delivered'),
      30_000,
      'statuses after restart',
    );
    await a2.close();
    await b.client.close();
  }, 90_000);
});
