/**
 * The SPQR message, carried in the `pq_ratchet` field of every SignalMessage
 * (shared/specs/signal-wire.md §3.4 "SPQR message bytes"; spqr `v1/chunked/states/serialize.rs`):
 *
 *   0x01 ‖ varint(epoch) ‖ varint(chainIndex) ‖ type ‖ [varint(chunkIndex) ‖ data(32)]
 *
 * Varints are LEB128 of at most 10 bytes, decoded like spqr (bits beyond 64 are dropped, a
 * non-minimal encoding is accepted). Types: None 0, Hdr 1, Ek 2, EkCt1Ack 3, Ct1Ack 4, Ct1 5,
 * Ct2 6; None and Ct1Ack carry no chunk. Rejected: a version byte other than 1, epoch 0, a chain
 * index above 2^32 − 1, a chunk index above 65535, an unknown type, truncation. Trailing bytes
 * are allowed (room for future versions). Parse errors are `ProtocolError('PQ_RATCHET')`.
 */
import { ProtocolError } from '../errors.js';
import { CHUNK_LENGTH, MAX_CHUNK_INDEX, type Chunk } from './erasure-code.js';

export const SPQR_MESSAGE_VERSION = 1;

export type ChunkPayloadType = 'hdr' | 'ek' | 'ekCt1Ack' | 'ct1' | 'ct2';

export type SpqrPayload =
  | { readonly type: 'none' }
  | { readonly type: 'ct1Ack' }
  | { readonly type: ChunkPayloadType; readonly chunk: Chunk };

export interface SpqrMessage {
  /** ≥ 1. */
  readonly epoch: number;
  /** The chain index of the message key (u32; 0 only before any key exists). */
  readonly chainIndex: number;
  readonly payload: SpqrPayload;
}

const TYPE_CODES = {
  none: 0,
  hdr: 1,
  ek: 2,
  ekCt1Ack: 3,
  ct1Ack: 4,
  ct1: 5,
  ct2: 6,
} as const satisfies Record<SpqrPayload['type'], number>;

/** Chunk payload types by wire code − 1 (code 4, Ct1Ack, carries no chunk). */
const CHUNK_TYPES: readonly (ChunkPayloadType | undefined)[] = [
  'hdr',
  'ek',
  'ekCt1Ack',
  undefined,
  'ct1',
  'ct2',
];

function fail(message: string): never {
  throw new ProtocolError('PQ_RATCHET', `message decode failed: ${message}`);
}

function varintLength(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

/** Serializes a message (epoch and indices must be in range; they come from our own state). */
export function serializeSpqrMessage(message: SpqrMessage): Uint8Array {
  const { epoch, chainIndex, payload } = message;
  const chunk = 'chunk' in payload ? payload.chunk : null;
  const length =
    1 +
    varintLength(epoch) +
    varintLength(chainIndex) +
    1 +
    (chunk === null ? 0 : varintLength(chunk.index) + CHUNK_LENGTH);
  const out = new Uint8Array(length);
  out[0] = SPQR_MESSAGE_VERSION;
  let pos = writeVarint(out, 1, epoch);
  pos = writeVarint(out, pos, chainIndex);
  out[pos++] = TYPE_CODES[payload.type];
  if (chunk !== null) {
    pos = writeVarint(out, pos, chunk.index);
    out.set(chunk.data, pos);
  }
  return out;
}

/**
 * A LEB128 varint as spqr decodes it into a u64. Returns the value, or −1 when the u64 is at
 * least 2^53 (no such value is ever in range for SPQR's fields).
 */
function readVarint(data: Uint8Array, start: number): { value: number; next: number } {
  let lo = 0; // bits 0..31
  let hi = 0; // bits 32..63
  for (let i = 0; i < 10; i++) {
    const p = start + i;
    if (p >= data.length) fail('truncated varint');
    const byte = data[p]!;
    const bits = byte & 0x7f;
    const shift = 7 * i;
    if (shift < 32) {
      lo |= bits << shift;
      if (shift > 25) hi |= bits >>> (32 - shift);
    } else {
      hi |= bits << (shift - 32); // bits beyond 64 fall off, like a u64 shift
    }
    if ((byte & 0x80) === 0) {
      const high = hi >>> 0;
      const value = high >= 0x20_0000 ? -1 : high * 0x1_0000_0000 + (lo >>> 0);
      return { value, next: p + 1 };
    }
  }
  return fail('varint longer than 10 bytes');
}

/** Parses a `pq_ratchet` field whose first byte is 1. */
export function parseSpqrMessage(data: Uint8Array): SpqrMessage {
  if (data.length === 0 || data[0] !== SPQR_MESSAGE_VERSION) fail('not a version 1 message');
  const e = readVarint(data, 1);
  if (e.value === 0) fail('epoch 0');
  if (e.value < 0) throw new ProtocolError('PQ_RATCHET', 'epoch not in valid range');
  const idx = readVarint(data, e.next);
  if (idx.value < 0 || idx.value > 0xffff_ffff) fail('chain index exceeds u32');
  let pos = idx.next;
  if (pos >= data.length) fail('missing message type');
  const code = data[pos++]!;
  let payload: SpqrPayload;
  switch (code) {
    case 0:
      payload = { type: 'none' };
      break;
    case 4:
      payload = { type: 'ct1Ack' };
      break;
    case 1:
    case 2:
    case 3:
    case 5:
    case 6: {
      const ci = readVarint(data, pos);
      const end = ci.next + CHUNK_LENGTH;
      if (end > data.length) fail('truncated chunk');
      if (ci.value < 0 || ci.value > MAX_CHUNK_INDEX) fail('chunk index exceeds 65535');
      const type = CHUNK_TYPES[code - 1]!;
      payload = { type, chunk: { index: ci.value, data: data.slice(ci.next, end) } };
      break;
    }
    default:
      fail(`unknown message type ${code}`);
  }
  return { epoch: e.value, chainIndex: idx.value, payload };
}
