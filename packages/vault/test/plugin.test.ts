// The vault service's routes through inject(): every route, the OPAQUE flows driven by the real
// client helpers of @sotto/backup, every error the vault answers with, strict schemas and size
// limits, credential scopes, the account taken from the credential only, and the rate limits.
import { afterEach, describe, expect, it } from 'vitest';
import {
  VAULT_MAX_BODY_BYTES,
  VAULT_MAX_CLIENT_PARAMS_CHARS,
  VAULT_MAX_OPAQUE_MESSAGE_CHARS,
  VAULT_MAX_WRAPPED_SECRET_BYTES,
  statusOf,
} from '@sotto/api';
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
  codeOf,
  errorOf,
  newAccountId,
  startVault,
  type Harness,
} from './support.js';
import type { VaultSecurityEvent } from '../src/index.js';

const SECRET = new Uint8Array(32).fill(42);
const PIN = '4711';
const WRONG = '0000';
const PURPOSE = 'pin-master-key' as const;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function registered(harness: Harness, accountId = newAccountId()) {
  const api = new InjectedVaultApi(harness, harness.credential(accountId));
  await storeVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN, secret: SECRET }, FAST);
  return { accountId, api };
}

describe('vault routes', () => {
  it('stores a secret and gives it back for the right PIN, over every OPAQUE route', async () => {
    h = await startVault();
    const { accountId, api } = await registered(h);
    const back = await recoverVaultSecret(
      api,
      { accountId, purpose: PURPOSE, password: PIN },
      FAST,
    );
    expect(back).toEqual(SECRET);
    // The other purpose of the same account is separate.
    expect(
      await codeOf(recoverVaultSecret(api, { accountId, purpose: 'backup', password: PIN }, FAST)),
    ).toBe('VAULT_RECORD_NOT_FOUND');
  });

  it('answers status: absent, active with attempts left, and counts a wrong PIN', async () => {
    h = await startVault();
    const accountId = newAccountId();
    const headers = auth(h.credential(accountId));
    const absent = await h.inject({ method: 'GET', url: `/v1/vault/records/${PURPOSE}`, headers });
    expect(absent.statusCode).toBe(200);
    expect(absent.json()).toEqual({ state: 'absent', attemptsRemaining: 0, retryAfterMs: 0 });
    expect(absent.headers['cache-control']).toBe('no-store');
    const { api } = await registered(h, accountId);
    const wrong = recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST);
    expect(await codeOf(wrong)).toBe('VAULT_WRONG_PASSWORD');
    const active = await h.inject({ method: 'GET', url: `/v1/vault/records/${PURPOSE}`, headers });
    expect(active.json()).toEqual({
      state: 'active',
      attemptsRemaining: limits.VAULT_MAX_ATTEMPTS - 1,
      retryAfterMs: 0,
    });
  });

  it('deletes a record (then VAULT_RECORD_NOT_FOUND), and says when there was none', async () => {
    h = await startVault();
    const { accountId, api } = await registered(h);
    const headers = auth(h.credential(accountId));
    const url = `/v1/vault/records/${PURPOSE}`;
    const del = await h.inject({ method: 'DELETE', url, headers });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ deleted: true });
    expect((await h.inject({ method: 'DELETE', url, headers })).json()).toEqual({ deleted: false });
    const missing = recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST);
    expect(await codeOf(missing)).toBe('VAULT_RECORD_NOT_FOUND');
    expect(statusOf('VAULT_RECORD_NOT_FOUND')).toBe(404);
  });

  it('reports registrations, counted guesses, logins and deletions as security events', async () => {
    const events: VaultSecurityEvent[] = [];
    h = await startVault({ onSecurityEvent: (e) => void events.push(e) });
    const { accountId, api } = await registered(h);
    await codeOf(recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST));
    await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST);
    const headers = auth(h.credential(accountId));
    await h.inject({ method: 'DELETE', url: `/v1/vault/records/${PURPOSE}`, headers });
    const guess = (left: number) => ({
      type: 'vault-guess-counted',
      accountId,
      purpose: PURPOSE,
      attemptsRemaining: left,
    });
    expect(events).toEqual([
      { type: 'vault-record-registered', accountId, purpose: PURPOSE },
      // The wrong PIN: the client never finishes, so the guess stays counted...
      guess(limits.VAULT_MAX_ATTEMPTS - 1),
      // ...and the right one is counted too, then given back with the earlier failures.
      guess(limits.VAULT_MAX_ATTEMPTS - 2),
      { type: 'vault-login-succeeded', accountId, purpose: PURPOSE },
      { type: 'vault-record-deleted', accountId, purpose: PURPOSE },
    ]);
    // Nothing secret in them: no PIN, no secret, no OPAQUE message.
    expect(JSON.stringify(events)).not.toMatch(new RegExp(`${PIN}|${WRONG}`));
  });

  it('keeps answering when the security-event hook fails', async () => {
    h = await startVault({ onSecurityEvent: () => Promise.reject(new Error('audit down')) });
    const { accountId, api } = await registered(h);
    expect(
      await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST),
    ).toEqual(SECRET);
  });

  it('answers a KE3 that does not verify with VAULT_LOGIN_FAILED and the attempts left', async () => {
    h = await startVault();
    const { accountId, api } = await registered(h);
    await codeOf(recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST));
    const state = api.lastLoginStart!.loginState;
    const r = await h.inject({
      method: 'POST',
      url: `/v1/vault/records/${PURPOSE}/login/finish`,
      headers: auth(h.credential(accountId)),
      payload: { loginState: state, finishLoginRequest: 'A'.repeat(86) },
    });
    expect(errorOf(r)).toMatchObject({
      status: 403,
      code: 'VAULT_LOGIN_FAILED',
      details: { attemptsRemaining: limits.VAULT_MAX_ATTEMPTS - 1 },
    });
  });

  it('answers a forged, foreign or expired login state with VAULT_LOGIN_EXPIRED', async () => {
    h = await startVault();
    const { accountId, api } = await registered(h);
    const other = await registered(h);
    await codeOf(recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST));
    const state = api.lastLoginStart!.loginState;
    const finish = (cred: ReturnType<Harness['credential']>, loginState: string) =>
      h!.inject({
        method: 'POST',
        url: `/v1/vault/records/${PURPOSE}/login/finish`,
        headers: auth(cred),
        payload: { loginState, finishLoginRequest: 'A'.repeat(86) },
      });
    const flipped = state.slice(0, 20) + (state[20] === 'A' ? 'B' : 'A') + state.slice(21);
    expect(errorOf(await finish(h.credential(accountId), flipped)).code).toBe(
      'VAULT_LOGIN_EXPIRED',
    );
    // Another account's credential with this account's state: bound to the account, refused.
    expect(errorOf(await finish(h.credential(other.accountId), state)).code).toBe(
      'VAULT_LOGIN_EXPIRED',
    );
    h.clock.advance(limits.VAULT_LOGIN_STATE_TTL_MS + 1);
    const expired = await finish(h.credential(accountId), state);
    expect(errorOf(expired)).toMatchObject({ status: 403, code: 'VAULT_LOGIN_EXPIRED' });
  });

  it('destroys the record after 10 wrong PINs: then even the right PIN gets VAULT_RECORD_DESTROYED', async () => {
    h = await startVault();
    const { accountId, api } = await registered(h);
    for (let i = 0; i < limits.VAULT_MAX_ATTEMPTS; i++) {
      const wrong = recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST);
      expect(await codeOf(wrong)).toBe('VAULT_WRONG_PASSWORD');
    }
    // The 10th attempt may still finish within the login TTL: the vault waits for it.
    const waiting = recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST);
    expect(await codeOf(waiting)).toBe('RATE_LIMITED');
    h.clock.advance(limits.VAULT_LOGIN_STATE_TTL_MS);
    const r = await h.inject({
      method: 'POST',
      url: `/v1/vault/records/${PURPOSE}/login/start`,
      headers: auth(h.credential(accountId)),
      payload: { startLoginRequest: 'A'.repeat(128) },
    });
    const e = errorOf(r);
    expect(e).toMatchObject({ status: 410, code: 'VAULT_RECORD_DESTROYED' });
    expect(e.message).toMatch(/destroyed/);
    const status = await h.inject({
      method: 'GET',
      url: `/v1/vault/records/${PURPOSE}`,
      headers: auth(h.credential(accountId)),
    });
    expect(status.json()).toMatchObject({ state: 'destroyed', attemptsRemaining: 0 });
    const right = recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST);
    expect(await codeOf(right)).toBe('VAULT_RECORD_DESTROYED');
    // Nothing of the secret is left in the store.
    const stored = await h.store.get({ accountId, purpose: PURPOSE });
    expect(stored?.record).toMatchObject({ status: 'destroyed', registrationRecord: '' });
    expect(stored?.record.wrappedSecret.length).toBe(0);
  });

  it('answers the vault backoff with RATE_LIMITED, retryAfterMs and Retry-After', async () => {
    h = await startVault({ attemptDelayMs: (failures) => (failures >= 3 ? 8_000 : 0) });
    const { accountId, api } = await registered(h);
    for (let i = 0; i < 3; i++) {
      await codeOf(recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST));
    }
    const r = await h.inject({
      method: 'POST',
      url: `/v1/vault/records/${PURPOSE}/login/start`,
      headers: auth(h.credential(accountId)),
      payload: { startLoginRequest: 'A'.repeat(128) },
    });
    expect(errorOf(r)).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      details: { retryAfterMs: 8_000 },
    });
    expect(r.headers['retry-after']).toBe('8');
  });

  it('answers a store that never commits with VAULT_CONFLICT', async () => {
    const inner = new MemoryVaultStore();
    const stuck: VaultStore = {
      loadServerSetup: () => inner.loadServerSetup(),
      saveServerSetupIfAbsent: (s) => inner.saveServerSetupIfAbsent(s),
      get: (k) => inner.get(k),
      compareAndSet: () => Promise.resolve(false),
      compareAndDelete: () => Promise.resolve(false),
    };
    h = await startVault({ store: stuck });
    const accountId = newAccountId();
    const api = new InjectedVaultApi(h, h.credential(accountId));
    const store = storeVaultSecret(
      api,
      { accountId, purpose: PURPOSE, password: PIN, secret: SECRET },
      FAST,
    );
    expect(await codeOf(store)).toBe('VAULT_CONFLICT');
    expect(statusOf('VAULT_CONFLICT')).toBe(409);
  });
});

describe('vault credentials on the routes', () => {
  const url = `/v1/vault/records/${PURPOSE}`;

  it('refuses a missing, malformed, forged, expired or future credential with 401', async () => {
    h = await startVault();
    const accountId = newAccountId();
    const good = h.credential(accountId);
    const [seconds, signature] = good.password.split(':') as [string, string];
    const flip = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    const cases: Record<string, Record<string, string>> = {
      missing: {},
      'not basic': { authorization: `Bearer ${good.password}` },
      'no password': { authorization: `Basic ${Buffer.from(accountId).toString('base64')}` },
      tampered: auth({ username: accountId, password: `${seconds}:${flip}` }),
      'other account': auth({ username: newAccountId(), password: good.password }),
      'moved timestamp': auth({
        username: accountId,
        password: `${Number(seconds) + 1}:${signature}`,
      }),
    };
    for (const [name, headers] of Object.entries(cases)) {
      const r = await h.inject({ method: 'GET', url, headers });
      expect(errorOf(r), name).toMatchObject({ status: 401, code: 'VAULT_CREDENTIAL_INVALID' });
    }
    expect((await h.inject({ method: 'GET', url, headers: auth(good) })).statusCode).toBe(200);
    h.clock.advance(60 * 60_000 + 1000);
    const expired = await h.inject({ method: 'GET', url, headers: auth(good) });
    expect(errorOf(expired)).toMatchObject({ status: 401, code: 'VAULT_CREDENTIAL_INVALID' });
    expect(errorOf(expired).message).toMatch(/expired/);
    const future = h.credentials.issue(accountId, 'full');
    h.clock.advance(-10 * 60_000);
    expect(errorOf(await h.inject({ method: 'GET', url, headers: auth(future) })).code).toBe(
      'VAULT_CREDENTIAL_INVALID',
    );
  });

  it('refuses a credential signed under another key', async () => {
    h = await startVault();
    const other = await startVault();
    try {
      const r = await h.inject({
        method: 'GET',
        url,
        headers: auth(other.credential(newAccountId())),
      });
      expect(errorOf(r).code).toBe('VAULT_CREDENTIAL_INVALID');
    } finally {
      await other.close();
    }
  });

  it('lets a recover-only credential log in and read status, but not replace or delete', async () => {
    h = await startVault();
    const { accountId } = await registered(h);
    const recover = h.credential(accountId, 'recover');
    const api = new InjectedVaultApi(h, recover);
    expect(
      await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST),
    ).toEqual(SECRET);
    expect((await h.inject({ method: 'GET', url, headers: auth(recover) })).statusCode).toBe(200);
    const replace = storeVaultSecret(
      api,
      { accountId, purpose: PURPOSE, password: WRONG, secret: new Uint8Array(32) },
      FAST,
    );
    expect(await codeOf(replace)).toBe('FORBIDDEN');
    const del = await h.inject({ method: 'DELETE', url, headers: auth(recover) });
    expect(errorOf(del)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    // Still there, still the old PIN.
    expect(
      await recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: PIN }, FAST),
    ).toEqual(SECRET);
  });

  it('takes the account from the credential only: an accountId in the body is refused', async () => {
    h = await startVault();
    const victim = await registered(h);
    const attacker = newAccountId();
    const r = await h.inject({
      method: 'POST',
      url: `${url}/login/start`,
      headers: auth(h.credential(attacker)),
      payload: { accountId: victim.accountId, startLoginRequest: 'A'.repeat(128) },
    });
    expect(errorOf(r)).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    // The attacker's own credential reaches only the attacker's (absent) record.
    const own = await h.inject({
      method: 'GET',
      url,
      headers: auth(h.credential(attacker)),
    });
    expect(own.json()).toMatchObject({ state: 'absent' });
    const victimStatus = await h.inject({
      method: 'GET',
      url,
      headers: auth(h.credential(victim.accountId)),
    });
    expect(victimStatus.json()).toMatchObject({
      state: 'active',
      attemptsRemaining: limits.VAULT_MAX_ATTEMPTS,
    });
  });
});

describe('vault request validation', () => {
  it('rejects unknown fields, oversize messages, bad purposes and oversize bodies', async () => {
    h = await startVault();
    const headers = auth(h.credential(newAccountId()));
    const post = (path: string, payload: unknown) =>
      h!.inject({
        method: 'POST',
        url: `/v1/vault/records/${path}`,
        headers,
        payload: payload as object,
      });
    const bad: [string, unknown][] = [
      ['backup/registration/start', { registrationRequest: 'AAAA', extra: 1 }],
      [
        'backup/registration/start',
        { registrationRequest: 'A'.repeat(VAULT_MAX_OPAQUE_MESSAGE_CHARS + 1) },
      ],
      ['backup/registration/start', { registrationRequest: 'not base64url!' }],
      ['backup/registration/start', {}],
      ['secrets/registration/start', { registrationRequest: 'AAAA' }],
      [
        'backup/registration/finish',
        {
          registrationId: 'A'.repeat(22),
          registrationRecord: 'AAAA',
          wrappedSecret: Buffer.alloc(VAULT_MAX_WRAPPED_SECRET_BYTES + 1).toString('base64'),
        },
      ],
      [
        'backup/registration/finish',
        {
          registrationId: 'A'.repeat(22),
          registrationRecord: 'AAAA',
          wrappedSecret: 'AAAA',
          clientParams: 'x'.repeat(VAULT_MAX_CLIENT_PARAMS_CHARS + 1),
        },
      ],
      ['backup/login/start', { startLoginRequest: 42 }],
      ['backup/login/finish', { loginState: 'AAAA' }],
    ];
    for (const [path, payload] of bad) {
      const r = await post(path, payload);
      expect(errorOf(r), `${path} ${JSON.stringify(payload).slice(0, 60)}`).toMatchObject({
        status: 400,
        code: 'INVALID_REQUEST',
      });
    }
    const huge = await post('backup/registration/start', {
      registrationRequest: 'A'.repeat(VAULT_MAX_BODY_BYTES + 10),
    });
    expect(errorOf(huge)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const notFound = await h.inject({ method: 'GET', url: '/v1/vault/nothing', headers });
    expect(errorOf(notFound)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('keeps the wire limits equal to the vault core limits', () => {
    expect(VAULT_MAX_OPAQUE_MESSAGE_CHARS).toBe(limits.VAULT_MAX_OPAQUE_MESSAGE_LENGTH);
    expect(VAULT_MAX_WRAPPED_SECRET_BYTES).toBe(limits.VAULT_MAX_WRAPPED_SECRET_LENGTH);
    expect(VAULT_MAX_CLIENT_PARAMS_CHARS).toBe(limits.VAULT_MAX_CLIENT_PARAMS_LENGTH);
  });

  it('answers health', async () => {
    h = await startVault();
    const r = await h.inject({ method: 'GET', url: '/v1/health' });
    expect(r.json()).toEqual({ status: 'ok' });
  });
});

describe('vault rate limits', () => {
  it('limits requests per client address, across accounts', async () => {
    h = await startVault({ requestsPerIp: { max: 3, windowMs: 60_000 } });
    const status = (remoteAddress: string) =>
      h!.inject({
        method: 'GET',
        url: `/v1/vault/records/${PURPOSE}`,
        headers: auth(h!.credential(newAccountId())),
        remoteAddress,
      });
    for (let i = 0; i < 3; i++) expect((await status('10.0.0.1')).statusCode).toBe(200);
    const limited = await status('10.0.0.1');
    expect(errorOf(limited)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await status('10.0.0.2')).statusCode).toBe(200);
  });

  it('limits requests per account, across addresses', async () => {
    h = await startVault({ requestsPerAccount: { max: 2, windowMs: 60_000 } });
    const accountId = newAccountId();
    const status = (remoteAddress: string, id = accountId) =>
      h!.inject({
        method: 'GET',
        url: `/v1/vault/records/${PURPOSE}`,
        headers: auth(h!.credential(id)),
        remoteAddress,
      });
    expect((await status('10.0.1.1')).statusCode).toBe(200);
    expect((await status('10.0.1.2')).statusCode).toBe(200);
    expect(errorOf(await status('10.0.1.3')).code).toBe('RATE_LIMITED');
    expect((await status('10.0.1.3', newAccountId())).statusCode).toBe(200);
  });

  it('slows down an address that sends bad credentials', async () => {
    h = await startVault({ credentialFailuresPerIp: { max: 2, windowMs: 60_000 } });
    const bad = () =>
      h!.inject({
        method: 'GET',
        url: `/v1/vault/records/${PURPOSE}`,
        headers: { authorization: 'Basic eDp5' },
        remoteAddress: '10.0.2.1',
      });
    expect(errorOf(await bad()).code).toBe('VAULT_CREDENTIAL_INVALID');
    expect(errorOf(await bad()).code).toBe('VAULT_CREDENTIAL_INVALID');
    expect(errorOf(await bad()).code).toBe('RATE_LIMITED');
  });

  it(`lets at most ${limits.VAULT_MAX_ATTEMPTS} of 100 parallel login starts through`, async () => {
    // HTTP limits out of the way: what stops the guesses here is the vault's own counter.
    const wide = { max: 10_000, windowMs: 60_000 };
    h = await startVault({ requestsPerIp: wide, requestsPerAccount: wide });
    const { accountId, api } = await registered(h);
    // A real KE1 (the vault parses it before it answers); capturing it costs one attempt, so
    // register again (which resets the counter) before the race.
    await codeOf(recoverVaultSecret(api, { accountId, purpose: PURPOSE, password: WRONG }, FAST));
    const ke1 = api.lastStartLoginRequest!;
    await registered(h, accountId);
    const headers = auth(h.credential(accountId));
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        h!.inject({
          method: 'POST',
          url: `/v1/vault/records/${PURPOSE}/login/start`,
          headers,
          payload: { startLoginRequest: ke1 },
        }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(limits.VAULT_MAX_ATTEMPTS);
    expect(
      results.filter((r) => r.statusCode !== 200 && errorOf(r).code === 'RATE_LIMITED'),
    ).toHaveLength(100 - limits.VAULT_MAX_ATTEMPTS);
  });
});
