/**
 * A minimal protocol-buffers codec (https://protobuf.dev/programming-guides/encoding/) for the
 * record schema of docs/backup-format.md §6: varint, zigzag, length-delimited fields; unknown
 * fields are skipped (wire types 0, 1, 2, 5), groups are refused. Integers are JavaScript Numbers
 * limited to 2^53 - 1 (timestamps in ms, ids, sizes): no BigInt on the per-record path.
 *
 * The writer writes each message in one pass: a nested message reserves one length byte and is
 * shifted right in the rare case its length needs more (`begin`/`end`). It writes into one
 * growable buffer that the caller hands on in batches, so encoding allocates nothing per record.
 */
import { BackupError } from '../errors.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_31 = 0x8000_0000;
/** Below this length a string is encoded by a JS loop, above by TextEncoder (measured). */
const STRING_LOOP_MAX = 32;

export function varintSize(value: number): number {
  let size = 1;
  let v = value;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes (grows by doubling, keeping what was written). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** A varint of a safe non-negative integer; room must have been ensured (10 bytes). */
  #varint(value: number): void {
    if (value < TWO_POW_31) {
      const buf = this.buf;
      let pos = this.pos;
      let v = value;
      while (v > 127) {
        buf[pos++] = (v & 127) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
      this.pos = pos;
      return;
    }
    const low = value >>> 0;
    this.#varint64(low, (value - low) / 0x1_0000_0000);
  }

  /** A varint of high·2^32 + low (high < 2^25, so the bits above the low 28 fit in 32). */
  #varint64(low: number, high: number): void {
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = (low & 127) | 0x80;
    buf[pos++] = ((low >>> 7) & 127) | 0x80;
    buf[pos++] = ((low >>> 14) & 127) | 0x80;
    buf[pos++] = ((low >>> 21) & 127) | 0x80;
    let v = ((low >>> 28) | (high << 4)) >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** A zigzag varint (sint64) of a safe integer, exact up to ±(2^53 − 1). */
  zigzag(value: number): void {
    this.ensure(10);
    const negative = value < 0;
    // z = 2m for m = value ≥ 0, z = 2m + 1 for m = −value − 1 when negative; computed in parts.
    const m = negative ? -value - 1 : value;
    const low = m >>> 0;
    const high = (m - low) / 0x1_0000_0000;
    const zLow = ((low << 1) | (negative ? 1 : 0)) >>> 0;
    const zHigh = high * 2 + (low >>> 31);
    if (zHigh === 0 && zLow < TWO_POW_31) this.#varint(zLow);
    else this.#varint64(zLow, zHigh);
  }

  varint(value: number): void {
    this.ensure(10);
    this.#varint(value);
  }

  /** A uint64 field; omitted when 0 (proto3 default). */
  uint(field: number, value: number): void {
    if (value === 0) return;
    if (!(value > 0 && Number.isSafeInteger(value))) {
      throw new BackupError('INVALID_ARGUMENT', `field ${field} must be a safe integer ≥ 0`);
    }
    this.ensure(16);
    this.#varint(field << 3);
    this.#varint(value);
  }

  /** A sint64 field (zigzag); omitted when 0. */
  sint(field: number, value: number): void {
    if (value === 0) return;
    if (!Number.isSafeInteger(value)) {
      throw new BackupError('INVALID_ARGUMENT', `field ${field} must be a safe integer`);
    }
    this.ensure(6);
    this.#varint(field << 3);
    this.zigzag(value);
  }

  /** A bool field; omitted when false. */
  bool(field: number, value: boolean): void {
    if (!value) return;
    this.ensure(6);
    this.#varint(field << 3);
    this.buf[this.pos++] = 1;
  }

  /** A bytes field; omitted when empty unless `always`. */
  bytes(field: number, value: Uint8Array, always = false): void {
    if (!(value instanceof Uint8Array)) {
      throw new BackupError('INVALID_ARGUMENT', `field ${field} must be a Uint8Array`);
    }
    if (value.length === 0 && !always) return;
    this.ensure(15 + value.length);
    this.#varint((field << 3) | WIRE_LEN);
    this.#varint(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A string field (UTF-8); omitted when empty unless `always`. */
  string(field: number, value: string, always = false): void {
    if (typeof value !== 'string') {
      throw new BackupError('INVALID_ARGUMENT', `field ${field} must be a string`);
    }
    const n = value.length;
    if (n === 0) {
      if (always) this.bytes(field, new Uint8Array(0), true);
      return;
    }
    this.ensure(15 + 3 * n);
    this.#varint((field << 3) | WIRE_LEN);
    const buf = this.buf;
    const start = this.pos;
    if (n < STRING_LOOP_MAX) {
      // Short strings: a JS loop beats the ~100 ns fixed cost of encodeInto (ASCII only).
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = p;
        return;
      }
    }
    const reserved = varintSize(3 * n);
    const { written } = encoder.encodeInto(value, buf.subarray(start + reserved));
    const size = varintSize(written);
    if (size < reserved) buf.copyWithin(start + size, start + reserved, start + reserved + written);
    this.pos = start;
    this.#varint(written);
    this.pos = start + size + written;
  }

  /** Opens a nested message field: returns the position of its (reserved) length byte. */
  begin(field: number): number {
    this.ensure(11);
    this.#varint((field << 3) | WIRE_LEN);
    this.buf[this.pos] = 0;
    return this.pos++;
  }

  /** Opens a length-delimited top-level message (as protobuf's writeDelimitedTo). */
  beginDelimited(): number {
    this.ensure(1);
    this.buf[this.pos] = 0;
    return this.pos++;
  }

  /** Closes what `begin`/`beginDelimited` opened, writing its length. */
  end(start: number): void {
    const length = this.pos - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = start;
    this.#varint(length);
    this.pos = end;
  }
}

function corrupt(what: string): BackupError {
  return new BackupError('CORRUPT_RECORD', what);
}

/** Reads fields of one message in `buf[pos, end)`. Throws CORRUPT_RECORD on malformed input. */
export class ProtoReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a safe integer (at most 8 bytes: 56 bits cover 2^53 - 1). */
  varint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw corrupt('varint runs past the end');
      const b = buf[pos++]!;
      low |= (b & 127) << shift;
      if (b < 128) {
        this.pos = pos;
        return low;
      }
    }
    let high = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw corrupt('varint runs past the end');
      const b = buf[pos++]!;
      high |= (b & 127) << shift;
      if (b < 128) {
        const value = high * 0x1000_0000 + low;
        if (!Number.isSafeInteger(value)) throw corrupt('integer exceeds 2^53 - 1');
        this.pos = pos;
        return value;
      }
    }
    throw corrupt('varint is too long');
  }

  /** A zigzag varint (sint64) as a safe integer. */
  sint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let low = 0;
    let high = 0;
    let shift = 0;
    for (let i = 0; ; i++) {
      if (i === 8) throw corrupt('varint is too long');
      if (pos >= end) throw corrupt('varint runs past the end');
      const b = buf[pos++]!;
      if (i < 4) low |= (b & 127) << (7 * i);
      else {
        high |= (b & 127) << shift;
        shift += 7;
      }
      if (b < 128) break;
    }
    this.pos = pos;
    // z = high·2^28 + low; |value| − (negative ? 1 : 0) = ⌊z / 2⌋ = high·2^27 + (low >>> 1).
    if (high >= 2 ** 26) throw corrupt('integer exceeds 2^53 - 1');
    const magnitude = high * 2 ** 27 + (low >>> 1);
    const value = (low & 1) === 1 ? -magnitude - 1 : magnitude;
    if (!Number.isSafeInteger(value)) throw corrupt('integer exceeds 2^53 - 1');
    return value;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** Length of a length-delimited field; checks it fits. `pos` is left at its first byte. */
  length(): number {
    const n = this.varint();
    if (n > this.end - this.pos) throw corrupt('field runs past the end');
    return n;
  }

  /** A bytes field, copied (records never alias the decrypted chunks). */
  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    if (n === 0) return '';
    try {
      return decoder.decode(this.buf.subarray(start, start + n));
    } catch (cause) {
      throw new BackupError('CORRUPT_RECORD', 'string is not UTF-8', { cause });
    }
  }

  /** Skips a field of wire type `wire` whose tag was read. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_LEN:
        this.#advance(this.length());
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        throw corrupt(`unsupported wire type ${wire}`);
    }
  }

  #advance(n: number): void {
    if (n > this.end - this.pos) throw corrupt('field runs past the end');
    this.pos += n;
  }
}
