/**
 * Backup archive throughput (docs/backups.md "Performance"). Creates and restores a synthetic
 * history of BACKUP_BENCH_MIB (default 256) MiB of encoded records, with compression off and on,
 * next to raw AES-256-GCM of node:crypto over the same plaintext bytes in 1 MiB pieces, measured in
 * the same run. MB = 10^6 bytes of encoded records (the archive's body before compression).
 *
 * The history is a 16 MiB synthetic pool (testing/synthetic-history.ts: mostly short messages,
 * receipts, 10% attachment pointers; about 240 bytes per record) replayed until the size is
 * reached, so the benchmark's own heap stays small like a client streaming from its database.
 *
 *   node --conditions=sotto-source --import tsx tests/bench/backup.bench.ts
 *
 * Last line: `bench:backup create_mbps=<n> restore_mbps=<n> aes_limit_ratio=<x>` where the
 * rates are compression off (best of ROUNDS) and the ratio is the slower of the two ÷ raw AES.
 */
import * as nodeCrypto from 'node:crypto';
import { BackupKey, createBackup, openBackup, type ContentRecord } from '@sotto/backup';
import { encodeRecords, syntheticHistory } from '@sotto/backup/testing';

const MIB = 2 ** 20;
const TOTAL = Number(process.env.BACKUP_BENCH_MIB ?? 256) * MIB;
const POOL = Math.min(16 * MIB, TOTAL);
const ROUNDS = Number(process.env.BACKUP_BENCH_ROUNDS ?? 3);
const PIECE = MIB;

const generated: ContentRecord[] = [...syntheticHistory({ targetBytes: POOL, seed: 7 })];
// Account, contacts, conversations and settings once; the messages replayed.
const head = generated.filter((r) => r.type !== 'message');
const pool = generated.filter((r) => r.type === 'message');
const headBody = encodeRecords(head);
const poolBody = encodeRecords(pool);
const cycles = Math.max(1, Math.round((TOTAL - headBody.length) / poolBody.length));
const historyBytes = headBody.length + cycles * poolBody.length;
const recordCount = head.length + cycles * pool.length;

function* history(): Generator<ContentRecord> {
  yield* head;
  for (let c = 0; c < cycles; c++) yield* pool;
}

const mb = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** Wall-clock and CPU time (this process, all threads: GC helpers, zlib) of one measurement. */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}
function startTiming(): () => Timing {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
  };
}
interface Rate {
  readonly wall: number;
  readonly cpu: number;
}
const rate = (t: Timing): Rate => ({
  wall: mb(historyBytes, t.wall),
  cpu: mb(historyBytes, t.cpu),
});
const show = (r: Rate) => `${r.wall.toFixed(0)} MB/s (${r.cpu.toFixed(0)} per CPU-s)`;

function rawAesGcm(): Rate {
  const key = nodeCrypto.randomBytes(32);
  const nonce = Buffer.alloc(12);
  const stop = startTiming();
  let index = 0;
  for (let o = 0; o < headBody.length; o += PIECE) {
    nonce.writeUInt32BE(index++, 8);
    const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce);
    cipher.update(headBody.subarray(o, o + PIECE));
    cipher.final();
    cipher.getAuthTag();
  }
  for (let c = 0; c < cycles; c++) {
    for (let o = 0; o < poolBody.length; o += PIECE) {
      nonce.writeUInt32BE(index++, 8);
      const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce);
      cipher.update(poolBody.subarray(o, o + PIECE));
      cipher.final();
      cipher.getAuthTag();
    }
  }
  return rate(stop());
}

async function create(
  key: BackupKey,
  compression: 'none' | 'deflate-raw',
): Promise<{ rate: Rate; chunks: Uint8Array[]; size: number }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stop = startTiming();
  const reader = createBackup(history(), { backupKey: key, compression }).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  return { rate: rate(stop()), chunks, size };
}

async function restore(key: BackupKey, chunks: Uint8Array[]): Promise<Rate> {
  const stop = startTiming();
  const reader = await openBackup(chunks, key);
  let records = 0;
  let bodyChars = 0;
  for await (const batch of reader.batches()) {
    records += batch.length;
    for (const r of batch) if (r.type === 'message') bodyChars += r.body.length;
  }
  const timing = stop();
  if (records !== recordCount + 1 || bodyChars === 0) {
    throw new Error(`restore produced ${records} records, expected ${recordCount + 1}`);
  }
  return rate(timing);
}

const key = BackupKey.generate();
console.log(
  `history: ${(historyBytes / MIB).toFixed(1)} MiB, ${recordCount} records ` +
    `(${(historyBytes / recordCount).toFixed(0)} B each), ${pool.length} pooled messages × ${cycles}`,
);
const best = {
  aes: { wall: 0, cpu: 0 },
  create: { wall: 0, cpu: 0 },
  restore: { wall: 0, cpu: 0 },
};
const better = (a: Rate, b: Rate): Rate => ({
  wall: Math.max(a.wall, b.wall),
  cpu: Math.max(a.cpu, b.cpu),
});
let plainSize = 0;
for (let round = 1; round <= ROUNDS; round++) {
  const aes = rawAesGcm();
  const created = await create(key, 'none');
  const restored = await restore(key, created.chunks);
  plainSize = created.size;
  best.aes = better(best.aes, aes);
  best.create = better(best.create, created.rate);
  best.restore = better(best.restore, restored);
  console.log(
    `round ${round}: raw AES-256-GCM ${show(aes)} | compression off: create ${show(created.rate)}, ` +
      `restore ${show(restored)}`,
  );
}
console.log(
  `archive size, compression off: ${(plainSize / MIB).toFixed(1)} MiB ` +
    `(+${((plainSize / historyBytes - 1) * 100).toFixed(1)}% BackupInfo, padding, tags, header)`,
);
if (process.env.BACKUP_BENCH_SKIP_DEFLATE === undefined) {
  const created = await create(key, 'deflate-raw');
  const restored = await restore(key, created.chunks);
  console.log(
    `compression on: create ${show(created.rate)}, restore ${show(restored)}, archive ` +
      `${(created.size / MIB).toFixed(1)} MiB (${((created.size / historyBytes) * 100).toFixed(0)}% of the history)`,
  );
}
const wallRatio = Math.min(best.create.wall, best.restore.wall) / best.aes.wall;
const cpuRatio = Math.min(best.create.cpu, best.restore.cpu) / best.aes.cpu;
console.log(
  `best of ${ROUNDS}: wall-clock ratio ${wallRatio.toFixed(2)}, CPU-time ratio ${cpuRatio.toFixed(2)}`,
);
console.log(
  `bench:backup create_mbps=${best.create.wall.toFixed(0)} restore_mbps=${best.restore.wall.toFixed(0)} ` +
    `aes_limit_ratio=${wallRatio.toFixed(2)}`,
);
