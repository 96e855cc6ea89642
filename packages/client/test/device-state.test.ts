/**
 * The device state and its unit of work (state/device-state.ts): all-or-nothing commits, the
 * cache never ahead of the store, trust on first use with identity-change notices, and
 * last-resort Kyber prekey reuse detection.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '@sotto/crypto';
import {
  IdentityKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  ProtocolError,
  SessionRecord,
} from '@sotto/protocol';
import type { ClientStore } from '../src/index.js';
import { sottoSessionEngine } from '../src/session-engine.js';
import { DeviceState } from '../src/state/device-state.js';
import { NS } from '../src/state/namespaces.js';
import { createMemoryClientStore } from '../src/testing/index.js';

const ME = '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d';
const BOB = '11111111-2222-4333-8444-555555555555';

function newState(store: ClientStore = createMemoryClientStore()) {
  const identity = IdentityKeyPair.generate(randomBytes);
  const state = new DeviceState(store, sottoSessionEngine, () => 1_750_000_000_000);
  state.setLocal({ accountId: ME, deviceId: 1, identity, registrationId: 42 });
  return { state, store, identity };
}

/** A store whose transactions fail at the commit point (after every write was issued). */
function failingStore(): ClientStore & { fail: boolean } {
  const inner = createMemoryClientStore();
  const store = {
    fail: false,
    get: inner.get.bind(inner),
    list: inner.list.bind(inner),
    put: inner.put.bind(inner),
    delete: inner.delete.bind(inner),
    close: inner.close.bind(inner),
    transaction: <T>(fn: Parameters<ClientStore['transaction']>[0]) =>
      inner.transaction(async (tx) => {
        const r = await fn(tx);
        if (store.fail) throw new Error('disk full');
        return r as T;
      }),
  };
  return store;
}

describe('StateTransaction', () => {
  it('writes sessions, trust, prekeys and raw records in one store transaction', async () => {
    const { state, store } = newState();
    const tx = state.begin();
    const record = SessionRecord.newFresh();
    tx.putSession({ name: BOB, deviceId: 1 }, record);
    await tx.recordChangedIdentity(BOB, Uint8Array.of(5, ...randomBytes(32)));
    const pk = PreKeyRecord.generate(7, randomBytes);
    tx.putPreKey(pk);
    tx.put('custom', 'k', Uint8Array.of(1));
    expect(await tx.get('custom', 'k')).toEqual(Uint8Array.of(1));
    expect(await store.get('custom', 'k')).toBeUndefined();
    await tx.commit();
    expect(await store.get('custom', 'k')).toEqual(Uint8Array.of(1));
    expect(await store.get(NS.sessions, `${BOB}.1`)).toBeDefined();
    expect(await store.get(NS.identities, BOB)).toBeDefined();
    expect(await state.begin().getPreKey(7)).toBe(pk); // the cached live object
  });

  it('changes nothing — store or cache — when the commit fails', async () => {
    const store = failingStore();
    const { state } = newState(store);
    const address = { name: BOB, deviceId: 1 };
    const before = state.begin();
    expect(await before.getSession(address)).toBeNull(); // cached as absent
    store.fail = true;
    const tx = state.begin();
    tx.putSession(address, SessionRecord.newFresh());
    tx.put('custom', 'k', Uint8Array.of(1));
    let ran = false;
    tx.afterCommit(() => (ran = true));
    await expect(tx.commit()).rejects.toThrow('disk full');
    expect(ran).toBe(false);
    expect(await state.begin().getSession(address)).toBeNull();
    expect(await store.get(NS.sessions, `${BOB}.1`)).toBeUndefined();
    expect(await store.get('custom', 'k')).toBeUndefined();
  });

  it('reads a record written by another state over the same store once not cached', async () => {
    const { state, store, identity } = newState();
    const other = new DeviceState(store, sottoSessionEngine, () => 0);
    other.setLocal({ accountId: ME, deviceId: 1, identity, registrationId: 42 });
    const tx = other.begin();
    tx.putPreKey(PreKeyRecord.generate(9, randomBytes));
    await tx.commit();
    const loaded = await state.begin().getPreKey(9);
    expect(loaded?.id).toBe(9);
  });
});

describe('trust on first use', () => {
  const address = { name: BOB, deviceId: 1 };
  const keyOf = () => IdentityKeyPair.generate(randomBytes).identityKey;

  it('trusts the first key, then only that key for sending; any key for receiving', async () => {
    const { state } = newState();
    const first = keyOf();
    const second = keyOf();
    const tx = state.begin();
    const id = tx.engineStores().identity;
    expect(await id.isTrustedIdentity(address, first, 'sending')).toBe(true);
    expect(await id.saveIdentity(address, first)).toBe('new-or-unchanged');
    expect(tx.identityChanges).toEqual([]);
    expect(await id.isTrustedIdentity(address, first, 'sending')).toBe(true);
    expect(await id.isTrustedIdentity(address, second, 'sending')).toBe(false);
    expect(await id.isTrustedIdentity(address, second, 'receiving')).toBe(true);

    // A message arrives with a new key: recorded, not accepted, reported once.
    expect(await id.saveIdentity(address, second)).toBe('replaced-existing');
    expect(await id.saveIdentity(address, second)).toBe('new-or-unchanged');
    expect(tx.identityChanges).toHaveLength(1);
    expect(tx.identityChanges[0]).toMatchObject({ contact: BOB, wasVerified: false });
    expect(
      Buffer.from(tx.identityChanges[0]!.previousKey!).equals(Buffer.from(first.serialize())),
    ).toBe(true);
    // Not accepted yet: sending is refused even with the recorded key.
    expect(await id.isTrustedIdentity(address, second, 'sending')).toBe(false);
    const trust = await tx.getTrust(BOB);
    expect(trust).toMatchObject({ accepted: false, verified: false });
    expect((await id.getIdentity(address))?.equals(second)).toBe(true);
  });

  it('keeps the last accepted key as "previous" across several unaccepted changes', async () => {
    const { state } = newState();
    const [k1, k2, k3] = [keyOf(), keyOf(), keyOf()];
    const tx = state.begin();
    const id = tx.engineStores().identity;
    await id.saveIdentity(address, k1);
    tx.putTrust(BOB, { ...(await tx.getTrust(BOB))!, verified: true });
    await id.saveIdentity(address, k2);
    await id.saveIdentity(address, k3);
    expect(tx.identityChanges).toHaveLength(2);
    expect(tx.identityChanges[1]!.wasVerified).toBe(true);
    expect(
      Buffer.from(tx.identityChanges[1]!.previousKey!).equals(Buffer.from(k1.serialize())),
    ).toBe(true);
  });

  it('accepts only its own identity key for its own other devices', async () => {
    const { state, identity } = newState();
    const id = state.begin().engineStores().identity;
    const own = { name: ME, deviceId: 2 };
    expect(await id.isTrustedIdentity(own, identity.identityKey, 'sending')).toBe(true);
    expect(await id.isTrustedIdentity(own, keyOf(), 'receiving')).toBe(false);
    expect(await id.isTrustedIdentity(own, keyOf(), 'sending')).toBe(false);
  });
});

describe('Kyber prekeys', () => {
  it('deletes a used one-time key and refuses a reused last-resort combination', async () => {
    const { state, identity } = newState();
    const oneTime = KyberPreKeyRecord.generate(1, identity, 0, randomBytes);
    const lastResort = KyberPreKeyRecord.generate(2, identity, 0, randomBytes, {
      lastResort: true,
    });
    const setup = state.begin();
    setup.putKyberPreKey(oneTime);
    setup.putKyberPreKey(lastResort);
    await setup.commit();
    const base = IdentityKeyPair.generate(randomBytes).publicKey;
    const tx = state.begin();
    const kyber = tx.engineStores().kyberPreKeys;
    await kyber.markKyberPreKeyUsed(1, 10, base);
    expect(await tx.getKyberPreKey(1)).toBeNull();
    await kyber.markKyberPreKeyUsed(2, 10, base);
    await kyber.markKyberPreKeyUsed(2, 11, base); // another signed prekey: allowed
    await tx.commit();
    const again = state.begin().engineStores().kyberPreKeys;
    const err = await again.markKyberPreKeyUsed(2, 10, base).catch((e: unknown) => e);
    expect(ProtocolError.is(err, 'KYBER_PREKEY_REUSED')).toBe(true);
    expect(await state.begin().getKyberPreKey(2)).not.toBeNull();
  });
});
