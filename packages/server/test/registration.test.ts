// Phone verification, registration, device authentication and the registration lock, in process.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatAuthorization, type ResponseBody } from '@sotto/api';
import { verifyAuditLog } from '../src/index.js';
import {
  authed,
  b64,
  connect,
  ecKey,
  freshIp,
  freshNumber,
  isQueueEmpty,
  linkDevice,
  register,
  requestCode,
  startHarness,
  type Harness,
  type ErrorBody,
} from './support/harness.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('phone verification and registration', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function registerWith(number: string, code: string, extra: Record<string, unknown> = {}) {
    return h.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      remoteAddress: freshIp(),
      payload: { number, code, registrationId: 42, identityKey: b64(ecKey()), ...extra },
    });
  }

  it('sends a 6-digit code by SMS and stores only its HMAC, keyed by the number’s HMAC', async () => {
    const number = freshNumber();
    const res = await requestCode(h, number);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ expiresInSeconds: 600 });
    const code = h.sms.codeFor(number);
    expect(code).toMatch(/^[0-9]{6}$/);
    const rows = h.database.prepare('select * from verification_codes').all() as Record<
      string,
      unknown
    >[];
    expect(rows).toHaveLength(1);
    const dump = JSON.stringify(rows, (_k, v: unknown) =>
      Buffer.isBuffer(v) ? v.toString('hex') : v,
    );
    expect(dump).not.toContain(number);
    expect(dump).not.toContain(number.slice(1));
    expect(dump).not.toContain(Buffer.from(code).toString('hex'));
    expect((rows[0]!['code_hash'] as Buffer).length).toBe(32);
  });

  it('registers with the right code, once', async () => {
    const number = freshNumber();
    await requestCode(h, number);
    const code = h.sms.codeFor(number);
    const res = await registerWith(number, code);
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      accountId: string;
      deviceId: number;
      credential: string;
      reregistered: boolean;
    }>();
    expect(body.deviceId).toBe(1);
    expect(body.reregistered).toBe(false);
    expect(body.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The credential is stored only as its SHA-256.
    const row = h.database.prepare('select credential_hash from devices').get() as {
      credential_hash: Buffer;
    };
    expect(row.credential_hash.length).toBe(32);
    expect(row.credential_hash.toString('base64url')).not.toBe(body.credential);
    // The code is single use.
    const again = await registerWith(number, code);
    expect(again.json<ErrorBody>().error.code).toBe('VERIFICATION_CODE_EXPIRED');
  });

  it('answers one of two simultaneous first registrations with a clear code, never a 500', async () => {
    for (let round = 0; round < 5; round++) {
      const number = freshNumber();
      await requestCode(h, number);
      const code = h.sms.codeFor(number);
      const answers = await Promise.all([registerWith(number, code), registerWith(number, code)]);
      const statuses = answers.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 403]);
      const loser = answers.find((r) => r.statusCode === 403)!;
      expect(loser.json<ErrorBody>().error.code).toBe('VERIFICATION_CODE_EXPIRED');
      const winner = answers.find((r) => r.statusCode === 200)!.json<{ accountId: string }>();
      expect((await h.storage.getAccountByNumber(number))?.accountId).toBe(winner.accountId);
      expect(await h.storage.getDevices(winner.accountId)).toHaveLength(1);
    }
    const registered = (await h.storage.readAuditLog(0, 100)).filter(
      (r) => r.event === 'account-registered',
    );
    expect(registered).toHaveLength(5);
  });

  it('answers a registration that lost the race for the number (with its own code) clearly', async () => {
    // Two correct codes, used one after the other: A consumed its code and, before its insert,
    // B requested a new code and registered completely. A then finds the number taken.
    const number = freshNumber();
    await requestCode(h, number);
    const codeA = h.sms.codeFor(number);
    const storage = h.storage;
    const realConsume = storage.consumeVerificationCode.bind(storage);
    let pauseNext = true;
    storage.consumeVerificationCode = async (numberKey, codeHash) => {
      const consumed = await realConsume(numberKey, codeHash);
      if (pauseNext) {
        pauseNext = false;
        await requestCode(h, number);
        const codeB = h.sms.codeFor(number);
        expect((await registerWith(number, codeB)).statusCode).toBe(200);
      }
      return consumed;
    };
    try {
      const res = await registerWith(number, codeA);
      expect(res.statusCode).toBe(403);
      expect(res.json<ErrorBody>().error.code).toBe('VERIFICATION_CODE_EXPIRED');
    } finally {
      storage.consumeVerificationCode = realConsume;
    }
    const audit = await h.storage.readAuditLog(0, 100);
    expect(audit.map((r) => r.event)).toEqual(['account-registered']);
    expect(await h.storage.getDevices(audit[0]!.accountId!)).toHaveLength(1);
  });

  it('refuses invalid numbers', async () => {
    const bad = await requestCode(h, '+10000000000');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<ErrorBody>().error.code).toBe('INVALID_PHONE_NUMBER');
    const spaced = await requestCode(h, '+1 415 555 0100');
    expect(spaced.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    expect(h.sms.sent).toHaveLength(0);
  });

  it('allows five wrong codes, then refuses even the right one', async () => {
    const number = freshNumber();
    await requestCode(h, number);
    const code = h.sms.codeFor(number);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) {
      const r = await registerWith(number, wrong);
      expect(r.statusCode).toBe(403);
      expect(r.json<ErrorBody>().error.code).toBe('VERIFICATION_CODE_INVALID');
    }
    const r = await registerWith(number, code);
    expect(r.statusCode).toBe(429);
    expect(r.json<ErrorBody>().error.code).toBe('VERIFICATION_ATTEMPTS_EXHAUSTED');
    const failures = (await h.storage.readAuditLog(0, 100)).filter(
      (e) => e.event === 'verification-code-failed',
    );
    expect(failures).toHaveLength(5);
  });

  it('expires codes after 10 minutes', async () => {
    const number = freshNumber();
    await requestCode(h, number);
    h.clock.advance(10 * MINUTE);
    const r = await registerWith(number, h.sms.codeFor(number));
    expect(r.statusCode).toBe(403);
    expect(r.json<ErrorBody>().error.code).toBe('VERIFICATION_CODE_EXPIRED');
  });

  it('limits code sends per number and per address', async () => {
    const number = freshNumber();
    for (let i = 0; i < 3; i++) expect((await requestCode(h, number)).statusCode).toBe(202);
    const limited = await requestCode(h, number);
    expect(limited.statusCode).toBe(429);
    expect(limited.json<ErrorBody>().error.code).toBe('RATE_LIMITED');
    expect(limited.json<ErrorBody>().error.details.retryAfterMs).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    h.clock.advance(10 * MINUTE);
    expect((await requestCode(h, number)).statusCode).toBe(202);

    const ip = freshIp();
    let status = 202;
    let n = 0;
    while (status === 202 && n < 50) {
      status = (await requestCode(h, freshNumber(), ip)).statusCode;
      n++;
    }
    expect(status).toBe(429);
    expect(n).toBe(21); // a burst of 20 per address
  });

  it('answers SMS_DELIVERY_FAILED when the gateway fails, and SMS_UNAVAILABLE without a sender', async () => {
    h.sms.failing = true;
    const failed = await requestCode(h, freshNumber());
    expect(failed.statusCode).toBe(502);
    expect(failed.json<ErrorBody>().error.code).toBe('SMS_DELIVERY_FAILED');
    const none = await startHarness({ sms: null });
    try {
      const r = await requestCode(none, freshNumber());
      expect(r.statusCode).toBe(503);
      expect(r.json<ErrorBody>().error.code).toBe('SMS_UNAVAILABLE');
    } finally {
      await none.close();
    }
  });

  it('checks the identity key type byte and length', async () => {
    const number = freshNumber();
    await requestCode(h, number);
    const key = ecKey();
    key[0] = 0x08;
    const r = await registerWith(number, h.sms.codeFor(number), { identityKey: b64(key) });
    expect(r.statusCode).toBe(400);
    expect(r.json<ErrorBody>().error.code).toBe('INVALID_KEY');
  });

  it('authenticates devices by credential and refuses anything else', async () => {
    const d = await register(h);
    const ok = await h.app.inject({ method: 'GET', url: '/v1/accounts/me', headers: authed(d) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      accountId: d.accountId,
      deviceId: 1,
      number: d.number,
      registrationLock: false,
    });
    const variants = [
      undefined,
      'Basic',
      formatAuthorization({ accountId: d.accountId, deviceId: 1, credential: randomBytes(32) }),
      formatAuthorization({ accountId: d.accountId, deviceId: 2, credential: d.credential }),
      formatAuthorization({
        accountId: crypto.randomUUID(),
        deviceId: 1,
        credential: d.credential,
      }),
    ];
    for (const authorization of variants) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/v1/accounts/me',
        headers: authorization === undefined ? {} : { authorization },
        remoteAddress: freshIp(),
      });
      expect(r.statusCode).toBe(401);
      expect(r.json<ErrorBody>().error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('slows down an address that keeps failing authentication', async () => {
    const ip = freshIp();
    const codes: number[] = [];
    for (let i = 0; i < 22; i++) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/v1/devices',
        headers: { authorization: 'Basic eA==' },
        remoteAddress: ip,
      });
      codes.push(r.statusCode);
    }
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(codes[21]).toBe(429);
  });

  it('re-registration replaces the devices and invalidates old credentials', async () => {
    const first = await register(h);
    const linked = await linkDevice(h, first);
    const socket = await connect(h, linked);
    await socket.next(isQueueEmpty);
    const second = await register(h, { number: first.number });
    expect(second.accountId).toBe(first.accountId);
    expect(await socket.closed()).toBe(4401);
    for (const old of [first, linked]) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/v1/devices',
        headers: authed(old),
        remoteAddress: freshIp(),
      });
      expect(r.statusCode).toBe(401);
    }
    const devices = await h.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: authed(second),
    });
    expect(devices.json<ResponseBody<'listDevices'>>().devices.map((d) => d.deviceId)).toEqual([1]);
    const events = (await h.storage.readAuditLog(0, 100)).map((e) => e.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'account-registered',
        'device-added',
        'account-reregistered',
        'identity-key-changed',
      ]),
    );
    expect(await verifyAuditLog(h.storage)).toMatchObject({ ok: true });
  });
});

describe('registration lock', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function lock(d: { authorization: string }, token: Uint8Array) {
    return h.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/registration-lock',
      headers: { authorization: d.authorization },
      payload: { token: b64(token) },
    });
  }

  async function reregister(number: string, token?: Uint8Array) {
    const ip = freshIp();
    await requestCode(h, number, ip);
    return h.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      remoteAddress: ip,
      payload: {
        number,
        code: h.sms.codeFor(number),
        registrationId: 7,
        identityKey: b64(ecKey()),
        ...(token === undefined ? {} : { registrationLockToken: b64(token) }),
      },
    });
  }

  it('is set by the primary only and reported by who-am-I', async () => {
    const primary = await register(h);
    const linked = await linkDevice(h, primary);
    const token = randomBytes(32);
    const refused = await lock(linked, token);
    expect(refused.statusCode).toBe(403);
    expect(refused.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    expect((await lock(primary, token)).statusCode).toBe(204);
    const me = await h.app.inject({
      method: 'GET',
      url: '/v1/accounts/me',
      headers: authed(linked),
    });
    expect(me.json<ResponseBody<'whoAmI'>>().registrationLock).toBe(true);
    // Stored as an HMAC, not the token.
    const row = h.database.prepare('select reglock_hash from accounts').get() as {
      reglock_hash: Buffer;
    };
    expect(row.reglock_hash.equals(token)).toBe(false);
    expect(row.reglock_hash.length).toBe(32);
  });

  it('requires the token to re-register a locked number', async () => {
    const primary = await register(h);
    const token = randomBytes(32);
    await lock(primary, token);
    const without = await reregister(primary.number);
    expect(without.statusCode).toBe(423);
    expect(without.json<ErrorBody>().error.code).toBe('REGISTRATION_LOCKED');
    expect(without.json<ErrorBody>().error.details.timeRemainingMs).toBe(7 * DAY);
    const wrong = await reregister(primary.number, randomBytes(32));
    expect(wrong.statusCode).toBe(423);
    expect(wrong.json<ErrorBody>().error.code).toBe('REGISTRATION_LOCK_MISMATCH');
    const right = await reregister(primary.number, token);
    expect(right.statusCode).toBe(200);
    expect(right.json<ResponseBody<'register'>>().reregistered).toBe(true);
    // Re-registration clears the lock; the new primary sets it again if it wants one.
    const me = await h.app.inject({
      method: 'GET',
      url: '/v1/accounts/me',
      headers: {
        authorization: formatAuthorization({
          accountId: primary.accountId,
          deviceId: 1,
          credential: Buffer.from(right.json<ResponseBody<'register'>>().credential, 'base64url'),
        }),
      },
    });
    expect(me.json<ResponseBody<'whoAmI'>>().registrationLock).toBe(false);
    const failed = (await h.storage.readAuditLog(0, 100)).filter(
      (e) => e.event === 'registration-lock-failed',
    );
    expect(failed.map((e) => e.accountId)).toEqual([primary.accountId]);
  });

  it('allows a burst of 10 wrong tokens, then one attempt per day', async () => {
    const primary = await register(h);
    const token = randomBytes(32);
    await lock(primary, token);
    for (let i = 0; i < 10; i++) {
      expect((await reregister(primary.number, randomBytes(32))).json<ErrorBody>().error.code).toBe(
        'REGISTRATION_LOCK_MISMATCH',
      );
      // Leave room for the next SMS (one per 10 minutes per number).
      h.clock.advance(10 * MINUTE);
    }
    h.clock.advance(10 * MINUTE);
    const blocked = await reregister(primary.number, token);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json<ErrorBody>().error.code).toBe('RATE_LIMITED');
    // The first attempt was at t0; the bucket refills one attempt at t0 + 1 day.
    h.clock.advance(DAY - 120 * MINUTE);
    expect((await reregister(primary.number, token)).statusCode).toBe(429);
    h.clock.advance(10 * MINUTE);
    // A device connects, so the lock does not lapse meanwhile.
    const s = await connect(h, primary);
    await s.next(isQueueEmpty);
    s.close();
    expect((await reregister(primary.number, token)).statusCode).toBe(200);
  });

  it('lapses after 7 days without any device connecting', async () => {
    const primary = await register(h);
    const token = randomBytes(32);
    await lock(primary, token);
    h.clock.advance(6 * DAY);
    // An authenticated request counts as the device being alive.
    await h.app.inject({ method: 'GET', url: '/v1/devices', headers: authed(primary) });
    h.clock.advance(6 * DAY);
    const still = await reregister(primary.number);
    expect(still.json<ErrorBody>().error.code).toBe('REGISTRATION_LOCKED');
    expect(still.json<ErrorBody>().error.details.timeRemainingMs).toBe(DAY);
    h.clock.advance(DAY);
    const lapsed = await reregister(primary.number);
    expect(lapsed.statusCode).toBe(200);
  });

  it('can be removed by the primary', async () => {
    const primary = await register(h);
    await lock(primary, randomBytes(32));
    const r = await h.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me/registration-lock',
      headers: authed(primary),
    });
    expect(r.statusCode).toBe(204);
    expect((await reregister(primary.number)).statusCode).toBe(200);
    const events = (await h.storage.readAuditLog(0, 100)).map((e) => e.event);
    expect(events).toEqual(
      expect.arrayContaining(['registration-lock-set', 'registration-lock-removed']),
    );
  });
});
