// The codes only the key vault answers with (VAULT_SERVICE_ERROR_CODES of @sotto/api; the relay's
// packages/server/test/error-codes.test.ts covers the rest): one trigger per code through the
// vault's routes, each answered with its registered status, and none left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VAULT_SERVICE_ERROR_CODES, statusOf, type VaultServiceErrorCode } from '@sotto/api';
import {
  MemoryVaultStore,
  limits,
  recoverVaultSecret,
  storeVaultSecret,
  type VaultStore,
} from '@sotto/backup';
import {
  FAST,
  InjectedVaultApi,
  auth,
  errorOf,
  newAccountId,
  startVault,
  type Harness,
} from './support.js';

const PURPOSE = 'backup' as const;

describe('vault error codes', () => {
  let h: Harness;
  const seen = new Set<string>();
  beforeAll(async () => {
    h = await startVault();
  });
  afterAll(async () => {
    await h.close();
  });

  async function withRecord() {
    const accountId = newAccountId();
    const api = new InjectedVaultApi(h, h.credential(accountId));
    await storeVaultSecret(
      api,
      { accountId, purpose: PURPOSE, password: 'right', secret: new Uint8Array(32) },
      FAST,
    );
    return { accountId, api };
  }
  const loginStart = (accountId: string) =>
    h.inject({
      method: 'POST',
      url: `/v1/vault/records/${PURPOSE}/login/start`,
      headers: auth(h.credential(accountId)),
      payload: { startLoginRequest: 'A'.repeat(128) },
    });
  const loginFinish = (accountId: string, loginState: string) =>
    h.inject({
      method: 'POST',
      url: `/v1/vault/records/${PURPOSE}/login/finish`,
      headers: auth(h.credential(accountId)),
      payload: { loginState, finishLoginRequest: 'A'.repeat(86) },
    });

  const triggers: Record<VaultServiceErrorCode, () => Promise<{ status: number; code: string }>> = {
    VAULT_CREDENTIAL_INVALID: async () =>
      errorOf(await h.inject({ method: 'GET', url: `/v1/vault/records/${PURPOSE}` })),
    VAULT_LOGIN_FAILED: async () => {
      const { accountId, api } = await withRecord();
      await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: 'x' }, FAST).catch(
        () => undefined,
      );
      return errorOf(await loginFinish(accountId, api.lastLoginStart!.loginState));
    },
    VAULT_LOGIN_EXPIRED: async () => {
      const { accountId } = await withRecord();
      return errorOf(await loginFinish(accountId, 'A'.repeat(120)));
    },
    VAULT_RECORD_NOT_FOUND: async () => errorOf(await loginStart(newAccountId())),
    VAULT_CONFLICT: async () => {
      const inner = new MemoryVaultStore();
      const stuck: VaultStore = {
        loadServerSetup: () => inner.loadServerSetup(),
        saveServerSetupIfAbsent: (s) => inner.saveServerSetupIfAbsent(s),
        get: (k) => inner.get(k),
        compareAndSet: () => Promise.resolve(false),
        compareAndDelete: () => Promise.resolve(false),
      };
      const other = await startVault({ store: stuck });
      try {
        const accountId = newAccountId();
        await inner.compareAndSet({ accountId, purpose: PURPOSE }, undefined, 'r', {
          status: 'active',
          registrationId: 'AAECAwQFBgcICQoLDA0ODw',
          registrationRecord: 'AAAA',
          wrappedSecret: new Uint8Array(61),
          clientParams: '',
          failedAttempts: 0,
          lastAttemptAtMs: 0,
          updatedAtMs: 0,
        });
        return errorOf(
          await other.inject({
            method: 'DELETE',
            url: `/v1/vault/records/${PURPOSE}`,
            headers: auth(other.credential(accountId)),
          }),
        );
      } finally {
        await other.close();
      }
    },
    VAULT_RECORD_DESTROYED: async () => {
      const { accountId, api } = await withRecord();
      for (let i = 0; i < limits.VAULT_MAX_ATTEMPTS; i++) {
        await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: 'x' }, FAST).catch(
          () => undefined,
        );
      }
      // A failed finish with no attempt left destroys at once.
      await loginFinish(accountId, api.lastLoginStart!.loginState);
      return errorOf(await loginStart(accountId));
    },
  };

  for (const code of VAULT_SERVICE_ERROR_CODES) {
    it(`${code} is answered with ${statusOf(code)}`, async () => {
      const observed = await triggers[code]();
      seen.add(code);
      expect({ status: observed.status, code: observed.code }).toEqual({
        status: statusOf(code),
        code,
      });
    });
  }

  it('covered every vault code', () => {
    expect([...seen].sort()).toEqual([...VAULT_SERVICE_ERROR_CODES].sort());
  });
});
