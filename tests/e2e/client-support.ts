/**
 * Shared set-up of the client end-to-end tests: a real relay process (apps/server, spawned with
 * `spawnRelay`), SDK clients over in-memory stores talking to it through `ws`, unique phone
 * numbers, and small waiting helpers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import WebSocket from 'ws';
import {
  createClient,
  type ClientEvent,
  type ClientOptions,
  type ClientStore,
  type ClientStoreTransaction,
  type SottoClient,
  type WebSocketFactory,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import { spawnRelay, type RelayProcess } from '@sotto/server-app/testing';

export const wsFactory: WebSocketFactory = (url, options) =>
  new WebSocket(url, { headers: { ...options.headers } });

export interface Relay {
  readonly process: RelayProcess;
  readonly url: string;
  /** The relay's data directory (its database and attachment files). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function startRelay(env: Record<string, string> = {}): Promise<Relay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sotto-client-e2e-'));
  const process = await spawnRelay(
    {
      SOTTO_DATA_DIR: dataDir,
      SOTTO_SMS: 'console',
      SOTTO_UNLIMITED_ADDRESSES: '127.0.0.1',
      ...env,
    },
    { timeoutMs: 60_000 },
  );
  return {
    process,
    url: process.url,
    dataDir,
    async stop() {
      if (process.child.exitCode === null && process.child.signalCode === null) {
        process.child.kill('SIGTERM');
        await process.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let nextNumber = 100 + Math.floor(Math.random() * 8000);
/** A fresh valid number (+1 415 555 0100–9999), distinct within this process. */
export function newNumber(): string {
  nextNumber = nextNumber >= 9999 ? 100 : nextNumber + 1;
  return `+1415555${nextNumber.toString().padStart(4, '0')}`;
}

export type TestClientOptions = Partial<Omit<ClientOptions<unknown>, 'serverUrl'>>;

export async function newClient(
  relay: Relay,
  options: TestClientOptions & { store?: ClientStore } = {},
): Promise<SottoClient> {
  return createClient({
    serverUrl: relay.url,
    webSocketFactory: wsFactory,
    store: options.store ?? createMemoryClientStore(),
    preKeyBatchSize: 10,
    ...options,
  });
}

/** Requests a code, reads it from the relay's dev SMS line, registers, connects. */
export async function registeredClient(
  relay: Relay,
  options: TestClientOptions & { store?: ClientStore; number?: string; pin?: string } = {},
): Promise<{ client: SottoClient; number: string; accountId: string }> {
  const client = await newClient(relay, options);
  const number = options.number ?? newNumber();
  await client.requestCode(number);
  const code = await relay.process.codeFor(number);
  const info = await client.register({
    number,
    code,
    ...(options.pin === undefined ? {} : { pin: options.pin }),
  });
  await client.connect();
  return { client, number, accountId: info.accountId };
}

/** Collects events of one client for later assertions. */
export function record(client: SottoClient): ClientEvent[] {
  const events: ClientEvent[] = [];
  client.onAny((e) => events.push(e));
  return events;
}

/** Waits until `check` holds, polling every 20 ms. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'a condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- fault injection ---------------------------------------------------------------------------

const FRAME = { send: 0x01, ack: 0x02, sendResult: 0x82, envelope: 0x81 } as const;

export interface FaultyNetwork {
  readonly factory: WebSocketFactory;
  /** Drop frames the client sends whose type byte is in this set (e.g. ACKs). */
  dropOutgoing: Set<number>;
  /** Drop frames the relay sends whose type byte is in this set (e.g. SEND_RESULTs). */
  dropIncoming: Set<number>;
  /** Cut every socket at once and refuse new ones (what a crash looks like to the relay). */
  kill(): void;
}

export { FRAME };

/** A WebSocket factory over `ws` whose sockets can drop frames or be cut. */
export function faultyNetwork(): FaultyNetwork {
  const sockets = new Set<WebSocket>();
  let dead = false;
  const net: FaultyNetwork = {
    dropOutgoing: new Set(),
    dropIncoming: new Set(),
    kill() {
      dead = true;
      for (const s of sockets) s.terminate();
    },
    factory: (url, options) => {
      if (dead) throw new Error('process is dead');
      const real = new WebSocket(url, { headers: { ...options.headers } });
      sockets.add(real);
      real.on('close', () => sockets.delete(real));
      const send = real.send.bind(real);
      real.send = ((data: Uint8Array, ...rest: unknown[]) => {
        if (dead || net.dropOutgoing.has(data[1]!)) return;
        (send as (...a: unknown[]) => void)(data, ...rest);
      }) as typeof real.send;
      const wrapped = {
        get binaryType() {
          return real.binaryType;
        },
        set binaryType(v: string) {
          real.binaryType = v as 'arraybuffer';
        },
        get readyState() {
          return real.readyState;
        },
        send: (data: Uint8Array) => real.send(data),
        close: (code?: number, reason?: string) => real.close(code, reason),
        onopen: null as ((e: unknown) => void) | null,
        onclose: null as ((e: { code: number; reason: string }) => void) | null,
        onerror: null as ((e: unknown) => void) | null,
        onmessage: null as ((e: { data: unknown }) => void) | null,
      };
      real.onopen = (e) => wrapped.onopen?.(e);
      real.onclose = (e) => wrapped.onclose?.({ code: e.code, reason: e.reason });
      real.onerror = (e) => wrapped.onerror?.(e);
      real.onmessage = (e) => {
        if (dead) return;
        const data = e.data as ArrayBuffer;
        const type = new Uint8Array(data)[1]!;
        if (net.dropIncoming.has(type)) return;
        wrapped.onmessage?.({ data });
      };
      return wrapped;
    },
  };
  return net;
}

/**
 * A store wrapper that "dies" with its process: after `kill()` every call fails, including the
 * writes of a transaction still running (which therefore rolls back), as a crash would leave it.
 */
export class KillableStore implements ClientStore {
  #dead = false;
  constructor(readonly inner: ClientStore) {}
  kill(): void {
    this.#dead = true;
  }
  #check(): void {
    if (this.#dead) throw new Error('process is dead');
  }
  async get(ns: string, key: string) {
    this.#check();
    return this.inner.get(ns, key);
  }
  async list(ns: string) {
    this.#check();
    return this.inner.list(ns);
  }
  async put(ns: string, key: string, value: Uint8Array) {
    this.#check();
    return this.inner.put(ns, key, value);
  }
  async delete(ns: string, key: string) {
    this.#check();
    return this.inner.delete(ns, key);
  }
  async transaction<T>(fn: (tx: ClientStoreTransaction) => Promise<T>): Promise<T> {
    this.#check();
    return this.inner.transaction(async (tx) => {
      const guard =
        <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
        async (...a: A) => {
          this.#check();
          return f(...a);
        };
      const result = await fn({
        get: guard((ns: string, key: string) => tx.get(ns, key)),
        list: guard((ns: string) => tx.list(ns)),
        put: guard((ns: string, key: string, value: Uint8Array) => tx.put(ns, key, value)),
        delete: guard((ns: string, key: string) => tx.delete(ns, key)),
      });
      this.#check(); // a crash before the commit point rolls back
      return result;
    });
  }
  async close() {
    /* the inner store outlives the "process" */
  }
}

// ---- raw relay access (independent of the SDK) -------------------------------------------------

export interface RawDevice {
  readonly accountId: string;
  readonly authorization: string;
}

/** Registers an account over plain HTTP (a random identity key; it never sends messages). */
export async function rawAccount(relay: Relay): Promise<RawDevice> {
  const number = newNumber();
  const post = (path: string, body: unknown) =>
    fetch(relay.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await post('/v1/verification/code', { number })).status).toBe(202);
  const code = await relay.process.codeFor(number);
  const identityKey = Buffer.concat([Buffer.of(5), randomBytes(32)]).toString('base64');
  const res = await post('/v1/accounts', { number, code, registrationId: 77, identityKey });
  expect(res.status).toBe(200);
  const j = (await res.json()) as { accountId: string; deviceId: number; credential: string };
  const user = `${j.accountId}.${j.deviceId}:${j.credential}`;
  return { accountId: j.accountId, authorization: `Basic ${Buffer.from(user).toString('base64')}` };
}

/** Fetches (and so consumes a one-time prekey of) every device's bundle of `accountId`. */
export async function rawFetchBundle(
  relay: Relay,
  as: RawDevice,
  accountId: string,
): Promise<{
  devices: Array<{ deviceId: number; signedPreKey: { keyId: number }; preKey?: { keyId: number } }>;
}> {
  const res = await fetch(`${relay.url}/v1/keys/${accountId}/*`, {
    headers: { authorization: as.authorization },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}
