/**
 * Prekeys (signal-wire.md §2–3): upload, count and fetch, and the primary's identity key change
 * (which drops every prekey signed by the old identity). Keys are opaque bytes to the relay; only
 * their type byte and length are checked. A fetch hands out each one-time key once (the storage
 * port deletes it in the same transaction) and falls back to the last-resort Kyber key.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, MAX_ONE_TIME_PREKEYS_STORED, toBase64, type ResponseBody } from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import {
  decodeEcKey,
  decodeOneTimeEcKey,
  decodeSignedEcKey,
  decodeSignedKyberKey,
} from '../http/decode.js';
import { defineRoute } from '../http/route.js';
import { KEY_FETCHES_PER_ACCOUNT, KEY_UPLOADS_PER_DEVICE, MAX_KEYS_BODY_BYTES } from '../limits.js';
import type { DeviceBundle, KeyUpload, SignedKey } from '../ports/storage.js';

export function keyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  defineRoute(
    app,
    ctx,
    'uploadKeys',
    async (req, reply) => {
      const { accountId, deviceId } = deviceOf(req);
      await ctx.limit(accountBucket(accountId, `keys-upload.${deviceId}`), KEY_UPLOADS_PER_DEVICE);
      const b = req.body;
      const upload: KeyUpload = {
        ...(b.signedPreKey === undefined
          ? {}
          : { signedPreKey: decodeSignedEcKey(b.signedPreKey, 'signedPreKey') }),
        ...(b.lastResortKyberPreKey === undefined
          ? {}
          : {
              lastResortKyberPreKey: decodeSignedKyberKey(
                b.lastResortKyberPreKey,
                'lastResortKyberPreKey',
              ),
            }),
        ...(b.preKeys === undefined
          ? {}
          : { preKeys: b.preKeys.map((k, i) => decodeOneTimeEcKey(k, `preKeys[${i}]`)) }),
        ...(b.kyberPreKeys === undefined
          ? {}
          : {
              kyberPreKeys: b.kyberPreKeys.map((k, i) =>
                decodeSignedKyberKey(k, `kyberPreKeys[${i}]`),
              ),
            }),
      };
      const replaces =
        upload.signedPreKey !== undefined || upload.lastResortKyberPreKey !== undefined;
      const stored = await ctx.storage.storeKeys(
        accountId,
        deviceId,
        upload,
        MAX_ONE_TIME_PREKEYS_STORED,
        replaces
          ? [
              ctx.auditEvent('keys-replaced', accountId, deviceId, {
                signedPreKey: upload.signedPreKey !== undefined,
                lastResortKyberPreKey: upload.lastResortKyberPreKey !== undefined,
              }),
            ]
          : [],
      );
      if (stored === 'full') throw new ApiError('PREKEY_STORE_FULL');
      return reply.code(204).send();
    },
    { bodyLimit: MAX_KEYS_BODY_BYTES },
  );

  // The primary replaces the account's identity key (Signal-Server accepts an identity key change
  // from the primary only). All prekeys go with the old key, in the same transaction: their
  // signatures would not verify against the new one, so nobody can fetch a bundle that mixes the
  // two. The audit row names the event only, never the key.
  defineRoute(app, ctx, 'setIdentityKey', async (req, reply) => {
    const { accountId, deviceId } = deviceOf(req);
    await ctx.limit(accountBucket(accountId, `keys-upload.${deviceId}`), KEY_UPLOADS_PER_DEVICE);
    const identityKey = decodeEcKey(req.body.identityKey, 'identityKey');
    const outcome = await ctx.storage.replaceIdentityKey(accountId, identityKey, [
      ctx.auditEvent('identity-key-changed', accountId, deviceId),
    ]);
    if (outcome === 'no-account') throw new ApiError('ACCOUNT_NOT_FOUND');
    if (outcome === 'linked-devices') throw new ApiError('LINKED_DEVICES_PRESENT');
    return reply.code(204).send();
  });

  defineRoute(app, ctx, 'keyCounts', async (req) => {
    const { accountId, deviceId } = deviceOf(req);
    const c = await ctx.storage.countOneTimeKeys(accountId, deviceId);
    return { ecCount: c.ec, kyberCount: c.kyber } satisfies ResponseBody<'keyCounts'>;
  });

  defineRoute(app, ctx, 'fetchKeys', async (req) => {
    const me = deviceOf(req);
    await ctx.limit(accountBucket(me.accountId, 'keys-fetch'), KEY_FETCHES_PER_ACCOUNT);
    const { accountId, deviceId } = req.params;
    const account = await ctx.storage.getAccount(accountId);
    if (account === undefined) throw new ApiError('ACCOUNT_NOT_FOUND');
    const bundles: DeviceBundle[] = [];
    if (deviceId === '*') {
      for (const d of await ctx.storage.getDevices(accountId)) {
        const b = await ctx.storage.takePreKeyBundle(accountId, d.deviceId);
        if (b !== undefined) bundles.push(b);
      }
      if (bundles.length === 0) throw new ApiError('KEYS_NOT_FOUND');
    } else {
      const id = Number(deviceId);
      const b = await ctx.storage.takePreKeyBundle(accountId, id);
      if (b === undefined) {
        const exists = (await ctx.storage.getDevice(accountId, id)) !== undefined;
        throw new ApiError(exists ? 'KEYS_NOT_FOUND' : 'DEVICE_NOT_FOUND');
      }
      bundles.push(b);
    }
    const signed = (k: SignedKey) => ({
      keyId: k.keyId,
      publicKey: toBase64(k.publicKey),
      signature: toBase64(k.signature),
    });
    return {
      identityKey: toBase64(account.identityKey),
      devices: bundles.map((b) => ({
        deviceId: b.deviceId,
        registrationId: b.registrationId,
        signedPreKey: signed(b.signedPreKey),
        ...(b.preKey === undefined
          ? {}
          : { preKey: { keyId: b.preKey.keyId, publicKey: toBase64(b.preKey.publicKey) } }),
        kyberPreKey: signed(b.kyberPreKey),
      })),
    } satisfies ResponseBody<'fetchKeys'>;
  });
}
