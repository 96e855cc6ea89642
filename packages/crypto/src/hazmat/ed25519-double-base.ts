/**
 * The cofactorless verification equation of XEdDSA (signal-wire.md §4, verify step 3) and Ed25519
 * (RFC 8032 §5.1.7 without the factor 8): `encode([s]B − [h]A) == R`, without BigInt.
 *
 * Method: Straus' simultaneous multiplication ("Shamir's trick") with width-w non-adjacent forms
 * (Hankerson, Menezes and Vanstone, "Guide to Elliptic Curve Cryptography", 2004, §3.3 and
 * Algorithm 3.51), as ref10's `ge_double_scalarmult_vartime` and curve25519-dalek's
 * `vartime_double_base` do; written from those descriptions, not copied. One refinement: both
 * scalars are split into PARTS chunks of 256/PARTS bits, `s = Σ s_j·2^(c·j)`, `h = Σ h_j·2^(c·j)`,
 * and every chunk gets its own table of odd multiples — of `2^(c·j)·B` once for all (affine Niels
 * form), of `−2^(c·j)·A` once per public key (`prepareVerifyingPoint`, meant to be cached by the
 * caller) — so one chain of c doublings serves all 2·PARTS chunks. With PARTS = 4 a verification
 * does 64 doublings instead of 253, for the same number of additions.
 *
 * Variable time: s, h, A and R are all public. Scalars must be below 2^253 (callers reduce them).
 *
 * Left out on purpose: batch verification; cofactored verification; checks that A or R have prime
 * order (libsignal does none either).
 */
import {
  type Cached,
  type Extended,
  type Niels,
  addCached,
  addNiels,
  basePoint,
  batchToAffine,
  cached,
  copyExtended,
  decode,
  double,
  encode,
  extended,
  niels,
  subCached,
  subNiels,
  toCached,
  toExtended,
  toNiels,
  toProjective,
} from './edwards25519.js';
import { FE_LIMBS, feNeg, feOne, feZero } from './field25519.js';

/** Chunks per scalar, and bits per chunk. */
const PARTS = 4;
const CHUNK_BITS = 256 / PARTS;
/** NAF widths: odd multiples up to 2^(w−1) − 1, i.e. 2^(w−2) table entries. */
const A_WIDTH = 5;
const B_WIDTH = 8;
const A_ENTRIES = 1 << (A_WIDTH - 2);
const B_ENTRIES = 1 << (B_WIDTH - 2);
const CACHED_DOUBLES = 4 * FE_LIMBS;
const NIELS_DOUBLES = 3 * FE_LIMBS;

/** A public key decoded and expanded for `verifyEquation`; cache it per key. */
export interface VerifyingPoint {
  /** The key's canonical 32-byte encoding (what enters the hash h). */
  readonly encoded: Uint8Array;
  /** Odd multiples 1, 3, …, 2^(w−1) − 1 of −2^(c·j)·A for each chunk j, in cached form. */
  readonly table: Float64Array;
}

function packCached(into: Float64Array, offset: number, q: Cached): void {
  into.set(q.yPlusX, offset);
  into.set(q.yMinusX, offset + FE_LIMBS);
  into.set(q.Z, offset + 2 * FE_LIMBS);
  into.set(q.T2d, offset + 3 * FE_LIMBS);
}

function unpackCached(q: Cached, from: Float64Array, offset: number): void {
  const { yPlusX, yMinusX, Z, T2d } = q;
  for (let l = 0; l < FE_LIMBS; l++) {
    yPlusX[l] = from[offset + l]!;
    yMinusX[l] = from[offset + FE_LIMBS + l]!;
    Z[l] = from[offset + 2 * FE_LIMBS + l]!;
    T2d[l] = from[offset + 3 * FE_LIMBS + l]!;
  }
}

function unpackNiels(q: Niels, from: Float64Array, offset: number): void {
  const { yPlusX, yMinusX, xy2d } = q;
  for (let l = 0; l < FE_LIMBS; l++) {
    yPlusX[l] = from[offset + l]!;
    yMinusX[l] = from[offset + FE_LIMBS + l]!;
    xy2d[l] = from[offset + 2 * FE_LIMBS + l]!;
  }
}

/** Odd multiples 1·P, 3·P, …, (2·count − 1)·P of an extended P, in cached form, into `into`. */
function oddMultiples(into: Float64Array, offset: number, p: Extended, count: number): void {
  const completed = extended();
  const twice = extended();
  double(completed, p);
  toExtended(twice, completed);
  const step = cached();
  toCached(step, twice);
  const current = extended();
  copyExtended(current, p);
  const entry = cached();
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      addCached(completed, current, step);
      toExtended(current, completed);
    }
    toCached(entry, current);
    packCached(into, offset + i * CACHED_DOUBLES, entry);
  }
}

/** p = 2^n · p (n ≥ 1). */
function doubleTimes(p: Extended, n: number): void {
  const completed = extended();
  for (let i = 0; i < n; i++) {
    double(completed, p);
    if (i < n - 1) toProjective(p, completed);
    else toExtended(p, completed);
  }
}

/**
 * Decodes a public key (RFC 8032 §5.1.3: canonical y, a square root exists, no "negative zero")
 * and precomputes its tables. Returns null for an invalid encoding. Costs about 3·c doublings.
 */
export function prepareVerifyingPoint(encoded: Uint8Array): VerifyingPoint | null {
  const a = extended();
  if (decode(a, encoded) === 0) return null;
  // Work with −A so that the main loop computes [s]B + [h](−A).
  feNeg(a.X, a.X);
  feNeg(a.T, a.T);
  const table = new Float64Array(PARTS * A_ENTRIES * CACHED_DOUBLES);
  for (let j = 0; j < PARTS; j++) {
    if (j > 0) doubleTimes(a, CHUNK_BITS);
    oddMultiples(table, j * A_ENTRIES * CACHED_DOUBLES, a, A_ENTRIES);
  }
  return { encoded: encoded.slice(), table };
}

let baseTable: Float64Array | undefined;

/** Odd multiples of 2^(c·j)·B for each chunk j, affine (Niels), built on first use. */
function getBaseTable(): Float64Array {
  if (baseTable !== undefined) return baseTable;
  const points: Extended[] = [];
  const b = basePoint();
  const completed = extended();
  const twice = extended();
  const step = cached();
  for (let j = 0; j < PARTS; j++) {
    if (j > 0) doubleTimes(b, CHUNK_BITS);
    double(completed, b);
    toExtended(twice, completed);
    toCached(step, twice);
    const current = extended();
    copyExtended(current, b);
    for (let i = 0; i < B_ENTRIES; i++) {
      if (i > 0) {
        addCached(completed, current, step);
        toExtended(current, completed);
      }
      const copy = extended();
      copyExtended(copy, current);
      points.push(copy);
    }
  }
  const { x, y } = batchToAffine(points);
  const built = new Float64Array(points.length * NIELS_DOUBLES);
  const entry = niels();
  for (let n = 0; n < points.length; n++) {
    toNiels(entry, x[n]!, y[n]!);
    built.set(entry.yPlusX, n * NIELS_DOUBLES);
    built.set(entry.yMinusX, n * NIELS_DOUBLES + FE_LIMBS);
    built.set(entry.xy2d, n * NIELS_DOUBLES + 2 * FE_LIMBS);
  }
  baseTable = built;
  return built;
}

/**
 * Width-w NAF of bits [start, start + CHUNK_BITS) of a little-endian scalar into digits[0..c]:
 * each digit 0 or odd with |d| < 2^(w−1), nonzero digits at least w apart, Σ d_i·2^i = the chunk.
 */
function nonAdjacentForm(digits: Int8Array, scalar: Uint8Array, start: number, w: number): void {
  digits.fill(0);
  const width = 1 << w;
  let carry = 0;
  let pos = 0;
  while (pos < CHUNK_BITS) {
    const bit = start + pos;
    const index = bit >> 3;
    const word = scalar[index]! | (index + 1 < 32 ? scalar[index + 1]! << 8 : 0);
    const available = Math.min(w, CHUNK_BITS - pos);
    const window = carry + ((word >>> (bit & 7)) & ((1 << available) - 1));
    if ((window & 1) === 0) {
      pos += 1;
      continue;
    }
    if (window < width >> 1) {
      carry = 0;
      digits[pos] = window;
    } else {
      carry = 1;
      digits[pos] = window - width;
    }
    pos += w;
  }
  // A carry out of the chunk is worth 2^c of this chunk's point.
  digits[CHUNK_BITS] = carry;
}

const sDigits = Array.from({ length: PARTS }, () => new Int8Array(CHUNK_BITS + 1));
const hDigits = Array.from({ length: PARTS }, () => new Int8Array(CHUNK_BITS + 1));
const accumulator = extended();
const completed = extended();
const aEntry = cached();
const bEntry = niels();
const check = new Uint8Array(32);

/**
 * Whether `encode([s]B − [h]A) == R` for 32-byte little-endian s, h < 2^253 and a 32-byte R
 * (compared as bytes, so a non-canonical R never matches).
 */
export function verifyEquation(
  key: VerifyingPoint,
  R: Uint8Array,
  s: Uint8Array,
  h: Uint8Array,
): boolean {
  const bTable = getBaseTable();
  const aTable = key.table;
  let top = -1;
  for (let j = 0; j < PARTS; j++) {
    nonAdjacentForm(sDigits[j]!, s, j * CHUNK_BITS, B_WIDTH);
    nonAdjacentForm(hDigits[j]!, h, j * CHUNK_BITS, A_WIDTH);
    for (let i = CHUNK_BITS; i > top; i--) {
      if (sDigits[j]![i] !== 0 || hDigits[j]![i] !== 0) {
        top = i;
        break;
      }
    }
  }
  const acc = accumulator;
  // `completed` holds the running value; each addition first converts it to extended
  // coordinates (4 multiplications), and each doubling to projective ones (3).
  feZero(completed.X); // the identity in completed coordinates: x = 0/1, y = 1/1
  feOne(completed.Y);
  feOne(completed.Z);
  feOne(completed.T);
  for (let i = top; i >= 0; i--) {
    toProjective(acc, completed);
    double(completed, acc);
    for (let j = 0; j < PARTS; j++) {
      const sd = sDigits[j]![i]!;
      if (sd !== 0) {
        toExtended(acc, completed);
        unpackNiels(bEntry, bTable, (j * B_ENTRIES + (Math.abs(sd) >> 1)) * NIELS_DOUBLES);
        if (sd > 0) addNiels(completed, acc, bEntry);
        else subNiels(completed, acc, bEntry);
      }
      const hd = hDigits[j]![i]!;
      if (hd !== 0) {
        toExtended(acc, completed);
        unpackCached(aEntry, aTable, (j * A_ENTRIES + (Math.abs(hd) >> 1)) * CACHED_DOUBLES);
        if (hd > 0) addCached(completed, acc, aEntry);
        else subCached(completed, acc, aEntry);
      }
    }
  }
  toProjective(acc, completed);
  encode(check, 0, acc);
  let difference = 0;
  for (let i = 0; i < 32; i++) difference |= check[i]! ^ R[i]!;
  return difference === 0;
}
