// Runs the port conformance suites (CONVENTIONS.md test layer 5) against this package's adapters.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryBackupStorage, MemoryVaultStore } from '../src/index.js';
import { LocalDirectoryStorage } from '../src/node.js';
import {
  describeBackupStorageConformance,
  describeVaultStoreConformance,
} from '../src/testing/index.js';

describeVaultStoreConformance('memory', () => Promise.resolve(new MemoryVaultStore()));
describeVaultStoreConformance('memory with random latency', () =>
  Promise.resolve(
    new MemoryVaultStore({
      delay: () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3))),
    }),
  ),
);

describeBackupStorageConformance('memory', () => Promise.resolve(new MemoryBackupStorage()));

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
describeBackupStorageConformance('local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sotto-backup-storage-'));
  dirs.push(dir);
  return new LocalDirectoryStorage(dir);
});
