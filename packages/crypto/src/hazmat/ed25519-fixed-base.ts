/**
 * Fixed-base scalar multiplication `encode([k]B)` on edwards25519, the hot step of XEdDSA signing
 * (signal-wire.md §4: `A = a·B`, `R = r·B`), without BigInt.
 *
 * Method: RFC 8032 §5.1 (curve, base point, encoding) and ref10's `ge_scalarmult_base` (SUPERCOP's
 * reference Ed25519 by Bernstein, Duif, Lange, Schwabe and Yang, "High-speed high-security
 * signatures", 2011, §4; also in libsodium). Written from those descriptions, not copied:
 * - a table of 32 × 8 affine points `j · 256^i · B` (i < 32, 1 ≤ j ≤ 8), each stored as
 *   `(y + x, y − x, 2d·x·y)` ("Niels" form), built on first use from the base point with the
 *   arithmetic of `field25519.ts` and batch-inverted, then checked: the base point must encode as in
 *   RFC 8032 and `[L]B` must be the identity (the tests compare every entry with `@noble/curves`);
 * - the scalar (< 2^255) recoded into 64 signed radix-16 digits in [−8, 8];
 * - `[k]B = Σ_odd d_i·16^i·B` (32 mixed additions), times 16 (4 doublings), plus
 *   `Σ_even d_i·16^i·B` (32 more), in extended coordinates (Hisil–Wong–Carter–Dawson 2008, the
 *   a = −1 formulas ref10 uses);
 * - one inversion by exponentiation to encode.
 *
 * Timing: every table lookup reads all 8 entries of its row and combines them with 0/1 masks
 * (ref10's `cmov`), the sign is applied with masks, and the operation sequence does not depend on
 * the scalar. JavaScript cannot promise constant time (JIT, GC); see docs/crypto.md.
 *
 * Left out on purpose: variable-base and double-scalar multiplication, point decoding, and
 * scalars ≥ 2^255 (callers reduce or clamp first).
 */
import { abytes } from '../assert.js';
import { CryptoError } from '../errors.js';
import {
  type Fe,
  FE_LIMBS,
  fe,
  feAdd,
  feCarry,
  feCopy,
  feEqual,
  feFromSmall,
  feInvert,
  feIsNegative,
  feMul,
  feNeg,
  feOne,
  fePow22523,
  feSqr,
  feSub,
  feToBytes,
  feZero,
} from './field25519.js';

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const GROUP_ORDER_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);
/** RFC 8032 §5.1: the encoding of B = (x, 4/5) with x even. */
const BASE_POINT_ENCODING_HEX = '5866666666666666666666666666666666666666666666666666666666666666';

/** Extended coordinates (X : Y : Z : T): x = X/Z, y = Y/Z, x·y = T/Z (ref10 `ge_p3`). */
interface Extended {
  readonly X: Fe;
  readonly Y: Fe;
  readonly Z: Fe;
  readonly T: Fe;
}
/** Completed coordinates ((X : Z), (Y : T)): x = X/Z, y = Y/T (ref10 `ge_p1p1`). */
type Completed = Extended;
/** Affine Niels form of a table entry: (y + x, y − x, 2d·x·y) (ref10 `ge_precomp`). */
interface Niels {
  readonly yPlusX: Fe;
  readonly yMinusX: Fe;
  readonly xy2d: Fe;
}
/** (Y + X, Y − X, Z, 2d·T) of an extended point, for full additions (ref10 `ge_cached`). */
interface Cached {
  readonly yPlusX: Fe;
  readonly yMinusX: Fe;
  readonly Z: Fe;
  readonly T2d: Fe;
}

function extended(): Extended {
  return { X: fe(), Y: fe(), Z: fe(), T: fe() };
}

function setIdentity(p: Extended): void {
  feZero(p.X);
  feOne(p.Y);
  feOne(p.Z);
  feZero(p.T);
}

function wipeExtended(p: Extended): void {
  p.X.fill(0);
  p.Y.fill(0);
  p.Z.fill(0);
  p.T.fill(0);
}

const scratch = fe();

/**
 * r = p + q for an affine Niels q (ref10 `ge_madd`; 3 multiplications). With p carried the
 * completed result has scales X, Y ≤ 2.1 and Z, T ≤ 3.2, so every product in the conversions below
 * stays within field25519's bound (≤ 16).
 */
function addNiels(r: Completed, p: Extended, q: Niels): void {
  feAdd(r.X, p.Y, p.X);
  feSub(r.Y, p.Y, p.X);
  feMul(r.Z, r.X, q.yPlusX); // B = (Y1 + X1)(y2 + x2)
  feMul(r.Y, r.Y, q.yMinusX); // A = (Y1 − X1)(y2 − x2)
  feMul(r.T, q.xy2d, p.T); // C = 2d·T1·x2·y2
  feAdd(scratch, p.Z, p.Z); // D = 2·Z1
  feSub(r.X, r.Z, r.Y); // E = B − A
  feAdd(r.Y, r.Z, r.Y); // H = B + A
  feAdd(r.Z, scratch, r.T); // G = D + C
  feSub(r.T, scratch, r.T); // F = D − C
}

/** r = p + q for an extended p and a cached q (ref10 `ge_add`; 4 multiplications). */
function addCached(r: Completed, p: Extended, q: Cached): void {
  feAdd(r.X, p.Y, p.X);
  feSub(r.Y, p.Y, p.X);
  feMul(r.Z, r.X, q.yPlusX);
  feMul(r.Y, r.Y, q.yMinusX);
  feMul(r.T, q.T2d, p.T);
  feMul(r.X, p.Z, q.Z);
  feAdd(scratch, r.X, r.X);
  feSub(r.X, r.Z, r.Y);
  feAdd(r.Y, r.Z, r.Y);
  feAdd(r.Z, scratch, r.T);
  feSub(r.T, scratch, r.T);
}

/**
 * r = 2p from p's X, Y, Z (ref10 `ge_p2_dbl`; 4 squarings). With p carried the result has scales
 * X ≤ 3.2, Y, Z ≤ 2.1, T ≤ 4.2 (largest product in a conversion: 3.2 · 4.2 ≈ 13 ≤ 16).
 */
function double(r: Completed, p: Extended): void {
  feSqr(r.X, p.X); // XX
  feSqr(r.Z, p.Y); // YY
  feSqr(r.T, p.Z);
  feAdd(r.T, r.T, r.T); // 2·ZZ
  feAdd(r.Y, p.X, p.Y);
  feSqr(scratch, r.Y); // (X + Y)²
  feAdd(r.Y, r.Z, r.X); // YY + XX
  feSub(r.Z, r.Z, r.X); // YY − XX
  feSub(r.X, scratch, r.Y); // 2·X·Y
  feSub(r.T, r.T, r.Z); // 2·ZZ − (YY − XX)
}

/** Completed to extended (ref10 `ge_p1p1_to_p3`; 4 multiplications). `r` must not alias `p`. */
function toExtended(r: Extended, p: Completed): void {
  feMul(r.X, p.X, p.T);
  feMul(r.Y, p.Y, p.Z);
  feMul(r.Z, p.Z, p.T);
  feMul(r.T, p.X, p.Y);
}

/** Completed to projective X, Y, Z only, enough for a following doubling (ref10 `ge_p1p1_to_p2`). */
function toProjective(r: Extended, p: Completed): void {
  feMul(r.X, p.X, p.T);
  feMul(r.Y, p.Y, p.Z);
  feMul(r.Z, p.Z, p.T);
}

/** Writes the RFC 8032 §5.1.2 encoding of p (y with x's sign in bit 255) into out[0..32]. */
function encode(out: Uint8Array, p: Extended, zInverse: Fe, x: Fe, y: Fe): void {
  feInvert(zInverse, p.Z);
  feMul(x, p.X, zInverse);
  feMul(y, p.Y, zInverse);
  feToBytes(out, 0, y);
  out[31] = out[31]! | (feIsNegative(x) << 7);
}

// ---- Curve constants and the base-point table -------------------------------------------------

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

interface Curve {
  /** d = −121665/121666 and 2d. */
  readonly d: Fe;
  readonly d2: Fe;
  readonly table: Float64Array;
}

let curve: Curve | undefined;

function fail(what: string): never {
  throw new Error(
    `ed25519-fixed-base: self-check failed (${what}); the field arithmetic is broken`,
  );
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The base point B = (x, 4/5), x even (RFC 8032 §5.1), recovered as in RFC 8032 §5.1.3. */
function basePoint(d: Fe): Extended {
  const y = fe();
  feInvert(y, feFromSmall(5));
  feMul(y, y, feFromSmall(4));
  const yy = fe();
  feSqr(yy, y);
  const u = fe();
  feSub(u, yy, feFromSmall(1)); // y² − 1
  feCarry(u, u);
  const v = fe();
  feMul(v, d, yy);
  feAdd(v, v, feFromSmall(1)); // d·y² + 1
  feCarry(v, v);
  // x = u·v³·(u·v⁷)^((p − 5)/8)
  const v3 = fe();
  feSqr(v3, v);
  feMul(v3, v3, v);
  const uv7 = fe();
  feSqr(uv7, v3);
  feMul(uv7, uv7, v);
  feMul(uv7, uv7, u);
  const x = fe();
  fePow22523(x, uv7);
  feMul(x, x, v3);
  feMul(x, x, u);
  const check = fe();
  feSqr(check, x);
  feMul(check, check, v);
  if (feEqual(check, u) === 0) {
    // v·x² = −u: multiply by sqrt(−1) = 2^((p − 1)/4) = (2^((p − 5)/8))² · 2.
    const sqrtMinusOne = fe();
    fePow22523(sqrtMinusOne, feFromSmall(2));
    feSqr(sqrtMinusOne, sqrtMinusOne);
    feAdd(sqrtMinusOne, sqrtMinusOne, sqrtMinusOne);
    feCarry(sqrtMinusOne, sqrtMinusOne);
    feMul(x, x, sqrtMinusOne);
    feSqr(check, x);
    feMul(check, check, v);
    if (feEqual(check, u) === 0) fail('base point square root');
  }
  if (feIsNegative(x) === 1) feNeg(x, x);
  const point = extended();
  feCopy(point.X, x);
  feCopy(point.Y, y);
  feOne(point.Z);
  feMul(point.T, x, y);
  return point;
}

function toCached(r: Cached, p: Extended, d2: Fe): void {
  feAdd(r.yPlusX, p.Y, p.X);
  feCarry(r.yPlusX, r.yPlusX);
  feSub(r.yMinusX, p.Y, p.X);
  feCarry(r.yMinusX, r.yMinusX);
  feCopy(r.Z, p.Z);
  feMul(r.T2d, p.T, d2);
}

function buildCurve(): Curve {
  const d = fe();
  feInvert(d, feFromSmall(121666));
  feMul(d, d, feFromSmall(121665));
  feNeg(d, d);
  const d2 = fe();
  feAdd(d2, d, d);
  feCarry(d2, d2);

  const base = basePoint(d);
  const encoded = new Uint8Array(32);
  encode(encoded, base, fe(), fe(), fe());
  if (hex(encoded) !== BASE_POINT_ENCODING_HEX) fail('base point encoding');

  // Projective multiples j·256^i·B, one row per i.
  const count = ROWS * ENTRIES;
  const xs: Fe[] = [];
  const ys: Fe[] = [];
  const zs: Fe[] = [];
  const rowBase = extended();
  feCopy(rowBase.X, base.X);
  feCopy(rowBase.Y, base.Y);
  feCopy(rowBase.Z, base.Z);
  feCopy(rowBase.T, base.T);
  const cached: Cached = { yPlusX: fe(), yMinusX: fe(), Z: fe(), T2d: fe() };
  const sum = extended();
  const completed = extended();
  for (let i = 0; i < ROWS; i++) {
    toCached(cached, rowBase, d2);
    feCopy(sum.X, rowBase.X);
    feCopy(sum.Y, rowBase.Y);
    feCopy(sum.Z, rowBase.Z);
    feCopy(sum.T, rowBase.T);
    for (let j = 1; j <= ENTRIES; j++) {
      if (j > 1) {
        addCached(completed, sum, cached);
        toExtended(sum, completed);
      }
      xs.push(sum.X.slice());
      ys.push(sum.Y.slice());
      zs.push(sum.Z.slice());
    }
    // Next row: 256 · rowBase = 32 · (8 · rowBase), by 5 doublings of the last entry.
    double(completed, sum);
    for (let k = 1; k < 5; k++) {
      toProjective(rowBase, completed);
      double(completed, rowBase);
    }
    toExtended(rowBase, completed);
  }

  // Batch inversion (Montgomery's trick): one field inversion for all 256 Z.
  const prefix: Fe[] = [];
  let running = feFromSmall(1);
  for (const z of zs) {
    const next = fe();
    feMul(next, running, z);
    prefix.push(next);
    running = next;
  }
  const inverse = fe();
  feInvert(inverse, running);
  const table = new Float64Array(count * PACKED);
  const zInverse = fe();
  const x = fe();
  const y = fe();
  const yPlusX = fe();
  const yMinusX = fe();
  const xy2d = fe();
  for (let n = count - 1; n >= 0; n--) {
    if (n > 0) feMul(zInverse, inverse, prefix[n - 1]!);
    else feCopy(zInverse, inverse);
    feMul(inverse, inverse, zs[n]!);
    feMul(x, xs[n]!, zInverse);
    feMul(y, ys[n]!, zInverse);
    feAdd(yPlusX, y, x);
    feCarry(yPlusX, yPlusX);
    feSub(yMinusX, y, x);
    feCarry(yMinusX, yMinusX);
    feMul(xy2d, x, y);
    feMul(xy2d, xy2d, d2);
    const offset = n * PACKED;
    for (let l = 0; l < FE_LIMBS; l++) {
      table[offset + l] = yPlusX[l]! + PAIR_SHIFT * yMinusX[l]!;
    }
    for (let m = 0; m < FE_LIMBS / 2; m++) {
      table[offset + FE_LIMBS + m] = xy2d[2 * m]! + PAIR_SHIFT * xy2d[2 * m + 1]!;
    }
  }
  const built: Curve = { d, d2, table };
  // [L]B must be the identity, whose encoding is y = 1, x = 0.
  const identity = new Uint8Array(32);
  multiplyInto(identity, GROUP_ORDER_LE, built);
  if (hex(identity) !== '01' + '00'.repeat(31)) fail('[L]B is not the identity');
  return built;
}

function getCurve(): Curve {
  return (curve ??= buildCurve());
}

// ---- The multiplication -----------------------------------------------------------------------

const digits = new Int8Array(64);
const selected: Niels = { yPlusX: fe(), yMinusX: fe(), xy2d: fe() };
const accumulator = extended();
const completedSum = extended();
const zInv = fe();
const affineX = fe();
const affineY = fe();

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

function multiplyInto(out: Uint8Array, scalar: Uint8Array, { table }: Curve): void {
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
  encode(out, h, zInv, affineX, affineY);
  // The digits and intermediate points derive from a secret scalar (the nonce r or the key a).
  digits.fill(0);
  selected.yPlusX.fill(0);
  selected.yMinusX.fill(0);
  selected.xy2d.fill(0);
  wipeExtended(h);
  wipeExtended(r);
  scratch.fill(0);
  zInv.fill(0);
  affineX.fill(0);
  affineY.fill(0);
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
  multiplyInto(out, scalar, getCurve());
  return out;
}

/** The table entry `j · 256^row · B` as (y + x, y − x, 2d·x·y) field elements, for tests. */
export function fixedBaseTableEntry(row: number, j: number): [Fe, Fe, Fe] {
  const { table } = getCurve();
  const offset = row * ROW_DOUBLES + (j - 1) * PACKED;
  const entry: [Fe, Fe, Fe] = [fe(), fe(), fe()];
  for (let l = 0; l < PACKED; l++) {
    const v = table[offset + l]!;
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
  getCurve();
}
