/**
 * @sotto/vault-store-sqlite — the key vault's `VaultStore` port (@sotto/backup vault-store.ts) on
 * SQLite through `better-sqlite3`, for the vault inside the relay (its own file, `vault.db`) or a
 * standalone vault process. It passes `describeVaultStoreConformance`.
 *
 * The guess limit rests on compare-and-set, and here it is one statement:
 * `UPDATE vault_records SET … WHERE account_id = ? AND purpose = ? AND revision = ?` (one row
 * changed = success), and `INSERT … ON CONFLICT DO NOTHING` for creation. better-sqlite3 is
 * synchronous, so each statement runs whole before any other JavaScript; across processes SQLite's
 * write lock serialises the statements.
 *
 * Durability and erasure: WAL journal with `synchronous=FULL` (a charged attempt is on disk before
 * the vault answers with the OPAQUE step it paid for), `secure_delete=ON` (a destroyed record's
 * registration record and wrapped secret are overwritten, not left in free pages; JavaScript and
 * the file system may still hold copies, see docs/backups.md). Migrations are numbered and
 * recorded in `vault_migrations`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredVaultRecord, VaultRecord, VaultRecordKey, VaultStore } from '@sotto/backup';

export interface SqliteVaultStoreOptions {
  /** A file path, or ':memory:' for a private in-memory database (tests). */
  readonly filename: string;
}

/** Each migration runs once, in order, in one transaction with its `vault_migrations` row. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE vault_server_setup (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     setup TEXT NOT NULL
   );
   CREATE TABLE vault_records (
     account_id TEXT NOT NULL,
     purpose TEXT NOT NULL,
     revision TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('active', 'destroyed')),
     registration_id TEXT NOT NULL,
     registration_record TEXT NOT NULL,
     wrapped_secret BLOB NOT NULL,
     client_params TEXT NOT NULL,
     failed_attempts INTEGER NOT NULL,
     last_attempt_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     PRIMARY KEY (account_id, purpose)
   ) WITHOUT ROWID;`,
];

interface Row {
  revision: string;
  status: string;
  registration_id: string;
  registration_record: string;
  wrapped_secret: Buffer;
  client_params: string;
  failed_attempts: number;
  last_attempt_at_ms: number;
  updated_at_ms: number;
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS vault_migrations (
    version INTEGER PRIMARY KEY,
    applied_at_ms INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS v FROM vault_migrations').get() as {
    v: number | null;
  };
  const current = row.v ?? 0;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the vault database is at version ${current}, newer than this code (${MIGRATIONS.length})`,
    );
  }
  for (let v = current + 1; v <= MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v - 1]!);
      db.prepare('INSERT INTO vault_migrations (version, applied_at_ms) VALUES (?, ?)').run(
        v,
        Date.now(),
      );
    }).immediate();
  }
}

function toRecord(row: Row): VaultRecord {
  return {
    status: row.status === 'destroyed' ? 'destroyed' : 'active',
    registrationId: row.registration_id,
    registrationRecord: row.registration_record,
    // A fresh copy: nothing the caller holds aliases the driver's buffer.
    wrappedSecret: Uint8Array.from(row.wrapped_secret),
    clientParams: row.client_params,
    failedAttempts: row.failed_attempts,
    lastAttemptAtMs: row.last_attempt_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

function values(record: VaultRecord): unknown[] {
  return [
    record.status,
    record.registrationId,
    record.registrationRecord,
    Buffer.from(record.wrappedSecret),
    record.clientParams,
    record.failedAttempts,
    record.lastAttemptAtMs,
    record.updatedAtMs,
  ];
}

export class SqliteVaultStore implements VaultStore {
  readonly #db: Database.Database;
  readonly #statements: {
    loadSetup: Database.Statement;
    insertSetup: Database.Statement;
    get: Database.Statement;
    insert: Database.Statement;
    update: Database.Statement;
    delete: Database.Statement;
  };

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = {
      loadSetup: db.prepare('SELECT setup FROM vault_server_setup WHERE id = 1'),
      insertSetup: db.prepare(
        'INSERT INTO vault_server_setup (id, setup) VALUES (1, ?) ON CONFLICT (id) DO NOTHING',
      ),
      get: db.prepare(
        `SELECT revision, status, registration_id, registration_record, wrapped_secret,
                client_params, failed_attempts, last_attempt_at_ms, updated_at_ms
           FROM vault_records WHERE account_id = ? AND purpose = ?`,
      ),
      insert: db.prepare(
        `INSERT INTO vault_records (account_id, purpose, revision, status, registration_id,
           registration_record, wrapped_secret, client_params, failed_attempts,
           last_attempt_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, purpose) DO NOTHING`,
      ),
      update: db.prepare(
        `UPDATE vault_records SET revision = ?, status = ?, registration_id = ?,
           registration_record = ?, wrapped_secret = ?, client_params = ?, failed_attempts = ?,
           last_attempt_at_ms = ?, updated_at_ms = ?
         WHERE account_id = ? AND purpose = ? AND revision = ?`,
      ),
      delete: db.prepare(
        'DELETE FROM vault_records WHERE account_id = ? AND purpose = ? AND revision = ?',
      ),
    };
  }

  /** Opens (creating if needed) and migrates the database. */
  static open(options: SqliteVaultStoreOptions): SqliteVaultStore {
    const memory = options.filename === ':memory:';
    if (!memory) mkdirSync(dirname(options.filename), { recursive: true, mode: 0o700 });
    const db = new Database(options.filename);
    try {
      if (!memory) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
      }
      db.pragma('synchronous = FULL');
      db.pragma('secure_delete = ON');
      // Another process holding the write lock (a backup, a second vault node) delays, not fails.
      db.pragma('busy_timeout = 5000');
      migrate(db);
      return new SqliteVaultStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  loadServerSetup(): Promise<string | undefined> {
    return attempt(() => {
      const row = this.#statements.loadSetup.get() as { setup: string } | undefined;
      return row?.setup;
    });
  }

  saveServerSetupIfAbsent(setup: string): Promise<string> {
    return attempt(() =>
      this.#db
        .transaction(() => {
          this.#statements.insertSetup.run(setup);
          return (this.#statements.loadSetup.get() as { setup: string }).setup;
        })
        .immediate(),
    );
  }

  get(key: VaultRecordKey): Promise<StoredVaultRecord | undefined> {
    return attempt(() => {
      const row = this.#statements.get.get(key.accountId, key.purpose) as Row | undefined;
      return row === undefined ? undefined : { revision: row.revision, record: toRecord(row) };
    });
  }

  compareAndSet(
    key: VaultRecordKey,
    expectedRevision: string | undefined,
    newRevision: string,
    record: VaultRecord,
  ): Promise<boolean> {
    return attempt(() => {
      const result =
        expectedRevision === undefined
          ? this.#statements.insert.run(key.accountId, key.purpose, newRevision, ...values(record))
          : this.#statements.update.run(
              newRevision,
              ...values(record),
              key.accountId,
              key.purpose,
              expectedRevision,
            );
      return result.changes === 1;
    });
  }

  compareAndDelete(key: VaultRecordKey, expectedRevision: string): Promise<boolean> {
    return attempt(
      () => this.#statements.delete.run(key.accountId, key.purpose, expectedRevision).changes === 1,
    );
  }

  /** The connection's durability and erasure settings (for operators and tests). */
  settings(): { journalMode: string; synchronous: number; secureDelete: number } {
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
      secureDelete: Number(this.#db.pragma('secure_delete', { simple: true })),
    };
  }

  /** Closes the database; the store must not be used afterwards. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** Runs a synchronous driver call and hands its outcome back as a promise. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Opens an SQLite vault store (see `SqliteVaultStore.open`). */
export function openSqliteVaultStore(options: SqliteVaultStoreOptions): SqliteVaultStore {
  return SqliteVaultStore.open(options);
}
