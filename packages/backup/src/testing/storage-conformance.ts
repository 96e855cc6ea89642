/**
 * The BackupStorage port's conformance suite (CONVENTIONS.md test layer 5), run by every adapter:
 * `describeBackupStorageConformance('local directory', async () => new LocalDirectoryStorage(dir))`.
 * It checks streaming round trips (any source shape), replace-on-put that is all-or-nothing when
 * the source fails, listing, deletion, and the object-name rules (no path traversal).
 */
import { bytesEqual, randomBytes } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
import type { BackupStorage } from '../storage/backup-storage.js';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function split(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const n = sizes[i++ % sizes.length]!;
    out.push(bytes.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

export function describeBackupStorageConformance(
  name: string,
  open: () => Promise<BackupStorage>,
): void {
  describe(`backup storage conformance: ${name}`, () => {
    it('stores and returns bytes from arrays, async iterables and web streams', async () => {
      const storage = await open();
      const data = randomBytes(3 * (1 << 20) + 123);
      const info = await storage.put('from-array.sbk', split(data, [1, 1000, 65_536, 1 << 20]));
      expect(info).toEqual({ name: 'from-array.sbk', size: data.length });
      expect(bytesEqual(await readAll(await storage.get('from-array.sbk')), data)).toBe(true);

      async function* gen() {
        for (const piece of split(data, [77_777])) yield await Promise.resolve(piece);
      }
      await storage.put('from-async', gen());
      expect(bytesEqual(await readAll(await storage.get('from-async')), data)).toBe(true);

      const parts = split(data, [500_000]);
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = parts.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(next);
        },
      });
      await storage.put('from-stream', stream);
      expect(bytesEqual(await readAll(await storage.get('from-stream')), data)).toBe(true);
    });

    it('stores an empty object', async () => {
      const storage = await open();
      expect(await storage.put('empty', [])).toEqual({ name: 'empty', size: 0 });
      expect((await readAll(await storage.get('empty'))).length).toBe(0);
    });

    it('reports a missing object as STORAGE_NOT_FOUND', async () => {
      const storage = await open();
      await expect(storage.get('missing')).rejects.toSatisfy((e) =>
        BackupError.is(e, 'STORAGE_NOT_FOUND'),
      );
    });

    it('replaces an object, lists objects by name and deletes them', async () => {
      const storage = await open();
      await storage.put('b-backup', [randomBytes(10)]);
      await storage.put('a-backup', [randomBytes(20)]);
      const newer = randomBytes(30);
      await storage.put('b-backup', [newer]);
      expect(bytesEqual(await readAll(await storage.get('b-backup')), newer)).toBe(true);
      const listed = (await storage.list()).filter((o) => o.name.endsWith('-backup'));
      expect(listed).toEqual([
        { name: 'a-backup', size: 20 },
        { name: 'b-backup', size: 30 },
      ]);
      expect(await storage.delete('a-backup')).toBe(true);
      expect(await storage.delete('a-backup')).toBe(false);
      expect((await storage.list()).map((o) => o.name)).not.toContain('a-backup');
    });

    it('keeps the old object when a write fails part-way', async () => {
      const storage = await open();
      const old = randomBytes(1000);
      await storage.put('atomic', [old]);
      const before = await storage.list();
      async function* failing() {
        yield await Promise.resolve(randomBytes(70_000));
        yield randomBytes(70_000);
        throw new Error('source failed');
      }
      await expect(storage.put('atomic', failing())).rejects.toThrow();
      expect(bytesEqual(await readAll(await storage.get('atomic')), old)).toBe(true);
      expect(await storage.list()).toEqual(before);
      await expect(storage.put('never-written', failing())).rejects.toThrow();
      await expect(storage.get('never-written')).rejects.toSatisfy((e) =>
        BackupError.is(e, 'STORAGE_NOT_FOUND'),
      );
    });

    it('refuses names that could escape or hide', async () => {
      const storage = await open();
      for (const bad of [
        '',
        '../x',
        'a/b',
        'a\\b',
        '.hidden',
        '-dash',
        '_under',
        'x'.repeat(201),
        'nul\u0000',
      ]) {
        await expect(storage.put(bad, [])).rejects.toSatisfy((e) =>
          BackupError.is(e, 'INVALID_ARGUMENT'),
        );
        await expect(storage.get(bad)).rejects.toSatisfy((e) =>
          BackupError.is(e, 'INVALID_ARGUMENT'),
        );
      }
    });
  });
}
