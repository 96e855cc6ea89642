// A restore streams with constant memory (docs/backups.md "Restoring"): a synthetic backup in a
// local directory is restored through `restoreFromBackup` — pass 1 verifies it, pass 2 writes it —
// into an encrypted SQLite client store on disk, against a real relay process, while the resident
// memory of this process (the client) is sampled every 10 ms. A history of 160 MiB must not take
// more memory than one of 32 MiB (plus noise); holding the records until the archive verified, as
// restores did before, takes more than the whole history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalDirectoryStorage } from '@sotto/backup/node';
import { openSqliteClientStore } from '@sotto/client-store-sqlite';
import { newClient, newNumber, startRelay, type Relay } from './client-support.js';
import { writeSyntheticBackup } from './synthetic-backup.js';

const MIB = 1024 * 1024;
const BODY = 2000;
const CONTACTS = 20;
/** Allowed growth of the 160 MiB restore over the 32 MiB one (noise of the sampled RSS). */
const MAX_EXTRA_GROWTH = 48 * MIB;
/** Allowed growth over the baseline for any size. */
const MAX_GROWTH = 128 * MIB;

let relay: Relay;
let dir: string;
beforeAll(async () => {
  relay = await startRelay();
  dir = mkdtempSync(join(tmpdir(), 'sotto-restore-mem-'));
}, 60_000);
afterAll(async () => {
  await relay.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Restores a synthetic history of about `mib` MiB; returns the peak RSS growth. */
async function restoreGrowth(mib: number): Promise<number> {
  const messages = CONTACTS * Math.round((mib * MIB) / BODY / CONTACTS);
  const storage = new LocalDirectoryStorage(mkdtempSync(join(dir, 'backups-')));
  const number = newNumber();
  const made = await writeSyntheticBackup(storage, {
    number,
    messages,
    bodyLength: BODY,
    contacts: CONTACTS,
    compression: 'none',
  });
  const archiveSize = (await storage.list())[0]!.size;
  expect(archiveSize).toBeGreaterThan(mib * MIB * 0.95);
  const store = await openSqliteClientStore({
    path: join(mkdtempSync(join(dir, 'profile-')), 'store.sqlite'),
    passphrase: 'a long enough test passphrase',
  });
  const client = await newClient(relay, { store });
  await client.requestCode(number);
  const code = await relay.process.codeFor(number);

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let lastBytes = 0;
  try {
    const restored = await client.restoreFromBackup({
      storage,
      recoveryKey: made.recoveryKey,
      number,
      code,
      onProgress: (p) => {
        lastBytes = p.bytes;
      },
    });
    expect(restored).toMatchObject({ contacts: CONTACTS, messages });
  } finally {
    clearInterval(sampler);
  }
  // Both passes read the whole archive.
  expect(lastBytes).toBe(2 * archiveSize);
  const contact = (await client.contacts())[0]!;
  expect((await client.messages(contact.accountId)).length).toBe(messages / CONTACTS);
  await client.close();
  const growth = peak - baseline;
  console.log(
    `restore of ${Math.round(archiveSize / MIB)} MiB: RSS +${Math.round(growth / MIB)} MiB`,
  );
  return growth;
}

it(
  'restores 160 MiB into a store on disk in the memory 32 MiB need',
  { timeout: 600_000 },
  async () => {
    // The first restore of a process loads code and warms caches (measured: +100 MiB at once).
    await restoreGrowth(4);
    const small = await restoreGrowth(32);
    const large = await restoreGrowth(160);
    expect(large).toBeLessThan(MAX_GROWTH);
    expect(large).toBeLessThan(small + MAX_EXTRA_GROWTH);
  },
);
