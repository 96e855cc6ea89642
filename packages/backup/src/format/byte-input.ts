/**
 * Reads an archive from any byte source in exact-size blocks with one-piece lookahead (the chunk
 * reader must know whether a chunk is the last one). Sources: a web `ReadableStream` (read through
 * its reader, since browsers do not all make it async-iterable), an async iterable (Node streams,
 * generators) or a sync iterable (arrays of pieces). Pieces must not be changed after they are
 * handed over (the usual stream contract): a block that lies inside one piece is a view of it.
 */
import { BackupError } from '../errors.js';

export type ByteSource =
  ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

type Pull = () => Promise<Uint8Array | undefined>;

function puller(source: ByteSource): { pull: Pull; cancel: (reason?: unknown) => Promise<void> } {
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      pull: async () => {
        const { done, value } = await reader.read();
        return done ? undefined : value;
      },
      cancel: (reason) => reader.cancel(reason),
    };
  }
  if (Symbol.asyncIterator in source) {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return {
      pull: async () => {
        const r = await it.next();
        return r.done === true ? undefined : r.value;
      },
      cancel: async () => {
        await it.return?.();
      },
    };
  }
  if (Symbol.iterator in source) {
    const it = (source as Iterable<Uint8Array>)[Symbol.iterator]();
    return {
      pull: () => {
        const r = it.next();
        return Promise.resolve(r.done === true ? undefined : r.value);
      },
      cancel: () => {
        it.return?.();
        return Promise.resolve();
      },
    };
  }
  throw new BackupError('INVALID_ARGUMENT', 'source must be a ReadableStream or an iterable');
}

export class ByteInput {
  readonly #pull: Pull;
  readonly #cancel: (reason?: unknown) => Promise<void>;
  #head: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #eof = false;
  #block: Uint8Array = new Uint8Array(0);
  /** Bytes consumed so far (for error messages). */
  position = 0;

  constructor(source: ByteSource) {
    const { pull, cancel } = puller(source);
    this.#pull = pull;
    this.#cancel = cancel;
  }

  /** Ensures unread bytes are buffered; false at the end of the source. */
  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#head.length) {
      if (this.#eof) return false;
      const piece = await this.#pull();
      if (piece === undefined) {
        this.#eof = true;
        this.#head = new Uint8Array(0);
        this.#offset = 0;
        return false;
      }
      if (!(piece instanceof Uint8Array)) {
        throw new BackupError('INVALID_ARGUMENT', 'the source yielded something other than bytes');
      }
      this.#head = piece;
      this.#offset = 0;
    }
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /**
   * The next `length` bytes, or fewer at the end of the source. The result is valid until the
   * next call (it may be a view of a piece or of a reused buffer).
   */
  async read(length: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    if (this.#head.length - this.#offset >= length) {
      const view = this.#head.subarray(this.#offset, this.#offset + length);
      this.#offset += length;
      this.position += length;
      return view;
    }
    if (this.#block.length < length) this.#block = new Uint8Array(length);
    let filled = 0;
    while (filled < length && (await this.#fill())) {
      const n = Math.min(length - filled, this.#head.length - this.#offset);
      this.#block.set(this.#head.subarray(this.#offset, this.#offset + n), filled);
      this.#offset += n;
      filled += n;
    }
    this.position += filled;
    return this.#block.subarray(0, filled);
  }

  async cancel(reason?: unknown): Promise<void> {
    this.#eof = true;
    this.#head = new Uint8Array(0);
    this.#offset = 0;
    await this.#cancel(reason);
  }
}
