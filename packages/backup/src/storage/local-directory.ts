/**
 * The local-directory storage adapter (docs/backups.md "Storage"): one file per archive in a
 * directory. Node only (it imports `node:fs`), so it is exported from `@sotto/backup/node`, never
 * from the browser-safe main entry.
 *
 * A write goes to a temporary file (`.tmp-<random>`, hidden from `list`) that is flushed to disk
 * and then renamed over the final name, so readers see the old object or the new one, never a
 * partial one; the directory is synced after the rename where the platform allows it.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../errors.js';
import type { ByteSource } from '../format/byte-input.js';
import { STORAGE_READ_SIZE } from '../limits.js';
import {
  checkObjectName,
  isObjectName,
  pieces,
  type BackupObjectInfo,
  type BackupStorage,
} from './backup-storage.js';

function io(action: string, cause: unknown): BackupError {
  if (BackupError.is(cause)) return cause;
  return new BackupError('STORAGE_IO', `local directory: ${action} failed`, { cause });
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}

export class LocalDirectoryStorage implements BackupStorage {
  readonly directory: string;

  /** `directory` must exist. */
  constructor(directory: string) {
    this.directory = directory;
  }

  async put(name: string, data: ByteSource): Promise<BackupObjectInfo> {
    const target = join(this.directory, checkObjectName(name));
    const temp = join(this.directory, `.tmp-${randomBytes(12).toString('hex')}`);
    let file: FileHandle | undefined;
    let size = 0;
    try {
      file = await open(temp, 'wx', 0o600);
      for await (const piece of pieces(data)) {
        let offset = 0;
        while (offset < piece.length) {
          const { bytesWritten } = await file.write(piece, offset, piece.length - offset);
          offset += bytesWritten;
        }
        size += piece.length;
      }
      await file.sync();
      await file.close();
      file = undefined;
      await rename(temp, target);
    } catch (err) {
      await file?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw io(`writing ${name}`, err);
    }
    await this.#syncDirectory();
    return { name, size };
  }

  async get(name: string): Promise<ReadableStream<Uint8Array>> {
    const path = join(this.directory, checkObjectName(name));
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (err) {
      if (isNotFound(err)) throw new BackupError('STORAGE_NOT_FOUND', `no backup object ${name}`);
      throw io(`opening ${name}`, err);
    }
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await file.close();
      }
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const buffer = new Uint8Array(STORAGE_READ_SIZE);
          const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) {
            await close();
            controller.close();
          } else {
            controller.enqueue(
              bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead),
            );
          }
        } catch (err) {
          await close().catch(() => undefined);
          throw io(`reading ${name}`, err);
        }
      },
      async cancel() {
        await close();
      },
    });
  }

  async list(): Promise<readonly BackupObjectInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (err) {
      throw io('listing', err);
    }
    const out: BackupObjectInfo[] = [];
    for (const name of names.sort()) {
      if (!isObjectName(name)) continue;
      try {
        const s = await stat(join(this.directory, name));
        if (s.isFile()) out.push({ name, size: s.size });
      } catch (err) {
        if (!isNotFound(err)) throw io('listing', err);
      }
    }
    return out;
  }

  async delete(name: string): Promise<boolean> {
    const path = join(this.directory, checkObjectName(name));
    try {
      await rm(path);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw io(`deleting ${name}`, err);
    }
    await this.#syncDirectory();
    return true;
  }

  async #syncDirectory(): Promise<void> {
    // Makes the rename durable on POSIX; some platforms cannot open a directory: best effort.
    try {
      const dir = await open(this.directory, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // ignored (e.g. Windows)
    }
  }
}
