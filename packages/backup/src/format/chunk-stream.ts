/**
 * The body ⇄ chunks layer (docs/backup-format.md §4–§5). Every chunk's plaintext is
 *
 *     data length u32 ‖ data ‖ zero padding
 *
 * and every chunk but the last holds exactly `chunkSize` plaintext bytes. The writer fills chunks
 * with body bytes, then pads the total plaintext to a Padmé bucket (`padding.ts`) with zero bytes
 * and padding-only chunks, and seals each chunk with its index and final flag (`chunk-cipher.ts`).
 * The reader reads `chunkSize + 16` bytes at a time, learns "final" from the end of the input,
 * and tells apart truncation, appended data and corruption by which final flag (if any) opens
 * the chunk. Both hold one chunk at a time.
 */
import { BackupError } from '../errors.js';
import { readU32, writeU32 } from '../encoding.js';
import type { ByteInput } from './byte-input.js';
import { TAG_LENGTH, type ChunkCipher } from './chunk-cipher.js';
import { CHUNK_LENGTH_FIELD, paddedBodyLength } from './padding.js';

export class ChunkSealer {
  readonly #cipher: ChunkCipher;
  readonly #chunkSize: number;
  readonly #plain: Uint8Array;
  #fill = CHUNK_LENGTH_FIELD;
  #index = 0;
  readonly #ready: Uint8Array[] = [];
  /** After finish(): plaintext bytes still to seal (-1 while open). */
  #remaining = -1;
  #paddingStarted = false;
  #zeroed = false;

  constructor(cipher: ChunkCipher, chunkSize: number) {
    this.#cipher = cipher;
    this.#chunkSize = chunkSize;
    this.#plain = new Uint8Array(chunkSize);
  }

  /** Adds body bytes (copied). A full chunk is sealed only once more bytes arrive. */
  write(data: Uint8Array): void {
    if (this.#remaining >= 0) throw new Error('ChunkSealer: write after finish');
    let offset = 0;
    while (offset < data.length) {
      if (this.#fill === this.#chunkSize) this.#sealPending(false);
      const n = Math.min(data.length - offset, this.#chunkSize - this.#fill);
      this.#plain.set(data.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
    }
  }

  /** A sealed chunk ready to be written, if any. */
  take(): Uint8Array | undefined {
    return this.#ready.shift();
  }

  /** Ends the body: from now on `next()` yields the remaining (padding and final) chunks. */
  finish(): void {
    const sealed = this.#index * this.#chunkSize;
    const total = paddedBodyLength(sealed + this.#fill, this.#chunkSize);
    this.#remaining = total - sealed;
  }

  /** The next chunk after finish(), one per call (so padding respects backpressure). */
  next(): Uint8Array | undefined {
    const ready = this.take();
    if (ready !== undefined) return ready;
    if (this.#remaining <= 0) return undefined;
    const c = this.#chunkSize;
    if (!this.#paddingStarted) {
      // The chunk holding the end of the data: its length field, then zeros.
      this.#paddingStarted = true;
      writeU32(this.#plain, 0, this.#fill - CHUNK_LENGTH_FIELD);
      const length = Math.min(this.#remaining, c);
      this.#plain.fill(0, this.#fill, length);
      this.#remaining -= length;
      return this.#cipher.seal(
        this.#plain.subarray(0, length),
        this.#index++,
        this.#remaining === 0,
      );
    }
    // Padding-only chunks: all zeros (data length 0).
    if (!this.#zeroed) {
      this.#plain.fill(0);
      this.#zeroed = true;
    }
    const length = Math.min(this.#remaining, c);
    this.#remaining -= length;
    return this.#cipher.seal(this.#plain.subarray(0, length), this.#index++, this.#remaining === 0);
  }

  #sealPending(final: boolean): void {
    writeU32(this.#plain, 0, this.#fill - CHUNK_LENGTH_FIELD);
    this.#ready.push(this.#cipher.seal(this.#plain, this.#index++, final));
    this.#fill = CHUNK_LENGTH_FIELD;
  }
}

export class ChunkOpener {
  readonly #cipher: ChunkCipher;
  readonly #input: ByteInput;
  readonly #sealedSize: number;
  #index = 0;
  #finalSeen = false;
  #dataEnded = false;

  constructor(cipher: ChunkCipher, input: ByteInput, chunkSize: number) {
    this.#cipher = cipher;
    this.#input = input;
    this.#sealedSize = chunkSize + TAG_LENGTH;
  }

  /** The body bytes of the next chunk that has any (a fresh array), or undefined at the end. */
  async next(): Promise<Uint8Array | undefined> {
    while (!this.#finalSeen) {
      const data = await this.#openNext();
      if (data.length > 0) return data;
    }
    return undefined;
  }

  async #openNext(): Promise<Uint8Array> {
    const index = this.#index;
    const sealed = await this.#input.read(this.#sealedSize);
    if (sealed.length === 0) {
      throw new BackupError('TRUNCATED', `the archive ends before chunk ${index}`, {
        details: { chunkIndex: index },
      });
    }
    const last = sealed.length < this.#sealedSize || (await this.#input.atEnd());
    const plain = this.#cipher.open(sealed, index, last);
    if (plain === undefined) this.#explain(sealed, index, last);
    this.#index++;
    if (last) this.#finalSeen = true;
    const length = readU32(plain, 0);
    const capacity = plain.length - CHUNK_LENGTH_FIELD;
    if (length > capacity || (this.#dataEnded && length > 0)) {
      // Authentic but malformed: only a writer holding the key can produce this.
      throw new BackupError('CORRUPT_CHUNK', `chunk ${index} has an invalid data length`, {
        details: { chunkIndex: index },
      });
    }
    if (length < capacity) this.#dataEnded = true;
    return plain.subarray(CHUNK_LENGTH_FIELD, CHUNK_LENGTH_FIELD + length);
  }

  /** Names why chunk `index` does not open. */
  #explain(sealed: Uint8Array, index: number, last: boolean): never {
    const details = { chunkIndex: index };
    if (sealed.length >= TAG_LENGTH + CHUNK_LENGTH_FIELD) {
      if (this.#cipher.open(sealed, index, !last) !== undefined) {
        if (last) {
          throw new BackupError(
            'TRUNCATED',
            `the archive ends after chunk ${index}, which is not the final chunk`,
            { details },
          );
        }
        throw new BackupError('TRAILING_DATA', `bytes follow the final chunk ${index}`, {
          details,
        });
      }
    }
    throw new BackupError(
      'CORRUPT_CHUNK',
      `chunk ${index} fails authentication (altered, reordered, dropped or from another archive)`,
      { details },
    );
  }
}
