/**
 * Two SPQR parties (A2B initiator, B2A responder) exchanging messages with random loss and
 * reordering (shared/specs/signal-wire.md §3.4): every delivered message yields the sender's key,
 * epochs advance with both parties taking both braid roles, states survive serialization
 * mid-conversation, and `spqrSend` / `spqrRecv` never change their input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deserializeSpqrState,
  serializeSpqrState,
  spqrRecv,
  spqrSend,
  type BraidStateKind,
  type SpqrState,
} from '../../src/spqr/index.js';
import { hex, newPair, prng, seededRng } from './support.js';

const SEND_EK: readonly BraidStateKind[] = [
  'KeysUnsampled',
  'KeysSampled',
  'HeaderSent',
  'Ct1Received',
  'EkSentCt1Received',
];

interface InFlight {
  readonly bytes: Uint8Array;
  readonly key: string;
}

interface Options {
  readonly seed: number;
  readonly loss: number;
  readonly window: number;
  readonly bobFirst: boolean;
  readonly targetEpoch: number;
  readonly serializeEvery: number;
}

function simulate(o: Options): {
  alice: SpqrState;
  bob: SpqrState;
  delivered: number;
  roles: Set<string>;
} {
  const rnd = prng(o.seed);
  const rng = seededRng(o.seed);
  let { alice, bob } = newPair(new Uint8Array(32).map((_, i) => (o.seed + i) & 0xff));
  const toBob: InFlight[] = [];
  const toAlice: InFlight[] = [];
  const seenKeys = new Set<string>();
  const roles = new Set<string>();
  let delivered = 0;
  let steps = 0;
  let turn = o.bobFirst ? 1 : 0;
  const note = (who: string, s: SpqrState): void => {
    roles.add(`${who}:${SEND_EK.includes(s.braidState) ? 'send_ek' : 'send_ct'}`);
  };
  while (alice.epoch < o.targetEpoch || bob.epoch < o.targetEpoch) {
    if (++steps > 20_000) throw new Error('no progress');
    const action = steps < 3 ? turn++ % 2 : Math.floor(rnd() * 4);
    if (action === 0 || action === 1) {
      const fromAlice = action === 0;
      const s = spqrSend(fromAlice ? alice : bob, rng);
      if (s.key === null) throw new Error('no key');
      const key = hex(s.key);
      if (seenKeys.has(key)) throw new Error('key repeated');
      seenKeys.add(key);
      if (fromAlice) alice = s.state;
      else bob = s.state;
      if (rnd() >= o.loss) (fromAlice ? toBob : toAlice).push({ bytes: s.message, key });
    } else {
      const toAliceNow = action === 3;
      const queue = toAliceNow ? toAlice : toBob;
      if (queue.length === 0) continue;
      const pick = Math.floor(rnd() * Math.min(o.window, queue.length));
      const [m] = queue.splice(pick, 1);
      const receiver = toAliceNow ? alice : bob;
      const checkPurity = delivered % 8 === 0;
      const before = checkPurity ? hex(serializeSpqrState(receiver)) : '';
      const r = spqrRecv(receiver, m!.bytes);
      if (checkPurity && hex(serializeSpqrState(receiver)) !== before)
        throw new Error('input changed');
      if (r.key === null || hex(r.key) !== m!.key) throw new Error(`key mismatch at step ${steps}`);
      delivered++;
      if (toAliceNow) alice = r.state;
      else bob = r.state;
    }
    note('alice', alice);
    note('bob', bob);
    if (steps % o.serializeEvery === 0) {
      alice = deserializeSpqrState(serializeSpqrState(alice));
      bob = deserializeSpqrState(serializeSpqrState(bob));
    }
  }
  return { alice, bob, delivered, roles };
}

describe('SPQR two-party conversation', () => {
  for (const bobFirst of [false, true]) {
    it(`completes ≥ 3 epochs with 15 % loss and reordering (${bobFirst ? 'responder' : 'initiator'} sends first)`, () => {
      const result = simulate({
        seed: bobFirst ? 11 : 5,
        loss: 0.15,
        window: 4,
        bobFirst,
        targetEpoch: 4,
        serializeEvery: 37,
      });
      expect(result.alice.epoch).toBeGreaterThanOrEqual(4);
      expect(result.bob.epoch).toBeGreaterThanOrEqual(4);
      expect([...result.roles].sort()).toEqual([
        'alice:send_ct',
        'alice:send_ek',
        'bob:send_ct',
        'bob:send_ek',
      ]);
    });
  }

  it('agrees on every key for random loss/reordering schedules', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (seed, loss, window, bobFirst) => {
          const r = simulate({ seed, loss, window, bobFirst, targetEpoch: 3, serializeEvery: 23 });
          expect(r.delivered).toBeGreaterThan(0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('is deterministic for a given RNG: equal inputs give byte-identical outputs', () => {
    const a = simulate({
      seed: 3,
      loss: 0.1,
      window: 3,
      bobFirst: false,
      targetEpoch: 2,
      serializeEvery: 1000,
    });
    const b = simulate({
      seed: 3,
      loss: 0.1,
      window: 3,
      bobFirst: false,
      targetEpoch: 2,
      serializeEvery: 1,
    });
    expect(serializeSpqrState(b.alice)).toEqual(serializeSpqrState(a.alice));
    expect(serializeSpqrState(b.bob)).toEqual(serializeSpqrState(a.bob));
  });
});
