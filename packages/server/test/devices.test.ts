// Linking devices with a provisioning code, listing and removing them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DEVICES_PER_ACCOUNT, type ResponseBody } from '@sotto/api';
import {
  authed,
  connect,
  freshIp,
  isQueueEmpty,
  linkDevice,
  register,
  startHarness,
  type Harness,
  type ErrorBody,
} from './support/harness.js';

describe('devices', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function provisioningCode(d: { authorization: string }) {
    return h.app.inject({
      method: 'POST',
      url: '/v1/devices/provisioning-code',
      headers: { authorization: d.authorization },
    });
  }
  async function link(code: string, registrationId = 99) {
    return h.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      remoteAddress: freshIp(),
      payload: { provisioningCode: code, registrationId },
    });
  }

  it('links a device with a single-use code from the primary', async () => {
    const primary = await register(h);
    const res = await provisioningCode(primary);
    expect(res.statusCode).toBe(200);
    const { code, expiresInSeconds } = res.json<{ code: string; expiresInSeconds: number }>();
    expect(expiresInSeconds).toBe(600);
    const linked = await link(code, 555);
    expect(linked.statusCode).toBe(200);
    expect(linked.json()).toMatchObject({ accountId: primary.accountId, deviceId: 2 });
    const reused = await link(code);
    expect(reused.statusCode).toBe(403);
    expect(reused.json<ErrorBody>().error.code).toBe('PROVISIONING_CODE_INVALID');
    const list = await h.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: authed(primary),
    });
    expect(
      list.json<ResponseBody<'listDevices'>>().devices.map((d) => [d.deviceId, d.registrationId]),
    ).toEqual([
      [1, primary.registrationId],
      [2, 555],
    ]);
    const stored = h.database.prepare('select code_key from provisioning_codes').all();
    expect(stored).toHaveLength(0);
  });

  it('refuses provisioning codes from linked devices, wrong codes and expired codes', async () => {
    const primary = await register(h);
    const linked = await linkDevice(h, primary);
    const fromLinked = await provisioningCode(linked);
    expect(fromLinked.statusCode).toBe(403);
    expect(fromLinked.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    const wrong = await link('AAAAAAAAAAAAAAAAAAAAAA');
    expect(wrong.json<ErrorBody>().error.code).toBe('PROVISIONING_CODE_INVALID');
    const { code } = (await provisioningCode(primary)).json<{ code: string }>();
    h.clock.advance(10 * 60_000);
    expect((await link(code)).json<ErrorBody>().error.code).toBe('PROVISIONING_CODE_INVALID');
  });

  it('stops at the device limit', async () => {
    const primary = await register(h);
    for (let i = 1; i < MAX_DEVICES_PER_ACCOUNT; i++) await linkDevice(h, primary, 100 + i);
    h.clock.advance(60 * 60_000); // past the provisioning-code rate limit
    const { code } = (await provisioningCode(primary)).json<{ code: string }>();
    const res = await link(code);
    expect(res.statusCode).toBe(409);
    expect(res.json<ErrorBody>().error.code).toBe('DEVICE_LIMIT_REACHED');
  });

  it('lets the primary remove a linked device, which loses its credential and socket', async () => {
    const primary = await register(h);
    const linked = await linkDevice(h, primary);
    const socket = await connect(h, linked);
    await socket.next(isQueueEmpty);
    const res = await h.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${linked.deviceId}`,
      headers: authed(primary),
    });
    expect(res.statusCode).toBe(204);
    expect(await socket.closed()).toBe(4401);
    const after = await h.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: authed(linked),
      remoteAddress: freshIp(),
    });
    expect(after.statusCode).toBe(401);
    const again = await h.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${linked.deviceId}`,
      headers: authed(primary),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json<ErrorBody>().error.code).toBe('DEVICE_NOT_FOUND');
    const events = await h.storage.readAuditLog(0, 100);
    expect(events.find((e) => e.event === 'device-removed')).toMatchObject({
      accountId: primary.accountId,
      deviceId: linked.deviceId,
    });
  });

  it('lets a linked device remove only itself, and nobody remove the primary', async () => {
    const primary = await register(h);
    const a = await linkDevice(h, primary);
    const b = await linkDevice(h, primary);
    const other = await h.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${b.deviceId}`,
      headers: authed(a),
    });
    expect(other.statusCode).toBe(403);
    const primaryRemoval = await h.app.inject({
      method: 'DELETE',
      url: '/v1/devices/1',
      headers: authed(primary),
    });
    expect(primaryRemoval.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    const self = await h.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${a.deviceId}`,
      headers: authed(a),
    });
    expect(self.statusCode).toBe(204);
    const bad = await h.app.inject({
      method: 'DELETE',
      url: '/v1/devices/0',
      headers: authed(primary),
    });
    expect(bad.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
  });
});
