import { expect, it } from 'vitest';
import { BackupKey, createBackup, openBackup, type ContentRecord, type BackupRecord } from '../src/index.js';

it('smoke', async () => {
  const key = BackupKey.generate();
  const records: ContentRecord[] = [];
  for (let i = 0; i < 5000; i++) {
    records.push({ type: 'message', messageId: i, conversationId: 1, authorId: 'abc', outgoing: i % 2 === 0, sentAtMs: 1_700_000_000_000 + i, receivedAtMs: 0, body: 'hello ' + 'x'.repeat(i % 300) + ' é ' + i, attachments: [], receipts: [{ recipientId: 'r', status: 'read', updatedAtMs: 5 }], read: true, expiresInMs: 0, expireStartedAtMs: 0 });
  }
  for (const compression of ['none', 'deflate-raw'] as const) {
    const chunks: Uint8Array[] = [];
    for await (const c of createBackup(records, { backupKey: key, compression, chunkSize: 4096 })) chunks.push(c);
    console.log(compression, chunks.length, chunks.reduce((a, c) => a + c.length, 0));
    const reader = await openBackup(chunks, key);
    const out: BackupRecord[] = [];
    for await (const r of reader.records()) out.push(r);
    expect(out.length).toBe(5001);
    expect(out.slice(1)).toEqual(records);
  }
});
