/**
 * Arithmetic in GF(2^255 − 19) on 12 limbs held in a Float64Array, for the edwards25519
 * fixed-base multiplication of XEdDSA signing (signal-wire.md §4; `ed25519-fixed-base.ts`).
 *
 * Method: the unsaturated mixed-radix representation of ref10 (SUPERCOP's reference Ed25519 by
 * Bernstein, Duif, Lange, Schwabe and Yang, `fe.h`; written from its description, not copied). An
 * element is Σ limb_i · 2^pos_i with pos_i = ⌈21.25·i⌉ = 0, 22, 43, 64, 85, 107, 128, 149, 170,
 * 192, 213, 234: widths 22, 21, 21, 21, repeated three times. ref10 uses 10 limbs of 25.5 bits in
 * int64; JavaScript's exact integers stop at 2^53, so the limbs here are narrower and every
 * product, sum and carry is an exact double. In a product, limb i times limb j
 * lands at pos_i + pos_j, which is pos_{i+j} or pos_{i+j} + 1 (so a factor 1 or 2), and past
 * 2^255 it wraps with 2^255 ≡ 19 (a factor 19 or 38). Those factors are written out term by term in
 * `feMul`/`feSqr`.
 *
 * Bounds (checked by `test/hazmat/field25519.test.ts`, which recomputes them exactly):
 * - The *scale* of an element is max_i |limb_i| / 2^(w_i − 1). `feMul`/`feSqr`/`feCarry` return
 *   *carried* elements: limbs rounded to the nearest multiple (so signed), |limb_i| ≤ 2^(w_i − 1)
 *   except that limb 1 may exceed it by 2^15 and (squaring) limb 7 by 2^11: scale ≤ 1.04.
 * - `feMul(a, b)` is exact when scale(a) · scale(b) ≤ 16 (then every column sum is below 2^52.97
 *   and every carry below 2^53); `feSqr(a)` when scale(a) ≤ 4. So the inputs may be sums or
 *   differences of up to three carried elements on one side and four on the other with no
 *   intermediate carry. `feAdd`/`feSub` do not carry; callers keep within these bounds, and the
 *   point formulas in `ed25519-fixed-base.ts` note the scale of each input.
 * - Rounding a column to the nearest multiple of 2^w uses the 1.5·2^52 trick: for |x| < 2^51,
 *   `(x + 1.5·2^52) − 1.5·2^52` is x rounded to an integer by the FPU (Math.round is ~3× slower
 *   in V8).
 *
 * Timing: no branches or table indices depend on values; floating-point multiply/add of integers
 * (never subnormal) take data-independent time on current CPUs. JavaScript itself promises nothing
 * about timing (docs/crypto.md, "What JavaScript cannot promise").
 *
 * Left out on purpose: point decompression (only `fePow22523`, which the base-point setup needs),
 * and BigInt anywhere.
 */

/** A field element: 12 limbs as described above. Always `new Float64Array(FE_LIMBS)`. */
export type Fe = Float64Array;

export const FE_LIMBS = 12;
/** Bit position of each limb, and 255 at the end. */
export const FE_LIMB_POSITIONS: readonly number[] = [
  0, 22, 43, 64, 85, 107, 128, 149, 170, 192, 213, 234, 255,
];
/** Bit width of each limb. */
export const FE_LIMB_WIDTHS: readonly number[] = FE_LIMB_POSITIONS.slice(1).map(
  (end, i) => end - FE_LIMB_POSITIONS[i]!,
);

const TWO_21 = 2 ** 21;
const TWO_22 = 2 ** 22;
const INV_2_21 = 2 ** -21;
const INV_2_22 = 2 ** -22;
/** Adding and subtracting 1.5·2^52 rounds a double below 2^51 in magnitude to an integer. */
const ROUND = 1.5 * 2 ** 52;

export function fe(): Fe {
  return new Float64Array(FE_LIMBS);
}

/** An element with a small integer value 0 ≤ n < 2^22. */
export function feFromSmall(n: number): Fe {
  const o = fe();
  o[0] = n;
  return o;
}

export function feCopy(o: Fe, a: Fe): void {
  o.set(a);
}

export function feZero(o: Fe): void {
  o.fill(0);
}

export function feOne(o: Fe): void {
  o.fill(0);
  o[0] = 1;
}

/** o = a + b, limb-wise, not carried (the scales add). */
export function feAdd(o: Fe, a: Fe, b: Fe): void {
  o[0] = a[0]! + b[0]!;
  o[1] = a[1]! + b[1]!;
  o[2] = a[2]! + b[2]!;
  o[3] = a[3]! + b[3]!;
  o[4] = a[4]! + b[4]!;
  o[5] = a[5]! + b[5]!;
  o[6] = a[6]! + b[6]!;
  o[7] = a[7]! + b[7]!;
  o[8] = a[8]! + b[8]!;
  o[9] = a[9]! + b[9]!;
  o[10] = a[10]! + b[10]!;
  o[11] = a[11]! + b[11]!;
}

/** o = a − b, limb-wise, not carried (the scales add). */
export function feSub(o: Fe, a: Fe, b: Fe): void {
  o[0] = a[0]! - b[0]!;
  o[1] = a[1]! - b[1]!;
  o[2] = a[2]! - b[2]!;
  o[3] = a[3]! - b[3]!;
  o[4] = a[4]! - b[4]!;
  o[5] = a[5]! - b[5]!;
  o[6] = a[6]! - b[6]!;
  o[7] = a[7]! - b[7]!;
  o[8] = a[8]! - b[8]!;
  o[9] = a[9]! - b[9]!;
  o[10] = a[10]! - b[10]!;
  o[11] = a[11]! - b[11]!;
}

/** o = −a (same scale). */
export function feNeg(o: Fe, a: Fe): void {
  for (let i = 0; i < FE_LIMBS; i++) o[i] = -a[i]!;
}

/** Carries an element of scale ≤ 2^29 back to a carried one (o may be a). */
export function feCarry(o: Fe, a: Fe): void {
  let c0 = a[0]!;
  let c1 = a[1]!;
  let c2 = a[2]!;
  let c3 = a[3]!;
  let c4 = a[4]!;
  let c5 = a[5]!;
  let c6 = a[6]!;
  let c7 = a[7]!;
  let c8 = a[8]!;
  let c9 = a[9]!;
  let c10 = a[10]!;
  let c11 = a[11]!;
  let t: number;
  t = c0 * INV_2_22 + ROUND - ROUND;
  c0 -= t * TWO_22;
  c1 += t;
  t = c1 * INV_2_21 + ROUND - ROUND;
  c1 -= t * TWO_21;
  c2 += t;
  t = c2 * INV_2_21 + ROUND - ROUND;
  c2 -= t * TWO_21;
  c3 += t;
  t = c3 * INV_2_21 + ROUND - ROUND;
  c3 -= t * TWO_21;
  c4 += t;
  t = c4 * INV_2_22 + ROUND - ROUND;
  c4 -= t * TWO_22;
  c5 += t;
  t = c5 * INV_2_21 + ROUND - ROUND;
  c5 -= t * TWO_21;
  c6 += t;
  t = c6 * INV_2_21 + ROUND - ROUND;
  c6 -= t * TWO_21;
  c7 += t;
  t = c7 * INV_2_21 + ROUND - ROUND;
  c7 -= t * TWO_21;
  c8 += t;
  t = c8 * INV_2_22 + ROUND - ROUND;
  c8 -= t * TWO_22;
  c9 += t;
  t = c9 * INV_2_21 + ROUND - ROUND;
  c9 -= t * TWO_21;
  c10 += t;
  t = c10 * INV_2_21 + ROUND - ROUND;
  c10 -= t * TWO_21;
  c11 += t;
  t = c11 * INV_2_21 + ROUND - ROUND;
  c11 -= t * TWO_21;
  c0 += 19 * t;
  t = c0 * INV_2_22 + ROUND - ROUND;
  c0 -= t * TWO_22;
  c1 += t;
  o[0] = c0;
  o[1] = c1;
  o[2] = c2;
  o[3] = c3;
  o[4] = c4;
  o[5] = c5;
  o[6] = c6;
  o[7] = c7;
  o[8] = c8;
  o[9] = c9;
  o[10] = c10;
  o[11] = c11;
}

/**
 * o = a · b (o may alias a or b). Exact when scale(a) · scale(b) ≤ 16; the result is carried.
 */
export function feMul(o: Fe, a: Fe, b: Fe): void {
  const a0 = a[0]!;
  const a1 = a[1]!;
  const a2 = a[2]!;
  const a3 = a[3]!;
  const a4 = a[4]!;
  const a5 = a[5]!;
  const a6 = a[6]!;
  const a7 = a[7]!;
  const a8 = a[8]!;
  const a9 = a[9]!;
  const a10 = a[10]!;
  const a11 = a[11]!;
  const b0 = b[0]!;
  const b1 = b[1]!;
  const b2 = b[2]!;
  const b3 = b[3]!;
  const b4 = b[4]!;
  const b5 = b[5]!;
  const b6 = b[6]!;
  const b7 = b[7]!;
  const b8 = b[8]!;
  const b9 = b[9]!;
  const b10 = b[10]!;
  const b11 = b[11]!;
  let c0 =
    a0 * b0 +
    19 * (a4 * b8 + a8 * b4) +
    38 *
      (a1 * b11 + a2 * b10 + a3 * b9 + a5 * b7 + a6 * b6 + a7 * b5 + a9 * b3 + a10 * b2 + a11 * b1);
  let c1 =
    a0 * b1 +
    a1 * b0 +
    19 *
      (a2 * b11 +
        a3 * b10 +
        a4 * b9 +
        a5 * b8 +
        a6 * b7 +
        a7 * b6 +
        a8 * b5 +
        a9 * b4 +
        a10 * b3 +
        a11 * b2);
  let c2 =
    a0 * b2 +
    a2 * b0 +
    2 * (a1 * b1) +
    19 * (a3 * b11 + a4 * b10 + a6 * b8 + a7 * b7 + a8 * b6 + a10 * b4 + a11 * b3) +
    38 * (a5 * b9 + a9 * b5);
  let c3 =
    a0 * b3 +
    a3 * b0 +
    2 * (a1 * b2 + a2 * b1) +
    19 * (a4 * b11 + a7 * b8 + a8 * b7 + a11 * b4) +
    38 * (a5 * b10 + a6 * b9 + a9 * b6 + a10 * b5);
  let c4 =
    a0 * b4 +
    a4 * b0 +
    2 * (a1 * b3 + a2 * b2 + a3 * b1) +
    19 * (a8 * b8) +
    38 * (a5 * b11 + a6 * b10 + a7 * b9 + a9 * b7 + a10 * b6 + a11 * b5);
  let c5 =
    a0 * b5 +
    a1 * b4 +
    a2 * b3 +
    a3 * b2 +
    a4 * b1 +
    a5 * b0 +
    19 * (a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7 + a11 * b6);
  let c6 =
    a0 * b6 +
    a2 * b4 +
    a3 * b3 +
    a4 * b2 +
    a6 * b0 +
    2 * (a1 * b5 + a5 * b1) +
    19 * (a7 * b11 + a8 * b10 + a10 * b8 + a11 * b7) +
    38 * (a9 * b9);
  let c7 =
    a0 * b7 +
    a3 * b4 +
    a4 * b3 +
    a7 * b0 +
    2 * (a1 * b6 + a2 * b5 + a5 * b2 + a6 * b1) +
    19 * (a8 * b11 + a11 * b8) +
    38 * (a9 * b10 + a10 * b9);
  let c8 =
    a0 * b8 +
    a4 * b4 +
    a8 * b0 +
    2 * (a1 * b7 + a2 * b6 + a3 * b5 + a5 * b3 + a6 * b2 + a7 * b1) +
    38 * (a9 * b11 + a10 * b10 + a11 * b9);
  let c9 =
    a0 * b9 +
    a1 * b8 +
    a2 * b7 +
    a3 * b6 +
    a4 * b5 +
    a5 * b4 +
    a6 * b3 +
    a7 * b2 +
    a8 * b1 +
    a9 * b0 +
    19 * (a10 * b11 + a11 * b10);
  let c10 =
    a0 * b10 +
    a2 * b8 +
    a3 * b7 +
    a4 * b6 +
    a6 * b4 +
    a7 * b3 +
    a8 * b2 +
    a10 * b0 +
    2 * (a1 * b9 + a5 * b5 + a9 * b1) +
    19 * (a11 * b11);
  let c11 =
    a0 * b11 +
    a3 * b8 +
    a4 * b7 +
    a7 * b4 +
    a8 * b3 +
    a11 * b0 +
    2 * (a1 * b10 + a2 * b9 + a5 * b6 + a6 * b5 + a9 * b2 + a10 * b1);
  let t: number;
  t = c0 * INV_2_22 + ROUND - ROUND;
  c0 -= t * TWO_22;
  c1 += t;
  t = c1 * INV_2_21 + ROUND - ROUND;
  c1 -= t * TWO_21;
  c2 += t;
  t = c2 * INV_2_21 + ROUND - ROUND;
  c2 -= t * TWO_21;
  c3 += t;
  t = c3 * INV_2_21 + ROUND - ROUND;
  c3 -= t * TWO_21;
  c4 += t;
  t = c4 * INV_2_22 + ROUND - ROUND;
  c4 -= t * TWO_22;
  c5 += t;
  t = c5 * INV_2_21 + ROUND - ROUND;
  c5 -= t * TWO_21;
  c6 += t;
  t = c6 * INV_2_21 + ROUND - ROUND;
  c6 -= t * TWO_21;
  c7 += t;
  t = c7 * INV_2_21 + ROUND - ROUND;
  c7 -= t * TWO_21;
  c8 += t;
  t = c8 * INV_2_22 + ROUND - ROUND;
  c8 -= t * TWO_22;
  c9 += t;
  t = c9 * INV_2_21 + ROUND - ROUND;
  c9 -= t * TWO_21;
  c10 += t;
  t = c10 * INV_2_21 + ROUND - ROUND;
  c10 -= t * TWO_21;
  c11 += t;
  t = c11 * INV_2_21 + ROUND - ROUND;
  c11 -= t * TWO_21;
  c0 += 19 * t;
  t = c0 * INV_2_22 + ROUND - ROUND;
  c0 -= t * TWO_22;
  c1 += t;
  o[0] = c0;
  o[1] = c1;
  o[2] = c2;
  o[3] = c3;
  o[4] = c4;
  o[5] = c5;
  o[6] = c6;
  o[7] = c7;
  o[8] = c8;
  o[9] = c9;
  o[10] = c10;
  o[11] = c11;
}

/** o = a² (o may alias a). Exact when scale(a) ≤ 4; the result is carried. */
export function feSqr(o: Fe, a: Fe): void {
  feSqrN(o, a, 1);
}

/**
 * o = a^(2^n) for n ≥ 1 (o may alias a), keeping the limbs in locals between squarings (the long
 * squaring runs of the exponentiations). Exact when scale(a) ≤ 4; the result is carried.
 */
export function feSqrN(o: Fe, a: Fe, n: number): void {
  let a0 = a[0]!;
  let a1 = a[1]!;
  let a2 = a[2]!;
  let a3 = a[3]!;
  let a4 = a[4]!;
  let a5 = a[5]!;
  let a6 = a[6]!;
  let a7 = a[7]!;
  let a8 = a[8]!;
  let a9 = a[9]!;
  let a10 = a[10]!;
  let a11 = a[11]!;
  for (let round = 0; round < n; round++) {
    let c0 = a0 * a0 + 38 * (a4 * a8 + a6 * a6) + 76 * (a1 * a11 + a2 * a10 + a3 * a9 + a5 * a7);
    let c1 = 2 * (a0 * a1) + 38 * (a2 * a11 + a3 * a10 + a4 * a9 + a5 * a8 + a6 * a7);
    let c2 =
      2 * (a0 * a2 + a1 * a1) +
      19 * (a7 * a7) +
      38 * (a3 * a11 + a4 * a10 + a6 * a8) +
      76 * (a5 * a9);
    let c3 = 2 * (a0 * a3) + 4 * (a1 * a2) + 38 * (a4 * a11 + a7 * a8) + 76 * (a5 * a10 + a6 * a9);
    let c4 =
      2 * (a0 * a4 + a2 * a2) +
      4 * (a1 * a3) +
      19 * (a8 * a8) +
      76 * (a5 * a11 + a6 * a10 + a7 * a9);
    let c5 = 2 * (a0 * a5 + a1 * a4 + a2 * a3) + 38 * (a6 * a11 + a7 * a10 + a8 * a9);
    let c6 =
      a3 * a3 + 2 * (a0 * a6 + a2 * a4) + 4 * (a1 * a5) + 38 * (a7 * a11 + a8 * a10 + a9 * a9);
    let c7 = 2 * (a0 * a7 + a3 * a4) + 4 * (a1 * a6 + a2 * a5) + 38 * (a8 * a11) + 76 * (a9 * a10);
    let c8 =
      a4 * a4 +
      2 * (a0 * a8) +
      4 * (a1 * a7 + a2 * a6 + a3 * a5) +
      38 * (a10 * a10) +
      76 * (a9 * a11);
    let c9 = 2 * (a0 * a9 + a1 * a8 + a2 * a7 + a3 * a6 + a4 * a5) + 38 * (a10 * a11);
    let c10 =
      2 * (a0 * a10 + a2 * a8 + a3 * a7 + a4 * a6 + a5 * a5) + 4 * (a1 * a9) + 19 * (a11 * a11);
    let c11 = 2 * (a0 * a11 + a3 * a8 + a4 * a7) + 4 * (a1 * a10 + a2 * a9 + a5 * a6);
    // Two interleaved carry chains (0→…→6 and 6→…→11→0) halve the latency of a squaring chain.
    let t: number;
    t = c0 * INV_2_22 + ROUND - ROUND;
    c0 -= t * TWO_22;
    c1 += t;
    t = c6 * INV_2_21 + ROUND - ROUND;
    c6 -= t * TWO_21;
    c7 += t;
    t = c1 * INV_2_21 + ROUND - ROUND;
    c1 -= t * TWO_21;
    c2 += t;
    t = c7 * INV_2_21 + ROUND - ROUND;
    c7 -= t * TWO_21;
    c8 += t;
    t = c2 * INV_2_21 + ROUND - ROUND;
    c2 -= t * TWO_21;
    c3 += t;
    t = c8 * INV_2_22 + ROUND - ROUND;
    c8 -= t * TWO_22;
    c9 += t;
    t = c3 * INV_2_21 + ROUND - ROUND;
    c3 -= t * TWO_21;
    c4 += t;
    t = c9 * INV_2_21 + ROUND - ROUND;
    c9 -= t * TWO_21;
    c10 += t;
    t = c4 * INV_2_22 + ROUND - ROUND;
    c4 -= t * TWO_22;
    c5 += t;
    t = c10 * INV_2_21 + ROUND - ROUND;
    c10 -= t * TWO_21;
    c11 += t;
    t = c5 * INV_2_21 + ROUND - ROUND;
    c5 -= t * TWO_21;
    c6 += t;
    t = c11 * INV_2_21 + ROUND - ROUND;
    c11 -= t * TWO_21;
    c0 += 19 * t;
    t = c0 * INV_2_22 + ROUND - ROUND;
    c0 -= t * TWO_22;
    c1 += t;
    t = c6 * INV_2_21 + ROUND - ROUND;
    c6 -= t * TWO_21;
    c7 += t;
    a0 = c0;
    a1 = c1;
    a2 = c2;
    a3 = c3;
    a4 = c4;
    a5 = c5;
    a6 = c6;
    a7 = c7;
    a8 = c8;
    a9 = c9;
    a10 = c10;
    a11 = c11;
  }
  o[0] = a0;
  o[1] = a1;
  o[2] = a2;
  o[3] = a3;
  o[4] = a4;
  o[5] = a5;
  o[6] = a6;
  o[7] = a7;
  o[8] = a8;
  o[9] = a9;
  o[10] = a10;
  o[11] = a11;
}

const t0 = fe();
const t1 = fe();
const t2 = fe();
const t3 = fe();

/** The exponentiations may run on secret-derived values (a projective Z). */
function wipeTemporaries(): void {
  t0.fill(0);
  t1.fill(0);
  t2.fill(0);
  t3.fill(0);
}

/**
 * Shared head of the two exponentiations: returns z^(2^250 − 1) in t3 and z^11 in t0
 * (ref10's addition chain: 254 squarings, 11 multiplications for the inverse).
 */
function pow2250(z: Fe): void {
  feSqr(t0, z); // z^2
  feSqrN(t1, t0, 2); // z^8
  feMul(t1, z, t1); // z^9
  feMul(t0, t0, t1); // z^11
  feSqr(t2, t0); // z^22
  feMul(t1, t1, t2); // z^(2^5 − 1)
  feSqrN(t2, t1, 5);
  feMul(t1, t2, t1); // z^(2^10 − 1)
  feSqrN(t2, t1, 10);
  feMul(t2, t2, t1); // z^(2^20 − 1)
  feSqrN(t3, t2, 20);
  feMul(t2, t3, t2); // z^(2^40 − 1)
  feSqrN(t2, t2, 10);
  feMul(t1, t2, t1); // z^(2^50 − 1)
  feSqrN(t2, t1, 50);
  feMul(t2, t2, t1); // z^(2^100 − 1)
  feSqrN(t3, t2, 100);
  feMul(t2, t3, t2); // z^(2^200 − 1)
  feSqrN(t2, t2, 50);
  feMul(t3, t2, t1); // z^(2^250 − 1)
}

/** o = 1/z = z^(p − 2) (0 for z = 0), by Fermat: a fixed sequence of operations. */
export function feInvert(o: Fe, z: Fe): void {
  pow2250(z);
  feSqrN(t3, t3, 5); // z^(2^255 − 32)
  feMul(o, t3, t0); // z^(2^255 − 21) = z^(p − 2)
  wipeTemporaries();
}

/** o = z^((p − 5)/8) = z^(2^252 − 3), the exponent of RFC 8032 §5.1.3's square root. */
export function fePow22523(o: Fe, z: Fe): void {
  pow2250(z);
  feSqrN(t3, t3, 2); // z^(2^252 − 4)
  feMul(o, t3, z);
  wipeTemporaries();
}

/**
 * Reads 32 little-endian bytes at `offset` as an element, ignoring bit 255 (RFC 8032 §5.1.3
 * masks it off; values in [p, 2^255) are accepted unreduced, as in ref10).
 */
export function feFromBytes(o: Fe, bytes: Uint8Array, offset = 0): void {
  for (let i = 0; i < FE_LIMBS; i++) {
    const pos = FE_LIMB_POSITIONS[i]!;
    const start = offset + (pos >> 3);
    // 4 bytes cover the (pos & 7) + 22 ≤ 29 bits this limb needs.
    let word = 0;
    for (let j = 3; j >= 0; j--) {
      const index = start + j;
      word = (word << 8) | (index < offset + 32 ? bytes[index]! : 0);
    }
    o[i] = (word >>> (pos & 7)) & ((1 << FE_LIMB_WIDTHS[i]!) - 1);
  }
}

/** Canonical limbs (each in [0, 2^w), value in [0, p)) of the last `reduce` input. */
const reduced = new Int32Array(FE_LIMBS);

/** Fully reduces an element of scale ≤ 16 into `reduced`. */
function reduce(a: Fe): void {
  let c0 = a[0]!;
  let c1 = a[1]!;
  let c2 = a[2]!;
  let c3 = a[3]!;
  let c4 = a[4]!;
  let c5 = a[5]!;
  let c6 = a[6]!;
  let c7 = a[7]!;
  let c8 = a[8]!;
  let c9 = a[9]!;
  let c10 = a[10]!;
  let c11 = a[11]!;
  let t: number;
  // Two floor passes: limbs in [0, 2^w), value in [0, 2^255) (the first top carry is small, so the
  // second can ripple around at most once).
  t = Math.floor(c0 * INV_2_22);
  c0 -= t * TWO_22;
  c1 += t;
  t = Math.floor(c1 * INV_2_21);
  c1 -= t * TWO_21;
  c2 += t;
  t = Math.floor(c2 * INV_2_21);
  c2 -= t * TWO_21;
  c3 += t;
  t = Math.floor(c3 * INV_2_21);
  c3 -= t * TWO_21;
  c4 += t;
  t = Math.floor(c4 * INV_2_22);
  c4 -= t * TWO_22;
  c5 += t;
  t = Math.floor(c5 * INV_2_21);
  c5 -= t * TWO_21;
  c6 += t;
  t = Math.floor(c6 * INV_2_21);
  c6 -= t * TWO_21;
  c7 += t;
  t = Math.floor(c7 * INV_2_21);
  c7 -= t * TWO_21;
  c8 += t;
  t = Math.floor(c8 * INV_2_22);
  c8 -= t * TWO_22;
  c9 += t;
  t = Math.floor(c9 * INV_2_21);
  c9 -= t * TWO_21;
  c10 += t;
  t = Math.floor(c10 * INV_2_21);
  c10 -= t * TWO_21;
  c11 += t;
  t = Math.floor(c11 * INV_2_21);
  c11 -= t * TWO_21;
  c0 += 19 * t;
  t = Math.floor(c0 * INV_2_22);
  c0 -= t * TWO_22;
  c1 += t;
  t = Math.floor(c1 * INV_2_21);
  c1 -= t * TWO_21;
  c2 += t;
  t = Math.floor(c2 * INV_2_21);
  c2 -= t * TWO_21;
  c3 += t;
  t = Math.floor(c3 * INV_2_21);
  c3 -= t * TWO_21;
  c4 += t;
  t = Math.floor(c4 * INV_2_22);
  c4 -= t * TWO_22;
  c5 += t;
  t = Math.floor(c5 * INV_2_21);
  c5 -= t * TWO_21;
  c6 += t;
  t = Math.floor(c6 * INV_2_21);
  c6 -= t * TWO_21;
  c7 += t;
  t = Math.floor(c7 * INV_2_21);
  c7 -= t * TWO_21;
  c8 += t;
  t = Math.floor(c8 * INV_2_22);
  c8 -= t * TWO_22;
  c9 += t;
  t = Math.floor(c9 * INV_2_21);
  c9 -= t * TWO_21;
  c10 += t;
  t = Math.floor(c10 * INV_2_21);
  c10 -= t * TWO_21;
  c11 += t;
  t = Math.floor(c11 * INV_2_21);
  c11 -= t * TWO_21;
  c0 += 19 * t;
  // q = 1 iff value + 19 ≥ 2^255, i.e. value ≥ p; then add 19q and drop bit 255.
  let q = Math.floor((c0 + 19) * INV_2_22);
  q = Math.floor((c1 + q) * INV_2_21);
  q = Math.floor((c2 + q) * INV_2_21);
  q = Math.floor((c3 + q) * INV_2_21);
  q = Math.floor((c4 + q) * INV_2_22);
  q = Math.floor((c5 + q) * INV_2_21);
  q = Math.floor((c6 + q) * INV_2_21);
  q = Math.floor((c7 + q) * INV_2_21);
  q = Math.floor((c8 + q) * INV_2_22);
  q = Math.floor((c9 + q) * INV_2_21);
  q = Math.floor((c10 + q) * INV_2_21);
  q = Math.floor((c11 + q) * INV_2_21);
  c0 += 19 * q;
  t = Math.floor(c0 * INV_2_22);
  c0 -= t * TWO_22;
  c1 += t;
  t = Math.floor(c1 * INV_2_21);
  c1 -= t * TWO_21;
  c2 += t;
  t = Math.floor(c2 * INV_2_21);
  c2 -= t * TWO_21;
  c3 += t;
  t = Math.floor(c3 * INV_2_21);
  c3 -= t * TWO_21;
  c4 += t;
  t = Math.floor(c4 * INV_2_22);
  c4 -= t * TWO_22;
  c5 += t;
  t = Math.floor(c5 * INV_2_21);
  c5 -= t * TWO_21;
  c6 += t;
  t = Math.floor(c6 * INV_2_21);
  c6 -= t * TWO_21;
  c7 += t;
  t = Math.floor(c7 * INV_2_21);
  c7 -= t * TWO_21;
  c8 += t;
  t = Math.floor(c8 * INV_2_22);
  c8 -= t * TWO_22;
  c9 += t;
  t = Math.floor(c9 * INV_2_21);
  c9 -= t * TWO_21;
  c10 += t;
  t = Math.floor(c10 * INV_2_21);
  c10 -= t * TWO_21;
  c11 += t;
  t = Math.floor(c11 * INV_2_21);
  c11 -= t * TWO_21;
  reduced[0] = c0;
  reduced[1] = c1;
  reduced[2] = c2;
  reduced[3] = c3;
  reduced[4] = c4;
  reduced[5] = c5;
  reduced[6] = c6;
  reduced[7] = c7;
  reduced[8] = c8;
  reduced[9] = c9;
  reduced[10] = c10;
  reduced[11] = c11;
}

/**
 * Writes the canonical 32-byte little-endian encoding of `a` (the value reduced into [0, p), bit
 * 255 clear) at `offset`. Accepts any element of scale ≤ 16.
 */
export function feToBytes(out: Uint8Array, offset: number, a: Fe): void {
  reduce(a);
  const r = reduced;
  out[offset + 0] = r[0]!;
  out[offset + 1] = r[0]! >>> 8;
  out[offset + 2] = (r[0]! >>> 16) | (r[1]! << 6);
  out[offset + 3] = r[1]! >>> 2;
  out[offset + 4] = r[1]! >>> 10;
  out[offset + 5] = (r[1]! >>> 18) | (r[2]! << 3);
  out[offset + 6] = r[2]! >>> 5;
  out[offset + 7] = r[2]! >>> 13;
  out[offset + 8] = r[3]!;
  out[offset + 9] = r[3]! >>> 8;
  out[offset + 10] = (r[3]! >>> 16) | (r[4]! << 5);
  out[offset + 11] = r[4]! >>> 3;
  out[offset + 12] = r[4]! >>> 11;
  out[offset + 13] = (r[4]! >>> 19) | (r[5]! << 3);
  out[offset + 14] = r[5]! >>> 5;
  out[offset + 15] = r[5]! >>> 13;
  out[offset + 16] = r[6]!;
  out[offset + 17] = r[6]! >>> 8;
  out[offset + 18] = (r[6]! >>> 16) | (r[7]! << 5);
  out[offset + 19] = r[7]! >>> 3;
  out[offset + 20] = r[7]! >>> 11;
  out[offset + 21] = (r[7]! >>> 19) | (r[8]! << 2);
  out[offset + 22] = r[8]! >>> 6;
  out[offset + 23] = r[8]! >>> 14;
  out[offset + 24] = r[9]!;
  out[offset + 25] = r[9]! >>> 8;
  out[offset + 26] = (r[9]! >>> 16) | (r[10]! << 5);
  out[offset + 27] = r[10]! >>> 3;
  out[offset + 28] = r[10]! >>> 11;
  out[offset + 29] = (r[10]! >>> 19) | (r[11]! << 2);
  out[offset + 30] = r[11]! >>> 6;
  out[offset + 31] = r[11]! >>> 14;
  r.fill(0);
}

/** The low bit of the canonical value (RFC 8032's "negative" x). */
export function feIsNegative(a: Fe): number {
  reduce(a);
  const bit = reduced[0]! & 1;
  reduced.fill(0);
  return bit;
}

/** 1 if a ≡ 0 (mod p), else 0. */
export function feIsZero(a: Fe): number {
  reduce(a);
  let acc = 0;
  for (let i = 0; i < FE_LIMBS; i++) acc |= reduced[i]!;
  reduced.fill(0);
  return ((acc - 1) >>> 31) & 1;
}

const difference = fe();

/** 1 if a ≡ b (mod p), else 0 (a − b must have scale ≤ 16). */
export function feEqual(a: Fe, b: Fe): number {
  feSub(difference, a, b);
  const equal = feIsZero(difference);
  difference.fill(0);
  return equal;
}
