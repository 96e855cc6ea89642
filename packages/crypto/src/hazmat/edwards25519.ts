/**
 * The edwards25519 group (RFC 8032 §5.1: −x² + y² = 1 + d·x²·y² over GF(2^255 − 19)) on the limb
 * arithmetic of `field25519.ts`: point representations, the addition and doubling formulas, the
 * curve constants and base point, the RFC 8032 §5.1.2/§5.1.3 encoding and decoding, and the
 * Montgomery → Edwards map of RFC 7748 §4.1 (for XEdDSA's X25519 public keys). Shared by
 * `ed25519-fixed-base.ts` (signing) and `ed25519-double-base.ts` (verification), for XEdDSA
 * (signal-wire.md §4).
 *
 * Method: the extended coordinates and a = −1 formulas of Hisil, Wong, Carter and Dawson, "Twisted
 * Edwards Curves Revisited" (2008), arranged as in ref10 (SUPERCOP's reference Ed25519: `ge_p3`,
 * `ge_p1p1`, `ge_precomp`, `ge_cached`, `ge_madd`, `ge_add`, `ge_p2_dbl`). Written from those
 * descriptions, not copied. Each formula notes the scales of its outputs (field25519's bound: the
 * product of a multiplication's input scales must stay ≤ 16).
 *
 * Left out on purpose: anything BigInt; validation beyond RFC 8032's decoding rules (no
 * small-order or torsion checks: XEdDSA verification is cofactorless, as in libsignal).
 */
import {
  type Fe,
  fe,
  feAdd,
  feCarry,
  feCopy,
  feEqual,
  feFromBytes,
  feFromSmall,
  feInvert,
  feIsNegative,
  feIsZero,
  feMul,
  feNeg,
  feOne,
  fePow22523,
  feSqr,
  feSub,
  feToBytes,
  feZero,
} from './field25519.js';

/** Extended coordinates (X : Y : Z : T): x = X/Z, y = Y/Z, x·y = T/Z (ref10 `ge_p3`). */
export interface Extended {
  readonly X: Fe;
  readonly Y: Fe;
  readonly Z: Fe;
  readonly T: Fe;
}
/** Completed coordinates ((X : Z), (Y : T)): x = X/Z, y = Y/T (ref10 `ge_p1p1`). */
type Completed = Extended;
/** Affine Niels form (y + x, y − x, 2d·x·y), for tables of fixed points (ref10 `ge_precomp`). */
export interface Niels {
  readonly yPlusX: Fe;
  readonly yMinusX: Fe;
  readonly xy2d: Fe;
}
/** (Y + X, Y − X, Z, 2d·T) of an extended point, for full additions (ref10 `ge_cached`). */
export interface Cached {
  readonly yPlusX: Fe;
  readonly yMinusX: Fe;
  readonly Z: Fe;
  readonly T2d: Fe;
}

export function extended(): Extended {
  return { X: fe(), Y: fe(), Z: fe(), T: fe() };
}

export function niels(): Niels {
  return { yPlusX: fe(), yMinusX: fe(), xy2d: fe() };
}

export function cached(): Cached {
  return { yPlusX: fe(), yMinusX: fe(), Z: fe(), T2d: fe() };
}

export function setIdentity(p: Extended): void {
  feZero(p.X);
  feOne(p.Y);
  feOne(p.Z);
  feZero(p.T);
}

export function copyExtended(r: Extended, p: Extended): void {
  feCopy(r.X, p.X);
  feCopy(r.Y, p.Y);
  feCopy(r.Z, p.Z);
  feCopy(r.T, p.T);
}

export function wipeExtended(p: Extended): void {
  p.X.fill(0);
  p.Y.fill(0);
  p.Z.fill(0);
  p.T.fill(0);
}

const scratch = fe();

/** Wipes this module's scratch (it may hold values derived from a secret scalar). */
export function wipeScratch(): void {
  scratch.fill(0);
  zInverse.fill(0);
  affineX.fill(0);
  affineY.fill(0);
}

/**
 * r = p + q for an affine Niels q (ref10 `ge_madd`; 3 multiplications). With p carried the
 * completed result has scales X, Y ≤ 2.1 and Z, T ≤ 3.2, so the largest product in a following
 * conversion is 3.2 · 3.2 ≈ 10 ≤ 16.
 */
export function addNiels(r: Completed, p: Extended, q: Niels): void {
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

/** r = p − q for an affine Niels q (ref10 `ge_msub`): −q swaps y + x with y − x and negates C. */
export function subNiels(r: Completed, p: Extended, q: Niels): void {
  feAdd(r.X, p.Y, p.X);
  feSub(r.Y, p.Y, p.X);
  feMul(r.Z, r.X, q.yMinusX);
  feMul(r.Y, r.Y, q.yPlusX);
  feMul(r.T, q.xy2d, p.T);
  feAdd(scratch, p.Z, p.Z);
  feSub(r.X, r.Z, r.Y);
  feAdd(r.Y, r.Z, r.Y);
  feSub(r.Z, scratch, r.T);
  feAdd(r.T, scratch, r.T);
}

/** r = p + q for a cached q (ref10 `ge_add`; 4 multiplications; scales as `addNiels`). */
export function addCached(r: Completed, p: Extended, q: Cached): void {
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

/** r = p − q for a cached q (ref10 `ge_sub`). */
export function subCached(r: Completed, p: Extended, q: Cached): void {
  feAdd(r.X, p.Y, p.X);
  feSub(r.Y, p.Y, p.X);
  feMul(r.Z, r.X, q.yMinusX);
  feMul(r.Y, r.Y, q.yPlusX);
  feMul(r.T, q.T2d, p.T);
  feMul(r.X, p.Z, q.Z);
  feAdd(scratch, r.X, r.X);
  feSub(r.X, r.Z, r.Y);
  feAdd(r.Y, r.Z, r.Y);
  feSub(r.Z, scratch, r.T);
  feAdd(r.T, scratch, r.T);
}

/**
 * r = 2p from p's X, Y, Z (ref10 `ge_p2_dbl`; 4 squarings). With p carried the result has scales
 * X ≤ 3.2, Y, Z ≤ 2.1, T ≤ 4.2 (largest product in a conversion: 3.2 · 4.2 ≈ 13 ≤ 16).
 */
export function double(r: Completed, p: Extended): void {
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
export function toExtended(r: Extended, p: Completed): void {
  feMul(r.X, p.X, p.T);
  feMul(r.Y, p.Y, p.Z);
  feMul(r.Z, p.Z, p.T);
  feMul(r.T, p.X, p.Y);
}

/**
 * Completed to projective: X, Y, Z only, enough for a following doubling (ref10
 * `ge_p1p1_to_p2`; 3 multiplications). `r` must not alias `p`; r.T is left stale.
 */
export function toProjective(r: Extended, p: Completed): void {
  feMul(r.X, p.X, p.T);
  feMul(r.Y, p.Y, p.Z);
  feMul(r.Z, p.Z, p.T);
}

/** The cached form of an extended point. */
export function toCached(r: Cached, p: Extended): void {
  const { d2 } = curveConstants();
  feAdd(r.yPlusX, p.Y, p.X);
  feCarry(r.yPlusX, r.yPlusX);
  feSub(r.yMinusX, p.Y, p.X);
  feCarry(r.yMinusX, r.yMinusX);
  feCopy(r.Z, p.Z);
  feMul(r.T2d, p.T, d2);
}

/** The Niels form of an affine point (x, y). */
export function toNiels(r: Niels, x: Fe, y: Fe): void {
  const { d2 } = curveConstants();
  feAdd(r.yPlusX, y, x);
  feCarry(r.yPlusX, r.yPlusX);
  feSub(r.yMinusX, y, x);
  feCarry(r.yMinusX, r.yMinusX);
  feMul(r.xy2d, x, y);
  feMul(r.xy2d, r.xy2d, d2);
}

/**
 * Affine x and y of each point, by one inversion (Montgomery's batch trick). Used for tables of
 * fixed points.
 */
export function batchToAffine(points: readonly Extended[]): { x: Fe[]; y: Fe[] } {
  const prefix: Fe[] = [];
  let running = feFromSmall(1);
  for (const p of points) {
    const next = fe();
    feMul(next, running, p.Z);
    prefix.push(next);
    running = next;
  }
  const inverse = fe();
  feInvert(inverse, running);
  const x: Fe[] = new Array<Fe>(points.length);
  const y: Fe[] = new Array<Fe>(points.length);
  const zInv = fe();
  for (let n = points.length - 1; n >= 0; n--) {
    if (n > 0) feMul(zInv, inverse, prefix[n - 1]!);
    else feCopy(zInv, inverse);
    feMul(inverse, inverse, points[n]!.Z);
    x[n] = fe();
    y[n] = fe();
    feMul(x[n]!, points[n]!.X, zInv);
    feMul(y[n]!, points[n]!.Y, zInv);
  }
  return { x, y };
}

const zInverse = fe();
const affineX = fe();
const affineY = fe();

/** Writes the RFC 8032 §5.1.2 encoding of p (y with x's sign in bit 255) at out[offset]. */
export function encode(out: Uint8Array, offset: number, p: Extended): void {
  feInvert(zInverse, p.Z);
  feMul(affineX, p.X, zInverse);
  feMul(affineY, p.Y, zInverse);
  feToBytes(out, offset, affineY);
  out[offset + 31] = out[offset + 31]! | (feIsNegative(affineX) << 7);
}

const v3 = fe();
const uv7 = fe();
const check = fe();
const minusU = fe();
const decodedY = fe();
const yy = fe();
const u = fe();
const v = fe();
const x = fe();
const reencoded = new Uint8Array(32);

/**
 * Sets `into` to the square root x of u/v with the given sign (RFC 8032 §5.1.3 steps 2–4:
 * x = u·v³·(u·v⁷)^((p − 5)/8), times sqrt(−1) when v·x² = −u). Returns 0 if u/v is not a square,
 * or if x = 0 and sign = 1 (not a canonical encoding); 1 otherwise. Variable time.
 */
function recoverX(into: Fe, numerator: Fe, denominator: Fe, sign: number): number {
  feSqr(v3, denominator);
  feMul(v3, v3, denominator);
  feSqr(uv7, v3);
  feMul(uv7, uv7, denominator);
  feMul(uv7, uv7, numerator);
  fePow22523(into, uv7);
  feMul(into, into, v3);
  feMul(into, into, numerator);
  feSqr(check, into);
  feMul(check, check, denominator);
  if (feEqual(check, numerator) === 0) {
    feNeg(minusU, numerator);
    if (feEqual(check, minusU) === 0) return 0;
    feMul(into, into, curveConstants().sqrtMinusOne);
  }
  if (feIsZero(into) === 1 && sign === 1) return 0;
  if (feIsNegative(into) !== sign) feNeg(into, into);
  feCarry(into, into);
  return 1;
}

/**
 * Decodes a 32-byte encoding (RFC 8032 §5.1.3) into p. Returns 0 (p unspecified) if y ≥ p, if no
 * point has that y, or if x = 0 with the sign bit set; 1 otherwise. Variable time (public keys).
 */
export function decode(p: Extended, bytes: Uint8Array): number {
  feFromBytes(decodedY, bytes);
  // y must be canonical: re-encoding y (sign bit aside) must give the same bytes.
  feToBytes(reencoded, 0, decodedY);
  for (let i = 0; i < 31; i++) if (reencoded[i] !== bytes[i]) return 0;
  if (reencoded[31] !== (bytes[31]! & 0x7f)) return 0;
  feSqr(yy, decodedY);
  feCopy(u, yy);
  u[0] = u[0]! - 1; // y² − 1
  feMul(v, curveConstants().d, yy);
  v[0] = v[0]! + 1; // d·y² + 1
  if (recoverX(x, u, v, bytes[31]! >> 7) === 0) return 0;
  feCopy(p.X, x);
  feCarry(p.Y, decodedY); // bytes give limbs in [0, 2^w): scale 2; carry to 1
  feOne(p.Z);
  feMul(p.T, x, decodedY);
  return 1;
}

interface CurveConstants {
  /** d = −121665/121666, 2d and sqrt(−1) = 2^((p − 1)/4). */
  readonly d: Fe;
  readonly d2: Fe;
  readonly sqrtMinusOne: Fe;
}

let constants: CurveConstants | undefined;

/** RFC 8032 §5.1: the encoding of B = (x, 4/5) with x even. */
const BASE_POINT_ENCODING = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0x58 : 0x66));

/** A broken field implementation must never sign or verify; these checks run once. */
function fail(what: string): never {
  throw new Error(`edwards25519: self-check failed (${what}); the field arithmetic is broken`);
}

/** d, 2d and sqrt(−1), computed on first use with this module's own arithmetic. */
function curveConstants(): CurveConstants {
  if (constants !== undefined) return constants;
  const d = fe();
  feInvert(d, feFromSmall(121666));
  feMul(d, d, feFromSmall(121665));
  feNeg(d, d);
  feCarry(d, d);
  const d2 = fe();
  feAdd(d2, d, d);
  feCarry(d2, d2);
  // sqrt(−1) = 2^((p − 1)/4) = (2^((p − 5)/8))² · 2.
  const sqrtMinusOne = fe();
  fePow22523(sqrtMinusOne, feFromSmall(2));
  feSqr(sqrtMinusOne, sqrtMinusOne);
  feAdd(sqrtMinusOne, sqrtMinusOne, sqrtMinusOne);
  feCarry(sqrtMinusOne, sqrtMinusOne);
  const square = fe();
  feSqr(square, sqrtMinusOne);
  feAdd(square, square, feFromSmall(1));
  if (feIsZero(square) === 0) fail('sqrt(−1)');
  constants = { d, d2, sqrtMinusOne };
  return constants;
}

/** The base point B (RFC 8032 §5.1), decoded from its encoding, then re-encoded as a check. */
export function basePoint(): Extended {
  const p = extended();
  if (decode(p, BASE_POINT_ENCODING) === 0) fail('base point decoding');
  const check = new Uint8Array(32);
  encode(check, 0, p);
  for (let i = 0; i < 32; i++) if (check[i] !== BASE_POINT_ENCODING[i]) fail('base point encoding');
  // B must have y = 4/5: 5y = 4.
  const fiveY = fe();
  feMul(fiveY, p.Y, feFromSmall(5));
  if (feEqual(fiveY, feFromSmall(4)) === 0) fail('base point y');
  return p;
}

const montgomeryU = fe();
const numerator = fe();
const denominator = fe();
const minusOne = fe();

/**
 * The Edwards encoding of the point with Montgomery u-coordinate `u` (RFC 7748 §4.1's map
 * y = (u − 1)/(u + 1)) and the given sign bit (0 or 0x80), as curve25519-dalek's
 * `MontgomeryPoint::to_edwards` then `compress` compute it: bit 255 of u is ignored, u = −1 has no
 * image (null), and x = 0 (u = 0) is encoded with sign 0. Whether y is on the curve is left to
 * `decode`. Variable time (public keys).
 */
export function edwardsFromMontgomery(u: Uint8Array, signBit: number): Uint8Array | null {
  feFromBytes(montgomeryU, u);
  feCopy(denominator, montgomeryU);
  denominator[0] = denominator[0]! + 1;
  if (feIsZero(denominator) === 1) return null;
  feCopy(numerator, montgomeryU);
  numerator[0] = numerator[0]! - 1;
  const y = fe();
  feInvert(y, denominator);
  feMul(y, y, numerator);
  const out = new Uint8Array(32);
  feToBytes(out, 0, y);
  feOne(minusOne);
  feNeg(minusOne, minusOne);
  // y = −1 means x = 0, whose canonical encoding has sign 0.
  if (feEqual(y, minusOne) === 0) out[31] = out[31]! | signBit;
  return out;
}
