/**
 * Length hiding (docs/backup-format.md §4): the body is padded to a Padmé bucket (Nikitin et al.,
 * "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019, §4).
 * Padmé rounds a length L to a number whose binary form keeps only its top ⌊log2 ⌊log2 L⌋⌋ + 1
 * bits, so the overhead is at most 12% and the padded length reveals O(log log L) bits.
 *
 * Computed with floating-point-free integer arithmetic on Numbers (exact below 2^53): no 32-bit
 * bit operations, because bodies may exceed 4 GiB.
 */
import { MIN_PADDED_BODY_LENGTH } from '../limits.js';

/** ⌊log2 n⌋ for a positive safe integer. */
function floorLog2(n: number): number {
  let e = 0;
  let v = n;
  while (v >= 2) {
    v = Math.floor(v / 2);
    e++;
  }
  return e;
}

/** Padmé(L): the smallest bucket length ≥ L. Padmé(L) = L for L < 8 (nothing to hide there). */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('length must be ≥ 0');
  if (length < 2) return length;
  const e = floorLog2(length);
  const s = floorLog2(e) + 1;
  const lastBits = e - s;
  const unit = 2 ** lastBits;
  return Math.ceil(length / unit) * unit;
}

/** Bytes at the start of every chunk's plaintext: the big-endian count of data bytes in it. */
export const CHUNK_LENGTH_FIELD = 4;

/**
 * The padded body length T for an unpadded body of `minimum` bytes (chunk length fields
 * included) with `chunkSize`-byte chunks: Padmé, at least MIN_PADDED_BODY_LENGTH, and nudged up
 * so the final chunk can hold its 4-byte length field. T depends on `minimum` only through its
 * bucket, so the archive size leaks no more than the bucket.
 */
export function paddedBodyLength(minimum: number, chunkSize: number): number {
  let total = padme(Math.max(minimum, MIN_PADDED_BODY_LENGTH));
  const rest = total % chunkSize;
  if (rest !== 0 && rest < CHUNK_LENGTH_FIELD) total += CHUNK_LENGTH_FIELD - rest;
  return total;
}
