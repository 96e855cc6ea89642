// The relay adapter of the backup storage port end to end: @sotto/client's RelayBackupStorage
// over real HTTP (Node's fetch, streamed request bodies) against a relay listening on a port,
// with the file blob store. It runs the port's conformance suite, then what only a real socket
// shows: refusals while the body is still streaming reach the client as STORAGE_FULL and the
// relay keeps serving; a failed source leaves nothing behind; the device credential is required.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, type DeviceCredentials } from '@sotto/api';
import { BackupError } from '@sotto/backup';
import { describeBackupStorageConformance } from '@sotto/backup/testing';
import { RelayBackupStorage } from '@sotto/client';
import { createServer, FileAttachmentStore, type SottoServer } from '@sotto/server';
import { MemorySmsSender } from '@sotto/server/testing';
import { openSqliteStorage } from '@sotto/storage-sqlite';

interface Relay {
  readonly url: string;
  readonly blobDir: string;
  register(): Promise<DeviceCredentials>;
  close(): Promise<void>;
}

let numbers = 2000 + Math.floor(Math.random() * 5000);

async function startRelay(
  limits: { maxBackupBytes?: number; backupQuotaBytes?: number } = {},
): Promise<Relay> {
  const blobDir = mkdtempSync(join(tmpdir(), 'sotto-relay-backups-'));
  const storage = await openSqliteStorage({ filename: ':memory:' });
  const sms = new MemorySmsSender();
  const server: SottoServer = await createServer({
    storage,
    attachments: await FileAttachmentStore.open(join(blobDir, 'attachments')),
    backups: await FileAttachmentStore.open(join(blobDir, 'backups')),
    sms,
    secret: randomBytes(32),
    sweepIntervalMs: 0,
    heartbeatIntervalMs: 0,
    unlimitedAddresses: ['127.0.0.1'],
    ...limits,
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, unknown>;
  };
  return {
    url,
    blobDir: join(blobDir, 'backups'),
    async register() {
      const number = `+1415555${String(numbers++ % 10_000).padStart(4, '0')}`;
      await post('/v1/verification/code', { number });
      const identityKey = randomBytes(33);
      identityKey[0] = 5;
      const r = await post('/v1/accounts', {
        number,
        code: sms.codeFor(number),
        registrationId: 7,
        identityKey: identityKey.toString('base64'),
      });
      return {
        accountId: r['accountId'] as string,
        deviceId: r['deviceId'] as number,
        credential: fromBase64Url(r['credential'] as string, 'credential'),
      };
    },
    async close() {
      await server.close();
      await storage.close();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

let relay: Relay;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.close();
});

describeBackupStorageConformance('relay over HTTP', async () => {
  const credentials = await relay.register();
  return new RelayBackupStorage({ serverUrl: relay.url, credentials: () => credentials });
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of stream as unknown as AsyncIterable<Uint8Array>) parts.push(part);
  return Buffer.concat(parts);
}

describe('relay backup storage over a real socket', () => {
  let small: Relay;
  beforeAll(async () => {
    small = await startRelay({ maxBackupBytes: 256 * 1024, backupQuotaBytes: 400 * 1024 });
  });
  afterAll(async () => {
    await small.close();
  });

  it('reports refusals while streaming as STORAGE_FULL and keeps serving', async () => {
    const credentials = await small.register();
    const storage = new RelayBackupStorage({
      serverUrl: small.url,
      credentials: () => credentials,
    });
    // 8 MiB streamed in 64 KiB pieces against a 256 KiB limit: cut off while streaming.
    async function* big() {
      for (let i = 0; i < 128; i++) yield await Promise.resolve(randomBytes(64 * 1024));
    }
    const tooLarge = await storage.put('big', big()).catch((e: unknown) => e);
    expect(BackupError.is(tooLarge, 'STORAGE_FULL')).toBe(true);
    expect((tooLarge as BackupError).message).toMatch(/does not store backups this large/);
    const kept = randomBytes(200 * 1024);
    await storage.put('kept', [kept]);
    // 250 KiB fits the size limit but not the quota next to the kept 200 KiB.
    const overQuota = await storage
      .put('second', [randomBytes(250 * 1024)])
      .catch((e: unknown) => e);
    expect(BackupError.is(overQuota, 'STORAGE_FULL')).toBe(true);
    expect((overQuota as BackupError).message).toMatch(/quota/);
    expect(await storage.list()).toEqual([{ name: 'kept', size: kept.length }]);
    expect((await readAll(await storage.get('kept'))).equals(kept)).toBe(true);
    expect(readdirSync(small.blobDir)).toHaveLength(1);
  });

  it('refuses a foreign or missing credential, and another account sees nothing', async () => {
    const alice = await small.register();
    const bob = await small.register();
    const aliceStorage = new RelayBackupStorage({ serverUrl: small.url, credentials: () => alice });
    const bobStorage = new RelayBackupStorage({ serverUrl: small.url, credentials: () => bob });
    await aliceStorage.put('private', [randomBytes(100)]);
    expect(await bobStorage.list()).toEqual([]);
    await expect(bobStorage.get('private')).rejects.toSatisfy((e) =>
      BackupError.is(e, 'STORAGE_NOT_FOUND'),
    );
    expect(await bobStorage.delete('private')).toBe(false);
    const forged = new RelayBackupStorage({
      serverUrl: small.url,
      credentials: () => ({ ...alice, credential: new Uint8Array(32) }),
    });
    const refused = await forged.list().catch((e: unknown) => e);
    expect(BackupError.is(refused, 'STORAGE_IO')).toBe(true);
    expect(((refused as BackupError).cause as { code?: string }).code).toBe('DEREGISTERED');
    // Refused by the credential check while a large body is still streaming: answered at once.
    async function* large() {
      for (let i = 0; i < 256; i++) yield await Promise.resolve(randomBytes(64 * 1024));
    }
    const refusedPut = await forged.put('x', large()).catch((e: unknown) => e);
    expect(BackupError.is(refusedPut, 'STORAGE_IO')).toBe(true);
    expect(((refusedPut as BackupError).cause as { code?: string }).code).toBe('DEREGISTERED');
    expect((await aliceStorage.list()).map((o) => o.name)).toEqual(['private']);
  });

  it('reports an unreachable relay as STORAGE_IO', async () => {
    const credentials = await small.register();
    const storage = new RelayBackupStorage({
      serverUrl: 'http://127.0.0.1:1',
      credentials: () => credentials,
    });
    await expect(storage.list()).rejects.toSatisfy((e) => BackupError.is(e, 'STORAGE_IO'));
    await expect(storage.put('x', [randomBytes(10)])).rejects.toSatisfy((e) =>
      BackupError.is(e, 'STORAGE_IO'),
    );
  });
});
