/**
 * The erasure decoder's shared point storage (src/spqr/erasure-code.ts, `PointStore`): successive
 * decoder versions share one buffer and the newest appends in place. Checked against a reference
 * model written here from spqr's rules (a point is kept if x < n or the polynomial still lacks
 * points; a repeated x replaces the earlier y; lists stay sorted by x), over random histories that
 * branch from arbitrary earlier versions, as the Double Ratchet does when it drops a candidate
 * state after a bad MAC. Every version must keep the points it had when it was made.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_LENGTH,
  addChunk,
  createDecoder,
  createEncoder,
  decodedMessage,
  decoderPoints,
  encodeChunk,
  restoreDecoder,
  type Chunk,
  type ErasureDecoder,
} from '../../src/spqr/erasure-code.js';

type Model = number[][]; // per polynomial: packed x·65536 + y, sorted by x

function modelAdd(model: Model, length: number, chunk: Chunk): Model {
  const words = length / 2;
  return model.map((list, i) => {
    const needed = Math.floor(words / 16) + (i < words % 16 ? 1 : 0);
    if (!(chunk.index < needed || list.length < needed)) return list;
    const y = (chunk.data[2 * i]! << 8) | chunk.data[2 * i + 1]!;
    const kept = list.filter((p) => p >>> 16 !== chunk.index);
    kept.push(chunk.index * 65536 + y);
    return kept.sort((a, b) => a - b);
  });
}

const asArrays = (d: ErasureDecoder): number[][] => decoderPoints(d).map((l) => [...l]);

describe('erasure decoder versions sharing storage', () => {
  it('every version keeps its own points, whatever is derived from it later', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(96, 160, 960),
        fc.array(
          fc.record({
            from: fc.nat(),
            index: fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: 0, max: 0xffff })),
            bogus: fc.boolean(),
            fill: fc.integer({ min: 0, max: 255 }),
          }),
          { minLength: 1, maxLength: 80 },
        ),
        (length, steps) => {
          const encoder = createEncoder(new Uint8Array(length).map((_, i) => (i * 29) & 0xff));
          const versions: { decoder: ErasureDecoder; model: Model }[] = [
            { decoder: createDecoder(length), model: Array.from({ length: 16 }, () => []) },
          ];
          for (const step of steps) {
            // Mostly extend the newest version (the in-place path), sometimes an older one.
            const base =
              step.from % 3 === 0 ? versions[step.from % versions.length]! : versions.at(-1)!;
            const chunk: Chunk = step.bogus
              ? { index: step.index, data: new Uint8Array(CHUNK_LENGTH).fill(step.fill) }
              : encodeChunk(encoder, step.index);
            const decoder = addChunk(base.decoder, chunk);
            const model = modelAdd(base.model, length, chunk);
            expect(asArrays(decoder)).toEqual(model);
            versions.push({ decoder, model });
            // Nothing derived later may show through in an earlier version.
            for (const v of versions) expect(asArrays(v.decoder)).toEqual(v.model);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a dropped successor does not disturb the next chunk from the same version', () => {
    const payload = new Uint8Array(960).map((_, i) => (i * 7 + 1) & 0xff);
    const encoder = createEncoder(payload);
    let decoder = createDecoder(960);
    for (let k = 0; k < 29; k++) decoder = addChunk(decoder, encodeChunk(encoder, k));
    // A candidate state appends a forged chunk in place, then is thrown away (bad MAC).
    const forged = addChunk(decoder, { index: 29, data: new Uint8Array(32).fill(0x55) });
    expect(decodedMessage(forged)).not.toEqual(payload);
    // The kept version receives the genuine chunk 29 and decodes the payload.
    const genuine = addChunk(decoder, encodeChunk(encoder, 29));
    expect(decodedMessage(genuine)).toEqual(payload);
    expect(decodedMessage(forged)).not.toEqual(payload);
    expect(decodedMessage(decoder)).toBeNull();
  });

  it('restores stored points and keeps appending to them', () => {
    const payload = new Uint8Array(160).map((_, i) => 255 - i);
    const encoder = createEncoder(payload);
    let decoder = addChunk(createDecoder(160), encodeChunk(encoder, 3));
    decoder = addChunk(decoder, encodeChunk(encoder, 0));
    const restored = restoreDecoder(160, decoderPoints(decoder));
    expect(asArrays(restored)).toEqual(asArrays(decoder));
    let next = restored;
    for (const k of [1, 2, 4]) next = addChunk(next, encodeChunk(encoder, k));
    expect(decodedMessage(next)).toEqual(payload);
    expect(asArrays(restored)).toEqual(asArrays(decoder));
  });
});
