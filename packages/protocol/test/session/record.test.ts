/**
 * Session records and the store-based API rules (shared/specs/signal-wire.md §2.4, §3.2):
 * archiving (40 states), promotion by base key, unacknowledged-session expiry with the injected
 * clock, trust on first use, receiver-chain eviction, storage format checks.
 */
import { describe, expect, it } from 'vitest';
import {
  IdentityKey,
  KeyPair,
  ProtocolError,
  SessionRecord,
  deserializeSessionState,
  processPreKeyBundle,
  serializeSessionState,
  signalDecrypt,
  signalEncrypt,
  type CiphertextMessage,
} from '../../src/index.js';
import {
  ARCHIVED_STATES_MAX_LENGTH,
  MAX_RECEIVER_CHAINS,
  MAX_UNACKNOWLEDGED_SESSION_AGE_MS,
} from '../../src/limits.js';
import {
  InMemoryProtocolStores,
  bundleFor,
  generatePreKeys,
  seededRng,
} from '../../src/testing.js';
import {
  ALICE,
  BOB,
  decrypt,
  encrypt,
  establishedPair,
  newPair,
  recordBytes,
  roundTrip,
  str,
  text,
} from './helpers.js';

const isCode = (code: Parameters<typeof ProtocolError.is>[1]) => (e: unknown) =>
  ProtocolError.is(e, code);

describe('unacknowledged sessions', () => {
  it('keep wrapping in PreKey messages until a reply decrypts, and expire after 30 days', async () => {
    const pair = await newPair('expiry');
    const m1 = await encrypt(pair, pair.alice, pair.bob, 'one');
    pair.now += MAX_UNACKNOWLEDGED_SESSION_AGE_MS;
    const m2 = await encrypt(pair, pair.alice, pair.bob, 'two');
    expect([m1.type, m2.type]).toEqual(['prekey', 'prekey']);
    const record = (await pair.alice.stores.sessionStore.getSession(BOB))!;
    expect(record.hasCurrentState(pair.now)).toBe(true);
    pair.now += 1;
    expect(record.hasCurrentState(pair.now)).toBe(false);
    await expect(encrypt(pair, pair.alice, pair.bob, 'three')).rejects.toSatisfy(
      isCode('SESSION_EXPIRED'),
    );
    // Bob can still answer the old messages, and once Alice reads the answer the session lives on.
    expect(str(await decrypt(pair, pair.alice, pair.bob, m2))).toBe('two');
    await roundTrip(pair, pair.bob, pair.alice, 'answer');
    expect((await encrypt(pair, pair.alice, pair.bob, 'four')).type).toBe('whisper');
  });
});

describe('identity trust', () => {
  it('a changed identity is UNTRUSTED_IDENTITY for sending until the store trusts it', async () => {
    const pair = await establishedPair('trust');
    const other = new IdentityKey(KeyPair.generate(pair.rng).publicKey);
    await pair.alice.stores.identityStore.saveIdentity(BOB, other);
    const before = await recordBytes(pair.alice, pair.bob);
    await expect(encrypt(pair, pair.alice, pair.bob, 'x')).rejects.toSatisfy(
      isCode('UNTRUSTED_IDENTITY'),
    );
    expect(await recordBytes(pair.alice, pair.bob)).toEqual(before);
    // Receiving from Bob is refused the same way, without consuming anything.
    const fromBob = await encrypt(pair, pair.bob, pair.alice, 'y');
    await expect(decrypt(pair, pair.bob, pair.alice, fromBob)).rejects.toSatisfy(
      isCode('UNTRUSTED_IDENTITY'),
    );
    expect(await recordBytes(pair.alice, pair.bob)).toEqual(before);
    // The user accepts Bob's real key again.
    const record = (await pair.alice.stores.sessionStore.getSession(BOB))!;
    expect(
      await pair.alice.stores.identityStore.saveIdentity(BOB, record.current!.remoteIdentity),
    ).toBe('replaced-existing');
    expect(str(await decrypt(pair, pair.bob, pair.alice, fromBob))).toBe('y');
    await roundTrip(pair, pair.alice, pair.bob, 'z');
  });

  it('a bundle from a new identity for a known address is refused', async () => {
    const pair = await establishedPair('trust-bundle');
    const rng = pair.rng;
    const impostor = InMemoryProtocolStores.generate(rng);
    const keys = await generatePreKeys(
      impostor,
      { preKeyId: 1, signedPreKeyId: 2, kyberPreKeyId: 3 },
      rng,
    );
    await expect(
      processPreKeyBundle(bundleFor(impostor, 1, keys), BOB, ALICE, pair.alice.stores, {
        rng,
        now: 0,
      }),
    ).rejects.toSatisfy(isCode('UNTRUSTED_IDENTITY'));
  });
});

describe('API misuse and missing state', () => {
  it('NO_SESSION without a session, INVALID_ADDRESS for bad addresses', async () => {
    const rng = seededRng('misuse');
    const stores = InMemoryProtocolStores.generate(rng);
    await expect(signalEncrypt(text('x'), BOB, ALICE, stores, { rng, now: 0 })).rejects.toSatisfy(
      isCode('NO_SESSION'),
    );
    const pair = await establishedPair('misuse-2');
    const m = await encrypt(pair, pair.alice, pair.bob, 'x');
    await expect(signalDecrypt(m.body, BOB, ALICE, stores, { rng })).rejects.toSatisfy(
      isCode('NO_SESSION'),
    );
    for (const bad of [
      { name: '', deviceId: 1 },
      { name: 'x', deviceId: 0 },
      { name: 'x', deviceId: 128 },
      { name: 'x', deviceId: 1.5 },
    ]) {
      await expect(signalEncrypt(text('x'), bad, ALICE, stores, { rng, now: 0 })).rejects.toSatisfy(
        isCode('INVALID_ADDRESS'),
      );
    }
  });

  it('a last-resort Kyber prekey refuses the same base key twice (KYBER_PREKEY_REUSED)', async () => {
    const rng = seededRng('last-resort');
    const alice = InMemoryProtocolStores.generate(rng);
    const bob = InMemoryProtocolStores.generate(rng);
    const keys = await generatePreKeys(bob, { signedPreKeyId: 2, kyberPreKeyId: 3 }, rng, {
      oneTime: false,
      lastResortKyber: true,
    });
    await processPreKeyBundle(bundleFor(bob, 1, keys), BOB, ALICE, alice, { rng, now: 0 });
    const m = await signalEncrypt(text('x'), BOB, ALICE, alice, { rng, now: 0 });
    const pair = {
      alice: { stores: alice, address: ALICE },
      bob: { stores: bob, address: BOB },
      rng,
      now: 0,
    };
    expect(str(await decrypt(pair, pair.alice, pair.bob, m))).toBe('x');
    expect(await bob.kyberPreKeyStore.getKyberPreKey(3)).not.toBeNull();
    // Bob loses his session (e.g. restored from an old backup); the replay must not start one.
    await bob.sessionStore.saveSession(ALICE, SessionRecord.newFresh());
    await expect(decrypt(pair, pair.alice, pair.bob, m)).rejects.toSatisfy(
      isCode('KYBER_PREKEY_REUSED'),
    );
  });
});

describe('records', () => {
  it('archive at most 40 states and promote the one matching a repeated PreKey message', async () => {
    const rng = seededRng('archive');
    const alice = InMemoryProtocolStores.generate(rng);
    const bob = InMemoryProtocolStores.generate(rng);
    const pair = {
      alice: { stores: alice, address: ALICE },
      bob: { stores: bob, address: BOB },
      rng,
      now: 0,
    };
    const firsts: CiphertextMessage[] = [];
    for (let i = 0; i < ARCHIVED_STATES_MAX_LENGTH + 3; i++) {
      const keys = await generatePreKeys(
        bob,
        { preKeyId: 100 + i, signedPreKeyId: 2, kyberPreKeyId: 200 + i },
        rng,
      );
      await processPreKeyBundle(bundleFor(bob, 1, keys), BOB, ALICE, alice, { rng, now: 0 });
      const m = await encrypt(pair, pair.alice, pair.bob, `session ${i}`);
      firsts.push(m);
      expect(str(await decrypt(pair, pair.alice, pair.bob, m))).toBe(`session ${i}`);
    }
    const record = (await bob.sessionStore.getSession(ALICE))!;
    expect(record.previous.length).toBe(ARCHIVED_STATES_MAX_LENGTH);
    expect((await alice.sessionStore.getSession(BOB))!.previous.length).toBe(
      ARCHIVED_STATES_MAX_LENGTH,
    );
    // A repeat of an archived session's PreKey message promotes it (duplicate, but current now).
    await expect(decrypt(pair, pair.alice, pair.bob, firsts[10]!)).rejects.toSatisfy(
      isCode('DUPLICATE_MESSAGE'),
    );
    // Bob answers on the newest session; Alice finds it among her archived states.
    await roundTrip(pair, pair.bob, pair.alice, 'answer on the newest');
  });

  it('serialise and deserialise exactly, and refuse anything else with INVALID_STATE', async () => {
    const pair = await establishedPair('serialise');
    for (let i = 0; i < 5; i++) await encrypt(pair, pair.alice, pair.bob, `skip ${i}`);
    await roundTrip(pair, pair.alice, pair.bob, 'after a gap');
    const bytes = await recordBytes(pair.bob, pair.alice);
    expect(SessionRecord.deserialize(bytes).serialize()).toEqual(bytes);
    const state = (await pair.bob.stores.sessionStore.getSession(ALICE))!.current!;
    expect(serializeSessionState(deserializeSessionState(serializeSessionState(state)))).toEqual(
      serializeSessionState(state),
    );
    expect(state.receivers.at(-1)!.skipped.size).toBe(5);

    const bad = (b: Uint8Array): void => {
      try {
        SessionRecord.deserialize(b);
      } catch (e) {
        expect(ProtocolError.is(e, 'INVALID_STATE'), String(e)).toBe(true);
        return;
      }
      throw new Error('accepted a bad record');
    };
    bad(new Uint8Array(0));
    bad(Uint8Array.of(2, ...bytes.subarray(1)));
    // (A lone format byte is a valid, empty record.)
    expect(SessionRecord.deserialize(Uint8Array.of(1)).current).toBeNull();
    for (let cut = 2; cut < bytes.length; cut += Math.ceil(bytes.length / 60))
      bad(bytes.subarray(0, cut));
    const rng = seededRng('garbage');
    for (let i = 0; i < 100; i++) bad(Uint8Array.of(1, ...rng(1 + (i % 200))));
  });

  it('evict the oldest of more than 5 receiver chains, together with its skipped keys', async () => {
    const pair = await establishedPair('chains');
    const held: CiphertextMessage[] = [];
    for (let i = 0; i < MAX_RECEIVER_CHAINS + 1; i++) {
      held.push(await encrypt(pair, pair.alice, pair.bob, `held ${i}`));
      await roundTrip(pair, pair.alice, pair.bob, `chain ${i}`);
      await roundTrip(pair, pair.bob, pair.alice, `turn ${i}`);
    }
    const record = (await pair.bob.stores.sessionStore.getSession(ALICE))!;
    expect(record.current!.receivers.length).toBe(MAX_RECEIVER_CHAINS);
    // The held message of the evicted (oldest) chain no longer decrypts; the next ones do.
    await expect(decrypt(pair, pair.alice, pair.bob, held[0]!)).rejects.toSatisfy((e) =>
      ProtocolError.is(e),
    );
    for (let i = 1; i < held.length; i++)
      expect(str(await decrypt(pair, pair.alice, pair.bob, held[i]!))).toBe(`held ${i}`);
  });
});
