// Shared helpers for the archive tests.
import {
  BackupError,
  openBackup,
  type BackupKey,
  type BackupRecord,
  type ByteSource,
  type RecoveryKey,
} from '../src/index.js';

export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  return concat(parts, size);
}

export function concat(
  parts: readonly Uint8Array[],
  size = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits an archive into its header and its sealed chunks (all chunkSize + 16 but the last). */
export function splitArchive(archive: Uint8Array): { header: Uint8Array; chunks: Uint8Array[] } {
  const headerLength = (archive[10]! << 8) | archive[11]!;
  const chunkSize = new DataView(archive.buffer, archive.byteOffset).getUint32(32);
  const header = archive.slice(0, headerLength);
  const chunks: Uint8Array[] = [];
  for (let o = headerLength; o < archive.length; o += chunkSize + 16) {
    chunks.push(archive.slice(o, Math.min(o + chunkSize + 16, archive.length)));
  }
  return { header, chunks };
}

export async function restoreAll(
  source: ByteSource,
  key: BackupKey | RecoveryKey,
): Promise<BackupRecord[]> {
  const reader = await openBackup(source, key);
  const out: BackupRecord[] = [];
  for await (const batch of reader.batches()) out.push(...batch);
  return out;
}

/** The BackupError code of a failed restore (records yielded before the failure are counted). */
export async function restoreError(
  source: ByteSource,
  key: BackupKey | RecoveryKey,
): Promise<{ code: string | undefined; recordsBefore: number; opened: boolean }> {
  let recordsBefore = 0;
  let opened = false;
  try {
    const reader = await openBackup(source, key);
    opened = true;
    for await (const batch of reader.batches()) recordsBefore += batch.length;
  } catch (err) {
    if (!BackupError.is(err)) throw err;
    return { code: err.code, recordsBefore, opened };
  }
  return { code: undefined, recordsBefore, opened };
}

/** Splits bytes into pieces of the given sizes (cycled). */
export function pieces(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}
