/**
 * Unlocking, changing the passphrase, the keychain wrap, and every failure a user or an attacker
 * with the file can cause: wrong passphrase (file untouched), weak passphrase, tampered rows and
 * header, a foreign file, a second process, use after close.
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MIN_PASSPHRASE_LENGTH,
  openSqliteClientStore,
  SqliteClientStoreError,
  type SqliteClientStoreErrorCode,
} from '../src/index.js';
import { memoryKeychain } from '../src/testing/index.js';
import { PASSPHRASE, storeBytes, storeFiles, tempDir, withRawDatabase } from './support.js';

let temp: ReturnType<typeof tempDir>;
let path: string;
beforeEach(() => {
  temp = tempDir();
  path = join(temp.dir, 'store.sqlite');
});
afterEach(() => temp.remove());

const enc = new TextEncoder();
const dec = new TextDecoder();

async function rejectsWith(
  promise: Promise<unknown>,
  code: SqliteClientStoreErrorCode,
): Promise<SqliteClientStoreError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(SqliteClientStoreError.is(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  return err as SqliteClientStoreError;
}

async function createWith(entries: Record<string, string>): Promise<void> {
  const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
  for (const [key, value] of Object.entries(entries)) await store.put('ns', key, enc.encode(value));
  await store.close();
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('passphrase', () => {
  it('a wrong passphrase gives WRONG_PASSPHRASE and leaves the file byte for byte as it was', async () => {
    await createWith({ a: 'alpha' });
    const before = sha256(storeBytes(path));
    const filesBefore = storeFiles(path);
    const err = await rejectsWith(
      openSqliteClientStore({ path, passphrase: 'correct horse battery stapler' }),
      'WRONG_PASSPHRASE',
    );
    expect(err.message).not.toContain('stapler');
    expect(sha256(storeBytes(path))).toBe(before);
    expect(storeFiles(path)).toEqual(filesBefore);
    // The file still opens with the right passphrase afterwards.
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    expect(dec.decode(await store.get('ns', 'a'))).toBe('alpha');
    await store.close();
  });

  it('normalises the passphrase (NFC), so the same words typed differently unlock', async () => {
    const composed = 'pass\u00e9 phrase \u00fcber';
    const decomposed = 'pass\u0065\u0301 phrase \u0075\u0308ber';
    const store = await openSqliteClientStore({ path, passphrase: composed });
    await store.close();
    const reopened = await openSqliteClientStore({ path, passphrase: decomposed });
    await reopened.close();
  });

  it('refuses a short PIN or passphrase as the key of a new store, creating nothing', async () => {
    for (const weak of ['123456', '12345678', 'short', 'x'.repeat(MIN_PASSPHRASE_LENGTH - 1)]) {
      await rejectsWith(openSqliteClientStore({ path, passphrase: weak }), 'WEAK_PASSPHRASE');
    }
    expect(existsSync(path)).toBe(false);
    await rejectsWith(openSqliteClientStore({ path }), 'PASSPHRASE_REQUIRED');
    expect(existsSync(path)).toBe(false);
    // Length is counted in characters, not UTF-16 units: ten emoji are ten characters.
    const store = await openSqliteClientStore({
      path,
      passphrase: '🔐'.repeat(MIN_PASSPHRASE_LENGTH),
    });
    await store.close();
  });

  it('requires a passphrase to open an existing store, and NOT_FOUND when asked not to create', async () => {
    await createWith({});
    await rejectsWith(openSqliteClientStore({ path }), 'PASSPHRASE_REQUIRED');
    await rejectsWith(
      openSqliteClientStore({
        path: join(temp.dir, 'missing.sqlite'),
        passphrase: PASSPHRASE,
        create: false,
      }),
      'NOT_FOUND',
    );
    expect(existsSync(join(temp.dir, 'missing.sqlite'))).toBe(false);
  });

  it('changing the passphrase re-wraps the store key only: every sealed row stays as it was', async () => {
    await createWith({ a: 'alpha', b: 'beta' });
    const rows = (): string[] =>
      withRawDatabase(path, (db) =>
        db
          .prepare<[], { sealed: Buffer }>('SELECT sealed FROM entries ORDER BY sealed')
          .all()
          .map((r) => r.sealed.toString('hex')),
      );
    const wrap = (): string =>
      withRawDatabase(path, (db) =>
        db
          .prepare<[], { value: Buffer }>(
            `SELECT value FROM store_header WHERE name = 'passphrase-wrap'`,
          )
          .get()!
          .value.toString(),
      );
    const rowsBefore = rows();
    const wrapBefore = wrap();
    const next = 'a different, longer passphrase';

    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await rejectsWith(store.changePassphrase('not the passphrase', next), 'WRONG_PASSPHRASE');
    await rejectsWith(store.changePassphrase(PASSPHRASE, '1234'), 'WEAK_PASSPHRASE');
    await store.changePassphrase(PASSPHRASE, next);
    expect(dec.decode(await store.get('ns', 'a'))).toBe('alpha');
    await store.close();

    expect(rows()).toEqual(rowsBefore);
    expect(wrap()).not.toBe(wrapBefore);
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'WRONG_PASSPHRASE');
    const reopened = await openSqliteClientStore({ path, passphrase: next });
    expect(dec.decode(await reopened.get('ns', 'b'))).toBe('beta');
    await reopened.close();
  });
});

describe('keychain', () => {
  it('enrols on an open with the passphrase, then unlocks without one', async () => {
    const keychain = memoryKeychain();
    const first = await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain });
    expect(first.unlockedWith).toBe('passphrase');
    expect(keychain.size).toBe(1);
    await first.put('ns', 'k', enc.encode('v'));
    await first.close();

    const second = await openSqliteClientStore({ path, keychain });
    expect(second.unlockedWith).toBe('keychain');
    expect(second.describe().keychainWrap).toBe(true);
    expect(dec.decode(await second.get('ns', 'k'))).toBe('v');
    await second.close();

    // Without the keychain the passphrase is still needed (and still works).
    await rejectsWith(openSqliteClientStore({ path }), 'PASSPHRASE_REQUIRED');
    const third = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await third.close();
  });

  it('falls back to the passphrase when the keychain lost or changed its secret, and re-enrols', async () => {
    const keychain = memoryKeychain();
    await (await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain })).close();
    const other = memoryKeychain(); // a different machine's keychain: no secret for this store
    await rejectsWith(openSqliteClientStore({ path, keychain: other }), 'PASSPHRASE_REQUIRED');
    const reenrolled = await openSqliteClientStore({
      path,
      keychain: other,
      passphrase: PASSPHRASE,
    });
    expect(reenrolled.unlockedWith).toBe('passphrase');
    await reenrolled.close();
    expect((await openSqliteClientStore({ path, keychain: other })).unlockedWith).toBe('keychain');
  });

  it('forgetKeychain removes the wrap and the secret', async () => {
    const keychain = memoryKeychain();
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain });
    await store.forgetKeychain();
    expect(keychain.size).toBe(0);
    expect(store.describe().keychainWrap).toBe(false);
    await store.close();
    await rejectsWith(openSqliteClientStore({ path, keychain }), 'PASSPHRASE_REQUIRED');
  });
});

describe('tampering', () => {
  it('a flipped bit in a sealed value gives TAMPERED on get and list', async () => {
    await createWith({ a: 'alpha', b: 'beta' });
    withRawDatabase(path, (db) => {
      const row = db
        .prepare<[], { key_id: Buffer; sealed: Buffer }>(
          'SELECT key_id, sealed FROM entries LIMIT 1',
        )
        .get()!;
      const sealed = Buffer.from(row.sealed);
      sealed[sealed.length - 20]! ^= 0x01;
      db.prepare('UPDATE entries SET sealed = ? WHERE key_id = ?').run(sealed, row.key_id);
    });
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    const err = await rejectsWith(store.list('ns'), 'TAMPERED');
    expect(err.message).toMatch(/modified or is corrupt/);
    const results = await Promise.allSettled([store.get('ns', 'a'), store.get('ns', 'b')]);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(1);
    await store.close();
  });

  it('a sealed value moved to another key or namespace gives TAMPERED (the AAD binds its place)', async () => {
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await store.put('ns', 'a', enc.encode('alpha'));
    await store.put('ns', 'b', enc.encode('beta'));
    await store.put('other', 'a', enc.encode('other alpha'));
    await store.close();
    withRawDatabase(path, (db) => {
      const rows = db
        .prepare<[], { namespace_id: Buffer; key_id: Buffer; sealed: Buffer }>(
          'SELECT namespace_id, key_id, sealed FROM entries',
        )
        .all();
      // Rotate the sealed values one place: every row now holds a value sealed for another place.
      const update = db.prepare(
        'UPDATE entries SET sealed = ? WHERE namespace_id = ? AND key_id = ?',
      );
      rows.forEach((row, i) => {
        const next = rows[(i + 1) % rows.length]!;
        update.run(next.sealed, row.namespace_id, row.key_id);
      });
    });
    const reopened = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await rejectsWith(reopened.get('ns', 'a'), 'TAMPERED');
    await rejectsWith(reopened.get('ns', 'b'), 'TAMPERED');
    await rejectsWith(reopened.get('other', 'a'), 'TAMPERED');
    await reopened.close();
  });

  it('a damaged header gives TAMPERED or UNSUPPORTED_FORMAT, never a crash', async () => {
    await createWith({ a: 'alpha' });
    const setHeader = (name: string, value: Buffer): void =>
      withRawDatabase(path, (db) => {
        db.prepare('UPDATE store_header SET value = ? WHERE name = ?').run(value, name);
      });
    const original = withRawDatabase(
      path,
      (db) =>
        db
          .prepare<[], { value: Buffer }>(
            `SELECT value FROM store_header WHERE name = 'passphrase-wrap'`,
          )
          .get()!.value,
    );
    const wrap = JSON.parse(original.toString()) as Record<string, unknown>;

    setHeader('passphrase-wrap', Buffer.from('{not json'));
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'TAMPERED');
    // Parameters lowered below the floor (an attack on the KDF cost) are refused.
    setHeader('passphrase-wrap', Buffer.from(JSON.stringify({ ...wrap, m: 8, t: 1 })));
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'TAMPERED');
    // Absurd parameters (a crafted header trying to exhaust memory) are refused before running.
    setHeader('passphrase-wrap', Buffer.from(JSON.stringify({ ...wrap, m: 2 ** 31 })));
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'TAMPERED');
    // A different salt: the wrap no longer opens (indistinguishable from a wrong passphrase).
    setHeader(
      'passphrase-wrap',
      Buffer.from(JSON.stringify({ ...wrap, salt: Buffer.alloc(16, 7).toString('base64') })),
    );
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'WRONG_PASSPHRASE');
    setHeader('passphrase-wrap', original);
    setHeader('format', Buffer.from('2'));
    await rejectsWith(
      openSqliteClientStore({ path, passphrase: PASSPHRASE }),
      'UNSUPPORTED_FORMAT',
    );
    setHeader('format', Buffer.from('1'));
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    expect(dec.decode(await store.get('ns', 'a'))).toBe('alpha');
    await store.close();
  });

  it('a file that is not a store gives NOT_A_STORE and is left alone', async () => {
    writeFileSync(path, Buffer.alloc(8192, 0x41));
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'NOT_A_STORE');
    const other = join(temp.dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    await rejectsWith(
      openSqliteClientStore({ path: other, passphrase: PASSPHRASE }),
      'NOT_A_STORE',
    );
  });
});

describe('one user at a time', () => {
  it('a second open of the same file gives IN_USE while the first is open', async () => {
    const first = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await first.put('ns', 'k', enc.encode('v'));
    await rejectsWith(openSqliteClientStore({ path, passphrase: PASSPHRASE }), 'IN_USE');
    await first.close();
    const second = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    expect(dec.decode(await second.get('ns', 'k'))).toBe('v');
    await second.close();
  });

  it('after close every call gives CLOSED; a transaction handle used late gives TRANSACTION_ENDED', async () => {
    const store = await openSqliteClientStore({ path: ':memory:', passphrase: PASSPHRASE });
    let leaked: Parameters<Parameters<typeof store.transaction>[0]>[0] | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
      await tx.put('ns', 'k', Uint8Array.of(1));
    });
    await rejectsWith(leaked!.put('ns', 'late', Uint8Array.of(2)), 'TRANSACTION_ENDED');
    await rejectsWith(leaked!.get('ns', 'k'), 'TRANSACTION_ENDED');
    expect(await store.get('ns', 'late')).toBeUndefined();
    await store.close();
    await store.close();
    await rejectsWith(store.get('ns', 'k'), 'CLOSED');
    await rejectsWith(store.list('ns'), 'CLOSED');
    await rejectsWith(store.put('ns', 'k', Uint8Array.of(1)), 'CLOSED');
    await rejectsWith(
      store.transaction(() => Promise.resolve()),
      'CLOSED',
    );
  });
});
