/**
 * Restoring an archive (docs/backup-format.md §7): the header is read and authenticated before
 * anything else (a wrong key fails in `openBackup`, before any record), then chunks are opened one
 * at a time, decompressed if needed (`DecompressionStream`) and decoded into records. Each chunk
 * is authenticated before its bytes are used, but truncation can only be noticed at the end: a
 * client must import records into a staging area and commit only when iteration completes.
 */
import { toHex } from '@sotto/crypto';
import { BackupError } from '../errors.js';
import { BackupKey } from '../keys/backup-key.js';
import {
  RecoveryKey,
  openRecoveryKeySlot,
  RECOVERY_KEY_SLOT_TYPE,
  type KeySlot,
} from '../keys/recovery-key.js';
import { ByteInput, type ByteSource } from './byte-input.js';
import { ChunkCipher } from './chunk-cipher.js';
import { ChunkOpener } from './chunk-stream.js';
import {
  HEADER_PREFIX_LENGTH,
  deriveArchiveKeys,
  parseHeader,
  parseHeaderPrefix,
  verifyHeader,
  wipeArchiveKeys,
  type ArchiveKeys,
  type BackupHeader,
  type Compression,
} from './header.js';
import { pumpThrough } from './pump.js';
import { DECODE_BATCH_BYTES, RecordDecoder } from './record-stream.js';
import type { BackupRecord } from './records.js';

/** Public facts from an archive's header. */
export interface BackupArchiveInfo {
  readonly formatVersion: number;
  /** Hex of the 16-byte backup id. */
  readonly backupId: string;
  readonly compression: Compression;
  readonly chunkSize: number;
  readonly hasRecoveryKeySlot: boolean;
  /** The header's key slots (public: each wraps the backup key under some secret). */
  readonly keySlots: readonly KeySlot[];
}

export class BackupReader {
  readonly archive: BackupArchiveInfo;
  readonly #input: ByteInput;
  readonly #opener: ChunkOpener;
  readonly #keys: ArchiveKeys;
  readonly #compression: Compression;
  #started = false;

  /** @internal Use `openBackup`. */
  constructor(input: ByteInput, header: BackupHeader, keys: ArchiveKeys) {
    this.#input = input;
    this.#keys = keys;
    this.#compression = header.compression;
    this.#opener = new ChunkOpener(
      new ChunkCipher(keys.chunkKey, keys.noncePrefix, header.mac),
      input,
      header.chunkSize,
    );
    this.archive = {
      formatVersion: header.version,
      backupId: toHex(header.backupId),
      compression: header.compression,
      chunkSize: header.chunkSize,
      hasRecoveryKeySlot: header.keySlots.some((s) => s.type === RECOVERY_KEY_SLOT_TYPE),
      keySlots: header.keySlots,
    };
  }

  /**
   * The records in batches (about DECODE_BATCH_BYTES of frames each; never empty). The first
   * record is the BackupInfo. This is the fast path: one await per batch, not per record.
   * Can be iterated once. Errors are BackupErrors (TRUNCATED, CORRUPT_CHUNK, ...).
   */
  async *batches(): AsyncGenerator<BackupRecord[], void, undefined> {
    if (this.#started) throw new BackupError('INVALID_ARGUMENT', 'a backup can be read once');
    this.#started = true;
    const decoder = new RecordDecoder();
    let completed = false;
    const body = this.#bodyPieces();
    try {
      for (;;) {
        const piece = await body.next();
        if (piece === undefined) break;
        decoder.start(piece);
        let more = true;
        while (more) {
          const out: BackupRecord[] = [];
          more = decoder.next(out, DECODE_BATCH_BYTES);
          if (out.length > 0) yield out;
        }
      }
      decoder.finish();
      completed = true;
    } finally {
      wipeArchiveKeys(this.#keys);
      if (!completed) {
        // The source first: a pending read then ends, which lets the decompression pump stop.
        await this.#input.cancel().catch(() => undefined);
        await body.cancel().catch(() => undefined);
      }
    }
  }

  /** The records one by one (convenient; slower than `batches()` for large archives). */
  async *records(): AsyncGenerator<BackupRecord, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Stops reading and releases the source. */
  async cancel(): Promise<void> {
    wipeArchiveKeys(this.#keys);
    await this.#input.cancel();
  }

  #bodyPieces(): { next: () => Promise<Uint8Array | undefined>; cancel: () => Promise<void> } {
    const opener = this.#opener;
    if (this.#compression === 'none') {
      return { next: () => opener.next(), cancel: () => Promise.resolve() };
    }
    const inflated = pumpThrough(
      new DecompressionStream('deflate-raw'),
      () => opener.next(),
      () => Promise.resolve(),
    );
    return {
      next: async () => {
        try {
          return await inflated.read();
        } catch (err) {
          if (BackupError.is(err)) throw err;
          throw new BackupError('CORRUPT_RECORD', 'the body does not decompress', { cause: err });
        }
      },
      cancel: () => inflated.cancel(),
    };
  }
}

/**
 * Opens an archive with its backup key, or with a recovery key (through the header's
 * recovery-key slot). Reads and authenticates the header only; throws BAD_HEADER,
 * UNSUPPORTED_VERSION, BAD_KEY or NO_RECOVERY_SLOT before any record is produced.
 */
export async function openBackup(
  source: ByteSource,
  key: BackupKey | RecoveryKey,
): Promise<BackupReader> {
  if (!(key instanceof BackupKey) && !(key instanceof RecoveryKey)) {
    throw new BackupError('INVALID_ARGUMENT', 'key must be a BackupKey or a RecoveryKey');
  }
  const input = new ByteInput(source);
  try {
    const prefix = await input.read(HEADER_PREFIX_LENGTH);
    if (prefix.length < HEADER_PREFIX_LENGTH) {
      throw new BackupError('BAD_HEADER', 'not a Sotto backup (too short)');
    }
    const prefixCopy = prefix.slice();
    const length = parseHeaderPrefix(prefixCopy);
    const rest = await input.read(length - HEADER_PREFIX_LENGTH);
    if (rest.length < length - HEADER_PREFIX_LENGTH) {
      throw new BackupError('BAD_HEADER', 'the header is cut short');
    }
    const bytes = new Uint8Array(length);
    bytes.set(prefixCopy, 0);
    bytes.set(rest, HEADER_PREFIX_LENGTH);
    const header = parseHeader(bytes);
    const backupKey = key instanceof RecoveryKey ? openRecoveryKeySlot(header.keySlots, key) : key;
    const keys = deriveArchiveKeys(backupKey, header.backupId);
    if (key instanceof RecoveryKey) backupKey.wipe();
    try {
      verifyHeader(header, keys);
    } catch (err) {
      wipeArchiveKeys(keys);
      throw err;
    }
    return new BackupReader(input, header, keys);
  } catch (err) {
    await input.cancel().catch(() => undefined);
    throw err;
  }
}
