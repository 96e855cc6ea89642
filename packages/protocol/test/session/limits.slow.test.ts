/**
 * The forward-jump limit at the session level (shared/specs/signal-wire.md §3.2 "Limits", §3.4):
 * 25 000 keys ahead of the last one received is accepted, 25 001 refused; a session with
 * oneself (same identity key and ServiceId on another device) has no limit. The same boundaries
 * are checked against libsignal in tests/interop/session.slow.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { IdentityKeyPair, ProtocolError, processPreKeyBundle } from '../../src/index.js';
import {
  InMemoryProtocolStores,
  bundleFor,
  generatePreKeys,
  seededRng,
} from '../../src/testing.js';
import { decrypt, encrypt, establishedPair, roundTrip, str, type Pair } from './helpers.js';

async function jump(pair: Pair, lost: number): Promise<unknown> {
  await roundTrip(pair, pair.alice, pair.bob, 'first on the new chain');
  for (let i = 0; i < lost; i++) await encrypt(pair, pair.alice, pair.bob, 'lost');
  const far = await encrypt(pair, pair.alice, pair.bob, 'far');
  try {
    return str(await decrypt(pair, pair.alice, pair.bob, far));
  } catch (e) {
    return e;
  }
}

describe('forward-jump limit', () => {
  it('accepts 24 999 lost messages and refuses 25 000', async () => {
    expect(await jump(await establishedPair('jump-ok'), 24_999)).toBe('far');
    const refused = await jump(await establishedPair('jump-too-far'), 25_000);
    expect(
      ProtocolError.is(refused, 'PQ_RATCHET') || ProtocolError.is(refused, 'MESSAGE_GAP_TOO_LARGE'),
    ).toBe(true);
  });

  it('has no limit in a session with oneself (another device of the same account)', async () => {
    const rng = seededRng('self');
    const identity = IdentityKeyPair.generate(rng);
    const name = '9d0652a3-dcc3-4d11-975f-74d61598733f';
    const alice = {
      stores: new InMemoryProtocolStores(identity, 1),
      address: { name, deviceId: 1 },
    };
    const bob = { stores: new InMemoryProtocolStores(identity, 2), address: { name, deviceId: 2 } };
    const keys = await generatePreKeys(
      bob.stores,
      { preKeyId: 1, signedPreKeyId: 2, kyberPreKeyId: 3 },
      rng,
    );
    await processPreKeyBundle(
      bundleFor(bob.stores, 2, keys),
      bob.address,
      alice.address,
      alice.stores,
      {
        rng,
        now: 0,
      },
    );
    const pair: Pair = { alice, bob, rng, now: 0 };
    await roundTrip(pair, alice, bob, 'note to self');
    await roundTrip(pair, bob, alice, 'ack');
    expect(await jump(pair, 25_100)).toBe('far');
  });
});
