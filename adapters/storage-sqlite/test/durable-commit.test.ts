// The message path's commits on a file database: the transaction commits without waiting for the
// disk, but its promise (and so the relay's acknowledgement to the sender) settles only after the
// WAL file was synced; every other transaction keeps synchronous=FULL.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { SendRecord } from '@sotto/server';
import { openSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sotto-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sendTo(accountId: string): SendRecord {
  return {
    sourceAccountId: accountId,
    sourceDeviceId: 2,
    clientMessageId: randomBytes(16).toString('base64url'),
    serverTimestamp: 1,
    recipientAccountId: accountId,
    envelopes: [
      {
        guid: randomUUID(),
        accountId,
        deviceId: 1,
        registrationId: 1,
        serverTimestamp: 1,
        sourceAccountId: accountId,
        sourceDeviceId: 2,
        type: 1,
        content: randomBytes(64),
      },
    ],
  };
}

describe('durable commits of the message path', () => {
  it('settles a mailbox batch only after the WAL is synced', async () => {
    const filename = join(dir, 'a.sqlite');
    const storage = await openSqliteStorage({ filename });
    const accountId = randomUUID();
    await storage.createAccount(
      { accountId, number: '+14155550100', identityKey: randomBytes(33), createdAt: 1 },
      { registrationId: 1, credentialHash: randomBytes(32), name: null, createdAt: 1 },
    );
    const probe = await open(filename, 'r');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    // Kept to be called with the FileHandle as `this` below, and put back afterwards.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = proto.datasync;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const synced: string[] = [];
    proto.datasync = async function (this: FileHandle) {
      await gate;
      await original.call(this);
      synced.push('wal');
    };
    try {
      let settled = false;
      const batch = storage.commitMailboxBatch([sendTo(accountId)], [], 100).then((r) => {
        settled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 50));
      // Committed (a count sees it) but not reported while the sync is outstanding, and not
      // handed to a mailbox drain either.
      expect(await storage.mailboxSize(accountId, 1)).toBe(1);
      expect(settled).toBe(false);
      let drained = false;
      const drain = storage.readMailbox(accountId, 1, 0, 10).then((rows) => {
        drained = true;
        return rows;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(drained).toBe(false);
      release();
      expect(await drain).toHaveLength(1);
      expect((await batch).outcomes).toEqual([{ status: 'stored' }]);
      expect(synced).toEqual(['wal']);
      // storeSends and deleteEnvelopes take the same path.
      await storage.storeSends([sendTo(accountId)], 100);
      expect(synced).toEqual(['wal', 'wal']);
      // Every other transaction still commits at synchronous=FULL (2).
      const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(storage.db);
      expect(rows[0]?.synchronous).toBe(2);
    } finally {
      proto.datasync = original;
      await storage.close();
    }
  });

  it('keeps synchronous=NORMAL, unsynced, when asked to', async () => {
    const storage = await openSqliteStorage({
      filename: join(dir, 'b.sqlite'),
      synchronous: 'NORMAL',
    });
    try {
      const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(storage.db);
      expect(rows[0]?.synchronous).toBe(1);
    } finally {
      await storage.close();
    }
  });
});
