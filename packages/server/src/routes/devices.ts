/**
 * Devices: list, remove, and linking a new device. Linking is authorised by an existing device:
 * the primary asks for a single-use provisioning code (128 random bits, 10 minutes, stored as an
 * HMAC) and sends it to the new device inside the end-to-end encrypted ProvisionMessage
 * (routes/provisioning.ts carries it, unreadable to this server); the new device redeems it once.
 */
import type { FastifyInstance } from 'fastify';
import {
  ApiError,
  CREDENTIAL_BYTES,
  MAX_DEVICE_ID,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES_PER_ACCOUNT,
  PRIMARY_DEVICE_ID,
  PROVISIONING_CODE_BYTES,
  toBase64,
  toBase64Url,
  type ResponseBody,
} from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { decodeBase64UrlBytes, decodeBytes } from '../http/decode.js';
import { defineRoute } from '../http/route.js';
import {
  LINK_ATTEMPTS_PER_IP,
  PROVISIONING_CODE_TTL_MS,
  PROVISIONING_CODES_PER_ACCOUNT,
} from '../limits.js';
import { randomSecret, sha256 } from '../secrets.js';

export function deviceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  defineRoute(app, ctx, 'listDevices', async (req) => {
    const { accountId } = deviceOf(req);
    const devices = await ctx.storage.getDevices(accountId);
    return {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        ...(d.name === null ? {} : { name: toBase64(d.name) }),
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
      })),
    } satisfies ResponseBody<'listDevices'>;
  });

  defineRoute(app, ctx, 'removeDevice', async (req, reply) => {
    const me = deviceOf(req);
    const target = Number(req.params.deviceId);
    if (target === PRIMARY_DEVICE_ID) {
      throw new ApiError('FORBIDDEN', 'the primary cannot be removed; delete the account instead');
    }
    if (me.deviceId !== PRIMARY_DEVICE_ID && me.deviceId !== target) {
      throw new ApiError('FORBIDDEN', 'a linked device may remove only itself');
    }
    const removed = await ctx.storage.removeDevice(me.accountId, target, [
      ctx.auditEvent('device-removed', me.accountId, target, { by: me.deviceId }),
    ]);
    if (!removed) throw new ApiError('DEVICE_NOT_FOUND');
    ctx.fanOut.publish(me.accountId, target, { type: 'device-removed' });
    return reply.code(204).send();
  });

  defineRoute(app, ctx, 'createProvisioningCode', async (req) => {
    const { accountId } = deviceOf(req);
    await ctx.limit(accountBucket(accountId, 'provisioning'), PROVISIONING_CODES_PER_ACCOUNT);
    const code = randomSecret(PROVISIONING_CODE_BYTES);
    await ctx.storage.putProvisioningCode(
      ctx.secret.key('provisioning-code', code),
      accountId,
      ctx.clock.now() + PROVISIONING_CODE_TTL_MS,
    );
    const response: ResponseBody<'createProvisioningCode'> = {
      code: toBase64Url(code),
      expiresInSeconds: PROVISIONING_CODE_TTL_MS / 1000,
    };
    code.fill(0);
    return response;
  });

  defineRoute(app, ctx, 'linkDevice', async (req) => {
    await ctx.limitAddress(req, 'link', LINK_ATTEMPTS_PER_IP);
    const body = req.body;
    const code = decodeBase64UrlBytes(
      body.provisioningCode,
      PROVISIONING_CODE_BYTES,
      'provisioningCode',
    );
    const name =
      body.name === undefined ? null : decodeBytes(body.name, [1, MAX_DEVICE_NAME_BYTES], 'name');
    const now = ctx.clock.now();
    // Looked up by its HMAC: an index lookup on a keyed hash of a 128-bit secret leaks nothing useful.
    const accountId = await ctx.storage.takeProvisioningCode(
      ctx.secret.key('provisioning-code', code),
      now,
    );
    code.fill(0);
    if (accountId === undefined) throw new ApiError('PROVISIONING_CODE_INVALID');
    const credential = randomSecret(CREDENTIAL_BYTES);
    const deviceId = await ctx.storage.addDevice(
      accountId,
      {
        registrationId: body.registrationId,
        credentialHash: sha256(credential),
        name,
        createdAt: now,
      },
      { maxDevices: MAX_DEVICES_PER_ACCOUNT, maxDeviceId: MAX_DEVICE_ID },
      (id) => [ctx.auditEvent('device-added', accountId, id)],
    );
    if (deviceId === undefined) throw new ApiError('DEVICE_LIMIT_REACHED');
    const response: ResponseBody<'linkDevice'> = {
      accountId,
      deviceId,
      credential: toBase64Url(credential),
    };
    credential.fill(0);
    return response;
  });
}
