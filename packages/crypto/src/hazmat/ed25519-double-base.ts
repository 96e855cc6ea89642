/**
 * The cofactorless verification equation of XEdDSA (signal-wire.md §4, verify step 3) and Ed25519
 * (RFC 8032 §5.1.7 without the factor 8): `encode([s]B − [h]A) == R`, without BigInt.
 *
 * Method: Straus' simultaneous multiplication ("Shamir's trick") with width-w non-adjacent forms
 * (Hankerson, Menezes and Vanstone, "Guide to Elliptic Curve Cryptography", 2004, §3.3 and
 * Algorithm 3.51), as ref10's `ge_double_scalarmult_vartime` and curve25519-dalek's
 * `vartime_double_base` do; written from those descriptions, not copied. One refinement for keys
 * that verify repeatedly: both scalars are split into 4 chunks of c = 64 bits,
 * `s = Σ s_j·2^(64j)`, `h = Σ h_j·2^(64j)`, and every chunk gets its own table of odd multiples —
 * of `2^(64j)·B` once for all (affine Niels form), of `−2^(64j)·A` once per public key — so one
 * chain of 64 doublings serves all 8 chunks instead of 253 doublings, for the same number of
 * additions. Building a key's chunk tables costs about 192 doublings, so `prepareVerifyingPoint`
 * builds only the first (c = 256, one chunk) and `expandVerifyingPoint` the rest: the caller caches
 * the key and expands it when it is used again. Expanded tables are wider (w = 7) and affine (one
 * batched inversion), since they serve many verifications.
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

/** Most chunks per scalar (bits per chunk: 256 / chunks). */
const MAX_CHUNKS = 4;
/** NAF widths: odd multiples up to 2^(w−1) − 1, i.e. 2^(w−2) table entries. */
const A_WIDTH = 5;
const B_WIDTH = 8;
const A_ENTRIES = 1 << (A_WIDTH - 2);
const B_ENTRIES = 1 << (B_WIDTH - 2);
const CACHED_DOUBLES = 4 * FE_LIMBS;
const NIELS_DOUBLES = 3 * FE_LIMBS;
const A_CHUNK_DOUBLES = A_ENTRIES * CACHED_DOUBLES;
/**
 * Once a key is expanded its tables are built once and used many times, so they are wider
 * (w = 7: 32 entries per chunk, about 32 additions per verification instead of about 43) and
 * affine (Niels form, 3 multiplications per addition instead of 4): 4 × 32 × 36 doubles ≈ 37 KB.
 */
const A_WIDTH_EXPANDED = 7;
const A_ENTRIES_EXPANDED = 1 << (A_WIDTH_EXPANDED - 2);
const A_NIELS_CHUNK_DOUBLES = A_ENTRIES_EXPANDED * NIELS_DOUBLES;

/** A public key decoded and expanded for `verifyEquation`; cache it per key. */
export interface VerifyingPoint {
  /** The key's canonical 32-byte encoding (what enters the hash h). */
  readonly encoded: Uint8Array;
  /** How many chunks the tables cover: 1 after `prepareVerifyingPoint`, 4 once expanded. */
  readonly chunks: number;
}

/** The mutable inside of a VerifyingPoint. */
interface VerifyingTables extends VerifyingPoint {
  chunks: number;
  /**
   * One chunk: odd multiples 1, 3, …, 2^(w−1) − 1 of −A in cached form (w = A_WIDTH). Four
   * chunks: odd multiples of −2^(64j)·A for each chunk j in affine Niels form (w =
   * A_WIDTH_EXPANDED).
   */
  table: Float64Array;
  /** −A in extended coordinates, kept until the key is expanded. */
  negated: Extended | undefined;
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

// Scratch for building tables (public values only).
const work = extended();
const workCompleted = extended();
const workTwice = extended();
const workStep = cached();
const workEntry = cached();

/** Odd multiples 1·P, 3·P, …, (2·count − 1)·P of P, in cached form, into `into` at `offset`. */
function oddMultiples(into: Float64Array, offset: number, p: Extended, count: number): void {
  double(workCompleted, p);
  toExtended(workTwice, workCompleted);
  toCached(workStep, workTwice);
  copyExtended(work, p);
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      addCached(workCompleted, work, workStep);
      toExtended(work, workCompleted);
    }
    toCached(workEntry, work);
    packCached(into, offset + i * CACHED_DOUBLES, workEntry);
  }
}

/** p = 2^n · p (n ≥ 1), in extended coordinates (p.T may be stale on entry). */
function doubleTimes(p: Extended, n: number): void {
  for (let i = 0; i < n; i++) {
    double(workCompleted, p);
    if (i < n - 1) toProjective(p, workCompleted);
    else toExtended(p, workCompleted);
  }
}

/**
 * Decodes a public key (RFC 8032 §5.1.3: canonical y, a square root exists, no "negative zero")
 * and builds its one-chunk table. Returns null for an invalid encoding.
 */
export function prepareVerifyingPoint(encoded: Uint8Array): VerifyingPoint | null {
  const a = extended();
  if (decode(a, encoded) === 0) return null;
  // Work with −A so that the main loop computes [s]B + [h](−A).
  feNeg(a.X, a.X);
  feNeg(a.T, a.T);
  const table = new Float64Array(A_CHUNK_DOUBLES);
  oddMultiples(table, 0, a, A_ENTRIES);
  const key: VerifyingTables = { encoded: encoded.slice(), chunks: 1, table, negated: a };
  return key;
}

/**
 * Builds the tables of the other chunks (about 192 doublings), so later verifications with this
 * key do 64 doublings instead of 253. Idempotent.
 */
export function expandVerifyingPoint(point: VerifyingPoint): void {
  const key = point as VerifyingTables;
  if (key.chunks === MAX_CHUNKS || key.negated === undefined) return;
  const p = extended();
  copyExtended(p, key.negated);
  const points: Extended[] = [];
  for (let j = 0; j < MAX_CHUNKS; j++) {
    if (j > 0) doubleTimes(p, 256 / MAX_CHUNKS);
    oddMultiplesExtended(points, p, A_ENTRIES_EXPANDED);
  }
  key.table = nielsTable(points);
  key.negated = undefined;
  key.chunks = MAX_CHUNKS;
}

/** Appends odd multiples 1·P, 3·P, …, (2·count − 1)·P of P (extended, T current) to `points`. */
function oddMultiplesExtended(points: Extended[], p: Extended, count: number): void {
  double(workCompleted, p);
  toExtended(workTwice, workCompleted);
  toCached(workStep, workTwice);
  copyExtended(work, p);
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      addCached(workCompleted, work, workStep);
      toExtended(work, workCompleted);
    }
    const copy = extended();
    copyExtended(copy, work);
    points.push(copy);
  }
}

/** The points in affine Niels form (one inversion for all), packed `NIELS_DOUBLES` apart. */
function nielsTable(points: readonly Extended[]): Float64Array {
  const { x, y } = batchToAffine(points);
  const built = new Float64Array(points.length * NIELS_DOUBLES);
  const entry = niels();
  for (let n = 0; n < points.length; n++) {
    toNiels(entry, x[n]!, y[n]!);
    built.set(entry.yPlusX, n * NIELS_DOUBLES);
    built.set(entry.yMinusX, n * NIELS_DOUBLES + FE_LIMBS);
    built.set(entry.xy2d, n * NIELS_DOUBLES + 2 * FE_LIMBS);
  }
  return built;
}

let baseTable: Float64Array | undefined;

/** Odd multiples of 2^(64j)·B for each chunk j, affine (Niels), built on first use. */
function getBaseTable(): Float64Array {
  if (baseTable !== undefined) return baseTable;
  const points: Extended[] = [];
  const b = basePoint();
  for (let j = 0; j < MAX_CHUNKS; j++) {
    if (j > 0) doubleTimes(b, 256 / MAX_CHUNKS);
    double(workCompleted, b);
    toExtended(workTwice, workCompleted);
    toCached(workStep, workTwice);
    copyExtended(work, b);
    for (let i = 0; i < B_ENTRIES; i++) {
      if (i > 0) {
        addCached(workCompleted, work, workStep);
        toExtended(work, workCompleted);
      }
      const copy = extended();
      copyExtended(copy, work);
      points.push(copy);
    }
  }
  const built = nielsTable(points);
  baseTable = built;
  return built;
}

/**
 * Width-w NAF of bits [start, start + bits) of a 32-byte little-endian scalar into
 * digits[0..bits]: each digit 0 or odd with |d| < 2^(w−1), nonzero digits at least w apart, and
 * Σ d_i·2^i equal to the chunk.
 */
function nonAdjacentForm(
  digits: Int8Array,
  scalar: Uint8Array,
  start: number,
  bits: number,
  w: number,
): void {
  digits.fill(0);
  const width = 1 << w;
  let carry = 0;
  let pos = 0;
  while (pos < bits) {
    const bit = start + pos;
    const index = bit >> 3;
    const word = scalar[index]! | (index + 1 < 32 ? scalar[index + 1]! << 8 : 0);
    const available = Math.min(w, bits - pos);
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
  // A carry out of the chunk is worth 2^bits of this chunk's point.
  digits[bits] = carry;
}

const sDigits = Array.from({ length: MAX_CHUNKS }, () => new Int8Array(257));
const hDigits = Array.from({ length: MAX_CHUNKS }, () => new Int8Array(257));
const accumulator = extended();
const completed = extended();
const aEntry = cached();
const aNiels = niels();
const bEntry = niels();
const check = new Uint8Array(32);

/**
 * Whether `encode([s]B − [h]A) == R` for 32-byte little-endian s, h < 2^253 and a 32-byte R
 * (compared as bytes, so a non-canonical R never matches).
 */
export function verifyEquation(
  point: VerifyingPoint,
  R: Uint8Array,
  s: Uint8Array,
  h: Uint8Array,
): boolean {
  const key = point as VerifyingTables;
  const bTable = getBaseTable();
  const aTable = key.table;
  const chunks = key.chunks;
  const bits = 256 / chunks;
  const expanded = chunks === MAX_CHUNKS;
  const aWidth = expanded ? A_WIDTH_EXPANDED : A_WIDTH;
  let top = -1;
  for (let j = 0; j < chunks; j++) {
    nonAdjacentForm(sDigits[j]!, s, j * bits, bits, B_WIDTH);
    nonAdjacentForm(hDigits[j]!, h, j * bits, bits, aWidth);
    for (let i = bits; i > top; i--) {
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
    for (let j = 0; j < chunks; j++) {
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
        if (expanded) {
          unpackNiels(
            aNiels,
            aTable,
            j * A_NIELS_CHUNK_DOUBLES + (Math.abs(hd) >> 1) * NIELS_DOUBLES,
          );
          if (hd > 0) addNiels(completed, acc, aNiels);
          else subNiels(completed, acc, aNiels);
        } else {
          unpackCached(aEntry, aTable, (Math.abs(hd) >> 1) * CACHED_DOUBLES);
          if (hd > 0) addCached(completed, acc, aEntry);
          else subCached(completed, acc, aEntry);
        }
      }
    }
  }
  toProjective(acc, completed);
  encode(check, 0, acc);
  let difference = 0;
  for (let i = 0; i < 32; i++) difference |= check[i]! ^ R[i]!;
  return difference === 0;
}
