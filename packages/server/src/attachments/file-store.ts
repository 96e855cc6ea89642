/**
 * Attachment blobs as files in one directory: written to `<id>.part`, renamed to `<id>` after the
 * last byte and an fsync, so a reader never sees half a blob and a crash leaves only `.part` files
 * (removed at start). The bytes are client-encrypted; the server never interprets them.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentStore } from '../ports/attachment-store.js';
import { assertBlobId, isBlobId, SizeLimit } from './size-limit.js';

export class FileAttachmentStore implements AttachmentStore {
  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FileAttachmentStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      if (name.endsWith('.part')) await rm(join(dir, name), { force: true });
    }
    return new FileAttachmentStore(dir);
  }

  async write(id: string, source: Readable, maxBytes: number): Promise<number> {
    assertBlobId(id);
    const final = join(this.dir, id);
    const part = `${final}.part`;
    const limit = new SizeLimit(maxBytes);
    try {
      await pipeline(source, limit, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
      const handle = await open(part, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(part, final);
      return limit.bytes;
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
  }

  async read(id: string): Promise<Readable | undefined> {
    assertBlobId(id);
    const path = join(this.dir, id);
    try {
      await stat(path);
    } catch {
      return undefined;
    }
    return createReadStream(path);
  }

  async delete(id: string): Promise<void> {
    assertBlobId(id);
    await rm(join(this.dir, id), { force: true });
  }

  async *list(): AsyncIterable<{ readonly id: string; readonly writtenAt: number }> {
    for (const name of await readdir(this.dir)) {
      if (!isBlobId(name)) continue; // `.part` files and anything else are not complete blobs
      try {
        yield { id: name, writtenAt: (await stat(join(this.dir, name))).mtimeMs };
      } catch {
        // deleted meanwhile
      }
    }
  }
}
