/**
 * End-to-end: trust on first use, the identity-changed warning when a contact re-registers with a
 * new identity key, messages held until the user accepts, safety numbers and verification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as signal from '@signalapp/libsignal-client';
import type { ClientEvent, StoredMessage } from '@sotto/client';
import {
  newClient,
  record,
  registeredClient,
  startRelay,
  until,
  type Relay,
} from './client-support.js';

const messages = (events: ClientEvent[]) =>
  events
    .filter((e): e is Extract<ClientEvent, { type: 'message' }> => e.type === 'message')
    .map((e) => e.message);

describe('identity keys through a real relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('safety numbers agree on both sides and verification needs the matching QR payload', async () => {
    const a = await registeredClient(relay);
    const b = await registeredClient(relay);
    const bEvents = record(b.client);
    await a.client.send(b.accountId, 'first contact');
    await until(() => messages(bEvents).length === 1, 20_000, 'first message');

    const fromA = await a.client.safetyNumber(b.accountId);
    const fromB = await b.client.safetyNumber(a.accountId);
    expect(fromA.digits).toMatch(/^[0-9]{60}$/);
    expect(fromA.digits).toBe(fromB.digits);
    // The reference implementation computes the same number and QR payload from the same keys.
    const aKey = (await b.client.contact(a.accountId)).identityKey!;
    const bKey = (await a.client.contact(b.accountId)).identityKey!;
    const uuid = (id: string) => new Uint8Array(Buffer.from(id.replaceAll('-', ''), 'hex'));
    const reference = signal.Fingerprint.new(
      5200,
      2,
      uuid(a.accountId),
      signal.PublicKey.deserialize(new Uint8Array(aKey)),
      uuid(b.accountId),
      signal.PublicKey.deserialize(new Uint8Array(bKey)),
    );
    expect(fromA.digits).toBe(reference.displayableFingerprint().toString());
    expect(
      Buffer.from(fromA.qrPayload).equals(Buffer.from(reference.scannableFingerprint().toBuffer())),
    ).toBe(true);
    expect(await a.client.contact(b.accountId)).toMatchObject({
      identityState: 'trusted',
      verified: false,
    });

    // A's own QR payload is not B's: scanning it must not verify.
    expect(await a.client.verifySafetyNumber(b.accountId, fromA.qrPayload)).toBe(false);
    expect((await a.client.contact(b.accountId)).verified).toBe(false);
    expect(await a.client.verifySafetyNumber(b.accountId, fromB.qrPayload)).toBe(true);
    expect((await a.client.contact(b.accountId)).verified).toBe(true);
    await a.client.clearVerified(b.accountId);
    expect((await a.client.contact(b.accountId)).verified).toBe(false);
    await a.client.markVerified(b.accountId);
    expect((await a.client.contact(b.accountId)).verified).toBe(true);
    await a.client.close();
    await b.client.close();
  });

  it('detects C re-registering with a new key and holds messages to C until A accepts', async () => {
    const a = await registeredClient(relay);
    const c1 = await registeredClient(relay);
    const aEvents = record(a.client);
    const c1Events = record(c1.client);
    await a.client.send(c1.accountId, 'before');
    await until(() => messages(c1Events).length === 1, 20_000, 'C to receive');
    await a.client.markVerified(c1.accountId);
    const oldKey = (await a.client.contact(c1.accountId)).identityKey!;
    const oldSafety = (await a.client.safetyNumber(c1.accountId)).digits;
    await c1.client.close();

    // C re-registers the same number on a new store: a new identity key, new registration ids.
    const c2 = await registeredClient(relay, { number: c1.number });
    expect(c2.accountId).toBe(c1.accountId);
    const c2Events = record(c2.client);

    const held = await a.client.send(c1.accountId, 'after the change');
    const changed = await a.client.waitFor(
      'identity-changed',
      (e) => e.contact === c1.accountId,
      20_000,
    );
    expect(Buffer.from(changed.previousKey!).equals(Buffer.from(oldKey))).toBe(true);
    expect(Buffer.from(changed.newKey).equals(Buffer.from(oldKey))).toBe(false);
    expect(changed.wasVerified).toBe(true);
    await until(
      () =>
        aEvents.some((e) => e.type === 'message-status' && e.id === held.id && e.status === 'held'),
      20_000,
      'held status',
    );
    const contact = await a.client.contact(c1.accountId);
    expect(contact).toMatchObject({ identityState: 'changed', verified: false });
    expect(Buffer.from(contact.identityKey!).equals(Buffer.from(changed.newKey))).toBe(true);
    // The safety number changed with the key.
    expect((await a.client.safetyNumber(c1.accountId)).digits).not.toBe(oldSafety);

    // More messages queue up behind the hold; nothing reaches C meanwhile.
    const held2 = await a.client.send(c1.accountId, 'also held');
    expect(held2.status).toBe('held');
    await new Promise((r) => setTimeout(r, 1500));
    expect(messages(c2Events)).toEqual([]);
    expect(a.client.pendingSends).toBeGreaterThanOrEqual(2);

    expect(await a.client.acceptIdentityChange(c1.accountId)).toBe(true);
    expect(await a.client.acceptIdentityChange(c1.accountId)).toBe(false);
    await until(() => messages(c2Events).length === 2, 20_000, 'held messages to arrive');
    expect(messages(c2Events).map((m: StoredMessage) => m.body)).toEqual([
      'after the change',
      'also held',
    ]);
    expect((await a.client.contact(c1.accountId)).identityState).toBe('trusted');
    // The new key is what A now trusts (C's identity, checked independently of the SDK).
    const c2Key = (await c2.client.safetyNumber(a.accountId)).digits;
    expect(c2Key).toBe((await a.client.safetyNumber(c1.accountId)).digits);
    await a.client.close();
    await c2.client.close();
  }, 60_000);

  it('warns when a contact with a new key writes first, and holds replies until accepted', async () => {
    const a = await registeredClient(relay);
    const c1 = await registeredClient(relay);
    const c1Events = record(c1.client);
    await a.client.send(c1.accountId, 'hello');
    await until(() => messages(c1Events).length === 1, 20_000, 'C to receive');
    await c1.client.close();

    const c2 = await registeredClient(relay, { number: c1.number });
    const c2Events = record(c2.client);
    const aEvents = record(a.client);
    await c2.client.send(a.accountId, 'new phone, who dis');
    await until(() => messages(aEvents).length === 1, 20_000, 'A to receive from new C');
    const changed = aEvents.find((e) => e.type === 'identity-changed');
    expect(changed).toMatchObject({ contact: c1.accountId, wasVerified: false });
    // The incoming message was not lost; the reply waits for acceptance.
    expect(messages(aEvents)[0]!.body).toBe('new phone, who dis');
    const reply = await a.client.send(c1.accountId, 'reply');
    expect(reply.status).toBe('held');
    await new Promise((r) => setTimeout(r, 1000));
    expect(messages(c2Events)).toEqual([]);
    await a.client.acceptIdentityChange(c1.accountId);
    await until(() => messages(c2Events).length === 1, 20_000, 'reply to arrive');
    await a.client.close();
    await c2.client.close();
  }, 60_000);

  it('refuses to start without an account and rejects malformed arguments', async () => {
    const fresh = await newClient(relay);
    await expect(fresh.connect()).rejects.toMatchObject({ code: 'NOT_REGISTERED' });
    await expect(fresh.send('not-a-uuid', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
