/**
 * What SPQR refuses, and how (shared/specs/signal-wire.md §1.2, §3.4; spqr `lib.rs`,
 * `chain.rs`, `v1/chunked/states.rs`): every rejection is `ProtocolError('PQ_RATCHET')` and
 * leaves the input state usable; ignored inputs (future version, older epoch) change nothing.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { spqrInitialState, spqrRecv, spqrSend, type SpqrState } from '../../src/spqr/index.js';
import {
  parseSpqrMessage,
  serializeSpqrMessage,
  type SpqrMessage,
} from '../../src/spqr/message.js';
import { hex, lockstepRound, newPair, runUntil, seededRng, type Pair } from './support.js';

function pqReason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (ProtocolError.is(err, 'PQ_RATCHET')) return err.message;
    throw err;
  }
  throw new Error('expected a PQ_RATCHET rejection');
}

const none = (epoch: number, chainIndex: number): Uint8Array =>
  serializeSpqrMessage({ epoch, chainIndex, payload: { type: 'none' } });

function withChunkData(bytes: Uint8Array, mutate: (data: Uint8Array) => void): Uint8Array {
  const msg = parseSpqrMessage(bytes);
  if (!('chunk' in msg.payload)) throw new Error('no chunk');
  const data = msg.payload.chunk.data.slice();
  mutate(data);
  const altered: SpqrMessage = {
    ...msg,
    payload: { ...msg.payload, chunk: { ...msg.payload.chunk, data } },
  };
  return serializeSpqrMessage(altered);
}

describe('SPQR rejections', () => {
  it('rejects an empty pq_ratchet: "minimum version" before the first receive, "version mismatch" after', () => {
    const { alice, bob } = newPair();
    expect(pqReason(() => spqrRecv(bob, new Uint8Array(0)))).toMatch(/minimum version/);
    expect(pqReason(() => spqrRecv(bob, new Uint8Array([0, 1, 1, 0])))).toMatch(/minimum version/);
    const first = spqrSend(alice, seededRng(1));
    const received = spqrRecv(bob, first.message).state;
    expect(pqReason(() => spqrRecv(received, new Uint8Array(0)))).toMatch(/version mismatch/);
  });

  it('ignores a future version (first byte > 1): same state, no key', () => {
    const { bob } = newPair();
    for (const bytes of [
      new Uint8Array([2]),
      new Uint8Array([0xff, 1, 2, 3]),
      new Uint8Array([2, 0, 0]),
    ]) {
      const r = spqrRecv(bob, bytes);
      expect(r.state).toBe(bob);
      expect(r.key).toBeNull();
    }
  });

  it('returns no key only for key epoch 0 with index 0', () => {
    const { bob } = newPair();
    expect(spqrRecv(bob, none(1, 0)).key).toBeNull();
    expect(spqrRecv(bob, none(1, 1)).key).not.toBeNull();
  });

  it('rejects malformed messages', () => {
    const { bob } = newPair();
    expect(pqReason(() => spqrRecv(bob, new Uint8Array([1, 0, 1, 0])))).toMatch(
      /decode failed: epoch 0/,
    );
    expect(pqReason(() => spqrRecv(bob, new Uint8Array([1, 1, 1, 9])))).toMatch(
      /unknown message type/,
    );
    expect(pqReason(() => spqrRecv(bob, new Uint8Array([1, 1, 1, 1, 0, 1, 2])))).toMatch(
      /truncated/,
    );
  });

  it('rejects a higher epoch, except epoch + 1 in Ct2Sampled; ignores lower epochs in the braid', () => {
    const { bob } = newPair();
    expect(pqReason(() => spqrRecv(bob, none(2, 1)))).toMatch(/epoch not in valid range: 2/);

    const rng = seededRng(2);
    let pair = runUntil(newPair(), rng, (p) => p.bob.braidState === 'Ct2Sampled');
    expect(pqReason(() => spqrRecv(pair.bob, none(3, 1)))).toMatch(/epoch not in valid range: 3/);
    // Finish the epoch: Alice moves to epoch 2 and her next message swaps Bob's role.
    pair = runUntil(pair, rng, (p) => p.alice.epoch === 2);
    const fromAlice = spqrSend(pair.alice, rng);
    const swapped = spqrRecv(pair.bob, fromAlice.message);
    expect(swapped.state.braidState).toBe('KeysUnsampled');
    expect(swapped.state.epoch).toBe(2);
    expect(hex(swapped.key!)).toBe(hex(fromAlice.key!));
  });

  it('still yields keys for late messages of an older epoch without touching the braid', () => {
    const rng = seededRng(3);
    let pair = newPair();
    const early = spqrSend(pair.alice, rng); // epoch 1, never delivered yet
    pair = { ...pair, alice: early.state };
    pair = runUntil(pair, rng, (p) => p.alice.epoch === 2 && p.bob.epoch === 2);
    const late = spqrRecv(pair.bob, early.message);
    expect(hex(late.key!)).toBe(hex(early.key!));
    expect(late.state.braidState).toBe(pair.bob.braidState);
    expect(late.state.epoch).toBe(2);
  });

  it('refuses to hand out a key twice', () => {
    const { alice, bob } = newPair();
    const s = spqrSend(alice, seededRng(4));
    const once = spqrRecv(bob, s.message);
    expect(pqReason(() => spqrRecv(once.state, s.message))).toMatch(/already requested: 1/);
  });

  it('refuses a jump beyond 25 000 and accepts exactly 25 000', () => {
    const { bob } = newPair();
    expect(pqReason(() => spqrRecv(bob, none(1, 25_001)))).toMatch(/key jump: 0 - 25001/);
    expect(spqrRecv(bob, none(1, 25_000)).key).not.toBeNull();
    const lenient = spqrInitialState({
      authKey: new Uint8Array(32).fill(41),
      direction: 'B2A',
      maxJump: 100,
    });
    expect(pqReason(() => spqrRecv(lenient, none(1, 101)))).toMatch(/key jump/);
  });

  it('trims keys more than 2 000 behind the counter', () => {
    const { bob } = newPair();
    const ahead = spqrRecv(bob, none(1, 2600)).state;
    expect(pqReason(() => spqrRecv(ahead, none(1, 599)))).toMatch(/key trimmed: 599/);
    expect(spqrRecv(ahead, none(1, 600)).key).not.toBeNull();
  });

  it('rejects a ciphertext whose MAC does not verify (altered ct2 chunk), input state intact', () => {
    const rng = seededRng(5);
    const pair: Pair = runUntil(newPair(), rng, (p) => p.alice.braidState === 'EkSentCt1Received');
    // Bob keeps sending ct2 chunks; alter the first one Alice gets from here on.
    let alice: SpqrState = pair.alice;
    let bob: SpqrState = pair.bob;
    let tampered = false;
    let failure = '';
    for (let i = 0; i < 10 && failure === ''; i++) {
      const b = spqrSend(bob, rng);
      bob = b.state;
      const bytes = tampered ? b.message : withChunkData(b.message, (d) => (d[0]! ^= 0x80));
      tampered = true;
      try {
        alice = spqrRecv(alice, bytes).state;
      } catch (err) {
        failure = ProtocolError.is(err, 'PQ_RATCHET') ? err.message : String(err);
      }
    }
    expect(failure).toMatch(/ciphertext MAC is invalid \(epoch 1\)/);
    expect(alice.braidState).toBe('EkSentCt1Received');
    // The genuine chunks complete the epoch from the same states.
    let p: Pair = pair;
    p = runUntil(p, rng, (q) => q.alice.epoch === 2);
    expect(p.alice.braidState).toBe('NoHeaderReceived');
  });

  it('rejects an encapsulation key that does not match the authenticated header', () => {
    const rng = seededRng(6);
    let pair = runUntil(newPair(), rng, (p) => p.alice.braidState === 'HeaderSent');
    let bob = pair.bob;
    let failure = '';
    for (let i = 0; i < 80 && failure === ''; i++) {
      const a = spqrSend(pair.alice, rng);
      pair = { ...pair, alice: a.state };
      const parsed = parseSpqrMessage(a.message);
      const bytes =
        parsed.payload.type === 'ek' ? withChunkData(a.message, (d) => (d[31]! ^= 1)) : a.message;
      try {
        bob = spqrRecv(bob, bytes).state;
      } catch (err) {
        failure = ProtocolError.is(err, 'PQ_RATCHET') ? err.message : String(err);
      }
    }
    expect(failure).toMatch(/encapsulation key does not match header/);
  });

  it('lets a rejected state go on with genuine traffic', () => {
    const rng = seededRng(8);
    let pair = newPair();
    expect(() => spqrRecv(pair.bob, none(5, 1))).toThrow(ProtocolError);
    for (let i = 0; i < 50; i++) pair = lockstepRound(pair, rng);
    expect(pair.alice.epoch).toBeGreaterThanOrEqual(2);
  });
});
