// Tamper detection (docs/backup-format.md §5, §7): every flipped bit, dropped, reordered,
// duplicated, appended or spliced chunk and every truncation is rejected with a BackupError that
// names it; a wrong key is rejected before any record. Checked with and without compression.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BackupKey,
  createBackup,
  openBackup,
  type BackupRecord,
  type Compression,
} from '../src/index.js';
import { syntheticHistory } from '../src/testing/index.js';
import { collect, concat, restoreAll, restoreError, splitArchive } from './helpers.js';

const CHUNK = 1024;

interface Fixture {
  key: BackupKey;
  archive: Uint8Array;
  header: Uint8Array;
  chunks: Uint8Array[];
  records: BackupRecord[];
}

async function fixture(
  compression: Compression,
  targetBytes: number,
  seed: number,
): Promise<Fixture> {
  const key = BackupKey.generate();
  const history = [...syntheticHistory({ targetBytes, seed, contacts: 5, groups: 1 })];
  const archive = await collect(
    createBackup(history, { backupKey: key, compression, chunkSize: CHUNK }),
  );
  const { header, chunks } = splitArchive(archive);
  return { key, archive, header, chunks, records: await restoreAll([archive], key) };
}

for (const compression of ['none', 'deflate-raw'] as const) {
  describe(`tampering (compression ${compression})`, () => {
    let f: Fixture;
    /** Another archive under the same key: a source of chunks to splice in. */
    let other: { header: Uint8Array; chunks: Uint8Array[] };
    beforeAll(async () => {
      f = await fixture(compression, compression === 'none' ? 30_000 : 120_000, 1);
      const otherArchive = await collect(
        createBackup(
          [...syntheticHistory({ targetBytes: 30_000, seed: 2, contacts: 5, groups: 1 })],
          {
            backupKey: f.key,
            compression,
            chunkSize: CHUNK,
          },
        ),
      );
      other = splitArchive(otherArchive);
      expect(f.chunks.length).toBeGreaterThanOrEqual(8);
    });

    it('rejects any flipped bit', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat({ max: 7 }), async (position, bit) => {
          const bytes = f.archive.slice();
          const at = position % bytes.length;
          bytes[at]! ^= 1 << bit;
          const { code } = await restoreError([bytes], f.key);
          if (at >= f.header.length) expect(code).toBe('CORRUPT_CHUNK');
          else
            expect(['BAD_HEADER', 'BAD_KEY', 'UNSUPPORTED_VERSION', 'CORRUPT_CHUNK']).toContain(
              code,
            );
        }),
        { numRuns: 300 },
      );
    });

    it('rejects a flipped bit in every single chunk, yielding nothing from that chunk on', async () => {
      for (let i = 0; i < f.chunks.length; i++) {
        const chunks = f.chunks.map((c) => c.slice());
        chunks[i]![Math.floor(chunks[i]!.length / 2)]! ^= 0x20;
        const result = await restoreError([f.header, ...chunks], f.key);
        expect(result.code).toBe('CORRUPT_CHUNK');
        expect(result.recordsBefore).toBeLessThan(f.records.length);
      }
    });

    it('names a dropped final chunk TRUNCATED and any other dropped chunk CORRUPT_CHUNK', async () => {
      for (let i = 0; i < f.chunks.length; i++) {
        const chunks = f.chunks.filter((_, j) => j !== i);
        const { code } = await restoreError([f.header, ...chunks], f.key);
        expect(code).toBe(i === f.chunks.length - 1 ? 'TRUNCATED' : 'CORRUPT_CHUNK');
      }
      expect((await restoreError([f.header], f.key)).code).toBe('TRUNCATED');
    });

    it('rejects any reordering of chunks', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), async (a, b) => {
          const i = a % f.chunks.length;
          const j = b % f.chunks.length;
          fc.pre(i !== j);
          const chunks = [...f.chunks];
          [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
          const { code } = await restoreError([f.header, ...chunks], f.key);
          expect(['CORRUPT_CHUNK', 'TRUNCATED', 'TRAILING_DATA']).toContain(code);
        }),
        { numRuns: 60 },
      );
    });

    it('rejects duplicated and appended chunks', async () => {
      for (const i of [0, 1, f.chunks.length - 2, f.chunks.length - 1]) {
        const duplicated = [...f.chunks.slice(0, i + 1), f.chunks[i]!, ...f.chunks.slice(i + 1)];
        expect((await restoreError([f.header, ...duplicated], f.key)).code).toMatch(
          /^(CORRUPT_CHUNK|TRAILING_DATA)$/,
        );
      }
      const appended = await restoreError([f.archive, other.chunks[0]!], f.key);
      expect(appended.code).toMatch(/^(CORRUPT_CHUNK|TRAILING_DATA)$/);
      const junk = await restoreError([f.archive, Uint8Array.of(0)], f.key);
      expect(junk.code).toMatch(/^(CORRUPT_CHUNK|TRAILING_DATA)$/);
    });

    it('rejects chunks spliced in from another archive under the same key', async () => {
      const n = Math.min(f.chunks.length, other.chunks.length) - 1;
      for (let i = 0; i < n; i++) {
        const chunks = [...f.chunks];
        chunks[i] = other.chunks[i]!;
        expect((await restoreError([f.header, ...chunks], f.key)).code).toBe('CORRUPT_CHUNK');
      }
      // The other archive's header with this archive's chunks.
      expect((await restoreError([other.header, ...f.chunks], f.key)).code).toBe('CORRUPT_CHUNK');
    });

    it('rejects every truncation', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), async (n) => {
          const cut = n % f.archive.length;
          const { code } = await restoreError([f.archive.subarray(0, cut)], f.key);
          expect(['BAD_HEADER', 'TRUNCATED', 'CORRUPT_CHUNK']).toContain(code);
        }),
        { numRuns: 200 },
      );
    });

    it('rejects a wrong key in openBackup, before any record', async () => {
      const result = await restoreError([f.archive], BackupKey.generate());
      expect(result).toEqual({ code: 'BAD_KEY', recordsBefore: 0, opened: false });
    });
  });
}

describe('appending after a full-size final chunk', () => {
  it('is TRAILING_DATA', async () => {
    // A tiny history pads to MIN_PADDED_BODY_LENGTH = 4096 = 4 full chunks of 1024.
    const key = BackupKey.generate();
    const archive = await collect(
      createBackup([], { backupKey: key, compression: 'none', chunkSize: CHUNK }),
    );
    const { header, chunks } = splitArchive(archive);
    expect(chunks.map((c) => c.length)).toEqual([1040, 1040, 1040, 1040]);
    expect((await restoreError([header, ...chunks, chunks[1]!], key)).code).toBe('TRAILING_DATA');
    expect((await restoreError([header, ...chunks.slice(0, 3)], key)).code).toBe('TRUNCATED');
    expect((await restoreAll([header, ...chunks], key)).length).toBe(1);
  });
});

describe('header problems', () => {
  it('names a foreign file, an unknown version and a short file', async () => {
    const key = BackupKey.generate();
    const archive = await collect(createBackup([], { backupKey: key }));
    const code = async (bytes: Uint8Array) => (await restoreError([bytes], key)).code;
    expect(
      await code(new TextEncoder().encode('PK\u0003\u0004 not a backup at all, just some bytes')),
    ).toBe('BAD_HEADER');
    const v2 = archive.slice();
    v2[9] = 2;
    expect(await code(v2)).toBe('UNSUPPORTED_VERSION');
    expect(await code(archive.subarray(0, 5))).toBe('BAD_HEADER');
    expect(await code(archive.subarray(0, 40))).toBe('BAD_HEADER');
    const compression = archive.slice();
    compression[30] = 9;
    expect(await code(compression)).toBe('UNSUPPORTED_VERSION');
    const chunkSize = archive.slice();
    chunkSize[33]! ^= 1;
    expect(await code(chunkSize)).toBe('BAD_HEADER');
  });

  it('cancels the source when the header is rejected', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64));
      },
      cancel() {
        cancelled = true;
      },
    });
    await expect(openBackup(stream, BackupKey.generate())).rejects.toMatchObject({
      code: 'BAD_HEADER',
    });
    expect(cancelled).toBe(true);
  });

  it('wraps a tampered archive body split across many pieces the same way', async () => {
    const key = BackupKey.generate();
    const archive = await collect(
      createBackup([...syntheticHistory({ targetBytes: 20_000, seed: 8 })], {
        backupKey: key,
        chunkSize: CHUNK,
      }),
    );
    const bytes = archive.slice();
    bytes[bytes.length - 100]! ^= 1;
    const pieces = Array.from({ length: Math.ceil(bytes.length / 333) }, (_, i) =>
      bytes.subarray(i * 333, i * 333 + 333),
    );
    expect((await restoreError(pieces, key)).code).toBe('CORRUPT_CHUNK');
    expect(concat(pieces)).toEqual(bytes);
  });
});
