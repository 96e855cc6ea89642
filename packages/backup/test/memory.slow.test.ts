// Constant memory (issue: "creating or restoring a 1 GiB backup needs constant memory"): a
// 256 MiB synthetic history is created into a local directory and restored from it, both
// streaming, while RSS is sampled. A 32 MiB run gives the growth to compare against: if memory
// scaled with the archive, the 8× larger run would grow far more.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupKey, createBackup, openBackup } from '../src/index.js';
import { LocalDirectoryStorage } from '../src/node.js';
import { syntheticHistory } from '../src/testing/index.js';

const MIB = 2 ** 20;
/** RSS growth allowed over the baseline: chunk buffers, zlib windows, V8's young generation. */
const RSS_GROWTH_LIMIT = 128 * MIB;

class RssSampler {
  peak = 0;
  readonly #timer: ReturnType<typeof setInterval>;
  constructor() {
    this.sample();
    this.#timer = setInterval(() => this.sample(), 10);
  }
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}

async function run(dir: string, targetBytes: number) {
  const storage = new LocalDirectoryStorage(dir);
  const key = BackupKey.generate();
  const name = `history-${targetBytes}`;
  const baseline = process.memoryUsage.rss();

  const createSampler = new RssSampler();
  let created = 0;
  const history = (function* () {
    for (const record of syntheticHistory({ targetBytes, seed: 42 })) {
      if (++created % 4096 === 0) createSampler.sample();
      yield record;
    }
  })();
  let t = performance.now();
  const { size } = await storage.put(name, createBackup(history, { backupKey: key }));
  const createMs = performance.now() - t;
  const createPeak = createSampler.stop();

  const restoreSampler = new RssSampler();
  t = performance.now();
  const reader = await openBackup(await storage.get(name), key);
  let restored = 0;
  let bodyChars = 0;
  for await (const batch of reader.batches()) {
    restored += batch.length;
    for (const r of batch) if (r.type === 'message') bodyChars += r.body.length;
    restoreSampler.sample();
  }
  const restoreMs = performance.now() - t;
  const restorePeak = restoreSampler.stop();
  expect((await stat(join(dir, name))).size).toBe(size);
  await storage.delete(name);
  return {
    records: created,
    restored,
    bodyChars,
    archiveMiB: size / MIB,
    createGrowthMiB: (createPeak - baseline) / MIB,
    restoreGrowthMiB: (restorePeak - baseline) / MIB,
    createMs,
    restoreMs,
  };
}

describe('streaming memory', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('creates and restores a 256 MiB history with bounded RSS growth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sotto-backup-memory-'));
    dirs.push(dir);
    await run(dir, 4 * MIB); // warm-up: code, WASM-free paths, zlib
    const small = await run(dir, 32 * MIB);
    const large = await run(dir, 256 * MIB);
    console.log(
      `[memory] 32 MiB history: create +${small.createGrowthMiB.toFixed(1)} MiB, restore +${small.restoreGrowthMiB.toFixed(1)} MiB RSS\n` +
        `[memory] 256 MiB history (${large.records} records, archive ${large.archiveMiB.toFixed(1)} MiB deflated): ` +
        `create +${large.createGrowthMiB.toFixed(1)} MiB in ${(large.createMs / 1000).toFixed(1)} s, ` +
        `restore +${large.restoreGrowthMiB.toFixed(1)} MiB in ${(large.restoreMs / 1000).toFixed(1)} s`,
    );
    expect(large.restored).toBe(large.records + 1);
    expect(large.bodyChars).toBeGreaterThan(0);
    expect(large.createGrowthMiB * MIB).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(large.restoreGrowthMiB * MIB).toBeLessThan(RSS_GROWTH_LIMIT);
    // Growth does not scale with size: 8× the data, not meaningfully more memory.
    expect(large.restoreGrowthMiB).toBeLessThan(small.restoreGrowthMiB + 48);
    expect(large.createGrowthMiB).toBeLessThan(small.createGrowthMiB + 48);
  }, 600_000);
});
