/**
 * `client.backups` without a relay: the store ⇄ records mapping round-trips a history exactly,
 * recovery-key set-up and rotation (old keys stop opening new backups), password protection
 * through an in-process key vault, retention, names, and the scheduler's catch-up at start.
 * The whole restore (registration included) runs against a real relay in
 * tests/e2e/backup-restore.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '@sotto/api';
import {
  BackupError,
  KeyVault,
  MemoryBackupStorage,
  MemoryVaultStore,
  RecoveryKey,
  openBackup,
  type VaultClientOptions,
} from '@sotto/backup';
import { IdentityKeyPair } from '@sotto/protocol';
import { randomBytes } from '@sotto/crypto';
import {
  backupName,
  backupTag,
  backupTime,
  createClient,
  type BackupResult,
  type ClientStore,
  type SottoClient,
  type StoredMessage,
  type WebSocketLike,
} from '../src/index.js';
import { createMemoryClientStore } from '../src/testing/index.js';
import { RecordImporter, type StagedWrite } from '../src/backup/backup-records.js';
import { ACCOUNT_KEYS, encodeRegistration } from '../src/state/account-records.js';
import { encodeTrust } from '../src/state/device-state.js';
import { toJsonBytes } from '../src/state/json.js';
import { messagesNamespace, NS, padNumber } from '../src/state/namespaces.js';

const ME = '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d';
const BOB = '8d0e2f5c-1111-4a2b-9c3d-4e5f6a7b8c9d';
const CAROL = 'a1b2c3d4-2222-4e5f-8a9b-0c1d2e3f4a5b';
const FAST: VaultClientOptions = {
  keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } },
};
const noSocket = (): WebSocketLike => {
  throw new Error('no sockets in this test');
};

const enc = new TextEncoder();

function message(
  m: Partial<StoredMessage> & Pick<StoredMessage, 'conversation' | 'author'>,
): StoredMessage {
  return {
    id: toBase64Url(randomBytes(16)),
    authorDevice: 1,
    direction: m.author === ME ? 'outgoing' : 'incoming',
    body: 'text',
    sentAt: 1_750_000_000_000,
    storedAt: 1_750_000_000_500,
    ...m,
  };
}

/** A registered device's store: identity, two contacts (one verified, one with a held key change), messages. */
async function seededStore(): Promise<{ store: ClientStore; messages: StoredMessage[] }> {
  const store = createMemoryClientStore();
  const identity = IdentityKeyPair.generate(randomBytes);
  const key = (): Uint8Array => Uint8Array.of(5, ...randomBytes(32));
  const messages = [
    message({ conversation: BOB, author: ME, body: 'hi Bob 👋', status: 'read', sentAt: 1 }),
    message({
      conversation: BOB,
      author: BOB,
      body: 'привет',
      status: 'read',
      sentAt: 2,
      serverTimestamp: 3,
    }),
    message({ conversation: BOB, author: BOB, body: 'unread', sentAt: 4, serverTimestamp: 5 }),
    message({
      conversation: BOB,
      author: ME,
      authorDevice: 2,
      body: 'from my laptop',
      status: 'sent',
      sentAt: 6,
      serverTimestamp: 7,
    }),
    message({ conversation: CAROL, author: ME, body: 'held', status: 'held', sentAt: 8 }),
    message({ conversation: ME, author: ME, body: 'note to self', status: 'sent', sentAt: 9 }),
  ];
  await store.transaction(async (tx) => {
    await tx.put(
      NS.account,
      ACCOUNT_KEYS.registration,
      encodeRegistration({
        accountId: ME,
        deviceId: 1,
        credential: randomBytes(32),
        registrationId: 1234,
        number: '+14155550100',
        status: 'registered',
      }),
    );
    await tx.put(NS.account, ACCOUNT_KEYS.identity, identity.serialize());
    await tx.put(NS.account, ACCOUNT_KEYS.masterKey, randomBytes(32));
    await tx.put(NS.account, ACCOUNT_KEYS.registrationLock, toJsonBytes({ enabled: true }));
    await tx.put(NS.contacts, BOB, toJsonBytes({ number: '+14155550101' }));
    await tx.put(
      NS.identities,
      BOB,
      encodeTrust({ key: key(), accepted: true, verified: true, firstSeenAt: 1 }),
    );
    await tx.put(
      NS.identities,
      CAROL,
      encodeTrust({
        key: key(),
        accepted: false,
        verified: false,
        firstSeenAt: 1,
        previousKey: key(),
        changedAt: 2,
      }),
    );
    for (const m of messages) {
      const k = `${padNumber(m.sentAt)}.${m.author}.${m.id}`;
      await tx.put(messagesNamespace(m.conversation), k, toJsonBytes(m));
      await tx.put(NS.messageIndex, `${m.author}/${m.id}`, enc.encode(`${m.conversation} ${k}`));
    }
    await tx.put('app', 'alias:bob', enc.encode('+14155550101'));
  });
  return { store, messages };
}

async function client(store: ClientStore, extra: { now?: () => number; vault?: KeyVault } = {}) {
  return createClient({
    serverUrl: 'http://relay.test',
    store,
    webSocketFactory: noSocket,
    fetch: () => Promise.reject(new Error('no relay in this test')),
    ...(extra.now === undefined ? {} : { now: extra.now }),
    backup: {
      namespaces: ['app'],
      app: 'test/1',
      ...(extra.vault === undefined ? {} : { vault: extra.vault, vaultOptions: FAST }),
    },
  });
}

async function withRecoveryKey(c: SottoClient): Promise<string> {
  const pending = await c.backups.createRecoveryKey();
  const shown = pending.reveal();
  await pending.confirm(shown);
  return shown;
}

/** Pass 1 of a restore (restore.ts): what later records refer to; messages only counted. */
async function readAll(storage: MemoryBackupStorage, name: string, key: RecoveryKey) {
  const reader = await openBackup(await storage.get(name), key);
  const importer = new RecordImporter(0);
  for await (const batch of reader.batches()) for (const r of batch) importer.add(r);
  return importer;
}

/** Pass 2: the archive again, each message turned into its writes as it streams by. */
async function writesOf(
  storage: MemoryBackupStorage,
  name: string,
  key: RecoveryKey,
  importer: RecordImporter,
  namespaces: readonly string[],
): Promise<StagedWrite[]> {
  const out = importer.contactWrites();
  const reader = await openBackup(await storage.get(name), key);
  for await (const batch of reader.batches()) {
    for (const r of batch) if (r.type === 'message') importer.messageWrites(r, ME, out);
  }
  out.push(...importer.settingWrites(namespaces));
  return out;
}

describe('client.backups', () => {
  it('round-trips the store: messages, index, contacts, verification and app settings', async () => {
    const { store, messages } = await seededStore();
    const c = await client(store);
    const shown = await withRecoveryKey(c);
    const storage = new MemoryBackupStorage();
    const seen: Array<{ records: number; totalRecords?: number }> = [];
    const result = await c.backups.create({ storage, onProgress: (p) => seen.push(p) });
    expect(result.records).toBeGreaterThan(messages.length);
    // The estimate counted beforehand is exact.
    expect(seen.at(-1)).toMatchObject({ records: result.records, totalRecords: result.records });

    const importer = await readAll(storage, result.name, RecoveryKey.parse(shown));
    const { account, identity } = importer.account();
    expect(account).toMatchObject({
      accountId: ME,
      phoneNumber: '+14155550100',
      registrationId: 1234,
    });
    expect(identity.serialize()).toEqual(await store.get(NS.account, ACCOUNT_KEYS.identity));
    expect(account.masterKey).toEqual(await store.get(NS.account, ACCOUNT_KEYS.masterKey));
    expect(importer.messageCount).toBe(messages.length);
    expect(importer.contactCount).toBe(2);

    const restored = createMemoryClientStore();
    await restored.transaction(async (tx) => {
      const writes = await writesOf(storage, result.name, RecoveryKey.parse(shown), importer, [
        'app',
      ]);
      for (const [ns, k, v] of writes) await tx.put(ns, k, v);
    });
    const parsed = async (st: ClientStore, ns: string): Promise<Array<[string, unknown]>> =>
      (await st.list(ns)).map(([k, v]) => [k, JSON.parse(new TextDecoder().decode(v)) as unknown]);
    for (const ns of [messagesNamespace(BOB), messagesNamespace(ME)]) {
      expect(await parsed(restored, ns)).toEqual(await parsed(store, ns));
    }
    // A message the relay had not accepted yet (held) is restored as failed: no outbox comes back.
    const [held] = await parsed(restored, messagesNamespace(CAROL));
    const [original] = await parsed(store, messagesNamespace(CAROL));
    expect(held).toEqual([original![0], { ...(original![1] as object), status: 'failed' }]);
    for (const ns of [NS.messageIndex, NS.contacts, 'app']) {
      expect(await restored.list(ns)).toEqual(await store.list(ns));
    }
    // Trust: keys and verification as they were (first-seen times are not kept).
    const trust = new Map(
      (await restored.list(NS.identities)).map(([k, v]) => [
        k,
        JSON.parse(new TextDecoder().decode(v)) as { key: string },
      ]),
    );
    const before = new Map(
      (await store.list(NS.identities)).map(([k, v]) => [
        k,
        JSON.parse(new TextDecoder().decode(v)) as { key: string },
      ]),
    );
    expect(trust.get(BOB)).toMatchObject({
      key: before.get(BOB)!.key,
      accepted: true,
      verified: true,
    });
    expect(trust.get(CAROL)).toMatchObject({
      key: before.get(CAROL)!.key,
      accepted: false,
      verified: false,
    });
    // Namespaces not asked for are not restored from an archive.
    expect(importer.settingWrites([]).some(([ns]) => ns === 'app')).toBe(false);
    expect(importer.settingWrites(['app']).some(([ns]) => ns === 'app')).toBe(true);
  });

  it('refuses to back up without a recovery key or password, and never stores the recovery key', async () => {
    const { store } = await seededStore();
    const c = await client(store);
    await expect(c.backups.create({ storage: new MemoryBackupStorage() })).rejects.toMatchObject({
      code: 'NO_BACKUP_KEY',
    });
    const pending = await c.backups.createRecoveryKey();
    const shown = pending.reveal();
    await expect(pending.confirm(RecoveryKey.generate().reveal())).rejects.toMatchObject({
      code: 'RECOVERY_KEY_MISMATCH',
    });
    expect(await c.backups.status()).toMatchObject({ keyCreated: false, recoveryKey: false });
    await pending.confirm(shown.replaceAll(' ', '-'));
    expect(await c.backups.status()).toMatchObject({ keyCreated: true, recoveryKey: true });
    const compact = shown.replaceAll(' ', '');
    for (const ns of ['backup', 'account']) {
      for (const [, v] of await store.list(ns)) {
        expect(Buffer.from(v).toString('latin1')).not.toContain(compact);
      }
    }
  });

  it('rotating the recovery key makes a new backup key: the old key opens only older backups', async () => {
    const { store } = await seededStore();
    const c = await client(store);
    const first = await withRecoveryKey(c);
    const storage = new MemoryBackupStorage();
    const before = await c.backups.create({ storage });
    const pending = await c.backups.rotateRecoveryKey();
    const second = pending.reveal();
    await pending.confirm(second);
    const after = await c.backups.create({ storage });

    await expect(readAll(storage, before.name, RecoveryKey.parse(first))).resolves.toBeDefined();
    await expect(readAll(storage, after.name, RecoveryKey.parse(second))).resolves.toBeDefined();
    for (const [name, key] of [
      [after.name, first],
      [before.name, second],
    ] as const) {
      const err = await openBackup(await storage.get(name), RecoveryKey.parse(key)).catch(
        (e: unknown) => e,
      );
      expect(BackupError.is(err, 'BAD_KEY')).toBe(true);
    }
  });

  it('protects the key with a password in the vault; rotation re-stores it there', async () => {
    const { store } = await seededStore();
    const vault = await KeyVault.open({ store: new MemoryVaultStore() });
    const c = await client(store, { vault });
    await c.backups.setPassword('first password');
    expect(await c.backups.status()).toMatchObject({ keyCreated: true, password: true });
    expect(await c.backups.checkPassword('first password')).toBe(true);
    const wrong = await c.backups.checkPassword('guess').catch((e: unknown) => e);
    expect(BackupError.is(wrong, 'VAULT_WRONG_PASSWORD')).toBe(true);
    // A backup protected by the password alone has no recovery-key slot.
    const storage = new MemoryBackupStorage();
    const made = await c.backups.create({ storage });
    const noSlot = await openBackup(await storage.get(made.name), RecoveryKey.generate()).catch(
      (e: unknown) => e,
    );
    expect(BackupError.is(noSlot, 'NO_RECOVERY_SLOT')).toBe(true);

    await expect(c.backups.rotateRecoveryKey()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const pending = await c.backups.rotateRecoveryKey({ password: 'second password' });
    await pending.confirm(pending.reveal());
    expect(await c.backups.checkPassword('second password')).toBe(true);
  });

  it("keeps the newest N backups and leaves other objects and other profiles' backups alone", async () => {
    const { store } = await seededStore();
    let now = 1_750_000_000_000;
    const c = await client(store, { now: () => now });
    await withRecoveryKey(c);
    const storage = new MemoryBackupStorage();
    await storage.put('unrelated.bin', [Uint8Array.of(1, 2, 3)]);
    // Another profile's backups in the same place (older than all of ours).
    const other = backupName(now - 1000, 'abcdefgh');
    const untagged = backupName(now - 2000);
    await storage.put(other, [Uint8Array.of(1)]);
    await storage.put(untagged, [Uint8Array.of(1)]);
    await c.backups.setKeep(2);
    const made: BackupResult[] = [];
    for (let i = 0; i < 4; i++) {
      now += 60_000;
      made.push(await c.backups.create({ storage }));
    }
    expect(made[2]!.deleted).toEqual([made[0]!.name]);
    expect(made[3]!.deleted).toEqual([made[1]!.name]);
    const tag = backupTag(made[0]!.name);
    expect(tag).toMatch(/^[a-z2-7]{8}$/);
    for (const m of made) expect(backupTag(m.name)).toBe(tag);
    expect((await storage.list()).map((o) => o.name)).toEqual(
      [untagged, other, made[2]!.name, made[3]!.name, 'unrelated.bin'].sort(),
    );
    expect((await c.backups.list(storage)).map((b) => b.name)).toEqual([
      untagged,
      other,
      made[2]!.name,
      made[3]!.name,
    ]);
    expect(await c.backups.delete(storage, made[2]!.name)).toBe(true);
    await expect(c.backups.setKeep(0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => c.backups.delete(storage, 'unrelated.bin')).toThrow();
  });

  it('names sort by time and parse back', () => {
    const at = Date.UTC(2025, 5, 1, 12, 0, 0, 123);
    expect(backupName(at)).toBe('sotto-backup-20250601T120000123Z.sbk');
    expect(backupName(at, 'abcdefgh')).toBe('sotto-backup-20250601T120000123Z-abcdefgh.sbk');
    expect(backupTime(backupName(at))).toBe(at);
    expect(backupTime(backupName(at, 'abcdefgh'))).toBe(at);
    expect(backupTag(backupName(at, 'abcdefgh'))).toBe('abcdefgh');
    expect(backupTag(backupName(at))).toBeNull();
    expect(backupTime('sotto-backup-x.sbk')).toBeNull();
    expect(backupName(at) < backupName(at + 1)).toBe(true);
  });

  it('the scheduler catches up at start when a backup is overdue, then waits an interval', async () => {
    const { store } = await seededStore();
    let now = 1_750_000_000_000;
    const results: Array<BackupResult | Error> = [];
    const c = await createClient({
      serverUrl: 'http://relay.test',
      store,
      webSocketFactory: noSocket,
      now: () => now,
      backup: { onScheduledBackup: (r) => results.push(r) },
    });
    await withRecoveryKey(c);
    const storage = new MemoryBackupStorage();
    await c.backups.create({ storage }); // the last backup: now
    await c.backups.setSchedule('daily', { keep: 5 });
    expect(await c.backups.status()).toMatchObject({ scheduleIntervalMs: 86_400_000, keep: 5 });
    now += 2 * 86_400_000; // the client was not running for two days
    c.backups.startScheduler(storage);
    await expect.poll(() => results.length, { timeout: 10_000 }).toBe(1);
    expect(results[0]).toMatchObject({ createdAt: now });
    expect((await c.backups.list(storage)).length).toBe(2);
    await c.close();
    expect(c.backups.schedulerRunning).toBe(false);
    await expect(c.backups.setSchedule(1000)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('createIfDue makes a backup only when the schedule says one is due', async () => {
    const { store } = await seededStore();
    let now = 1_750_000_000_000;
    const c = await client(store, { now: () => now });
    await withRecoveryKey(c);
    const storage = new MemoryBackupStorage();
    // Off: nothing, whatever the time.
    expect(await c.backups.createIfDue({ storage })).toBeNull();
    expect(await c.backups.status()).toMatchObject({ nextBackupAt: null });
    await c.backups.setSchedule('daily', { keep: 2 });
    // On, and never backed up: due at once.
    const first = await c.backups.createIfDue({ storage });
    expect(first).toMatchObject({ createdAt: now, deleted: [] });
    expect(await c.backups.status()).toMatchObject({ nextBackupAt: now + 86_400_000 });
    // Not due an hour later, nor 16 minutes short of a day.
    now += 3_600_000;
    expect(await c.backups.createIfDue({ storage })).toBeNull();
    now = first!.createdAt + 86_400_000 - 16 * 60_000;
    expect(await c.backups.createIfDue({ storage })).toBeNull();
    expect((await c.backups.list(storage)).length).toBe(1);
    // A timer that fires at the same time each day: seconds short of a day counts as due.
    now = first!.createdAt + 86_400_000 - 5_000;
    expect(await c.backups.createIfDue({ storage })).toMatchObject({ createdAt: now });
    now += 86_400_000;
    const third = await c.backups.createIfDue({ storage });
    // Retention as for `create`: the newest 2 stay.
    expect(third).toMatchObject({ createdAt: now, deleted: [first!.name] });
    expect((await c.backups.list(storage)).map((b) => b.name)).not.toContain(first!.name);
    await c.close();
  });
});
