import { randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '@sotto/storage-sqlite';

const sync = (process.env.SYNC ?? 'FULL') as 'FULL' | 'NORMAL';
const dir = mkdtempSync(join(tmpdir(), 'mb-'));
const storage = await openSqliteStorage({ filename: join(dir, 'db.sqlite'), synchronous: sync });
const N = 200;
const accounts: string[] = [];
for (let i = 0; i < N; i++) {
  const id = randomUUID();
  await storage.createAccount({ accountId: id, number: `+1415555${String(1000 + i)}`, identityKey: randomBytes(33), createdAt: 1 }, { registrationId: 7, credentialHash: randomBytes(32), name: null, createdAt: 1 });
  accounts.push(id);
}
const BATCH = Number(process.env.BATCH ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 100);
const content = randomBytes(256);
let tSend = 0, tAck = 0;
for (let r = 0; r < ROUNDS; r++) {
  const sends = Array.from({ length: BATCH }, (_, i) => {
    const src = accounts[(r * BATCH + i) % N]!, dst = accounts[(r * BATCH + i + 1) % N]!;
    return { sourceAccountId: src, sourceDeviceId: 1, clientMessageId: randomBytes(16).toString('base64url'), serverTimestamp: Date.now(), recipientAccountId: dst,
      envelopes: [{ guid: randomUUID(), accountId: dst, deviceId: 1, registrationId: 7, serverTimestamp: Date.now(), sourceAccountId: src, sourceDeviceId: 1, type: 1, content }] };
  });
  let t = performance.now();
  await storage.storeSends(sends, 10000);
  tSend += performance.now() - t;
  t = performance.now();
  await storage.deleteEnvelopes(sends.map((s) => ({ accountId: s.recipientAccountId, deviceId: 1, guids: [s.envelopes[0]!.guid] })));
  tAck += performance.now() - t;
}
console.log(`sync=${sync} batch=${BATCH}: storeSends ${(tSend / ROUNDS).toFixed(2)} ms/batch (${(tSend * 1000 / ROUNDS / BATCH).toFixed(1)} us/msg), deleteEnvelopes ${(tAck / ROUNDS).toFixed(2)} ms/batch (${(tAck * 1000 / ROUNDS / BATCH).toFixed(1)} us/msg)`);
await storage.close();
