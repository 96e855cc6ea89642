/**
 * The storage port for archives (docs/backups.md "Storage"): named ciphertext objects, written
 * and read as streams so a 1 GiB archive never sits in memory. Storage sees only ciphertext; it
 * is trusted for availability, not for secrecy or integrity (the archive authenticates itself).
 *
 * Adapters: `MemoryBackupStorage` (here), `LocalDirectoryStorage` (`@sotto/backup/node`),
 * `RelayBackupStorage` (`@sotto/client`, the relay's `/v1/backups`) and `S3BackupStorage`
 * (`@sotto/backup-storage-s3`). Each runs `describeBackupStorageConformance` from
 * `@sotto/backup/testing`.
 */
import { BackupError } from '../errors.js';
import { ByteInput, type ByteSource } from '../format/byte-input.js';
import { MAX_OBJECT_NAME_LENGTH } from '../limits.js';

export interface BackupObjectInfo {
  readonly name: string;
  /** Bytes. */
  readonly size: number;
}

export interface BackupStorage {
  /**
   * Stores `data` under `name`, replacing an object of that name only once all of it is stored
   * (a failed or cancelled write leaves the old object, or none, never a partial one).
   */
  put(name: string, data: ByteSource): Promise<BackupObjectInfo>;
  /** The object's bytes as a stream; STORAGE_NOT_FOUND if there is none. */
  get(name: string): Promise<ReadableStream<Uint8Array>>;
  /** Objects, sorted by name. */
  list(): Promise<readonly BackupObjectInfo[]>;
  /** True if an object was deleted. */
  delete(name: string): Promise<boolean>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Object names: 1..200 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`, `_` or `-`
 * (so no path separators, no hidden or temporary files, no `..`).
 */
export function isObjectName(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_OBJECT_NAME_LENGTH && NAME.test(name);
}

/** `name` if it is a valid object name; INVALID_ARGUMENT otherwise. */
export function checkObjectName(name: string): string {
  if (!isObjectName(name)) {
    throw new BackupError(
      'INVALID_ARGUMENT',
      'a backup object name is 1-200 of A-Z a-z 0-9 . _ - (not leading . _ -)',
    );
  }
  return name;
}

/** Reads a byte source piece by piece (`undefined` at the end). */
export async function* pieces(source: ByteSource, pieceSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const input = new ByteInput(source);
  for (;;) {
    const piece = await input.read(pieceSize);
    if (piece.length === 0) return;
    yield piece;
  }
}

/** Runs `f` and reports its result or its exception as a promise. */
function settle<T>(f: () => T): Promise<T> {
  return new Promise((resolve) => resolve(f()));
}

/** Keeps objects in memory: tests, examples, and browsers without another store. */
export class MemoryBackupStorage implements BackupStorage {
  readonly #objects = new Map<string, Uint8Array[]>();

  async put(name: string, data: ByteSource): Promise<BackupObjectInfo> {
    checkObjectName(name);
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const piece of pieces(data)) {
      parts.push(piece.slice());
      size += piece.length;
    }
    this.#objects.set(name, parts);
    return { name, size };
  }

  get(name: string): Promise<ReadableStream<Uint8Array>> {
    return settle(() => {
      checkObjectName(name);
      const parts = this.#objects.get(name);
      if (parts === undefined)
        throw new BackupError('STORAGE_NOT_FOUND', `no backup object ${name}`);
      let i = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i < parts.length) controller.enqueue(parts[i++]!.slice());
          else controller.close();
        },
      });
    });
  }

  list(): Promise<readonly BackupObjectInfo[]> {
    return Promise.resolve(
      [...this.#objects.entries()]
        .map(([name, parts]) => ({ name, size: parts.reduce((n, p) => n + p.length, 0) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
  }

  delete(name: string): Promise<boolean> {
    return settle(() => this.#objects.delete(checkObjectName(name)));
  }
}
