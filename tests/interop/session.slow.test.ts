/**
 * Long-running 1:1 interop with @signalapp/libsignal-client 0.103.0 (shared/specs/signal-wire.md,
 * "What an interop test suite should cover", items 4–6): the limits (25 000 forward jumps,
 * 2 000 skipped keys, 5 receiver chains), 15 % loss with reordering over long runs, and seeded
 * random traffic in which the interop pairings must succeed and fail on exactly the same
 * messages as a libsignal⇄libsignal control.
 */
import { describe, expect, it } from 'vitest';
import * as signal from '@signalapp/libsignal-client';
import { IdentityKeyPair } from '@sotto/protocol';
import { randomBytes } from '@sotto/crypto';
import {
  LibsignalPeer,
  SottoPeer,
  ab,
  connect,
  newAddress,
  str,
  text,
  type Kind,
  type Outcome,
  type Peer,
  type Wire,
} from './harness/peers.js';
import { deliver, summary } from './harness/scenarios.js';
import { spqrHeader } from './harness/wire-edit.js';

const INTEROP: readonly (readonly [Kind, Kind])[] = [
  ['sotto', 'libsignal'],
  ['libsignal', 'sotto'],
];
const WITH_CONTROL: readonly (readonly [Kind, Kind])[] = [...INTEROP, ['libsignal', 'libsignal']];

/** Small deterministic PRNG (mulberry32) for traffic schedules. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A session where a's next message starts a fresh chain that b has seen one message of. */
async function warmSession(aKind: Kind, bKind: Kind): Promise<{ a: Peer; b: Peer }> {
  const { a, b } = await connect(aKind, bKind);
  await deliver(a, b, 'setup');
  await deliver(b, a, 'ack');
  await deliver(a, b, 'first on the new chain');
  return { a, b };
}

/** a encrypts `skip` messages that are never delivered, then one that is. */
async function jumpOutcome(aKind: Kind, bKind: Kind, skip: number): Promise<Outcome> {
  const { a, b } = await warmSession(aKind, bKind);
  for (let i = 0; i < skip; i++) await a.encrypt(b.address, text('lost'));
  const far = await a.encrypt(b.address, text('far'));
  return b.tryDecrypt(a.address, far);
}

describe('forward-jump limit (item 5)', () => {
  // The message 25 000 keys ahead of the last one received is accepted, 25 001 ahead refused
  // (SPQR's `max_jump`, one tighter than the Double Ratchet's count from the next expected key).
  it.each(WITH_CONTROL)('%s → %s: 24 999 lost then delivered is accepted', async (aKind, bKind) => {
    const o = await jumpOutcome(aKind, bKind, 24_999);
    expect(o.ok).toBe(true);
    if (o.ok) expect(str(o.plaintext)).toBe('far');
  });

  it.each(WITH_CONTROL)('%s → %s: 25 000 lost then delivered is refused', async (aKind, bKind) => {
    const o = await jumpOutcome(aKind, bKind, 25_000);
    expect(o.ok).toBe(false);
    if (bKind === 'sotto' && !o.ok)
      expect(['PQ_RATCHET', 'MESSAGE_GAP_TOO_LARGE']).toContain(o.error);
  });
});

describe('a session with oneself has no forward-jump limit (item 5)', () => {
  it.each(INTEROP)(
    '%s → %s (same identity key and ServiceId, another device)',
    async (aKind, bKind) => {
      const identity = IdentityKeyPair.generate(randomBytes);
      const name = newAddress().name;
      const make = (kind: Kind, deviceId: number): Peer =>
        kind === 'sotto'
          ? new SottoPeer({ identity, address: { name, deviceId } })
          : new LibsignalPeer({
              identity: signal.IdentityKeyPair.deserialize(ab(identity.serialize())),
              address: { name, deviceId },
            });
      const a = make(aKind, 1);
      const b = make(bKind, 2);
      await a.startSession(b.address, await b.bundle());
      await deliver(a, b, 'note to self');
      await deliver(b, a, 'ack');
      await deliver(a, b, 'first on the new chain');
      for (let i = 0; i < 25_100; i++) await a.encrypt(b.address, text('lost'));
      expect(str(await b.decrypt(a.address, await a.encrypt(b.address, text('far'))))).toBe('far');
    },
  );
});

describe('2 000 skipped keys (item 5)', () => {
  async function skippedPattern(aKind: Kind, bKind: Kind): Promise<string> {
    const { a, b } = await warmSession(aKind, bKind);
    const held: Wire[] = [];
    for (let i = 0; i < 2_010; i++) held.push(await a.encrypt(b.address, text(`m${i}`)));
    const last = await a.encrypt(b.address, text('last'));
    expect(str(await b.decrypt(a.address, last))).toBe('last');
    // Oldest first: the 10 oldest of 2 010 skipped keys are gone, the 2 000 newest remain.
    const probe = [0, 1, 8, 9, 10, 11, 12, 1_000, 2_009];
    const outcomes: Outcome[] = [];
    for (const i of probe) outcomes.push(await b.tryDecrypt(a.address, held[i]!));
    return summary(outcomes);
  }

  it('both implementations keep exactly the newest 2 000 skipped keys', async () => {
    const patterns = await Promise.all(WITH_CONTROL.map(([x, y]) => skippedPattern(x, y)));
    expect(patterns[2]).toBe('x x x x ok ok ok ok ok');
    expect(patterns[0]).toBe(patterns[2]);
    expect(patterns[1]).toBe(patterns[2]);
  });
});

describe('5 receiver chains (item 5)', () => {
  async function chainPattern(aKind: Kind, bKind: Kind): Promise<string> {
    const { a, b } = await connect(aKind, bKind);
    await deliver(a, b, 'setup');
    await deliver(b, a, 'ack');
    const held: Wire[] = [];
    for (let i = 0; i < 7; i++) {
      held.push(await a.encrypt(b.address, text(`held ${i}`)));
      await deliver(a, b, `chain ${i}`);
      await deliver(b, a, `turn ${i}`);
    }
    const outcomes: Outcome[] = [];
    for (const w of held) outcomes.push(await b.tryDecrypt(a.address, w));
    return summary(outcomes);
  }

  it('a message on an evicted chain fails in both; the 5 newest chains still decrypt', async () => {
    const patterns = await Promise.all(WITH_CONTROL.map(([x, y]) => chainPattern(x, y)));
    expect(patterns[2]).toBe('x x ok ok ok ok ok');
    expect(patterns[0]).toBe(patterns[2]);
    expect(patterns[1]).toBe(patterns[2]);
  });
});

describe('15 % loss with reordering over long runs (item 5)', () => {
  it.each(INTEROP)(
    '%s ⇄ %s: every delivered message decrypts once; epochs keep turning',
    async (aKind, bKind) => {
      const { a, b } = await connect(aKind, bKind);
      await deliver(a, b, 'setup');
      const random = prng(aKind === 'sotto' ? 1 : 2);
      let delivered = 0;
      let lost = 0;
      let maxEpoch = 0;
      let pending: { from: Peer; to: Peer; wire: Wire; plain: string }[] = [];
      for (let turn = 0; turn < 700; turn++) {
        const [from, to] = turn % 2 === 0 ? [a, b] : [b, a];
        const burst: typeof pending = [];
        const n = 1 + Math.floor(random() * 5);
        for (let i = 0; i < n; i++) {
          const plain = `t${turn} m${i}`;
          const wire = await from.encrypt(to.address, text(plain));
          maxEpoch = Math.max(maxEpoch, spqrHeader(wire).epoch);
          burst.push({ from, to, wire, plain });
        }
        // Some bursts are held back one turn (reordering across chains); within a delivery,
        // the order is shuffled; each message is lost with probability 0.15.
        const deliverNow = random() < 0.2 ? pending : [...pending, ...burst];
        pending = deliverNow === pending ? burst : [];
        for (let i = deliverNow.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [deliverNow[i], deliverNow[j]] = [deliverNow[j]!, deliverNow[i]!];
        }
        for (const m of deliverNow) {
          if (random() < 0.15) {
            lost++;
            continue;
          }
          expect(str(await m.to.decrypt(m.from.address, m.wire))).toBe(m.plain);
          delivered++;
          if (random() < 0.03)
            expect((await m.to.tryDecrypt(m.from.address, m.wire)).ok).toBe(false);
        }
      }
      expect(delivered).toBeGreaterThan(1_500);
      expect(lost).toBeGreaterThan(200);
      expect(maxEpoch).toBeGreaterThanOrEqual(3);
    },
  );
});

/**
 * Seeded random traffic: sends, deliveries in any order (also long after), drops, duplicates
 * and single-bit corruptions. The schedule depends only on the seed, so the same schedule runs
 * on every pairing and the per-event outcomes must be identical to libsignal⇄libsignal.
 */
async function trafficRun(aKind: Kind, bKind: Kind, seed: number): Promise<string> {
  const random = prng(seed);
  const { a, b } = await connect(aKind, bKind);
  const queues = { ab: [] as Wire[], ba: [] as Wire[] };
  const outcomes: string[] = [];
  const ends = { ab: [a, b] as const, ba: [b, a] as const };
  await deliver(a, b, 'setup');
  for (let step = 0; step < 320; step++) {
    const dir = random() < 0.5 ? 'ab' : 'ba';
    const [from, to] = ends[dir];
    const queue = queues[dir];
    const r = random();
    if (r < 0.45 || queue.length === 0) {
      queue.push(await from.encrypt(to.address, text(`${dir} ${step}`)));
      continue;
    }
    // Mostly the oldest few, sometimes anything in the queue.
    const index =
      random() < 0.8
        ? Math.floor(random() * Math.min(3, queue.length))
        : Math.floor(random() * queue.length);
    const wire = queue[index]!;
    const action = random();
    if (action < 0.12) {
      queue.splice(index, 1); // dropped
      outcomes.push('-');
      continue;
    }
    let sent = wire;
    if (action < 0.2) {
      const body = Uint8Array.from(wire.body);
      const bit = Math.floor(random() * body.length * 8);
      body[bit >> 3]! ^= 1 << (bit & 7);
      sent = { type: wire.type, body };
    } else if (action > 0.93) {
      // Deliver but keep it queued: a later duplicate.
    } else {
      queue.splice(index, 1);
    }
    const o = await to.tryDecrypt(from.address, sent);
    outcomes.push(o.ok ? 'ok' : 'x');
  }
  return outcomes.join(' ');
}

describe('seeded random traffic: the same successes and failures as libsignal (items 5–6)', () => {
  for (const seed of [11, 22, 33, 44, 55, 66]) {
    it(`seed ${seed}`, async () => {
      const control = await trafficRun('libsignal', 'libsignal', seed);
      expect(control).toContain('ok');
      expect(control).toContain('x');
      for (const [x, y] of INTEROP)
        expect(await trafficRun(x, y, seed), `${x} → ${y}`).toBe(control);
      expect(await trafficRun('sotto', 'sotto', seed), 'sotto → sotto').toBe(control);
    });
  }
});
