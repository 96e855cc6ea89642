import { randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '@sotto/storage-sqlite';

const dir = mkdtempSync(join(tmpdir(), 'mb-'));
const storage = await openSqliteStorage({ filename: join(dir, 'db.sqlite') });
const N = 200;
const accounts: string[] = [];
for (let i = 0; i < N; i++) {
  const id = randomUUID();
  await storage.createAccount({ accountId: id, number: `+1415555${String(1000 + i)}`, identityKey: randomBytes(33), createdAt: 1 }, { registrationId: 7, credentialHash: randomBytes(32), name: null, createdAt: 1 });
  accounts.push(id);
}
const BATCH = Number(process.env.BATCH ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 60);
const content = randomBytes(256);
let prev: { accountId: string; deviceId: number; guids: string[] }[] = [];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let r = 0; r < ROUNDS; r++) {
  const sends = Array.from({ length: BATCH }, (_, i) => {
    const src = accounts[Math.floor(Math.random() * N)]!, dst = accounts[Math.floor(Math.random() * N)]!;
    return { sourceAccountId: src, sourceDeviceId: 1, clientMessageId: randomBytes(16).toString('base64url'), serverTimestamp: Date.now(), recipientAccountId: dst,
      envelopes: [{ guid: randomUUID(), accountId: dst, deviceId: 1, registrationId: 7, serverTimestamp: Date.now(), sourceAccountId: src, sourceDeviceId: 1, type: 1, content }] };
  });
  await storage.commitMailboxBatch(sends, prev, 10000);
  prev = sends.map((s) => ({ accountId: s.recipientAccountId, deviceId: 1, guids: [s.envelopes[0]!.guid] }));
}
const wall = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log(`batch=${BATCH}: ${(wall * 1000 / ROUNDS / BATCH).toFixed(1)} us/msg wall, ${((cpu.user + cpu.system) / ROUNDS / BATCH).toFixed(1)} us/msg cpu`);
await storage.close();
