/**
 * @sotto/storage-sqlite — the embedded default storage adapter (ARCHITECTURE.md "adapters/*"):
 * `better-sqlite3` under the server's Kysely storage (packages/server storage/kysely-storage.ts).
 * This package owns only what is SQLite's: opening the file, the durability pragmas and closing.
 *
 * Durability: WAL journal with `synchronous=FULL`, so every committed transaction is on disk before
 * the commit returns (WAL with NORMAL may lose the last transactions on power loss). The server
 * batches writes into one transaction per event-loop turn (group commit), so FULL costs one fsync
 * per batch, not one per message. The message path's transactions (directTransaction below) run
 * their precompiled statements directly on better-sqlite3 and sync the WAL off the event loop
 * before they resolve; WAL checkpoints run in a worker thread (wal-checkpointer.ts), not inside
 * the relay's commits. Measured: docs/performance.md.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  Kysely,
  SqliteDialect,
  type CompiledQuery,
  type QueryResult,
  type SqliteDatabase,
} from 'kysely';
import {
  KyselyStorage,
  migrateToLatest,
  type HotTransaction,
  type QueryExecutor,
  type StorageDatabase,
} from '@sotto/server';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface SqliteStorageOptions {
  /** A file path, or ':memory:' for a private in-memory database (tests). */
  readonly filename: string;
  /**
   * `FULL` (default) makes every commit durable. `NORMAL` is offered for throw-away benchmarks
   * only: an acknowledged message may be lost on power failure.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /**
   * Checkpoint the WAL from a worker thread (wal-checkpointer.ts) instead of inside commits.
   * Default true for files; ignored for ':memory:'.
   */
  readonly backgroundCheckpoints?: boolean;
}

/** The WAL file is cut back to this size when SQLite restarts it after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Opens (creating if needed) and migrates an SQLite database, returning the storage port. */
export async function openSqliteStorage(options: SqliteStorageOptions): Promise<KyselyStorage> {
  const memory = options.filename === ':memory:';
  if (!memory) mkdirSync(dirname(options.filename), { recursive: true });
  const database = new Database(options.filename);
  try {
    if (!memory) {
      const mode = database.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
    }
    database.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    database.pragma('foreign_keys = ON');
    // Another process holding the write lock (a backup, the sqlite3 shell) delays, not fails.
    database.pragma('busy_timeout = 5000');
    database.pragma('temp_store = MEMORY');
    // Deleted rows (acknowledged envelopes, erased accounts) are overwritten with zeros, freed
    // pages included. FAST would leave every envelope of a page freed as a whole (a drained
    // mailbox) readable in the file; tests/e2e/server-learns-nothing.slow.test.ts checks this.
    // The cost is one zeroed page write per freed page (docs/performance.md).
    database.pragma('secure_delete = ON');
    const cached = withStatementCache(database);
    const db = new Kysely<StorageDatabase>({ dialect: new SqliteDialect({ database: cached }) });
    await migrateToLatest(db, 'sqlite');
    let checkpointer: WalCheckpointer | null = null;
    if (!memory && options.backgroundCheckpoints !== false) {
      database.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      checkpointer = WalCheckpointer.start(options.filename, () => {
        // Without the worker, SQLite checkpoints inside commits again (its default).
        if (database.open) database.pragma('wal_autocheckpoint = 1000');
      });
      database.pragma('wal_autocheckpoint = 0');
    }
    // The WAL exists once the migrations wrote: its handle syncs the message path's commits.
    const wal =
      !memory && (options.synchronous ?? 'FULL') === 'FULL'
        ? await open(`${options.filename}-wal`, 'r').catch(() => null)
        : null;
    const messagePath = directTransaction(db, database, cached, wal);
    // Kysely's SqliteDriver closes the database on destroy; the rest closes after it.
    return new KyselyStorage(db, {
      flavour: 'sqlite',
      hotTransaction: messagePath.run,
      whenDurable: messagePath.whenDurable,
      onClose: async () => {
        await wal?.close();
        await checkpointer?.close();
      },
    });
  } catch (err) {
    database.close();
    throw err;
  }
}

/**
 * The message path's transactions (KyselyStorageOptions.hotTransaction) without Kysely's
 * per-query machinery: while Kysely's connection is held (its mutex, so no other query can
 * interleave), BEGIN, the precompiled statements and COMMIT run straight on better-sqlite3 —
 * the same SQL text, about half the cost per statement. ROLLBACK if the work fails.
 *
 * With `wal` (file databases at synchronous=FULL) the commit itself does not wait for the disk:
 * it runs at synchronous=NORMAL, which writes the WAL frames without syncing them, and the
 * transaction resolves only after `fdatasync` of the WAL file — on libuv's thread pool, so the
 * event loop keeps serving sockets meanwhile. Nothing is acknowledged before its frames are on
 * disk (what FULL guarantees), and NORMAL in WAL mode never corrupts the database. Every other
 * transaction of the connection keeps synchronous=FULL. Readers could see such a commit before
 * its sync completed, so `whenDurable` (awaited by the mailbox drain) resolves once every commit
 * made so far is on disk: nothing is delivered that a power loss could still take back.
 */
function directTransaction(
  db: Kysely<StorageDatabase>,
  database: Database.Database,
  cached: SqliteDatabase,
  wal: FileHandle | null,
): { run: HotTransaction; whenDurable: () => Promise<void> } {
  /** The sync of the latest message-path commit: it covers every frame written before it. */
  let lastSync: Promise<void> = Promise.resolve();
  const begin = database.prepare('BEGIN');
  const commit = database.prepare('COMMIT');
  const rollback = database.prepare('ROLLBACK');
  // Not prepared statements: SQLite applies a PRAGMA when it is prepared, so a prepared one
  // cannot be re-run reliably.
  const deferSync = () => database.exec('PRAGMA synchronous = NORMAL');
  const fullSync = () => database.exec('PRAGMA synchronous = FULL');
  const exec: QueryExecutor = {
    executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      const stmt = cached.prepare(query.sql) as unknown as Database.Statement;
      const parameters = query.parameters as unknown[];
      if (stmt.reader) return Promise.resolve({ rows: stmt.all(parameters) as R[] });
      const { changes } = stmt.run(parameters);
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes) });
    },
    executeChanges(query: CompiledQuery, parameters: readonly unknown[]): Promise<number> {
      const stmt = cached.prepare(query.sql) as unknown as Database.Statement;
      return Promise.resolve(stmt.run(parameters as unknown[]).changes);
    },
  };
  const run: HotTransaction = async (work) => {
    const { result, sync } = await db.connection().execute(async () => {
      if (wal !== null) deferSync();
      begin.run();
      try {
        const r = await work(exec);
        commit.run();
        const started = wal === null ? null : wal.datasync();
        if (started !== null) lastSync = started;
        return { result: r, sync: started };
      } catch (err) {
        if (database.inTransaction) rollback.run();
        throw err;
      } finally {
        if (wal !== null) fullSync();
      }
    });
    // Durable before anyone hears of it: the caller acknowledges senders after this.
    if (sync !== null) await sync;
    return result;
  };
  return { run, whenDurable: () => lastSync };
}

/** Prepared statements kept per SQL text; hot paths reuse a few dozen distinct statements. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a small
 * statement. This wrapper hands Kysely a cached prepared statement for SQL it has seen before
 * (better-sqlite3 statements are reusable and not shared across threads).
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
