/**
 * Sotto's SPQR state encoding: a restored state behaves exactly like the original (same bytes
 * out for the same RNG) in every braid state of both roles; bad input is INVALID_STATE only;
 * states never print secrets.
 */
import fc from 'fast-check';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import {
  SPQR_STATE_FORMAT_VERSION,
  deserializeSpqrState,
  serializeSpqrState,
  spqrInitialState,
  spqrRecv,
  spqrSend,
  type BraidStateKind,
  type SpqrState,
} from '../../src/spqr/index.js';
import { hex, lockstepRound, newPair, seededRng } from './support.js';

function invalidState(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (ProtocolError.is(err, 'INVALID_STATE')) return true;
    throw err;
  }
}

/** The outputs of sending once with a fixed RNG: message, key and resulting state bytes. */
function fingerprintOfSend(state: SpqrState): string {
  const s = spqrSend(state, seededRng(99));
  return [hex(s.message), hex(s.key!), hex(serializeSpqrState(s.state))].join('|');
}

describe('SPQR state serialization', () => {
  it('round-trips in every braid state of both roles and behaves identically afterwards', () => {
    const rng = seededRng(1);
    const seen = new Set<BraidStateKind>();
    const check = (state: SpqrState): void => {
      const bytes = serializeSpqrState(state);
      expect(bytes[0]).toBe(SPQR_STATE_FORMAT_VERSION);
      const restored = deserializeSpqrState(bytes);
      expect(Buffer.from(serializeSpqrState(restored)).equals(bytes)).toBe(true);
      expect(restored.braidState).toBe(state.braidState);
      expect(restored.epoch).toBe(state.epoch);
      if (!seen.has(state.braidState)) {
        expect(fingerprintOfSend(restored)).toBe(fingerprintOfSend(state));
        seen.add(state.braidState);
      }
    };
    // Lockstep visits every state except EkReceivedCt1Sampled…
    let pair = newPair();
    for (let i = 0; i < 130; i++) {
      check(pair.alice);
      check(pair.bob);
      pair = lockstepRound(pair, rng);
    }
    // …which needs the whole ek before any ack: Alice talks, Bob's ct1 chunks are lost.
    pair = newPair();
    while (pair.bob.braidState !== 'Ct1Sampled') pair = lockstepRound(pair, rng);
    let { alice, bob } = pair;
    while (bob.braidState === 'Ct1Sampled') {
      const a = spqrSend(alice, rng);
      alice = a.state;
      bob = spqrRecv(bob, a.message).state;
    }
    expect(bob.braidState).toBe('EkReceivedCt1Sampled');
    check(bob);
    expect([...seen].sort()).toEqual(
      [
        'KeysUnsampled',
        'KeysSampled',
        'HeaderSent',
        'Ct1Received',
        'EkSentCt1Received',
        'NoHeaderReceived',
        'HeaderReceived',
        'Ct1Sampled',
        'EkReceivedCt1Sampled',
        'Ct1Acknowledged',
        'Ct2Sampled',
      ].sort(),
    );
  });

  it('keeps skipped keys and limits across a round trip', () => {
    const alice0 = spqrInitialState({ authKey: new Uint8Array(32).fill(3), direction: 'A2B' });
    let bob = spqrInitialState({
      authKey: new Uint8Array(32).fill(3),
      direction: 'B2A',
      maxJump: 5000,
    });
    let alice = alice0;
    const sent: Array<{ message: Uint8Array; key: string }> = [];
    for (let i = 0; i < 40; i++) {
      const s = spqrSend(alice, seededRng(i));
      alice = s.state;
      sent.push({ message: s.message, key: hex(s.key!) });
    }
    bob = spqrRecv(bob, sent[39]!.message).state; // 38 skipped keys
    bob = deserializeSpqrState(serializeSpqrState(bob));
    for (const m of sent.slice(0, 39).reverse()) {
      const r = spqrRecv(bob, m.message);
      expect(hex(r.key!)).toBe(m.key);
      bob = deserializeSpqrState(serializeSpqrState(r.state));
    }
    const far = new Uint8Array([1, 1, 0xc0, 0x9c, 0x01, 0]); // index 20 032: beyond maxJump 5000
    expect(() => spqrRecv(bob, far)).toThrow(/key jump/);
  });

  it('refuses bad input with INVALID_STATE only', () => {
    const valid = serializeSpqrState(lockstepRound(newPair(), seededRng(2)).alice);
    expect(invalidState(() => deserializeSpqrState(new Uint8Array(0)))).toBe(true);
    expect(
      invalidState(() => deserializeSpqrState(new Uint8Array([2, ...valid.subarray(1)]))),
    ).toBe(true);
    for (let cut = 1; cut < valid.length; cut += 97) {
      expect(invalidState(() => deserializeSpqrState(valid.subarray(0, cut)))).toBe(true);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        expect(invalidState(() => deserializeSpqrState(new Uint8Array([1, ...tail])))).toBe(true);
      }),
      { numRuns: 300 },
    );
    // Flipped bytes either still parse (key bytes) or fail as INVALID_STATE — never otherwise.
    fc.assert(
      fc.property(
        fc.nat({ max: valid.length - 2 }),
        fc.integer({ min: 1, max: 255 }),
        (pos, flip) => {
          const bytes = valid.slice();
          bytes[pos + 1]! ^= flip;
          try {
            deserializeSpqrState(bytes);
          } catch (err) {
            expect(ProtocolError.is(err, 'INVALID_STATE')).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never prints key material', () => {
    const authKey = new Uint8Array(32).fill(0x5a);
    let pair = newPair(authKey);
    for (let i = 0; i < 3; i++) pair = lockstepRound(pair, seededRng(i));
    for (const state of [pair.alice, pair.bob]) {
      const texts = [JSON.stringify(state), inspect(state), String(inspect(state, { depth: 10 }))];
      for (const text of texts) {
        expect(text).toMatch(/SpqrState/);
        expect(text).not.toMatch(/5a5a5a|Uint8Array|rootKey|macKey|dk/);
      }
    }
  });

  it('refuses bad parameters', () => {
    expect(
      invalidState(() => spqrInitialState({ authKey: new Uint8Array(31), direction: 'A2B' })),
    ).toBe(true);
    expect(
      invalidState(() =>
        spqrInitialState({ authKey: new Uint8Array(32), direction: 'X' as unknown as 'A2B' }),
      ),
    ).toBe(true);
    expect(
      invalidState(() =>
        spqrInitialState({ authKey: new Uint8Array(32), direction: 'A2B', maxJump: -1 }),
      ),
    ).toBe(true);
  });
});
