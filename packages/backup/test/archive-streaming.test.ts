// Streaming behaviour of createBackup/openBackup: backpressure (records are pulled only as the
// consumer reads), cancellation in both directions releases the source, and a bad record errors
// the stream with a clear code, with and without compression.
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  BackupKey,
  createBackup,
  openBackup,
  type ContentRecord,
} from '../src/index.js';
import { syntheticHistory } from '../src/testing/index.js';
import { collect } from './helpers.js';

const compressions = ['none', 'deflate-raw'] as const;

describe('archive streaming', () => {
  for (const compression of compressions) {
    it(`pulls records only as fast as ciphertext is read (compression ${compression})`, async () => {
      let pulled = 0;
      let closed = false;
      const source = (function* () {
        try {
          for (const r of syntheticHistory({ targetBytes: 64 << 20, seed: 1 })) {
            pulled++;
            yield r;
          }
        } finally {
          closed = true;
        }
      })();
      const reader = createBackup(source, {
        backupKey: BackupKey.generate(),
        compression,
      }).getReader();
      for (let i = 0; i < 3; i++) await reader.read();
      // Three pieces out (header + two chunks): a few MiB of records at most, not 64 MiB.
      expect(pulled).toBeGreaterThan(0);
      expect(pulled).toBeLessThan(60_000);
      await reader.cancel('enough');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(closed).toBe(true);
    });

    it(`errors the stream with INVALID_ARGUMENT on a bad record (compression ${compression})`, async () => {
      const records: unknown[] = [
        ...syntheticHistory({ targetBytes: 500_000, seed: 2 }),
        { type: 'message', messageId: 1, conversationId: 999_999 },
      ];
      const err = await collect(
        createBackup(records as ContentRecord[], { backupKey: BackupKey.generate(), compression }),
      ).catch((e: unknown) => e);
      expect(BackupError.is(err, 'INVALID_ARGUMENT')).toBe(true);
    });

    it(`cancels the source when the reader stops early (compression ${compression})`, async () => {
      const key = BackupKey.generate();
      const archive = await collect(
        createBackup(syntheticHistory({ targetBytes: 4 << 20, seed: 3 }), {
          backupKey: key,
          compression,
          chunkSize: 65_536,
        }),
      );
      let cancelled = false;
      let offset = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= archive.length) return controller.close();
          controller.enqueue(archive.slice(offset, offset + 10_000));
          offset += 10_000;
        },
        cancel() {
          cancelled = true;
        },
      });
      const reader = await openBackup(stream, key);
      for await (const batch of reader.batches()) {
        expect(batch.length).toBeGreaterThan(0);
        break;
      }
      expect(cancelled).toBe(true);
      expect(offset).toBeLessThan(archive.length);
    });
  }

  it('refuses invalid options synchronously', () => {
    const backupKey = BackupKey.generate();
    for (const options of [
      { backupKey, chunkSize: 100 },
      { backupKey, chunkSize: 2 ** 25 },
      { backupKey, compression: 'gzip' as 'none' },
      { backupKey, app: 'x'.repeat(65) },
      { backupKey, createdAtMs: -1 },
      { backupKey: 'not a key' as unknown as BackupKey },
    ]) {
      expect(() => createBackup([], options)).toThrow(
        expect.objectContaining({ name: 'BackupError' }),
      );
    }
  });

  it('reads an archive only once', async () => {
    const key = BackupKey.generate();
    const reader = await openBackup([await collect(createBackup([], { backupKey: key }))], key);
    for await (const _ of reader.batches()) void _;
    await expect(reader.batches().next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
