/**
 * SPQR's systematic erasure code (shared/specs/signal-wire.md §3.4 "Erasure code"). References
 * written here from the definition: Horner evaluation of random polynomials and the textbook
 * (non-barycentric) Lagrange formula; the systematic property is checked against the payload.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_LENGTH,
  addChunk,
  createDecoder,
  createEncoder,
  decodedMessage,
  encodeChunk,
  isDecodable,
  nextChunk,
  type Chunk,
} from '../../src/spqr/erasure-code.js';
import { gfDiv, gfMul } from '../../src/spqr/gf16.js';
import { lagrangeBasis, lagrangeLogWeightsAt, weightedSum } from '../../src/spqr/polynomial.js';

function horner(coefficients: readonly number[], x: number): number {
  let acc = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) acc = gfMul(acc, x) ^ coefficients[i]!;
  return acc;
}

function textbookLagrange(xs: readonly number[], ys: readonly number[], x: number): number {
  let sum = 0;
  for (let j = 0; j < xs.length; j++) {
    let term = ys[j]!;
    for (let m = 0; m < xs.length; m++) {
      if (m === j) continue;
      term = gfMul(term, gfDiv(x ^ xs[m]!, xs[j]! ^ xs[m]!));
    }
    sum ^= term;
  }
  return sum;
}

/** Chunk k computed from the definition: word w of poly w mod 16 at ⌊w/16⌋, Lagrange beyond. */
function referenceChunk(payload: Uint8Array, k: number): Uint8Array {
  const words = payload.length / 2;
  const out = new Uint8Array(32);
  for (let i = 0; i < 16; i++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let w = i, x = 0; w < words; w += 16, x++) {
      xs.push(x);
      ys.push((payload[2 * w]! << 8) | payload[2 * w + 1]!);
    }
    const y = xs.length === 0 ? 0 : k < xs.length ? ys[k]! : textbookLagrange(xs, ys, k);
    out[2 * i] = y >> 8;
    out[2 * i + 1] = y & 0xff;
  }
  return out;
}

const evenPayload = (maxWords: number) =>
  fc
    .integer({ min: 1, max: maxWords })
    .chain((words) => fc.uint8Array({ minLength: 2 * words, maxLength: 2 * words }));

describe('barycentric Lagrange interpolation', () => {
  it('reproduces any polynomial of degree < n from n distinct points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 80, maxLength: 80 }),
        (coefficients, points) => {
          const n = coefficients.length;
          const xs = points.slice(0, n);
          const ys = xs.map((x) => horner(coefficients, x));
          const basis = lagrangeBasis(xs);
          const logWeights = new Int32Array(n);
          for (const x of points.slice(n, n + 5).concat(xs.slice(0, 2))) {
            const node = lagrangeLogWeightsAt(basis, x, logWeights);
            const value = node >= 0 ? ys[node]! : weightedSum(logWeights, n, ys, 0, 1);
            expect(value).toBe(horner(coefficients, x));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects repeated nodes', () => {
    expect(() => lagrangeBasis([1, 2, 1])).toThrow(RangeError);
  });
});

describe('erasure encoder', () => {
  it('is systematic: chunk k < n/16 is payload bytes [32k, 32k+32)', () => {
    fc.assert(
      fc.property(evenPayload(600), (payload) => {
        const encoder = createEncoder(payload);
        for (let k = 0; k < Math.floor(payload.length / 32); k++) {
          expect(encodeChunk(encoder, k).data).toEqual(payload.subarray(32 * k, 32 * k + 32));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('matches the reference definition for systematic and parity chunks', () => {
    fc.assert(
      fc.property(
        evenPayload(120),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 6 }),
        (payload, extra) => {
          const encoder = createEncoder(payload);
          const indices = [0, 1, 2, Math.ceil(payload.length / 32), ...extra];
          for (const k of indices)
            expect(encodeChunk(encoder, k).data).toEqual(referenceChunk(payload, k));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts chunk indices up from 0 and wraps at 65536 like a u16', () => {
    const payload = new Uint8Array(96).map((_, i) => i);
    let encoder = createEncoder(payload);
    const first = nextChunk(encoder);
    expect(first.chunk.index).toBe(0);
    expect(nextChunk(first.encoder).chunk.index).toBe(1);
    // The input encoder is unchanged.
    expect(nextChunk(encoder).chunk.index).toBe(0);
    encoder = createEncoder(payload, 65535);
    const last = nextChunk(encoder);
    expect(last.chunk.index).toBe(65535);
    expect(last.chunk.data).toEqual(referenceChunk(payload, 65535));
    expect(nextChunk(last.encoder).chunk.index).toBe(0);
  });

  it('refuses odd-length payloads', () => {
    expect(() => createEncoder(new Uint8Array(3))).toThrow(/payload length/);
    expect(() => createDecoder(5)).toThrow(/payload length/);
  });
});

describe('erasure decoder', () => {
  it('decodes from any sufficient set of chunks (random loss patterns, any order)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(96, 160, 960, 1152, 2, 10, 34, 250),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 120 }), { minLength: 80, maxLength: 121 }),
        (length, seed, order) => {
          const payload = new Uint8Array(length).map((_, i) => (i * 131 + seed) & 0xff);
          const encoder = createEncoder(payload);
          const needed = Math.ceil(length / 32);
          let decoder = createDecoder(length);
          let received = 0;
          for (const index of order) {
            decoder = addChunk(decoder, encodeChunk(encoder, index));
            received++;
            const message = decodedMessage(decoder);
            if (received < needed) expect(message).toBeNull();
            if (message !== null) {
              // Every chunk adds one point to each polynomial: decoding completes exactly at ⌈len/32⌉.
              expect(received).toBe(needed);
              expect(message).toEqual(payload);
              return;
            }
          }
          throw new Error('never decoded');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('decodes the SPQR payload sizes from exactly ⌈len/32⌉ parity-only chunks', () => {
    for (const length of [96, 160, 960, 1152]) {
      const payload = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff);
      const encoder = createEncoder(payload);
      const needed = length / 32;
      let decoder = createDecoder(length);
      for (let k = 0; k < needed; k++) {
        expect(decodedMessage(decoder)).toBeNull();
        decoder = addChunk(decoder, encodeChunk(encoder, 1000 + 3 * k));
      }
      expect(decodedMessage(decoder)).toEqual(payload);
    }
  });

  it('ignores duplicate chunks and keeps the input decoder unchanged', () => {
    const payload = new Uint8Array(96).map((_, i) => 255 - i);
    const encoder = createEncoder(payload);
    const one = addChunk(createDecoder(96), encodeChunk(encoder, 7));
    const twice = addChunk(one, encodeChunk(encoder, 7));
    expect(twice).toBe(one);
    const more = addChunk(twice, encodeChunk(encoder, 0));
    expect(isDecodable(one)).toBe(false);
    expect(decodedMessage(addChunk(more, encodeChunk(encoder, 2)))).toEqual(payload);
    expect(decodedMessage(more)).toBeNull();
  });

  it('lets a repeated chunk index replace the earlier data (spqr SortedSet::push semantics)', () => {
    const payload = new Uint8Array(96).map((_, i) => i);
    const encoder = createEncoder(payload);
    const bogus: Chunk = { index: 0, data: new Uint8Array(CHUNK_LENGTH).fill(0xaa) };
    let decoder = addChunk(createDecoder(96), bogus);
    decoder = addChunk(decoder, encodeChunk(encoder, 0));
    decoder = addChunk(decoder, encodeChunk(encoder, 1));
    decoder = addChunk(decoder, encodeChunk(encoder, 2));
    expect(decodedMessage(decoder)).toEqual(payload);
  });

  it('uses the points with the smallest x when it holds more than it needs', () => {
    const payload = new Uint8Array(96).map((_, i) => i * 3);
    const encoder = createEncoder(payload);
    let decoder = createDecoder(96);
    decoder = addChunk(decoder, encodeChunk(encoder, 10));
    decoder = addChunk(decoder, encodeChunk(encoder, 11));
    // A corrupted third point completes the set: the result is wrong...
    decoder = addChunk(decoder, { index: 12, data: new Uint8Array(32).fill(1) });
    expect(decodedMessage(decoder)).not.toEqual(payload);
    // ...and a chunk beyond n is no longer stored once enough points are held.
    expect(addChunk(decoder, encodeChunk(encoder, 13))).toBe(decoder);
    // Systematic chunks (x < n) are always stored; decoding then uses x = 0, 1, 10.
    decoder = addChunk(decoder, encodeChunk(encoder, 0));
    decoder = addChunk(decoder, encodeChunk(encoder, 1));
    expect(decodedMessage(decoder)).toEqual(payload);
  });
});
