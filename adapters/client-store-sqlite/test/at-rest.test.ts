/**
 * Data at rest (ARCHITECTURE.md, "device data at rest"): a copied store file reveals no value, no
 * namespace and no key; the file is private to its owner; the documented format (store-key.ts,
 * entry-cipher.ts) is checked by decrypting a store with independent code (noble's Argon2id and
 * node:crypto directly), not with the adapter's own functions.
 */
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { argon2id } from '@noble/hashes/argon2.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteClientStore } from '../src/index.js';
import { PASSPHRASE, storeBytes, tempDir, withRawDatabase } from './support.js';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.remove());

const enc = new TextEncoder();

/** Secrets a device keeps: private-key-like random bytes, message text, contact names. */
function deviceSecrets() {
  const identityPrivateKey = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
  identityPrivateKey.set(crypto.getRandomValues(new Uint8Array(16)), 8);
  return {
    identityPrivateKey,
    message: 'meet me at the old lighthouse at nine',
    contactNumber: '+14155550123',
    contactAlias: 'grandmother-rosalind',
    namespace: 'conversation:+14155550123',
  };
}

function contains(haystack: Buffer, needle: Uint8Array | string): boolean {
  return haystack.includes(
    typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle),
  );
}

describe('a copied store file', () => {
  it('contains no value, namespace, key or passphrase, in the main file or the WAL', async () => {
    const path = join(temp.dir, 'profile', 'store.sqlite');
    const s = deviceSecrets();
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await store.put('identity', 'private-key', s.identityPrivateKey);
    await store.put(s.namespace, 'message-0001', enc.encode(s.message));
    await store.transaction(async (tx) => {
      await tx.put('contacts', s.contactNumber, enc.encode(s.contactAlias));
      await tx.put('aliases', s.contactAlias, enc.encode(s.contactNumber));
    });

    // While open, the committed rows sit in the WAL: check what a copy taken now would hold.
    const whileOpen = storeBytes(path);
    expect(whileOpen.length).toBeGreaterThan(4096);
    // Sanity: the check would find plaintext if it were there (the header row names are public).
    expect(contains(whileOpen, 'passphrase-wrap')).toBe(true);
    await store.close();
    const afterClose = storeBytes(path);

    for (const bytes of [whileOpen, afterClose]) {
      expect(contains(bytes, s.identityPrivateKey)).toBe(false);
      expect(contains(bytes, s.identityPrivateKey.subarray(8, 24))).toBe(false);
      expect(contains(bytes, Buffer.from(s.identityPrivateKey).toString('hex'))).toBe(false);
      expect(contains(bytes, Buffer.from(s.identityPrivateKey).toString('base64'))).toBe(false);
      expect(contains(bytes, s.message)).toBe(false);
      expect(contains(bytes, 'lighthouse')).toBe(false);
      expect(contains(bytes, s.contactNumber)).toBe(false);
      expect(contains(bytes, '4155550123')).toBe(false);
      expect(contains(bytes, s.contactAlias)).toBe(false);
      expect(contains(bytes, 'conversation')).toBe(false);
      expect(contains(bytes, 'identity')).toBe(false);
      expect(contains(bytes, 'private-key')).toBe(false);
      expect(contains(bytes, 'message-0001')).toBe(false);
      expect(contains(bytes, PASSPHRASE)).toBe(false);
      expect(contains(bytes, Buffer.from(PASSPHRASE, 'utf16le'))).toBe(false);
    }
  });

  it('is created private to its owner (file 0600, directory 0700)', async () => {
    const path = join(temp.dir, 'fresh-profile', 'store.sqlite');
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await store.put('ns', 'k', Uint8Array.of(1));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(join(temp.dir, 'fresh-profile')).mode & 0o777).toBe(0o700);
    await store.close();
  });

  it('runs in WAL mode with synchronous=FULL and an exclusive lock', async () => {
    const path = join(temp.dir, 'store.sqlite');
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    const d = store.describe();
    expect(d.journalMode).toBe('wal');
    expect(d.synchronous).toBe('full');
    expect(d.lockingMode).toBe('exclusive');
    expect(d.argon2id.memoryKiB).toBeGreaterThanOrEqual(19_456);
    expect(d.argon2id.timeCost).toBeGreaterThanOrEqual(2);
    await store.close();
    // The journal mode is a property of the file, seen by any connection.
    expect(withRawDatabase(path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
    // synchronous is per connection: a reopened store sets it again.
    const reopened = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    expect(reopened.describe().synchronous).toBe('full');
    await reopened.close();
  });

  it('pads values so that their sizes reveal less', async () => {
    const path = join(temp.dir, 'store.sqlite');
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    await store.put('ns', 'a', new Uint8Array(1));
    await store.put('ns', 'b', new Uint8Array(40));
    await store.close();
    const sizes = withRawDatabase(path, (db) =>
      db.prepare<[], { n: number }>('SELECT length(sealed) AS n FROM entries').all(),
    );
    expect(sizes.map((r) => r.n)).toEqual([sizes[0]!.n, sizes[0]!.n]);
  });

  it('never shows its keys in inspect or JSON', async () => {
    const store = await openSqliteClientStore({ path: ':memory:', passphrase: PASSPHRASE });
    expect(inspect(store)).toBe('SqliteClientStore { path: ":memory:" }');
    expect(JSON.stringify(store)).toBe('{"path":":memory:"}');
    await store.close();
  });
});

describe('the documented format, decrypted independently', () => {
  it('Argon2id unwraps the store key; HKDF, HMAC names and GCM values match store-key.ts and entry-cipher.ts', async () => {
    const path = join(temp.dir, 'store.sqlite');
    const store = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
    const value = enc.encode('a value sealed by the adapter');
    await store.put('contacts', '+14155550188', value);
    await store.close();

    const { header, rows } = withRawDatabase(path, (db) => ({
      header: new Map(
        db
          .prepare<[], { name: string; value: Buffer }>('SELECT name, value FROM store_header')
          .all()
          .map((r) => [r.name, r.value] as const),
      ),
      rows: db
        .prepare<[], { namespace_id: Buffer; key_id: Buffer; sealed: Buffer }>(
          'SELECT namespace_id, key_id, sealed FROM entries',
        )
        .all(),
    }));
    expect(header.get('format')!.toString()).toBe('1');
    const storeId = header.get('store-id')!;
    const wrap = JSON.parse(header.get('passphrase-wrap')!.toString()) as {
      kdf: string;
      v: number;
      m: number;
      t: number;
      p: number;
      salt: string;
      nonce: string;
      key: string;
    };
    expect(wrap.kdf).toBe('argon2id');
    expect(wrap.v).toBe(0x13);

    // Key-encryption key: Argon2id from noble (pure JS), not the adapter's @node-rs/argon2.
    const salt = Buffer.from(wrap.salt, 'base64');
    const kek = argon2id(PASSPHRASE.normalize('NFC'), salt, {
      m: wrap.m,
      t: wrap.t,
      p: wrap.p,
      dkLen: 32,
      maxmem: 2 ** 31,
    });
    const aad = Buffer.concat([
      Buffer.from('sotto client-store v1 passphrase wrap'),
      storeId,
      Buffer.from(`argon2id v=19 m=${wrap.m} t=${wrap.t} p=${wrap.p}`),
      salt,
    ]);
    const wrapped = Buffer.from(wrap.key, 'base64');
    const unwrap = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrap.nonce, 'base64'));
    unwrap.setAAD(aad);
    unwrap.setAuthTag(wrapped.subarray(32));
    const storeKey = Buffer.concat([unwrap.update(wrapped.subarray(0, 32)), unwrap.final()]);
    expect(storeKey.length).toBe(32);

    const valueKey = Buffer.from(
      hkdfSync('sha256', storeKey, storeId, 'sotto client-store v1 value key', 32),
    );
    const nameKey = Buffer.from(
      hkdfSync('sha256', storeKey, storeId, 'sotto client-store v1 name key', 32),
    );
    const namespaceId = createHmac('sha256', nameKey)
      .update(Buffer.of(1))
      .update('contacts')
      .digest();
    const keyId = createHmac('sha256', nameKey)
      .update(Buffer.of(2))
      .update(namespaceId)
      .update('+14155550188')
      .digest();
    expect(rows.length).toBe(1);
    const row = rows[0]!;
    expect(row.namespace_id.equals(namespaceId)).toBe(true);
    expect(row.key_id.equals(keyId)).toBe(true);

    expect(row.sealed[0]).toBe(1);
    const open = createDecipheriv('aes-256-gcm', valueKey, row.sealed.subarray(1, 13));
    open.setAAD(Buffer.concat([Buffer.of(1), namespaceId, keyId]));
    open.setAuthTag(row.sealed.subarray(row.sealed.length - 16));
    const plaintext = Buffer.concat([
      open.update(row.sealed.subarray(13, row.sealed.length - 16)),
      open.final(),
    ]);
    expect(plaintext.length % 64).toBe(0);
    const keyLength = plaintext.readUInt32BE(0);
    expect(plaintext.subarray(4, 4 + keyLength).toString()).toBe('+14155550188');
    const valueLength = plaintext.readUInt32BE(4 + keyLength);
    expect(plaintext.subarray(8 + keyLength, 8 + keyLength + valueLength)).toEqual(
      Buffer.from(value),
    );
    expect(plaintext.subarray(8 + keyLength + valueLength).every((b) => b === 0)).toBe(true);
  });
});
