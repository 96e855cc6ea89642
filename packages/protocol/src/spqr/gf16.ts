/**
 * GF(2^16), the field of SPQR's erasure code (shared/specs/signal-wire.md §3.4 "Erasure code";
 * spqr `encoding/gf.rs`): polynomials over GF(2) reduced by x^16 + x^12 + x^3 + x + 1 (0x1100B).
 * Elements are plain numbers in [0, 65535]; addition and subtraction are XOR.
 *
 * Multiplication goes through log/antilog tables built once at load time (384 KiB). The
 * reduction polynomial is primitive, so x (= 2) generates the multiplicative group of order
 * 65535 (a test checks the tables are a bijection). Table look-ups are not constant-time: the
 * code only ever processes public erasure-code chunks, never secrets that need hiding from a
 * timing observer beyond what the ciphertext already reveals.
 */

/** The reduction polynomial x^16 + x^12 + x^3 + x + 1. */
export const GF16_POLYNOMIAL = 0x1100b;
/** Order of the multiplicative group. */
export const GF16_GROUP_ORDER = 65535;

/** EXP[i] = 2^i for i in [0, 2·65535) (doubled so a sum of two logs needs no reduction). */
export const GF16_EXP: Uint16Array = /* @__PURE__ */ new Uint16Array(2 * GF16_GROUP_ORDER);
/** LOG[a] = log₂(a) for a ≠ 0; LOG[0] is unused (0). */
export const GF16_LOG: Uint16Array = /* @__PURE__ */ new Uint16Array(65536);

{
  let x = 1;
  for (let i = 0; i < GF16_GROUP_ORDER; i++) {
    GF16_EXP[i] = x;
    GF16_EXP[i + GF16_GROUP_ORDER] = x;
    GF16_LOG[x] = i;
    x <<= 1;
    if (x & 0x10000) x ^= GF16_POLYNOMIAL;
  }
}

/** a + b (= a − b). */
export function gfAdd(a: number, b: number): number {
  return a ^ b;
}

/** a · b. */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return GF16_EXP[GF16_LOG[a]! + GF16_LOG[b]!]!;
}

/** a⁻¹; throws RangeError for 0 (a programming error, never reachable from input). */
export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('GF(2^16): inverse of zero');
  return GF16_EXP[GF16_GROUP_ORDER - GF16_LOG[a]!]!;
}

/** a / b; throws RangeError for b = 0. */
export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('GF(2^16): division by zero');
  if (a === 0) return 0;
  return GF16_EXP[GF16_LOG[a]! + GF16_GROUP_ORDER - GF16_LOG[b]!]!;
}
