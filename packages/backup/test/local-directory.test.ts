// The local-directory adapter beyond the conformance suite: no temporary files left behind,
// files only inside the directory, owner-only permissions, and an archive restored from disk.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupKey, createBackup, openBackup } from '../src/index.js';
import { LocalDirectoryStorage } from '../src/node.js';
import { syntheticHistory } from '../src/testing/index.js';

describe('LocalDirectoryStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sotto-local-dir-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no temporary file when a write fails, and hides foreign files', async () => {
    const storage = new LocalDirectoryStorage(dir);
    async function* failing() {
      yield await Promise.resolve(new Uint8Array(10));
      throw new Error('boom');
    }
    await expect(storage.put('x', failing())).rejects.toMatchObject({ code: 'STORAGE_IO' });
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, '.tmp-leftover'), 'x');
    await writeFile(join(dir, 'has space'), 'x');
    expect(await storage.list()).toEqual([]);
  });

  it('writes owner-only files', async () => {
    const storage = new LocalDirectoryStorage(dir);
    await storage.put('b1', [new Uint8Array(5)]);
    expect((await stat(join(dir, 'b1'))).mode & 0o077).toBe(0);
  });

  it('stores an archive as it is created and restores it from disk', async () => {
    const storage = new LocalDirectoryStorage(dir);
    const key = BackupKey.generate();
    const records = [...syntheticHistory({ targetBytes: 2 << 20, seed: 6 })];
    const info = await storage.put('backup-1.sbk', createBackup(records, { backupKey: key }));
    expect(info.size).toBe((await stat(join(dir, 'backup-1.sbk'))).size);
    const reader = await openBackup(await storage.get('backup-1.sbk'), key);
    let count = 0;
    for await (const batch of reader.batches()) count += batch.length;
    expect(count).toBe(records.length + 1);
  });

  it('reports a missing directory as STORAGE_IO', async () => {
    const storage = new LocalDirectoryStorage(join(dir, 'missing'));
    await expect(storage.put('x', [new Uint8Array(1)])).rejects.toMatchObject({
      code: 'STORAGE_IO',
    });
    await expect(storage.list()).rejects.toMatchObject({ code: 'STORAGE_IO' });
  });
});
