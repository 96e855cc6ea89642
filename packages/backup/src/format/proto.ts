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
/**
 * Strings shorter than this are encoded by a JS loop, longer ones by `TextEncoder.encodeInto`,
 * whose fixed cost per call (a view, a result object, the native call: about 150 ns) exceeds the
 * loop's for short strings (measured on the synthetic history).
 */
const STRING_LOOP_MAX = 48;

export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16384) return 2;
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

/**
 * Writes UTF-8 of `value` at `buf[pos]` exactly as TextEncoder does (a lone surrogate becomes
 * U+FFFD); returns the new position. Room for 3 bytes per UTF-16 unit must have been ensured.
 */
function writeUtf8(buf: Uint8Array, pos: number, value: string): number {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >>> 6);
      buf[pos++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const next = i + 1 < n ? value.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
          // A surrogate pair: one code point above U+FFFF, four bytes.
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          buf[pos++] = 0xf0 | (c >>> 18);
          buf[pos++] = 0x80 | ((c >>> 12) & 63);
          buf[pos++] = 0x80 | ((c >>> 6) & 63);
          buf[pos++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      buf[pos++] = 0xe0 | (c >>> 12);
      buf[pos++] = 0x80 | ((c >>> 6) & 63);
      buf[pos++] = 0x80 | (c & 63);
    }
  }
  return pos;
}

export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes (grows by doubling, keeping what was written). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.#grow(n);
  }

  #grow(n: number): void {
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
    if (this.pos + 16 > this.buf.length) this.#grow(16);
    if (field > 15) {
      this.#varint(field << 3);
      this.#varint(value);
      return;
    }
    // Written inline: a one-byte tag, then the value's low 28 bits in int32 arithmetic and, for
    // larger values (timestamps in ms), the bits above them (< 2^25).
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = field << 3;
    let v = value;
    if (v >= 0x1000_0000) {
      const high = Math.floor(v / 0x1000_0000);
      const low = v - high * 0x1000_0000;
      buf[pos++] = (low & 127) | 0x80;
      buf[pos++] = ((low >>> 7) & 127) | 0x80;
      buf[pos++] = ((low >>> 14) & 127) | 0x80;
      buf[pos++] = (low >>> 21) | 0x80;
      v = high;
    }
    while (v > 127) {
      buf[pos++] = (v & 127) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
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
      // One length byte reserved (UTF-8 of n < 48 units is < 144 bytes: rarely more than 127).
      const end = writeUtf8(buf, start + 1, value);
      const written = end - start - 1;
      if (written < 128) {
        buf[start] = written;
        this.pos = end;
        return;
      }
      buf.copyWithin(start + 2, start + 1, end);
      buf[start] = (written & 127) | 0x80;
      buf[start + 1] = written >>> 7;
      this.pos = end + 1;
      return;
    }
    // UTF-8 has at least n bytes: reserve the length prefix of n, widen it in the rare case
    // the text needs a longer one (n < 128 ≤ UTF-8 length, or across 16384).
    const reserved = varintSize(n);
    const { written } = encoder.encodeInto(value, buf.subarray(start + reserved));
    const size = varintSize(written);
    if (size > reserved) {
      buf.copyWithin(start + size, start + reserved, start + reserved + written);
    }
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

  /**
   * Opens a delimited `Frame` holding one message in field `field` (< 16): reserves the frame's
   * length byte, writes the field's tag and reserves its length byte. Returns the frame's start,
   * for `endFrame`.
   */
  beginFrame(field: number): number {
    this.ensure(3);
    const buf = this.buf;
    const start = this.pos;
    buf[start] = 0;
    buf[start + 1] = (field << 3) | WIRE_LEN;
    buf[start + 2] = 0;
    this.pos = start + 3;
    return start;
  }

  /**
   * Closes what `beginFrame` opened: writes both lengths, moving the message once (not once per
   * length) when they need more than the reserved byte each.
   */
  endFrame(start: number): void {
    const inner = this.pos - start - 3;
    if (inner < 126) {
      this.buf[start] = inner + 2;
      this.buf[start + 2] = inner;
      return;
    }
    const tag = this.buf[start + 1]!;
    const innerSize = varintSize(inner);
    const frame = 1 + innerSize + inner;
    const shift = innerSize + varintSize(frame) - 2;
    this.ensure(shift);
    this.buf.copyWithin(start + 3 + shift, start + 3, this.pos);
    const end = this.pos + shift;
    this.pos = start;
    this.#varint(frame);
    this.buf[this.pos++] = tag;
    this.#varint(inner);
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

  /** Points the reader at `buf[pos, end)`. */
  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Enters the nested message at the reader's position (reads its length and narrows `end` to
   * it); returns the outer `end`, which the caller restores after reading the nested fields.
   */
  enter(): number {
    const length = this.length();
    const outer = this.end;
    this.end = this.pos + length;
    return outer;
  }

  /** A varint as a safe integer (at most 8 bytes: 56 bits cover 2^53 - 1). */
  varint(): number {
    // One-byte varints (tags, small numbers) inline at the call site; the rest take the loop.
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 128) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.#varintLoop();
  }

  #varintLoop(): number {
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
