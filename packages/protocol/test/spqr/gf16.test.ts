/**
 * GF(2^16) with reduction polynomial 0x1100B (shared/specs/signal-wire.md §3.4 "Erasure code").
 * The table-driven field is checked against a shift-and-add reference multiplication written
 * here from the definition, and for the field laws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GF16_EXP,
  GF16_LOG,
  GF16_POLYNOMIAL,
  gfAdd,
  gfDiv,
  gfInv,
  gfMul,
} from '../../src/spqr/gf16.js';

/** Carry-less multiplication followed by reduction modulo x^16 + x^12 + x^3 + x + 1. */
function referenceMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 16; i++) if ((b >> i) & 1) product ^= a << i;
  for (let bit = 30; bit >= 16; bit--) {
    if ((product >> bit) & 1) product ^= 0x1100b << (bit - 16);
  }
  return product;
}

const element = fc.integer({ min: 0, max: 0xffff });
const nonZero = fc.integer({ min: 1, max: 0xffff });

describe('GF(2^16)', () => {
  it('uses the primitive polynomial 0x1100B and x generates all 65535 non-zero elements', () => {
    expect(GF16_POLYNOMIAL).toBe(0x1100b);
    const seen = new Uint8Array(65536);
    let problems = 0;
    let x = 1; // x^i computed independently with the reference multiplication
    for (let i = 0; i < 65535; i++) {
      const v = GF16_EXP[i]!;
      if (v === 0 || seen[v] !== 0 || GF16_LOG[v] !== i || v !== x) problems++;
      seen[v] = 1;
      x = referenceMul(x, 2);
    }
    expect(problems).toBe(0);
    expect(x).toBe(1); // order of x is exactly 65535
    expect(GF16_EXP[65535]).toBe(1);
  });

  it('multiplies like the shift-and-add reference', () => {
    fc.assert(
      fc.property(element, element, (a, b) => gfMul(a, b) === referenceMul(a, b)),
      {
        numRuns: 2000,
      },
    );
    expect(gfMul(0x8000, 2)).toBe(0x100b); // x^15 · x = x^16 ≡ x^12 + x^3 + x + 1
  });

  it('satisfies the field laws', () => {
    fc.assert(
      fc.property(element, element, element, (a, b, c) => {
        expect(gfAdd(a, b)).toBe(gfAdd(b, a));
        expect(gfAdd(a, a)).toBe(0);
        expect(gfMul(a, b)).toBe(gfMul(b, a));
        expect(gfMul(gfMul(a, b), c)).toBe(gfMul(a, gfMul(b, c)));
        expect(gfMul(a, gfAdd(b, c))).toBe(gfAdd(gfMul(a, b), gfMul(a, c)));
        expect(gfMul(a, 1)).toBe(a);
        expect(gfMul(a, 0)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('inverts and divides', () => {
    fc.assert(
      fc.property(element, nonZero, (a, b) => {
        expect(gfMul(b, gfInv(b))).toBe(1);
        expect(gfMul(gfDiv(a, b), b)).toBe(a);
      }),
      { numRuns: 2000 },
    );
    expect(() => gfInv(0)).toThrow(RangeError);
    expect(() => gfDiv(1, 0)).toThrow(RangeError);
    expect(gfDiv(0, 5)).toBe(0);
  });
});
