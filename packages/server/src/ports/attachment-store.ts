/**
 * The attachment blob port: client-encrypted bytes by id. The metadata (owner, size, age) lives in
 * the storage port; this port holds only the bytes. Filesystem (attachments/file-store.ts) and
 * memory (attachments/memory-store.ts) implementations; S3-compatible stores fit the same shape.
 */
import type { Readable } from 'node:stream';

export interface AttachmentStore {
  /**
   * Streams `source` into a blob named `id`. Rejects with `ApiError('PAYLOAD_TOO_LARGE')` as soon
   * as more than `maxBytes` arrive, leaving nothing behind. Resolves with the size written.
   */
  write(id: string, source: Readable, maxBytes: number): Promise<number>;
  /** The blob's bytes, or `undefined` when there is none. */
  read(id: string): Promise<Readable | undefined>;
  delete(id: string): Promise<void>;
  /**
   * Every complete blob with the time of its last write (ms since the epoch), in no order: the
   * sweeper finds blobs no row points at (a crash between writing a blob and recording it).
   */
  list(): AsyncIterable<{ readonly id: string; readonly writtenAt: number }>;
}
