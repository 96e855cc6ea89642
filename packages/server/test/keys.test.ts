// Prekey upload, counts and bundles: opaque bytes checked for type byte and length only; one-time
// keys handed out once; the last-resort Kyber key when none is left.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ONE_TIME_PREKEYS_STORED, MAX_PREKEYS_PER_UPLOAD, type ResponseBody } from '@sotto/api';
import {
  authed,
  b64,
  ecKey,
  kyberKey,
  linkDevice,
  register,
  startHarness,
  uploadKeys,
  type Harness,
  type ErrorBody,
} from './support/harness.js';

describe('keys', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const put = (d: { authorization: string }, payload: unknown) =>
    h.app.inject({
      method: 'PUT',
      url: '/v1/keys',
      headers: { authorization: d.authorization },
      payload: payload as object,
    });

  it('uploads keys, counts one-time keys and hands each out once', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const spk = { keyId: 5, publicKey: b64(ecKey()), signature: b64(randomBytes(64)) };
    const lastResort = { keyId: 6, publicKey: b64(kyberKey()), signature: b64(randomBytes(64)) };
    const pre = { keyId: 7, publicKey: b64(ecKey()) };
    const kyber = { keyId: 8, publicKey: b64(kyberKey()), signature: b64(randomBytes(64)) };
    const res = await put(bob, {
      signedPreKey: spk,
      lastResortKyberPreKey: lastResort,
      preKeys: [pre],
      kyberPreKeys: [kyber],
    });
    expect(res.statusCode).toBe(204);
    const count = await h.app.inject({
      method: 'GET',
      url: '/v1/keys/count',
      headers: authed(bob),
    });
    expect(count.json()).toEqual({ ecCount: 1, kyberCount: 1 });

    const first = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/1`,
      headers: authed(alice),
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      identityKey: b64(bob.identityKey),
      devices: [
        {
          deviceId: 1,
          registrationId: bob.registrationId,
          signedPreKey: spk,
          preKey: pre,
          kyberPreKey: kyber,
        },
      ],
    });
    const second = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/1`,
      headers: authed(alice),
    });
    expect(second.json<ResponseBody<'fetchKeys'>>().devices[0]).toEqual({
      deviceId: 1,
      registrationId: bob.registrationId,
      signedPreKey: spk,
      kyberPreKey: lastResort,
    });
    const after = await h.app.inject({
      method: 'GET',
      url: '/v1/keys/count',
      headers: authed(bob),
    });
    expect(after.json()).toEqual({ ecCount: 0, kyberCount: 0 });
    const audit = (await h.storage.readAuditLog(0, 100)).filter((e) => e.event === 'keys-replaced');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toEqual({ lastResortKyberPreKey: true, signedPreKey: true });
  });

  it('fetches every device with *, skipping devices without keys', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const bob2 = await linkDevice(h, bob, 777);
    const noKeys = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/*`,
      headers: authed(alice),
    });
    expect(noKeys.statusCode).toBe(404);
    expect(noKeys.json<ErrorBody>().error.code).toBe('KEYS_NOT_FOUND');
    await uploadKeys(h, bob);
    await uploadKeys(h, bob2);
    const all = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/*`,
      headers: authed(alice),
    });
    expect(
      all.json<ResponseBody<'fetchKeys'>>().devices.map((d) => [d.deviceId, d.registrationId]),
    ).toEqual([
      [1, bob.registrationId],
      [2, 777],
    ]);
  });

  it('answers ACCOUNT_NOT_FOUND, DEVICE_NOT_FOUND and KEYS_NOT_FOUND', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const codeOf = async (url: string) =>
      (await h.app.inject({ method: 'GET', url, headers: authed(alice) })).json<ErrorBody>().error
        .code;
    expect(await codeOf(`/v1/keys/${crypto.randomUUID()}/1`)).toBe('ACCOUNT_NOT_FOUND');
    expect(await codeOf(`/v1/keys/${bob.accountId}/3`)).toBe('DEVICE_NOT_FOUND');
    expect(await codeOf(`/v1/keys/${bob.accountId}/1`)).toBe('KEYS_NOT_FOUND');
    expect(await codeOf(`/v1/keys/${bob.accountId}/x`)).toBe('INVALID_REQUEST');
    expect(await codeOf(`/v1/keys/not-a-uuid/1`)).toBe('INVALID_REQUEST');
  });

  it('checks type bytes and lengths of every key and signature', async () => {
    const bob = await register(h);
    const wrongType = ecKey();
    wrongType[0] = 0x06;
    const shortKyber = kyberKey().subarray(0, 1568);
    const cases: unknown[] = [
      { signedPreKey: { keyId: 1, publicKey: b64(wrongType), signature: b64(randomBytes(64)) } },
      {
        lastResortKyberPreKey: {
          keyId: 1,
          publicKey: b64(ecKey()),
          signature: b64(randomBytes(64)),
        },
      },
      { preKeys: [{ keyId: 1, publicKey: b64(kyberKey()) }] },
      { kyberPreKeys: [{ keyId: 1, publicKey: b64(kyberKey()), signature: b64(randomBytes(63)) }] },
      { kyberPreKeys: [{ keyId: 1, publicKey: b64(shortKyber), signature: b64(randomBytes(64)) }] },
    ];
    for (const payload of cases) {
      const r = await put(bob, payload);
      expect(r.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(['INVALID_KEY', 'INVALID_REQUEST']).toContain(r.json<ErrorBody>().error.code);
    }
    // The exact code for a well-formed base64 key of the wrong type is INVALID_KEY.
    expect((await put(bob, cases[0])).json<ErrorBody>().error.code).toBe('INVALID_KEY');
    // A length the schema can see (base64 text length) is refused by the schema.
    expect((await put(bob, cases[3])).json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/keys/count', headers: authed(bob) })).json(),
    ).toEqual({
      ecCount: 0,
      kyberCount: 0,
    });
  });

  it('bounds batches and the number of stored one-time keys', async () => {
    const bob = await register(h);
    const batch = (start: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ keyId: start + i, publicKey: b64(ecKey()) }));
    const tooMany = await put(bob, { preKeys: batch(0, MAX_PREKEYS_PER_UPLOAD + 1) });
    expect(tooMany.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    const uploads = MAX_ONE_TIME_PREKEYS_STORED / MAX_PREKEYS_PER_UPLOAD;
    for (let i = 0; i < uploads; i++) {
      expect(
        (await put(bob, { preKeys: batch(i * 1000, MAX_PREKEYS_PER_UPLOAD) })).statusCode,
      ).toBe(204);
    }
    const full = await put(bob, { preKeys: batch(99_000, 1) });
    expect(full.statusCode).toBe(409);
    expect(full.json<ErrorBody>().error.code).toBe('PREKEY_STORE_FULL');
  });
});

describe('identity key change (primary only)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const setIdentity = (d: { authorization: string }, identityKey: Uint8Array) =>
    h.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/identity-key',
      headers: { authorization: d.authorization },
      payload: { identityKey: b64(identityKey) },
    });

  it('replaces the key and drops the prekeys signed by the old one; audits without the key', async () => {
    const alice = await register(h);
    const bob = await register(h);
    await uploadKeys(h, bob);
    const identityKey = ecKey();
    expect((await setIdentity(bob, identityKey)).statusCode).toBe(204);
    // Until bob uploads keys signed by the new identity, nobody gets a bundle.
    const fetched = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/1`,
      headers: authed(alice),
    });
    expect(fetched.statusCode).toBe(404);
    expect(fetched.json<ErrorBody>().error.code).toBe('KEYS_NOT_FOUND');
    await uploadKeys(h, bob);
    const after = await h.app.inject({
      method: 'GET',
      url: `/v1/keys/${bob.accountId}/1`,
      headers: authed(alice),
    });
    expect(after.json<ResponseBody<'fetchKeys'>>().identityKey).toBe(b64(identityKey));
    const audit = await h.storage.readAuditLog(0, 100);
    const changed = audit.filter((r) => r.event === 'identity-key-changed');
    expect(changed.map((r) => [r.accountId, r.deviceId, r.details])).toEqual([
      [bob.accountId, 1, null],
    ]);
    expect(JSON.stringify(audit)).not.toContain(b64(identityKey));
  });

  it('refuses a linked device, and the primary while linked devices exist', async () => {
    const bob = await register(h);
    const linked = await linkDevice(h, bob);
    const byLinked = await setIdentity(linked, ecKey());
    expect(byLinked.statusCode).toBe(403);
    expect(byLinked.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    const byPrimary = await setIdentity(bob, ecKey());
    expect(byPrimary.statusCode).toBe(409);
    expect(byPrimary.json<ErrorBody>().error.code).toBe('LINKED_DEVICES_PRESENT');
    const account = await h.storage.getAccount(bob.accountId);
    expect(Buffer.from(account!.identityKey).equals(Buffer.from(bob.identityKey))).toBe(true);
  });

  it('rejects a malformed key', async () => {
    const bob = await register(h);
    const bad = ecKey();
    bad[0] = 6;
    const res = await setIdentity(bob, bad);
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorBody>().error.code).toBe('INVALID_KEY');
  });
});
