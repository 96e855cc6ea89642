/**
 * End-to-end: the two-step PIN recovered through the key vault (docs/backups.md "The key vault").
 *
 * 1. Through a real relay process (apps/server, vault mounted by default, default key stretching
 *    and backoff): A sets a PIN, A's device is lost, a new device registers the same number, gets
 *    423 with a recover-only vault credential, recovers the master key with the PIN through the
 *    vault and re-registers; a wrong PIN first is answered with the attempts left.
 * 2. Through `createServer` + the vault plugin on SQLite + real HTTP (no backoff, a clock the test
 *    moves): 9 wrong PINs, then the right one works; 10 wrong PINs destroy the record, and the right
 *    PIN then fails with the destroyed error; 100 parallel guesses over HTTP release exactly 10
 *    login responses.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultCredential } from '@sotto/api';
import {
  BackupError,
  KeyVault,
  limits,
  recoverVaultSecret,
  type KeyStretching,
} from '@sotto/backup';
import {
  ClientError,
  HttpVaultApi,
  VaultPinVault,
  createClient,
  type PinVaultContext,
  type SottoClient,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import { createServer, MemoryAttachmentStore, type SottoServer } from '@sotto/server';
import { MemorySmsSender } from '@sotto/server/testing';
import { openSqliteStorage } from '@sotto/storage-sqlite';
import { vaultPlugin } from '@sotto/vault';
import { openSqliteVaultStore, type SqliteVaultStore } from '@sotto/vault-store-sqlite';
import {
  newClient,
  newNumber,
  registeredClient,
  startRelay,
  wsFactory,
  type Relay,
} from './client-support.js';

const PIN = '2468';
const WRONG = '1357';

describe('PIN recovery through the vault of a real relay process', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('recovers the master key on a new device with the PIN and re-registers the locked number', async () => {
    const a = await registeredClient(relay, { pinVault: new VaultPinVault() });
    await a.client.setPin(PIN);
    expect((await a.client.serverAccount()).registrationLock).toBe(true);
    await a.client.close(); // A's phone is lost: its store (and master key) with it.

    const b = await newClient(relay, { pinVault: new VaultPinVault() });
    await b.requestCode(a.number);
    const code = await relay.process.codeFor(a.number);
    // Without the PIN: locked, and the error handed to the app carries no vault credential.
    const locked = await b.register({ number: a.number, code }).catch((e: unknown) => e);
    expect(ClientError.is(locked, 'REGISTRATION_LOCKED')).toBe(true);
    const details = (locked as ClientError).details as Record<string, unknown>;
    expect(details['timeRemainingMs']).toBeGreaterThan(0);
    expect(details).not.toHaveProperty('vaultCredential');
    expect(JSON.stringify(locked)).not.toMatch(/[0-9]{10}:[0-9a-f]{20}/);
    // A wrong PIN: refused by the vault, which says how many guesses are left.
    const wrong = await b.register({ number: a.number, code, pin: WRONG }).catch((e: unknown) => e);
    expect(ClientError.is(wrong, 'PIN_NOT_RECOVERABLE')).toBe(true);
    expect((wrong as ClientError).details).toEqual({
      reason: 'wrong-pin',
      attemptsRemaining: limits.VAULT_MAX_ATTEMPTS - 1,
    });
    expect(b.account).toBeNull();
    // The right PIN recovers the master key; the number is re-registered, still locked.
    const info = await b.register({ number: a.number, code, pin: PIN });
    expect(info.accountId).toBe(a.accountId);
    expect(await b.registrationLockEnabled()).toBe(true);
    expect((await b.serverAccount()).registrationLock).toBe(true);
    // The vault's counter was reset by the successful login.
    const status = await new VaultPinVault().status(
      contextOf(relay.url, await b.vaultCredential()),
    );
    expect(status).toMatchObject({ state: 'active', attemptsRemaining: limits.VAULT_MAX_ATTEMPTS });
    // removePin deletes the vault record.
    await b.removePin();
    const after = await new VaultPinVault().status(contextOf(relay.url, await b.vaultCredential()));
    expect(after.state).toBe('absent');
    await b.close();
  }, 120_000);

  it('recovers through the vault when a stale local master key is refused', async () => {
    const a = await registeredClient(relay, { pinVault: new VaultPinVault() });
    await a.client.setPin(PIN);
    await a.client.close();
    // An old profile whose master key no longer matches the account's lock (the PIN was set
    // again elsewhere): its token is refused with REGISTRATION_LOCK_MISMATCH, which carries no
    // vault credential, so the client must ask for the 423 that does before trying the PIN.
    const store = createMemoryClientStore();
    await store.put('account', 'master-key', randomBytes(32));
    await store.put('account', 'registration-lock', new TextEncoder().encode('{"enabled":true}'));
    const b = await newClient(relay, { pinVault: new VaultPinVault(), store });
    await b.requestCode(a.number);
    const code = await relay.process.codeFor(a.number);
    const info = await b.register({ number: a.number, code, pin: PIN });
    expect(info.accountId).toBe(a.accountId);
    expect((await b.serverAccount()).registrationLock).toBe(true);
    await b.close();
  }, 120_000);
});

/** Cheap Argon2id for the many guesses below; the default is exercised above. */
const FAST: KeyStretching = { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } };

function contextOf(serverUrl: string, credential: VaultCredential): PinVaultContext {
  return { serverUrl, fetch: globalThis.fetch, credential: () => Promise.resolve(credential) };
}

describe('PIN guesses against the vault mounted in an in-process relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-vault-e2e-'));
  const sms = new MemorySmsSender();
  let offsetMs = 0;
  let server: SottoServer;
  let vaultStore: SqliteVaultStore;
  let url: string;
  let closeStorage: () => Promise<void>;

  beforeAll(async () => {
    const storage = await openSqliteStorage({ filename: ':memory:' });
    closeStorage = () => storage.close();
    vaultStore = openSqliteVaultStore({ filename: join(dir, 'vault.db') });
    const credentialKey = randomBytes(32);
    const vault = await KeyVault.open({
      store: vaultStore,
      attemptDelayMs: () => 0,
      now: () => Date.now() + offsetMs,
    });
    const wide = { max: 100_000, windowMs: 60_000 };
    server = await createServer({
      storage,
      attachments: new MemoryAttachmentStore(),
      sms,
      secret: randomBytes(32),
      sweepIntervalMs: 0,
      heartbeatIntervalMs: 0,
      unlimitedAddresses: ['127.0.0.1'],
      vaultCredentialKey: credentialKey,
      plugins: [
        {
          plugin: vaultPlugin,
          options: {
            vault,
            credentialKey,
            unlimitedAddresses: ['127.0.0.1'],
            requestsPerAccount: wide,
          },
        },
      ],
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    await server.close();
    await closeStorage();
    vaultStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (): Promise<SottoClient> =>
    createClient({
      serverUrl: url,
      webSocketFactory: wsFactory,
      store: createMemoryClientStore(),
      preKeyBatchSize: 10,
      pinVault: new VaultPinVault({ keyStretching: FAST }),
    });

  /** An account with a PIN, and a new device's recover-only credential from a raw 423. */
  async function lockedNumber(): Promise<{
    number: string;
    accountId: string;
    credential: VaultCredential;
    code: string;
  }> {
    const a = await client();
    const number = newNumber();
    await a.requestCode(number);
    const info = await a.register({ number, code: sms.codeFor(number) });
    await a.setPin(PIN);
    await a.close();
    const b = await client();
    await b.requestCode(number);
    const code = sms.codeFor(number);
    await b.close();
    // What the SDK does inside `register`, done by hand to keep the credential for the test.
    const res = await fetch(`${url}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        number,
        code,
        registrationId: 77,
        identityKey: Buffer.concat([Buffer.from([5]), randomBytes(32)]).toString('base64'),
      }),
    });
    expect(res.status).toBe(423);
    const body = (await res.json()) as { error: { details: { vaultCredential: VaultCredential } } };
    expect(body.error.details.vaultCredential.username).toBe(info.accountId);
    return {
      number,
      accountId: info.accountId,
      credential: body.error.details.vaultCredential,
      code,
    };
  }

  const pinVault = new VaultPinVault({ keyStretching: FAST });
  const guess = (credential: VaultCredential, pin: string) =>
    pinVault.recover(pin, contextOf(url, credential)).then(
      () => 'recovered',
      (err: unknown) => (BackupError.is(err) ? err : String(err)),
    );

  it('9 wrong PINs, then the right one recovers and registers', async () => {
    const locked = await lockedNumber();
    for (let i = 1; i <= limits.VAULT_MAX_ATTEMPTS - 1; i++) {
      const r = await guess(locked.credential, WRONG);
      expect(BackupError.is(r, 'VAULT_WRONG_PASSWORD')).toBe(true);
      expect((r as BackupError).details.attemptsRemaining).toBe(limits.VAULT_MAX_ATTEMPTS - i);
    }
    const b = await client();
    const info = await b.register({ number: locked.number, code: locked.code, pin: PIN });
    expect(info.accountId).toBe(locked.accountId);
    expect((await b.serverAccount()).registrationLock).toBe(true);
    await b.close();
  }, 120_000);

  it('10 wrong PINs destroy the record; the right PIN then fails with the destroyed error', async () => {
    const locked = await lockedNumber();
    for (let i = 0; i < limits.VAULT_MAX_ATTEMPTS; i++) {
      expect(BackupError.is(await guess(locked.credential, WRONG), 'VAULT_WRONG_PASSWORD')).toBe(
        true,
      );
    }
    const b = await client();
    // The 10th guess may still finish for the login TTL: the vault waits, then destroys.
    const waiting = await b
      .register({ number: locked.number, code: locked.code, pin: PIN })
      .catch((e: unknown) => e);
    expect((waiting as ClientError).details).toMatchObject({ reason: 'rate-limited' });
    offsetMs += limits.VAULT_LOGIN_STATE_TTL_MS + 1000;
    const destroyed = await b
      .register({ number: locked.number, code: locked.code, pin: PIN })
      .catch((e: unknown) => e);
    expect(ClientError.is(destroyed, 'PIN_NOT_RECOVERABLE')).toBe(true);
    expect((destroyed as ClientError).details).toEqual({
      reason: 'destroyed',
      attemptsRemaining: 0,
    });
    expect((destroyed as ClientError).message).toMatch(/destroyed/);
    const cause = (destroyed as ClientError).cause;
    expect(BackupError.is(cause, 'VAULT_RECORD_DESTROYED')).toBe(true);
    expect(ClientError.isApi((cause as BackupError).cause, 'VAULT_RECORD_DESTROYED')).toBe(true);
    expect(b.account).toBeNull();
    await b.close();
  }, 120_000);

  it('lets exactly 10 of 100 parallel HTTP guesses through (SQLite store)', async () => {
    const locked = await lockedNumber();
    const api = new HttpVaultApi({ url, credential: locked.credential });
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () =>
        recoverVaultSecret(
          api,
          { accountId: locked.accountId, purpose: 'pin-master-key', password: WRONG },
          { keyStretching: FAST },
        ).then(
          () => 'recovered',
          (err: unknown) => (BackupError.is(err) ? err.code : String(err)),
        ),
      ),
    );
    const count = (code: string) => outcomes.filter((o) => o === code).length;
    expect(count('VAULT_WRONG_PASSWORD')).toBe(limits.VAULT_MAX_ATTEMPTS);
    expect(count('VAULT_RATE_LIMITED')).toBe(100 - limits.VAULT_MAX_ATTEMPTS);
  }, 120_000);
});
