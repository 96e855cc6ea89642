/**
 * The client facade without a relay (fake fetch and WebSocket): argument checks, what it prints,
 * the event hub, and the registration-lock token sent when a locked number re-registers from a
 * store that holds the master key.
 */
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '@sotto/api';
import { ClientError, createClient, type FetchLike, type WebSocketLike } from '../src/index.js';
import { createMemoryClientStore } from '../src/testing/index.js';
import { EventHub } from '../src/events.js';
import { NS } from '../src/state/namespaces.js';

const ACCOUNT = '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d';
const noSocket = (): WebSocketLike => {
  throw new Error('no sockets in this test');
};

interface Call {
  readonly url: string;
  readonly method: string;
  readonly body: Record<string, unknown> | undefined;
}

/** A scripted relay: answers by route; records every call. */
function scriptedFetch(answer: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    const call: Call = {
      url,
      method: init.method,
      body:
        init.body === undefined ? undefined : (JSON.parse(init.body) as Record<string, unknown>),
    };
    calls.push(call);
    const a = answer(call);
    return Promise.resolve({
      status: a.status,
      text: () => Promise.resolve(a.body === undefined ? '' : JSON.stringify(a.body)),
    });
  };
  return { fetch, calls };
}

describe('createClient', () => {
  it('checks its options', async () => {
    const store = createMemoryClientStore();
    await expect(
      createClient({ serverUrl: 'ftp://x', store, webSocketFactory: noSocket }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      createClient({ serverUrl: 'http://x', store, webSocketFactory: undefined as never }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('validates arguments before touching the network', async () => {
    const f = scriptedFetch(() => ({ status: 500 }));
    const client = await createClient({
      serverUrl: 'http://relay.test',
      store: createMemoryClientStore(),
      webSocketFactory: noSocket,
      fetch: f.fetch,
    });
    expect(client.account).toBeNull();
    await expect(client.requestCode('0155')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.register({ number: '+14155550100', code: '12345' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      client.register({ number: '+14155550100', code: '123456', pin: '1' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.send(ACCOUNT, 'hi')).rejects.toMatchObject({ code: 'NOT_REGISTERED' });
    await expect(client.approveLink('garbage')).rejects.toMatchObject({
      code: 'NOT_REGISTERED',
    });
    await expect(client.setPin('1234')).rejects.toMatchObject({ code: 'NOT_REGISTERED' });
    expect(f.calls).toEqual([]);
  });

  it('sends the lock token derived from the stored master key when the number is locked', async () => {
    const store = createMemoryClientStore();
    const masterKey = new Uint8Array(32).map((_, i) => 255 - i);
    await store.put(NS.account, 'master-key', masterKey);
    await store.put(NS.account, 'registration-lock', new TextEncoder().encode('{"enabled":true}'));
    const expectedToken = createHmac('sha256', masterKey)
      .update('Registration Lock')
      .digest('base64');
    const f = scriptedFetch((call) => {
      if (call.url.endsWith('/v1/accounts')) {
        if (call.body?.registrationLockToken !== expectedToken) {
          return {
            status: 423,
            body: {
              error: {
                code: 'REGISTRATION_LOCK_MISMATCH',
                message: 'x',
                details: { timeRemainingMs: 5 },
              },
            },
          };
        }
        return {
          status: 200,
          body: {
            accountId: ACCOUNT,
            deviceId: 1,
            credential: toBase64Url(new Uint8Array(32).fill(9)),
            reregistered: true,
          },
        };
      }
      if (call.url.endsWith('/v1/keys')) return { status: 204 };
      if (call.url.endsWith('/v1/accounts/me/registration-lock')) return { status: 204 };
      return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'x' } } };
    });
    const client = await createClient({
      serverUrl: 'http://relay.test',
      store,
      webSocketFactory: noSocket,
      fetch: f.fetch,
      preKeyBatchSize: 2,
    });
    const info = await client.register({ number: '+14155550100', code: '123456' });
    expect(info).toMatchObject({
      accountId: ACCOUNT,
      deviceId: 1,
      primary: true,
      status: 'registered',
    });
    const registerCalls = f.calls.filter((c) => c.url.endsWith('/v1/accounts'));
    expect(registerCalls).toHaveLength(1);
    expect(registerCalls[0]!.body!.registrationLockToken).toBe(expectedToken);
    // Keys went up (2 of each one-time kind here), and the lock was set again with the same token.
    const upload = f.calls.find((c) => c.url.endsWith('/v1/keys'))!.body!;
    expect((upload.preKeys as unknown[]).length).toBe(2);
    expect((upload.kyberPreKeys as unknown[]).length).toBe(2);
    expect(upload.signedPreKey).toBeDefined();
    expect(upload.lastResortKyberPreKey).toBeDefined();
    const relock = f.calls.find((c) => c.url.endsWith('/registration-lock'))!;
    expect(relock).toMatchObject({ method: 'PUT', body: { token: expectedToken } });

    // What the client prints never includes the credential or keys.
    const printed = `${inspect(client, { depth: 10, showHidden: true })} ${JSON.stringify(client)}`;
    expect(printed).toContain(ACCOUNT);
    expect(printed).not.toContain(toBase64Url(new Uint8Array(32).fill(9)));
    await expect(client.register({ number: '+14155550100', code: '123456' })).rejects.toMatchObject(
      { code: 'ALREADY_REGISTERED' },
    );
  });

  it('reports REGISTRATION_LOCKED with the remaining time when it cannot prove the lock', async () => {
    const f = scriptedFetch(() => ({
      status: 423,
      body: {
        error: {
          code: 'REGISTRATION_LOCKED',
          message: 'x',
          details: { timeRemainingMs: 604_000_000 },
        },
      },
    }));
    const client = await createClient({
      serverUrl: 'http://relay.test',
      store: createMemoryClientStore(),
      webSocketFactory: noSocket,
      fetch: f.fetch,
    });
    const err = await client
      .register({ number: '+14155550100', code: '123456' })
      .catch((e: unknown) => e);
    expect(ClientError.is(err, 'REGISTRATION_LOCKED')).toBe(true);
    expect((err as ClientError).details).toEqual({ timeRemainingMs: 604_000_000 });
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.body!.registrationLockToken).toBeUndefined();
  });
});

describe('EventHub', () => {
  it('delivers typed events, survives throwing listeners, and reports them', () => {
    const hub = new EventHub();
    const seen: string[] = [];
    hub.on('queue-empty', () => {
      throw new Error('listener bug');
    });
    hub.on('queue-empty', () => seen.push('second'));
    hub.on('problem', (e) => seen.push(`problem:${e.kind}`));
    hub.emit({ type: 'queue-empty' });
    expect(seen).toEqual(['problem:listener-error', 'second']);
  });

  it('waitFor resolves on a matching event and times out otherwise', async () => {
    const hub = new EventHub();
    const waiting = hub.waitFor('device-linked', (e) => e.deviceId === 3, 1000);
    hub.emit({ type: 'device-linked', deviceId: 2 });
    hub.emit({ type: 'device-linked', deviceId: 3 });
    await expect(waiting).resolves.toEqual({ type: 'device-linked', deviceId: 3 });
    await expect(
      hub.waitFor(
        'queue-empty',
        () => true,
        10,
        () => new ClientError('TIMEOUT', 't'),
      ),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('streams events as an async iterable until aborted', async () => {
    const hub = new EventHub();
    const abort = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const e of hub.stream(abort.signal)) got.push(e.type);
    })();
    hub.emit({ type: 'queue-empty' });
    hub.emit({ type: 'connection', state: 'open' });
    await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await done;
    expect(got).toEqual(['queue-empty', 'connection']);
  });
});
