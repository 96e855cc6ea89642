/**
 * `npm run bench:client` — end-to-end messages per second between two SDK clients through a real
 * relay process (apps/server, SQLite, group commit): encrypt, persist the session and the outbox
 * entry, send, relay (durable append + push), decrypt, store message and session in one
 * transaction, acknowledge. In-memory client stores; delivery receipts off (each message is one
 * envelope).
 *
 * The baseline runs in the same process against the same relay: the same client with its session
 * crypto delegated to @signalapp/libsignal-client 0.103.0 through the `SessionEngine` port (the
 * adapter below converts the client's stores to libsignal's store classes; libsignal's session
 * records are persisted like Sotto's). Rounds alternate between the two, so load on the machine
 * hits both alike; the median of each is reported. Ends with
 * `bench:client msgs_per_s=<n> ratio_vs_libsignal=<x>` (Sotto ÷ libsignal).
 * Every round uses a fresh pair of accounts: the relay limits sends per account (a burst of
 * 1 000, then 100/s — packages/server limits.ts MESSAGE_SENDS_PER_ACCOUNT), and the benchmark
 * measures the client, not that limit. Registration and the warm-up are not timed.
 * One untimed round per side first warms up the JIT.
 * Options: BENCH_ROUNDS (default 5), BENCH_MESSAGES (per round, default 800, at most 900).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as signal from '@signalapp/libsignal-client';
import WebSocket from 'ws';
import {
  createClient,
  type EngineStores,
  type SessionEngine,
  type SottoClient,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import { IdentityKey, PublicKey, type PreKeyBundle, type ProtocolAddress } from '@sotto/protocol';
import { spawnRelay, type RelayProcess } from '@sotto/server-app/testing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 800);
if (!(MESSAGES > 0 && MESSAGES <= 900))
  throw new Error('BENCH_MESSAGES must be 1..900 (per-account send burst)');
const TEXT = 'x'.repeat(140);

// ---- libsignal as the session engine ---------------------------------------------------------

/** A copy typed as `Uint8Array<ArrayBuffer>`, as libsignal's TypeScript API wants. */
const ab = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);
const toAddress = (a: signal.ProtocolAddress): ProtocolAddress => ({
  name: a.name(),
  deviceId: a.deviceId(),
});
const fromAddress = (a: ProtocolAddress): signal.ProtocolAddress =>
  signal.ProtocolAddress.new(a.name, a.deviceId);

type LibStores = EngineStores<signal.SessionRecord>;

class SessionStoreAdapter extends signal.SessionStore {
  constructor(private readonly s: LibStores) {
    super();
  }
  saveSession(name: signal.ProtocolAddress, record: signal.SessionRecord): Promise<void> {
    return this.s.sessions.put(toAddress(name), record);
  }
  getSession(name: signal.ProtocolAddress): Promise<signal.SessionRecord | null> {
    return this.s.sessions.get(toAddress(name));
  }
  async getExistingSessions(addresses: signal.ProtocolAddress[]): Promise<signal.SessionRecord[]> {
    const out: signal.SessionRecord[] = [];
    for (const a of addresses) {
      const r = await this.s.sessions.get(toAddress(a));
      if (r === null) throw new Error('no session');
      out.push(r);
    }
    return out;
  }
}

/** The identity private key in libsignal form, converted once per identity. */
const privateKeys = new WeakMap<object, signal.PrivateKey>();

class IdentityStoreAdapter extends signal.IdentityKeyStore {
  constructor(private readonly s: LibStores) {
    super();
  }
  async getIdentityKey(): Promise<signal.PrivateKey> {
    const pair = await this.s.identity.getIdentityKeyPair();
    let key = privateKeys.get(pair);
    if (key === undefined) {
      key = signal.PrivateKey.deserialize(ab(pair.privateKey.serialize()));
      privateKeys.set(pair, key);
    }
    return key;
  }
  getLocalRegistrationId(): Promise<number> {
    return this.s.identity.getLocalRegistrationId();
  }
  async saveIdentity(
    name: signal.ProtocolAddress,
    key: signal.PublicKey,
  ): Promise<signal.IdentityChange> {
    const change = await this.s.identity.saveIdentity(
      toAddress(name),
      IdentityKey.deserialize(key.serialize()),
    );
    return change === 'replaced-existing'
      ? signal.IdentityChange.ReplacedExisting
      : signal.IdentityChange.NewOrUnchanged;
  }
  isTrustedIdentity(
    name: signal.ProtocolAddress,
    key: signal.PublicKey,
    direction: signal.Direction,
  ): Promise<boolean> {
    return this.s.identity.isTrustedIdentity(
      toAddress(name),
      IdentityKey.deserialize(key.serialize()),
      direction === signal.Direction.Sending ? 'sending' : 'receiving',
    );
  }
  async getIdentity(name: signal.ProtocolAddress): Promise<signal.PublicKey | null> {
    const key = await this.s.identity.getIdentity(toAddress(name));
    return key === null ? null : signal.PublicKey.deserialize(ab(key.serialize()));
  }
}

class PreKeyStoreAdapter extends signal.PreKeyStore {
  constructor(private readonly s: LibStores) {
    super();
  }
  savePreKey(): Promise<void> {
    return Promise.reject(new Error('the client generates prekeys'));
  }
  async getPreKey(id: number): Promise<signal.PreKeyRecord> {
    const r = await this.s.preKeys.getPreKey(id);
    if (r === null) throw new Error(`no prekey ${id}`);
    return signal.PreKeyRecord.deserialize(ab(r.serialize()));
  }
  removePreKey(id: number): Promise<void> {
    return this.s.preKeys.removePreKey(id);
  }
}

class SignedPreKeyStoreAdapter extends signal.SignedPreKeyStore {
  constructor(private readonly s: LibStores) {
    super();
  }
  saveSignedPreKey(): Promise<void> {
    return Promise.reject(new Error('the client generates prekeys'));
  }
  async getSignedPreKey(id: number): Promise<signal.SignedPreKeyRecord> {
    const r = await this.s.signedPreKeys.getSignedPreKey(id);
    if (r === null) throw new Error(`no signed prekey ${id}`);
    return signal.SignedPreKeyRecord.deserialize(ab(r.serialize()));
  }
}

class KyberPreKeyStoreAdapter extends signal.KyberPreKeyStore {
  constructor(private readonly s: LibStores) {
    super();
  }
  saveKyberPreKey(): Promise<void> {
    return Promise.reject(new Error('the client generates prekeys'));
  }
  async getKyberPreKey(id: number): Promise<signal.KyberPreKeyRecord> {
    const r = await this.s.kyberPreKeys.getKyberPreKey(id);
    if (r === null) throw new Error(`no Kyber prekey ${id}`);
    return signal.KyberPreKeyRecord.deserialize(ab(r.serialize()));
  }
  markKyberPreKeyUsed(kyberId: number, signedId: number, baseKey: signal.PublicKey): Promise<void> {
    return this.s.kyberPreKeys.markKyberPreKeyUsed(
      kyberId,
      signedId,
      PublicKey.deserialize(baseKey.serialize()),
    );
  }
}

function libBundle(b: PreKeyBundle): signal.PreKeyBundle {
  return signal.PreKeyBundle.new(
    b.registrationId,
    b.deviceId,
    b.preKeyId,
    b.preKey === null ? null : signal.PublicKey.deserialize(ab(b.preKey.serialize())),
    b.signedPreKeyId,
    signal.PublicKey.deserialize(ab(b.signedPreKey.serialize())),
    ab(b.signedPreKeySignature),
    signal.PublicKey.deserialize(ab(b.identityKey.serialize())),
    b.kyberPreKeyId,
    signal.KEMPublicKey.deserialize(ab(b.kyberPreKey.serialize())),
    ab(b.kyberPreKeySignature),
  );
}

const libsignalEngine: SessionEngine<signal.SessionRecord> = {
  name: 'libsignal',
  serializeSession: (record) => record.serialize(),
  deserializeSession: (bytes) => signal.SessionRecord.deserialize(ab(bytes)),
  remoteRegistrationId: (record, now) =>
    record.hasCurrentState(new Date(now)) ? record.remoteRegistrationId() : null,
  startSession: (bundle, address, local, stores, ctx) =>
    signal.processPreKeyBundle(
      libBundle(bundle),
      fromAddress(address),
      fromAddress(local),
      new SessionStoreAdapter(stores),
      new IdentityStoreAdapter(stores),
      new Date(ctx.now),
    ),
  async encrypt(plaintext, address, local, stores, ctx) {
    const m = await signal.signalEncrypt(
      ab(plaintext),
      fromAddress(address),
      fromAddress(local),
      new SessionStoreAdapter(stores),
      new IdentityStoreAdapter(stores),
      new Date(ctx.now),
    );
    return {
      // CiphertextMessageType: Whisper 2, PreKey 3 (signal-wire.md §2.4).
      type: m.type() === 3 ? 'prekey' : 'whisper',
      body: m.serialize(),
    };
  },
  decrypt(kind, body, address, local, stores) {
    if (kind === 'prekey') {
      return signal.signalDecryptPreKey(
        signal.PreKeySignalMessage.deserialize(ab(body)),
        fromAddress(address),
        fromAddress(local),
        new SessionStoreAdapter(stores),
        new IdentityStoreAdapter(stores),
        new PreKeyStoreAdapter(stores),
        new SignedPreKeyStoreAdapter(stores),
        new KyberPreKeyStoreAdapter(stores),
      );
    }
    return signal.signalDecrypt(
      signal.SignalMessage.deserialize(ab(body)),
      fromAddress(address),
      fromAddress(local),
      new SessionStoreAdapter(stores),
      new IdentityStoreAdapter(stores),
    );
  },
};

// ---- the measurement -------------------------------------------------------------------------

type Impl = 'sotto' | 'libsignal';

let nextNumber = 1000 + Math.floor(Math.random() * 8000);

async function registered(
  relay: RelayProcess,
  impl: Impl,
): Promise<{ client: SottoClient; accountId: string }> {
  const client = await createClient<unknown>({
    serverUrl: relay.url,
    webSocketFactory: (url, o) => new WebSocket(url, { headers: { ...o.headers } }),
    store: createMemoryClientStore(),
    deliveryReceipts: false,
    preKeyBatchSize: 10,
    ...(impl === 'libsignal' ? { sessionEngine: libsignalEngine } : {}),
  });
  const number = `+1415555${(nextNumber++).toString().padStart(4, '0')}`;
  await client.requestCode(number);
  const info = await client.register({ number, code: await relay.codeFor(number) });
  await client.connect();
  return { client, accountId: info.accountId };
}

interface Pair {
  readonly a: { client: SottoClient; accountId: string };
  readonly b: { client: SottoClient; accountId: string };
  received: number;
  wake: (() => void) | null;
}

async function pairOf(relay: RelayProcess, impl: Impl): Promise<Pair> {
  const pair: Pair = {
    a: await registered(relay, impl),
    b: await registered(relay, impl),
    received: 0,
    wake: null,
  };
  pair.b.client.on('message', () => {
    pair.received++;
    pair.wake?.();
  });
  pair.a.client.on('problem', (e) => console.error(`${impl} A problem`, e.code));
  pair.b.client.on('problem', (e) => console.error(`${impl} B problem`, e.code));
  // Warm up: a session acknowledged both ways, so the timed messages are plain Whisper messages.
  await pair.a.client.send(pair.b.accountId, 'warm-up');
  await waitReceived(pair, 1);
  await pair.b.client.send(pair.a.accountId, 'warm-up');
  await pair.a.client.waitFor('message');
  await pair.a.client.send(pair.b.accountId, 'warm-up 2');
  await waitReceived(pair, 2);
  return pair;
}

async function waitReceived(pair: Pair, target: number): Promise<void> {
  while (pair.received < target) {
    await new Promise<void>((resolve) => {
      pair.wake = resolve;
      setTimeout(resolve, 1000);
    });
    pair.wake = null;
  }
}

/** Messages per second from A's first `send` until B stored (and acknowledged) the last one. */
async function round(pair: Pair): Promise<number> {
  const target = pair.received + MESSAGES;
  const start = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i++) await pair.a.client.send(pair.b.accountId, TEXT);
  await waitReceived(pair, target);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await pair.a.client.flush();
  return MESSAGES / seconds;
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sotto-bench-client-'));
  const relay = await spawnRelay(
    {
      SOTTO_DATA_DIR: dataDir,
      SOTTO_SMS: 'console',
      SOTTO_UNLIMITED_ADDRESSES: '127.0.0.1',
      SOTTO_LOG_LEVEL: 'info',
    },
    { timeoutMs: 60_000 },
  );
  try {
    const rates: Record<Impl, number[]> = { sotto: [], libsignal: [] };
    for (const impl of ['sotto', 'libsignal'] as const) {
      const pair = await pairOf(relay, impl);
      await round(pair);
      await pair.a.client.close();
      await pair.b.client.close();
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const impl of r % 2 === 0
        ? (['sotto', 'libsignal'] as const)
        : (['libsignal', 'sotto'] as const)) {
        const pair = await pairOf(relay, impl);
        const rate = await round(pair);
        rates[impl].push(rate);
        console.log(`round ${r + 1} ${impl.padEnd(9)} ${rate.toFixed(0)} msgs/s`);
        await pair.a.client.close();
        await pair.b.client.close();
      }
    }
    const sotto = median(rates.sotto);
    const lib = median(rates.libsignal);
    console.log(
      `median sotto ${sotto.toFixed(0)} msgs/s, libsignal engine ${lib.toFixed(0)} msgs/s (${MESSAGES} messages per round, ${ROUNDS} rounds)`,
    );
    console.log(
      `bench:client msgs_per_s=${sotto.toFixed(0)} ratio_vs_libsignal=${(sotto / lib).toFixed(2)}`,
    );
  } finally {
    relay.child.kill('SIGTERM');
    await relay.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
