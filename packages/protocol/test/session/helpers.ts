/**
 * Helpers for the session-layer tests: two in-memory parties with UUID addresses, a session
 * between them, and send/receive shortcuts over the public store API.
 */
import {
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type CiphertextMessage,
  type ProtocolAddress,
  type Rng,
} from '../../src/index.js';
import {
  InMemoryProtocolStores,
  bundleFor,
  generatePreKeys,
  seededRng,
} from '../../src/testing.js';

export const ALICE: ProtocolAddress = { name: '9d0652a3-dcc3-4d11-975f-74d61598733f', deviceId: 1 };
export const BOB: ProtocolAddress = { name: '796abedb-ca4e-4f18-8803-1fde5b921f9f', deviceId: 1 };

export interface Party {
  readonly stores: InMemoryProtocolStores;
  readonly address: ProtocolAddress;
}

export interface Pair {
  readonly alice: Party;
  readonly bob: Party;
  readonly rng: Rng;
  now: number;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Alice has processed Bob's bundle; nothing has been sent yet. */
export async function newPair(
  seed: string | number,
  options: { oneTime?: boolean } = {},
): Promise<Pair> {
  const rng = seededRng(seed);
  const alice = { stores: InMemoryProtocolStores.generate(rng), address: ALICE };
  const bob = { stores: InMemoryProtocolStores.generate(rng), address: BOB };
  const keys = await generatePreKeys(
    bob.stores,
    { preKeyId: 1, signedPreKeyId: 2, kyberPreKeyId: 3 },
    rng,
    {
      oneTime: options.oneTime ?? true,
    },
  );
  const pair: Pair = { alice, bob, rng, now: 1_700_000_000_000 };
  await processPreKeyBundle(bundleFor(bob.stores, 1, keys), BOB, ALICE, alice.stores, {
    rng,
    now: pair.now,
  });
  return pair;
}

export function encrypt(
  pair: Pair,
  from: Party,
  to: Party,
  plaintext: string,
): Promise<CiphertextMessage> {
  return signalEncrypt(text(plaintext), to.address, from.address, from.stores, {
    rng: pair.rng,
    now: pair.now,
  });
}

export function decrypt(
  pair: Pair,
  from: Party,
  to: Party,
  message: CiphertextMessage,
): Promise<Uint8Array> {
  return message.type === 'prekey'
    ? signalDecryptPreKey(message.body, from.address, to.address, to.stores, { rng: pair.rng })
    : signalDecrypt(message.body, from.address, to.address, to.stores, { rng: pair.rng });
}

/** Encrypts and decrypts one message, checking the plaintext. */
export async function roundTrip(
  pair: Pair,
  from: Party,
  to: Party,
  plaintext: string,
): Promise<CiphertextMessage> {
  const m = await encrypt(pair, from, to, plaintext);
  const got = str(await decrypt(pair, from, to, m));
  if (got !== plaintext) throw new Error(`expected ${plaintext}, got ${got}`);
  return m;
}

/** A session where both sides have sent and received (no more PreKey wrapping). */
export async function establishedPair(seed: string | number): Promise<Pair> {
  const pair = await newPair(seed);
  await roundTrip(pair, pair.alice, pair.bob, 'hello');
  await roundTrip(pair, pair.bob, pair.alice, 'hi');
  return pair;
}

/** The serialised session record `party` holds for `peer` (for byte-identity checks). */
export async function recordBytes(party: Party, peer: Party): Promise<Uint8Array> {
  const record = await party.stores.sessionStore.getSession(peer.address);
  if (record === null) throw new Error('no session');
  return record.serialize();
}
