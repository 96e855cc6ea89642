/**
 * `npm run bench:protocol` — Sotto against @signalapp/libsignal-client 0.103.0 (the baseline,
 * measured in the same run), both through their public APIs with in-memory stores:
 *   (a) setup:  bundle in hand → processPreKeyBundle → first encrypt → first decrypt
 *   (b) steady: 1:1 encrypt + decrypt of 256-byte messages in bursts both ways (SPQR included)
 *   (c) group:  sender-key encrypt + decrypt of 256-byte messages
 * Each case runs in alternating rounds (Sotto, libsignal, Sotto, …) and reports the median rate,
 * so load on the machine hits both alike. Ends with
 * `bench:protocol steady=<x> setup=<x> group=<x>` (each Sotto ÷ libsignal).
 * Options: BENCH_ROUNDS (default 5), BENCH_WARMUP (default 3 uncounted rounds of each),
 * BENCH_SCALE (default 1; multiplies the work per round).
 */
import * as signal from '@signalapp/libsignal-client';
import { randomBytes, toHex } from '@sotto/crypto';
import {
  createSenderKeyDistributionMessage,
  groupDecrypt,
  groupEncrypt,
  processSenderKeyDistributionMessage,
  SenderKeyDistributionMessage,
} from '@sotto/protocol';
import { InMemorySenderKeyStore } from '@sotto/protocol/testing';
import { LibsignalPeer, SottoPeer, type Peer } from '../interop/harness/peers.js';
import { LibsignalSenderKeyStore } from '../interop/harness-group/libsignal-stores.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP ?? 3);
const MESSAGE = randomBytes(256);

type Impl = 'sotto' | 'libsignal';
const newPeer = (impl: Impl): Peer => (impl === 'sotto' ? new SottoPeer() : new LibsignalPeer());

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Returns operations per second for `count` operations done by `run`. */
async function timed(count: number, run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return count / seconds;
}

/** Every decrypted message is checked, cheaply, so neither side is timed on harness work. */
function check(a: Uint8Array, b: Uint8Array): void {
  if (Buffer.compare(a, b) !== 0) throw new Error('round trip mismatch');
}

/** (a) Sessions per second: a fresh pair per session; bundle generation is not timed. */
async function setupRound(impl: Impl): Promise<number> {
  const n = 10 * SCALE;
  const pairs: { alice: Peer; bob: Peer; bundle: Awaited<ReturnType<Peer['bundle']>> }[] = [];
  for (let i = 0; i < n; i++) {
    const alice = newPeer(impl);
    const bob = newPeer(impl);
    pairs.push({ alice, bob, bundle: await bob.bundle() });
  }
  return timed(n, async () => {
    for (const { alice, bob, bundle } of pairs) {
      await alice.startSession(bob.address, bundle);
      const first = await alice.encrypt(bob.address, MESSAGE);
      check(await bob.decrypt(alice.address, first), MESSAGE);
    }
  });
}

/** An acknowledged session between two fresh peers of one implementation. */
async function establish(impl: Impl): Promise<{ alice: Peer; bob: Peer }> {
  const alice = newPeer(impl);
  const bob = newPeer(impl);
  await alice.startSession(bob.address, await bob.bundle());
  await bob.decrypt(alice.address, await alice.encrypt(bob.address, MESSAGE));
  await alice.decrypt(bob.address, await bob.encrypt(alice.address, MESSAGE));
  return { alice, bob };
}

/** (b) Messages per second (each counted once: encrypted and decrypted), bursts of 10 both ways. */
async function steadyRound(impl: Impl, pair: { alice: Peer; bob: Peer }): Promise<number> {
  const bursts = 40 * SCALE;
  const burst = 10;
  return timed(bursts * burst, async () => {
    for (let b = 0; b < bursts; b++) {
      const [from, to] = b % 2 === 0 ? [pair.alice, pair.bob] : [pair.bob, pair.alice];
      const wires = [];
      for (let i = 0; i < burst; i++) wires.push(await from.encrypt(to.address, MESSAGE));
      for (const w of wires) check(await to.decrypt(from.address, w), MESSAGE);
    }
  });
}

function uuid(): string {
  const h = toHex(randomBytes(16));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

interface GroupPair {
  encrypt(): Promise<Uint8Array>;
  decrypt(c: Uint8Array): Promise<Uint8Array>;
}

async function groupPair(impl: Impl): Promise<GroupPair> {
  const distributionId = uuid();
  const sender = { name: uuid(), deviceId: 1 };
  if (impl === 'sotto') {
    const senderStore = new InMemorySenderKeyStore();
    const receiverStore = new InMemorySenderKeyStore();
    const skdm = await createSenderKeyDistributionMessage(
      sender,
      distributionId,
      senderStore,
      randomBytes,
    );
    await processSenderKeyDistributionMessage(
      sender,
      SenderKeyDistributionMessage.deserialize(skdm.serialize()),
      receiverStore,
    );
    return {
      encrypt: () => groupEncrypt(sender, distributionId, MESSAGE, senderStore, randomBytes),
      decrypt: (c) => groupDecrypt(sender, c, receiverStore),
    };
  }
  const address = signal.ProtocolAddress.new(sender.name, sender.deviceId);
  const senderStore = new LibsignalSenderKeyStore();
  const receiverStore = new LibsignalSenderKeyStore();
  const skdm = await signal.SenderKeyDistributionMessage.create(
    address,
    distributionId,
    senderStore,
  );
  await signal.processSenderKeyDistributionMessage(
    address,
    signal.SenderKeyDistributionMessage.deserialize(skdm.serialize()),
    receiverStore,
  );
  return {
    encrypt: async () =>
      (
        await signal.groupEncrypt(address, distributionId, senderStore, new Uint8Array(MESSAGE))
      ).serialize(),
    decrypt: (c) => signal.groupDecrypt(address, receiverStore, new Uint8Array(c)),
  };
}

/** (c) Group messages per second: encrypt by the sender, decrypt by one member. */
async function groupRound(pair: GroupPair): Promise<number> {
  const n = 200 * SCALE;
  return timed(n, async () => {
    for (let i = 0; i < n; i++) check(await pair.decrypt(await pair.encrypt()), MESSAGE);
  });
}

async function compare(
  name: string,
  unit: string,
  round: (impl: Impl) => Promise<number>,
): Promise<number> {
  const rates: Record<Impl, number[]> = { sotto: [], libsignal: [] };
  // Warm-up of both, not counted: V8 optimises Sotto's per-message functions only after a few
  // thousand calls, and libsignal's native code has its own caches to fill.
  for (let w = 0; w < WARMUP_ROUNDS; w++) {
    await round('sotto');
    await round('libsignal');
  }
  for (let r = 0; r < ROUNDS; r++) {
    rates.sotto.push(await round('sotto'));
    rates.libsignal.push(await round('libsignal'));
  }
  const s = median(rates.sotto);
  const l = median(rates.libsignal);
  const ratio = s / l;
  console.log(
    `${name.padEnd(7)} sotto ${s.toFixed(0).padStart(7)} ${unit}  libsignal ${l.toFixed(0).padStart(7)} ${unit}  ratio ${ratio.toFixed(2)}`,
  );
  return ratio;
}

async function main(): Promise<void> {
  console.log(`bench:protocol — ${ROUNDS} rounds per case, median rates, 256-byte messages`);
  const setup = await compare('setup', 'sessions/s', setupRound);
  const pairs = { sotto: await establish('sotto'), libsignal: await establish('libsignal') };
  const steady = await compare('steady', 'msgs/s', (impl) => steadyRound(impl, pairs[impl]));
  const groups = { sotto: await groupPair('sotto'), libsignal: await groupPair('libsignal') };
  const group = await compare('group', 'msgs/s', (impl) => groupRound(groups[impl]));
  console.log(
    `bench:protocol steady=${steady.toFixed(2)} setup=${setup.toFixed(2)} group=${group.toFixed(2)}`,
  );
}

await main();
