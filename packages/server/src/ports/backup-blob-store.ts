/**
 * The backup blob port: the bytes of client-encrypted backup archives, by a random server-chosen
 * id. It has the attachment blob port's shape (ports/attachment-store.ts), so the same adapters
 * serve it — `FileAttachmentStore` on a directory of its own (apps/server uses
 * `<dataDir>/backups`), `MemoryAttachmentStore` in tests — and an S3-compatible store would fit
 * both. Names, sizes and times live in the storage port (`BackupRecord`); this port holds only
 * bytes, written whole before the storage port points at them (routes/backups.ts).
 */
import type { AttachmentStore } from './attachment-store.js';

export type BackupBlobStore = AttachmentStore;
