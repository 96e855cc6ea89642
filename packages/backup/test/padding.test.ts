// Padmé (Nikitin et al., PETS 2019, §4) against an independent BigInt implementation of the
// paper's bit-level definition, and the body-length rule of docs/backup-format.md §4.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { padme } from '../src/index.js';
import { CHUNK_LENGTH_FIELD, paddedBodyLength } from '../src/format/padding.js';
import { MIN_PADDED_BODY_LENGTH } from '../src/limits.js';

/** The paper's algorithm: E = ⌊log2 L⌋, S = ⌊log2 E⌋ + 1, zero the low E − S bits, rounding up. */
function padmeReference(length: number): number {
  const L = BigInt(length);
  if (L < 2n) return length;
  const E = BigInt(L.toString(2).length - 1);
  const S = BigInt(E.toString(2).length - 1) + 1n;
  const lastBits = E - S;
  const mask = (1n << lastBits) - 1n;
  return Number((L + mask) & ~mask);
}

describe('padme', () => {
  it('equals the paper definition', () => {
    for (let L = 0; L < 5000; L++) expect(padme(L)).toBe(padmeReference(L));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (L) => {
        expect(padme(L)).toBe(padmeReference(L));
      }),
      { numRuns: 2000 },
    );
  });

  it('overhead is at most 12% and buckets are stable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (L) => {
        const p = padme(L);
        expect(p).toBeGreaterThanOrEqual(L);
        expect((p - L) / L).toBeLessThanOrEqual(0.12);
        expect(padme(p)).toBe(p);
      }),
    );
  });

  it('has few buckets: lengths in 256..512 MiB map to 33 (steps of 2^23, and 2^29 itself)', () => {
    const buckets = new Set<number>();
    for (let L = 2 ** 28; L < 2 ** 29; L += 4099) buckets.add(padme(L));
    buckets.add(padme(2 ** 29 - 1));
    expect(buckets.size).toBe(33);
    for (const b of buckets) expect(b % 2 ** 23).toBe(0);
  });
});

describe('paddedBodyLength', () => {
  it('covers the body, leaves room for the final length field, and depends only on the bucket', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: CHUNK_LENGTH_FIELD, max: 2 ** 34 }),
        fc.constantFrom(1024, 4096, 65_536, 1 << 20),
        (minimum, chunkSize) => {
          const total = paddedBodyLength(minimum, chunkSize);
          expect(total).toBeGreaterThanOrEqual(Math.max(minimum, MIN_PADDED_BODY_LENGTH));
          const rest = total % chunkSize;
          expect(rest === 0 || rest >= CHUNK_LENGTH_FIELD).toBe(true);
          const bucket = padme(Math.max(minimum, MIN_PADDED_BODY_LENGTH));
          expect(paddedBodyLength(bucket, chunkSize)).toBe(total);
        },
      ),
    );
  });
});
