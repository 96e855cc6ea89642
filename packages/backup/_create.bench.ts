import { BackupKey, createBackup, type ContentRecord } from './src/index.js';
import { syntheticHistory } from './src/testing/index.js';
const gen: ContentRecord[] = [...syntheticHistory({ targetBytes: 16 << 20, seed: 7 })];
const head = gen.filter(r => r.type !== 'message'), pool = gen.filter(r => r.type === 'message');
function* history() { yield* head; for (let c = 0; c < 4; c++) yield* pool; }
const key = BackupKey.generate();
let best = Infinity;
for (let round = 0; round < 4; round++) {
  const u = process.cpuUsage();
  const reader = createBackup(history(), { backupKey: key, compression: 'none' }).getReader();
  let n = 0;
  for (;;) { const { done, value } = await reader.read(); if (done) break; n += value.length; }
  const c = process.cpuUsage(u); const ms = (c.user + c.system) / 1000;
  best = Math.min(best, ms);
  console.log(`create ${(n / 1e3 / ms).toFixed(0)} MB/CPU-s, ${(ms * 1e6 / (pool.length * 4)).toFixed(0)} ns/rec`);
}
