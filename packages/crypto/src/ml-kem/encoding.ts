/**
 * ML-KEM encodings (FIPS 203 §4.2.1): ByteEncode_d / ByteDecode_d (Alg. 5–6) and
 * Compress_d / Decompress_d (eq. 4.7–4.8), for d ∈ {1, 4, 5, 10, 11, 12}.
 *
 * Polynomials are 256 entries of an Int16Array at an offset (see ntt.ts); inputs to the
 * encoders may be any representative in (−q, q) and are mapped to [0, q) branch-free.
 *
 * Compress_d(x) = ⌈(2^d/q)·x⌋ mod 2^d is computed as ⌊((x·2^d + c)·M) / 2^s⌋ mod 2^d with the
 * constants of the pq-crystals reference code (after the "KyberSlash" fix), so no division by q
 * runs on secret data. The products stay below 2^44 and are exact in doubles. A test checks
 * every x ∈ [0, q) and every d against the definition.
 */
import { N, Q } from './params.js';

/** (−q, q) → [0, q), branch-free. */
function canonical(x: number): number {
  return x + ((x >> 15) & Q);
}

/** (c, M, 2^s) for Compress_d, indexed by d. */
const COMPRESS: Readonly<Record<number, readonly [number, number, number]>> = {
  1: [1665, 80635, 2 ** 28],
  4: [1665, 80635, 2 ** 28],
  5: [1664, 40318, 2 ** 27],
  10: [1665, 1290167, 2 ** 32],
  11: [1664, 645084, 2 ** 31],
};

/** Compress_d(x) for x ∈ [0, q) and d ∈ {1, 4, 5, 10, 11}. Exported for the exhaustive test. */
export function compress(x: number, d: number): number {
  const [c, m, divisor] = COMPRESS[d]!;
  return ((((x << d) + c) * m) / divisor) & ((1 << d) - 1);
}

/** Decompress_d(y) = ⌈(q/2^d)·y⌋ for y ∈ [0, 2^d). */
export function decompress(y: number, d: number): number {
  return (y * Q + (1 << (d - 1))) >> d;
}

/**
 * ByteEncode_12 of `count` coefficients (a multiple of 2) of `src` from `so`, each in (−q, q),
 * into `out` at `oo` (1.5 bytes per coefficient).
 */
export function byteEncode12(
  src: Int16Array,
  so: number,
  count: number,
  out: Uint8Array,
  oo: number,
): void {
  for (let i = 0, o = oo; i < count; i += 2, o += 3) {
    const c0 = canonical(src[so + i]!);
    const c1 = canonical(src[so + i + 1]!);
    out[o] = c0;
    out[o + 1] = (c0 >> 8) | (c1 << 4);
    out[o + 2] = c1 >> 4;
  }
}

/**
 * ByteDecode_12 of `count` coefficients from `bytes` at `bo` into `out` at `oo`, reduced mod q
 * as Alg. 6 says. Returns whether every encoded value was already below q: the modulus check of
 * FIPS 203 §7.2 (`ByteEncode12(ByteDecode12(ek)) == ek`). Branch-free in the data.
 */
export function byteDecode12(
  bytes: Uint8Array,
  bo: number,
  count: number,
  out: Int16Array,
  oo: number,
): boolean {
  let inRange = -1;
  for (let i = 0, b = bo; i < count; i += 2, b += 3) {
    const b1 = bytes[b + 1]!;
    const r0 = (bytes[b]! | ((b1 & 0x0f) << 8)) - Q;
    const r1 = ((b1 >> 4) | (bytes[b + 2]! << 4)) - Q;
    const m0 = r0 >> 31; // −1 iff the value was < q
    const m1 = r1 >> 31;
    out[oo + i] = r0 + (m0 & Q);
    out[oo + i + 1] = r1 + (m1 & Q);
    inRange &= m0 & m1;
  }
  return inRange === -1;
}

/** Compress_d of coefficient `i` of `src` (any representative in (−q, q)); see `COMPRESS`. */
function compressAt(src: Int16Array, i: number, d: number, c: number, m: number, divisor: number) {
  return ((((canonical(src[i]!) << d) + c) * m) / divisor) & ((1 << d) - 1);
}

/**
 * ByteEncode_d(Compress_d(f)) of the polynomial at `src[so..so+256)` (coefficients in (−q, q)),
 * d ∈ {4, 5, 10, 11}, into `out` at `oo` (32·d bytes). Each d packs whole groups of
 * coefficients into whole bytes (2 → 1, 8 → 5, 4 → 5, 8 → 11), little-endian bit order.
 */
export function compressEncode(
  src: Int16Array,
  so: number,
  d: number,
  out: Uint8Array,
  oo: number,
): void {
  const [c, m, divisor] = COMPRESS[d]!;
  const end = so + N;
  switch (d) {
    case 4:
      for (let i = so, o = oo; i < end; i += 2, o += 1) {
        out[o] =
          compressAt(src, i, 4, c, m, divisor) | (compressAt(src, i + 1, 4, c, m, divisor) << 4);
      }
      return;
    case 5:
      for (let i = so, o = oo; i < end; i += 8, o += 5) {
        const c0 = compressAt(src, i, 5, c, m, divisor);
        const c1 = compressAt(src, i + 1, 5, c, m, divisor);
        const c2 = compressAt(src, i + 2, 5, c, m, divisor);
        const c3 = compressAt(src, i + 3, 5, c, m, divisor);
        const c4 = compressAt(src, i + 4, 5, c, m, divisor);
        const c5 = compressAt(src, i + 5, 5, c, m, divisor);
        const c6 = compressAt(src, i + 6, 5, c, m, divisor);
        const c7 = compressAt(src, i + 7, 5, c, m, divisor);
        out[o] = c0 | (c1 << 5);
        out[o + 1] = (c1 >> 3) | (c2 << 2) | (c3 << 7);
        out[o + 2] = (c3 >> 1) | (c4 << 4);
        out[o + 3] = (c4 >> 4) | (c5 << 1) | (c6 << 6);
        out[o + 4] = (c6 >> 2) | (c7 << 3);
      }
      return;
    case 10:
      for (let i = so, o = oo; i < end; i += 4, o += 5) {
        const c0 = compressAt(src, i, 10, c, m, divisor);
        const c1 = compressAt(src, i + 1, 10, c, m, divisor);
        const c2 = compressAt(src, i + 2, 10, c, m, divisor);
        const c3 = compressAt(src, i + 3, 10, c, m, divisor);
        out[o] = c0;
        out[o + 1] = (c0 >> 8) | (c1 << 2);
        out[o + 2] = (c1 >> 6) | (c2 << 4);
        out[o + 3] = (c2 >> 4) | (c3 << 6);
        out[o + 4] = c3 >> 2;
      }
      return;
    case 11:
      for (let i = so, o = oo; i < end; i += 8, o += 11) {
        const c0 = compressAt(src, i, 11, c, m, divisor);
        const c1 = compressAt(src, i + 1, 11, c, m, divisor);
        const c2 = compressAt(src, i + 2, 11, c, m, divisor);
        const c3 = compressAt(src, i + 3, 11, c, m, divisor);
        const c4 = compressAt(src, i + 4, 11, c, m, divisor);
        const c5 = compressAt(src, i + 5, 11, c, m, divisor);
        const c6 = compressAt(src, i + 6, 11, c, m, divisor);
        const c7 = compressAt(src, i + 7, 11, c, m, divisor);
        out[o] = c0;
        out[o + 1] = (c0 >> 8) | (c1 << 3);
        out[o + 2] = (c1 >> 5) | (c2 << 6);
        out[o + 3] = c2 >> 2;
        out[o + 4] = (c2 >> 10) | (c3 << 1);
        out[o + 5] = (c3 >> 7) | (c4 << 4);
        out[o + 6] = (c4 >> 4) | (c5 << 7);
        out[o + 7] = c5 >> 1;
        out[o + 8] = (c5 >> 9) | (c6 << 2);
        out[o + 9] = (c6 >> 6) | (c7 << 5);
        out[o + 10] = c7 >> 3;
      }
      return;
    default:
      throw new RangeError(`compressEncode: unsupported d = ${d}`);
  }
}

/**
 * Decompress_d(ByteDecode_d(bytes[bo..bo+32d))) into `out[oo..oo+256)`, d ∈ {4, 5, 10, 11};
 * coefficients in [0, q).
 */
export function decodeDecompress(
  bytes: Uint8Array,
  bo: number,
  d: number,
  out: Int16Array,
  oo: number,
): void {
  const mask = (1 << d) - 1;
  const half = 1 << (d - 1);
  let acc = 0;
  let bits = 0;
  let pos = bo;
  for (let i = 0; i < N; i++) {
    while (bits < d) {
      acc |= bytes[pos++]! << bits;
      bits += 8;
    }
    out[oo + i] = ((acc & mask) * Q + half) >> d;
    acc >>>= d;
    bits -= d;
  }
}

/** ByteEncode_1(Compress_1(w)) of the polynomial at `src[so..)` (coefficients in (−q, q)). */
export function encodeMessage(src: Int16Array, so: number, out: Uint8Array): void {
  for (let i = 0; i < 32; i++) {
    let byte = 0;
    for (let j = 0; j < 8; j++) {
      const x = canonical(src[so + 8 * i + j]!);
      // Compress_1: ⌊((2x + 1665)·80635) / 2^28⌋ mod 2; the product is below 2^31.
      byte |= ((Math.imul((x << 1) + 1665, 80635) >>> 28) & 1) << j;
    }
    out[i] = byte;
  }
}

/** `out[oo..oo+256) += Decompress_1(ByteDecode_1(m))`: adds ⌈q/2⌋ = 1665 where m has a 1. */
export function addMessage(m: Uint8Array, out: Int16Array, oo: number): void {
  for (let i = 0; i < N; i++) {
    const bit = (m[i >> 3]! >> (i & 7)) & 1;
    out[oo + i] = out[oo + i]! + (-bit & 1665);
  }
}
