/**
 * End-to-end: a second device linked with Signal's device provisioning (provisioning socket, link
 * URI, ProvisioningCipher) receives the account's identity end-to-end encrypted — the relay never
 * holds or forwards the identity private key in any readable form — then sees every message,
 * those a contact sends and those the first device sends, while 100 messages go each way with
 * delivery and read receipts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toBase64 } from '@sotto/api';
import {
  formatLinkUri,
  parseLinkUri,
  type FetchLike,
  type StoredMessage,
  type WebSocketFactory,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import { IdentityKeyPair } from '@sotto/protocol';
import {
  newClient,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

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
    // B1 records every request body it sends to the relay; B2 every byte the relay pushes to it.
    const sentToRelay: string[] = [];
    const recordingFetch: FetchLike = (url, init) => {
      if (init.body !== undefined) sentToRelay.push(init.body);
      return globalThis.fetch(url, init);
    };
    const b1Store = createMemoryClientStore();
    const b1 = await registeredClient(relay, { fetch: recordingFetch, store: b1Store });
    const b1Events = record(b1.client);
    const forwarded: Buffer[] = [];
    const recordingSockets: WebSocketFactory = (url, o) => {
      const ws = new WebSocket(url, { headers: { ...o.headers } });
      ws.on('message', (data: Buffer) => forwarded.push(Buffer.from(data)));
      return ws;
    };

    const b2 = await newClient(relay, { webSocketFactory: recordingSockets });
    const pending = await b2.beginLink({ timeoutMs: 30_000 });
    expect(pending.uri).toMatch(/^sotto:\/\/link\?uuid=[A-Za-z0-9_-]{22}&pub_key=/);
    const approved = await b1.client.approveLink(pending.uri, { timeoutMs: 30_000 });
    const linked = await pending.done;
    expect(approved.deviceId).toBe(2);
    expect(linked.accountId).toBe(b1.accountId);
    expect(linked.deviceId).toBe(2);
    expect(linked.number).toBe(b1.number);
    expect(linked.primary).toBe(false);
    expect(b1Events.some((e) => e.type === 'device-linked' && e.deviceId === 2)).toBe(true);
    await b2.connect();
    expect((await b2.devices()).map((d) => d.deviceId)).toEqual([1, 2]);
    // The link URI is used up: approving it again finds nobody waiting.
    await expect(b1.client.approveLink(pending.uri)).rejects.toMatchObject({
      code: 'LINK_FAILED',
    });

    // The relay never saw the identity private key: not in what B1 sent it, not in what it pushed
    // to B2, not in anything it stored (raw bytes, hex, base64).
    const privateKey = Buffer.from(
      IdentityKeyPair.deserialize(
        (await b1Store.get('account', 'identity')) ?? new Uint8Array(),
      ).privateKey.serialize(),
    );
    const needles = [
      privateKey.toString('hex'),
      toBase64(privateKey),
      privateKey.toString('base64url'),
    ];
    const haystacks = [
      sentToRelay.join('\n'),
      Buffer.concat(forwarded).toString('latin1'),
      Buffer.concat(forwarded).toString('hex'),
    ];
    for (const file of filesUnder(relay.dataDir)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(privateKey), file).toBe(false);
      haystacks.push(bytes.toString('latin1'));
    }
    expect(Buffer.concat(forwarded).includes(privateKey)).toBe(false);
    for (const h of haystacks) for (const n of needles) expect(h.includes(n)).toBe(false);
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

  it('a new device refuses an envelope sealed to another key; links time out and cancel', async () => {
    const phone = await registeredClient(relay);
    const laptop = await newClient(relay);
    const pending = await laptop.beginLink({ timeoutMs: 30_000 });
    // Someone who learnt the address but not the new device's key (the relay, say) can only seal
    // to a key of their own choosing: the new device refuses that envelope.
    const { address } = parseLinkUri(pending.uri);
    const otherKey = new Uint8Array(33).fill(9);
    otherKey[0] = 5;
    const forged = formatLinkUri({ address, publicKey: otherKey });
    await expect(phone.client.approveLink(forged, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    await expect(pending.done).rejects.toMatchObject({ code: 'LINK_FAILED' });
    expect(laptop.account).toBeNull();
    expect((await phone.client.devices()).map((d) => d.deviceId)).toEqual([1]);

    const expiring = await laptop.beginLink({ timeoutMs: 200 });
    await expect(expiring.done).rejects.toMatchObject({ code: 'TIMEOUT' });
    const cancelled = await laptop.beginLink();
    await cancelled.cancel();
    await expect(cancelled.done).rejects.toMatchObject({ code: 'CLOSED' });
    // A cancelled link's URI finds nobody waiting.
    await expect(phone.client.approveLink(cancelled.uri)).rejects.toMatchObject({
      code: 'LINK_FAILED',
    });
    const closing = await laptop.beginLink();
    await laptop.close();
    await expect(closing.done).rejects.toMatchObject({ code: 'CLOSED' });
    await phone.client.close();
  }, 60_000);
});
