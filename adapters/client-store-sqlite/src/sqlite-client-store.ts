/**
 * `openSqliteClientStore`: the SDK's storage port (`ClientStore`, packages/client/src/
 * client-store.ts) on an SQLite file, encrypted at rest (ARCHITECTURE.md, "device data at rest").
 * The key hierarchy is in store-key.ts, the row format in entry-cipher.ts.
 *
 * Concurrency. A transaction's writes are kept in memory (sealed, plus a plaintext copy for its own
 * reads) and applied in one synchronous SQLite transaction when its function resolves, so the
 * connection never holds an open transaction across an `await`: reads outside a transaction see
 * committed rows only and need not wait. Transactions and plain writes run one at a time, in call
 * order (a plain `store.put` from inside a transaction's function therefore waits for it: use `tx`).
 *
 * Durability. WAL journal with `synchronous=FULL`: a committed write is on disk when the promise
 * resolves. The connection uses `locking_mode=EXCLUSIVE`: a second process opening the same store
 * gets IN_USE instead of a second, diverging copy of the device's sessions.
 *
 * Opening never writes before the store key is unwrapped: a wrong passphrase leaves the file as it
 * was, byte for byte.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ClientStore, ClientStoreTransaction } from '@sotto/client';
import { constantTimeEqual, randomBytes, toHex } from '@sotto/crypto';
import { EntryCipher } from './entry-cipher.js';
import { SqliteClientStoreError } from './errors.js';
import { KEYCHAIN_SERVICE, type KeychainPort } from './keychain.js';
import { LOCK_WAIT_MS, STORE_FORMAT_VERSION, STORE_ID_LENGTH, STORE_KEY_LENGTH } from './limits.js';
import {
  checkNewPassphrase,
  decodeKeychainWrap,
  decodePassphraseWrap,
  deriveWorkingKeys,
  encodeKeychainWrap,
  encodePassphraseWrap,
  unwrapWithKeychainKey,
  unwrapWithPassphrase,
  wrapWithKeychainKey,
  wrapWithPassphrase,
} from './store-key.js';

export interface SqliteClientStoreOptions {
  /** The store file (created with mode 0600, its directory 0700), or ':memory:' for a private one. */
  readonly path: string;
  /**
   * Unlocks the store; required to create one (at least MIN_PASSPHRASE_LENGTH characters). May be
   * omitted when `keychain` holds the store's key.
   */
  readonly passphrase?: string;
  /**
   * An OS keychain. When given, the store key is also wrapped by a random key kept there (added on
   * the first open with the passphrase) and later opens need no passphrase.
   */
  readonly keychain?: KeychainPort;
  /** Create the store if the file does not exist (default true); false gives NOT_FOUND. */
  readonly create?: boolean;
}

export interface SqliteClientStore extends ClientStore {
  /** The resolved path of the store file (':memory:' for a private in-memory store). */
  readonly path: string;
  /** How this open unlocked the store. */
  readonly unlockedWith: 'passphrase' | 'keychain';
  /** What the store runs with (for `sotto status` and tests); reads the live connection. */
  describe(): SqliteClientStoreDescription;
  /** Re-wraps the store key under `next` after checking `current`; no value is re-encrypted. */
  changePassphrase(current: string, next: string): Promise<void>;
  /**
   * Removes the keychain wrap, then the keychain's secret (from `keychain`, or else the keychain
   * this store was opened with, if any); the passphrase remains the only key. The wrap is gone even
   * if removing the secret fails (the promise then rejects with the keychain's error).
   */
  forgetKeychain(keychain?: KeychainPort): Promise<void>;
}

export interface SqliteClientStoreDescription {
  readonly path: string;
  readonly unlockedWith: 'passphrase' | 'keychain';
  /** The store key is also wrapped by a keychain key. */
  readonly keychainWrap: boolean;
  /** 'wal' for a file ('memory' for ':memory:'). */
  readonly journalMode: string;
  /** 'full' (2). */
  readonly synchronous: 'off' | 'normal' | 'full' | 'extra';
  /** 'exclusive' for a file: one process at a time. */
  readonly lockingMode: string;
  readonly argon2id: {
    readonly memoryKiB: number;
    readonly timeCost: number;
    readonly parallelism: number;
  };
}

const MEMORY = ':memory:';
const SYNCHRONOUS_NAMES = ['off', 'normal', 'full', 'extra'] as const;

const HEADER_FORMAT = 'format';
const HEADER_STORE_ID = 'store-id';
const HEADER_PASSPHRASE_WRAP = 'passphrase-wrap';
const HEADER_KEYCHAIN_WRAP = 'keychain-wrap';

const SCHEMA = `
  CREATE TABLE store_header (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
  CREATE TABLE entries (
    namespace_id BLOB NOT NULL,
    key_id BLOB NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (namespace_id, key_id)
  ) WITHOUT ROWID;
`;

type Db = Database.Database;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A rejected promise for a synchronous failure of a method that returns a promise. */
function rejected<T>(err: unknown): Promise<T> {
  return Promise.reject(err instanceof Error ? err : new Error(String(err)));
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Maps driver errors a user can cause (a foreign file, a second process) to store errors. */
function translateOpenError(err: unknown): unknown {
  if (SqliteClientStoreError.is(err)) return err;
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new SqliteClientStoreError('NOT_A_STORE', 'the file is not a Sotto store', {
      cause: err,
    });
  }
  if (code?.startsWith('SQLITE_BUSY') === true || code?.startsWith('SQLITE_LOCKED') === true) {
    return new SqliteClientStoreError('IN_USE', 'the store is in use by another process', {
      cause: err,
    });
  }
  return err;
}

/** Connection settings; none of them writes to an existing WAL-mode file. */
function configure(db: Db, memory: boolean): void {
  db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
  if (!memory) db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON'); // freed pages are zeroed: deleted plaintext never lingers on disk
  db.pragma('temp_store = MEMORY');
}

function readHeader(db: Db): Map<string, Buffer> | undefined {
  const tables = db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
    .all()
    .map((row) => row.name);
  if (tables.length === 0) return undefined;
  if (!tables.includes('store_header') || !tables.includes('entries')) {
    throw new SqliteClientStoreError(
      'NOT_A_STORE',
      'the file is an SQLite database but not a Sotto store',
    );
  }
  const header = new Map<string, Buffer>();
  for (const row of db
    .prepare<[], { name: string; value: Buffer }>('SELECT name, value FROM store_header')
    .all()) {
    if (!Buffer.isBuffer(row.value)) {
      throw new SqliteClientStoreError('TAMPERED', 'the store header is damaged');
    }
    header.set(row.name, row.value);
  }
  return header;
}

function required(header: Map<string, Buffer>, name: string): Buffer {
  const value = header.get(name);
  if (value === undefined) {
    throw new SqliteClientStoreError('TAMPERED', `the store header is damaged (no ${name})`);
  }
  return value;
}

/** Opens (or creates) an encrypted client store. */
export async function openSqliteClientStore(
  options: SqliteClientStoreOptions,
): Promise<SqliteClientStore> {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new SqliteClientStoreError('BAD_ARGUMENT', 'path must be a non-empty string');
  }
  const memory = options.path === MEMORY;
  const path = memory ? MEMORY : resolve(options.path);

  if (memory || !existsSync(path)) {
    if (!memory && options.create === false) {
      throw new SqliteClientStoreError('NOT_FOUND', 'no store exists at this path');
    }
    return createStore(path, memory, options);
  }

  let db: Db;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw translateOpenError(err);
  }
  try {
    configure(db, false);
    const header = readHeader(db);
    if (header === undefined) {
      // An empty database: a creation that never committed. Start again.
      db.close();
      return await createStore(path, false, options);
    }
    return await unlockExisting(db, path, header, options);
  } catch (err) {
    if (db.open) db.close();
    throw translateOpenError(err);
  }
}

async function createStore(
  path: string,
  memory: boolean,
  options: SqliteClientStoreOptions,
): Promise<SqliteClientStore> {
  if (options.passphrase === undefined) {
    throw new SqliteClientStoreError(
      'PASSPHRASE_REQUIRED',
      'a passphrase is needed to create a store',
    );
  }
  checkNewPassphrase(options.passphrase);
  const storeId = randomBytes(STORE_ID_LENGTH);
  const storeKey = randomBytes(STORE_KEY_LENGTH);
  const passphraseWrap = await wrapWithPassphrase(storeId, storeKey, options.passphrase);

  if (!memory) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created here, not by SQLite, to get mode 0600 (SQLite gives its -wal file the same mode).
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      if (sqliteCode(err) !== 'EEXIST') throw err;
    }
  }
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw translateOpenError(err);
  }
  try {
    configure(db, memory);
    if (!memory) {
      const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
    }
    if (readHeader(db) !== undefined) {
      throw new SqliteClientStoreError('IN_USE', 'another process created this store just now');
    }
    db.transaction(() => {
      db.exec(SCHEMA);
      const insert = db.prepare<[string, Buffer]>(
        'INSERT INTO store_header (name, value) VALUES (?, ?)',
      );
      insert.run(HEADER_FORMAT, Buffer.from(String(STORE_FORMAT_VERSION)));
      insert.run(HEADER_STORE_ID, asBuffer(storeId));
      insert.run(HEADER_PASSPHRASE_WRAP, asBuffer(encodePassphraseWrap(passphraseWrap)));
    })();
    const store = new SqliteClientStoreImpl(
      db,
      path,
      storeId,
      storeKey,
      'passphrase',
      options.keychain,
    );
    if (options.keychain !== undefined) await store.enrolKeychain();
    return store;
  } catch (err) {
    storeKey.fill(0);
    if (db.open) db.close();
    throw translateOpenError(err);
  }
}

async function unlockExisting(
  db: Db,
  path: string,
  header: Map<string, Buffer>,
  options: SqliteClientStoreOptions,
): Promise<SqliteClientStore> {
  const format = required(header, HEADER_FORMAT).toString('utf8');
  if (!/^[0-9]{1,4}$/.test(format)) {
    throw new SqliteClientStoreError('TAMPERED', 'the store header is damaged (format)');
  }
  if (Number(format) !== STORE_FORMAT_VERSION) {
    throw new SqliteClientStoreError(
      'UNSUPPORTED_FORMAT',
      `the store has format ${format}; this version of Sotto reads format ${STORE_FORMAT_VERSION}`,
    );
  }
  const storeId = new Uint8Array(required(header, HEADER_STORE_ID));
  if (storeId.length !== STORE_ID_LENGTH) {
    throw new SqliteClientStoreError('TAMPERED', 'the store header is damaged (store id)');
  }
  const passphraseWrap = decodePassphraseWrap(required(header, HEADER_PASSPHRASE_WRAP));
  const keychainRow = header.get(HEADER_KEYCHAIN_WRAP);
  const keychainWrap = keychainRow === undefined ? undefined : decodeKeychainWrap(keychainRow);

  let storeKey: Uint8Array | undefined;
  let unlockedWith: 'passphrase' | 'keychain' = 'keychain';
  /** Why the keychain did not unlock the store (the cause of PASSPHRASE_REQUIRED). */
  let keychainFailure: SqliteClientStoreError | undefined;
  if (options.keychain !== undefined && keychainWrap !== undefined) {
    // A keychain that fails (locked, no session bus) falls back to the passphrase.
    let secret: Uint8Array | undefined;
    try {
      secret = await options.keychain.get(keychainWrap.service, keychainWrap.account);
    } catch (err) {
      keychainFailure = SqliteClientStoreError.is(err)
        ? err
        : new SqliteClientStoreError('KEYCHAIN_UNAVAILABLE', 'the OS keychain failed', {
            cause: err,
          });
    }
    if (secret !== undefined) {
      storeKey = unwrapWithKeychainKey(storeId, keychainWrap, secret);
      secret.fill(0);
      if (storeKey === undefined) {
        keychainFailure = new SqliteClientStoreError(
          'KEYCHAIN_ENTRY_INVALID',
          "the OS keychain's entry for this store does not unlock it (it was replaced or changed)",
        );
      }
    } else if (keychainFailure === undefined) {
      keychainFailure = new SqliteClientStoreError(
        'KEYCHAIN_ENTRY_INVALID',
        'the OS keychain holds no entry for this store (it was removed, or this is another machine)',
      );
    }
  }
  if (storeKey === undefined) {
    unlockedWith = 'passphrase';
    if (options.passphrase === undefined) {
      throw new SqliteClientStoreError(
        'PASSPHRASE_REQUIRED',
        keychainFailure === undefined
          ? 'the store is locked: a passphrase is needed'
          : `the store is locked and the keychain did not unlock it (${keychainFailure.message}): a passphrase is needed`,
        keychainFailure === undefined ? undefined : { cause: keychainFailure },
      );
    }
    storeKey = await unwrapWithPassphrase(storeId, passphraseWrap, options.passphrase);
    if (storeKey === undefined) {
      throw new SqliteClientStoreError('WRONG_PASSPHRASE', 'wrong passphrase');
    }
  }
  const store = new SqliteClientStoreImpl(
    db,
    path,
    storeId,
    storeKey,
    unlockedWith,
    options.keychain,
  );
  if (options.keychain !== undefined && unlockedWith === 'passphrase') await store.enrolKeychain();
  return store;
}

interface PendingWrite {
  readonly namespaceId: Uint8Array;
  readonly keyId: Uint8Array;
  /** undefined for a delete. */
  readonly sealed: Buffer | undefined;
  /** The plaintext, for this transaction's own reads. */
  readonly key: string;
  readonly value: Uint8Array | undefined;
}

function compareKeys(a: readonly [string, Uint8Array], b: readonly [string, Uint8Array]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

class SqliteClientStoreImpl implements SqliteClientStore {
  readonly path: string;
  readonly unlockedWith: 'passphrase' | 'keychain';
  readonly #db: Db;
  readonly #storeId: Uint8Array;
  readonly #storeKey: Uint8Array;
  readonly #cipher: EntryCipher;
  readonly #keychain: KeychainPort | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly #select: Database.Statement<[Buffer, Buffer], { sealed: Buffer }>;
  readonly #selectNamespace: Database.Statement<[Buffer], { key_id: Buffer; sealed: Buffer }>;
  readonly #upsert: Database.Statement<[Buffer, Buffer, Buffer]>;
  readonly #remove: Database.Statement<[Buffer, Buffer]>;
  readonly #setHeader: Database.Statement<[string, Buffer]>;
  readonly #removeHeader: Database.Statement<[string]>;

  constructor(
    db: Db,
    path: string,
    storeId: Uint8Array,
    storeKey: Uint8Array,
    unlockedWith: 'passphrase' | 'keychain',
    keychain: KeychainPort | undefined,
  ) {
    this.#db = db;
    this.#keychain = keychain;
    this.path = path;
    this.#storeId = storeId;
    this.#storeKey = storeKey;
    this.unlockedWith = unlockedWith;
    const { valueKey, nameKey } = deriveWorkingKeys(storeKey, storeId);
    this.#cipher = new EntryCipher(valueKey, nameKey);
    this.#select = db.prepare('SELECT sealed FROM entries WHERE namespace_id = ? AND key_id = ?');
    this.#selectNamespace = db.prepare('SELECT key_id, sealed FROM entries WHERE namespace_id = ?');
    this.#upsert = db.prepare(
      `INSERT INTO entries (namespace_id, key_id, sealed) VALUES (?, ?, ?)
       ON CONFLICT (namespace_id, key_id) DO UPDATE SET sealed = excluded.sealed`,
    );
    this.#remove = db.prepare('DELETE FROM entries WHERE namespace_id = ? AND key_id = ?');
    this.#setHeader = db.prepare(
      `INSERT INTO store_header (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    );
    this.#removeHeader = db.prepare('DELETE FROM store_header WHERE name = ?');
  }

  toJSON(): { path: string } {
    return { path: this.path };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SqliteClientStore { path: ${JSON.stringify(this.path)} }`;
  }

  describe(): SqliteClientStoreDescription {
    this.#checkOpen();
    const header = readHeader(this.#db);
    if (header === undefined)
      throw new SqliteClientStoreError('TAMPERED', 'the store header is gone');
    const wrap = decodePassphraseWrap(required(header, HEADER_PASSPHRASE_WRAP));
    const synchronous = SYNCHRONOUS_NAMES[Number(this.#db.pragma('synchronous', { simple: true }))];
    if (synchronous === undefined) throw new Error('SQLite reported an unknown synchronous mode');
    return {
      path: this.path,
      unlockedWith: this.unlockedWith,
      keychainWrap: header.has(HEADER_KEYCHAIN_WRAP),
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous,
      lockingMode: String(this.#db.pragma('locking_mode', { simple: true })),
      argon2id: wrap.params,
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw new SqliteClientStoreError('CLOSED', 'the store is closed');
  }

  /** Runs `task` after every previously queued transaction, write or close. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Committed value, decrypted; undefined if absent. */
  #readCommitted(namespaceId: Uint8Array, key: string): Uint8Array | undefined {
    const keyId = this.#cipher.keyId(namespaceId, key);
    const row = this.#select.get(asBuffer(namespaceId), asBuffer(keyId));
    if (row === undefined) return undefined;
    const opened = this.#cipher.open(namespaceId, keyId, row.sealed);
    if (opened.key !== key) {
      throw new SqliteClientStoreError('TAMPERED', 'a stored value belongs to another key');
    }
    return opened.value;
  }

  #listCommitted(namespaceId: Uint8Array): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const row of this.#selectNamespace.iterate(asBuffer(namespaceId))) {
      const opened = this.#cipher.open(namespaceId, row.key_id, row.sealed);
      out.set(opened.key, opened.value);
    }
    return out;
  }

  get(namespace: string, key: string): Promise<Uint8Array | undefined> {
    try {
      this.#checkOpen();
      return Promise.resolve(this.#readCommitted(this.#cipher.namespaceId(namespace), key));
    } catch (err) {
      return rejected(err);
    }
  }

  list(namespace: string): Promise<Array<readonly [key: string, value: Uint8Array]>> {
    try {
      this.#checkOpen();
      const entries = [...this.#listCommitted(this.#cipher.namespaceId(namespace))];
      return Promise.resolve(entries.sort(compareKeys));
    } catch (err) {
      return rejected(err);
    }
  }

  put(namespace: string, key: string, value: Uint8Array): Promise<void> {
    return this.transaction((tx) => tx.put(namespace, key, value));
  }

  delete(namespace: string, key: string): Promise<void> {
    return this.transaction((tx) => tx.delete(namespace, key));
  }

  transaction<T>(fn: (tx: ClientStoreTransaction) => Promise<T>): Promise<T> {
    return this.#enqueue(async () => {
      this.#checkOpen();
      // namespace → key → pending write (last one wins)
      const pending = new Map<string, Map<string, PendingWrite>>();
      let open = true;
      const guard = (): void => {
        if (!open) {
          throw new SqliteClientStoreError('TRANSACTION_ENDED', 'the transaction already ended');
        }
      };
      const cipher = this.#cipher;
      const stage = (namespace: string, key: string, value: Uint8Array | undefined): void => {
        const namespaceId = cipher.namespaceId(namespace);
        const keyId = cipher.keyId(namespaceId, key);
        const sealed =
          value === undefined ? undefined : asBuffer(cipher.seal(namespaceId, keyId, key, value));
        let writes = pending.get(namespace);
        if (writes === undefined)
          pending.set(namespace, (writes = new Map<string, PendingWrite>()));
        writes.set(key, { namespaceId, keyId, sealed, key, value: value?.slice() });
      };
      const tx: ClientStoreTransaction = {
        get: (namespace, key) => {
          try {
            guard();
            const staged = pending.get(namespace)?.get(key);
            if (staged !== undefined) return Promise.resolve(staged.value?.slice());
            return Promise.resolve(this.#readCommitted(cipher.namespaceId(namespace), key));
          } catch (err) {
            return rejected(err);
          }
        },
        list: (namespace) => {
          try {
            guard();
            const merged = this.#listCommitted(cipher.namespaceId(namespace));
            for (const [key, write] of pending.get(namespace) ?? []) {
              if (write.value === undefined) merged.delete(key);
              else merged.set(key, write.value.slice());
            }
            return Promise.resolve([...merged].sort(compareKeys));
          } catch (err) {
            return rejected(err);
          }
        },
        put: (namespace, key, value) => {
          try {
            guard();
            if (!(value instanceof Uint8Array)) {
              throw new SqliteClientStoreError('BAD_ARGUMENT', 'value must be a Uint8Array');
            }
            stage(namespace, key, value);
            return Promise.resolve();
          } catch (err) {
            return rejected(err);
          }
        },
        delete: (namespace, key) => {
          try {
            guard();
            stage(namespace, key, undefined);
            return Promise.resolve();
          } catch (err) {
            return rejected(err);
          }
        },
      };
      try {
        const result = await fn(tx);
        open = false;
        if (pending.size > 0) this.#commit(pending);
        return result;
      } finally {
        open = false;
      }
    });
  }

  #commit(pending: Map<string, Map<string, PendingWrite>>): void {
    this.#db.transaction(() => {
      for (const writes of pending.values()) {
        for (const write of writes.values()) {
          const ns = asBuffer(write.namespaceId);
          const key = asBuffer(write.keyId);
          if (write.sealed === undefined) this.#remove.run(ns, key);
          else this.#upsert.run(ns, key, write.sealed);
        }
      }
    })();
  }

  /** Adds (or repairs) the keychain wrap: a fresh random key in the keychain wraps the store key. */
  async enrolKeychain(): Promise<void> {
    const keychain = this.#keychain;
    if (keychain === undefined) return;
    const account = toHex(this.#storeId);
    const keychainKey = randomBytes(STORE_KEY_LENGTH);
    try {
      const wrap = wrapWithKeychainKey(
        this.#storeId,
        this.#storeKey,
        keychainKey,
        KEYCHAIN_SERVICE,
        account,
      );
      await keychain.set(KEYCHAIN_SERVICE, account, keychainKey);
      this.#setHeader.run(HEADER_KEYCHAIN_WRAP, asBuffer(encodeKeychainWrap(wrap)));
    } finally {
      keychainKey.fill(0);
    }
  }

  changePassphrase(current: string, next: string): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkOpen();
      checkNewPassphrase(next);
      const header = readHeader(this.#db);
      if (header === undefined)
        throw new SqliteClientStoreError('TAMPERED', 'the store header is gone');
      const wrap = decodePassphraseWrap(required(header, HEADER_PASSPHRASE_WRAP));
      const unwrapped = await unwrapWithPassphrase(this.#storeId, wrap, current);
      const matches = unwrapped !== undefined && constantTimeEqual(unwrapped, this.#storeKey);
      unwrapped?.fill(0);
      if (!matches) throw new SqliteClientStoreError('WRONG_PASSPHRASE', 'wrong passphrase');
      const rewrapped = await wrapWithPassphrase(this.#storeId, this.#storeKey, next);
      this.#checkOpen();
      this.#setHeader.run(HEADER_PASSPHRASE_WRAP, asBuffer(encodePassphraseWrap(rewrapped)));
    });
  }

  forgetKeychain(keychain: KeychainPort | undefined = this.#keychain): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkOpen();
      const header = readHeader(this.#db);
      const row = header?.get(HEADER_KEYCHAIN_WRAP);
      if (row === undefined) return;
      const wrap = decodeKeychainWrap(row);
      this.#removeHeader.run(HEADER_KEYCHAIN_WRAP);
      if (keychain !== undefined) await keychain.delete(wrap.service, wrap.account);
    });
  }

  close(): Promise<void> {
    return this.#enqueue(() => {
      if (this.#closed) return Promise.resolve();
      this.#closed = true;
      this.#db.close();
      this.#cipher.wipe();
      this.#storeKey.fill(0);
      return Promise.resolve();
    });
  }
}
