/**
 * The verification equation `encode([s]B − [h]A) == R` (src/hazmat/ed25519-double-base.ts)
 * against `@noble/curves` BigInt point arithmetic: random and edge scalars below 2^253, keys in the
 * prime-order subgroup and keys with a small-order component, R correct, mutated or non-canonical.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import {
  expandVerifyingPoint,
  prepareVerifyingPoint,
  verifyEquation,
} from '../../src/hazmat/ed25519-double-base.js';

const { Point } = ed25519;
const { p: P } = Point.CURVE();
const L = Point.Fn.ORDER;
const le = (v: bigint) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);

/** A point of order 8 ([L]Q for a point Q outside the prime-order subgroup). */
const ORDER_8 = (() => {
  for (let y = 2n; ; y++) {
    try {
      const q = Point.fromBytes(le(y), false);
      const t = q.multiplyUnsafe(L - 1n).add(q);
      if (!t.double().double().is0()) return t;
    } catch {
      // not a point
    }
  }
})();

/**
 * noble's [s]B − [h]A for A = [k]B + [t]T (T of order 8), encoded; s and h may exceed L, so [h]A
 * is computed as [h·k mod L]B + [h·t mod 8]T (noble takes scalars below L only).
 */
function expected(k: bigint, t: bigint, s: bigint, h: bigint): Uint8Array {
  const hA = Point.BASE.multiplyUnsafe((h * k) % L).add(ORDER_8.multiplyUnsafe((h * t) % 8n));
  return Point.BASE.multiplyUnsafe(s % L)
    .subtract(hA)
    .toBytes();
}

const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: L - 1n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 253n - 1n }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 2n, L - 1n, L, 2n ** 252n, 2n ** 253n - 1n) },
);
const torsion = fc.integer({ min: 0, max: 7 });

describe('verifyEquation', () => {
  it('accepts R = [s]B − [h]A and rejects every mutation of it', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: L - 1n }),
        torsion,
        scalar,
        scalar.filter((h) => h < 2n ** 253n - 1n),
        fc.integer({ min: 0, max: 254 }),
        (k, t, s, h, bit) => {
          // A may carry a small-order component: the equation is cofactorless, as in libsignal.
          const a = Point.BASE.multiply(k).add(ORDER_8.multiplyUnsafe(BigInt(t)));
          const key = prepareVerifyingPoint(a.toBytes())!;
          expect(key).not.toBeNull();
          const R = expected(k, BigInt(t), s, h);
          const flipped = R.slice();
          flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7));
          // Once with the one-chunk tables, once expanded to four chunks.
          for (const chunks of [1, 4]) {
            if (chunks === 4) expandVerifyingPoint(key);
            expect(key.chunks).toBe(chunks);
            expect(verifyEquation(key, R, le(s), le(h))).toBe(true);
            expect(verifyEquation(key, flipped, le(s), le(h))).toBe(false);
            // Another h or s gives another point ([h + 1]A ≠ [h]A since A ≠ O).
            expect(verifyEquation(key, R, le(s), le(h + 1n))).toBe(false);
            expect(verifyEquation(key, R, le((s + 1n) % L), le(h))).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('compares R as bytes: the non-canonical encoding of the same point (y + p) is rejected', () => {
    // y = 1 and y = 0 have non-canonical twins y + p below 2^255: (0, 1) is [0]B − [0]A.
    const key = prepareVerifyingPoint(Point.BASE.multiply(5n).toBytes())!;
    const identity = le(1n);
    for (const chunks of [1, 4]) {
      if (chunks === 4) expandVerifyingPoint(key);
      expect(verifyEquation(key, identity, le(0n), le(0n))).toBe(true);
      expect(verifyEquation(key, le(1n + P), le(0n), le(0n))).toBe(false);
      // [L]B − [0]A is also the identity: s = L is the same scalar as 0.
      expect(verifyEquation(key, identity, le(L), le(0n))).toBe(true);
    }
  });

  it('handles keys of small order and the identity key', () => {
    for (let t = 0; t < 8; t++) {
      const a = ORDER_8.multiplyUnsafe(BigInt(t));
      const key = prepareVerifyingPoint(a.toBytes())!;
      expect(key).not.toBeNull();
      for (const chunks of [1, 4]) {
        if (chunks === 4) expandVerifyingPoint(key);
        for (const [s, h] of [
          [5n, 3n],
          [L - 1n, 8n],
          [0n, 7n],
          [2n ** 253n - 1n, 2n ** 253n - 1n],
        ] as const) {
          expect(verifyEquation(key, expected(0n, BigInt(t), s, h), le(s), le(h))).toBe(true);
        }
      }
    }
  });
});

describe('prepareVerifyingPoint', () => {
  it('rejects exactly the encodings noble rejects and keeps the canonical encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        let valid: boolean;
        try {
          Point.fromBytes(bytes, false);
          valid = true;
        } catch {
          valid = false;
        }
        const key = prepareVerifyingPoint(bytes);
        expect(key !== null).toBe(valid);
        if (key !== null) expect(toHex(key.encoded)).toBe(toHex(bytes));
      }),
      { numRuns: 300 },
    );
    expect(prepareVerifyingPoint(le(P + 1n))).toBeNull(); // y = 1 + p: not canonical
    expect(prepareVerifyingPoint(le(1n | (1n << 255n)))).toBeNull(); // x = 0 with sign 1
    expect(fromLe(prepareVerifyingPoint(le(1n))!.encoded)).toBe(1n);
  });

  it('does not keep a reference to the caller’s array', () => {
    const bytes = Point.BASE.multiply(9n).toBytes();
    const key = prepareVerifyingPoint(bytes)!;
    bytes.fill(0);
    expect(toHex(key.encoded)).toBe(toHex(Point.BASE.multiply(9n).toBytes()));
  });
});
