// The SQLite VaultStore: the port's conformance suite on a file and in memory, durability and
// erasure settings, migrations, and the guess limit under concurrency with the vault core on top
// (docs/backups.md "Guess limiting": 200 parallel guesses release exactly 10 login responses).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BackupError,
  KeyVault,
  limits,
  recoverVaultSecret,
  storeVaultSecret,
  type VaultClientOptions,
} from '@sotto/backup';
import { describeVaultStoreConformance } from '@sotto/backup/testing';
import { openSqliteVaultStore, type SqliteVaultStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sotto-vault-store-'));
const opened: SqliteVaultStore[] = [];
afterAll(() => {
  for (const s of opened) s.close();
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
function open(filename = join(dir, `vault-${++files}.db`)): SqliteVaultStore {
  const store = openSqliteVaultStore({ filename });
  opened.push(store);
  return store;
}

/** Cheap Argon2id so tests run fast; production uses the default key stretching. */
const FAST: VaultClientOptions = {
  keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } },
};

describeVaultStoreConformance('sqlite file', () => Promise.resolve(open()));
describeVaultStoreConformance('sqlite :memory:', () => Promise.resolve(open(':memory:')));

describe('SqliteVaultStore', () => {
  it('opens in WAL mode with synchronous=FULL and secure_delete=ON', () => {
    // synchronous: 2 = FULL; secure_delete: 1 = ON.
    expect(open().settings()).toEqual({ journalMode: 'wal', synchronous: 2, secureDelete: 1 });
    expect(open(':memory:').settings()).toMatchObject({ synchronous: 2, secureDelete: 1 });
  });

  it('keeps records and the server setup across a reopen, and migrates only once', async () => {
    const filename = join(dir, 'reopen.db');
    const first = open(filename);
    expect(await first.saveServerSetupIfAbsent('setup-1')).toBe('setup-1');
    const key = { accountId: 'acct-reopen', purpose: 'pin-master-key' } as const;
    const record = {
      status: 'active' as const,
      registrationId: 'AAECAwQFBgcICQoLDA0ODw',
      registrationRecord: 'cmVj',
      wrappedSecret: Uint8Array.of(1, 2, 3),
      clientParams: '',
      failedAttempts: 4,
      lastAttemptAtMs: 123,
      updatedAtMs: 456,
    };
    expect(await first.compareAndSet(key, undefined, 'r1', record)).toBe(true);
    first.close();
    const second = open(filename);
    expect(await second.loadServerSetup()).toBe('setup-1');
    expect(await second.get(key)).toEqual({ revision: 'r1', record });
    second.close();
    const db = new Database(filename, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM vault_migrations').all()).toEqual([{ version: 1 }]);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer version', () => {
    const filename = join(dir, 'newer.db');
    open(filename).close();
    const db = new Database(filename);
    db.prepare('INSERT INTO vault_migrations (version, applied_at_ms) VALUES (99, 0)').run();
    db.close();
    expect(() => openSqliteVaultStore({ filename })).toThrow(/newer than this code/);
  });

  it('erases a destroyed record from the file (secure_delete)', async () => {
    const filename = join(dir, 'erase.db');
    const store = open(filename);
    const key = { accountId: 'acct-erase', purpose: 'backup' } as const;
    const marker = 'Q'.repeat(200);
    await store.compareAndSet(key, undefined, 'r1', {
      status: 'active',
      registrationId: 'AAECAwQFBgcICQoLDA0ODw',
      registrationRecord: marker,
      wrappedSecret: new Uint8Array(61).fill(0x5a),
      clientParams: '',
      failedAttempts: 0,
      lastAttemptAtMs: 0,
      updatedAtMs: 0,
    });
    expect(await store.compareAndDelete(key, 'r1')).toBe(true);
    store.close();
    const { readFileSync, existsSync } = await import('node:fs');
    const bytes = Buffer.concat(
      [filename, `${filename}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
    // The WAL may still hold the page image from before the delete until a checkpoint; after
    // close (which checkpoints) neither file holds the record.
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
  });
});

describe('the vault core on SQLite', () => {
  it(`releases at most ${limits.VAULT_MAX_ATTEMPTS} login responses out of 200 parallel guesses`, async () => {
    const store = open();
    const vault = await KeyVault.open({ store, attemptDelayMs: () => 0 });
    const key = { accountId: 'race-account', purpose: 'pin-master-key' } as const;
    await storeVaultSecret(
      vault,
      { ...key, password: '1234', secret: new Uint8Array(32).fill(7) },
      FAST,
    );
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () =>
        recoverVaultSecret(vault, { ...key, password: '0000' }, FAST).then(
          () => 'released',
          (err: unknown) => (BackupError.is(err) ? err.code : String(err)),
        ),
      ),
    );
    const count = (code: string) => outcomes.filter((o) => o === code).length;
    // Each VAULT_WRONG_PASSWORD is a login response the client tested its guess against.
    expect(count('VAULT_WRONG_PASSWORD')).toBe(limits.VAULT_MAX_ATTEMPTS);
    expect(count('VAULT_RATE_LIMITED')).toBe(200 - limits.VAULT_MAX_ATTEMPTS);
    expect((await vault.status(key)).attemptsRemaining).toBe(0);
  });
});
