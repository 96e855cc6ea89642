// Relay backups stream both ways: 256 MiB go up through RelayBackupStorage (fetch with a streamed
// body) into a relay on a port with the file blob store, and come back down, while the resident
// memory of this process — client and relay together — is sampled. Memory must not grow with the
// archive (compare docs/backups.md "Streaming and memory").
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fromBase64Url } from '@sotto/api';
import { RelayBackupStorage } from '@sotto/client';
import { createServer, FileAttachmentStore } from '@sotto/server';
import { MemorySmsSender } from '@sotto/server/testing';
import { openSqliteStorage } from '@sotto/storage-sqlite';

const MIB = 1024 * 1024;
const SIZE = 256 * MIB;
/** Growth of RSS over the baseline allowed while 256 MiB pass through. */
const MAX_GROWTH = 128 * MIB;

it('uploads and downloads 256 MiB without holding it in memory', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-relay-backup-mem-'));
  const storage = await openSqliteStorage({ filename: ':memory:' });
  const sms = new MemorySmsSender();
  const server = await createServer({
    storage,
    attachments: await FileAttachmentStore.open(join(dir, 'attachments')),
    backups: await FileAttachmentStore.open(join(dir, 'backups')),
    sms,
    secret: randomBytes(32),
    sweepIntervalMs: 0,
    heartbeatIntervalMs: 0,
  });
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const number = '+14155550199';
    await fetch(`${url}/v1/verification/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ number }),
    });
    const identityKey = randomBytes(33);
    identityKey[0] = 5;
    const registered = (await (
      await fetch(`${url}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          number,
          code: sms.codeFor(number),
          registrationId: 9,
          identityKey: identityKey.toString('base64'),
        }),
      })
    ).json()) as { accountId: string; deviceId: number; credential: string };
    const credentials = {
      accountId: registered.accountId,
      deviceId: registered.deviceId,
      credential: fromBase64Url(registered.credential, 'credential'),
    };
    const backups = new RelayBackupStorage({ serverUrl: url, credentials: () => credentials });

    // One random MiB repeated with a counter: nothing to compress, cheap to generate.
    const block = randomBytes(MIB);
    const sent = createHash('sha256');
    async function* archive() {
      for (let i = 0; i < SIZE / MIB; i++) {
        const piece = Buffer.from(block);
        piece.writeUInt32BE(i, 0);
        sent.update(piece);
        yield await Promise.resolve(piece);
      }
    }

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);

    expect(await backups.put('big.sbk', archive())).toEqual({ name: 'big.sbk', size: SIZE });
    const uploadGrowth = peak - baseline;
    peak = baseline;
    const received = createHash('sha256');
    let size = 0;
    for await (const piece of (await backups.get(
      'big.sbk',
    )) as unknown as AsyncIterable<Uint8Array>) {
      received.update(piece);
      size += piece.length;
    }
    clearInterval(sampler);
    expect(size).toBe(SIZE);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(uploadGrowth).toBeLessThan(MAX_GROWTH);
    expect(peak - baseline).toBeLessThan(MAX_GROWTH);
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await server.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
