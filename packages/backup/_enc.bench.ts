import { ProtoWriter } from './src/format/proto.js';
import { writeRecord } from './src/format/records.js';
import { syntheticHistory } from './src/testing/index.js';
const pool = [...syntheticHistory({ targetBytes: 8 << 20, seed: 7 })];
const w = new ProtoWriter(32 << 20);
let be = Infinity;
for (let round = 0; round < 40; round++) {
  w.pos = 0;
  const t = performance.now();
  for (const r of pool) writeRecord(w, r);
  be = Math.min(be, performance.now() - t);
}
const msgs = pool.filter(r => r.type === 'message');
const avgBody = msgs.reduce((a, m) => a + (m as any).body.length, 0) / msgs.length;
const avgRc = msgs.reduce((a, m) => a + (m as any).receipts.length, 0) / msgs.length;
console.log(`encode ${(be * 1e6 / pool.length).toFixed(0)} ns/rec, ${pool.length} recs, avg body ${avgBody.toFixed(0)} chars, receipts ${avgRc.toFixed(2)}, bytes/rec ${(w.pos/pool.length).toFixed(0)}`);
