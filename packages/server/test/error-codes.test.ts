// Every code of the registry is reachable and answered with its registered status: one trigger per
// code, over HTTP or the WebSocket, and a final check that no code was left out.
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_ERROR_CODES,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_ENVELOPE_CONTENT_BYTES,
  statusOf,
  VAULT_SERVICE_ERROR_CODES,
  type ApiErrorCode,
  type VaultServiceErrorCode,
} from '@sotto/api';
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
  type TestDevice,
} from './support/harness.js';
import { MemoryAttachmentStore, type ServerOptions } from '../src/index.js';

type Observed = { status: number; code: string };

describe('error registry coverage', () => {
  let h: Harness;
  let alice: TestDevice;
  let bob: TestDevice;
  const seen = new Map<string, Observed>();

  beforeAll(async () => {
    h = await startHarness({ maxMailboxEnvelopes: 1 });
    alice = await register(h);
    bob = await register(h);
  });
  afterAll(async () => {
    await h.close();
  });

  async function http(req: InjectOptions): Promise<Observed> {
    const r = await h.app.inject(req);
    return { status: r.statusCode, code: r.json<{ error: { code: string } }>().error.code };
  }
  async function frame(device: TestDevice, bytes: Uint8Array): Promise<Observed> {
    const s = await connect(h, device);
    await s.next(isQueueEmpty);
    s.sendRaw(bytes);
    const f = await s.next((x) => x.type === 'error');
    s.close();
    return f.type === 'error' ? { status: f.status, code: f.code } : { status: 0, code: 'none' };
  }
  async function send(
    device: TestDevice,
    envelopes: { deviceId: number; registrationId: number }[],
    to: string,
  ): Promise<Observed> {
    const s = await connect(h, device);
    await s.next(isQueueEmpty);
    const r = await s.send(
      to,
      envelopes.map((e) => ({ ...e, content: randomBytes(8) })),
    );
    s.close();
    return r.type === 'error' ? { status: r.status, code: r.code } : { status: 200, code: 'ok' };
  }
  /** One request against a relay that stores backups (the shared one has no backup store). */
  async function withBackups(
    options: Partial<ServerOptions>,
    request: (b: Harness, d: TestDevice) => Promise<LightMyRequestResponse>,
  ): Promise<Observed> {
    const b = await startHarness({ backups: new MemoryAttachmentStore(), ...options });
    try {
      const r = await request(b, await register(b));
      return { status: r.statusCode, code: r.json<{ error: { code: string } }>().error.code };
    } finally {
      await b.close();
    }
  }
  const register_ = (payload: object) =>
    http({ method: 'POST', url: '/v1/accounts', payload, remoteAddress: freshIp() });

  // The key vault's own codes are answered by its plugin (@sotto/vault), covered by
  // packages/vault/test/error-codes.test.ts; the relay alone answers every other code.
  const relayCodes = API_ERROR_CODES.filter(
    (c) => !(VAULT_SERVICE_ERROR_CODES as readonly string[]).includes(c),
  );
  const triggers: Record<Exclude<ApiErrorCode, VaultServiceErrorCode>, () => Promise<Observed>> = {
    INVALID_REQUEST: () =>
      http({
        method: 'POST',
        url: '/v1/verification/code',
        payload: { number: '+14155550100', x: 1 },
      }),
    INVALID_PHONE_NUMBER: () =>
      http({ method: 'POST', url: '/v1/verification/code', payload: { number: '+10000000000' } }),
    INVALID_KEY: async () => {
      const number = freshNumber();
      await requestCode(h, number);
      const key = ecKey();
      key[0] = 0x07;
      return register_({
        number,
        code: h.sms.codeFor(number),
        registrationId: 1,
        identityKey: b64(key),
      });
    },
    FRAME_INVALID: () => frame(alice, new Uint8Array([1, 0x42])),
    FRAME_VERSION_UNSUPPORTED: () => frame(alice, new Uint8Array([2, 0x03, 0, 0, 0, 1])),
    UNAUTHENTICATED: () => http({ method: 'GET', url: '/v1/devices', remoteAddress: freshIp() }),
    FORBIDDEN: async () => {
      const linked = await linkDevice(h, alice);
      return http({ method: 'DELETE', url: '/v1/accounts/me', headers: authed(linked) });
    },
    VERIFICATION_CODE_INVALID: async () => {
      const number = freshNumber();
      await requestCode(h, number);
      const wrong = h.sms.codeFor(number) === '111111' ? '222222' : '111111';
      return register_({ number, code: wrong, registrationId: 1, identityKey: b64(ecKey()) });
    },
    VERIFICATION_CODE_EXPIRED: () =>
      register_({
        number: freshNumber(),
        code: '123456',
        registrationId: 1,
        identityKey: b64(ecKey()),
      }),
    PROVISIONING_CODE_INVALID: () =>
      http({
        method: 'POST',
        url: '/v1/devices/link',
        payload: { provisioningCode: `${'B'.repeat(21)}A`, registrationId: 3 },
        remoteAddress: freshIp(),
      }),
    NOT_FOUND: () => http({ method: 'GET', url: '/v2/anything' }),
    ACCOUNT_NOT_FOUND: () =>
      http({
        method: 'POST',
        url: '/v1/directory/lookup',
        headers: authed(alice),
        payload: { number: '+14155559876' },
      }),
    DEVICE_NOT_FOUND: () =>
      http({ method: 'DELETE', url: '/v1/devices/77', headers: authed(alice) }),
    KEYS_NOT_FOUND: () =>
      http({ method: 'GET', url: `/v1/keys/${bob.accountId}/1`, headers: authed(alice) }),
    ATTACHMENT_NOT_FOUND: () =>
      http({ method: 'GET', url: `/v1/attachments/${'C'.repeat(22)}`, headers: authed(alice) }),
    PROVISIONING_ADDRESS_NOT_FOUND: () =>
      http({
        method: 'PUT',
        url: `/v1/provisioning/${'D'.repeat(22)}`,
        headers: authed(alice),
        payload: { body: b64(randomBytes(64)) },
      }),
    MISMATCHED_DEVICES: () => send(alice, [{ deviceId: 2, registrationId: 1 }], bob.accountId),
    DEVICE_LIMIT_REACHED: async () => {
      const carol = await register(h);
      for (let i = 1; i < MAX_DEVICES_PER_ACCOUNT; i++) await linkDevice(h, carol);
      h.clock.advance(60 * 60_000);
      const code = await h.app.inject({
        method: 'POST',
        url: '/v1/devices/provisioning-code',
        headers: authed(carol),
      });
      return http({
        method: 'POST',
        url: '/v1/devices/link',
        payload: { provisioningCode: code.json<{ code: string }>().code, registrationId: 3 },
        remoteAddress: freshIp(),
      });
    },
    LINKED_DEVICES_PRESENT: async () => {
      const dave = await register(h);
      await linkDevice(h, dave);
      return http({
        method: 'PUT',
        url: '/v1/accounts/me/identity-key',
        headers: authed(dave),
        payload: { identityKey: b64(ecKey()) },
      });
    },
    PREKEY_STORE_FULL: async () => {
      const batch = (start: number) =>
        Array.from({ length: 100 }, (_, i) => ({ keyId: start + i, publicKey: b64(ecKey()) }));
      for (let i = 0; i < 5; i++)
        await h.app.inject({
          method: 'PUT',
          url: '/v1/keys',
          headers: authed(bob),
          payload: { preKeys: batch(i * 100) },
        });
      return http({
        method: 'PUT',
        url: '/v1/keys',
        headers: authed(bob),
        payload: { preKeys: batch(1000) },
      });
    },
    STALE_DEVICES: () =>
      send(
        alice,
        [{ deviceId: 1, registrationId: bob.registrationId === 1 ? 2 : 1 }],
        bob.accountId,
      ),
    PAYLOAD_TOO_LARGE: () => {
      const f = new Uint8Array(2 + 4 + 16 + 16 + 1 + 11);
      f.set([1, 1]);
      const view = new DataView(f.buffer);
      view.setUint32(2, 5);
      f[38] = 1;
      view.setUint16(39, 1);
      view.setUint32(41, 1);
      f[45] = 1;
      view.setUint32(46, MAX_ENVELOPE_CONTENT_BYTES + 1);
      return frame(alice, f);
    },
    UNSUPPORTED_MEDIA_TYPE: () =>
      http({
        method: 'POST',
        url: '/v1/verification/code',
        payload: 'x',
        headers: { 'content-type': 'text/csv' },
      }),
    REGISTRATION_LOCKED: async () => {
      const dave = await register(h);
      await h.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/registration-lock',
        headers: authed(dave),
        payload: { token: b64(randomBytes(32)) },
      });
      const ip = freshIp();
      await requestCode(h, dave.number, ip);
      return http({
        method: 'POST',
        url: '/v1/accounts',
        remoteAddress: ip,
        payload: {
          number: dave.number,
          code: h.sms.codeFor(dave.number),
          registrationId: 5,
          identityKey: b64(ecKey()),
        },
      });
    },
    REGISTRATION_LOCK_MISMATCH: async () => {
      const erin = await register(h);
      await h.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/registration-lock',
        headers: authed(erin),
        payload: { token: b64(randomBytes(32)) },
      });
      const ip = freshIp();
      await requestCode(h, erin.number, ip);
      return http({
        method: 'POST',
        url: '/v1/accounts',
        remoteAddress: ip,
        payload: {
          number: erin.number,
          code: h.sms.codeFor(erin.number),
          registrationId: 5,
          identityKey: b64(ecKey()),
          registrationLockToken: b64(randomBytes(32)),
        },
      });
    },
    RATE_LIMITED: async () => {
      const number = freshNumber();
      for (let i = 0; i < 3; i++) await requestCode(h, number);
      return http({
        method: 'POST',
        url: '/v1/verification/code',
        payload: { number },
        remoteAddress: freshIp(),
      });
    },
    VERIFICATION_ATTEMPTS_EXHAUSTED: async () => {
      const number = freshNumber();
      await requestCode(h, number);
      const wrong = h.sms.codeFor(number) === '333333' ? '444444' : '333333';
      for (let i = 0; i < 5; i++)
        await register_({ number, code: wrong, registrationId: 1, identityKey: b64(ecKey()) });
      return register_({
        number,
        code: h.sms.codeFor(number),
        registrationId: 1,
        identityKey: b64(ecKey()),
      });
    },
    INTERNAL: async () => {
      const broken = await startHarness();
      try {
        const d = await register(broken);
        broken.storage.countOneTimeKeys = () => Promise.reject(new Error('boom'));
        const r = await broken.app.inject({
          method: 'GET',
          url: '/v1/keys/count',
          headers: authed(d),
        });
        return { status: r.statusCode, code: r.json<{ error: { code: string } }>().error.code };
      } finally {
        await broken.close();
      }
    },
    SMS_DELIVERY_FAILED: async () => {
      h.sms.failing = true;
      try {
        return await http({
          method: 'POST',
          url: '/v1/verification/code',
          payload: { number: freshNumber() },
          remoteAddress: freshIp(),
        });
      } finally {
        h.sms.failing = false;
      }
    },
    SMS_UNAVAILABLE: async () => {
      const none = await startHarness({ sms: null });
      try {
        const r = await none.app.inject({
          method: 'POST',
          url: '/v1/verification/code',
          payload: { number: freshNumber() },
        });
        return { status: r.statusCode, code: r.json<{ error: { code: string } }>().error.code };
      } finally {
        await none.close();
      }
    },
    SERVICE_UNAVAILABLE: async () => {
      const closing = await startHarness();
      try {
        const d = await register(closing);
        const peer = await register(closing);
        const s = await connect(closing, d);
        await s.next(isQueueEmpty);
        // The write path closes first during shutdown: sends still arriving are refused cleanly.
        await closing.server.messages.close();
        const r = await s.send(peer.accountId, [
          { deviceId: 1, registrationId: peer.registrationId, content: randomBytes(4) },
        ]);
        s.close();
        return r.type === 'error'
          ? { status: r.status, code: r.code }
          : { status: 200, code: 'ok' };
      } finally {
        await closing.close();
      }
    },
    VAULT_UNAVAILABLE: () =>
      http({ method: 'GET', url: '/v1/vault/credential', headers: authed(alice) }),
    MAILBOX_FULL: async () => {
      await send(alice, [{ deviceId: 1, registrationId: bob.registrationId }], bob.accountId);
      return send(alice, [{ deviceId: 1, registrationId: bob.registrationId }], bob.accountId);
    },
    BACKUP_STORAGE_UNAVAILABLE: () =>
      http({ method: 'GET', url: '/v1/backups', headers: authed(alice) }),
    BACKUP_NOT_FOUND: () =>
      withBackups({}, (b, d) =>
        b.app.inject({ method: 'GET', url: '/v1/backups/none', headers: authed(d) }),
      ),
    BACKUP_TOO_LARGE: () =>
      withBackups({ maxBackupBytes: 10 }, (b, d) =>
        b.app.inject({
          method: 'PUT',
          url: '/v1/backups/big',
          headers: authed(d, { 'content-type': 'application/octet-stream' }),
          payload: randomBytes(11),
        }),
      ),
    BACKUP_QUOTA_EXCEEDED: () =>
      withBackups({ backupQuotaBytes: 10 }, (b, d) =>
        b.app.inject({
          method: 'PUT',
          url: '/v1/backups/big',
          headers: authed(d, { 'content-type': 'application/octet-stream' }),
          payload: randomBytes(11),
        }),
      ),
  };

  for (const code of relayCodes as Exclude<ApiErrorCode, VaultServiceErrorCode>[]) {
    it(`${code} is answered with ${statusOf(code)}`, async () => {
      const observed = await triggers[code]();
      seen.set(code, observed);
      expect(observed).toEqual({ status: statusOf(code), code });
    });
  }

  it('covered every registered code', () => {
    expect([...seen.keys()].sort()).toEqual([...relayCodes].sort());
  });
});
