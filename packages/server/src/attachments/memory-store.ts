/** Attachment blobs in memory, for tests and throw-away servers. */
import { Readable } from 'node:stream';
import type { AttachmentStore } from '../ports/attachment-store.js';
import { assertBlobId, SizeLimit } from './size-limit.js';

export class MemoryAttachmentStore implements AttachmentStore {
  private readonly blobs = new Map<string, Buffer>();
  private readonly writtenAt = new Map<string, number>();

  /** `now` stamps each write (tests pass the server's clock). */
  constructor(private readonly now: () => number = Date.now) {}

  async write(id: string, source: Readable, maxBytes: number): Promise<number> {
    assertBlobId(id);
    const limit = new SizeLimit(maxBytes);
    const chunks: Buffer[] = [];
    source.on('error', (e) => limit.destroy(e));
    for await (const chunk of source.pipe(limit)) chunks.push(chunk as Buffer);
    const blob = Buffer.concat(chunks);
    this.blobs.set(id, blob);
    this.writtenAt.set(id, this.now());
    return blob.length;
  }

  read(id: string): Promise<Readable | undefined> {
    assertBlobId(id);
    const blob = this.blobs.get(id);
    return Promise.resolve(blob === undefined ? undefined : Readable.from([blob]));
  }

  delete(id: string): Promise<void> {
    this.blobs.delete(id);
    this.writtenAt.delete(id);
    return Promise.resolve();
  }

  async *list(): AsyncIterable<{ readonly id: string; readonly writtenAt: number }> {
    for (const [id, writtenAt] of [...this.writtenAt]) {
      await Promise.resolve();
      yield { id, writtenAt };
    }
  }

  get size(): number {
    return this.blobs.size;
  }
}
