/**
 * The storage port's conformance suite (CONVENTIONS.md, test layer 5): every storage adapter runs
 * it, e.g. `describeStorageConformance('sqlite memory', () => openSqliteStorage({ filename: ':memory:' }))`.
 * It checks the port's promises, not an implementation: atomicity of code attempts, one-time key
 * consumption and rate limits under concurrency, duplicate sends stored once, mailbox limits,
 * complete erasure, the audit chain and what the sweeper removes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../audit/audit-chain.js';
import type {
  AuditEventInput,
  AuditEventType,
  KeyUpload,
  NewDevice,
  OutgoingEnvelopeRecord,
  SendRecord,
  SignedKey,
  Storage,
} from '../ports/storage.js';

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_750_000_000_000;

function newDevice(registrationId = 1234): NewDevice {
  return {
    registrationId,
    credentialHash: createHash('sha256').update(randomBytes(32)).digest(),
    name: null,
    createdAt: T0,
  };
}
function ecKey(): Uint8Array {
  const k = randomBytes(33);
  k[0] = 5;
  return k;
}
function kyberKey(): Uint8Array {
  const k = randomBytes(1569);
  k[0] = 8;
  return k;
}
function signed(keyId: number, publicKey: Uint8Array): SignedKey {
  return { keyId, publicKey, signature: randomBytes(64) };
}
function envelope(
  accountId: string,
  deviceId: number,
  source: { accountId: string; deviceId: number },
  at = T0,
  registrationId = 1234,
): OutgoingEnvelopeRecord {
  return {
    guid: randomUUID(),
    accountId,
    deviceId,
    registrationId,
    serverTimestamp: at,
    sourceAccountId: source.accountId,
    sourceDeviceId: source.deviceId,
    type: 1,
    content: randomBytes(48),
  };
}
function send(
  source: { accountId: string; deviceId: number },
  envelopes: OutgoingEnvelopeRecord[],
  clientMessageId = randomBytes(16).toString('base64url'),
  at = T0,
): SendRecord {
  return {
    sourceAccountId: source.accountId,
    sourceDeviceId: source.deviceId,
    clientMessageId,
    serverTimestamp: at,
    recipientAccountId: envelopes[0]!.accountId,
    envelopes,
  };
}

function auditEvent(
  event: AuditEventType,
  accountId: string | null,
  deviceId: number | null,
  details: AuditEventInput['details'] = null,
): AuditEventInput {
  return { at: T0, event, accountId, deviceId, details };
}

export function describeStorageConformance(name: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    let numbers = 0;
    async function account(number = `+1415555${String(1000 + (numbers++ % 8999))}`) {
      const accountId = randomUUID();
      const identityKey = ecKey();
      const outcome = await storage.createAccount(
        { accountId, number, identityKey, createdAt: T0 },
        newDevice(),
      );
      if (outcome !== 'created') throw new Error(`account ${number}: ${outcome}`);
      return { accountId, number, identityKey, deviceId: 1 };
    }

    describe('accounts', () => {
      it('creates an account with its primary and finds it by id and number', async () => {
        const a = await account('+14155550100');
        const byId = await storage.getAccount(a.accountId);
        expect(byId?.number).toBe('+14155550100');
        expect(Buffer.from(byId!.identityKey).equals(Buffer.from(a.identityKey))).toBe(true);
        expect(byId?.registrationLock).toBeNull();
        expect((await storage.getAccountByNumber('+14155550100'))?.accountId).toBe(a.accountId);
        expect(await storage.getAccountByNumber('+14155550101')).toBeUndefined();
        expect(await storage.getAccount(randomUUID())).toBeUndefined();
        const devices = await storage.getDevices(a.accountId);
        expect(devices.map((d) => d.deviceId)).toEqual([1]);
        expect(devices[0]!.lastSeenAt).toBe(T0);
      });

      it('refuses a second account for the same number, writing nothing', async () => {
        const first = await account('+14155550100');
        const secondId = randomUUID();
        const outcome = await storage.createAccount(
          { accountId: secondId, number: '+14155550100', identityKey: ecKey(), createdAt: T0 },
          newDevice(),
          [auditEvent('account-registered', secondId, 1)],
        );
        expect(outcome).toBe('number-taken');
        expect((await storage.getAccountByNumber('+14155550100'))?.accountId).toBe(first.accountId);
        expect(await storage.getAccount(secondId)).toBeUndefined();
        expect(await storage.getDevices(secondId)).toEqual([]);
        expect(await storage.readAuditLog(0, 10)).toEqual([]);
      });

      it('lets exactly one of two racing first registrations of a number through', async () => {
        const ids = [randomUUID(), randomUUID()];
        const outcomes = await Promise.all(
          ids.map((accountId) =>
            storage.createAccount(
              { accountId, number: '+14155550177', identityKey: ecKey(), createdAt: T0 },
              newDevice(),
              [auditEvent('account-registered', accountId, 1)],
            ),
          ),
        );
        expect([...outcomes].sort()).toEqual(['created', 'number-taken']);
        const winner = ids[outcomes.indexOf('created')]!;
        expect((await storage.getAccountByNumber('+14155550177'))?.accountId).toBe(winner);
        const audit = await storage.readAuditLog(0, 10);
        expect(audit.map((r) => [r.event, r.accountId])).toEqual([['account-registered', winner]]);
      });

      it('stores and clears the registration lock', async () => {
        const a = await account();
        const tokenHash = randomBytes(32);
        await storage.setRegistrationLock(a.accountId, { tokenHash, setAt: T0 + 5 });
        const locked = await storage.getAccount(a.accountId);
        expect(Buffer.from(locked!.registrationLock!.tokenHash).equals(tokenHash)).toBe(true);
        expect(locked!.registrationLock!.setAt).toBe(T0 + 5);
        await storage.setRegistrationLock(a.accountId, null);
        expect((await storage.getAccount(a.accountId))!.registrationLock).toBeNull();
      });

      it('re-registration replaces devices, keys, mailboxes, the lock and the identity key', async () => {
        const a = await account();
        const b = await account();
        const linked = (await storage.addDevice(a.accountId, newDevice(), {
          maxDevices: 6,
          maxDeviceId: 127,
        }))!;
        await storage.storeKeys(
          a.accountId,
          1,
          { preKeys: [{ keyId: 1, publicKey: ecKey() }] },
          100,
        );
        const stored = await storage.storeSends(
          [send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, linked, b)])],
          100,
        );
        expect(stored[0]!.status).toBe('stored');
        await storage.setRegistrationLock(a.accountId, { tokenHash: randomBytes(32), setAt: T0 });
        await storage.putProvisioningCode('code-a', a.accountId, T0 + DAY);
        const identityKey = ecKey();
        const removed = await storage.replaceAccountDevices(
          a.accountId,
          identityKey,
          newDevice(99),
        );
        expect([...removed].sort()).toEqual([1, linked]);
        const acc = await storage.getAccount(a.accountId);
        expect(acc!.registrationLock).toBeNull();
        expect(Buffer.from(acc!.identityKey).equals(Buffer.from(identityKey))).toBe(true);
        const devices = await storage.getDevices(a.accountId);
        expect(devices.map((d) => [d.deviceId, d.registrationId])).toEqual([[1, 99]]);
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 0, kyber: 0 });
        expect(await storage.readMailbox(a.accountId, 1, 0, 10)).toEqual([]);
        expect(await storage.takeProvisioningCode('code-a', T0)).toBeUndefined();
      });

      it('deletion erases everything keyed by the account and nothing of others', async () => {
        const a = await account();
        const b = await account();
        const linked = (await storage.addDevice(a.accountId, newDevice(), {
          maxDevices: 6,
          maxDeviceId: 127,
        }))!;
        await storage.storeKeys(
          a.accountId,
          1,
          {
            signedPreKey: signed(1, ecKey()),
            lastResortKyberPreKey: signed(2, kyberKey()),
            preKeys: [{ keyId: 1, publicKey: ecKey() }],
          },
          100,
        );
        await storage.storeSends(
          [send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, linked, b)])],
          100,
        );
        const aMessageId = randomBytes(16).toString('base64url');
        await storage.storeSends([send(a, [envelope(b.accountId, 1, a)], aMessageId)], 100);
        await storage.putAttachment({
          attachmentId: 'att-a',
          accountId: a.accountId,
          size: 5,
          createdAt: T0,
        });
        await storage.putAttachment({
          attachmentId: 'att-b',
          accountId: b.accountId,
          size: 5,
          createdAt: T0,
        });
        await storage.consumeRateLimit(
          `acct:${a.accountId}:keys`,
          { burst: 1, intervalMs: DAY },
          T0,
        );
        await storage.consumeRateLimit(
          `acct:${b.accountId}:keys`,
          { burst: 1, intervalMs: DAY },
          T0,
        );

        const { attachmentIds } = await storage.deleteAccount(a.accountId);
        await storage.deleteRateLimits(`acct:${a.accountId}:`);
        expect(attachmentIds).toEqual(['att-a']);
        expect(await storage.getAccount(a.accountId)).toBeUndefined();
        expect(await storage.getDevices(a.accountId)).toEqual([]);
        expect(await storage.exportAccount(a.accountId)).toBeUndefined();
        expect(await storage.readMailbox(a.accountId, 1, 0, 10)).toEqual([]);
        expect(await storage.takePreKeyBundle(a.accountId, 1)).toBeUndefined();
        expect(await storage.getAttachment('att-a')).toBeUndefined();
        // The rate-limit bucket is gone: a fresh burst is allowed again.
        expect(
          (
            await storage.consumeRateLimit(
              `acct:${a.accountId}:keys`,
              { burst: 1, intervalMs: DAY },
              T0,
            )
          ).allowed,
        ).toBe(true);
        // b is untouched: its mailbox still holds a's message (it belongs to b), its bucket still counts.
        expect(await storage.readMailbox(b.accountId, 1, 0, 10)).toHaveLength(1);
        expect(await storage.getAttachment('att-b')).toBeDefined();
        expect(
          (
            await storage.consumeRateLimit(
              `acct:${b.accountId}:keys`,
              { burst: 1, intervalMs: DAY },
              T0,
            )
          ).allowed,
        ).toBe(false);
        // A's sent-message ids are gone: the same client message id may be stored again.
        const resend = await storage.storeSends(
          [send(a, [envelope(b.accountId, 1, a)], aMessageId)],
          100,
        );
        expect(resend[0]!.status).toBe('stored');
      });
    });

    describe('devices', () => {
      it('adds devices under the lowest free id and enforces the limit', async () => {
        const a = await account();
        const limits = { maxDevices: 3, maxDeviceId: 127 };
        expect(await storage.addDevice(a.accountId, newDevice(2), limits)).toBe(2);
        expect(await storage.addDevice(a.accountId, newDevice(3), limits)).toBe(3);
        expect(await storage.addDevice(a.accountId, newDevice(4), limits)).toBeUndefined();
        expect(await storage.removeDevice(a.accountId, 2)).toBe(true);
        expect(await storage.removeDevice(a.accountId, 2)).toBe(false);
        expect(await storage.addDevice(a.accountId, newDevice(5), limits)).toBe(2);
        expect((await storage.getDevice(a.accountId, 2))?.registrationId).toBe(5);
        expect(await storage.addDevice(randomUUID(), newDevice(), limits)).toBeUndefined();
      });

      it('never exceeds the limit under concurrent adds', async () => {
        const a = await account();
        const ids = await Promise.all(
          Array.from({ length: 10 }, () =>
            storage.addDevice(a.accountId, newDevice(), { maxDevices: 6, maxDeviceId: 127 }),
          ),
        );
        const added = ids.filter((i) => i !== undefined);
        expect(added).toHaveLength(5);
        expect(new Set(added).size).toBe(5);
      });

      it('removing a device removes its keys and mailbox only', async () => {
        const a = await account();
        const b = await account();
        const d2 = (await storage.addDevice(a.accountId, newDevice(), {
          maxDevices: 6,
          maxDeviceId: 127,
        }))!;
        await storage.storeKeys(
          a.accountId,
          d2,
          { preKeys: [{ keyId: 1, publicKey: ecKey() }] },
          100,
        );
        await storage.storeKeys(
          a.accountId,
          1,
          { preKeys: [{ keyId: 1, publicKey: ecKey() }] },
          100,
        );
        await storage.storeSends(
          [send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, d2, b)])],
          100,
        );
        await storage.removeDevice(a.accountId, d2);
        expect(await storage.countOneTimeKeys(a.accountId, d2)).toEqual({ ec: 0, kyber: 0 });
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 1, kyber: 0 });
        expect(await storage.readMailbox(a.accountId, d2, 0, 10)).toEqual([]);
        expect(await storage.readMailbox(a.accountId, 1, 0, 10)).toHaveLength(1);
      });

      it('records when a device was last seen', async () => {
        const a = await account();
        await storage.touchDevice(a.accountId, 1, T0 + 1000);
        expect((await storage.getDevice(a.accountId, 1))?.lastSeenAt).toBe(T0 + 1000);
      });
    });

    describe('verification and provisioning codes', () => {
      it('counts attempts up to the maximum, then reports exhausted', async () => {
        const hash = randomBytes(32);
        await storage.putVerificationCode('n1', hash, T0 + 600_000);
        for (let i = 1; i <= 5; i++) {
          const r = await storage.beginVerificationAttempt('n1', T0, 5);
          expect(r.status).toBe('pending');
          if (r.status === 'pending') {
            expect(r.attempts).toBe(i);
            expect(Buffer.from(r.codeHash).equals(hash)).toBe(true);
          }
        }
        expect((await storage.beginVerificationAttempt('n1', T0, 5)).status).toBe('exhausted');
        // A new code starts over.
        await storage.putVerificationCode('n1', hash, T0 + 600_000);
        expect((await storage.beginVerificationAttempt('n1', T0, 5)).status).toBe('pending');
      });

      it('never grants more than the maximum to concurrent attempts', async () => {
        await storage.putVerificationCode('n2', randomBytes(32), T0 + 600_000);
        const results = await Promise.all(
          Array.from({ length: 20 }, () => storage.beginVerificationAttempt('n2', T0, 5)),
        );
        expect(results.filter((r) => r.status === 'pending')).toHaveLength(5);
      });

      it('reports expired for missing, expired and deleted codes', async () => {
        expect((await storage.beginVerificationAttempt('none', T0, 5)).status).toBe('expired');
        await storage.putVerificationCode('n3', randomBytes(32), T0 + 10);
        expect((await storage.beginVerificationAttempt('n3', T0 + 10, 5)).status).toBe('expired');
        const hash = randomBytes(32);
        await storage.putVerificationCode('n4', hash, T0 + 10);
        expect(await storage.consumeVerificationCode('n4', hash)).toBe(true);
        expect((await storage.beginVerificationAttempt('n4', T0, 5)).status).toBe('expired');
      });

      it('consumes a code once, and only the code it names', async () => {
        const first = randomBytes(32);
        const second = randomBytes(32);
        await storage.putVerificationCode('n5', first, T0 + 600_000);
        await storage.putVerificationCode('n5', second, T0 + 600_000);
        // The replaced code no longer consumes anything; the current one stays pending.
        expect(await storage.consumeVerificationCode('n5', first)).toBe(false);
        expect((await storage.beginVerificationAttempt('n5', T0, 5)).status).toBe('pending');
        const racing = await Promise.all(
          Array.from({ length: 8 }, () => storage.consumeVerificationCode('n5', second)),
        );
        expect(racing.filter((r) => r)).toHaveLength(1);
        expect((await storage.beginVerificationAttempt('n5', T0, 5)).status).toBe('expired');
        expect(await storage.consumeVerificationCode('none', second)).toBe(false);
      });

      it('hands a provisioning code out once, and not after it expired', async () => {
        const a = await account();
        await storage.putProvisioningCode('p1', a.accountId, T0 + 100);
        const both = await Promise.all([
          storage.takeProvisioningCode('p1', T0),
          storage.takeProvisioningCode('p1', T0),
        ]);
        expect(both.filter((x) => x === a.accountId)).toHaveLength(1);
        await storage.putProvisioningCode('p2', a.accountId, T0 + 100);
        expect(await storage.takeProvisioningCode('p2', T0 + 100)).toBeUndefined();
      });
    });

    describe('rate limits', () => {
      it('allows a burst, then one event per interval', async () => {
        const policy = { burst: 3, intervalMs: 1000 };
        for (let i = 0; i < 3; i++)
          expect((await storage.consumeRateLimit('b', policy, T0)).allowed).toBe(true);
        const denied = await storage.consumeRateLimit('b', policy, T0);
        expect(denied).toEqual({ allowed: false, retryAfterMs: 1000 });
        expect((await storage.consumeRateLimit('b', policy, T0 + 999)).allowed).toBe(false);
        expect((await storage.consumeRateLimit('b', policy, T0 + 1000)).allowed).toBe(true);
        expect((await storage.consumeRateLimit('b', policy, T0 + 1000)).allowed).toBe(false);
        // After a long pause the full burst is available again.
        for (let i = 0; i < 3; i++) {
          expect((await storage.consumeRateLimit('b', policy, T0 + 100_000)).allowed).toBe(true);
        }
        expect((await storage.consumeRateLimit('other', policy, T0)).allowed).toBe(true);
      });

      it('never allows more than the burst to concurrent callers', async () => {
        const policy = { burst: 10, intervalMs: DAY };
        const results = await Promise.all(
          Array.from({ length: 30 }, () => storage.consumeRateLimit('c', policy, T0)),
        );
        expect(results.filter((r) => r.allowed)).toHaveLength(10);
      });
    });

    describe('keys', () => {
      async function withKeys(ec: number, kyber: number) {
        const a = await account();
        const upload: KeyUpload = {
          signedPreKey: signed(7, ecKey()),
          lastResortKyberPreKey: signed(8, kyberKey()),
          preKeys: Array.from({ length: ec }, (_, i) => ({ keyId: 100 + i, publicKey: ecKey() })),
          kyberPreKeys: Array.from({ length: kyber }, (_, i) => signed(200 + i, kyberKey())),
        };
        expect(await storage.storeKeys(a.accountId, 1, upload, 100)).toBe('ok');
        return { a, upload };
      }

      it('replacing the identity key drops every prekey with it and writes its audit row', async () => {
        const { a } = await withKeys(3, 2);
        const other = await withKeys(1, 1);
        const identityKey = ecKey();
        const audit = [auditEvent('identity-key-changed', a.accountId, 1)];
        expect(await storage.replaceIdentityKey(a.accountId, identityKey, audit)).toBe('replaced');
        const acc = await storage.getAccount(a.accountId);
        expect(Buffer.from(acc!.identityKey).equals(Buffer.from(identityKey))).toBe(true);
        // No bundle can mix the new identity with keys signed by the old one.
        expect(await storage.takePreKeyBundle(a.accountId, 1)).toBeUndefined();
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 0, kyber: 0 });
        const exported = await storage.exportAccount(a.accountId);
        expect(exported!.devices[0]!.signedPreKey).toBeUndefined();
        expect(exported!.devices[0]!.lastResortKyberPreKey).toBeUndefined();
        expect((await storage.getDevices(a.accountId)).map((d) => d.deviceId)).toEqual([1]);
        // Another account is untouched.
        expect(await storage.countOneTimeKeys(other.a.accountId, 1)).toEqual({ ec: 1, kyber: 1 });
        expect(await storage.takePreKeyBundle(other.a.accountId, 1)).toBeDefined();
        const rows = await storage.readAuditLog(0, 10);
        expect(rows.map((r) => [r.event, r.accountId, r.deviceId, r.details])).toEqual([
          ['identity-key-changed', a.accountId, 1, null],
        ]);
        // New keys signed by the new identity are stored as usual afterwards.
        const fresh: KeyUpload = {
          signedPreKey: signed(9, ecKey()),
          lastResortKyberPreKey: signed(10, kyberKey()),
        };
        expect(await storage.storeKeys(a.accountId, 1, fresh, 100)).toBe('ok');
        expect((await storage.takePreKeyBundle(a.accountId, 1))?.signedPreKey.keyId).toBe(9);
      });

      it('does not replace the identity key while linked devices exist, nor an unknown account', async () => {
        const { a } = await withKeys(2, 1);
        const linked = await storage.addDevice(a.accountId, newDevice(), {
          maxDevices: 6,
          maxDeviceId: 127,
        });
        expect(linked).toBe(2);
        const audit = [auditEvent('identity-key-changed', a.accountId, 1)];
        expect(await storage.replaceIdentityKey(a.accountId, ecKey(), audit)).toBe(
          'linked-devices',
        );
        const acc = await storage.getAccount(a.accountId);
        expect(Buffer.from(acc!.identityKey).equals(Buffer.from(a.identityKey))).toBe(true);
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 2, kyber: 1 });
        const missing = randomUUID();
        expect(
          await storage.replaceIdentityKey(missing, ecKey(), [
            auditEvent('identity-key-changed', missing, 1),
          ]),
        ).toBe('no-account');
        expect(await storage.readAuditLog(0, 10)).toEqual([]);
      });

      it('setting the same identity key again changes nothing and writes no audit row', async () => {
        const { a } = await withKeys(1, 1);
        const same = Uint8Array.from(a.identityKey);
        expect(
          await storage.replaceIdentityKey(a.accountId, same, [
            auditEvent('identity-key-changed', a.accountId, 1),
          ]),
        ).toBe('unchanged');
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 1, kyber: 1 });
        expect(await storage.readAuditLog(0, 10)).toEqual([]);
      });

      it('stores keys, counts them and hands each one-time key out once', async () => {
        const { a, upload } = await withKeys(2, 1);
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 2, kyber: 1 });
        const first = (await storage.takePreKeyBundle(a.accountId, 1))!;
        expect(first.registrationId).toBe(1234);
        expect(first.signedPreKey.keyId).toBe(7);
        expect(
          Buffer.from(first.signedPreKey.signature).equals(
            Buffer.from(upload.signedPreKey!.signature),
          ),
        ).toBe(true);
        expect(first.preKey?.keyId).toBe(100);
        expect(first.kyberPreKey.keyId).toBe(200);
        const second = (await storage.takePreKeyBundle(a.accountId, 1))!;
        expect(second.preKey?.keyId).toBe(101);
        expect(second.kyberPreKey.keyId).toBe(8); // last resort once one-time Kyber keys ran out
        const third = (await storage.takePreKeyBundle(a.accountId, 1))!;
        expect(third.preKey).toBeUndefined();
        expect(third.kyberPreKey.keyId).toBe(8);
        expect(
          Buffer.from(third.kyberPreKey.publicKey).equals(
            Buffer.from(upload.lastResortKyberPreKey!.publicKey),
          ),
        ).toBe(true);
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 0, kyber: 0 });
      });

      it('gives concurrent fetchers distinct one-time keys', async () => {
        const { a } = await withKeys(20, 20);
        const bundles = await Promise.all(
          Array.from({ length: 30 }, () => storage.takePreKeyBundle(a.accountId, 1)),
        );
        const ec = bundles.map((b) => b!.preKey?.keyId).filter((k) => k !== undefined);
        const kyber = bundles.map((b) => b!.kyberPreKey.keyId).filter((k) => k !== 8);
        expect(ec).toHaveLength(20);
        expect(new Set(ec).size).toBe(20);
        expect(kyber).toHaveLength(20);
        expect(new Set(kyber).size).toBe(20);
      });

      it('has no bundle without both the signed and the last-resort key', async () => {
        const a = await account();
        expect(await storage.takePreKeyBundle(a.accountId, 1)).toBeUndefined();
        await storage.storeKeys(a.accountId, 1, { signedPreKey: signed(1, ecKey()) }, 100);
        expect(await storage.takePreKeyBundle(a.accountId, 1)).toBeUndefined();
        await storage.storeKeys(
          a.accountId,
          1,
          { lastResortKyberPreKey: signed(2, kyberKey()) },
          100,
        );
        expect(await storage.takePreKeyBundle(a.accountId, 1)).toBeDefined();
        expect(await storage.takePreKeyBundle(a.accountId, 9)).toBeUndefined();
      });

      it('replaces signed keys, overwrites one-time ids and refuses to exceed the limit', async () => {
        const { a } = await withKeys(3, 0);
        const newSigned = signed(70, ecKey());
        const replacement = { keyId: 100, publicKey: ecKey() };
        await storage.storeKeys(
          a.accountId,
          1,
          { signedPreKey: newSigned, preKeys: [replacement] },
          100,
        );
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 3, kyber: 0 });
        const b = (await storage.takePreKeyBundle(a.accountId, 1))!;
        expect(b.signedPreKey.keyId).toBe(70);
        expect(Buffer.from(b.preKey!.publicKey).equals(Buffer.from(replacement.publicKey))).toBe(
          true,
        );
        const tooMany = Array.from({ length: 4 }, (_, i) => ({
          keyId: 500 + i,
          publicKey: ecKey(),
        }));
        expect(
          await storage.storeKeys(
            a.accountId,
            1,
            { signedPreKey: signed(71, ecKey()), preKeys: tooMany },
            5,
          ),
        ).toBe('full');
        // Nothing of a refused upload was stored.
        expect(await storage.countOneTimeKeys(a.accountId, 1)).toEqual({ ec: 2, kyber: 0 });
        expect((await storage.takePreKeyBundle(a.accountId, 1))!.signedPreKey.keyId).toBe(70);
      });
    });

    describe('mailboxes', () => {
      it('stores envelopes and reads them back oldest first, in pages', async () => {
        const a = await account();
        const b = await account();
        const sent = Array.from({ length: 5 }, () => envelope(a.accountId, 1, b));
        const outcomes = await storage.storeSends(
          sent.map((e) => send(b, [e])),
          100,
        );
        expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('stored'));
        const page1 = await storage.readMailbox(a.accountId, 1, 0, 3);
        expect(page1.map((e) => e.guid)).toEqual(sent.slice(0, 3).map((e) => e.guid));
        const page2 = await storage.readMailbox(a.accountId, 1, page1[2]!.position, 3);
        expect(page2.map((e) => e.guid)).toEqual(sent.slice(3).map((e) => e.guid));
        const e0 = page1[0]!;
        expect(Buffer.from(e0.content).equals(Buffer.from(sent[0]!.content))).toBe(true);
        expect([e0.sourceAccountId, e0.sourceDeviceId, e0.type, e0.serverTimestamp]).toEqual([
          b.accountId,
          1,
          1,
          T0,
        ]);
        expect(await storage.mailboxSize(a.accountId, 1)).toBe(5);
      });

      it('stores a client message id once, across batches and within one', async () => {
        const a = await account();
        const b = await account();
        const id = randomBytes(16).toString('base64url');
        const [first] = await storage.storeSends(
          [send(b, [envelope(a.accountId, 1, b)], id, T0)],
          100,
        );
        expect(first!.status).toBe('stored');
        const again = await storage.storeSends(
          [
            send(b, [envelope(a.accountId, 1, b)], id, T0 + 5),
            send(b, [envelope(a.accountId, 1, b)], id, T0 + 6),
          ],
          100,
        );
        expect(again).toEqual([
          { status: 'duplicate', serverTimestamp: T0 },
          { status: 'duplicate', serverTimestamp: T0 },
        ]);
        const inOne = randomBytes(16).toString('base64url');
        const batch = await storage.storeSends(
          [
            send(b, [envelope(a.accountId, 1, b)], inOne, T0 + 7),
            send(b, [envelope(a.accountId, 1, b)], inOne, T0 + 8),
          ],
          100,
        );
        expect(batch).toEqual([
          { status: 'stored' },
          { status: 'duplicate', serverTimestamp: T0 + 7 },
        ]);
        // The same id from another device is a different message.
        const other = await storage.storeSends(
          [send({ accountId: b.accountId, deviceId: 2 }, [envelope(a.accountId, 1, b)], id)],
          100,
        );
        expect(other[0]!.status).toBe('stored');
        expect(await storage.mailboxSize(a.accountId, 1)).toBe(3);
      });

      it('refuses sends to a full mailbox and accepts them again after acks', async () => {
        const a = await account();
        const b = await account();
        const first = await storage.storeSends(
          Array.from({ length: 4 }, () => send(b, [envelope(a.accountId, 1, b)])),
          3,
        );
        expect(first.map((o) => o.status)).toEqual(['stored', 'stored', 'stored', 'mailbox-full']);
        expect(first[3]).toEqual({ status: 'mailbox-full', deviceIds: [1] });
        const stored = await storage.readMailbox(a.accountId, 1, 0, 10);
        expect(
          await storage.deleteEnvelopes([
            { accountId: a.accountId, deviceId: 1, guids: [stored[0]!.guid] },
          ]),
        ).toBe(1);
        const again = await storage.storeSends([send(b, [envelope(a.accountId, 1, b)])], 3);
        expect(again[0]!.status).toBe('stored');
      });

      it('deletes only the acknowledging device’s envelopes', async () => {
        const a = await account();
        const b = await account();
        const forA = envelope(a.accountId, 1, b);
        const forB = envelope(b.accountId, 1, a);
        await storage.storeSends([send(b, [forA]), send(a, [forB])], 100);
        // b cannot delete a's envelope by naming its guid.
        expect(
          await storage.deleteEnvelopes([
            { accountId: b.accountId, deviceId: 1, guids: [forA.guid] },
          ]),
        ).toBe(0);
        expect(
          await storage.deleteEnvelopes([
            { accountId: a.accountId, deviceId: 1, guids: [forA.guid, randomUUID()] },
          ]),
        ).toBe(1);
        expect(
          await storage.deleteEnvelopes([
            { accountId: a.accountId, deviceId: 1, guids: [forA.guid] },
          ]),
        ).toBe(0);
        expect(await storage.readMailbox(a.accountId, 1, 0, 10)).toEqual([]);
        expect(await storage.readMailbox(b.accountId, 1, 0, 10)).toHaveLength(1);
      });

      it('checks the device list inside the transaction and stores nothing on a mismatch', async () => {
        const a = await account();
        const b = await account();
        const d2 = (await storage.addDevice(a.accountId, newDevice(77), {
          maxDevices: 6,
          maxDeviceId: 127,
        }))!;
        const out = await storage.storeSends(
          [
            send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, 5, b)]),
            send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, d2, b, T0, 76)]),
            send(b, [envelope(randomUUID(), 1, b)]),
            send(b, [envelope(a.accountId, 1, b), envelope(a.accountId, d2, b, T0, 77)]),
          ],
          100,
        );
        expect(out).toEqual([
          { status: 'mismatched-devices', missingDevices: [d2], extraDevices: [5] },
          { status: 'stale-devices', staleDevices: [d2] },
          { status: 'unknown-recipient' },
          { status: 'stored' },
        ]);
        expect(await storage.mailboxSize(a.accountId, 1)).toBe(1);
        expect(await storage.mailboxSize(a.accountId, d2)).toBe(1);
        // Writing to one's own account: every other device, never the sending one.
        const own = await storage.storeSends(
          [
            send({ accountId: a.accountId, deviceId: 1 }, [envelope(a.accountId, d2, a, T0, 77)]),
            send({ accountId: a.accountId, deviceId: 1 }, [
              envelope(a.accountId, 1, a),
              envelope(a.accountId, d2, a, T0, 77),
            ]),
          ],
          100,
        );
        expect(own).toEqual([
          { status: 'stored' },
          { status: 'mismatched-devices', missingDevices: [], extraDevices: [1] },
        ]);
      });

      it('stores a large batch in one call', async () => {
        const a = await account();
        const b = await account();
        const sends = Array.from({ length: 1200 }, () => send(b, [envelope(a.accountId, 1, b)]));
        const out = await storage.storeSends(sends, 10_000);
        expect(out.every((o) => o.status === 'stored')).toBe(true);
        expect(await storage.mailboxSize(a.accountId, 1)).toBe(1200);
        const guids = (await storage.readMailbox(a.accountId, 1, 0, 2000)).map((e) => e.guid);
        expect(
          await storage.deleteEnvelopes([{ accountId: a.accountId, deviceId: 1, guids }]),
        ).toBe(1200);
      });
    });

    describe('mailbox batches (one group commit)', () => {
      it('deletes the acknowledged envelopes, then stores the sends, in one call', async () => {
        const a = await account();
        const b = await account();
        // a's mailbox holds 3 of 3: full, until the acknowledgements of the same batch free it.
        const stored = Array.from({ length: 3 }, () => envelope(a.accountId, 1, b));
        await storage.storeSends(
          stored.map((e) => send(b, [e])),
          3,
        );
        const incoming = envelope(a.accountId, 1, b);
        const forB = envelope(b.accountId, 1, a);
        const result = await storage.commitMailboxBatch(
          [send(b, [incoming]), send(a, [forB])],
          [
            { accountId: a.accountId, deviceId: 1, guids: [stored[0]!.guid, stored[1]!.guid] },
            // Not a's to delete: ignored.
            { accountId: b.accountId, deviceId: 1, guids: [stored[2]!.guid] },
          ],
          3,
        );
        expect(result).toEqual({
          outcomes: [{ status: 'stored' }, { status: 'stored' }],
          deleted: 2,
        });
        expect((await storage.readMailbox(a.accountId, 1, 0, 10)).map((e) => e.guid)).toEqual([
          stored[2]!.guid,
          incoming.guid,
        ]);
        expect(await storage.mailboxSize(b.accountId, 1)).toBe(1);
        expect(await storage.commitMailboxBatch([], [], 3)).toEqual({ outcomes: [], deleted: 0 });
      });

      it('answers every send of a batch to many recipients, as storeSends does', async () => {
        const sender = await account();
        const recipients = await Promise.all(Array.from({ length: 70 }, () => account()));
        const unknown = randomUUID();
        const sends = recipients.flatMap((r, i) => [
          send(sender, [envelope(r.accountId, 1, sender)]),
          ...(i % 10 === 0 ? [send(sender, [envelope(unknown, 1, sender)])] : []),
        ]);
        const { outcomes } = await storage.commitMailboxBatch(sends, [], 100);
        expect(outcomes.map((o) => o.status)).toEqual(
          sends.map((s) => (s.recipientAccountId === unknown ? 'unknown-recipient' : 'stored')),
        );
        for (const r of recipients) expect(await storage.mailboxSize(r.accountId, 1)).toBe(1);
      });
    });

    describe('audit rows travel with their change', () => {
      /** An event whose row cannot be built: appending it throws inside the transaction. */
      function poisoned(accountId: string): AuditEventInput {
        return {
          ...auditEvent('device-added', accountId, 2),
          details: {
            get poison(): number {
              throw new Error('audit row refused');
            },
          },
        };
      }
      const events = async () => (await storage.readAuditLog(0, 100)).map((r) => r.event);

      it('writes each change with its rows, in one chain', async () => {
        const a = await account();
        const aid = a.accountId;
        const linked = await storage.addDevice(
          aid,
          newDevice(),
          { maxDevices: 6, maxDeviceId: 127 },
          (id) => [auditEvent('device-added', aid, id)],
        );
        expect(linked).toBe(2);
        await storage.storeKeys(aid, 1, { signedPreKey: signed(1, ecKey()) }, 100, [
          auditEvent('keys-replaced', aid, 1),
        ]);
        await storage.setRegistrationLock(aid, { tokenHash: randomBytes(32), setAt: T0 }, [
          auditEvent('registration-lock-set', aid, 1),
        ]);
        await storage.setRegistrationLock(aid, null, [
          auditEvent('registration-lock-removed', aid, 1),
        ]);
        await storage.removeDevice(aid, 2, [auditEvent('device-removed', aid, 2)]);
        let removedSeen: readonly number[] = [];
        await storage.replaceAccountDevices(aid, ecKey(), newDevice(), (removed) => {
          removedSeen = removed;
          return [auditEvent('account-reregistered', aid, 1, { removedDevices: removed.length })];
        });
        expect(removedSeen).toEqual([1]);
        await storage.deleteAccount(aid, [auditEvent('account-deleted', aid, null)]);
        expect(await events()).toEqual([
          'device-added',
          'keys-replaced',
          'registration-lock-set',
          'registration-lock-removed',
          'device-removed',
          'account-reregistered',
          'account-deleted',
        ]);
        const rows = await storage.readAuditLog(0, 100);
        expect(rows[0]!.deviceId).toBe(2);
        expect(rows[5]!.details).toEqual({ removedDevices: 1 });
        expect(await verifyAuditLog(storage)).toMatchObject({ ok: true, rows: 7 });
      });

      it('writes no row when nothing changed', async () => {
        const a = await account();
        const aid = a.accountId;
        const limits = { maxDevices: 1, maxDeviceId: 127 };
        expect(
          await storage.addDevice(aid, newDevice(), limits, (id) => [
            auditEvent('device-added', aid, id),
          ]),
        ).toBeUndefined();
        expect(await storage.removeDevice(aid, 9, [auditEvent('device-removed', aid, 9)])).toBe(
          false,
        );
        const tooMany = { preKeys: [1, 2, 3].map((keyId) => ({ keyId, publicKey: ecKey() })) };
        expect(
          await storage.storeKeys(aid, 1, tooMany, 2, [auditEvent('keys-replaced', aid, 1)]),
        ).toBe('full');
        await storage.setRegistrationLock(randomUUID(), null, [
          auditEvent('registration-lock-removed', null, null),
        ]);
        expect(await events()).toEqual([]);
      });

      it('rolls the change back when its audit row cannot be written', async () => {
        const a = await account();
        const aid = a.accountId;
        const refused = /audit row refused/;
        const newId = randomUUID();
        await expect(
          storage.createAccount(
            { accountId: newId, number: '+14155550188', identityKey: ecKey(), createdAt: T0 },
            newDevice(),
            [poisoned(newId)],
          ),
        ).rejects.toThrow(refused);
        expect(await storage.getAccount(newId)).toBeUndefined();
        await expect(
          storage.addDevice(aid, newDevice(), { maxDevices: 6, maxDeviceId: 127 }, () => [
            poisoned(aid),
          ]),
        ).rejects.toThrow(refused);
        await expect(
          storage.storeKeys(aid, 1, { signedPreKey: signed(7, ecKey()) }, 100, [poisoned(aid)]),
        ).rejects.toThrow(refused);
        await expect(
          storage.setRegistrationLock(aid, { tokenHash: randomBytes(32), setAt: T0 }, [
            poisoned(aid),
          ]),
        ).rejects.toThrow(refused);
        await expect(
          storage.replaceAccountDevices(aid, ecKey(), newDevice(555), () => [poisoned(aid)]),
        ).rejects.toThrow(refused);
        await expect(storage.deleteAccount(aid, [poisoned(aid)])).rejects.toThrow(refused);
        // Nothing of any of those changes is visible.
        const devices = await storage.getDevices(aid);
        expect(devices.map((d) => [d.deviceId, d.registrationId])).toEqual([[1, 1234]]);
        const acc = await storage.getAccount(aid);
        expect(acc?.registrationLock).toBeNull();
        expect(Buffer.from(acc!.identityKey).equals(Buffer.from(a.identityKey))).toBe(true);
        expect((await storage.exportAccount(aid))!.devices[0]!.signedPreKey).toBeUndefined();
        const d2 = await storage.addDevice(aid, newDevice(), { maxDevices: 6, maxDeviceId: 127 });
        await expect(storage.removeDevice(aid, d2!, [poisoned(aid)])).rejects.toThrow(refused);
        expect((await storage.getDevices(aid)).map((d) => d.deviceId)).toEqual([1, 2]);
        expect(await events()).toEqual([]);
        expect(await verifyAuditLog(storage)).toMatchObject({ ok: true, rows: 0 });
      });
    });

    describe('audit log', () => {
      it('chains appended events and verifies', async () => {
        await storage.appendAuditEvents([
          {
            at: T0,
            event: 'account-registered',
            accountId: randomUUID(),
            deviceId: 1,
            details: null,
          },
          {
            at: T0 + 1,
            event: 'device-added',
            accountId: randomUUID(),
            deviceId: 2,
            details: { b: 1, a: 'x' },
          },
        ]);
        await storage.appendAuditEvents([
          {
            at: T0 + 2,
            event: 'keys-replaced',
            accountId: null,
            deviceId: null,
            details: { kind: 'signed' },
          },
        ]);
        const rows = await storage.readAuditLog(0, 10);
        expect(rows.map((r) => [r.seq, r.event])).toEqual([
          [1, 'account-registered'],
          [2, 'device-added'],
          [3, 'keys-replaced'],
        ]);
        expect(rows[1]!.details).toEqual({ a: 'x', b: 1 });
        const v = await verifyAuditLog(storage, 2);
        expect(v.ok).toBe(true);
        if (v.ok) expect(v.rows).toBe(3);
      });

      it('never forks the chain under concurrent appends', async () => {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            storage.appendAuditEvents([
              { at: T0 + i, event: 'device-added', accountId: null, deviceId: null, details: null },
            ]),
          ),
        );
        const v = await verifyAuditLog(storage);
        expect(v).toMatchObject({ ok: true, rows: 20 });
      });
    });

    describe('export', () => {
      it('returns the account, devices, keys, pending envelopes, sent ids, attachments and audit events', async () => {
        const a = await account('+14155550142');
        const b = await account();
        await storage.storeKeys(
          a.accountId,
          1,
          {
            signedPreKey: signed(1, ecKey()),
            lastResortKyberPreKey: signed(2, kyberKey()),
            preKeys: [{ keyId: 3, publicKey: ecKey() }],
            kyberPreKeys: [signed(4, kyberKey())],
          },
          100,
        );
        const e = envelope(a.accountId, 1, b);
        await storage.storeSends([send(b, [e])], 100);
        const cmid = randomBytes(16).toString('base64url');
        await storage.storeSends([send(a, [envelope(b.accountId, 1, a)], cmid)], 100);
        await storage.putAttachment({
          attachmentId: 'x',
          accountId: a.accountId,
          size: 9,
          createdAt: T0,
        });
        await storage.appendAuditEvents([
          {
            at: T0,
            event: 'account-registered',
            accountId: a.accountId,
            deviceId: 1,
            details: null,
          },
        ]);
        await storage.appendAuditEvents([
          {
            at: T0,
            event: 'account-registered',
            accountId: b.accountId,
            deviceId: 1,
            details: null,
          },
        ]);
        const x = (await storage.exportAccount(a.accountId))!;
        expect(x.account.number).toBe('+14155550142');
        expect(x.devices).toHaveLength(1);
        expect(x.devices[0]!.signedPreKey?.keyId).toBe(1);
        expect(x.devices[0]!.lastResortKyberPreKey?.keyId).toBe(2);
        expect(x.devices[0]!.oneTimePreKeys.map((k) => k.keyId)).toEqual([3]);
        expect(x.devices[0]!.oneTimeKyberPreKeys.map((k) => k.keyId)).toEqual([4]);
        expect(x.pendingEnvelopes).toEqual([
          {
            guid: e.guid,
            accountId: a.accountId,
            deviceId: 1,
            serverTimestamp: T0,
            sourceAccountId: b.accountId,
            sourceDeviceId: 1,
            type: 1,
            size: e.content.length,
          },
        ]);
        expect(x.sentMessageIds).toEqual([{ deviceId: 1, clientMessageId: cmid, createdAt: T0 }]);
        expect(x.attachments).toEqual([
          { attachmentId: 'x', accountId: a.accountId, size: 9, createdAt: T0 },
        ]);
        expect(x.auditEvents.map((r) => r.accountId)).toEqual([a.accountId]);
      });
    });

    describe('backups', () => {
      const keep5 = { keep: 5, quotaBytes: 1_000 };
      const backup = (accountId: string, name: string, size: number, createdAt = T0) => ({
        accountId,
        name,
        blobId: `blob-${randomBytes(8).toString('hex')}`,
        size,
        createdAt,
      });

      it('names the attachment and backup blobs no row points at', async () => {
        const a = await account();
        const kept = backup(a.accountId, 'kept', 10);
        await storage.commitBackup(kept, keep5);
        const attachmentId = `att-${randomBytes(8).toString('hex')}`;
        await storage.putAttachment({
          attachmentId,
          accountId: a.accountId,
          size: 1,
          createdAt: T0,
        });
        const orphan = `blob-${randomBytes(8).toString('hex')}`;
        expect(
          await storage.unreferencedBlobs('backup', [kept.blobId, orphan, attachmentId]),
        ).toEqual([orphan, attachmentId]);
        expect(
          await storage.unreferencedBlobs('attachment', [kept.blobId, orphan, attachmentId]),
        ).toEqual([kept.blobId, orphan]);
        expect(await storage.unreferencedBlobs('backup', [])).toEqual([]);
        // More ids than one lookup query takes.
        const many = Array.from({ length: 1_234 }, (_, i) => `many-${i}`);
        expect(await storage.unreferencedBlobs('backup', [...many, kept.blobId])).toEqual(many);
      });

      it('stores, lists by name, replaces by name and deletes, with audit rows', async () => {
        const a = await account();
        const b1 = backup(a.accountId, 'b', 10);
        const a1 = backup(a.accountId, 'a', 20);
        expect(await storage.commitBackup(b1, keep5)).toEqual({
          status: 'stored',
          obsoleteBlobIds: [],
        });
        await storage.commitBackup(a1, keep5);
        expect((await storage.listBackups(a.accountId)).map((r) => r.name)).toEqual(['a', 'b']);
        expect(await storage.getBackup(a.accountId, 'a')).toEqual(a1);
        const b2 = backup(a.accountId, 'b', 30, T0 + 1);
        const replaced = await storage.commitBackup(b2, keep5, (change) => [
          auditEvent('backup-stored', a.accountId, 1, { size: 30, ...change }),
        ]);
        expect(replaced).toEqual({ status: 'stored', obsoleteBlobIds: [b1.blobId] });
        expect(await storage.getBackup(a.accountId, 'b')).toEqual(b2);
        expect(
          await storage.deleteBackup(a.accountId, 'a', [
            auditEvent('backup-deleted', a.accountId, 1),
          ]),
        ).toBe(a1.blobId);
        expect(
          await storage.deleteBackup(a.accountId, 'a', [
            auditEvent('backup-deleted', a.accountId, 1),
          ]),
        ).toBeUndefined();
        expect(await storage.listBackups(a.accountId)).toEqual([b2]);
        const audit = await storage.readAuditLog(0, 10);
        expect(audit.map((r) => [r.event, r.details])).toEqual([
          ['backup-stored', { size: 30, replaced: true, pruned: 0 }],
          ['backup-deleted', null],
        ]);
      });

      it('keeps the newest backups up to the retention count', async () => {
        const a = await account();
        const made = [];
        for (let i = 0; i < 4; i++) {
          const r = backup(a.accountId, `n${i}`, 1, T0 + i);
          made.push(r);
          await storage.commitBackup(r, { keep: 3, quotaBytes: 1_000 });
        }
        expect((await storage.listBackups(a.accountId)).map((r) => r.name)).toEqual([
          'n1',
          'n2',
          'n3',
        ]);
        // Same time: the larger name counts as newer.
        const tie = backup(a.accountId, 'm', 1, T0 + 3);
        const r = await storage.commitBackup(tie, { keep: 3, quotaBytes: 1_000 });
        expect(r).toEqual({ status: 'stored', obsoleteBlobIds: [made[1]!.blobId] });
        expect((await storage.listBackups(a.accountId)).map((b) => b.name)).toEqual([
          'm',
          'n2',
          'n3',
        ]);
      });

      it('refuses a backup the kept ones leave no room for, writing nothing', async () => {
        const a = await account();
        await storage.commitBackup(backup(a.accountId, 'old', 600, T0), {
          keep: 2,
          quotaBytes: 1_000,
        });
        await storage.commitBackup(backup(a.accountId, 'mid', 300, T0 + 1), {
          keep: 2,
          quotaBytes: 1_000,
        });
        const before = await storage.listBackups(a.accountId);
        expect(
          await storage.commitBackup(backup(a.accountId, 'big', 800, T0 + 2), {
            keep: 2,
            quotaBytes: 1_000,
          }),
        ).toEqual({ status: 'quota-exceeded' });
        expect(await storage.listBackups(a.accountId)).toEqual(before);
        // The oldest one is dropped by retention, so it does not count against the quota.
        expect(
          (
            await storage.commitBackup(backup(a.accountId, 'new', 700, T0 + 3), {
              keep: 2,
              quotaBytes: 1_000,
            })
          ).status,
        ).toBe('stored');
        expect((await storage.listBackups(a.accountId)).map((b) => b.name)).toEqual(['mid', 'new']);
      });

      it('never lets concurrent commits exceed the quota', async () => {
        const a = await account();
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            storage.commitBackup(backup(a.accountId, `c${i}`, 400, T0 + i), {
              keep: 10,
              quotaBytes: 1_000,
            }),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'stored')).toHaveLength(2);
        const total = (await storage.listBackups(a.accountId)).reduce((n, b) => n + b.size, 0);
        expect(total).toBe(800);
      });

      it('keeps accounts apart, refuses a deleted account, and erases with the account', async () => {
        const a = await account();
        const b = await account();
        const mine = backup(a.accountId, 'same', 5);
        const theirs = backup(b.accountId, 'same', 7);
        await storage.commitBackup(mine, keep5);
        await storage.commitBackup(theirs, keep5);
        expect(await storage.getBackup(b.accountId, 'same')).toEqual(theirs);
        expect(await storage.deleteBackup(a.accountId, 'nothing')).toBeUndefined();
        expect((await storage.exportAccount(a.accountId))!.backups).toEqual([mine]);
        const { backupBlobIds } = await storage.deleteAccount(a.accountId);
        expect(backupBlobIds).toEqual([mine.blobId]);
        expect(await storage.listBackups(a.accountId)).toEqual([]);
        expect(await storage.commitBackup(backup(a.accountId, 'late', 1), keep5)).toEqual({
          status: 'no-account',
        });
        expect(await storage.listBackups(a.accountId)).toEqual([]);
        expect(await storage.listBackups(b.accountId)).toEqual([theirs]);
      });
    });

    describe('sweep', () => {
      it('removes what expired, keeps the rest, fixes mailbox counts and moves the audit anchor', async () => {
        const a = await account();
        const b = await account();
        const old = envelope(a.accountId, 1, b, T0);
        const fresh = envelope(a.accountId, 1, b, T0 + 20 * DAY);
        await storage.storeSends(
          [send(b, [old], undefined, T0), send(b, [fresh], undefined, T0 + 20 * DAY)],
          2,
        );
        await storage.putVerificationCode('old', randomBytes(32), T0 + 1);
        await storage.putVerificationCode('new', randomBytes(32), T0 + 40 * DAY);
        await storage.putProvisioningCode('old', a.accountId, T0 + 1);
        await storage.consumeRateLimit('r', { burst: 1, intervalMs: 1 }, T0);
        await storage.putAttachment({
          attachmentId: 'old',
          accountId: a.accountId,
          size: 1,
          createdAt: T0,
        });
        await storage.putAttachment({
          attachmentId: 'new',
          accountId: a.accountId,
          size: 1,
          createdAt: T0 + 20 * DAY,
        });
        await storage.appendAuditEvents([
          { at: T0, event: 'device-added', accountId: null, deviceId: null, details: null },
          { at: T0 + 1, event: 'device-added', accountId: null, deviceId: null, details: null },
          {
            at: T0 + 20 * DAY,
            event: 'device-added',
            accountId: null,
            deviceId: null,
            details: null,
          },
        ]);
        const now = T0 + 31 * DAY;
        const r = await storage.sweep({
          now,
          envelopesBefore: now - 30 * DAY,
          sentMessageIdsBefore: now - 30 * DAY,
          attachmentsBefore: now - 30 * DAY,
          auditBefore: now - 30 * DAY,
        });
        expect(r).toEqual({
          envelopes: 1,
          sentMessageIds: 1,
          verificationCodes: 1,
          provisioningCodes: 1,
          rateLimits: 1,
          auditRows: 2,
          attachmentIds: ['old'],
        });
        expect((await storage.readMailbox(a.accountId, 1, 0, 10)).map((e) => e.guid)).toEqual([
          fresh.guid,
        ]);
        // The count was corrected: a mailbox limited to 2 accepts one more.
        const more = await storage.storeSends([send(b, [envelope(a.accountId, 1, b)])], 2);
        expect(more[0]!.status).toBe('stored');
        expect((await storage.beginVerificationAttempt('new', now, 5)).status).toBe('pending');
        expect((await storage.auditAnchor()).seq).toBe(2);
        expect(await verifyAuditLog(storage)).toMatchObject({ ok: true, rows: 1 });
        expect(await storage.getAttachment('new')).toBeDefined();
      });
    });
  });
}
