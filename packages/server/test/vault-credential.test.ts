// The relay's side of vault credentials (routes/vault-credential.ts): the authenticated route, the
// recover-only credential in REGISTRATION_LOCKED (only after a correct SMS code), the known-answer
// vectors shared with packages/vault/test/credentials.test.ts, and a key that never prints.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultCredentialIssuer } from '../src/routes/vault-credential.js';
import { ManualClock } from '../src/testing/index.js';
import {
  authed,
  b64,
  ecKey,
  freshIp,
  register,
  requestCode,
  startHarness,
  type Harness,
  type TestDevice,
} from './support/harness.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const T = 1_760_000_000;
const ACCOUNT = '2f3c9c1e-1b7e-4c1f-9a55-7d0a2f0c1234';

function signature(key: Uint8Array, scope: 'full' | 'recover', username: string, ts: number) {
  const k = Buffer.from(
    hkdfSync('sha256', key, new Uint8Array(0), `sotto-vault-credential-v1/${scope}`, 32),
  );
  return createHmac('sha256', k)
    .update(`${username}:${ts}`)
    .digest()
    .subarray(0, 10)
    .toString('hex');
}

describe('VaultCredentialIssuer', () => {
  it('matches the known-answer vectors the vault checks against', () => {
    const issuer = new VaultCredentialIssuer(KEY, new ManualClock(T * 1000 + 999));
    expect(issuer.issue(ACCOUNT, 'full')).toEqual({
      username: ACCOUNT,
      password: `${T}:570ee373cd6bca4f680d`,
    });
    expect(issuer.issue(ACCOUNT, 'recover').password).toBe(`${T}:b55cb796015224299f4a`);
  });

  it('needs a 32-byte key and never prints it', () => {
    expect(() => new VaultCredentialIssuer(new Uint8Array(16), new ManualClock())).toThrow(
      RangeError,
    );
    const issuer = new VaultCredentialIssuer(KEY, new ManualClock());
    expect(`${inspect(issuer)} ${JSON.stringify({ issuer })} ${String(issuer)}`).not.toMatch(
      /0,1,2|000102/,
    );
  });
});

describe('vault credentials from the relay', () => {
  const key = randomBytes(32);
  let h: Harness;
  let alice: TestDevice;
  beforeAll(async () => {
    h = await startHarness({ vaultCredentialKey: key });
    alice = await register(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it('GET /v1/vault/credential gives an authenticated device a full credential for its account', async () => {
    const r = await h.app.inject({
      method: 'GET',
      url: '/v1/vault/credential',
      headers: authed(alice),
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json<{ username: string; password: string; expiresInSeconds: number }>();
    expect(body.username).toBe(alice.accountId);
    expect(body.expiresInSeconds).toBe(3600);
    const ts = Math.floor(h.clock.now() / 1000);
    expect(body.password).toBe(`${ts}:${signature(key, 'full', alice.accountId, ts)}`);
  });

  it('refuses an unauthenticated request', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/vault/credential' });
    expect(r.statusCode).toBe(401);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('UNAUTHENTICATED');
  });

  async function lockedAccount(): Promise<TestDevice> {
    const d = await register(h);
    await h.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/registration-lock',
      headers: authed(d),
      payload: { token: b64(randomBytes(32)) },
    });
    return d;
  }
  const reregister = (d: TestDevice, code: string, ip: string) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      remoteAddress: ip,
      payload: { number: d.number, code, registrationId: 7, identityKey: b64(ecKey()) },
    });

  it('REGISTRATION_LOCKED carries a recover-only credential once the SMS code was right', async () => {
    const d = await lockedAccount();
    const ip = freshIp();
    await requestCode(h, d.number, ip);
    const code = h.sms.codeFor(d.number);
    const wrong = await reregister(d, code === '111111' ? '222222' : '111111', ip);
    expect(wrong.json<{ error: { code: string; details?: unknown } }>().error).toEqual({
      code: 'VERIFICATION_CODE_INVALID',
      message: expect.any(String) as string,
    });
    const r = await reregister(d, code, ip);
    expect(r.statusCode).toBe(423);
    const error = r.json<{
      error: {
        code: string;
        details: {
          timeRemainingMs: number;
          vaultCredential: { username: string; password: string };
        };
      };
    }>().error;
    expect(error.code).toBe('REGISTRATION_LOCKED');
    expect(error.details.timeRemainingMs).toBeGreaterThan(0);
    const { username, password } = error.details.vaultCredential;
    expect(username).toBe(d.accountId);
    const ts = Math.floor(h.clock.now() / 1000);
    expect(password).toBe(`${ts}:${signature(key, 'recover', d.accountId, ts)}`);
    expect(password).not.toBe(`${ts}:${signature(key, 'full', d.accountId, ts)}`);
  });

  it('REGISTRATION_LOCKED carries no credential when the relay has no vault key', async () => {
    const plain = await startHarness();
    try {
      const d = await register(plain);
      await plain.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/registration-lock',
        headers: authed(d),
        payload: { token: b64(randomBytes(32)) },
      });
      const ip = freshIp();
      await requestCode(plain, d.number, ip);
      const r = await plain.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        remoteAddress: ip,
        payload: {
          number: d.number,
          code: plain.sms.codeFor(d.number),
          registrationId: 7,
          identityKey: b64(ecKey()),
        },
      });
      const details = r.json<{ error: { details: Record<string, unknown> } }>().error.details;
      expect(Object.keys(details)).toEqual(['timeRemainingMs']);
    } finally {
      await plain.close();
    }
  });
});
