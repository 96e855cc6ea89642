/**
 * End to end (issue 5): A and B chat through a real relay; A backs up (recovery key, and a
 * password kept by the key vault); A's profile is lost; A restores on a fresh profile — once with
 * the recovery key, once with the password — and the restored history equals the original; A and
 * B go on chatting both ways (B's client recovers from the relay's 410 stale-device answer on its
 * own), with no identity-change warning since the identity key was restored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackupError,
  KeyVault,
  MemoryBackupStorage,
  MemoryVaultStore,
  RecoveryKey,
  type BackupStorage,
  type VaultClientOptions,
} from '@sotto/backup';
import { LocalDirectoryStorage } from '@sotto/backup/node';
import {
  backupTag,
  type BackupResult,
  type ClientEvent,
  type ClientStore,
  type ClientStoreTransaction,
  type ContactInfo,
  type SottoClient,
  type StoredMessage,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import {
  newClient,
  newNumber,
  rawAccount,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';
import { writeSyntheticBackup } from './synthetic-backup.js';

/** Cheap Argon2id for tests; production uses the vault client's default. */
const FAST: VaultClientOptions = {
  keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } },
};
const PASSWORD = 'correct horse battery staple';

const incoming = (events: ClientEvent[], from: string): StoredMessage[] =>
  events
    .filter((e): e is Extract<ClientEvent, { type: 'message' }> => e.type === 'message')
    .map((e) => e.message)
    .filter((m) => m.author === from);

async function history(client: SottoClient, contact: string) {
  const contacts: ContactInfo[] = await client.contacts();
  return {
    messages: await client.messages(contact),
    contacts: contacts.map((c) => ({
      ...c,
      identityKey: Buffer.from(c.identityKey ?? []).toString('hex'),
    })),
    safetyNumber: (await client.safetyNumber(contact)).digits,
  };
}

describe('backup and restore through a real relay', () => {
  let relay: Relay;
  let dir: string;
  beforeAll(async () => {
    relay = await startRelay();
    dir = mkdtempSync(join(tmpdir(), 'sotto-backup-e2e-'));
  });
  afterAll(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `text` from `from` and waits until `to` stored it. */
  async function deliver(
    from: SottoClient,
    to: SottoClient,
    toEvents: ClientEvent[],
    fromId: string,
    toId: string,
    text: string,
  ): Promise<void> {
    const sent = await from.send(toId, text);
    await until(
      () => incoming(toEvents, fromId).some((m) => m.id === sent.id),
      20_000,
      `"${text}" to arrive`,
    );
    void to;
  }

  /** A and B, chatting: numbers looked up, safety numbers verified, B's messages read by A. */
  async function chattingPair(options: Parameters<typeof registeredClient>[1] = {}) {
    const a = await registeredClient(relay, options);
    const b = await registeredClient(relay);
    const aEvents = record(a.client);
    const bEvents = record(b.client);
    await a.client.lookup(b.number);
    await b.client.lookup(a.number);
    await deliver(a.client, b.client, bEvents, a.accountId, b.accountId, 'hello B 👋');
    await deliver(b.client, a.client, aEvents, b.accountId, a.accountId, 'hi A — привет');
    await deliver(a.client, b.client, bEvents, a.accountId, b.accountId, 'how are you?');
    await a.client.markVerified(b.accountId);
    await b.client.markVerified(a.accountId);
    await a.client.markRead(
      b.accountId,
      incoming(aEvents, b.accountId).map((m) => m.id),
    );
    await until(
      async () =>
        (await a.client.messages(b.accountId)).every(
          (m) => m.direction === 'incoming' || m.status === 'delivered' || m.status === 'read',
        ),
      20_000,
      'delivery receipts at A',
    );
    await a.client.flush();
    return { a, b, bEvents };
  }

  /** After a restore: B writes first (its old session meets the relay's 410), then A. */
  async function chatOn(
    a: SottoClient,
    aId: string,
    b: SottoClient,
    bId: string,
    bEvents: ClientEvent[],
  ): Promise<void> {
    await a.connect();
    const aEvents = record(a);
    await deliver(b, a, aEvents, bId, aId, 'welcome back');
    await deliver(a, b, bEvents, aId, bId, 'thanks, all restored');
    // Same identity key: no warning at B, and B's verification of A still holds.
    expect(bEvents.some((e) => e.type === 'identity-changed')).toBe(false);
    expect((await b.contact(aId)).verified).toBe(true);
    // Nothing failed to decrypt on either side along the way.
    const failures = (events: ClientEvent[]) =>
      events.filter((e) => e.type === 'problem' && e.kind === 'decrypt-failed');
    expect(failures(bEvents)).toEqual([]);
    expect(failures(aEvents)).toEqual([]);
  }

  it('restores with the recovery key from a directory; a wrong key writes nothing', async () => {
    const vault = await KeyVault.open({ store: new MemoryVaultStore() });
    const backup = { vault, vaultOptions: FAST };
    const { a, b, bEvents } = await chattingPair({ backup });

    expect(
      await a.client.backups
        .create({ storage: new MemoryBackupStorage() })
        .catch((e: unknown) => e),
    ).toMatchObject({ code: 'NO_BACKUP_KEY' });
    const pending = await a.client.backups.createRecoveryKey();
    const shown = pending.reveal();
    expect(shown).toMatch(/^([0-9a-z]{4} ){15}[0-9a-z]{4}$/);
    await expect(pending.confirm('0000 '.repeat(16))).rejects.toMatchObject({
      code: 'RECOVERY_KEY_MISMATCH',
    });
    expect((await a.client.backups.status()).recoveryKey).toBe(false);
    await pending.confirm(shown.toUpperCase());
    await expect(a.client.backups.createRecoveryKey()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const storage: BackupStorage = new LocalDirectoryStorage(dir);
    const progress: number[] = [];
    const made = await a.client.backups.create({
      storage,
      onProgress: (p) => progress.push(p.records),
    });
    expect(made.name).toMatch(/^sotto-backup-\d{8}T\d{9}Z-[a-z2-7]{8}\.sbk$/);
    expect(progress.at(-1)).toBe(made.records);
    const original = await history(a.client, b.accountId);
    expect(original.messages).toHaveLength(3);
    expect(original.contacts).toEqual([
      expect.objectContaining({ accountId: b.accountId, number: b.number, verified: true }),
    ]);

    // A loses the device: the profile (store) is gone.
    await a.client.close();

    // A wrong recovery key is refused before anything is written or registered.
    const empty = createMemoryClientStore();
    const wrong = await newClient(relay, { store: empty });
    await expect(
      wrong.restoreFromBackup({
        storage,
        recoveryKey: RecoveryKey.generate().reveal(),
        number: a.number,
        code: '000000',
      }),
    ).rejects.toSatisfy((e: unknown) => BackupError.is(e, 'BAD_KEY'));
    expect(wrong.account).toBeNull();
    for (const ns of ['account', 'identities', 'contacts', 'message-index', 'backup']) {
      expect(await empty.list(ns)).toEqual([]);
    }
    await wrong.close();

    // Restore on a fresh profile with the recovery key.
    const a2 = await newClient(relay, { backup });
    await a2.requestCode(a.number);
    const restored = await a2.restoreFromBackup({
      storage,
      recoveryKey: shown,
      number: a.number,
      code: await relay.process.codeFor(a.number),
    });
    expect(restored).toMatchObject({
      name: made.name,
      accountId: a.accountId,
      number: a.number,
      contacts: 1,
      messages: 3,
    });
    expect(a2.account).toMatchObject({ accountId: a.accountId, deviceId: 1, status: 'registered' });
    expect(await history(a2, b.accountId)).toEqual(original);
    expect(await a2.backups.status()).toMatchObject({ recoveryKey: true, password: false });
    await chatOn(a2, a.accountId, b.client, b.accountId, bEvents);

    // The restored device's next backup opens with the same recovery key.
    const memory = new MemoryBackupStorage();
    const next = await a2.backups.create({ storage: memory });
    // The restored device carries on the same name tag (retention keeps treating them as its own).
    expect(backupTag(next.name)).toBe(backupTag(made.name));
    await a2.close();
    const a3 = await newClient(relay);
    await a3.requestCode(a.number);
    const third = await a3.restoreFromBackup({
      storage: memory,
      recoveryKey: shown,
      number: a.number,
      code: await relay.process.codeFor(a.number),
    });
    expect(third.messages).toBe(5);
    await a3.close();
    await b.client.close();
  }, 120_000);

  it('restores with the password through the key vault; the schedule comes along and catches up', async () => {
    const vault = await KeyVault.open({ store: new MemoryVaultStore() });
    const backup = { vault, vaultOptions: FAST };
    const { a, b, bEvents } = await chattingPair({ backup });
    await a.client.backups.setPassword(PASSWORD);
    expect(await a.client.backups.checkPassword(PASSWORD)).toBe(true);
    await a.client.backups.setSchedule('daily', { keep: 4 });
    const storage = new MemoryBackupStorage();
    const made = await a.client.backups.create({ storage });
    const original = await history(a.client, b.accountId);
    await a.client.close();

    // The new device runs three days later: the daily backup is overdue when it connects, and
    // the scheduler (started on connect, since a storage is configured) catches up at once.
    const scheduled: Array<BackupResult | Error> = [];
    const later = 3 * 86_400_000;
    const a2 = await newClient(relay, {
      now: () => Date.now() + later,
      backup: { ...backup, storage, onScheduledBackup: (r) => scheduled.push(r) },
    });
    await a2.requestCode(a.number);
    await expect(
      a2.restoreFromBackup({
        storage,
        password: 'not the password',
        accountId: a.accountId,
        number: a.number,
        code: '000000',
      }),
    ).rejects.toSatisfy((e: unknown) => BackupError.is(e, 'VAULT_WRONG_PASSWORD'));
    expect(a2.account).toBeNull();
    const restored = await a2.restoreFromBackup({
      storage,
      password: PASSWORD,
      accountId: a.accountId,
      number: a.number,
      code: await relay.process.codeFor(a.number),
    });
    expect(restored).toMatchObject({ name: made.name, accountId: a.accountId, messages: 3 });
    expect(await history(a2, b.accountId)).toEqual(original);
    expect(await a2.backups.status()).toMatchObject({
      recoveryKey: false,
      password: true,
      scheduleIntervalMs: 86_400_000,
      keep: 4,
    });
    await chatOn(a2, a.accountId, b.client, b.accountId, bEvents);
    await expect.poll(() => scheduled.length, { timeout: 20_000 }).toBe(1);
    const automatic = scheduled[0] as BackupResult;
    expect(automatic.name).not.toBe(made.name);
    expect((await a2.backups.list(storage)).map((x) => x.name)).toEqual([
      made.name,
      automatic.name,
    ]);
    await a2.close();
    await b.client.close();
  }, 120_000);

  it("restores from the relay with the password of the relay's key vault (one SMS code)", async () => {
    // No vault option: the client uses the key vault inside the relay, over HTTP.
    const backup = { vaultOptions: FAST };
    const { a, b, bEvents } = await chattingPair({ backup });
    await a.client.backups.setPassword(PASSWORD);
    const made = await a.client.backups.create({ storage: a.client.backups.relayStorage() });
    expect(
      (await a.client.backups.list(a.client.backups.relayStorage())).map((x) => x.name),
    ).toEqual([made.name]);
    const original = await history(a.client, b.accountId);
    await a.client.close();

    // A first attempt fails after the provisional registration (a wrong password): the number is
    // registered to a device with a throwaway identity key and no prekeys, so nobody can fetch a
    // bundle — and the restore simply runs again.
    const failed = await newClient(relay, { backup });
    await failed.requestCode(a.number);
    await expect(
      failed.restoreFromBackup({
        storage: 'relay',
        password: 'not the password',
        number: a.number,
        code: await relay.process.codeFor(a.number),
      }),
    ).rejects.toSatisfy((e: unknown) => BackupError.is(e, 'VAULT_WRONG_PASSWORD'));
    expect(failed.account).toBeNull();
    await failed.close();
    const stranger = await rawAccount(relay);
    const fetchBundle = () =>
      fetch(`${relay.url}/v1/keys/${a.accountId}/*`, {
        headers: { authorization: stranger.authorization },
      });
    expect((await fetchBundle()).status).toBe(404);

    const a2 = await newClient(relay, { backup });
    await a2.requestCode(a.number);
    const code = await relay.process.codeFor(a.number);
    const passes: string[] = [];
    const restored = await a2.restoreFromBackup({
      storage: 'relay',
      password: PASSWORD,
      number: a.number,
      code,
      onProgress: (p) => {
        if (p.pass !== undefined && passes.at(-1) !== p.pass) passes.push(p.pass);
      },
    });
    // Verified to the end, then written.
    expect(passes).toEqual(['verify', 'write']);
    // One SMS code: no second one was sent.
    expect(await relay.process.codeFor(a.number)).toBe(code);
    // B's first bundle of the restored device carries the restored identity key (the throwaway
    // one of the provisional registration never had prekeys to hand out).
    const known = (await b.client.contact(a.accountId)).identityKey!;
    const res = await fetchBundle();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { identityKey: string }).identityKey).toBe(
      Buffer.from(known).toString('base64'),
    );
    expect(restored).toMatchObject({ name: made.name, accountId: a.accountId, messages: 3 });
    expect(await history(a2, b.accountId)).toEqual(original);
    await chatOn(a2, a.accountId, b.client, b.accountId, bEvents);
    await a2.close();
    await b.client.close();
  }, 120_000);

  it('a registration-locked number: the backup in a directory opens the lock without the PIN', async () => {
    const { a, b, bEvents } = await chattingPair();
    await a.client.setPin('2468-1357');
    const pending = await a.client.backups.createRecoveryKey();
    const shown = pending.reveal();
    await pending.confirm(shown);
    const dirStorage = new LocalDirectoryStorage(mkdtempSync(join(dir, 'locked-')));
    await a.client.backups.create({ storage: dirStorage });
    await a.client.backups.create({ storage: a.client.backups.relayStorage() });
    await a.client.close();

    // From the relay, the first (provisional) registration meets the lock: the PIN is needed.
    const viaRelay = await newClient(relay);
    await viaRelay.requestCode(a.number);
    await expect(
      viaRelay.restoreFromBackup({
        storage: 'relay',
        recoveryKey: shown,
        number: a.number,
        code: await relay.process.codeFor(a.number),
      }),
    ).rejects.toMatchObject({ code: 'REGISTRATION_LOCKED', apiCode: 'REGISTRATION_LOCKED' });
    expect(viaRelay.account).toBeNull();
    await viaRelay.close();

    // From the directory, the backup's master key answers the lock, and the lock stays on.
    const a2 = await newClient(relay);
    await a2.requestCode(a.number);
    const restored = await a2.restoreFromBackup({
      storage: dirStorage,
      recoveryKey: shown,
      number: a.number,
      code: await relay.process.codeFor(a.number),
    });
    expect(restored.accountId).toBe(a.accountId);
    expect(await a2.registrationLockEnabled()).toBe(true);
    expect((await a2.serverAccount()).registrationLock).toBe(true);
    await chatOn(a2, a.accountId, b.client, b.accountId, bEvents);
    await a2.close();
    await b.client.close();
  }, 120_000);

  /** A memory store that counts every write, direct or in a transaction. */
  function countingStore(): { store: ClientStore; writes: () => number } {
    const inner = createMemoryClientStore();
    let writes = 0;
    const counted = (tx: ClientStoreTransaction): ClientStoreTransaction => ({
      get: (ns, k) => tx.get(ns, k),
      list: (ns) => tx.list(ns),
      put: (ns, k, v) => {
        writes++;
        return tx.put(ns, k, v);
      },
      delete: (ns, k) => {
        writes++;
        return tx.delete(ns, k);
      },
    });
    const store: ClientStore = {
      ...counted(inner),
      transaction: (fn) => inner.transaction((tx) => fn(counted(tx))),
      close: () => inner.close(),
    };
    return { store, writes: () => writes };
  }

  /** A copy of `name` in a new memory storage, changed by `damage`. */
  async function damaged(
    from: BackupStorage,
    name: string,
    damage: (bytes: Uint8Array) => Uint8Array,
  ): Promise<BackupStorage> {
    const bytes = new Uint8Array(await new Response(await from.get(name)).arrayBuffer());
    const out = new MemoryBackupStorage();
    await out.put(name, [damage(bytes)]);
    return out;
  }

  it('a truncated or altered archive writes nothing, even when the damage is in the last chunk', async () => {
    const number = newNumber();
    const source = new MemoryBackupStorage();
    // Chunks of 1 KiB: the records of the first chunks are read long before the damage is seen.
    const made = await writeSyntheticBackup(source, {
      number,
      messages: 400,
      chunkSize: 1024,
      compression: 'none',
    });
    const size = (await source.list())[0]!.size;
    // docs/backup-format.md: the header length is at offset 10; every chunk but the last is
    // chunk size + 16 bytes.
    const lastChunkStart = (b: Uint8Array): number => {
      const headerLength = (b[10]! << 8) | b[11]!;
      return size - ((size - headerLength) % (1024 + 16) || 1024 + 16);
    };
    const cases: Array<[string, (b: Uint8Array) => Uint8Array, string]> = [
      ['the last chunk dropped', (b) => b.slice(0, lastChunkStart(b)), 'TRUNCATED'],
      ['cut inside the last chunk', (b) => b.slice(0, size - 5), 'CORRUPT_CHUNK'],
      [
        'a bit flipped in the last chunk',
        (b) => {
          const c = b.slice();
          c[size - 20]! ^= 1;
          return c;
        },
        'CORRUPT_CHUNK',
      ],
      ['bytes appended', (b) => Uint8Array.from([...b, 0, 1, 2]), 'TRAILING_DATA'],
    ];
    for (const [what, damage, code] of cases) {
      const storage = await damaged(source, made.name, damage);
      const { store, writes } = countingStore();
      const client = await newClient(relay, { store });
      const seen: Array<string | undefined> = [];
      await expect(
        client.restoreFromBackup({
          storage,
          recoveryKey: made.recoveryKey,
          number,
          code: '000000',
          onProgress: (p) => seen.push(p.pass),
        }),
        what,
      ).rejects.toSatisfy((e: unknown) => BackupError.is(e, code as 'TRUNCATED'));
      // Records were read (pass 1 went far), yet nothing was written or registered.
      expect(seen.length, what).toBeGreaterThan(1);
      expect(seen.includes('write'), what).toBe(false);
      expect(writes(), what).toBe(0);
      expect(client.account, what).toBeNull();
      await client.close();
    }

    // The intact archive restores (so the cases above fail for their damage alone).
    const { store, writes } = countingStore();
    const client = await newClient(relay, { store });
    await client.requestCode(number);
    const restored = await client.restoreFromBackup({
      storage: source,
      recoveryKey: made.recoveryKey,
      number,
      code: await relay.process.codeFor(number),
    });
    expect(restored).toMatchObject({ contacts: 3, messages: 400 });
    expect(writes()).toBeGreaterThan(800);
    const contacts = await client.contacts();
    expect(contacts).toHaveLength(3);
    let total = 0;
    for (const c of contacts) total += (await client.messages(c.accountId)).length;
    expect(total).toBe(400);
    await client.close();
  }, 120_000);

  it('a restore stops when the archive changes between its two passes', async () => {
    const number = newNumber();
    const source = new MemoryBackupStorage();
    const made = await writeSyntheticBackup(source, {
      number,
      messages: 300,
      chunkSize: 1024,
      compression: 'none',
    });
    const bytes = new Uint8Array(await new Response(await source.get(made.name)).arrayBuffer());
    // Storage that serves the archive once, then something else under the same name.
    const switching = (second: Uint8Array): BackupStorage => {
      let gets = 0;
      return {
        put: (name, stream) => source.put(name, stream),
        list: () => source.list(),
        delete: (name) => source.delete(name),
        get: (name) => {
          gets++;
          const body = gets === 1 ? bytes : second;
          void name;
          return Promise.resolve(new Response(body).body!);
        },
      };
    };
    // The same archive cut at a chunk boundary the second time: pass 2 notices the cut.
    const cut = bytes.slice(0, bytes.length - 2 * (1024 + 16));
    // Another archive of the same account (same backup key, another backup id) the second time:
    // refused before its first record.
    const other = new MemoryBackupStorage();
    await writeSyntheticBackup(other, { number, messages: 10, name: made.name, keysOf: made });
    const foreign = new Uint8Array(await new Response(await other.get(made.name)).arrayBuffer());
    for (const [what, second, code] of [
      ['cut', cut, 'TRUNCATED'],
      ['foreign', foreign, 'STORAGE_IO'],
    ] as const) {
      const client = await newClient(relay);
      await client.requestCode(number);
      await expect(
        client.restoreFromBackup({
          storage: switching(second),
          recoveryKey: made.recoveryKey,
          number,
          code: await relay.process.codeFor(number),
        }),
        what,
      ).rejects.toSatisfy((e: unknown) => BackupError.is(e, code));
      // The store does not say "registered": the restore can simply run again.
      expect(client.account, what).toBeNull();
      await client.close();
    }
    const client = await newClient(relay);
    await client.requestCode(number);
    const restored = await client.restoreFromBackup({
      storage: switching(bytes),
      recoveryKey: made.recoveryKey,
      number,
      code: await relay.process.codeFor(number),
    });
    expect(restored.messages).toBe(300);
    await client.close();
  }, 120_000);
});
