// The client's side of the key vault over HTTP (vault/http-vault-api.ts, vault/pin-vault.ts):
// requests carry the vault credential and never the account in the body, the vault's answers
// become the BackupError codes the vault helpers switch on, credentials are cached and refreshed,
// and nothing secret reaches an error or the details handed to apps.
import { describe, expect, it } from 'vitest';
import { BackupError } from '@sotto/backup';
import { ClientError, HttpVaultApi, type FetchLike } from '../src/index.js';
import { pinFailureDetails, pinFailureMessage } from '../src/vault/pin-vault.js';
import { lockedVaultCredential, withoutVaultCredential } from '../src/vault/relay-credential.js';

const ACCOUNT = '2f3c9c1e-1b7e-4c1f-9a55-7d0a2f0c1234';
const CREDENTIAL = { username: ACCOUNT, password: '1760000000:570ee373cd6bca4f680d' };

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function fakeFetch(answer: (seen: Seen) => { status: number; body: unknown }): {
  fetch: FetchLike;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const fetch: FetchLike = (url, init) => {
    const s: Seen = { url, ...init };
    seen.push(s);
    const a = answer(s);
    const text = a.body === undefined ? '' : JSON.stringify(a.body);
    return Promise.resolve({ status: a.status, text: () => Promise.resolve(text) });
  };
  return { fetch, seen };
}

const error = (code: string, details?: object) => ({
  error: { code, message: 'refused', ...(details === undefined ? {} : { details }) },
});

describe('HttpVaultApi', () => {
  it('sends the credential as HTTP Basic and the purpose in the path, never the account', async () => {
    const { fetch, seen } = fakeFetch(() => ({
      status: 200,
      body: { registrationId: 'A'.repeat(22), registrationResponse: 'AAAA' },
    }));
    const api = new HttpVaultApi({ url: 'http://127.0.0.1:8080/', credential: CREDENTIAL, fetch });
    await api.registrationStart({
      accountId: ACCOUNT,
      purpose: 'pin-master-key',
      registrationRequest: 'BBBB',
    });
    expect(seen[0]!.url).toBe(
      'http://127.0.0.1:8080/v1/vault/records/pin-master-key/registration/start',
    );
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.headers['authorization']).toBe(
      `Basic ${Buffer.from(`${ACCOUNT}:${CREDENTIAL.password}`).toString('base64')}`,
    );
    expect(JSON.parse(seen[0]!.body!)).toEqual({ registrationRequest: 'BBBB' });
  });

  it('refuses a request for another account than its credential', async () => {
    const { fetch, seen } = fakeFetch(() => ({ status: 200, body: {} }));
    const api = new HttpVaultApi({ url: 'http://127.0.0.1:1', credential: CREDENTIAL, fetch });
    const err = await api
      .loginStart({ accountId: 'someone-else', purpose: 'backup', startLoginRequest: 'AAAA' })
      .catch((e: unknown) => e);
    expect(BackupError.is(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it("maps the vault's answers to the vault helpers' codes, keeping the relay error as cause", async () => {
    const cases: [string, object | undefined, string, object][] = [
      [
        'VAULT_LOGIN_FAILED',
        { attemptsRemaining: 4 },
        'VAULT_WRONG_PASSWORD',
        { attemptsRemaining: 4 },
      ],
      ['VAULT_RECORD_DESTROYED', undefined, 'VAULT_RECORD_DESTROYED', {}],
      ['VAULT_RECORD_NOT_FOUND', undefined, 'VAULT_NOT_FOUND', {}],
      ['RATE_LIMITED', { retryAfterMs: 2000 }, 'VAULT_RATE_LIMITED', { retryAfterMs: 2000 }],
      ['VAULT_LOGIN_EXPIRED', undefined, 'VAULT_LOGIN_EXPIRED', {}],
      ['INVALID_REQUEST', undefined, 'VAULT_BAD_REQUEST', {}],
      ['VAULT_CONFLICT', undefined, 'VAULT_CONFLICT', {}],
    ];
    for (const [apiCode, details, backupCode, backupDetails] of cases) {
      const { fetch } = fakeFetch(() => ({ status: 400, body: error(apiCode, details) }));
      const api = new HttpVaultApi({ url: 'http://127.0.0.1:1', credential: CREDENTIAL, fetch });
      const err = await api
        .loginStart({ accountId: ACCOUNT, purpose: 'backup', startLoginRequest: 'AAAA' })
        .catch((e: unknown) => e);
      expect(BackupError.is(err), apiCode).toBe(true);
      expect((err as BackupError).code).toBe(backupCode);
      expect((err as BackupError).details).toEqual(backupDetails);
      expect(ClientError.isApi((err as BackupError).cause, apiCode as 'VAULT_CONFLICT')).toBe(true);
      expect(String((err as Error).message)).not.toContain(CREDENTIAL.password);
    }
  });

  it('answers other refusals and the network as ClientErrors', async () => {
    const { fetch } = fakeFetch(() => ({ status: 503, body: error('VAULT_UNAVAILABLE') }));
    const api = new HttpVaultApi({ url: 'http://127.0.0.1:1', credential: CREDENTIAL, fetch });
    const refused = await api.status('backup').catch((e: unknown) => e);
    expect(ClientError.isApi(refused, 'VAULT_UNAVAILABLE')).toBe(true);
    const down = new HttpVaultApi({
      url: 'http://127.0.0.1:1',
      credential: CREDENTIAL,
      fetch: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    expect(ClientError.is(await down.status('backup').catch((e: unknown) => e), 'NETWORK')).toBe(
      true,
    );
  });

  it('reuses a fetched credential for a while, and fetches a new one after a refusal', async () => {
    let fetched = 0;
    let refuse = false;
    const { fetch } = fakeFetch(() =>
      refuse
        ? { status: 401, body: error('VAULT_CREDENTIAL_INVALID') }
        : { status: 200, body: { state: 'absent', attemptsRemaining: 0, retryAfterMs: 0 } },
    );
    let now = 0;
    const api = new HttpVaultApi({
      url: 'http://127.0.0.1:1',
      credential: () => {
        fetched++;
        return Promise.resolve(CREDENTIAL);
      },
      fetch,
      now: () => now,
    });
    await api.status('backup');
    await api.status('backup');
    expect(fetched).toBe(1);
    now += 11 * 60_000;
    await api.status('backup');
    expect(fetched).toBe(2);
    refuse = true;
    await api.status('backup').catch(() => undefined);
    refuse = false;
    await api.status('backup');
    expect(fetched).toBe(3);
  });
});

describe('PIN recovery errors', () => {
  it('describe wrong PINs with the attempts left, and a destroyed record plainly', () => {
    const wrong = pinFailureDetails(
      new BackupError('VAULT_WRONG_PASSWORD', 'x', { details: { attemptsRemaining: 3 } }),
    );
    expect(wrong).toEqual({ reason: 'wrong-pin', attemptsRemaining: 3 });
    expect(pinFailureMessage(wrong)).toMatch(/wrong PIN; 3 attempts left/);
    const destroyed = pinFailureDetails(new BackupError('VAULT_RECORD_DESTROYED', 'x'));
    expect(destroyed).toEqual({ reason: 'destroyed', attemptsRemaining: 0 });
    expect(pinFailureMessage(destroyed)).toMatch(/destroyed/);
    expect(
      pinFailureDetails(new ClientError('SERVER_REJECTED', 'x', { apiCode: 'VAULT_UNAVAILABLE' })),
    ).toEqual({ reason: 'no-vault' });
    expect(pinFailureDetails(new Error('boom'))).toEqual({ reason: 'vault-error' });
  });

  it('take the credential out of REGISTRATION_LOCKED details and strip it from what apps see', () => {
    const details = { timeRemainingMs: 5, vaultCredential: CREDENTIAL };
    expect(lockedVaultCredential(details)).toEqual(CREDENTIAL);
    expect(lockedVaultCredential({ timeRemainingMs: 5 })).toBeUndefined();
    expect(withoutVaultCredential(details)).toEqual({ timeRemainingMs: 5 });
  });
});
