/**
 * End-to-end: the two-step PIN (registration lock) — set, re-registration refused without it,
 * recovered through a PIN vault, changed, removed — and prekey upkeep: one-time prekeys refilled
 * when the relay runs low, the signed prekey rotated on schedule while messages made from the
 * old one still decrypt.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientError,
  limits,
  registrationLockToken,
  type ClientEvent,
  type PinVault,
} from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';
import {
  newClient,
  newNumber,
  rawAccount,
  rawFetchBundle,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

/** Stands in for the guess-limited key vault: releases the master key for the right PIN only. */
class TestVault implements PinVault {
  pin: string | null = null;
  key: Uint8Array | null = null;
  store(pin: string, masterKey: Uint8Array): Promise<void> {
    this.pin = pin;
    this.key = masterKey.slice();
    return Promise.resolve();
  }
  recover(pin: string): Promise<Uint8Array> {
    if (this.pin === null || pin !== this.pin || this.key === null)
      return Promise.reject(new Error('wrong PIN'));
    return Promise.resolve(this.key.slice());
  }
  remove(): Promise<void> {
    this.pin = this.key = null;
    return Promise.resolve();
  }
}

describe('account security and key upkeep through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('derives the lock token as HMAC-SHA256(masterKey, "Registration Lock")', () => {
    const key = new Uint8Array(32).map((_, i) => i * 7);
    const expected = createHmac('sha256', key).update('Registration Lock').digest();
    expect(Buffer.from(registrationLockToken(key)).equals(expected)).toBe(true);
  });

  it('sets, proves, changes and removes the registration lock', async () => {
    const vault = new TestVault();
    const number = newNumber();
    const first = await registeredClient(relay, { number, pinVault: vault });
    const firstEvents = record(first.client);
    await expect(first.client.setPin('12')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await first.client.setPin('1234');
    expect(await first.client.registrationLockEnabled()).toBe(true);
    expect((await first.client.serverAccount()).registrationLock).toBe(true);
    expect(vault.pin).toBe('1234');

    // A new phone without the PIN: refused, and told how long the lock still holds.
    await (await newClient(relay)).requestCode(number);
    const code = await relay.process.codeFor(number);
    const stranger = await newClient(relay, { pinVault: vault });
    const refused = await stranger.register({ number, code }).catch((e: unknown) => e);
    expect(ClientError.is(refused, 'REGISTRATION_LOCKED')).toBe(true);
    expect(
      ((refused as ClientError).details as { timeRemainingMs: number }).timeRemainingMs,
    ).toBeGreaterThan(0);
    // A wrong PIN does not unlock the master key.
    await expect(stranger.register({ number, code, pin: '9999' })).rejects.toMatchObject({
      code: 'PIN_NOT_RECOVERABLE',
    });
    expect(stranger.account).toBeNull();
    // Without a vault a PIN cannot help at all.
    const noVault = await newClient(relay);
    await expect(noVault.register({ number, code, pin: '1234' })).rejects.toMatchObject({
      code: 'PIN_NOT_RECOVERABLE',
    });

    // The right PIN recovers the master key and re-registers; the lock stays on.
    const second = await newClient(relay, { pinVault: vault });
    const info = await second.register({ number, code, pin: '1234' });
    expect(info.accountId).toBe(first.accountId);
    expect(await second.registrationLockEnabled()).toBe(true);
    expect((await second.serverAccount()).registrationLock).toBe(true);
    // The old device was removed by the re-registration and learns it.
    await until(
      () =>
        firstEvents.some((e: ClientEvent) => e.type === 'connection' && e.state === 'deregistered'),
      20_000,
      'old device deregistered',
    );

    await second.connect();
    await second.changePin('abcd-efgh');
    expect(vault.pin).toBe('abcd-efgh');
    expect((await second.serverAccount()).registrationLock).toBe(true);
    await second.removePin();
    expect(await second.registrationLockEnabled()).toBe(false);
    expect((await second.serverAccount()).registrationLock).toBe(false);
    expect(vault.pin).toBeNull();
    await expect(second.changePin('1111')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    // Unlocked: a third phone registers with the SMS code alone.
    const third = await newClient(relay);
    await third.requestCode(number);
    const code3 = await relay.process.codeFor(number);
    expect(code3).not.toBe(code);
    expect((await third.register({ number, code: code3 })).accountId).toBe(first.accountId);
    await first.client.close();
    await second.close();
    await third.close();
  }, 60_000);

  it('refills one-time prekeys when the relay runs low, by itself after a PreKey message', async () => {
    const b = await registeredClient(relay, { preKeyBatchSize: limits.PREKEY_BATCH_SIZE });
    const start = await b.client.keyStatus();
    expect(start).toMatchObject({
      ecCount: limits.PREKEY_BATCH_SIZE,
      kyberCount: limits.PREKEY_BATCH_SIZE,
    });
    const taker = await rawAccount(relay);
    const take = limits.PREKEY_BATCH_SIZE - limits.PREKEY_LOW_WATER_MARK + 1;
    for (let i = 0; i < take; i++) await rawFetchBundle(relay, taker, b.accountId);
    const low = await b.client.keyStatus();
    expect(low.ecCount).toBe(limits.PREKEY_LOW_WATER_MARK - 1);
    expect(low.kyberCount).toBe(limits.PREKEY_LOW_WATER_MARK - 1);

    // A contact's first message consumes one more key and prompts the refill.
    const a = await registeredClient(relay);
    await a.client.send(b.accountId, 'hi');
    await b.client.waitFor('message');
    await until(
      async () => (await b.client.keyStatus()).ecCount > limits.PREKEY_LOW_WATER_MARK,
      20_000,
      'refill',
    );
    const after = await b.client.keyStatus();
    expect(after.ecCount).toBe(limits.PREKEY_LOW_WATER_MARK - 2 + limits.PREKEY_BATCH_SIZE);
    expect(after.kyberCount).toBe(limits.PREKEY_LOW_WATER_MARK - 2 + limits.PREKEY_BATCH_SIZE);
    // Nothing more happens while the count is healthy.
    await b.client.maintainKeys();
    expect((await b.client.keyStatus()).ecCount).toBe(after.ecCount);
    await a.client.close();
    await b.client.close();
  }, 60_000);

  it('rotates the signed prekey on schedule and still decrypts messages made from the old one', async () => {
    let clock = Date.now();
    const now = () => clock;
    const store = createMemoryClientStore();
    const b = await registeredClient(relay, { store, now });
    const before = await b.client.keyStatus();
    const taker = await rawAccount(relay);
    expect((await rawFetchBundle(relay, taker, b.accountId)).devices[0]!.signedPreKey.keyId).toBe(
      before.signedPreKeyId,
    );
    await b.client.close();

    // A writes while B is offline: its PreKey message uses B's current (soon old) signed prekey.
    const a = await registeredClient(relay);
    await a.client.send(b.accountId, 'made from the old signed prekey');
    await a.client.flush();

    clock += limits.SIGNED_PREKEY_ROTATION_MS + 1000;
    const b2 = await newClient(relay, { store, now });
    const events = record(b2);
    await b2.connect();
    await until(() => events.some((e) => e.type === 'message'), 20_000, 'old-bundle message');
    await until(
      async () => (await b2.keyStatus()).signedPreKeyId !== before.signedPreKeyId,
      20_000,
      'rotation',
    );
    const rotated = await b2.keyStatus();
    expect(rotated.rotatedAt).toBe(clock);
    expect(rotated.lastResortKyberPreKeyId).not.toBe(before.lastResortKyberPreKeyId);
    expect((await rawFetchBundle(relay, taker, b.accountId)).devices[0]!.signedPreKey.keyId).toBe(
      rotated.signedPreKeyId,
    );
    // Not due again yet.
    await b2.maintainKeys();
    expect((await b2.keyStatus()).signedPreKeyId).toBe(rotated.signedPreKeyId);
    // A new contact's session uses the new signed prekey.
    const c = await registeredClient(relay);
    await c.client.send(b.accountId, 'made from the new signed prekey');
    await until(
      () => events.filter((e) => e.type === 'message').length === 2,
      20_000,
      'new-bundle message',
    );
    expect(events.filter((e) => e.type === 'problem')).toEqual([]);
    await a.client.close();
    await b2.close();
    await c.client.close();
  }, 60_000);
});
