// Concurrent guessing cannot beat the limit (docs/backups.md "The key vault"): the attempt is
// charged by a committed compare-and-set before the OPAQUE step, so however many logins race,
// at most VAULT_MAX_ATTEMPTS login responses (= password guesses) ever leave the vault.
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  BackupKey,
  MemoryVaultStore,
  recoverBackupKeyFromVault,
  storeBackupKeyInVault,
  type KeyVault,
  type StoredVaultRecord,
  type VaultRecord,
  type VaultRecordKey,
  type VaultStore,
} from '../src/index.js';
import { VAULT_LOGIN_STATE_TTL_MS, VAULT_MAX_ATTEMPTS } from '../src/limits.js';
import { opaque } from '../src/vault/opaque.js';
import { FAST, codeOf, openVault } from './vault-helpers.js';

const ACCOUNT = 'race-account';
const KEY: VaultRecordKey = { accountId: ACCOUNT, purpose: 'backup' };
const noBackoff = () => 0;

/** Fires `n` concurrent guesses; returns how many login responses the vault released. */
async function race(
  vault: KeyVault,
  n: number,
  password = 'wrong',
): Promise<{ responses: number; codes: Map<string, number> }> {
  const codes = new Map<string, number>();
  let responses = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      const { startLoginRequest } = opaque.client.startLogin({ password });
      try {
        await vault.loginStart({ ...KEY, startLoginRequest });
        responses++;
      } catch (err) {
        const code = BackupError.is(err) ? err.code : String(err);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  return { responses, codes };
}

const randomLatency = () =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));

describe('concurrent guesses', () => {
  for (const [name, store] of [
    ['an in-memory store', () => new MemoryVaultStore()],
    ['a store with random latency', () => new MemoryVaultStore({ delay: randomLatency })],
  ] as const) {
    it(`release at most ${VAULT_MAX_ATTEMPTS} login responses out of 200 parallel attempts (${name})`, async () => {
      const { vault, clock } = await openVault({ store: store(), attemptDelayMs: noBackoff });
      const backupKey = BackupKey.generate();
      await storeBackupKeyInVault(
        vault,
        { accountId: ACCOUNT, password: 'right', backupKey },
        FAST,
      );
      const { responses, codes } = await race(vault, 200);
      expect(responses).toBe(VAULT_MAX_ATTEMPTS);
      expect(codes.get('VAULT_RATE_LIMITED')).toBe(200 - VAULT_MAX_ATTEMPTS);
      expect((await vault.status(KEY)).attemptsRemaining).toBe(0);
      // Another wave releases nothing.
      expect((await race(vault, 50)).responses).toBe(0);
      clock.advance(VAULT_LOGIN_STATE_TTL_MS);
      expect(
        await codeOf(
          recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: 'right' }, FAST),
        ),
      ).toBe('VAULT_RECORD_DESTROYED');
    });
  }

  it('a right password racing wrong ones: the counter never exceeds the limit', async () => {
    // A success resets the counter (the rule), so wrong guesses charged before it are
    // forgiven: at most 10 before the success and 10 after it, never more than 10 outstanding.
    const { vault } = await openVault({
      store: new MemoryVaultStore({ delay: randomLatency }),
      attemptDelayMs: noBackoff,
    });
    const backupKey = BackupKey.generate();
    await storeBackupKeyInVault(vault, { accountId: ACCOUNT, password: 'right', backupKey }, FAST);
    const results = await Promise.allSettled([
      ...Array.from({ length: 40 }, () =>
        recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: 'wrong' }, FAST),
      ),
      recoverBackupKeyFromVault(vault, { accountId: ACCOUNT, password: 'right' }, FAST),
    ]);
    const codes = results.map((r) =>
      r.status === 'fulfilled' ? 'OK' : (r.reason as BackupError).code,
    );
    const wrong = codes.filter((c) => c === 'VAULT_WRONG_PASSWORD').length;
    const succeeded = results[40]!.status === 'fulfilled';
    expect(codes.filter((c) => c === 'VAULT_RATE_LIMITED').length).toBe(
      41 - wrong - (succeeded ? 1 : 0),
    );
    expect(wrong).toBeLessThanOrEqual(succeeded ? 2 * VAULT_MAX_ATTEMPTS : VAULT_MAX_ATTEMPTS);
    const outstanding = VAULT_MAX_ATTEMPTS - (await vault.status(KEY)).attemptsRemaining;
    expect(outstanding).toBeLessThanOrEqual(VAULT_MAX_ATTEMPTS);
    if (!succeeded) expect(outstanding).toBe(wrong);
    else
      expect((results[40] as PromiseFulfilledResult<BackupKey>).value.equals(backupKey)).toBe(true);
  });

  it('releases no login response before the charge is committed', async () => {
    // A store whose writes wait for a gate we open by hand.
    const inner = new MemoryVaultStore();
    let openGate: () => void = () => undefined;
    let gated = false;
    let writes = 0;
    const store: VaultStore = {
      loadServerSetup: () => inner.loadServerSetup(),
      saveServerSetupIfAbsent: (s) => inner.saveServerSetupIfAbsent(s),
      get: (k) => inner.get(k),
      compareAndDelete: (k, r) => inner.compareAndDelete(k, r),
      async compareAndSet(k, expected, next, record) {
        if (gated) await new Promise<void>((resolve) => (openGate = resolve));
        writes++;
        return inner.compareAndSet(k, expected, next, record);
      },
    };
    const { vault } = await openVault({ store });
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: 'right', backupKey: BackupKey.generate() },
      FAST,
    );
    gated = true;
    let released = false;
    const pending = vault
      .loginStart({
        ...KEY,
        startLoginRequest: opaque.client.startLogin({ password: 'x' }).startLoginRequest,
      })
      .then(() => (released = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(released).toBe(false);
    const before = writes;
    openGate();
    await pending;
    expect(released).toBe(true);
    expect(writes).toBe(before + 1);
    expect((await inner.get(KEY))?.record.failedAttempts).toBe(1);
  });

  it('releases nothing when the charge can never be committed', async () => {
    const inner = new MemoryVaultStore();
    let refuse = false;
    const store: VaultStore = {
      loadServerSetup: () => inner.loadServerSetup(),
      saveServerSetupIfAbsent: (s) => inner.saveServerSetupIfAbsent(s),
      get: (k) => inner.get(k),
      compareAndDelete: (k, r) => inner.compareAndDelete(k, r),
      compareAndSet: (k, e, n, r) =>
        refuse ? Promise.resolve(false) : inner.compareAndSet(k, e, n, r),
    };
    const { vault } = await openVault({ store });
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: 'right', backupKey: BackupKey.generate() },
      FAST,
    );
    refuse = true;
    expect(
      await codeOf(
        vault.loginStart({
          ...KEY,
          startLoginRequest: opaque.client.startLogin({ password: 'x' }).startLoginRequest,
        }),
      ),
    ).toBe('VAULT_CONFLICT');
  });

  it('(control) a store without atomic compare-and-set lets the same race exceed the limit', async () => {
    // Proves the race above can fail: with a store that ignores the expected revision, the
    // read-check-write steps of parallel logins interleave and more guesses get through.
    const records = new Map<string, StoredVaultRecord>();
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
    let setup: string | undefined;
    const broken: VaultStore = {
      loadServerSetup: () => Promise.resolve(setup),
      saveServerSetupIfAbsent: (s) => Promise.resolve((setup ??= s)),
      async get(k) {
        await tick();
        return records.get(k.accountId + k.purpose);
      },
      async compareAndSet(k, _expected, revision, record: VaultRecord) {
        await tick();
        records.set(k.accountId + k.purpose, { revision, record });
        return true;
      },
      compareAndDelete: () => Promise.resolve(true),
    };
    const { vault } = await openVault({ store: broken, attemptDelayMs: noBackoff });
    await storeBackupKeyInVault(
      vault,
      { accountId: ACCOUNT, password: 'right', backupKey: BackupKey.generate() },
      FAST,
    );
    const { responses } = await race(vault, 100);
    expect(responses).toBeGreaterThan(VAULT_MAX_ATTEMPTS);
  });
});
