/**
 * End-to-end, through a real relay process: what `queue-empty` promises (the mailbox drained AND
 * every envelope before it stored and acknowledged), and how `connect()` ends — retrying what is
 * transient only as long as asked (`maxAttempts`, `timeoutMs`), stopping at once for what is
 * permanent (a refused credential, a relay that speaks another version).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeClientFrame } from '@sotto/api';
import { ClientError, type WebSocketFactory } from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import {
  newClient,
  newNumber,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('queue-empty and connect() through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('queue-empty comes after every queued envelope is stored and acknowledged', async () => {
    const a = await registeredClient(relay);
    const bStore = createMemoryClientStore();
    const b = await registeredClient(relay, { store: bStore });
    await b.client.close();
    const N = 40;
    for (let i = 0; i < N; i++) await a.client.send(b.accountId, `queued ${i}`);
    await a.client.flush();

    // B comes back; its socket records the GUIDs it acknowledges.
    const acked = new Set<string>();
    const factory: WebSocketFactory = (url, o) => {
      const ws = new WebSocket(url, { headers: { ...o.headers } });
      const send = ws.send.bind(ws);
      ws.send = ((data: Uint8Array, ...rest: never[]) => {
        const frame = decodeClientFrame(new Uint8Array(data));
        if (frame.type === 'ack') for (const g of frame.guids) acked.add(g);
        return send(data, ...rest);
      }) as typeof ws.send;
      return ws;
    };
    const b2 = await newClient(relay, { store: bStore, webSocketFactory: factory });
    const events = record(b2);
    let atQueueEmpty: { stored: number; shown: number; acked: number } | null = null;
    b2.on('queue-empty', () => {
      atQueueEmpty = {
        stored: -1,
        shown: events.filter((e) => e.type === 'message').length,
        acked: acked.size,
      };
      void b2.messages(a.accountId).then((m) => {
        if (atQueueEmpty !== null) atQueueEmpty.stored = m.length;
      });
    });
    await b2.connect();
    await until(() => atQueueEmpty !== null && atQueueEmpty.stored >= 0, 30_000, 'queue-empty');
    expect(atQueueEmpty).toEqual({ stored: N, shown: N, acked: N });
    expect(events.filter((e) => e.type === 'queue-empty')).toHaveLength(1);
    await b2.close();
    await a.client.close();
  }, 60_000);

  it('connect({ maxAttempts }) and connect({ timeoutMs }) give up on an unreachable relay', async () => {
    const store = createMemoryClientStore();
    const registered = await registeredClient(relay, { store });
    await registered.client.close();
    const url = `http://127.0.0.1:${await deadPort()}`;
    const elsewhere = { store, serverUrl: url }; // newClient's options do not name serverUrl
    const offline = await newClient(relay, elsewhere);
    const states = record(offline);
    const err = await offline.connect({ maxAttempts: 2 }).catch((e: unknown) => e);
    expect(ClientError.is(err, 'NETWORK')).toBe(true);
    expect(offline.connectionState).toBe('offline');
    expect(states.filter((e) => e.type === 'connection' && e.state === 'connecting')).toHaveLength(
      1,
    );

    const timed = await offline.connect({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(ClientError.is(timed, 'TIMEOUT')).toBe(true);
    expect(offline.connectionState).toBe('offline');
    await offline.close();
  }, 60_000);

  it('connect() stops at once when the relay refuses the credential', async () => {
    const number = newNumber();
    const store = createMemoryClientStore();
    const first = await registeredClient(relay, { store, number });
    await first.client.close();
    // The number is registered again elsewhere: the old device's credential is gone.
    await registeredClient(relay, { number });
    const stale = await newClient(relay, { store });
    const err = await stale.connect().catch((e: unknown) => e);
    expect(ClientError.is(err, 'DEREGISTERED')).toBe(true);
    expect(stale.connectionState).toBe('deregistered');
    await stale.close();
  }, 60_000);

  it('connect() stops at once when the relay speaks another version of the contract', async () => {
    const store = createMemoryClientStore();
    const registered = await registeredClient(relay, { store });
    await registered.client.close();
    // A relay of another version: no /v1 routes (404 NOT_FOUND from the registry), no socket.
    const other: Server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No such route.' } }));
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    const elsewhere = { store, serverUrl: `http://127.0.0.1:${port}` };
    const client = await newClient(relay, elsewhere);
    const err = await client.connect().catch((e: unknown) => e);
    expect(ClientError.is(err, 'SERVER_UNSUPPORTED')).toBe(true);
    expect(client.connectionState).toBe('unsupported');
    await client.close();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }, 60_000);
});
