/** Shared helpers of the SPQR tests: a reproducible RNG and conversation drivers. */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '../../src/rng.js';
import { readFields } from '../../src/wire/protobuf.js';
import { spqrInitialState, spqrRecv, spqrSend, type SpqrState } from '../../src/spqr/index.js';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** Deterministic RNG (SHA-256 in counter mode) so failures reproduce. */
export function seededRng(seed: number): Rng {
  let counter = 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const input = new Uint8Array(8);
      new DataView(input.buffer).setUint32(0, seed >>> 0);
      new DataView(input.buffer).setUint32(4, counter++);
      out.set(sha256(input).subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}

/** Small deterministic PRNG for traffic patterns (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const AUTH_KEY = new Uint8Array(32).fill(41);

export interface Pair {
  alice: SpqrState;
  bob: SpqrState;
}

export function newPair(authKey: Uint8Array = AUTH_KEY): Pair {
  return {
    alice: spqrInitialState({ authKey, direction: 'A2B' }),
    bob: spqrInitialState({ authKey, direction: 'B2A' }),
  };
}

/** Sends one message each way (Alice first), checking keys agree; returns the new pair. */
export function lockstepRound(pair: Pair, rng: Rng): Pair {
  const a = spqrSend(pair.alice, rng);
  const b1 = spqrRecv(pair.bob, a.message);
  if (a.key === null || b1.key === null || hex(a.key) !== hex(b1.key))
    throw new Error('A->B key mismatch');
  const b = spqrSend(b1.state, rng);
  const a1 = spqrRecv(a.state, b.message);
  if (b.key === null || a1.key === null || hex(b.key) !== hex(a1.key))
    throw new Error('B->A key mismatch');
  return { alice: a1.state, bob: b.state };
}

/** Runs lockstep rounds until `done(pair)` holds (at most `maxRounds`). */
export function runUntil(pair: Pair, rng: Rng, done: (p: Pair) => boolean, maxRounds = 400): Pair {
  let p = pair;
  for (let i = 0; i < maxRounds; i++) {
    if (done(p)) return p;
    p = lockstepRound(p, rng);
  }
  if (done(p)) return p;
  throw new Error('runUntil: condition not reached');
}

/** The pq_ratchet field (5) of the SignalMessage inside a PreKeySignalMessage (field 4). */
export function pqRatchetOf(preKeySignalMessageHex: string): Uint8Array {
  const pre = unhex(preKeySignalMessageHex);
  let inner: Uint8Array | undefined;
  for (const f of readFields(pre.subarray(1))) if (f.field === 4) inner = f.bytes;
  if (inner === undefined) throw new Error('no inner message');
  const body = inner.subarray(1, inner.length - 8); // version byte ... MAC(8)
  for (const f of readFields(body)) if (f.field === 5) return f.bytes.slice();
  throw new Error('no pq_ratchet');
}
