/**
 * GF(2^255 − 19) on 12 double limbs (src/hazmat/field25519.ts) against BigInt arithmetic written
 * here from the definitions: random limbs at the largest scales each function allows (signed,
 * unreduced), values at and around p, and an exact recomputation of the bound that keeps every
 * product exact in doubles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FE_LIMB_POSITIONS,
  FE_LIMB_WIDTHS,
  type Fe,
  fe,
  feAdd,
  feCarry,
  feEqual,
  feFromBytes,
  feInvert,
  feIsNegative,
  feIsZero,
  feMul,
  fePow22523,
  feSqr,
  feSqrN,
  feSub,
  feToBytes,
} from '../../src/hazmat/field25519.js';

const P = 2n ** 255n - 19n;
const mod = (v: bigint) => ((v % P) + P) % P;
function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n, b = (b * b) % P)
    if ((e & 1n) === 1n) result = (result * b) % P;
  return result;
}

/** The limb layout re-derived here: position ⌈21.25·i⌉. */
const POSITIONS = Array.from({ length: 13 }, (_, i) => Math.ceil((255 * i) / 12));
const WIDTHS = POSITIONS.slice(1).map((end, i) => end - POSITIONS[i]!);

/** Σ limb_i · 2^pos_i, exactly (limbs may be negative or oversized). */
function value(a: Fe): bigint {
  let v = 0n;
  for (let i = 0; i < 12; i++) {
    expect(Number.isInteger(a[i])).toBe(true);
    v += BigInt(a[i]!) << BigInt(POSITIONS[i]!);
  }
  return v;
}

/** The unsigned limb decomposition of 0 ≤ v < 2^255. */
function fromBig(v: bigint): Fe {
  const out = fe();
  for (let i = 0; i < 12; i++) {
    out[i] = Number((v >> BigInt(POSITIONS[i]!)) & ((1n << BigInt(WIDTHS[i]!)) - 1n));
  }
  return out;
}

const fromLe = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);

/** Elements whose limbs satisfy |limb_i| ≤ scale · 2^(w_i − 1). */
const element = (scale: number) =>
  fc
    .tuple(
      ...WIDTHS.map((w) => {
        const bound = Math.floor(scale * 2 ** (w - 1));
        return fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: -bound, max: bound }) },
          { weight: 1, arbitrary: fc.constantFrom(-bound, bound, 0) },
        );
      }),
    )
    .map((limbs) => Float64Array.from(limbs));

/** The bound a carried output must meet: 2^(w−1), plus 2^15 on limb 1 and 2^11 on limb 7. */
function expectCarried(a: Fe): void {
  for (let i = 0; i < 12; i++) {
    const slack = i === 1 ? 2 ** 15 : i === 7 ? 2 ** 11 : 0;
    expect(Math.abs(a[i]!)).toBeLessThanOrEqual(2 ** (WIDTHS[i]! - 1) + slack);
  }
}

/** Elements at the extremes: every limb ±scale·2^(w−1), all one sign or alternating. */
function extremes(scale: number): Fe[] {
  const at = (sign: (i: number) => number) =>
    Float64Array.from(WIDTHS, (w, i) => sign(i) * Math.floor(scale * 2 ** (w - 1)));
  return [at(() => 1), at(() => -1), at((i) => (i % 2 === 0 ? 1 : -1))];
}

const NEAR_P = [0n, 1n, 2n, 19n, P - 2n, P - 1n, P, P + 1n, P + 18n, 2n ** 255n - 1n, 2n ** 254n];

describe('field25519 layout and bounds', () => {
  it('uses limb positions ⌈21.25·i⌉', () => {
    expect(FE_LIMB_POSITIONS).toEqual(POSITIONS);
    expect(FE_LIMB_WIDTHS).toEqual(WIDTHS);
  });

  it('keeps every column of a product below 2^53 when scale(a)·scale(b) ≤ 16 (exact bound)', () => {
    // limb i times limb j lands at pos_i + pos_j = pos_{(i+j) mod 12} + e (+255 past the top),
    // e ∈ {0, 1}; 2^255 ≡ 19. So the term's factor is 2^e, times 19 when it wraps.
    let worst = 0n;
    for (let k = 0; k < 12; k++) {
      let column = 0n;
      for (let i = 0; i < 12; i++) {
        const j = (k - i + 12) % 12;
        const wraps = i + j >= 12;
        const e = POSITIONS[i]! + POSITIONS[j]! - POSITIONS[k]! - (wraps ? 255 : 0);
        expect([0, 1]).toContain(e);
        const factor = (wraps ? 19n : 1n) << BigInt(e);
        // scale 4 on each side: |limb| ≤ 4·2^(w−1) = 2^(w+1)
        column += factor * (1n << BigInt(WIDTHS[i]! + 1)) * (1n << BigInt(WIDTHS[j]! + 1));
      }
      if (column > worst) worst = column;
    }
    // The carry chain adds at most worst/2^21 + 1 to a column, and 19 times that to column 0.
    const withCarry = worst + 19n * (worst / 2n ** 21n + 2n);
    expect(withCarry < 2n ** 53n).toBe(true);
    expect(worst > 2n ** 52n).toBe(true); // the bound is tight enough to matter
  });
});

describe('field25519 arithmetic against BigInt', () => {
  it('feMul: exact and carried for scale(a)·scale(b) ≤ 16', () => {
    const o = fe();
    for (const [sa, sb] of [
      [1.04, 1.04],
      [4, 4],
      [2, 8],
      [3.2, 4.2],
    ] as const) {
      fc.assert(
        fc.property(element(sa), element(sb), (a, b) => {
          feMul(o, a, b);
          expect(mod(value(o))).toBe(mod(value(a) * value(b)));
          expectCarried(o);
        }),
        { numRuns: 300 },
      );
    }
    for (const a of extremes(4)) {
      for (const b of extremes(4)) {
        feMul(o, a, b);
        expect(mod(value(o))).toBe(mod(value(a) * value(b)));
        expectCarried(o);
      }
    }
  });

  it('feMul allows the output to alias either input', () => {
    fc.assert(
      fc.property(element(2), element(2), (a, b) => {
        const expected = mod(value(a) * value(b));
        const a2 = a.slice();
        feMul(a2, a2, b);
        expect(mod(value(a2))).toBe(expected);
        const b2 = b.slice();
        feMul(b2, a, b2);
        expect(mod(value(b2))).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('feSqr and feSqrN: exact and carried for scale ≤ 4', () => {
    const o = fe();
    fc.assert(
      fc.property(element(4), fc.integer({ min: 1, max: 12 }), (a, n) => {
        feSqr(o, a);
        expect(mod(value(o))).toBe(mod(value(a) ** 2n));
        expectCarried(o);
        feSqrN(o, a, n);
        expect(mod(value(o))).toBe(pow(value(a), 2n ** BigInt(n)));
        expectCarried(o);
      }),
      { numRuns: 500 },
    );
    for (const a of extremes(4)) {
      feSqr(o, a);
      expect(mod(value(o))).toBe(mod(value(a) ** 2n));
      expectCarried(o);
    }
  });

  it('feAdd, feSub and feCarry preserve the value', () => {
    const o = fe();
    fc.assert(
      fc.property(element(16), element(16), (a, b) => {
        feAdd(o, a, b);
        expect(value(o)).toBe(value(a) + value(b));
        feSub(o, a, b);
        expect(value(o)).toBe(value(a) - value(b));
        feCarry(o, o);
        expect(mod(value(o))).toBe(mod(value(a) - value(b)));
        expectCarried(o);
      }),
      { numRuns: 300 },
    );
  });

  it('feToBytes gives the canonical encoding for any scale ≤ 16, including values around p', () => {
    const out = new Uint8Array(32);
    const check = (a: Fe) => {
      const v = mod(value(a));
      feToBytes(out, 0, a);
      expect(fromLe(out)).toBe(v);
      expect(feIsNegative(a)).toBe(Number(v & 1n));
      expect(feIsZero(a)).toBe(v === 0n ? 1 : 0);
    };
    fc.assert(fc.property(element(16), check), { numRuns: 500 });
    for (const v of NEAR_P) {
      check(fromBig(v));
      // The same value with a borrow spread over the limbs: v − 2^pos_1 + 2^22 at limb 0.
      const spread = fromBig(v);
      spread[0] = spread[0]! + 2 ** 22;
      spread[1] = spread[1]! - 1;
      check(spread);
      // −v and −v − p, as all-negative limbs.
      const negated = fromBig(v).map((x) => -x);
      check(negated);
    }
    for (const a of extremes(16)) check(a);
    // The writer honours the offset.
    const wide = new Uint8Array(40).fill(0xaa);
    feToBytes(wide, 5, fromBig(P + 5n));
    expect(wide[4]).toBe(0xaa);
    expect(fromLe(wide.subarray(5, 37))).toBe(5n);
    expect(wide[37]).toBe(0xaa);
  });

  it('feFromBytes reads 255 bits and ignores bit 255', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const o = fe();
        feFromBytes(o, bytes);
        expect(value(o)).toBe(fromLe(bytes) & (2n ** 255n - 1n));
      }),
      { numRuns: 300 },
    );
    const padded = new Uint8Array(40).fill(0xff);
    const o = fe();
    feFromBytes(o, padded, 3);
    expect(value(o)).toBe(2n ** 255n - 1n);
  });

  it('feInvert and fePow22523 match Fermat exponentiation', () => {
    const o = fe();
    const check = (a: Fe) => {
      const v = mod(value(a));
      feInvert(o, a);
      expect(mod(value(o))).toBe(pow(v, P - 2n));
      if (v !== 0n) expect(mod(value(o) * v)).toBe(1n);
      fePow22523(o, a);
      expect(mod(value(o))).toBe(pow(v, (P - 5n) / 8n));
    };
    fc.assert(fc.property(element(4), check), { numRuns: 40 });
    for (const v of NEAR_P) check(fromBig(v));
  });

  it('feEqual compares values mod p', () => {
    expect(feEqual(fromBig(5n), fromBig(P + 5n))).toBe(1);
    expect(feEqual(fromBig(0n), fromBig(P))).toBe(1);
    expect(feEqual(fromBig(P - 1n), fromBig(2n ** 255n - 1n))).toBe(0);
    fc.assert(
      fc.property(element(4), element(4), (a, b) => {
        expect(feEqual(a, b)).toBe(mod(value(a)) === mod(value(b)) ? 1 : 0);
        expect(feEqual(a, a)).toBe(1);
      }),
      { numRuns: 200 },
    );
  });
});
