/**
 * Accounts: registration with the SMS code (and the registration lock), who-am-I, the registration
 * lock itself, the data export and erasure.
 *
 * Registration lock (two-step PIN): the client derives a 32-byte token on the device from its
 * PIN-protected key and sets it here; the server keeps an HMAC of it. Re-registering a locked
 * number needs the token until the lock lapses — REGISTRATION_LOCK_LAPSE_MS after the later of
 * "lock set" and "a device of the account last seen". Token attempts are rate limited per account
 * (REGISTRATION_LOCK_ATTEMPTS), counted before the comparison so parallel guesses are counted too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  ApiError,
  CREDENTIAL_BYTES,
  MAX_DEVICE_NAME_BYTES,
  PRIMARY_DEVICE_ID,
  REGISTRATION_LOCK_TOKEN_BYTES,
  toBase64,
  toBase64Url,
  type ResponseBody,
} from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { decodeBytes, decodeEcKey } from '../http/decode.js';
import { defineRoute } from '../http/route.js';
import {
  MAX_VERIFICATION_ATTEMPTS,
  REGISTRATION_LOCK_ATTEMPTS,
  REGISTRATION_LOCK_LAPSE_MS,
  REGISTRATIONS_PER_IP,
} from '../limits.js';
import { canonicalPhoneNumber } from '../phone-number.js';
import type { AccountRecord } from '../ports/storage.js';
import { constantTimeEqual, randomSecret, sha256 } from '../secrets.js';
import type { VaultCredentialIssuer } from './vault-credential.js';
import { codeMac } from './verification.js';

export function accountRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  vaultCredentials: VaultCredentialIssuer | null = null,
  onAccountDeleted: ((accountId: string) => Promise<void>) | null = null,
): void {
  defineRoute(app, ctx, 'register', async (req) => {
    const body = req.body;
    const number = canonicalPhoneNumber(body.number);
    await ctx.limitAddress(req, 'register', REGISTRATIONS_PER_IP);
    const identityKey = decodeEcKey(body.identityKey, 'identityKey');
    const name =
      body.name === undefined ? null : decodeBytes(body.name, [1, MAX_DEVICE_NAME_BYTES], 'name');
    const now = ctx.clock.now();

    const numberKey = ctx.secret.key('number-key', number);
    const attempt = await ctx.storage.beginVerificationAttempt(
      numberKey,
      now,
      MAX_VERIFICATION_ATTEMPTS,
    );
    if (attempt.status === 'expired') throw new ApiError('VERIFICATION_CODE_EXPIRED');
    if (attempt.status === 'exhausted') throw new ApiError('VERIFICATION_ATTEMPTS_EXHAUSTED');
    const existing = await ctx.storage.getAccountByNumber(number);
    if (!constantTimeEqual(codeMac(ctx, number, body.code), attempt.codeHash)) {
      await ctx.audit('verification-code-failed', existing?.accountId ?? null, null, {
        attempt: attempt.attempts,
      });
      throw new ApiError('VERIFICATION_CODE_INVALID');
    }
    if (existing !== undefined)
      await checkRegistrationLock(ctx, existing, body.registrationLockToken, now, vaultCredentials);
    // Single use, atomically: of two requests racing with the same code exactly one goes on.
    if (!(await ctx.storage.consumeVerificationCode(numberKey, attempt.codeHash))) {
      throw new ApiError('VERIFICATION_CODE_EXPIRED', 'the code was used by a concurrent request');
    }

    const credential = randomSecret(CREDENTIAL_BYTES);
    const primary = {
      registrationId: body.registrationId,
      credentialHash: sha256(credential),
      name,
      createdAt: now,
    };
    let accountId: string;
    if (existing === undefined) {
      accountId = randomUUID();
      const created = await ctx.storage.createAccount(
        { accountId, number, identityKey, createdAt: now },
        primary,
        [ctx.auditEvent('account-registered', accountId, PRIMARY_DEVICE_ID)],
      );
      if (created === 'number-taken') {
        // Another request registered the number between our lookup and our insert (it held a
        // different, newer code). Nothing was written; the caller requests a new code and
        // re-registers, which goes through the registration lock like any re-registration.
        credential.fill(0);
        throw new ApiError(
          'VERIFICATION_CODE_EXPIRED',
          'the number was registered by a concurrent request; request a new code',
        );
      }
    } else {
      accountId = existing.accountId;
      const keyChanged = !constantTimeEqual(existing.identityKey, identityKey);
      const removed = await ctx.storage.replaceAccountDevices(
        accountId,
        identityKey,
        primary,
        (removedIds) => [
          ctx.auditEvent('account-reregistered', accountId, PRIMARY_DEVICE_ID, {
            removedDevices: removedIds.length,
          }),
          ...(keyChanged
            ? [ctx.auditEvent('identity-key-changed', accountId, PRIMARY_DEVICE_ID)]
            : []),
        ],
      );
      for (const d of removed) ctx.fanOut.publish(accountId, d, { type: 'device-removed' });
    }
    const response: ResponseBody<'register'> = {
      accountId,
      deviceId: PRIMARY_DEVICE_ID,
      credential: toBase64Url(credential),
      reregistered: existing !== undefined,
    };
    credential.fill(0);
    return response;
  });

  defineRoute(app, ctx, 'whoAmI', async (req) => {
    const { accountId, deviceId } = deviceOf(req);
    const account = await requireAccount(ctx, accountId);
    return {
      accountId,
      deviceId,
      number: account.number,
      registrationLock: account.registrationLock !== null,
    } satisfies ResponseBody<'whoAmI'>;
  });

  defineRoute(app, ctx, 'setRegistrationLock', async (req, reply) => {
    const { accountId, deviceId } = deviceOf(req);
    const token = decodeBytes(req.body.token, REGISTRATION_LOCK_TOKEN_BYTES, 'token');
    await ctx.storage.setRegistrationLock(
      accountId,
      { tokenHash: ctx.secret.mac('registration-lock', token), setAt: ctx.clock.now() },
      [ctx.auditEvent('registration-lock-set', accountId, deviceId)],
    );
    token.fill(0);
    return reply.code(204).send();
  });

  defineRoute(app, ctx, 'removeRegistrationLock', async (req, reply) => {
    const { accountId, deviceId } = deviceOf(req);
    await ctx.storage.setRegistrationLock(accountId, null, [
      ctx.auditEvent('registration-lock-removed', accountId, deviceId),
    ]);
    return reply.code(204).send();
  });

  defineRoute(app, ctx, 'deleteAccount', async (req, reply) => {
    const { accountId } = deviceOf(req);
    const devices = await ctx.storage.getDevices(accountId);
    // The audit row keeps the (now meaningless) account id, never the number.
    const { attachmentIds, backupBlobIds } = await ctx.storage.deleteAccount(accountId, [
      ctx.auditEvent('account-deleted', accountId, null, { devices: devices.length }),
    ]);
    await ctx.storage.deleteRateLimits(accountBucket(accountId, ''));
    for (const id of attachmentIds) await ctx.attachments.delete(id);
    for (const id of backupBlobIds) await ctx.backups?.delete(id);
    for (const d of devices) ctx.fanOut.publish(accountId, d.deviceId, { type: 'device-removed' });
    // What the relay's owner keeps elsewhere about the account (the embedded key vault's records).
    await onAccountDeleted?.(accountId);
    return reply.code(204).send();
  });

  defineRoute(app, ctx, 'exportAccount', async (req) => {
    const { accountId } = deviceOf(req);
    const x = await ctx.storage.exportAccount(accountId);
    if (x === undefined) throw new ApiError('ACCOUNT_NOT_FOUND');
    const signedKey = (k: { keyId: number; publicKey: Uint8Array; signature: Uint8Array }) => ({
      keyId: k.keyId,
      publicKey: toBase64(k.publicKey),
      signature: toBase64(k.signature),
    });
    const lock = x.account.registrationLock;
    return {
      exportedAt: ctx.clock.now(),
      account: {
        accountId: x.account.accountId,
        number: x.account.number,
        createdAt: x.account.createdAt,
        identityKey: toBase64(x.account.identityKey),
        registrationLock: lock === null ? { enabled: false } : { enabled: true, setAt: lock.setAt },
      },
      devices: x.devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        ...(d.name === null ? {} : { name: toBase64(d.name) }),
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        ...(d.signedPreKey === undefined ? {} : { signedPreKey: signedKey(d.signedPreKey) }),
        ...(d.lastResortKyberPreKey === undefined
          ? {}
          : { lastResortKyberPreKey: signedKey(d.lastResortKyberPreKey) }),
        oneTimePreKeys: d.oneTimePreKeys.map((k) => ({
          keyId: k.keyId,
          publicKey: toBase64(k.publicKey),
        })),
        oneTimeKyberPreKeys: d.oneTimeKyberPreKeys.map(signedKey),
      })),
      pendingEnvelopes: x.pendingEnvelopes.map((e) => ({
        deviceId: e.deviceId,
        guid: e.guid,
        serverTimestamp: e.serverTimestamp,
        sourceAccountId: e.sourceAccountId,
        sourceDeviceId: e.sourceDeviceId,
        type: e.type,
        size: e.size,
      })),
      sentMessageIds: x.sentMessageIds.map((s) => ({ ...s })),
      attachments: x.attachments.map((a) => ({
        attachmentId: a.attachmentId,
        size: a.size,
        createdAt: a.createdAt,
      })),
      // Names, sizes and times of stored backups; never their bytes.
      backups: x.backups.map((b) => ({ name: b.name, size: b.size, createdAt: b.createdAt })),
      auditEvents: x.auditEvents.map((e) => ({
        seq: e.seq,
        at: e.at,
        event: e.event,
        ...(e.deviceId === null ? {} : { deviceId: e.deviceId }),
      })),
    } satisfies ResponseBody<'exportAccount'>;
  });
}

async function requireAccount(ctx: ServerContext, accountId: string): Promise<AccountRecord> {
  const account = await ctx.storage.getAccount(accountId);
  if (account === undefined) throw new ApiError('ACCOUNT_NOT_FOUND');
  return account;
}

async function checkRegistrationLock(
  ctx: ServerContext,
  account: AccountRecord,
  tokenText: string | undefined,
  now: number,
  vaultCredentials: VaultCredentialIssuer | null,
): Promise<void> {
  const lock = account.registrationLock;
  if (lock === null) return;
  const devices = await ctx.storage.getDevices(account.accountId);
  let lastActive = lock.setAt;
  for (const d of devices) lastActive = Math.max(lastActive, d.lastSeenAt);
  const timeRemainingMs = lastActive + REGISTRATION_LOCK_LAPSE_MS - now;
  if (timeRemainingMs <= 0) return; // lapsed: no device of the account connected for 7 days
  if (tokenText === undefined) {
    // The SMS code was right (checked before this): like Signal, hand the new device a
    // credential for the account's key vault record, recover-only, so it can try the PIN there.
    throw new ApiError('REGISTRATION_LOCKED', undefined, {
      details: {
        timeRemainingMs,
        ...(vaultCredentials === null
          ? {}
          : { vaultCredential: vaultCredentials.issue(account.accountId, 'recover') }),
      },
    });
  }
  await ctx.limit(accountBucket(account.accountId, 'reglock'), REGISTRATION_LOCK_ATTEMPTS);
  const token = decodeBytes(tokenText, REGISTRATION_LOCK_TOKEN_BYTES, 'registrationLockToken');
  const ok = constantTimeEqual(ctx.secret.mac('registration-lock', token), lock.tokenHash);
  token.fill(0);
  if (!ok) {
    await ctx.audit('registration-lock-failed', account.accountId, null);
    throw new ApiError('REGISTRATION_LOCK_MISMATCH', undefined, { details: { timeRemainingMs } });
  }
}
