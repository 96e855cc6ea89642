// Archive round trips (docs/backup-format.md): a large synthetic history with and without
// compression, every chunk size regime, any split of the input, async sources, recovery keys,
// and length hiding (archives of histories in one Padmé bucket have equal sizes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackupKey,
  RecoveryKey,
  createBackup,
  openBackup,
  padme,
  recoveryKeySlot,
  type BackupRecord,
  type ContentRecord,
} from '../src/index.js';
import { MIN_PADDED_BODY_LENGTH } from '../src/limits.js';
import { encodeRecords, syntheticHistory } from '../src/testing/index.js';
import { history as arbitraryHistory } from './arbitraries.js';
import { collect, pieces, restoreAll, splitArchive } from './helpers.js';

const CREATED = 1_750_000_000_000;

function withoutInfo(records: BackupRecord[]): BackupRecord[] {
  expect(records[0]).toEqual({
    type: 'backup-info',
    schemaVersion: 1,
    createdAtMs: CREATED,
    app: 'sotto-test/1',
  });
  return records.slice(1);
}

describe('archive round trip', () => {
  const large: ContentRecord[] = [...syntheticHistory({ targetBytes: 24 << 20, seed: 3 })];

  for (const compression of ['none', 'deflate-raw'] as const) {
    it(`restores a 24 MiB synthetic history exactly (compression ${compression})`, async () => {
      const key = BackupKey.generate();
      const archive = await collect(
        createBackup(large, {
          backupKey: key,
          compression,
          app: 'sotto-test/1',
          createdAtMs: CREATED,
        }),
      );
      const body = encodeRecords(large).length;
      if (compression === 'none') expect(archive.length).toBeGreaterThan(body);
      else expect(archive.length).toBeLessThan(body * 0.6);
      // Read back from pieces of awkward sizes.
      const restored = await restoreAll(pieces(archive, [1, 100_003, 1 << 20, 7]), key);
      expect(restored.length).toBe(large.length + 1);
      expect(withoutInfo(restored)).toEqual(large);
    }, 120_000);
  }

  it('round-trips arbitrary histories for every chunk size regime and input split', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryHistory,
        fc.constantFrom(1024, 1500, 4096, 65_536),
        fc.constantFrom('none' as const, 'deflate-raw' as const),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 }),
        async (records, chunkSize, compression, sizes) => {
          const key = BackupKey.generate();
          const archive = await collect(
            createBackup(records, {
              backupKey: key,
              chunkSize,
              compression,
              app: 'sotto-test/1',
              createdAtMs: CREATED,
            }),
          );
          expect(withoutInfo(await restoreAll(pieces(archive, sizes), key))).toEqual(records);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('accepts async sources yielding records or arrays of records', async () => {
    const records = [...syntheticHistory({ targetBytes: 200_000, seed: 9 })];
    async function* source() {
      await Promise.resolve();
      for (let i = 0; i < records.length; i += 7) {
        yield i % 2 === 0 ? records.slice(i, i + 7) : records.slice(i, i + 7);
        if (i % 14 === 7) for (const r of records.slice(i + 7, i + 14)) yield r;
        if (i % 14 === 7) i += 7;
      }
    }
    const key = BackupKey.generate();
    const archive = await collect(
      createBackup(source(), { backupKey: key, app: 'sotto-test/1', createdAtMs: CREATED }),
    );
    expect(withoutInfo(await restoreAll([archive], key))).toEqual(records);
  });

  it('restores an empty history (BackupInfo only) and yields records one by one', async () => {
    const key = BackupKey.generate();
    const archive = await collect(
      createBackup([], { backupKey: key, app: 'sotto-test/1', createdAtMs: CREATED }),
    );
    const reader = await openBackup(new Blob([archive]).stream(), key);
    const out: BackupRecord[] = [];
    for await (const r of reader.records()) out.push(r);
    expect(withoutInfo(out)).toEqual([]);
  });

  it('opens with the recovery key through the header slot, and exposes public header facts', async () => {
    const key = BackupKey.generate();
    const recoveryKey = RecoveryKey.generate();
    const records = [...syntheticHistory({ targetBytes: 50_000, seed: 4 })];
    const archive = await collect(
      createBackup(records, {
        backupKey: key,
        keySlots: [recoveryKeySlot(key, recoveryKey)],
        app: 'sotto-test/1',
        createdAtMs: CREATED,
        chunkSize: 8192,
      }),
    );
    const reader = await openBackup([archive], RecoveryKey.parse(recoveryKey.reveal()));
    expect(reader.archive).toMatchObject({
      formatVersion: 1,
      compression: 'deflate-raw',
      chunkSize: 8192,
      hasRecoveryKeySlot: true,
    });
    expect(reader.archive.backupId).toMatch(/^[0-9a-f]{32}$/);
    const out: BackupRecord[] = [];
    for await (const batch of reader.batches()) out.push(...batch);
    expect(withoutInfo(out)).toEqual(records);
  });

  it('uses a fresh backup id, so two archives of the same history share no ciphertext', async () => {
    const key = BackupKey.generate();
    const records = [...syntheticHistory({ targetBytes: 30_000, seed: 5 })];
    const a = splitArchive(
      await collect(
        createBackup(records, { backupKey: key, compression: 'none', chunkSize: 1024 }),
      ),
    );
    const b = splitArchive(
      await collect(
        createBackup(records, { backupKey: key, compression: 'none', chunkSize: 1024 }),
      ),
    );
    expect(a.header.subarray(12, 28)).not.toEqual(b.header.subarray(12, 28));
    const seen = new Set(a.chunks.map((c) => Buffer.from(c.subarray(0, 32)).toString('hex')));
    for (const c of b.chunks)
      expect(seen.has(Buffer.from(c.subarray(0, 32)).toString('hex'))).toBe(false);
  });
});

describe('length hiding', () => {
  async function archiveSize(bodyBytes: number, chunkSize: number): Promise<number> {
    // One setting record whose value makes the body exactly `bodyBytes` long (with BackupInfo).
    const key = BackupKey.generate();
    const overhead = 64; // BackupInfo, the frame around the value, chunk length fields (approx.)
    const value = new Uint8Array(Math.max(0, bodyBytes - overhead));
    const archive = await collect(
      createBackup([{ type: 'setting', key: 'k', value }], {
        backupKey: key,
        compression: 'none',
        chunkSize,
        createdAtMs: CREATED,
      }),
    );
    return archive.length;
  }

  it('gives histories in the same Padmé bucket the same archive size', async () => {
    // Around 1 MB Padmé buckets are 16 KiB wide: (999,424, 1,015,808] is one of them.
    expect(padme(1_002_000)).toBe(1_015_808);
    expect(padme(1_012_000)).toBe(1_015_808);
    const [a, b] = [await archiveSize(1_002_000, 65_536), await archiveSize(1_012_000, 65_536)];
    expect(a).toBe(b);
    // ... while a body in the next bucket gives a larger archive.
    expect(await archiveSize(1_030_000, 65_536)).toBeGreaterThan(a);
  });

  it('makes every near-empty archive the same size', async () => {
    const sizes = new Set<number>();
    for (const n of [0, 100, 1000, MIN_PADDED_BODY_LENGTH - 200])
      sizes.add(await archiveSize(n, 1024));
    expect(sizes.size).toBe(1);
  });
});
