/**
 * `SecretServiceKeychain` against a REAL Secret Service: a private session bus with gnome-keyring
 * (testing/secret-service.ts), never the machine's own keychain. Round trips of every byte value,
 * the store opened through the keychain without its passphrase (and with the passphrase once the
 * entry is gone), malformed and wrong entries (clear errors, the store file untouched), a locked
 * keychain, no Secret Service at all, a missing tool, a hanging tool, and the secret kept off the
 * tool's command line and environment.
 *
 * CI (CI=true) installs the tools and never skips these; elsewhere they skip only when the tools
 * are missing (`apt-get install libsecret-tools gnome-keyring`).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  KEYCHAIN_SERVICE,
  openSqliteClientStore,
  SecretServiceKeychain,
  SqliteClientStoreError,
  type KeychainPort,
  type SqliteClientStoreErrorCode,
} from '../src/index.js';
import {
  memoryKeychain,
  secretServiceToolsMissing,
  startPrivateSecretService,
  type PrivateSecretService,
} from '../src/testing/index.js';
import { PASSPHRASE, storeBytes, tempDir, withRawDatabase } from './support.js';

const missing = secretServiceToolsMissing();
const skip = missing.length > 0 && process.env.CI !== 'true';
const SERVICE = 'sotto-test';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.remove());

const enc = new TextEncoder();
const dec = new TextDecoder();
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

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

/** Writes an entry with secret-tool itself (as another program, or a damaged keychain, would). */
function storeRaw(env: NodeJS.ProcessEnv, account: string, text: string, service = SERVICE): void {
  const r = spawnSync(
    'secret-tool',
    ['store', '--label=raw', 'service', service, 'account', account],
    {
      env,
      input: text,
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
}

/** The text secret-tool holds for an entry (undefined if none). */
function lookupRaw(env: NodeJS.ProcessEnv, account: string, service = SERVICE): string | undefined {
  const r = spawnSync('secret-tool', ['lookup', 'service', service, 'account', account], {
    env,
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout : undefined;
}

/** The store's keychain account: the hex store id, as the header's keychain wrap names it. */
function keychainAccount(path: string): string {
  return withRawDatabase(path, (db) => {
    const row = db
      .prepare<[], { value: Buffer }>(`SELECT value FROM store_header WHERE name = 'keychain-wrap'`)
      .get();
    return (JSON.parse(row!.value.toString('utf8')) as { account: string }).account;
  });
}

describe.skipIf(skip)(
  `SecretServiceKeychain on gnome-keyring (missing: ${missing.join(', ') || 'none'})`,
  () => {
    let service: PrivateSecretService;
    let keychain: SecretServiceKeychain;
    beforeAll(async () => {
      service = await startPrivateSecretService();
      keychain = new SecretServiceKeychain({ env: service.env });
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('set, get, replace and delete round trip; a missing entry is undefined', async () => {
      await keychain.check();
      expect(await keychain.get(SERVICE, 'round-trip')).toBeUndefined();
      const first = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
      await keychain.set(SERVICE, 'round-trip', first);
      expect(await keychain.get(SERVICE, 'round-trip')).toEqual(first);
      // Stored as base64 text (Secret Service items are text), readable by libsecret's own tool.
      expect(lookupRaw(service.env, 'round-trip')).toBe(Buffer.from(first).toString('base64'));

      const second = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
      await keychain.set(SERVICE, 'round-trip', second);
      expect(await keychain.get(SERVICE, 'round-trip')).toEqual(second);
      expect(await keychain.get(SERVICE, 'another-account')).toBeUndefined();
      expect(await keychain.get('another-service', 'round-trip')).toBeUndefined();

      await keychain.delete(SERVICE, 'round-trip');
      expect(await keychain.get(SERVICE, 'round-trip')).toBeUndefined();
      await keychain.delete(SERVICE, 'round-trip'); // removing a missing one is not an error
    });

    it('keeps secrets of every byte value and length exactly', async () => {
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const secrets = [
        everyByte,
        everyByte.slice().reverse(),
        Uint8Array.of(0),
        Uint8Array.of(0x0a), // a newline alone
        Uint8Array.of(0x0d, 0x0a, 0x00, 0xff),
        ...[1, 2, 3, 31, 32, 33, 1000].map((n) => new Uint8Array(randomBytes(n))),
      ];
      for (const [i, secret] of secrets.entries()) {
        await keychain.set(SERVICE, `bytes-${i}`, secret);
        expect(await keychain.get(SERVICE, `bytes-${i}`), `secret ${i}`).toEqual(secret);
        await keychain.delete(SERVICE, `bytes-${i}`);
      }
    });

    it('a malformed entry gives KEYCHAIN_ENTRY_INVALID without repeating it', async () => {
      for (const [i, text] of [
        'not base64!',
        'QUJ',
        'QUI=x',
        'QUJ=',
        ' QUJD',
        '====',
        'Q',
      ].entries()) {
        storeRaw(service.env, `malformed-${i}`, text);
        const err = await rejectsWith(
          keychain.get(SERVICE, `malformed-${i}`),
          'KEYCHAIN_ENTRY_INVALID',
        );
        if (text.trim().length > 2) expect(err.message).not.toContain(text.trim());
      }
    });

    it('opens the store through the keychain without the passphrase, and with the passphrase once the entry is gone', async () => {
      const path = join(temp.dir, 'store.sqlite');
      const created = await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain });
      await created.put('ns', 'k', enc.encode('kept by the keychain'));
      await created.close();
      const account = keychainAccount(path);
      expect(lookupRaw(service.env, account, KEYCHAIN_SERVICE)).toBeDefined();

      const unlocked = await openSqliteClientStore({ path, keychain, create: false });
      expect(unlocked.unlockedWith).toBe('keychain');
      expect(unlocked.describe().keychainWrap).toBe(true);
      expect(dec.decode(await unlocked.get('ns', 'k'))).toBe('kept by the keychain');
      await unlocked.close();

      await keychain.delete(KEYCHAIN_SERVICE, account);
      const before = sha256(storeBytes(path));
      const err = await rejectsWith(
        openSqliteClientStore({ path, keychain }),
        'PASSPHRASE_REQUIRED',
      );
      expect(SqliteClientStoreError.is(err.cause, 'KEYCHAIN_ENTRY_INVALID')).toBe(true);
      expect(err.message).toMatch(/holds no entry for this store/);
      expect(sha256(storeBytes(path))).toBe(before);

      const recovered = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
      expect(recovered.unlockedWith).toBe('passphrase');
      expect(dec.decode(await recovered.get('ns', 'k'))).toBe('kept by the keychain');
      await recovered.close();
    });

    it('a malformed or wrong entry for a store gives a clear error and leaves the file as it was', async () => {
      const path = join(temp.dir, 'store.sqlite');
      const created = await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain });
      await created.put('ns', 'k', enc.encode('v'));
      await created.close();
      const account = keychainAccount(path);
      const before = sha256(storeBytes(path));

      storeRaw(service.env, account, 'this is not a key', KEYCHAIN_SERVICE);
      const malformed = await rejectsWith(
        openSqliteClientStore({ path, keychain }),
        'PASSPHRASE_REQUIRED',
      );
      expect(SqliteClientStoreError.is(malformed.cause, 'KEYCHAIN_ENTRY_INVALID')).toBe(true);
      expect(malformed.message).toMatch(/malformed/);
      expect(sha256(storeBytes(path))).toBe(before);

      // A well-formed 32-byte key that is not this store's: the wrap's GCM tag refuses it.
      await keychain.set(KEYCHAIN_SERVICE, account, new Uint8Array(32).fill(7));
      const wrong = await rejectsWith(
        openSqliteClientStore({ path, keychain }),
        'PASSPHRASE_REQUIRED',
      );
      expect(SqliteClientStoreError.is(wrong.cause, 'KEYCHAIN_ENTRY_INVALID')).toBe(true);
      expect(wrong.message).toMatch(/does not unlock it/);
      expect(sha256(storeBytes(path))).toBe(before);

      // The passphrase still opens it; without the keychain nothing is re-enrolled or changed.
      const recovered = await openSqliteClientStore({ path, passphrase: PASSPHRASE });
      expect(dec.decode(await recovered.get('ns', 'k'))).toBe('v');
      expect(recovered.describe().keychainWrap).toBe(true);
      // forgetKeychain with the keychain removes the wrap and the (wrong) entry.
      await recovered.forgetKeychain(keychain);
      expect(recovered.describe().keychainWrap).toBe(false);
      await recovered.close();
      expect(lookupRaw(service.env, account, KEYCHAIN_SERVICE)).toBeUndefined();
    });
  },
);

describe.skipIf(skip)('SecretServiceKeychain when the Secret Service cannot be used', () => {
  let service: PrivateSecretService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('a locked keychain gives KEYCHAIN_UNAVAILABLE ("locked") for get, set and delete', async () => {
    service = await startPrivateSecretService();
    const keychain = new SecretServiceKeychain({ env: service.env });
    const secret = new Uint8Array(32).fill(42);
    await keychain.set(SERVICE, 'locked', secret);
    service.lock();
    for (const attempt of [
      () => keychain.get(SERVICE, 'locked'),
      () => keychain.set(SERVICE, 'locked', secret),
      () => keychain.delete(SERVICE, 'locked'),
    ]) {
      const err = await rejectsWith(attempt(), 'KEYCHAIN_UNAVAILABLE');
      expect(err.message).toMatch(/keychain is locked/);
      expect(err.message).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('no Secret Service on the bus gives KEYCHAIN_UNAVAILABLE; enrolling a new store then fails loudly', async () => {
    service = await startPrivateSecretService({ keyring: false });
    const keychain = new SecretServiceKeychain({ env: service.env });
    for (const attempt of [
      () => keychain.check(),
      () => keychain.get(SERVICE, 'x'),
      () => keychain.set(SERVICE, 'x', new Uint8Array(32)),
      () => keychain.delete(SERVICE, 'x'),
    ]) {
      const err = await rejectsWith(attempt(), 'KEYCHAIN_UNAVAILABLE');
      expect(err.message).toMatch(/org\.freedesktop\.secrets.*Secret Service/);
    }
    // Enabling the keychain on a new store fails loudly (nothing half-enrolled is reported as done).
    const path = join(temp.dir, 'store.sqlite');
    await rejectsWith(
      openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain }),
      'KEYCHAIN_UNAVAILABLE',
    );
  });
});

describe('the store with a failing keychain (no tools needed)', () => {
  it('says why the keychain did not unlock it: the cause of PASSPHRASE_REQUIRED, file untouched', async () => {
    const path = join(temp.dir, 'store.sqlite');
    const keychain = memoryKeychain();
    await (await openSqliteClientStore({ path, passphrase: PASSPHRASE, keychain })).close();
    const before = sha256(storeBytes(path));
    const failing = (err: unknown): KeychainPort => ({
      get: () => Promise.reject(err instanceof Error ? err : new Error(String(err))),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    });
    const unavailable = new SqliteClientStoreError(
      'KEYCHAIN_UNAVAILABLE',
      'the OS keychain is locked',
    );
    const locked = await rejectsWith(
      openSqliteClientStore({ path, keychain: failing(unavailable) }),
      'PASSPHRASE_REQUIRED',
    );
    expect(locked.cause).toBe(unavailable);
    expect(locked.message).toContain('the OS keychain is locked');
    // Another adapter's own error is wrapped, its message (which could hold anything) not repeated.
    const foreign = await rejectsWith(
      openSqliteClientStore({ path, keychain: failing(new Error('secret 1234')) }),
      'PASSPHRASE_REQUIRED',
    );
    expect(SqliteClientStoreError.is(foreign.cause, 'KEYCHAIN_UNAVAILABLE')).toBe(true);
    expect(foreign.message).not.toContain('1234');
    expect(sha256(storeBytes(path))).toBe(before);
    // Without a keychain wrap the keychain is not asked at all, and there is no cause.
    const plain = join(temp.dir, 'plain.sqlite');
    await (await openSqliteClientStore({ path: plain, passphrase: PASSPHRASE })).close();
    const noWrap = await rejectsWith(
      openSqliteClientStore({ path: plain, keychain: failing(unavailable) }),
      'PASSPHRASE_REQUIRED',
    );
    expect(noWrap.cause).toBeUndefined();
  });
});

describe('SecretServiceKeychain without a keychain (no tools needed)', () => {
  /** A stand-in for secret-tool that records its arguments, environment and input. */
  function recordingTool(body = ''): string {
    const tool = join(temp.dir, 'fake-secret-tool');
    writeFileSync(
      tool,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${temp.dir}/args"\nenv > "${temp.dir}/env"\ncat > "${temp.dir}/stdin"\n${body}\n`,
    );
    chmodSync(tool, 0o700);
    return tool;
  }

  it('passes the secret on standard input only, never in the arguments or the environment', async () => {
    const keychain = new SecretServiceKeychain({ command: recordingTool() });
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 100);
    const b64 = Buffer.from(secret).toString('base64');
    await keychain.set('svc', 'acct', secret);
    const args = readFileSync(join(temp.dir, 'args'), 'utf8').trimEnd().split('\n');
    expect(args).toEqual([
      'store',
      '--label=Sotto svc key (acct)',
      'service',
      'svc',
      'account',
      'acct',
    ]);
    expect(readFileSync(join(temp.dir, 'env'), 'utf8')).not.toContain(b64);
    expect(readFileSync(join(temp.dir, 'stdin'), 'utf8')).toBe(b64);
  });

  it('a missing tool gives KEYCHAIN_NOT_INSTALLED naming the package', async () => {
    const keychain = new SecretServiceKeychain({ command: join(temp.dir, 'no-such-secret-tool') });
    const err = await rejectsWith(keychain.get('svc', 'acct'), 'KEYCHAIN_NOT_INSTALLED');
    expect(err.message).toMatch(/libsecret-tools/);
    await rejectsWith(keychain.set('svc', 'acct', new Uint8Array(32)), 'KEYCHAIN_NOT_INSTALLED');
    await rejectsWith(keychain.check(), 'KEYCHAIN_NOT_INSTALLED');
  });

  it('a tool that does not answer is killed after the timeout: KEYCHAIN_UNAVAILABLE', async () => {
    const keychain = new SecretServiceKeychain({
      command: recordingTool('exec sleep 30'),
      timeoutMs: 300,
    });
    const err = await rejectsWith(keychain.get('svc', 'acct'), 'KEYCHAIN_UNAVAILABLE');
    expect(err.message).toMatch(/did not answer/);
  });

  it('output that is not an entry Sotto wrote is KEYCHAIN_ENTRY_INVALID, an oversized one too', async () => {
    const garbage = new SecretServiceKeychain({ command: recordingTool(`printf 'A%%B'`) });
    await rejectsWith(garbage.get('svc', 'acct'), 'KEYCHAIN_ENTRY_INVALID');
    const huge = new SecretServiceKeychain({
      command: recordingTool('yes A | head -c 200000'),
    });
    await rejectsWith(huge.get('svc', 'acct'), 'KEYCHAIN_ENTRY_INVALID');
  });

  it('refuses option-like or multi-line names and empty secrets before running anything', async () => {
    const keychain = new SecretServiceKeychain({ command: join(temp.dir, 'never-run') });
    for (const [svc, acct] of [
      ['-x', 'a'],
      ['svc', '--label=evil'],
      ['', 'a'],
      ['svc', 'a\nb'],
      ['svc', 'x'.repeat(257)],
    ] as const) {
      await rejectsWith(keychain.get(svc, acct), 'BAD_ARGUMENT');
    }
    await rejectsWith(keychain.set('svc', 'acct', new Uint8Array(0)), 'BAD_ARGUMENT');
    expect(inspect(keychain)).toBe('SecretServiceKeychain {}');
    expect(JSON.stringify(keychain)).toBe('{"keychain":"secret-service"}');
  });
});
