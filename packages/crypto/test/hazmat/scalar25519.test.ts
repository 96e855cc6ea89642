/**
 * Scalars mod L without BigInt (src/hazmat/scalar25519.ts) against BigInt `%` here: random inputs
 * of every accepted length, and the edges of each reduction step (0, L − 1, L, 2^252, all-ones, L²).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/errors.js';
import { scalarMulAdd, scalarReduce } from '../../src/hazmat/scalar25519.js';

// RFC 8032 §5.1: L = 2^252 + 27742317777372353535851937790883648493.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const le = (v: bigint, length: number) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);

const EDGES_256 = [
  0n,
  1n,
  L - 1n,
  L,
  L + 1n,
  2n ** 252n - 1n,
  2n ** 252n,
  2n * L - 1n,
  2n ** 253n - 1n,
  15n * L,
  2n ** 255n,
  2n ** 256n - 1n,
];
const EDGES_512 = [
  ...EDGES_256,
  L * L - 1n,
  L * L,
  (2n ** 256n - 1n) ** 2n,
  2n ** 511n,
  2n ** 512n - 1n,
];

const bytes = (length: number) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ minLength: length, maxLength: length }) },
    { weight: 1, arbitrary: fc.constantFrom(...EDGES_256).map((v) => le(v, length)) },
  );

describe('scalarReduce', () => {
  it('reduces 32- and 64-byte inputs to canonical values below L', () => {
    fc.assert(
      fc.property(bytes(64), bytes(32), (wide, narrow) => {
        expect(fromLe(scalarReduce(wide))).toBe(fromLe(wide) % L);
        expect(fromLe(scalarReduce(narrow))).toBe(fromLe(narrow) % L);
      }),
      { numRuns: 2000 },
    );
    for (const v of EDGES_512) expect(fromLe(scalarReduce(le(v, 64)))).toBe(v % L);
    for (const v of EDGES_256) expect(fromLe(scalarReduce(le(v, 32)))).toBe(v % L);
  });

  it('writes into a given output and rejects other lengths', () => {
    const out = new Uint8Array(32).fill(0xee);
    expect(scalarReduce(le(L + 7n, 32), out)).toBe(out);
    expect(fromLe(out)).toBe(7n);
    for (const length of [0, 31, 33, 63, 65]) {
      expect(() => scalarReduce(new Uint8Array(length))).toThrow(CryptoError);
    }
    expect(() => scalarReduce(new Uint8Array(32), new Uint8Array(31))).toThrow(CryptoError);
  });
});

describe('scalarMulAdd', () => {
  it('computes (a·b + c) mod L for any 32-byte a, b, c', () => {
    const out = new Uint8Array(32);
    fc.assert(
      fc.property(bytes(32), bytes(32), bytes(32), (a, b, c) => {
        scalarMulAdd(out, 0, a, b, c);
        expect(fromLe(out)).toBe((fromLe(a) * fromLe(b) + fromLe(c)) % L);
      }),
      { numRuns: 2000 },
    );
    for (const a of EDGES_256) {
      for (const b of EDGES_256) {
        for (const c of [0n, L - 1n, 2n ** 256n - 1n]) {
          scalarMulAdd(out, 0, le(a, 32), le(b, 32), le(c, 32));
          expect(fromLe(out)).toBe((a * b + c) % L);
        }
      }
    }
  });

  it('writes at an offset and leaves the rest alone', () => {
    const out = new Uint8Array(64).fill(0xcc);
    scalarMulAdd(out, 32, le(3n, 32), le(5n, 32), le(L + 1n, 32));
    expect(fromLe(out.subarray(32))).toBe(16n);
    expect(out.subarray(0, 32).every((b) => b === 0xcc)).toBe(true);
  });
});
