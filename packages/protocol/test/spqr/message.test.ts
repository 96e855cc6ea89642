/**
 * SPQR message bytes (shared/specs/signal-wire.md §3.4 "SPQR message bytes";
 * spqr `v1/chunked/states/serialize.rs`), including the `pq_ratchet` fields of the libsignal
 * vectors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import {
  parseSpqrMessage,
  serializeSpqrMessage,
  type SpqrMessage,
  type SpqrPayload,
} from '../../src/spqr/message.js';
import { hex, pqRatchetOf } from './support.js';
import { MESSAGES } from './vectors.js';

const chunkTypes = ['hdr', 'ek', 'ekCt1Ack', 'ct1', 'ct2'] as const;

const payloadArb: fc.Arbitrary<SpqrPayload> = fc.oneof(
  fc.constant<SpqrPayload>({ type: 'none' }),
  fc.constant<SpqrPayload>({ type: 'ct1Ack' }),
  fc.record({
    type: fc.constantFrom(...chunkTypes),
    chunk: fc.record({
      index: fc.integer({ min: 0, max: 65535 }),
      data: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    }),
  }),
);

const messageArb: fc.Arbitrary<SpqrMessage> = fc.record({
  epoch: fc.oneof(
    fc.integer({ min: 1, max: 300 }),
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  ),
  chainIndex: fc.integer({ min: 0, max: 0xffff_ffff }),
  payload: payloadArb,
});

function rejects(bytes: Uint8Array | number[]): boolean {
  try {
    parseSpqrMessage(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    return false;
  } catch (err) {
    return ProtocolError.is(err, 'PQ_RATCHET');
  }
}

const data32 = Array.from({ length: 32 }, (_, i) => i);

describe('SPQR message serialization', () => {
  it('round-trips, and trailing bytes are allowed', () => {
    fc.assert(
      fc.property(messageArb, fc.uint8Array({ maxLength: 8 }), (message, trailing) => {
        const bytes = serializeSpqrMessage(message);
        expect(bytes[0]).toBe(1);
        expect(parseSpqrMessage(bytes)).toEqual(message);
        const extended = new Uint8Array(bytes.length + trailing.length);
        extended.set(bytes);
        extended.set(trailing, bytes.length);
        expect(parseSpqrMessage(extended)).toEqual(message);
      }),
      { numRuns: 500 },
    );
  });

  it('lays out version, LEB128 epoch and index, type and chunk exactly (37 bytes typical)', () => {
    const bytes = serializeSpqrMessage({
      epoch: 300,
      chainIndex: 1,
      payload: { type: 'ct1', chunk: { index: 129, data: new Uint8Array(data32) } },
    });
    expect(hex(bytes.subarray(0, 8))).toBe('01ac0201058101' + '00');
    expect(bytes.length).toBe(1 + 2 + 1 + 1 + 2 + 32);
    const typical = serializeSpqrMessage({
      epoch: 1,
      chainIndex: 1,
      payload: { type: 'hdr', chunk: { index: 0, data: new Uint8Array(32) } },
    });
    expect(typical.length).toBe(37);
    expect(
      hex(serializeSpqrMessage({ epoch: 2, chainIndex: 7, payload: { type: 'ct1Ack' } })),
    ).toBe('01020704');
    expect(hex(serializeSpqrMessage({ epoch: 1, chainIndex: 0, payload: { type: 'none' } }))).toBe(
      '01010000',
    );
  });

  it('parses the pq_ratchet fields of the libsignal vectors', () => {
    for (const m of MESSAGES) {
      const parsed = parseSpqrMessage(pqRatchetOf(m.preKeySignalMessage));
      expect(parsed.epoch).toBe(m.spqr.epoch);
      expect(parsed.chainIndex).toBe(m.spqr.index);
      expect(m.spqr.type).toBe(1);
      expect(parsed.payload.type).toBe('hdr');
      expect('chunk' in parsed.payload && parsed.payload.chunk.index).toBe(m.spqr.chunkIndex);
      expect(pqRatchetOf(m.preKeySignalMessage).length).toBe(37);
    }
  });

  it('rejects malformed messages with PQ_RATCHET', () => {
    expect(rejects([])).toBe(true);
    expect(rejects([2, 1, 1, 0])).toBe(true); // not version 1 (the API ignores these before parsing)
    expect(rejects([1, 0, 1, 0])).toBe(true); // epoch 0
    expect(rejects([1, 1, 1])).toBe(true); // missing type
    expect(rejects([1, 1, 1, 7])).toBe(true); // unknown type
    expect(rejects([1, 1, 1, 1, 0, ...data32.slice(1)])).toBe(true); // truncated chunk
    expect(rejects([1, 1, 1, 1])).toBe(true); // missing chunk index
    expect(rejects([1, 1, 1, 1, 0x80, 0x80, 0x04, ...data32])).toBe(true); // chunk index 65536
    expect(rejects([1, 1, 1, 1, 0xff, 0xff, 0x03, ...data32])).toBe(false); // chunk index 65535
    expect(rejects([1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0])).toBe(true); // index 2^32
    expect(rejects([1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0])).toBe(false); // index 2^32 − 1
    expect(rejects([1, 1, 1, 0x80])).toBe(true); // unknown type 0x80
    expect(rejects([1, ...new Array<number>(10).fill(0x81), 1, 0])).toBe(true); // 11-byte varint
  });

  it('decodes varints like spqr: bits beyond 64 are dropped, non-minimal forms accepted', () => {
    // 1 + 2·2^63 (the bit falls off a u64) = epoch 1, in ten bytes.
    const tenBytes = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
    expect(parseSpqrMessage(new Uint8Array([1, ...tenBytes, 5, 0])).epoch).toBe(1);
    // Only the 2^63 bit: the u64 is 2^63 ≥ 2^53, out of range for an epoch.
    expect(
      rejects([1, ...tenBytes.slice(0, 9).map((b, i) => (i === 0 ? 0x80 : b)), 0x01, 5, 0]),
    ).toBe(true);
    expect(parseSpqrMessage(new Uint8Array([1, 0x82, 0x00, 0x83, 0x00, 0])).chainIndex).toBe(3);
  });
});
