/**
 * Fixed-base multiplication (src/hazmat/ed25519-fixed-base.ts) against `@noble/curves`'
 * `ed25519.Point` (BigInt, independent): RFC 8032 §7.1 public keys, every table entry, every
 * (digit position, digit value) the recoding can produce, random scalars below 2^255 reduced or
 * not, and the edges 0, 1, L − 1, L, 2^255 − 1.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { CryptoError } from '../../src/errors.js';
import {
  ed25519FixedBaseMultiply,
  ed25519FixedBasePrepare,
  fixedBaseTableEntry,
} from '../../src/hazmat/ed25519-fixed-base.js';
import { FE_LIMB_POSITIONS, type Fe } from '../../src/hazmat/field25519.js';

const { Point } = ed25519;
const { p: P, d: D } = Point.CURVE();
const L = Point.Fn.ORDER;

const le = (v: bigint) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
const mod = (v: bigint) => ((v % P) + P) % P;
const valueOf = (a: Fe) =>
  mod(a.reduce((acc, limb, i) => acc + (BigInt(limb) << BigInt(FE_LIMB_POSITIONS[i]!)), 0n));

/** noble's encoding of [k]B (k may be ≥ L or 0). */
const expected = (k: bigint) => toHex(Point.BASE.multiplyUnsafe(k % L).toBytes());
const ours = (k: bigint) => toHex(ed25519FixedBaseMultiply(le(k)));

describe('ed25519FixedBaseMultiply', () => {
  it('derives the RFC 8032 §7.1 public keys (TEST 1, 2, 3) from clamp(SHA-512(secret))', () => {
    const vectors = [
      [
        '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      ],
      [
        '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      ],
      [
        'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
        'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      ],
    ] as const;
    for (const [secret, publicKey] of vectors) {
      const scalar = sha512(fromHex(secret)).slice(0, 32);
      scalar[0] = scalar[0]! & 248;
      scalar[31] = (scalar[31]! & 127) | 64;
      expect(toHex(ed25519FixedBaseMultiply(scalar))).toBe(publicKey);
    }
  });

  it('builds every table entry j·256^i·B as (y + x, y − x, 2d·x·y)', () => {
    ed25519FixedBasePrepare();
    let rowBase = Point.BASE;
    for (let row = 0; row < 32; row++) {
      let multiple = rowBase;
      for (let j = 1; j <= 8; j++) {
        const { x, y } = multiple.toAffine();
        const [yPlusX, yMinusX, xy2d] = fixedBaseTableEntry(row, j);
        expect(valueOf(yPlusX)).toBe(mod(y + x));
        expect(valueOf(yMinusX)).toBe(mod(y - x));
        expect(valueOf(xy2d)).toBe(mod(2n * D * x * y));
        multiple = multiple.add(rowBase);
      }
      for (let k = 0; k < 8; k++) rowBase = rowBase.double();
    }
  });

  it('handles every digit position and value of the signed radix-16 recoding', () => {
    // j·16^m for j in 1..15 selects entry j (j ≤ 8) or −(16 − j) with a carry into the next
    // digit (j > 8), at every one of the 64 positions: every row, entry and sign.
    let power = Point.BASE; // 16^m·B
    for (let m = 0; m < 63; m++) {
      let multiple = Point.ZERO;
      for (let j = 1; j <= 15; j++) {
        multiple = multiple.add(power);
        expect(ours(BigInt(j) << BigInt(4 * m))).toBe(toHex(multiple.toBytes()));
      }
      for (let k = 0; k < 4; k++) power = power.double();
    }
    // Position 63 holds bits 252..254: digits up to 7, plus a carry of 1 → up to 8.
    for (let j = 1n; j <= 7n; j++) expect(ours(j << 252n)).toBe(expected(j << 252n));
    expect(ours((8n << 252n) - 1n)).toBe(expected((8n << 252n) - 1n));
  });

  it('matches noble for random scalars below 2^255 (reduced or not) and the edges', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }), (k) => {
        expect(ours(k)).toBe(expected(k));
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: L - 1n }), (k) => {
        expect(ours(k)).toBe(expected(k));
        // k and k + L give the same point.
        expect(ours(k + L)).toBe(ours(k));
      }),
      { numRuns: 100 },
    );
    for (const k of [0n, 1n, 2n, 8n, L - 1n, L, L + 1n, 2n ** 252n, 2n ** 254n, 2n ** 255n - 1n]) {
      expect(ours(k)).toBe(expected(k));
    }
    expect(ours(0n)).toBe('01' + '00'.repeat(31)); // the identity (0, 1)
    expect(ours(1n)).toBe('58' + '66'.repeat(31)); // B, RFC 8032 §5.1
  });

  it('rejects scalars of the wrong length or with bit 255 set, without changing later results', () => {
    expect(() => ed25519FixedBaseMultiply(new Uint8Array(31))).toThrow(CryptoError);
    const high = le(2n ** 255n);
    expect(() => ed25519FixedBaseMultiply(high)).toThrow(CryptoError);
    expect(ours(12345n)).toBe(expected(12345n));
  });

  it('does not modify the scalar', () => {
    const k = le(L - 5n);
    const copy = k.slice();
    ed25519FixedBaseMultiply(k);
    expect(fromLe(k)).toBe(fromLe(copy));
  });
});
