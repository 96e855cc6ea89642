/**
 * SPQR chain (shared/specs/signal-wire.md §3.4 "Chain"; spqr `chain.rs`). Known answers: the
 * libsignal vectors' SPQR message keys are A2B keys 1..3 of epoch 0 for `pqxdh.pqrKey`.
 * Limits follow spqr's defaults (25 000 jump, 2 000 out-of-order keys).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { SPQR_MAX_JUMP, SPQR_MAX_OOO_KEYS } from '../../src/limits.js';
import { addEpoch, createChain, recvKey, sendKey, type Chain } from '../../src/spqr/chain.js';
import { countSkippedKeys } from '../../src/spqr/skipped-keys.js';
import { hex, unhex } from './support.js';
import { MESSAGES, PQR_KEY } from './vectors.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function pqError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (ProtocolError.is(err, 'PQ_RATCHET')) return err.message;
    throw err;
  }
  throw new Error('expected a PQ_RATCHET error');
}

/** Keys 1..n of a direction computed from the spec text with noble's HKDF. */
function referenceKeys(chainKey: Uint8Array, n: number): string[] {
  const keys: string[] = [];
  let next = chainKey;
  for (let ctr = 1; ctr <= n; ctr++) {
    const info = new Uint8Array(4 + 31);
    new DataView(info.buffer).setUint32(0, ctr);
    info.set(utf8('Signal PQ Ratchet V1 Chain Next'), 4);
    const g = hkdf(sha256, next, new Uint8Array(32), info, 64);
    next = g.slice(0, 32);
    keys.push(hex(g.slice(32)));
  }
  return keys;
}

describe('SPQR chain', () => {
  it('reproduces the libsignal vectors: A2B epoch-0 keys 1..3 from PQR', () => {
    let chain = createChain(unhex(PQR_KEY), 'A2B');
    for (const m of MESSAGES) {
      const sent = sendKey(chain, m.spqr.epoch - 1);
      chain = sent.chain;
      expect(sent.index).toBe(m.spqr.index);
      expect(hex(sent.key)).toBe(m.spqr.spqrMessageKey);
    }
    // The responder derives the same keys on its receive side, in any order.
    let bob = createChain(unhex(PQR_KEY), 'B2A');
    for (const m of [MESSAGES[2]!, MESSAGES[0]!, MESSAGES[1]!]) {
      const r = recvKey(bob, 0, m.spqr.index);
      bob = r.chain;
      expect(hex(r.key)).toBe(m.spqr.spqrMessageKey);
    }
  });

  it('matches the spec text ("Chain  Start" with two spaces, "Add Epoch", "Next")', () => {
    const pqr = unhex(PQR_KEY);
    const start = hkdf(
      sha256,
      pqr,
      new Uint8Array(32),
      utf8('Signal PQ Ratchet V1 Chain  Start'),
      96,
    );
    let a2b = createChain(pqr, 'A2B');
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = sendKey(a2b, 0);
      a2b = s.chain;
      keys.push(hex(s.key));
    }
    expect(keys).toEqual(referenceKeys(start.slice(32, 64), 5));
    // After an epoch secret: salt = nextRoot, both directions re-keyed.
    const secret = new Uint8Array(32).fill(9);
    const g = hkdf(
      sha256,
      secret,
      start.slice(0, 32),
      utf8('Signal PQ Ratchet V1 Chain Add Epoch'),
      96,
    );
    a2b = addEpoch(a2b, 1, secret);
    let b2a = addEpoch(createChain(pqr, 'B2A'), 1, secret);
    const k1 = sendKey(a2b, 1);
    expect(k1.index).toBe(1);
    expect(hex(k1.key)).toBe(referenceKeys(g.slice(32, 64), 1)[0]);
    const k2 = sendKey(b2a, 1);
    b2a = k2.chain;
    expect(hex(k2.key)).toBe(referenceKeys(g.slice(64, 96), 1)[0]);
    expect(hex(recvKey(k1.chain, 1, 1).key)).toBe(hex(k2.key));
  });

  it('gives both directions the same keys for every out-of-order arrival within the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (n, seed) => {
          let a = createChain(new Uint8Array(32).fill(seed & 0xff), 'A2B');
          const sent: Array<[number, string]> = [];
          for (let i = 0; i < n; i++) {
            const s = sendKey(a, 0);
            a = s.chain;
            sent.push([s.index, hex(s.key)]);
          }
          const order = sent
            .map((x, i) => [x, (i * 7919 + seed) % 1000] as const)
            .sort((x, y) => x[1] - y[1]);
          let b = createChain(new Uint8Array(32).fill(seed & 0xff), 'B2A');
          for (const [[index, key]] of order) {
            const r = recvKey(b, 0, index);
            b = r.chain;
            expect(hex(r.key)).toBe(key);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps 2 000 skipped keys, all retrievable in a random order', () => {
    let a = createChain(new Uint8Array(32).fill(1), 'A2B');
    const sent = new Map<number, string>();
    for (let i = 0; i < SPQR_MAX_OOO_KEYS + 1; i++) {
      const s = sendKey(a, 0);
      a = s.chain;
      sent.set(s.index, hex(s.key));
    }
    let b = createChain(new Uint8Array(32).fill(1), 'B2A');
    const last = recvKey(b, 0, SPQR_MAX_OOO_KEYS + 1);
    b = last.chain;
    expect(countSkippedKeys(b.links[0]!.recv.skipped)).toBe(SPQR_MAX_OOO_KEYS);
    const indices = [...sent.keys()]
      .slice(0, -1)
      .sort((x, y) => ((x * 48271) % 2003) - ((y * 48271) % 2003));
    for (const i of indices) {
      const r = recvKey(b, 0, i);
      b = r.chain;
      expect(hex(r.key)).toBe(sent.get(i));
    }
    expect(countSkippedKeys(b.links[0]!.recv.skipped)).toBe(0);
  });

  it('refuses a key already handed out, including index 0 and the current counter', () => {
    let b = createChain(new Uint8Array(32).fill(2), 'B2A');
    expect(pqError(() => recvKey(b, 0, 0))).toMatch(/already requested: 0/);
    b = recvKey(b, 0, 2).chain;
    expect(pqError(() => recvKey(b, 0, 2))).toMatch(/already requested: 2/);
    b = recvKey(b, 0, 1).chain;
    expect(pqError(() => recvKey(b, 0, 1))).toMatch(/already requested: 1/);
  });

  it('trims keys older than ctr − 2 000 and refuses jumps beyond 25 000', () => {
    let b = createChain(new Uint8Array(32).fill(3), 'B2A');
    b = recvKey(b, 0, 2600).chain;
    expect(pqError(() => recvKey(b, 0, 599))).toMatch(/trimmed: 599/);
    expect(recvKey(b, 0, 600).key.length).toBe(32);
    expect(pqError(() => recvKey(b, 0, 2600 + SPQR_MAX_JUMP + 1))).toMatch(/key jump/);
    const far = recvKey(b, 0, 2600 + SPQR_MAX_JUMP);
    // Everything before the new horizon is gone, keys inside it are kept.
    expect(countSkippedKeys(far.chain.links[0]!.recv.skipped)).toBe(SPQR_MAX_OOO_KEYS);
    expect(pqError(() => recvKey(far.chain, 0, 600))).toMatch(/trimmed/);
  });

  it('honours a custom maxJump (libsignal uses 2^32 − 1 for a session with oneself)', () => {
    const small = createChain(new Uint8Array(32), 'B2A', { maxJump: 10 });
    expect(pqError(() => recvKey(small, 0, 11))).toMatch(/key jump: 0 - 11/);
    expect(recvKey(small, 0, 10).key.length).toBe(32);
    expect(createChain(new Uint8Array(32), 'B2A', { maxJump: 0xffff_ffff }).maxJump).toBe(
      0xffff_ffff,
    );
    expect(() => createChain(new Uint8Array(32), 'B2A', { maxJump: 0 })).toThrow(ProtocolError);
  });

  it('keeps one epoch before the send epoch and erases older send halves', () => {
    let a: Chain = createChain(new Uint8Array(32).fill(4), 'A2B');
    let b: Chain = createChain(new Uint8Array(32).fill(4), 'B2A');
    const e0 = sendKey(a, 0);
    a = e0.chain;
    for (let e = 1; e <= 3; e++) {
      a = addEpoch(a, e, new Uint8Array(32).fill(e));
      b = addEpoch(b, e, new Uint8Array(32).fill(e));
    }
    expect(a.links.length).toBe(4);
    // b can still receive epoch 0 and 1 before it sends in a newer epoch.
    expect(hex(recvKey(b, 0, 1).key)).toBe(hex(e0.key));
    const s3 = sendKey(a, 3);
    a = s3.chain;
    expect(a.links.length).toBe(2); // epochs 2 and 3
    expect(a.links[0]!.send.next).toBeNull();
    expect(pqError(() => sendKey(a, 2))).toMatch(/decreased/);
    expect(pqError(() => recvKey(a, 1, 1))).toMatch(/epoch 1 is out of range/);
    expect(recvKey(a, 2, 1).key.length).toBe(32);
    expect(pqError(() => recvKey(a, 4, 1))).toMatch(/epoch 4 is out of range/);
    expect(pqError(() => addEpoch(a, 5, new Uint8Array(32)))).toMatch(/does not follow/);
  });

  it('never changes its input', () => {
    const a = createChain(new Uint8Array(32).fill(5), 'B2A');
    const first = recvKey(a, 0, 5);
    const again = recvKey(a, 0, 5);
    expect(hex(again.key)).toBe(hex(first.key));
    const skippedBefore = countSkippedKeys(first.chain.links[0]!.recv.skipped);
    const taken = recvKey(first.chain, 0, 3);
    expect(countSkippedKeys(first.chain.links[0]!.recv.skipped)).toBe(skippedBefore);
    expect(hex(recvKey(first.chain, 0, 3).key)).toBe(hex(taken.key));
  });
});
