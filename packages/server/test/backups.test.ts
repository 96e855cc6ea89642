// Backups on the relay: streamed in and out, replaced only when complete, limited by size and
// quota while streaming, the newest kept, private to the account, erased with it, exported as
// names and sizes only, audited without names, and malformed requests answered cleanly.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileAttachmentStore, MemoryAttachmentStore, type ServerOptions } from '../src/index.js';
import {
  authed,
  freshIp,
  linkDevice,
  register,
  startHarness,
  type ErrorBody,
  type Harness,
  type TestDevice,
} from './support/harness.js';

const KIB = 1024;

interface Info {
  name: string;
  size: number;
  createdAt: number;
}

describe('backups', () => {
  let h: Harness;
  let blobs: MemoryAttachmentStore;

  async function start(overrides: Partial<ServerOptions> = {}) {
    blobs = new MemoryAttachmentStore(() => h.clock.now());
    h = await startHarness({
      backups: blobs,
      maxBackupBytes: 64 * KIB,
      backupQuotaBytes: 160 * KIB,
      backupRetentionCount: 3,
      ...overrides,
    });
  }
  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    await h.close();
  });

  function upload(
    d: TestDevice,
    name: string,
    body: Buffer | Readable,
    headers: Record<string, string> = {},
  ) {
    return h.app.inject({
      method: 'PUT',
      url: `/v1/backups/${name}`,
      headers: { ...authed(d), 'content-type': 'application/octet-stream', ...headers },
      payload: body,
    });
  }
  const download = (d: TestDevice, name: string) =>
    h.app.inject({ method: 'GET', url: `/v1/backups/${name}`, headers: authed(d) });
  const list = async (d: TestDevice) => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/backups', headers: authed(d) });
    expect(r.statusCode).toBe(200);
    return r.json<{ backups: Info[] }>().backups;
  };
  const remove = (d: TestDevice, name: string) =>
    h.app.inject({ method: 'DELETE', url: `/v1/backups/${name}`, headers: authed(d) });
  const code = (r: { json: <T>() => T }) => r.json<ErrorBody>().error.code;
  /** Pieces of `total` bytes without a Content-Length (chunked, counted while streaming). */
  const streamOf = (total: number, piece = 8 * KIB) =>
    Readable.from(
      Array.from({ length: Math.ceil(total / piece) }, (_, i) =>
        randomBytes(Math.min(piece, total - i * piece)),
      ),
    );

  it('uploads, lists, downloads and deletes, from any device of the account', async () => {
    const alice = await register(h);
    const linked = await linkDevice(h, alice);
    const data = randomBytes(50 * KIB);
    const up = await upload(alice, 'backup-1.sbk', data);
    expect(up.statusCode).toBe(200);
    expect(up.json<Info>()).toEqual({
      name: 'backup-1.sbk',
      size: data.length,
      createdAt: h.clock.now(),
    });
    const down = await download(linked, 'backup-1.sbk');
    expect(down.statusCode).toBe(200);
    expect(down.headers['content-type']).toBe('application/octet-stream');
    expect(down.headers['content-length']).toBe(String(data.length));
    expect(down.headers['cache-control']).toBe('no-store');
    expect(down.rawPayload.equals(data)).toBe(true);
    await upload(alice, 'a-first', randomBytes(10));
    expect((await list(linked)).map((b) => [b.name, b.size])).toEqual([
      ['a-first', 10],
      ['backup-1.sbk', data.length],
    ]);
    expect((await remove(linked, 'backup-1.sbk')).statusCode).toBe(204);
    const again = await remove(alice, 'backup-1.sbk');
    expect(again.statusCode).toBe(404);
    expect(code(again)).toBe('BACKUP_NOT_FOUND');
    const gone = await download(alice, 'backup-1.sbk');
    expect(gone.statusCode).toBe(404);
    expect(code(gone)).toBe('BACKUP_NOT_FOUND');
    expect(blobs.size).toBe(1);
  });

  it('streams an upload without Content-Length and stores an empty backup', async () => {
    const alice = await register(h);
    const up = await upload(alice, 'streamed', streamOf(40 * KIB));
    expect(up.statusCode).toBe(200);
    expect(up.json<Info>().size).toBe(40 * KIB);
    expect((await upload(alice, 'empty', Buffer.alloc(0))).json<Info>().size).toBe(0);
    expect((await download(alice, 'empty')).rawPayload.length).toBe(0);
  });

  it('replaces a backup of the same name only when the new one is complete', async () => {
    const alice = await register(h);
    const old = randomBytes(1000);
    await upload(alice, 'nightly', old);
    // Too large while streaming: refused, the old backup stays, no blob is left behind.
    const refused = await upload(alice, 'nightly', streamOf(65 * KIB));
    expect(refused.statusCode).toBe(413);
    expect(code(refused)).toBe('BACKUP_TOO_LARGE');
    expect(refused.headers['connection']).toBe('close');
    // A source that fails part-way (the client's connection dropping).
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent++ < 2) this.push(randomBytes(4 * KIB));
        else this.destroy(new Error('connection lost'));
      },
    });
    await upload(alice, 'nightly', failing).catch(() => undefined);
    expect((await download(alice, 'nightly')).rawPayload.equals(old)).toBe(true);
    expect(blobs.size).toBe(1);
    const newer = randomBytes(2000);
    h.clock.advance(1000);
    await upload(alice, 'nightly', newer);
    expect((await download(alice, 'nightly')).rawPayload.equals(newer)).toBe(true);
    expect(blobs.size).toBe(1);
    expect(await list(alice)).toEqual([{ name: 'nightly', size: 2000, createdAt: h.clock.now() }]);
  });

  it('refuses a declared oversized body before reading it', async () => {
    const alice = await register(h);
    const r = await upload(alice, 'big', randomBytes(64 * KIB + 1));
    expect(r.statusCode).toBe(413);
    expect(code(r)).toBe('BACKUP_TOO_LARGE');
    expect(await list(alice)).toEqual([]);
    expect(blobs.size).toBe(0);
  });

  it('keeps the newest backups up to the retention count and deletes the older blobs', async () => {
    const alice = await register(h);
    for (let i = 1; i <= 5; i++) {
      h.clock.advance(60_000);
      expect((await upload(alice, `b${i}`, randomBytes(100))).statusCode).toBe(200);
    }
    expect((await list(alice)).map((b) => b.name)).toEqual(['b3', 'b4', 'b5']);
    expect(blobs.size).toBe(3);
    // Replacing an older name makes it the newest; the oldest of the others goes.
    h.clock.advance(60_000);
    await upload(alice, 'b3', randomBytes(100));
    h.clock.advance(60_000);
    await upload(alice, 'b6', randomBytes(100));
    expect((await list(alice)).map((b) => b.name)).toEqual(['b3', 'b5', 'b6']);
    expect(blobs.size).toBe(3);
  });

  it('enforces the per-account quota on what is kept, declared or streamed', async () => {
    const alice = await register(h);
    h.clock.advance(1);
    await upload(alice, 'one', randomBytes(60 * KIB));
    h.clock.advance(1);
    await upload(alice, 'two', randomBytes(60 * KIB));
    // Kept after this upload: 'one' and 'two' (120 KiB) + 41 KiB > 160 KiB.
    h.clock.advance(1);
    const declared = await upload(alice, 'three', randomBytes(41 * KIB));
    expect(declared.statusCode).toBe(507);
    expect(code(declared)).toBe('BACKUP_QUOTA_EXCEEDED');
    const streamed = await upload(alice, 'three', streamOf(41 * KIB));
    expect(code(streamed)).toBe('BACKUP_QUOTA_EXCEEDED');
    expect(await upload(alice, 'three', randomBytes(40 * KIB))).toMatchObject({ statusCode: 200 });
    // At the retention count the oldest does not count: a full-size rotation always fits.
    h.clock.advance(1);
    expect((await upload(alice, 'four', randomBytes(60 * KIB))).statusCode).toBe(200);
    expect((await list(alice)).map((b) => b.name)).toEqual(['four', 'three', 'two']);
    // Replacing a name does not count the backup it replaces.
    h.clock.advance(1);
    expect((await upload(alice, 'two', randomBytes(60 * KIB))).statusCode).toBe(200);
    expect(blobs.size).toBe(3);
  });

  it('keeps accounts apart: another account can neither see, read nor delete', async () => {
    const alice = await register(h);
    const mallory = await register(h);
    const secret = randomBytes(500);
    await upload(alice, 'mine', secret);
    expect(await list(mallory)).toEqual([]);
    expect(code(await download(mallory, 'mine'))).toBe('BACKUP_NOT_FOUND');
    expect(code(await remove(mallory, 'mine'))).toBe('BACKUP_NOT_FOUND');
    // The same name in another account is another backup.
    await upload(mallory, 'mine', randomBytes(7));
    expect((await download(alice, 'mine')).rawPayload.equals(secret)).toBe(true);
    expect((await list(mallory)).map((b) => b.size)).toEqual([7]);
  });

  it('requires a device credential and application/octet-stream', async () => {
    const alice = await register(h);
    for (const req of [
      { method: 'GET' as const, url: '/v1/backups' },
      { method: 'GET' as const, url: '/v1/backups/x' },
      { method: 'DELETE' as const, url: '/v1/backups/x' },
      {
        method: 'PUT' as const,
        url: '/v1/backups/x',
        headers: { 'content-type': 'application/octet-stream' },
        payload: Buffer.from('x'),
      },
    ]) {
      const r = await h.app.inject({ ...req, remoteAddress: freshIp() });
      expect(r.statusCode).toBe(401);
      expect(code(r)).toBe('UNAUTHENTICATED');
      // An upload refused before its body was read closes the connection (nobody reads the rest).
      if (req.method === 'PUT') expect(r.headers['connection']).toBe('close');
    }
    const json = await h.app.inject({
      method: 'PUT',
      url: '/v1/backups/x',
      headers: { ...authed(alice), 'content-type': 'application/json' },
      payload: { a: 1 },
    });
    expect(json.statusCode).toBe(415);
    expect(code(json)).toBe('UNSUPPORTED_MEDIA_TYPE');
    const none = await h.app.inject({
      method: 'PUT',
      url: '/v1/backups/x',
      headers: authed(alice),
    });
    expect(none.statusCode).toBe(415);
  });

  it('answers malformed names with INVALID_REQUEST and keeps serving', async () => {
    const alice = await register(h);
    for (const bad of ['..%2F..%2Fetc', '.hidden', '-dash', '_under', 'a%20b', 'x'.repeat(201)]) {
      const r = await upload(alice, bad, Buffer.from('x'));
      expect(r.statusCode, bad).toBe(400);
      expect(code(r)).toBe('INVALID_REQUEST');
      expect(code(await download(alice, bad))).toBe('INVALID_REQUEST');
      expect(code(await remove(alice, bad))).toBe('INVALID_REQUEST');
    }
    expect((await upload(alice, 'ok', Buffer.from('x'))).statusCode).toBe(200);
    expect(blobs.size).toBe(1);
  });

  it('limits uploads per account', async () => {
    const alice = await register(h);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await upload(alice, 'r', randomBytes(1))).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect(blobs.size).toBe(1);
  });

  it('lists backups in the export (names and sizes, never content) and erases them with the account', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const content = randomBytes(300);
    await upload(alice, 'exported', content);
    await upload(bob, 'bobs', randomBytes(5));
    const x = await h.app.inject({
      method: 'GET',
      url: '/v1/accounts/me/export',
      headers: authed(alice),
    });
    expect(x.statusCode).toBe(200);
    expect(x.json<{ backups: Info[] }>().backups).toEqual([
      { name: 'exported', size: 300, createdAt: h.clock.now() },
    ]);
    expect(x.body).not.toContain(content.toString('base64'));
    const del = await h.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: authed(alice),
    });
    expect(del.statusCode).toBe(204);
    expect(blobs.size).toBe(1);
    expect(h.database.prepare('select count(*) as n from backups').get()).toEqual({ n: 1 });
    expect((await list(bob)).map((b) => b.name)).toEqual(['bobs']);
  });

  it('sweeps attachment and backup blobs no row points at, once an hour has passed', async () => {
    const alice = await register(h);
    expect((await upload(alice, 'kept', randomBytes(100))).statusCode).toBe(200);
    // What a crash between writing a blob and recording it leaves behind.
    await blobs.write('orphanBackupBlob000001', Readable.from([randomBytes(10)]), 1000);
    await h.attachments.write('orphanAttachment000001', Readable.from([randomBytes(10)]), 1000);
    expect((await h.server.sweep()).orphanBlobs).toBe(0); // too recent: maybe being recorded
    h.clock.advance(59 * 60_000);
    expect((await h.server.sweep()).orphanBlobs).toBe(0);
    h.clock.advance(2 * 60_000);
    expect((await h.server.sweep()).orphanBlobs).toBe(2);
    expect(blobs.size).toBe(1);
    expect(h.attachments.size).toBe(0);
    expect((await download(alice, 'kept')).statusCode).toBe(200);
    expect((await h.server.sweep()).orphanBlobs).toBe(0);
  });

  it('audits uploads and deletions with sizes and counts, never names', async () => {
    const alice = await register(h);
    await upload(alice, 'private-name', randomBytes(123));
    await upload(alice, 'private-name', randomBytes(124));
    await remove(alice, 'private-name');
    const rows = await h.storage.readAuditLog(0, 100);
    const mine = rows.filter((r) => r.event.startsWith('backup-'));
    expect(mine.map((r) => [r.event, r.accountId, r.deviceId, r.details])).toEqual([
      ['backup-stored', alice.accountId, 1, { size: 123, replaced: false, pruned: 0 }],
      ['backup-stored', alice.accountId, 1, { size: 124, replaced: true, pruned: 0 }],
      ['backup-deleted', alice.accountId, 1, null],
    ]);
    expect(JSON.stringify(rows)).not.toContain('private-name');
  });

  it('answers BACKUP_STORAGE_UNAVAILABLE when the relay has no backup store', async () => {
    await h.close();
    h = await startHarness();
    const alice = await register(h);
    for (const r of [
      await upload(alice, 'x', Buffer.from('x')),
      await download(alice, 'x'),
      await remove(alice, 'x'),
      await h.app.inject({ method: 'GET', url: '/v1/backups', headers: authed(alice) }),
    ]) {
      expect(r.statusCode).toBe(503);
      expect(code(r)).toBe('BACKUP_STORAGE_UNAVAILABLE');
    }
  });

  it('stores blobs in a directory of their own with the file store', async () => {
    await h.close();
    const dir = mkdtempSync(join(tmpdir(), 'sotto-backups-'));
    try {
      h = await startHarness({ backups: await FileAttachmentStore.open(dir) });
      const alice = await register(h);
      const data = randomBytes(200 * KIB);
      expect((await upload(alice, 'on-disk', streamOf(data.length))).statusCode).toBe(200);
      expect((await upload(alice, 'on-disk', data)).statusCode).toBe(200);
      expect((await download(alice, 'on-disk')).rawPayload.equals(data)).toBe(true);
      expect(readdirSync(dir)).toHaveLength(1);
      await remove(alice, 'on-disk');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
