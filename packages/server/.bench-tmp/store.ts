import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '/work/main/adapters/storage-sqlite/src/index.ts';
const dir = mkdtempSync(join(tmpdir(), 'st-'));
const s = await openSqliteStorage({
  filename: join(dir, 'db.sqlite'),
  synchronous: (process.env.SYNC ?? 'FULL') as 'FULL',
});
const accts = [];
for (let i = 0; i < 200; i++) {
  const id = randomUUID();
  accts.push(id);
  await s.createAccount(
    { accountId: id, number: '+1' + (4155550000 + i), identityKey: randomBytes(33), createdAt: 1 },
    { registrationId: 1, credentialHash: randomBytes(32), name: null, createdAt: 1 },
  );
}
for (let round = 0; round < 5; round++) {
  const batch = Array.from({ length: 2000 }, (_, i) => {
    const to = accts[i % 200]!;
    const from = accts[(i + 1) % 200]!;
    return {
      sourceAccountId: from,
      sourceDeviceId: 1,
      clientMessageId: randomBytes(16).toString('base64url'),
      serverTimestamp: Date.now(),
      recipientAccountId: to,
      envelopes: [
        {
          guid: randomUUID(),
          accountId: to,
          deviceId: 1,
          registrationId: 1,
          serverTimestamp: Date.now(),
          sourceAccountId: from,
          sourceDeviceId: 1,
          type: 1,
          content: randomBytes(200),
        },
      ],
    };
  });
  let t = performance.now();
  await s.storeSends(batch, 10000);
  const st = performance.now() - t;
  t = performance.now();
  await s.deleteEnvelopes(
    batch.map((b) => ({
      accountId: b.recipientAccountId,
      deviceId: 1,
      guids: [b.envelopes[0]!.guid],
    })),
  );
  console.log(
    `store ${((st / 2000) * 1000).toFixed(1)} µs/send, delete ${(((performance.now() - t) / 2000) * 1000).toFixed(1)} µs/ack`,
  );
}
