// Background WAL checkpoints: pages reach the database file while the relay's connection stays
// open (its own automatic checkpoints are off), closing leaves no WAL behind and loses nothing,
// and a worker that cannot start reports it.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SendRecord } from '@sotto/server';
import { openSqliteStorage } from '../src/index.js';
import { CHECKPOINT_INTERVAL_MS, WalCheckpointer } from '../src/wal-checkpointer.js';

const dir = mkdtempSync(join(tmpdir(), 'sotto-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('background WAL checkpoints', () => {
  it('moves committed pages into the database file while the relay keeps its connection', async () => {
    const filename = join(dir, 'a.sqlite');
    const storage = await openSqliteStorage({ filename });
    const sizeAfterOpen = statSync(filename).size;
    const accountId = randomUUID();
    await storage.createAccount(
      { accountId, number: '+14155550100', identityKey: randomBytes(33), createdAt: 1 },
      { registrationId: 1, credentialHash: randomBytes(32), name: null, createdAt: 1 },
    );
    // ~1.5 MB of envelopes: ~400 pages, below SQLite's own 1000-page automatic checkpoint, so
    // only the background worker can have moved them into the database file.
    const sends: SendRecord[] = Array.from({ length: 300 }, () => ({
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
          content: randomBytes(5000),
        },
      ],
    }));
    expect((await storage.storeSends(sends, 10_000)).every((o) => o.status === 'stored')).toBe(
      true,
    );
    expect(
      await until(
        () => statSync(filename).size > sizeAfterOpen + 1_000_000,
        40 * CHECKPOINT_INTERVAL_MS,
      ),
    ).toBe(true);
    await storage.close();
    // The last connection to close checkpointed everything and removed the WAL.
    expect(existsSync(`${filename}-wal`)).toBe(false);
    const reopened = await openSqliteStorage({ filename });
    try {
      expect(await reopened.mailboxSize(accountId, 1)).toBe(300);
    } finally {
      await reopened.close();
    }
  });

  it('reports a worker that cannot open the database', async () => {
    const reason = await new Promise<string>((resolve) => {
      WalCheckpointer.start(join(dir, 'missing', 'nothing.sqlite'), resolve);
    });
    expect(reason.length).toBeGreaterThan(0);
  });
});
