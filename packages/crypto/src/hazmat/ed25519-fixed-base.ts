/**
 * Fixed-base scalar multiplication `encode([k]B)` on edwards25519, the hot step of XEdDSA signing
 * (signal-wire.md §4: `A = a·B`, `R = r·B`), without BigInt.
 *
 * Method: RFC 8032 §5.1 (curve, base point, encoding) and ref10's `ge_scalarmult_base` (SUPERCOP's
 * reference Ed25519 by Bernstein, Duif, Lange, Schwabe and Yang, "High-speed high-security
 * signatures", 2011, §4; also in libsodium). Written from those descriptions, not copied:
 * - a table of 32 × 8 affine points `j · 256^i · B` (i < 32, 1 ≤ j ≤ 8), each stored as
 *   `(y + x, y − x, 2d·x·y)` ("Niels" form), built on first use from the base point with the
 *   arithmetic of `field25519.ts`/`edwards25519.ts` and batch-inverted, then checked: `[L]B` must be
 *   the identity (the tests compare every entry with `@noble/curves`);
 * - the scalar (< 2^255) recoded into 64 signed radix-16 digits in [−8, 8];
 * - `[k]B = 16·Σ_odd d_i·16^(i−1)·B + Σ_even d_i·16^i·B`: 32 mixed additions, 4 doublings, 32
 *   more mixed additions, in extended coordinates (`edwards25519.ts`);
 * - one inversion by exponentiation to encode.
 *
 * Timing: every table lookup reads all 8 entries of its row and combines them with 0/1 masks
 * (ref10's `cmov`), the sign is applied with masks, and the operation sequence does not depend on
 * the scalar. JavaScript cannot promise constant time (JIT, GC); see docs/crypto.md.
 *
 * Left out on purpose: scalars ≥ 2^255 (callers reduce or clamp first); variable-base work is in
 * `ed25519-double-base.ts`.
 */
import { abytes } from '../assert.js';
import { CryptoError } from '../errors.js';
import {
  type Extended,
  type Niels,
  addCached,
  addNiels,
  basePoint,
  batchToAffine,
  cached,
  copyExtended,
  double,
  encode,
  extended,
  niels,
  setIdentity,
  toCached,
  toExtended,
  toNiels,
  toProjective,
  wipeExtended,
  wipeScratch,
} from './edwards25519.js';
import { FE_LIMBS, type Fe, fe } from './field25519.js';

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const GROUP_ORDER_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/**
 * A table entry is stored as 18 doubles, two carried limbs (|limb| < 2^22) per double as
 * `low + 2^23·high`: (y + x)_l with (y − x)_l for l < 12, then (2dxy)_2m with (2dxy)_2m+1 for m < 6.
 * Every masked sum is still exact (< 2^45), and halving the doubles halves the work of the
 * constant-time scan, which reads every entry of a row.
 */
const PACKED = 18;
const PAIR_SHIFT = 2 ** 23;
const INV_PAIR_SHIFT = 2 ** -23;
/** Adding and subtracting 1.5·2^52 rounds a double below 2^51 in magnitude to an integer. */
const ROUND = 1.5 * 2 ** 52;
const ROWS = 32;
const ENTRIES = 8;
const ROW_DOUBLES = ENTRIES * PACKED;

let table: Float64Array | undefined;

/** Packs a Niels point into the table at `offset`. */
function store(into: Float64Array, offset: number, entry: Niels): void {
  for (let l = 0; l < FE_LIMBS; l++) {
    into[offset + l] = entry.yPlusX[l]! + PAIR_SHIFT * entry.yMinusX[l]!;
  }
  for (let m = 0; m < FE_LIMBS / 2; m++) {
    into[offset + FE_LIMBS + m] = entry.xy2d[2 * m]! + PAIR_SHIFT * entry.xy2d[2 * m + 1]!;
  }
}

function buildTable(): Float64Array {
  // Extended multiples j·256^i·B: row i holds j = 1..8.
  const points: Extended[] = [];
  const rowBase = basePoint();
  const step = cached();
  const sum = extended();
  const completed = extended();
  for (let i = 0; i < ROWS; i++) {
    toCached(step, rowBase);
    copyExtended(sum, rowBase);
    for (let j = 1; j <= ENTRIES; j++) {
      if (j > 1) {
        addCached(completed, sum, step);
        toExtended(sum, completed);
      }
      const copy = extended();
      copyExtended(copy, sum);
      points.push(copy);
    }
    // Next row: 256 · rowBase = 32 · (8 · rowBase), by 5 doublings of the last entry.
    double(completed, sum);
    for (let k = 1; k < 5; k++) {
      toProjective(rowBase, completed);
      double(completed, rowBase);
    }
    toExtended(rowBase, completed);
  }
  const { x, y } = batchToAffine(points);
  const built = new Float64Array(ROWS * ROW_DOUBLES);
  const entry = niels();
  for (let n = 0; n < points.length; n++) {
    toNiels(entry, x[n]!, y[n]!);
    store(built, n * PACKED, entry);
  }
  // [L]B must be the identity, whose encoding is y = 1, x = 0.
  const identity = new Uint8Array(32);
  multiplyInto(identity, GROUP_ORDER_LE, built);
  if (identity[0] !== 1 || identity.subarray(1).some((b) => b !== 0)) {
    throw new Error('ed25519-fixed-base: self-check failed ([L]B is not the identity)');
  }
  return built;
}

function getTable(): Float64Array {
  return (table ??= buildTable());
}

// ---- The multiplication -----------------------------------------------------------------------

const digits = new Int8Array(64);
const selected = niels();
const accumulator = extended();
const completedSum = extended();

/**
 * Recodes a scalar k < 2^255 (32 bytes, little-endian) as 64 digits d_i in [−8, 8] with
 * k = Σ d_i·16^i (ref10's signed radix 16).
 */
function recode(scalar: Uint8Array): void {
  for (let i = 0; i < 32; i++) {
    const byte = scalar[i]!;
    digits[2 * i] = byte & 15;
    digits[2 * i + 1] = byte >> 4;
  }
  let carry = 0;
  for (let i = 0; i < 63; i++) {
    const v = digits[i]! + carry;
    carry = (v + 8) >> 4;
    digits[i] = v - (carry << 4);
  }
  digits[63] = digits[63]! + carry;
}

/**
 * Loads `digit · 256^row · B` (digit in [−8, 8]) into `selected`, reading every entry of the row
 * and keeping one with 0/1 masks; digit 0 yields the identity (1, 1, 0); a negative digit swaps
 * y + x with y − x and negates 2d·x·y, also by masks.
 */
function select(table: Float64Array, row: number, digit: number): void {
  const negative = digit >>> 31;
  const magnitude = digit - ((-negative & digit) << 1);
  const m1 = ((magnitude ^ 1) - 1) >>> 31;
  const m2 = ((magnitude ^ 2) - 1) >>> 31;
  const m3 = ((magnitude ^ 3) - 1) >>> 31;
  const m4 = ((magnitude ^ 4) - 1) >>> 31;
  const m5 = ((magnitude ^ 5) - 1) >>> 31;
  const m6 = ((magnitude ^ 6) - 1) >>> 31;
  const m7 = ((magnitude ^ 7) - 1) >>> 31;
  const m8 = ((magnitude ^ 8) - 1) >>> 31;
  const zero = (magnitude - 1) >>> 31;
  const flip = 1 - 2 * negative;
  const { yPlusX, yMinusX, xy2d } = selected;
  const base = row * ROW_DOUBLES;
  for (let l = 0; l < PACKED; l++) {
    const i = base + l;
    const v =
      m1 * table[i]! +
      m2 * table[i + PACKED]! +
      m3 * table[i + 2 * PACKED]! +
      m4 * table[i + 3 * PACKED]! +
      m5 * table[i + 4 * PACKED]! +
      m6 * table[i + 5 * PACKED]! +
      m7 * table[i + 6 * PACKED]! +
      m8 * table[i + 7 * PACKED]!;
    const high = v * INV_PAIR_SHIFT + ROUND - ROUND;
    const low = v - high * PAIR_SHIFT;
    if (l < FE_LIMBS) {
      // (y + x, y − x), swapped when the digit is negative.
      yPlusX[l] = low + negative * (high - low);
      yMinusX[l] = high + negative * (low - high);
    } else {
      const m = 2 * (l - FE_LIMBS);
      xy2d[m] = flip * low;
      xy2d[m + 1] = flip * high;
    }
  }
  yPlusX[0] = yPlusX[0]! + zero;
  yMinusX[0] = yMinusX[0]! + zero;
}

function multiplyInto(out: Uint8Array, scalar: Uint8Array, table: Float64Array): void {
  recode(scalar);
  const h = accumulator;
  const r = completedSum;
  setIdentity(h);
  for (let i = 1; i < 64; i += 2) {
    select(table, i >> 1, digits[i]!);
    addNiels(r, h, selected);
    toExtended(h, r);
  }
  double(r, h);
  toProjective(h, r);
  double(r, h);
  toProjective(h, r);
  double(r, h);
  toProjective(h, r);
  double(r, h);
  toExtended(h, r);
  for (let i = 0; i < 64; i += 2) {
    select(table, i >> 1, digits[i]!);
    addNiels(r, h, selected);
    toExtended(h, r);
  }
  encode(out, 0, h);
  // The digits and intermediate points derive from a secret scalar (the nonce r or the key a).
  digits.fill(0);
  selected.yPlusX.fill(0);
  selected.yMinusX.fill(0);
  selected.xy2d.fill(0);
  wipeExtended(h);
  wipeExtended(r);
  wipeScratch();
}

/**
 * `encode([k]B)` (RFC 8032 §5.1.2) for a 32-byte little-endian scalar k < 2^255. k need not be
 * reduced mod L ([k]B = [k mod L]B); k = 0 gives the identity's encoding (1, 0, …, 0). Throws
 * `CryptoError('BAD_KEY')` if bit 255 is set.
 */
export function ed25519FixedBaseMultiply(scalar: Uint8Array): Uint8Array<ArrayBuffer> {
  abytes(scalar, 32, 'scalar');
  if ((scalar[31]! & 0x80) !== 0) throw new CryptoError('BAD_KEY', 'scalar must be below 2^255');
  const out = new Uint8Array(32);
  multiplyInto(out, scalar, getTable());
  return out;
}

/** The table entry `j · 256^row · B` as (y + x, y − x, 2d·x·y) field elements, for tests. */
export function fixedBaseTableEntry(row: number, j: number): [Fe, Fe, Fe] {
  const offset = row * ROW_DOUBLES + (j - 1) * PACKED;
  const entry: [Fe, Fe, Fe] = [fe(), fe(), fe()];
  for (let l = 0; l < PACKED; l++) {
    const v = getTable()[offset + l]!;
    const high = v * INV_PAIR_SHIFT + ROUND - ROUND;
    const low = v - high * PAIR_SHIFT;
    if (l < FE_LIMBS) {
      entry[0][l] = low;
      entry[1][l] = high;
    } else {
      entry[2][2 * (l - FE_LIMBS)] = low;
      entry[2][2 * (l - FE_LIMBS) + 1] = high;
    }
  }
  return entry;
}

/** Builds and checks the table now rather than on the first multiplication. */
export function ed25519FixedBasePrepare(): void {
  getTable();
}
