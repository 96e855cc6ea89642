/** The HTTP transport (transport/http-api.ts) against a fake fetch: requests and error mapping. */
import { describe, expect, it } from 'vitest';
import { parseAuthorization } from '@sotto/api';
import { ClientError, type FetchLike } from '../src/index.js';
import { HttpApi } from '../src/transport/http-api.js';

const CREDS = {
  accountId: '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d',
  deviceId: 1,
  credential: new Uint8Array(32).fill(3),
};

function fake(status: number, body: string | Error) {
  const calls: Array<{
    url: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
  }> = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, ...init });
    if (body instanceof Error) return Promise.reject(body);
    return Promise.resolve({ status, text: () => Promise.resolve(body) });
  };
  return { fetch, calls };
}

async function failure(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

describe('HttpApi', () => {
  it('builds the URL, JSON body and credential header from the route table', async () => {
    const f = fake(200, '{"identityKey":"x","devices":[]}');
    const api = new HttpApi('http://relay.test:8080/', f.fetch);
    expect(api.webSocketUrl).toBe('ws://relay.test:8080/v1/websocket');
    await api.call('fetchKeys', {
      params: { accountId: CREDS.accountId, deviceId: '*' },
      credentials: CREDS,
    });
    expect(f.calls[0]!.url).toBe(`http://relay.test:8080/v1/keys/${CREDS.accountId}/*`);
    expect(f.calls[0]!.method).toBe('GET');
    expect(parseAuthorization(f.calls[0]!.headers.authorization)).toEqual(CREDS);
    await api.call('requestVerificationCode', { body: { number: '+14155550100' } });
    expect(f.calls[1]!).toMatchObject({ method: 'POST', body: '{"number":"+14155550100"}' });
    expect(f.calls[1]!.headers.authorization).toBeUndefined();
    expect(f.calls[1]!.headers['content-type']).toBe('application/json');
    expect(new HttpApi('https://chat.example.org', f.fetch).webSocketUrl).toBe(
      'wss://chat.example.org/v1/websocket',
    );
  });

  it('refuses an authenticated route without credentials before any request', async () => {
    const f = fake(200, '{}');
    const err = await failure(new HttpApi('http://relay.test', f.fetch).call('whoAmI'));
    expect(err.code).toBe('NOT_REGISTERED');
    expect(f.calls).toEqual([]);
  });

  it('maps relay errors to SERVER_REJECTED with the registry code and details', async () => {
    const body = JSON.stringify({
      error: { code: 'RATE_LIMITED', message: 'slow down', details: { retryAfterMs: 1500 } },
    });
    const err = await failure(
      new HttpApi('http://relay.test', fake(429, body).fetch).call('whoAmI', {
        credentials: CREDS,
      }),
    );
    expect(err.code).toBe('SERVER_REJECTED');
    expect(err.apiCode).toBe('RATE_LIMITED');
    expect(err.details).toEqual({ retryAfterMs: 1500 });
    expect(ClientError.isApi(err, 'RATE_LIMITED')).toBe(true);
  });

  it('maps a refused credential to DEREGISTERED', async () => {
    const body = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'no' } });
    const err = await failure(
      new HttpApi('http://relay.test', fake(401, body).fetch).call('whoAmI', {
        credentials: CREDS,
      }),
    );
    expect(err.code).toBe('DEREGISTERED');
  });

  it('maps unreachable relays and unexpected answers to NETWORK', async () => {
    for (const f of [
      fake(0, new Error('ECONNREFUSED')),
      fake(502, '<html>bad gateway</html>'),
      fake(500, '{"error":{"code":"NOPE"}}'),
      fake(200, '{not json'),
    ]) {
      const err = await failure(new HttpApi('http://relay.test', f.fetch).call('health'));
      expect(err.code).toBe('NETWORK');
    }
  });

  it('never puts the request body or the credential into an error message', async () => {
    const body = JSON.stringify({ error: { code: 'VERIFICATION_CODE_INVALID', message: 'wrong' } });
    const err = await failure(
      new HttpApi('http://relay.test', fake(403, body).fetch).call('register', {
        body: { number: '+14155550123', code: '654321', registrationId: 1, identityKey: 'BQ==' },
      }),
    );
    expect(err.message).not.toContain('654321');
    expect(err.message).not.toContain('+14155550123');
  });
});
