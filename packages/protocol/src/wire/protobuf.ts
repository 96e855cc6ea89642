/**
 * A minimal protobuf (proto2/proto3 wire format) reader and writer: varints, length-delimited
 * fields and fixed64. Enough for Signal's messages (shared/specs/signal-wire.md §2, §5, §6, §7)
 * and Sotto's own state records. Writers emit fields in the order called; callers write them in
 * field-number order to match prost byte for byte. Readers reject truncated input, wire types
 * 3/4 (groups) and varints longer than 10 bytes, with `ProtocolError('INVALID_MESSAGE')`.
 */
import { ProtocolError } from '../errors.js';

export type WireType = 0 | 1 | 2 | 5;

export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Raw varint (no tag). Accepts integers up to 2^53 - 1. */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ProtocolError('INVALID_STATE', 'varint out of range');
    }
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  private tag(field: number, wire: WireType): void {
    this.varint(field * 8 + wire);
  }

  uint32(field: number, value: number): this {
    this.tag(field, 0);
    return this.varint(value >>> 0);
  }

  uint64(field: number, value: number): this {
    this.tag(field, 0);
    return this.varint(value);
  }

  bool(field: number, value: boolean): this {
    this.tag(field, 0);
    return this.varint(value ? 1 : 0);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** fixed64 little-endian; values up to 2^53 - 1. */
  fixed64(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ProtocolError('INVALID_STATE', 'fixed64 out of range');
    }
    this.tag(field, 1);
    this.ensure(8);
    const lo = value % 0x1_0000_0000;
    const hi = Math.floor(value / 0x1_0000_0000);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    view.setUint32(0, lo, true);
    view.setUint32(4, hi, true);
    this.pos += 8;
    return this;
  }

  /** Appends raw bytes (already-encoded content). */
  raw(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export interface ProtoField {
  readonly field: number;
  readonly wire: WireType;
  /** For wire type 0 and 1 (fixed64 decoded to a safe integer where possible). */
  readonly int: number;
  /** For wire type 2: a view into the input (copy before keeping it). */
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Reads a raw varint at `pos`; returns [value, nextPos]. */
export function readVarint(data: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= data.length) throw new ProtocolError('INVALID_MESSAGE', 'truncated varint');
    const b = data[pos++]!;
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(result)) {
        throw new ProtocolError('INVALID_MESSAGE', 'varint exceeds 2^53');
      }
      return [result, pos];
    }
    scale *= 0x80;
  }
  throw new ProtocolError('INVALID_MESSAGE', 'varint too long');
}

/** Iterates the top-level fields of a protobuf message. */
export function* readFields(data: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  while (pos < data.length) {
    const [key, afterKey] = readVarint(data, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtocolError('INVALID_MESSAGE', 'field number 0');
    switch (wire) {
      case 0: {
        const [value, next] = readVarint(data, pos);
        pos = next;
        yield { field, wire, int: value, bytes: EMPTY };
        break;
      }
      case 1: {
        if (pos + 8 > data.length) throw new ProtocolError('INVALID_MESSAGE', 'truncated fixed64');
        const view = new DataView(data.buffer, data.byteOffset + pos, 8);
        const value = view.getUint32(0, true) + view.getUint32(4, true) * 0x1_0000_0000;
        pos += 8;
        yield { field, wire, int: value, bytes: EMPTY };
        break;
      }
      case 2: {
        const [length, next] = readVarint(data, pos);
        pos = next;
        if (pos + length > data.length) {
          throw new ProtocolError('INVALID_MESSAGE', 'truncated length-delimited field');
        }
        yield { field, wire, int: 0, bytes: data.subarray(pos, pos + length) };
        pos += length;
        break;
      }
      case 5: {
        if (pos + 4 > data.length) throw new ProtocolError('INVALID_MESSAGE', 'truncated fixed32');
        const view = new DataView(data.buffer, data.byteOffset + pos, 4);
        pos += 4;
        yield { field, wire, int: view.getUint32(0, true), bytes: EMPTY };
        break;
      }
      default:
        throw new ProtocolError('INVALID_MESSAGE', `unsupported wire type ${wire}`);
    }
  }
}
