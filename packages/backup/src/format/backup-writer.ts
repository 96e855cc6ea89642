/**
 * Creating an archive (docs/backup-format.md): records → delimited frames → optional deflate-raw
 * (`CompressionStream`) → chunks padded to a Padmé bucket → AES-256-GCM per chunk, behind the
 * authenticated header. The result is a pull-driven `ReadableStream`: records are read only as
 * fast as the consumer takes ciphertext, so memory stays constant (about two chunks plus the
 * compressor's window) however large the history.
 */
import { randomBytes } from '@sotto/crypto';
import { BackupError } from '../errors.js';
import type { BackupKey } from '../keys/backup-key.js';
import type { KeySlot } from '../keys/recovery-key.js';
import {
  DEFAULT_CHUNK_SIZE,
  MAX_APP_NAME_LENGTH,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
} from '../limits.js';
import { ChunkCipher } from './chunk-cipher.js';
import { ChunkSealer } from './chunk-stream.js';
import { pumpThrough } from './pump.js';
import {
  BACKUP_ID_LENGTH,
  deriveArchiveKeys,
  encodeHeader,
  wipeArchiveKeys,
  type Compression,
} from './header.js';
import { RecordBatcher } from './record-stream.js';
import { ReferenceChecker } from './references.js';
import { SCHEMA_VERSION, type BackupInfoRecord, type ContentRecord } from './records.js';

/**
 * Records to back up: a sync iterable of records (fastest), or an async iterable of records or
 * of record arrays (an async source should yield arrays: one await per record is costly).
 */
export type RecordSource =
  | Iterable<ContentRecord | readonly ContentRecord[]>
  | AsyncIterable<ContentRecord | readonly ContentRecord[]>;

export interface CreateBackupOptions {
  readonly backupKey: BackupKey;
  /** Default 'deflate-raw'. */
  readonly compression?: Compression;
  /** Plaintext bytes per chunk; default DEFAULT_CHUNK_SIZE (1 MiB). */
  readonly chunkSize?: number;
  /** Slots that let other secrets open the archive, e.g. `recoveryKeySlot(...)`. */
  readonly keySlots?: readonly KeySlot[];
  /** Written in BackupInfo, e.g. "sotto-cli/0.1.0". */
  readonly app?: string;
  /** Written in BackupInfo; default `Date.now()`. */
  readonly createdAtMs?: number;
  /** Source of the backup id; default the CSPRNG of @sotto/crypto. */
  readonly random?: (length: number) => Uint8Array;
}

/** Pulls record batches (encoded frames) from a record source. */
class FrameSource {
  readonly #batcher = new RecordBatcher();
  readonly #references = new ReferenceChecker();
  readonly #sync: Iterator<ContentRecord | readonly ContentRecord[]> | undefined;
  readonly #async: AsyncIterator<ContentRecord | readonly ContentRecord[]> | undefined;
  #done = false;
  /** Hand out views of one reused buffer (the consumer copies each batch before the next). */
  readonly #reuse: boolean;

  constructor(records: RecordSource, info: BackupInfoRecord, reuse: boolean) {
    this.#reuse = reuse;
    this.#batcher.add(info);
    if (Symbol.iterator in records) this.#sync = records[Symbol.iterator]();
    else if (Symbol.asyncIterator in records) this.#async = records[Symbol.asyncIterator]();
    else throw new BackupError('INVALID_ARGUMENT', 'records must be an iterable');
  }

  #add(item: ContentRecord | readonly ContentRecord[]): void {
    if (Array.isArray(item)) {
      for (const record of item as readonly ContentRecord[]) this.#addOne(record);
    } else {
      this.#addOne(item as ContentRecord);
    }
  }

  #addOne(record: ContentRecord): void {
    if ((record as { type?: unknown }).type === 'backup-info') {
      throw new BackupError('INVALID_ARGUMENT', 'the writer adds BackupInfo itself');
    }
    this.#references.check(record);
    this.#batcher.add(record);
  }

  /** The next batch of encoded frames, or undefined after the last. */
  async next(): Promise<Uint8Array | undefined> {
    const batcher = this.#batcher;
    while (!this.#done && !batcher.full) {
      if (this.#sync !== undefined) {
        const it = this.#sync;
        // Synchronous sources fill a whole batch without awaiting.
        while (!batcher.full) {
          const r = it.next();
          if (r.done === true) {
            this.#done = true;
            break;
          }
          this.#add(r.value);
        }
      } else {
        const r = await this.#async!.next();
        if (r.done === true) this.#done = true;
        else this.#add(r.value);
      }
    }
    if (batcher.size === 0) return undefined;
    return this.#reuse ? batcher.takeView() : batcher.take();
  }

  async cancel(): Promise<void> {
    this.#done = true;
    this.#sync?.return?.();
    await this.#async?.return?.();
  }
}

function checkOptions(options: CreateBackupOptions): {
  compression: Compression;
  chunkSize: number;
  app: string;
  createdAtMs: number;
} {
  const compression = options.compression ?? 'deflate-raw';
  if (compression !== 'none' && compression !== 'deflate-raw') {
    throw new BackupError('INVALID_ARGUMENT', "compression is 'none' or 'deflate-raw'");
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new BackupError(
      'INVALID_ARGUMENT',
      `chunkSize must be an integer in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`,
    );
  }
  const app = options.app ?? '';
  if (typeof app !== 'string' || app.length > MAX_APP_NAME_LENGTH) {
    throw new BackupError('INVALID_ARGUMENT', `app is a string of at most ${MAX_APP_NAME_LENGTH}`);
  }
  const createdAtMs = options.createdAtMs ?? Date.now();
  if (!Number.isSafeInteger(createdAtMs) || createdAtMs < 0) {
    throw new BackupError('INVALID_ARGUMENT', 'createdAtMs must be a safe integer ≥ 0');
  }
  return { compression, chunkSize, app, createdAtMs };
}

/**
 * Encrypts `records` into an archive. Throws synchronously on bad options; errors while
 * reading records (or a record that does not encode) error the returned stream.
 */
export function createBackup(
  records: RecordSource,
  options: CreateBackupOptions,
): ReadableStream<Uint8Array> {
  const { compression, chunkSize, app, createdAtMs } = checkOptions(options);
  const random = options.random ?? randomBytes;
  const backupId = random(BACKUP_ID_LENGTH);
  if (!(backupId instanceof Uint8Array) || backupId.length !== BACKUP_ID_LENGTH) {
    throw new BackupError('INVALID_ARGUMENT', `random must return ${BACKUP_ID_LENGTH} bytes`);
  }
  const keys = deriveArchiveKeys(options.backupKey, backupId);
  const header = encodeHeader(
    { backupId, compression, chunkSize, keySlots: options.keySlots ?? [] },
    keys,
  );
  const macOffset = header.length - 32;
  const sealer = new ChunkSealer(
    new ChunkCipher(keys.chunkKey, keys.noncePrefix, header.subarray(macOffset)),
    chunkSize,
  );
  // Uncompressed batches go straight into the sealer, which copies them synchronously, so one
  // buffer can be reused; the compressor may hold a batch while it works, so it gets fresh ones.
  const frames = new FrameSource(
    records,
    { type: 'backup-info', schemaVersion: SCHEMA_VERSION, createdAtMs, app },
    compression === 'none',
  );

  let nextBody: () => Promise<Uint8Array | undefined>;
  let cancelBody: (reason?: unknown) => Promise<void>;
  if (compression === 'deflate-raw') {
    const compressed = pumpThrough(
      new CompressionStream('deflate-raw'),
      () => frames.next(),
      () => frames.cancel(),
    );
    nextBody = () => compressed.read();
    cancelBody = (reason) => compressed.cancel(reason);
  } else {
    nextBody = () => frames.next();
    cancelBody = () => frames.cancel();
  }

  let headerSent = false;
  let bodyDone = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!headerSent) {
            headerSent = true;
            controller.enqueue(header);
            return;
          }
          for (;;) {
            const ready = sealer.take();
            if (ready !== undefined) {
              controller.enqueue(ready);
              return;
            }
            if (!bodyDone) {
              const piece = await nextBody();
              if (piece === undefined) {
                bodyDone = true;
                sealer.finish();
              } else {
                sealer.write(piece);
              }
              continue;
            }
            const chunk = sealer.next();
            if (chunk !== undefined) {
              controller.enqueue(chunk);
              return;
            }
            wipeArchiveKeys(keys);
            controller.close();
            return;
          }
        } catch (err) {
          wipeArchiveKeys(keys);
          await cancelBody(err).catch(() => undefined);
          throw err;
        }
      },
      async cancel(reason) {
        wipeArchiveKeys(keys);
        await cancelBody(reason);
      },
    },
    { highWaterMark: 1 },
  );
}
