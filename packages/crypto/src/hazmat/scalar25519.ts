/**
 * Arithmetic modulo the edwards25519 group order L = 2^252 + c,
 * c = 27742317777372353535851937790883648493, without BigInt: the scalar steps of XEdDSA signing
 * (signal-wire.md §4: `a = k mod L`, `r = SHA-512(…) mod L`, `s = h·a + r mod L`).
 *
 * Method (the arithmetic of ref10's `sc_reduce`/`sc_muladd`, SUPERCOP; written from the
 * description, not copied): a number is held as radix-2^21 limbs in a Float64Array, so products
 * (< 2^42) and column sums (< 2^46) are exact doubles. Since 2^252 ≡ −c (mod L) and c < 2^126 is six
 * 21-bit limbs c_0..c_5, the limb x_i at bit 21·i ≥ 252 folds as `x_{i−12+k} −= x_i·c_k`. Limbs are
 * folded from the top in blocks of at most six: a block [lo, lo + 5] only touches x_{lo−12..lo−2},
 * never itself or x_{lo−1}, and those targets are carried (to signed 21-bit limbs, the last carry
 * landing in x_{lo−1}) before the next block. So a block holds at most one limb above 2^21 (below
 * 2^30), and every intermediate stays below 2^51. Two last folds of x_12 leave |value| < 2^252,
 * and L is then added once, by mask, if the value is negative: the result is canonical, in [0, L).
 *
 * Timing: no branches or indices depend on the values (the number of limbs depends only on the
 * input length). JavaScript promises nothing about timing (docs/crypto.md).
 */
import { abytes } from '../assert.js';
import { CryptoError } from '../errors.js';

const LIMB_BITS = 21;
const LIMB = 2 ** LIMB_BITS;
const INV_LIMB = 2 ** -LIMB_BITS;
/** Adding and subtracting 1.5·2^52 rounds a double below 2^51 in magnitude to an integer. */
const ROUND = 1.5 * 2 ** 52;
/** c = L − 2^252 in 21-bit limbs. */
const C = [1430509, 1626855, 1442968, 997804, 1960495, 683900] as const;

/** Scratch for up to 26 limbs (a 13 × 13-limb product plus its carry). */
const x = new Float64Array(26);
const aLimbs = new Float64Array(13);
const bLimbs = new Float64Array(13);
const packed = new Int32Array(13);

/** Loads `length` little-endian bytes as ⌈8·length/21⌉ unsigned 21-bit limbs into `to`. */
function load(to: Float64Array, bytes: Uint8Array, length: number): number {
  const count = Math.ceil((8 * length) / LIMB_BITS);
  for (let i = 0; i < count; i++) {
    const bit = LIMB_BITS * i;
    const start = bit >> 3;
    let word = 0;
    for (let j = 3; j >= 0; j--) {
      const index = start + j;
      word = (word << 8) | (index < length ? bytes[index]! : 0);
    }
    to[i] = (word >>> (bit & 7)) & (LIMB - 1);
  }
  return count;
}

/** Signed carries of x[from..to] into the next limb (each ends in [−2^20, 2^20]). */
function carry(from: number, to: number): void {
  let v = x[from]!;
  for (let i = from; i <= to; i++) {
    const t = v * INV_LIMB + ROUND - ROUND;
    x[i] = v - t * LIMB;
    v = x[i + 1]! + t;
  }
  x[to + 1] = v;
}

/** x_i·2^(21i) ≡ −x_i·c·2^(21(i−12)) for i in [lo, hi] (hi − lo ≤ 5). */
function fold(lo: number, hi: number): void {
  for (let i = hi; i >= lo; i--) {
    const v = x[i]!;
    x[i] = 0;
    for (let k = 0; k < 6; k++) x[i - 12 + k] = x[i - 12 + k]! - v * C[k]!;
  }
}

/** Floor carries of x[0..11]; returns the carry out of x_11 (limbs end in [0, 2^21)). */
function carryFloor(): number {
  let t = 0;
  for (let i = 0; i < 12; i++) {
    const v = x[i]! + t;
    t = Math.floor(v * INV_LIMB);
    x[i] = v - t * LIMB;
  }
  return t;
}

/** Reduces x[0..top] (every limb below 2^47 in magnitude) mod L into 32 bytes at out[offset]. */
function reduceInto(out: Uint8Array, offset: number, top: number): void {
  carry(0, top - 1);
  let hi = top;
  while (hi > 12) {
    const lo = Math.max(13, hi - 5);
    fold(lo, hi);
    carry(lo - 12, lo - 2);
    hi = lo - 1;
  }
  // |x_12| < 2^30 and x_0..x_11 are carried: fold x_12, carry (x_12 becomes 0 or ±1), fold again;
  // then |value| < 2^251 + 2^127 < 2^252.
  fold(12, 12);
  carry(0, 11);
  fold(12, 12);
  const borrow = -carryFloor(); // 1 iff the value is negative
  for (let k = 0; k < 6; k++) x[k] = x[k]! + borrow * C[k]!;
  // value + L·borrow is in [0, L); the 2^252 of L cancels the borrow, so x_12 is bit 252.
  x[12] = carryFloor();
  // Pack the 13 limbs (bits 0..252) into 32 bytes.
  for (let i = 0; i <= 12; i++) packed[i] = x[i]!;
  for (let b = 0; b < 32; b++) {
    const bit = 8 * b;
    const i = (bit / LIMB_BITS) | 0;
    const shift = bit - LIMB_BITS * i;
    let byte = packed[i]! >>> shift;
    if (shift > LIMB_BITS - 8 && i < 12) byte |= packed[i + 1]! << (LIMB_BITS - shift);
    out[offset + b] = byte; // Uint8Array keeps the low 8 bits
  }
  packed.fill(0);
  x.fill(0);
}

/** `input mod L` as 32 canonical little-endian bytes, for a 32- or 64-byte little-endian input. */
export function scalarReduce(input: Uint8Array, out = new Uint8Array(32)): Uint8Array {
  abytes(input, undefined, 'input');
  abytes(out, 32, 'out');
  if (input.length !== 32 && input.length !== 64) {
    throw new CryptoError('BAD_LENGTH', `input must be 32 or 64 bytes, got ${input.length}`);
  }
  const count = load(x, input, input.length);
  reduceInto(out, 0, count - 1);
  return out;
}

/**
 * `(a·b + c) mod L` as 32 canonical little-endian bytes, written to out[offset..offset + 32], for
 * 32-byte little-endian a, b, c (any values below 2^256).
 */
export function scalarMulAdd(
  out: Uint8Array,
  offset: number,
  a: Uint8Array,
  b: Uint8Array,
  c: Uint8Array,
): void {
  abytes(a, 32, 'a');
  abytes(b, 32, 'b');
  abytes(c, 32, 'c');
  load(aLimbs, a, 32);
  load(bLimbs, b, 32);
  load(x, c, 32);
  // Columns are below 13·2^42 + 2^21 < 2^46.
  for (let k = 0; k < 25; k++) {
    let column = x[k]!;
    for (let i = Math.max(0, k - 12), end = Math.min(12, k); i <= end; i++) {
      column += aLimbs[i]! * bLimbs[k - i]!;
    }
    x[k] = column;
  }
  aLimbs.fill(0);
  bLimbs.fill(0);
  reduceInto(out, offset, 25);
}
