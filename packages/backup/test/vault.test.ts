// The key vault (docs/backups.md "The key vault"): OPAQUE registration and login through the
// client helper, the 10-guess limit with its backoff, destruction, login-state handling, purposes,
// and what the vault stores (nothing password-equivalent).
import { inspect } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  BackupKey,
  KeyVault,
  MemoryVaultStore,
  recoverBackupKeyFromVault,
  recoverVaultSecret,
  storeBackupKeyInVault,
  storeVaultSecret,
  unwrapVaultSecret,
  wrapVaultSecret,
  type VaultRecordKey,
} from '../src/index.js';
import { opaque } from '../src/vault/opaque.js';
import { VAULT_LOGIN_STATE_TTL_MS, VAULT_MAX_ATTEMPTS } from '../src/limits.js';
import { FAST, codeOf, openVault } from './vault-helpers.js';

const ACCOUNT = 'aci-2f3c9c1e-1b7e-4c1f-9a55-7d0a2f0c1234';
const PASSWORD = 'correct horse battery staple';
const WRONG = 'Tr0ub4dor&3';

async function guessWrong(
  vault: KeyVault,
  clock: { advance(ms: number): void },
  accountId = ACCOUNT,
) {
  const status = await vault.status({ accountId, purpose: 'backup' });
  clock.advance(status.retryAfterMs);
  return codeOf(recoverBackupKeyFromVault(vault, { accountId, password: WRONG }, FAST));
}

describe('key vault', () => {
  it('stores a backup key and gives it back for the right password only', async () => {
    const { vault } = await openVault();
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(vault, { accountId: ACCOUNT, password: PASSWORD, backupKey }, FAST);
    const recovered = await recoverBackupKeyFromVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD },
      FAST,
    );
    expect(recovered.equals(backupKey)).toBe(true);
    const err = await recoverBackupKeyFromVault(
      vault,
      { accountId: ACCOUNT, password: WRONG },
      FAST,
    ).catch((e: unknown) => e);
    expect(BackupError.is(err, 'VAULT_WRONG_PASSWORD')).toBe(true);
    expect((err as BackupError).details.attemptsRemaining).toBe(VAULT_MAX_ATTEMPTS - 1);
  });

  it('9 wrong passwords, then the right one succeeds and resets the counter', async () => {
    const { vault, clock } = await openVault();
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(vault, { accountId: ACCOUNT, password: PASSWORD, backupKey }, FAST);
    const remaining: number[] = [];
    for (let i = 0; i < 9; i++) {
      expect(await guessWrong(vault, clock)).toBe('VAULT_WRONG_PASSWORD');
      remaining.push(
        (await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).attemptsRemaining,
      );
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    clock.advance((await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).retryAfterMs);
    const recovered = await recoverBackupKeyFromVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD },
      FAST,
    );
    expect(recovered.equals(backupKey)).toBe(true);
    expect(await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).toEqual({
      state: 'active',
      attemptsRemaining: VAULT_MAX_ATTEMPTS,
      retryAfterMs: 0,
    });
    // A fresh allowance: another 9 wrong guesses do not destroy it either.
    for (let i = 0; i < 9; i++) expect(await guessWrong(vault, clock)).toBe('VAULT_WRONG_PASSWORD');
    clock.advance((await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).retryAfterMs);
    expect(
      (
        await recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST)
      ).equals(backupKey),
    ).toBe(true);
  });

  it('10 wrong passwords destroy the record; then the right one fails with VAULT_RECORD_DESTROYED', async () => {
    const { vault, clock, store } = await openVault();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    for (let i = 0; i < 10; i++)
      expect(await guessWrong(vault, clock)).toBe('VAULT_WRONG_PASSWORD');
    // The 10th attempt could still be finishing: the vault waits for the login TTL...
    const early = await recoverBackupKeyFromVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD },
      FAST,
    ).catch((e: unknown) => e);
    expect(BackupError.is(early, 'VAULT_RATE_LIMITED')).toBe(true);
    expect((early as BackupError).details.retryAfterMs).toBeLessThanOrEqual(
      VAULT_LOGIN_STATE_TTL_MS,
    );
    clock.advance(VAULT_LOGIN_STATE_TTL_MS);
    // ... then destroys the record, and says so.
    expect(
      await codeOf(
        recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST),
      ),
    ).toBe('VAULT_RECORD_DESTROYED');
    expect(await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).toMatchObject({
      state: 'destroyed',
    });
    const [stored] = (store as MemoryVaultStore).dump().records;
    expect(stored?.record).toMatchObject({
      status: 'destroyed',
      registrationRecord: '',
      registrationId: '',
    });
    expect(stored?.record.wrappedSecret).toHaveLength(0);
    // A new registration is possible (the old secret is gone for good).
    const fresh = BackupKey.generate();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: fresh },
      FAST,
    );
    expect(
      (
        await recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST)
      ).equals(fresh),
    ).toBe(true);
  });

  it('destroys at once when the last attempt fails at loginFinish', async () => {
    const { vault, clock } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    // A valid KE3 from one login, replayed against another login's state, fails verification.
    const first = opaque.client.startLogin({ password: PASSWORD });
    const started = await vault.loginStart({ ...key, startLoginRequest: first.startLoginRequest });
    const finished = opaque.client.finishLogin({
      clientLoginState: first.clientLoginState,
      loginResponse: started.loginResponse,
      password: PASSWORD,
      ...FAST,
    })!;
    for (let i = 0; i < 8; i++) expect(await guessWrong(vault, clock)).toBe('VAULT_WRONG_PASSWORD');
    clock.advance((await vault.status(key)).retryAfterMs);
    const last = await vault.loginStart({
      ...key,
      startLoginRequest: opaque.client.startLogin({ password: PASSWORD }).startLoginRequest,
    });
    expect(last.attemptsRemaining).toBe(0);
    expect(
      await codeOf(
        vault.loginFinish({
          ...key,
          loginState: last.loginState,
          finishLoginRequest: finished.finishLoginRequest,
        }),
      ),
    ).toBe('VAULT_RECORD_DESTROYED');
    expect((await vault.status(key)).state).toBe('destroyed');
  });

  it('a failed loginFinish with attempts left is VAULT_WRONG_PASSWORD and stays charged', async () => {
    const { vault } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const a = opaque.client.startLogin({ password: PASSWORD });
    const startedA = await vault.loginStart({ ...key, startLoginRequest: a.startLoginRequest });
    const finishedA = opaque.client.finishLogin({
      clientLoginState: a.clientLoginState,
      loginResponse: startedA.loginResponse,
      password: PASSWORD,
      ...FAST,
    })!;
    const b = await vault.loginStart({
      ...key,
      startLoginRequest: opaque.client.startLogin({ password: PASSWORD }).startLoginRequest,
    });
    const err = await vault
      .loginFinish({
        ...key,
        loginState: b.loginState,
        finishLoginRequest: finishedA.finishLoginRequest,
      })
      .catch((e: unknown) => e);
    expect(BackupError.is(err, 'VAULT_WRONG_PASSWORD')).toBe(true);
    expect((err as BackupError).details.attemptsRemaining).toBe(8);
    // The honest finish of login A still works and refunds everything.
    await vault.loginFinish({
      ...key,
      loginState: startedA.loginState,
      finishLoginRequest: finishedA.finishLoginRequest,
    });
    expect((await vault.status(key)).attemptsRemaining).toBe(10);
  });

  it('rate limits guesses after the free ones, with a doubling delay', async () => {
    const { vault, clock } = await openVault();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const attempt = async (): Promise<BackupError> => {
      const err = await recoverBackupKeyFromVault(
        vault,
        { accountId: ACCOUNT, password: WRONG },
        FAST,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!BackupError.is(err)) throw new Error('expected a BackupError');
      return err;
    };
    for (let i = 0; i < 3; i++) expect((await attempt()).code).toBe('VAULT_WRONG_PASSWORD');
    const limited = await attempt();
    expect(limited.code).toBe('VAULT_RATE_LIMITED');
    expect(limited.details.retryAfterMs).toBe(1000);
    clock.advance(999);
    expect((await attempt()).code).toBe('VAULT_RATE_LIMITED');
    clock.advance(1);
    expect((await attempt()).code).toBe('VAULT_WRONG_PASSWORD');
    expect((await attempt()).details.retryAfterMs).toBe(2000);
    // Refused attempts are not charged.
    expect((await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).attemptsRemaining).toBe(
      6,
    );
  });

  it('protects the PIN-guarded master key the same way, separately from the backup key', async () => {
    const { vault, clock } = await openVault();
    const masterKey = randomBytes(32);
    const pin = '4821';
    await storeVaultSecret(
      vault,
      { accountId: ACCOUNT, purpose: 'pin-master-key', password: pin, secret: masterKey },
      FAST,
    );
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    expect(
      Buffer.from(
        await recoverVaultSecret(
          vault,
          { accountId: ACCOUNT, purpose: 'pin-master-key', password: pin },
          FAST,
        ),
      ).equals(masterKey),
    ).toBe(true);
    // Wrong PINs count against the PIN record only.
    for (let i = 0; i < 3; i++) {
      clock.advance(
        (await vault.status({ accountId: ACCOUNT, purpose: 'pin-master-key' })).retryAfterMs,
      );
      expect(
        await codeOf(
          recoverVaultSecret(
            vault,
            { accountId: ACCOUNT, purpose: 'pin-master-key', password: '0000' },
            FAST,
          ),
        ),
      ).toBe('VAULT_WRONG_PASSWORD');
    }
    expect(
      (await vault.status({ accountId: ACCOUNT, purpose: 'pin-master-key' })).attemptsRemaining,
    ).toBe(7);
    expect((await vault.status({ accountId: ACCOUNT, purpose: 'backup' })).attemptsRemaining).toBe(
      10,
    );
    // The PIN does not open the backup record, and a record of one purpose answers only its own.
    expect(
      await codeOf(recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: pin }, FAST)),
    ).toBe('VAULT_WRONG_PASSWORD');
    expect(
      await codeOf(
        recoverBackupKeyFromVault(vault, { accountId: 'someone-else', password: PASSWORD }, FAST),
      ),
    ).toBe('VAULT_NOT_FOUND');
  });

  it('binds wrapped secrets to their account and purpose', () => {
    const exportKey = Buffer.from(randomBytes(64)).toString('base64url');
    const secret = randomBytes(32);
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    const wrapped = wrapVaultSecret(exportKey, key, secret);
    expect(Buffer.from(unwrapVaultSecret(exportKey, key, wrapped)).equals(secret)).toBe(true);
    for (const other of [
      { ...key, accountId: 'other' },
      { ...key, purpose: 'pin-master-key' as const },
    ]) {
      expect(() => unwrapVaultSecret(exportKey, other, wrapped)).toThrow(
        expect.objectContaining({ code: 'BAD_WRAPPED_KEY' }),
      );
    }
    const otherExport = Buffer.from(randomBytes(64)).toString('base64url');
    expect(() => unwrapVaultSecret(otherExport, key, wrapped)).toThrow(
      expect.objectContaining({ code: 'BAD_WRAPPED_KEY' }),
    );
  });

  it('rejects login states that expired, were forged, or belong to another account', async () => {
    const { vault, clock } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    await storeBackupKeyInVault(
      vault,
      { accountId: 'other', password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const login = async () => {
      const c = opaque.client.startLogin({ password: PASSWORD });
      const s = await vault.loginStart({ ...key, startLoginRequest: c.startLoginRequest });
      const f = opaque.client.finishLogin({
        clientLoginState: c.clientLoginState,
        loginResponse: s.loginResponse,
        password: PASSWORD,
        ...FAST,
      })!;
      return { state: s.loginState, ke3: f.finishLoginRequest };
    };
    const l1 = await login();
    expect(
      await codeOf(
        vault.loginFinish({
          accountId: 'other',
          purpose: 'backup',
          loginState: l1.state,
          finishLoginRequest: l1.ke3,
        }),
      ),
    ).toBe('VAULT_LOGIN_EXPIRED');
    expect(
      await codeOf(
        vault.loginFinish({
          ...key,
          purpose: 'pin-master-key',
          loginState: l1.state,
          finishLoginRequest: l1.ke3,
        }),
      ),
    ).toBe('VAULT_LOGIN_EXPIRED');
    const forged = Buffer.from(l1.state, 'base64url');
    forged[20]! ^= 1;
    expect(
      await codeOf(
        vault.loginFinish({
          ...key,
          loginState: forged.toString('base64url'),
          finishLoginRequest: l1.ke3,
        }),
      ),
    ).toBe('VAULT_LOGIN_EXPIRED');
    clock.advance(VAULT_LOGIN_STATE_TTL_MS + 1);
    expect(
      await codeOf(vault.loginFinish({ ...key, loginState: l1.state, finishLoginRequest: l1.ke3 })),
    ).toBe('VAULT_LOGIN_EXPIRED');
    const l2 = await login();
    await expect(
      vault.loginFinish({ ...key, loginState: l2.state, finishLoginRequest: l2.ke3 }),
    ).resolves.toHaveProperty('wrappedSecret');
  });

  it('finishes on another vault node sharing the store (no session table)', async () => {
    const store = new MemoryVaultStore();
    const { vault: a } = await openVault({ store });
    const { vault: b } = await openVault({ store });
    expect(a.serverPublicKey).toBe(b.serverPublicKey);
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(a, { accountId: ACCOUNT, password: PASSWORD, backupKey }, FAST);
    const split = {
      registrationStart: a.registrationStart.bind(a),
      registrationFinish: b.registrationFinish.bind(b),
      loginStart: a.loginStart.bind(a),
      loginFinish: b.loginFinish.bind(b),
    };
    expect(
      (
        await recoverBackupKeyFromVault(split, { accountId: ACCOUNT, password: PASSWORD }, FAST)
      ).equals(backupKey),
    ).toBe(true);
  });

  it('a new registration replaces the old one, resets the counter and voids logins in flight', async () => {
    const { vault, clock } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    expect(await guessWrong(vault, clock)).toBe('VAULT_WRONG_PASSWORD');
    const c = opaque.client.startLogin({ password: PASSWORD });
    const s = await vault.loginStart({ ...key, startLoginRequest: c.startLoginRequest });
    const f = opaque.client.finishLogin({
      clientLoginState: c.clientLoginState,
      loginResponse: s.loginResponse,
      password: PASSWORD,
      ...FAST,
    })!;
    const replacement = BackupKey.generate();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: 'new password', backupKey: replacement },
      FAST,
    );
    expect((await vault.status(key)).attemptsRemaining).toBe(10);
    expect(
      await codeOf(
        vault.loginFinish({
          ...key,
          loginState: s.loginState,
          finishLoginRequest: f.finishLoginRequest,
        }),
      ),
    ).toBe('VAULT_LOGIN_EXPIRED');
    expect(
      await codeOf(
        recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST),
      ),
    ).toBe('VAULT_WRONG_PASSWORD');
    expect(
      (
        await recoverBackupKeyFromVault(
          vault,
          { accountId: ACCOUNT, password: 'new password' },
          FAST,
        )
      ).equals(replacement),
    ).toBe(true);
  });

  it('refuses a vault other than the pinned one', async () => {
    const { vault } = await openVault();
    const { vault: impostor } = await openVault();
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey },
      { ...FAST, serverPublicKey: vault.serverPublicKey },
    );
    await storeBackupKeyInVault(
      impostor,
      { accountId: ACCOUNT, password: PASSWORD, backupKey },
      FAST,
    );
    expect(
      await codeOf(
        recoverBackupKeyFromVault(
          impostor,
          { accountId: ACCOUNT, password: PASSWORD },
          { ...FAST, serverPublicKey: vault.serverPublicKey },
        ),
      ),
    ).toBe('VAULT_SERVER_MISMATCH');
    expect(
      await codeOf(
        storeBackupKeyInVault(
          impostor,
          { accountId: ACCOUNT, password: PASSWORD, backupKey },
          { ...FAST, serverPublicKey: vault.serverPublicKey },
        ),
      ),
    ).toBe('VAULT_SERVER_MISMATCH');
  });

  it('answers malformed requests with VAULT_BAD_REQUEST and refunds a malformed KE1', async () => {
    const { vault } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    expect(await codeOf(vault.loginStart({ ...key, startLoginRequest: 'AAAA' }))).toBe(
      'VAULT_BAD_REQUEST',
    );
    expect((await vault.status(key)).attemptsRemaining).toBe(10);
    const ke1 = opaque.client.startLogin({ password: PASSWORD }).startLoginRequest;
    for (const bad of [
      { ...key, accountId: '', startLoginRequest: ke1 },
      { ...key, accountId: 'a|b', startLoginRequest: ke1 },
      { ...key, accountId: 'x'.repeat(200), startLoginRequest: ke1 },
      { ...key, purpose: 'other' as 'backup', startLoginRequest: ke1 },
      { ...key, startLoginRequest: 'not base64!' },
      { ...key, startLoginRequest: 'A'.repeat(5000) },
    ]) {
      expect(await codeOf(vault.loginStart(bad))).toBe('VAULT_BAD_REQUEST');
    }
    const reg = await vault.registrationStart({
      ...key,
      registrationRequest: opaque.client.startRegistration({ password: 'x' }).registrationRequest,
    });
    for (const bad of [
      { registrationId: 'short', wrappedSecret: randomBytes(61) },
      { registrationId: reg.registrationId, wrappedSecret: new Uint8Array(0) },
      { registrationId: reg.registrationId, wrappedSecret: randomBytes(300) },
      {
        registrationId: reg.registrationId,
        wrappedSecret: randomBytes(61),
        clientParams: 'x'.repeat(300),
      },
    ]) {
      expect(
        await codeOf(vault.registrationFinish({ ...key, registrationRecord: 'AAAA', ...bad })),
      ).toBe('VAULT_BAD_REQUEST');
    }
    expect(
      await codeOf(vault.loginFinish({ ...key, loginState: 'AAAA', finishLoginRequest: 'AAAA' })),
    ).toBe('VAULT_LOGIN_EXPIRED');
  });

  it('deletes a record and reports absent records', async () => {
    const { vault } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    expect(await vault.status(key)).toEqual({
      state: 'absent',
      attemptsRemaining: 0,
      retryAfterMs: 0,
    });
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    expect(await vault.delete(key)).toBe(true);
    expect(await vault.delete(key)).toBe(false);
    expect(
      await codeOf(
        recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST),
      ),
    ).toBe('VAULT_NOT_FOUND');
  });

  it('keeps a given server setup out of the store, and never prints it', async () => {
    const setup = opaque.server.createSetup();
    const store = new MemoryVaultStore();
    const vault = await KeyVault.open({ store, serverSetup: setup });
    expect(store.dump().serverSetup).toBeUndefined();
    expect(vault.serverPublicKey).toBe(opaque.server.getPublicKey(setup));
    for (const shown of [JSON.stringify({ vault }), inspect(vault)])
      expect(shown).not.toContain(setup.slice(0, 40));
    await expect(KeyVault.open({ store, serverSetup: 'garbage' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('what the vault stores is not password-equivalent', () => {
  it('contains neither the password, a plain hash of it, nor the secret', async () => {
    const { vault, store } = await openVault();
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(vault, { accountId: ACCOUNT, password: PASSWORD, backupKey }, FAST);
    await recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: PASSWORD }, FAST);
    const { records } = (store as MemoryVaultStore).dump();
    const blob = Buffer.concat(
      records.flatMap(({ record }) => [
        Buffer.from(JSON.stringify({ ...record, wrappedSecret: undefined })),
        Buffer.from(record.registrationRecord, 'base64url'),
        Buffer.from(record.wrappedSecret),
      ]),
    );
    const needles = [
      Buffer.from(PASSWORD),
      createHash('sha256').update(PASSWORD).digest(),
      createHash('sha512').update(PASSWORD).digest().subarray(0, 32),
      Buffer.from(backupKey.exportBytes()),
    ];
    for (const needle of needles) {
      expect(blob.includes(needle)).toBe(false);
      expect(blob.toString('latin1').includes(needle.toString('base64url'))).toBe(false);
    }
  });

  it('is salted: the same password gives unrelated records', async () => {
    const { vault, store } = await openVault();
    await storeBackupKeyInVault(
      vault,
      { accountId: 'a', password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    await storeBackupKeyInVault(
      vault,
      { accountId: 'b', password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const [x, y] = (store as MemoryVaultStore)
      .dump()
      .records.map((s) => Buffer.from(s.record.registrationRecord, 'base64url'));
    expect(x!.equals(y!)).toBe(false);
    // Not even a shared 16-byte window.
    for (let i = 0; i + 16 <= x!.length; i++)
      expect(y!.includes(x!.subarray(i, i + 16))).toBe(false);
  });

  it('is useless without the OPRF key: a stolen record under another server setup does not verify the right password', async () => {
    const { vault, store } = await openVault();
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const stolen = (store as MemoryVaultStore).dump().records[0]!;
    const elsewhere = new MemoryVaultStore();
    await elsewhere.compareAndSet(
      { accountId: ACCOUNT, purpose: 'backup' },
      undefined,
      'r1',
      stolen.record,
    );
    const { vault: attacker } = await openVault({ store: elsewhere });
    expect(
      await codeOf(
        recoverBackupKeyFromVault(attacker, { accountId: ACCOUNT, password: PASSWORD }, FAST),
      ),
    ).toBe('VAULT_WRONG_PASSWORD');
  });

  it('cannot be replayed as a login', async () => {
    const { vault, store } = await openVault();
    const key: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: PASSWORD, backupKey: BackupKey.generate() },
      FAST,
    );
    const { record } = (store as MemoryVaultStore).dump().records[0]!;
    const started = await vault.loginStart({
      ...key,
      startLoginRequest: opaque.client.startLogin({ password: WRONG }).startLoginRequest,
    });
    const code = await codeOf(
      vault.loginFinish({
        ...key,
        loginState: started.loginState,
        finishLoginRequest: record.registrationRecord,
      }),
    );
    expect(code).toBe('VAULT_WRONG_PASSWORD');
  });
});
