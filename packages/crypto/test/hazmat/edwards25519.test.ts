/**
 * edwards25519 encoding, decoding and the Montgomery → Edwards map (src/hazmat/edwards25519.ts)
 * against `@noble/curves` (RFC 8032-strict decoding, BigInt field) and the definitions.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { decode, edwardsFromMontgomery, encode, extended } from '../../src/hazmat/edwards25519.js';

const { Point } = ed25519;
const { p: P } = Point.CURVE();
const L = Point.Fn.ORDER;
const le = (v: bigint) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
const mod = (v: bigint) => ((v % P) + P) % P;

/** noble's RFC 8032 decoding: the point's encoding, or null if rejected. */
function nobleDecode(bytes: Uint8Array): string | null {
  try {
    return toHex(Point.fromBytes(bytes, false).toBytes());
  } catch {
    return null;
  }
}

function ourDecode(bytes: Uint8Array): string | null {
  const p = extended();
  if (decode(p, bytes) === 0) return null;
  const out = new Uint8Array(32);
  encode(out, 0, p);
  return toHex(out);
}

/**
 * The eight points of order dividing 8: [L]Q for a point Q outside the prime-order subgroup has
 * order dividing 8; pick one of order exactly 8 and take its multiples.
 */
function torsionPoints(): Uint8Array[] {
  for (let y = 2n; ; y++) {
    let q;
    try {
      q = Point.fromBytes(le(y), false);
    } catch {
      continue;
    }
    const t = q.multiplyUnsafe(L - 1n).add(q); // [L]Q (noble takes scalars below L)
    if (t.double().double().is0()) continue; // order 1, 2 or 4
    const out: Uint8Array[] = [];
    let multiple = Point.ZERO;
    for (let i = 0; i < 8; i++, multiple = multiple.add(t)) out.push(multiple.toBytes());
    return out;
  }
}

/** Encodings with y at and beyond p, x = 0 with either sign, and the small-order points. */
const SPECIAL_ENCODINGS = [
  le(0n),
  le(1n), // (0, 1), the identity
  le(1n | (1n << 255n)), // x = 0 with the sign bit: not canonical
  le(P - 1n), // (0, −1)
  le((P - 1n) | (1n << 255n)),
  le(P), // y = p: not canonical
  le(P + 1n),
  le(2n ** 255n - 1n),
  ...torsionPoints(),
];

describe('decode (RFC 8032 §5.1.3)', () => {
  it('accepts and rejects exactly what noble accepts, and round-trips through encode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        expect(ourDecode(bytes)).toBe(nobleDecode(bytes));
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: L - 1n }), (k) => {
        const bytes = Point.BASE.multiply(k).toBytes();
        expect(ourDecode(bytes)).toBe(toHex(bytes));
      }),
      { numRuns: 100 },
    );
    for (const bytes of SPECIAL_ENCODINGS) expect(ourDecode(bytes)).toBe(nobleDecode(bytes));
  });
});

describe('edwardsFromMontgomery (y = (u − 1)/(u + 1), curve25519-dalek semantics)', () => {
  /** The same map in BigInt, written from RFC 7748 §4.1. */
  function reference(u: Uint8Array, signBit: number): string | null {
    const uValue = mod(fromLe(u) & (2n ** 255n - 1n));
    if (uValue === P - 1n) return null;
    const { Fp } = Point;
    const y = Fp.div(mod(uValue - 1n), mod(uValue + 1n));
    const out = le(y);
    if (y !== P - 1n) out[31] = out[31]! | signBit;
    return toHex(out);
  }

  it('matches the BigInt map for random u (bit 255 ignored) and the special values', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(0, 0x80),
        (u, sign) => {
          const ours = edwardsFromMontgomery(u, sign);
          expect(ours === null ? null : toHex(ours)).toBe(reference(u, sign));
        },
      ),
      { numRuns: 200 },
    );
    for (const u of [0n, 1n, 2n, P - 2n, P - 1n, P, P + 1n, 2n ** 255n - 1n, 2n ** 256n - 1n]) {
      for (const sign of [0, 0x80]) {
        const ours = edwardsFromMontgomery(le(u & (2n ** 256n - 1n)), sign);
        expect(ours === null ? null : toHex(ours)).toBe(reference(le(u), sign));
      }
    }
    // u = −1 has no image; u = 0 maps to (0, −1), encoded with sign 0 whatever the sign bit.
    expect(edwardsFromMontgomery(le(P - 1n), 0)).toBeNull();
    expect(toHex(edwardsFromMontgomery(le(0n), 0x80)!)).toBe(toHex(le(P - 1n)));
  });

  it('inverts the Edwards → Montgomery map u = (1 + y)/(1 − y) on the prime-order subgroup', () => {
    const { Fp } = Point;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: L - 1n }), (k) => {
        const a = Point.BASE.multiply(k);
        const { y } = a.toAffine();
        const u = Fp.div(Fp.add(1n, y), Fp.sub(1n, y));
        const encoded = a.toBytes();
        expect(toHex(edwardsFromMontgomery(le(u), encoded[31]! & 0x80)!)).toBe(toHex(encoded));
      }),
      { numRuns: 50 },
    );
  });
});
