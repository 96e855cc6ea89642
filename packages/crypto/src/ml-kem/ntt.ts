/**
 * Arithmetic in R_q and T_q for ML-KEM (FIPS 203 §4.3): NTT (Alg. 9), NTT⁻¹ (Alg. 10) and
 * MultiplyNTTs / BaseCaseMultiply (Alg. 11–12), in the style of the pq-crystals reference code.
 *
 * Representation: a polynomial is 256 consecutive entries of an Int16Array (a vector of k
 * polynomials is k·256 entries, addressed by offset, so no per-polynomial objects). Coefficients
 * are signed representatives, not necessarily in [0, q): every function states its bounds, and
 * encoding.ts maps to [0, q) only when bytes are written.
 *
 * Reductions are Montgomery (R = 2^16) and Barrett, on `Math.imul` and shifts: no `%`, no
 * division, no BigInt, no data-dependent branches. The zetas are stored times R, so one Montgomery
 * reduction per product suffices; MultiplyNTTs leaves a factor R⁻¹ that NTT⁻¹ (or `toMontgomery`)
 * cancels, exactly as in the reference implementation.
 *
 * Bounds (checked by test/ml-kem-arithmetic.test.ts): `montgomeryReduce(a)` needs
 * |a| < q·2^15 and returns a value in (−q, q); `barrettReduce(a)` needs |a| < 2^15 and returns
 * a value in [−(q−1)/2, (q−1)/2].
 */
import { N, Q } from './params.js';

/** q⁻¹ mod 2^16, as a signed 16-bit value. */
const QINV = -3327;
/** ⌊2^26 / q⌉. */
const BARRETT_MULTIPLIER = 20159;

/** a·2^−16 mod q for |a| < q·2^15; the result lies in (−q, q). */
export function montgomeryReduce(a: number): number {
  const t = (Math.imul(a, QINV) << 16) >> 16;
  return (a - Math.imul(t, Q)) >> 16;
}

/** The representative of a mod q in [−(q−1)/2, (q−1)/2], for |a| < 2^15. */
export function barrettReduce(a: number): number {
  const t = (Math.imul(BARRETT_MULTIPLIER, a) + (1 << 25)) >> 26;
  return a - Math.imul(t, Q);
}

function powMod(base: number, exp: number): number {
  // Table construction only (module load), on small non-negative integers.
  let r = 1;
  let b = base % Q;
  for (let e = exp; e > 0; e >>= 1) {
    if (e & 1) r = (r * b) % Q;
    b = (b * b) % Q;
  }
  return r;
}

function bitRev7(i: number): number {
  let r = 0;
  for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b);
  return r;
}

/** 2^16 mod q. */
const MONT = 2285;
/** 2^32 mod q: `montgomeryReduce(x·MONT_SQUARED) = x·R`. */
const MONT_SQUARED = 1353;

function centered(x: number): number {
  return x > (Q - 1) / 2 ? x - Q : x;
}

/**
 * ζ^BitRev7(i)·R mod q, centered, for ζ = 17 (FIPS 203 Appendix A). Entries 64..127 double as
 * the BaseCaseMultiply γ's: ζ^(2·BitRev7(2i)+1) = ζ^BitRev7(64+i), and the odd pairs use −γ.
 */
export const ZETAS: Int16Array = /* @__PURE__ */ Int16Array.from({ length: 128 }, (_, i) =>
  centered((powMod(17, bitRev7(i)) * MONT) % Q),
);

/** R²/128 mod q: the final scaling of NTT⁻¹ (128⁻¹), times R to cancel MultiplyNTTs' R⁻¹. */
const INV_NTT_SCALE = (MONT_SQUARED * powMod(128, Q - 2)) % Q;
/** INV_NTT_SCALE·ZETAS[1]·R⁻¹: the last NTT⁻¹ layer's twiddle with the scaling folded in. */
const INV_NTT_LAST_ZETA = /* @__PURE__ */ montgomeryReduce(INV_NTT_SCALE * ZETAS[1]!);

/**
 * In-place NTT (FIPS 203 Alg. 9) of the polynomial at `r[off..off+256)`. Input coefficients
 * |c| < q; output in [−(q−1)/2, (q−1)/2], in the bit-reversed order of Alg. 9.
 */
export function ntt(r: Int16Array, off: number): void {
  let k = 1;
  for (let len = 128; len >= 4; len >>= 1) {
    for (let start = off; start < off + N; start += 2 * len) {
      const zeta = ZETAS[k++]!;
      for (let j = start; j < start + len; j++) {
        // |zeta·r| ≤ (q/2)·8q: each layer grows the bound by < q, from < q to < 8q < 2^15.
        const t = montgomeryReduce(zeta * r[j + len]!);
        const a = r[j]!;
        r[j + len] = a - t;
        r[j] = a + t;
      }
    }
  }
  // Last layer (len = 2), with the final Barrett reduction folded in.
  for (let start = off; start < off + N; start += 4) {
    const zeta = ZETAS[k++]!;
    for (let j = start; j < start + 2; j++) {
      const t = montgomeryReduce(zeta * r[j + 2]!);
      const a = r[j]!;
      r[j + 2] = barrettReduce(a - t);
      r[j] = barrettReduce(a + t);
    }
  }
}

/**
 * In-place NTT⁻¹ (FIPS 203 Alg. 10), multiplied by R: the output of `multiplyAccumulate`
 * (which carries R⁻¹) comes out exact. Input |c| < q; output in (−q, q).
 */
export function invNttFromMontgomery(r: Int16Array, off: number): void {
  let k = 127;
  for (let len = 2; len <= 64; len <<= 1) {
    for (let start = off; start < off + N; start += 2 * len) {
      const zeta = ZETAS[k--]!;
      for (let j = start; j < start + len; j++) {
        const t = r[j]!;
        const u = r[j + len]!;
        r[j] = barrettReduce(t + u);
        r[j + len] = montgomeryReduce(zeta * (u - t));
      }
    }
  }
  // Last layer (len = 128, ζ = ZETAS[1]) with the final scaling folded in:
  // montgomeryReduce(F·x) for the sums, montgomeryReduce(F·ζ·R⁻¹·x) for the differences.
  for (let j = off; j < off + 128; j++) {
    const t = r[j]!;
    const u = r[j + 128]!;
    r[j] = montgomeryReduce(INV_NTT_SCALE * (t + u));
    r[j + 128] = montgomeryReduce(INV_NTT_LAST_ZETA * (u - t));
  }
}

/**
 * `out = Σ_{j<k} a_j ∘ b_j · R⁻¹` in T_q (FIPS 203 Alg. 11 and 12, summed over a vector).
 * `a_j` starts at `a[ao + 256j]`, `b_j` at `b[bo + 256j]`. Needs |a| < q and |b| < q with
 * k ≤ 4 (sums stay below 8·q² < q·2^15); output in (−q, q). `out` may not overlap the inputs.
 */
export function multiplyAccumulate(
  out: Int16Array,
  oo: number,
  a: Int16Array,
  ao: number,
  b: Int16Array,
  bo: number,
  k: number,
): void {
  for (let i = 0; i < N; i += 4) {
    const zeta = ZETAS[64 + (i >> 2)]!;
    let a0b0 = 0;
    let a1b1 = 0;
    let cross01 = 0;
    let a2b2 = 0;
    let a3b3 = 0;
    let cross23 = 0;
    for (let j = 0; j < k; j++) {
      const x = ao + N * j + i;
      const y = bo + N * j + i;
      const a0 = a[x]!;
      const a1 = a[x + 1]!;
      const a2 = a[x + 2]!;
      const a3 = a[x + 3]!;
      const b0 = b[y]!;
      const b1 = b[y + 1]!;
      const b2 = b[y + 2]!;
      const b3 = b[y + 3]!;
      a0b0 += a0 * b0;
      a1b1 += a1 * b1;
      cross01 += a0 * b1 + a1 * b0;
      a2b2 += a2 * b2;
      a3b3 += a3 * b3;
      cross23 += a2 * b3 + a3 * b2;
    }
    // (a0 + a1X)(b0 + b1X) mod (X² − γ) = (a0b0 + γ·a1b1) + (a0b1 + a1b0)X, γ = ±zeta.
    out[oo + i] = montgomeryReduce(montgomeryReduce(a1b1) * zeta + a0b0);
    out[oo + i + 1] = montgomeryReduce(cross01);
    out[oo + i + 2] = montgomeryReduce(a2b2 - montgomeryReduce(a3b3) * zeta);
    out[oo + i + 3] = montgomeryReduce(cross23);
  }
}

/** Multiplies each coefficient by R (cancelling a pending R⁻¹). Any int16 in; out in (−q, q). */
export function toMontgomery(r: Int16Array, off: number): void {
  for (let j = off; j < off + N; j++) r[j] = montgomeryReduce(r[j]! * MONT_SQUARED);
}

/** `r += a` coefficient-wise over `length` entries (no reduction: callers keep |sum| < 2^15). */
export function addInto(
  r: Int16Array,
  ro: number,
  a: Int16Array,
  ao: number,
  length: number,
): void {
  for (let j = 0; j < length; j++) r[ro + j] = r[ro + j]! + a[ao + j]!;
}

/** Barrett-reduces `length` entries of `r` from `off` into [−(q−1)/2, (q−1)/2]. */
export function reduce(r: Int16Array, off: number, length: number): void {
  for (let j = off; j < off + length; j++) r[j] = barrettReduce(r[j]!);
}
