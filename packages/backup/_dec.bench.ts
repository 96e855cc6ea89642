import { ProtoWriter } from './src/format/proto.js';
import { writeRecord } from './src/format/records.js';
import { RecordDecoder } from './src/format/record-stream.js';
import { syntheticHistory, encodeRecords } from './src/testing/index.js';
const pool = [...syntheticHistory({ targetBytes: 8 << 20, seed: 7 })];
const body = encodeRecords(pool);
const info = new ProtoWriter(64); writeRecord(info, { type: 'backup-info', schemaVersion: 1, createdAtMs: 1, app: '' });
let bd = Infinity;
for (let round = 0; round < 30; round++) {
  const t = performance.now();
  const d = new RecordDecoder();
  let out: unknown[] = [];
  d.push(info.buf.subarray(0, info.pos), out as never);
  for (let o = 0; o < body.length; o += 1 << 20) { out = []; d.push(body.subarray(o, o + (1 << 20)), out as never); }
  bd = Math.min(bd, performance.now() - t);
}
console.log(`decode ${(bd * 1e6 / pool.length).toFixed(0)} ns/rec ${(body.length / 1e3 / bd).toFixed(0)} MB/s`);
