/**
 * Records ⇄ the body byte stream (docs/backup-format.md §6.1): each record is one delimited
 * `Frame` (varint length ‖ Frame). The batcher encodes records into a buffer and hands it on in
 * batches of about RECORD_BATCH_SIZE bytes; the decoder takes pieces of any size (as decryption
 * or decompression produces them), decodes frames in place when a piece holds them whole, and
 * reassembles only frames that straddle pieces. Both use memory bounded by MAX_RECORD_LENGTH.
 */
import { BackupError } from '../errors.js';
import { MAX_RECORD_LENGTH, RECORD_BATCH_SIZE } from '../limits.js';
import { ProtoWriter } from './proto.js';
import { readRecord, writeRecord, type BackupRecord } from './records.js';

/** Bytes reserved above the batch size, so a typical record never makes the buffer grow. */
const BATCH_HEADROOM = 64 << 10;

export class RecordBatcher {
  readonly #writer = new ProtoWriter(RECORD_BATCH_SIZE + BATCH_HEADROOM);

  /** Encoded bytes waiting in the current batch. */
  get size(): number {
    return this.#writer.pos;
  }

  get full(): boolean {
    return this.#writer.pos >= RECORD_BATCH_SIZE;
  }

  add(record: BackupRecord): void {
    const w = this.#writer;
    const start = w.pos;
    try {
      writeRecord(w, record);
    } catch (err) {
      w.pos = start;
      throw err;
    }
    if (w.pos - start > MAX_RECORD_LENGTH) {
      w.pos = start;
      throw new BackupError('RECORD_TOO_LARGE', `a record exceeds ${MAX_RECORD_LENGTH} bytes`);
    }
  }

  /**
   * The current batch as a view of the batcher's buffer, which is reused: valid only until the
   * next `add`. For a consumer that copies it at once (the chunk sealer).
   */
  takeView(): Uint8Array {
    const w = this.#writer;
    const out = w.buf.subarray(0, w.pos);
    w.pos = 0;
    return out;
  }

  /** The current batch (owned by the caller from now on); the batcher starts a new one. */
  take(): Uint8Array {
    const w = this.#writer;
    const out = w.buf.subarray(0, w.pos);
    w.buf = new Uint8Array(RECORD_BATCH_SIZE + BATCH_HEADROOM);
    w.pos = 0;
    return out;
  }
}

/** Largest varint prefix of a frame length ≤ MAX_RECORD_LENGTH (< 2^28). */
const MAX_PREFIX = 4;

/**
 * Frame bytes decoded per `next` call (about 300 typical records). A restore hands records on in
 * batches of this size rather than one batch per 1 MiB chunk: fewer records are alive when V8's
 * young generation is collected, so each collection copies less (measured: a third of restore
 * time went to the GC with 1 MiB batches).
 */
export const DECODE_BATCH_BYTES = 64 << 10;

const EMPTY: Uint8Array = new Uint8Array(0);

export class RecordDecoder {
  /** Bytes of a frame that started in an earlier piece. */
  #carry = new Uint8Array(0);
  #carryLength = 0;
  /** Total bytes (prefix + frame) of the frame in #carry, or -1 while its prefix is incomplete. */
  #carryFrameEnd = -1;
  #carryPrefix = 0;
  #seenInfo = false;
  /** The piece being decoded and the offset of its first undecoded byte. */
  #piece = EMPTY;
  #offset = 0;
  /** Records decoded so far (the info record included; unknown frames excluded). */
  count = 0;

  /** Decodes all frames completed by `piece` into `out`. `piece` is not retained. */
  push(piece: Uint8Array, out: BackupRecord[]): void {
    this.start(piece);
    while (this.next(out, Infinity));
  }

  /**
   * Starts decoding `piece`; call `next` until it returns false before the next `start`. The
   * piece is read in place (not copied) until then, so it must not change meanwhile.
   */
  start(piece: Uint8Array): void {
    if (this.#offset < this.#piece.length) throw new Error('RecordDecoder: piece not drained');
    this.#piece = piece;
    this.#offset = 0;
  }

  /**
   * Decodes frames of the current piece into `out` until about `limit` bytes of frames were
   * decoded. Returns true while more of the piece is left, false when it is used up (a frame it
   * ends inside is carried over to the next piece).
   */
  next(out: BackupRecord[], limit: number): boolean {
    const piece = this.#piece;
    let offset = this.#offset;
    if (this.#carryLength > 0) {
      offset = this.#completeCarry(piece, out);
      if (this.#carryLength > 0) return this.#drained();
    }
    const end = piece.length;
    const stop = offset + limit;
    while (offset < end) {
      if (offset >= stop) {
        this.#offset = offset;
        return true;
      }
      // Frame length prefix (inlined varint: ≤ 4 bytes for lengths below 2^28).
      let p = offset;
      let length = 0;
      let shift = 0;
      let complete = false;
      while (p < end) {
        const b = piece[p++]!;
        length |= (b & 127) << shift;
        if (b < 128) {
          complete = true;
          break;
        }
        shift += 7;
        if (shift >= 7 * MAX_PREFIX) this.#tooLarge();
      }
      if (!complete) break;
      if (length > MAX_RECORD_LENGTH) this.#tooLarge();
      if (p + length > end) break;
      this.#emit(readRecord(piece, p, p + length), out);
      offset = p + length;
    }
    if (offset < end) this.#startCarry(piece.subarray(offset));
    return this.#drained();
  }

  #drained(): false {
    this.#piece = EMPTY;
    this.#offset = 0;
    return false;
  }

  /** Throws CORRUPT_RECORD unless the body ended on a frame boundary after a BackupInfo. */
  finish(): void {
    if (this.#carryLength > 0) {
      throw new BackupError('CORRUPT_RECORD', 'the body ends inside a record');
    }
    if (!this.#seenInfo) throw new BackupError('CORRUPT_RECORD', 'the body has no BackupInfo');
  }

  #tooLarge(): never {
    throw new BackupError('RECORD_TOO_LARGE', `a record exceeds ${MAX_RECORD_LENGTH} bytes`);
  }

  #emit(record: BackupRecord | undefined, out: BackupRecord[]): void {
    if (!this.#seenInfo) {
      if (record?.type !== 'backup-info') {
        throw new BackupError('CORRUPT_RECORD', 'the body does not start with BackupInfo');
      }
      this.#seenInfo = true;
    } else if (record?.type === 'backup-info') {
      throw new BackupError('CORRUPT_RECORD', 'a second BackupInfo');
    }
    if (record !== undefined) {
      this.count++;
      out.push(record);
    }
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#carryLength + bytes.length;
    if (needed > this.#carry.length) {
      const next = new Uint8Array(
        Math.max(needed, Math.min(2 * this.#carry.length, MAX_RECORD_LENGTH + MAX_PREFIX), 4096),
      );
      next.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = next;
    }
    this.#carry.set(bytes, this.#carryLength);
    this.#carryLength = needed;
  }

  #startCarry(rest: Uint8Array): void {
    this.#carryLength = 0;
    this.#carryFrameEnd = -1;
    this.#append(rest);
    this.#parseCarryPrefix();
  }

  /** Sets #carryFrameEnd once the carried prefix is complete. */
  #parseCarryPrefix(): void {
    if (this.#carryFrameEnd >= 0) return;
    let length = 0;
    let shift = 0;
    for (let p = 0; p < this.#carryLength; p++) {
      const b = this.#carry[p]!;
      length |= (b & 127) << shift;
      if (b < 128) {
        if (length > MAX_RECORD_LENGTH) this.#tooLarge();
        this.#carryPrefix = p + 1;
        this.#carryFrameEnd = p + 1 + length;
        return;
      }
      shift += 7;
      if (shift >= 7 * MAX_PREFIX) this.#tooLarge();
    }
  }

  /** Feeds `piece` into the carried frame; returns how much of `piece` was used. */
  #completeCarry(piece: Uint8Array, out: BackupRecord[]): number {
    let offset = 0;
    while (this.#carryFrameEnd < 0) {
      if (offset >= piece.length) return offset;
      this.#append(piece.subarray(offset, offset + 1));
      offset++;
      this.#parseCarryPrefix();
    }
    const take = Math.min(this.#carryFrameEnd - this.#carryLength, piece.length - offset);
    this.#append(piece.subarray(offset, offset + take));
    offset += take;
    if (this.#carryLength === this.#carryFrameEnd) {
      const record = readRecord(this.#carry, this.#carryPrefix, this.#carryFrameEnd);
      this.#carryLength = 0;
      this.#carryFrameEnd = -1;
      this.#emit(record, out);
    }
    return offset;
  }
}
