/**
 * Known-answer tests from shared/specs/signal-vectors.json: a real libsignal 0.103 session in
 * which Alice (libsignal) sent three PreKeySignalMessages to Bob, with every intermediate value.
 * Bob's keys are loaded into Sotto's stores; each intermediate is recomputed with Sotto's own
 * functions and compared, then the messages are decrypted through the public store API.
 */
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import {
  IdentityKey,
  IdentityKeyPair,
  KemKeyPair,
  KemPublicKey,
  KemSecretKey,
  KeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  PublicKey,
  SignedPreKeyRecord,
  parsePreKeySignalMessage,
  signalDecryptPreKey,
  signalEncrypt,
  ProtocolError,
} from '../src/index.js';
import {
  ChainKey,
  MessageKeys,
  RootKey,
  computeSignalMessageMac,
  deriveHandshakeKeys,
  pqxdhAcceptSecrets,
} from '../src/hazmat.js';
import { spqrInitialState, spqrRecv, type SpqrState } from '../src/spqr/index.js';
import { readVarint } from '../src/wire/protobuf.js';
import { InMemoryProtocolStores, seededRng } from '../src/testing.js';

interface VectorMessage {
  preKeySignalMessage: string;
  expectedPlaintext: string;
  counter: number;
  chainKey: string;
  messageKeySeed_HMAC_ck_01: string;
  spqr: { epoch: number; index: number; type: number; chunkIndex: number; spqrMessageKey: string };
  cipherKey: string;
  macKey: string;
  iv: string;
  mac: string;
}

interface Vectors {
  note: string;
  bob: Record<string, string | number>;
  alice: Record<string, string | number>;
  pqxdh: {
    dh1_SPKb_IKa: string;
    dh2_IKb_EKa: string;
    dh3_SPKb_EKa: string;
    dh4_OPKb_EKa: string;
    kyberCiphertext: string;
    kyberSharedSecret: string;
    rootKey: string;
    chainKey: string;
    pqrKey: string;
  };
  firstReceiveStep: { dh_SPKb_ratchetA: string; rootKey: string; receiverChainKey: string };
  messages: VectorMessage[];
}

const V = JSON.parse(
  readFileSync(new URL('../../../test-vectors/signal-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (key: string, from: Record<string, string | number>): Uint8Array =>
  fromHex(from[key] as string);
const num = (key: string, from: Record<string, string | number>): number => from[key] as number;

const ALICE = { name: '9d0652a3-dcc3-4d11-975f-74d61598733f', deviceId: 1 };
const BOB = { name: '796abedb-ca4e-4f18-8803-1fde5b921f9f', deviceId: 1 };

function bobKeys(): {
  identity: IdentityKeyPair;
  preKey: PreKeyRecord;
  signedPreKey: SignedPreKeyRecord;
  kyberPreKey: KyberPreKeyRecord;
} {
  const b = V.bob;
  const identity = IdentityKeyPair.fromPrivateKey(
    PrivateKey.deserialize(hex('identityPrivate', b)),
  );
  const preKey = new PreKeyRecord(
    num('preKeyId', b),
    new KeyPair(
      PublicKey.deserialize(hex('preKeyPublic', b)),
      PrivateKey.deserialize(hex('preKeyPrivate', b)),
    ),
  );
  const signedPreKey = new SignedPreKeyRecord(
    num('signedPreKeyId', b),
    0,
    new KeyPair(
      PublicKey.deserialize(hex('signedPreKeyPublic', b)),
      PrivateKey.deserialize(hex('signedPreKeyPrivate', b)),
    ),
    hex('signedPreKeySignature', b),
  );
  const kyberPreKey = new KyberPreKeyRecord(
    num('kyberPreKeyId', b),
    0,
    new KemKeyPair(
      KemPublicKey.deserialize(hex('kyberPreKeyPublic', b)),
      KemSecretKey.deserialize(hex('kyberPreKeySecret', b)),
    ),
    hex('kyberPreKeySignature', b),
  );
  return { identity, preKey, signedPreKey, kyberPreKey };
}

async function bobStores(): Promise<InMemoryProtocolStores> {
  const keys = bobKeys();
  const stores = new InMemoryProtocolStores(keys.identity, num('registrationId', V.bob));
  await stores.preKeyStore.savePreKey(keys.preKey.id, keys.preKey);
  await stores.signedPreKeyStore.saveSignedPreKey(keys.signedPreKey.id, keys.signedPreKey);
  await stores.kyberPreKeyStore.saveKyberPreKey(keys.kyberPreKey.id, keys.kyberPreKey);
  return stores;
}

/** Reads the SPQR header `0x01 ‖ varint(epoch) ‖ varint(index) ‖ type ‖ varint(chunkIndex)`. */
function spqrHeader(bytes: Uint8Array): {
  epoch: number;
  index: number;
  type: number;
  chunkIndex: number;
} {
  expect(bytes[0]).toBe(1);
  const [epoch, p1] = readVarint(bytes, 1);
  const [index, p2] = readVarint(bytes, p1);
  const type = bytes[p2]!;
  const [chunkIndex] = readVarint(bytes, p2 + 1);
  return { epoch, index, type, chunkIndex };
}

describe('signal-vectors.json (libsignal 0.103 session, Bob decrypts with Sotto)', () => {
  it('holds consistent key material: public halves, signatures, bundle ids', () => {
    const keys = bobKeys();
    expect(toHex(keys.identity.publicKey.serialize())).toBe(V.bob.identityPublic);
    expect(toHex(keys.preKey.keyPair.privateKey.publicKey.serialize())).toBe(V.bob.preKeyPublic);
    expect(toHex(keys.signedPreKey.keyPair.privateKey.publicKey.serialize())).toBe(
      V.bob.signedPreKeyPublic,
    );
    const ik = keys.identity.identityKey.publicKey;
    expect(
      ik.verifySignature(keys.signedPreKey.publicKey.serialize(), keys.signedPreKey.signature),
    ).toBe(true);
    expect(
      ik.verifySignature(keys.kyberPreKey.publicKey.serialize(), keys.kyberPreKey.signature),
    ).toBe(true);
    // The signature is over the 1569 typed bytes, not the raw 1568.
    expect(ik.verifySignature(keys.kyberPreKey.publicKey.raw, keys.kyberPreKey.signature)).toBe(
      false,
    );
  });

  it('parses the PreKeySignalMessage fields libsignal wrote', () => {
    const msg = parsePreKeySignalMessage(fromHex(V.messages[0]!.preKeySignalMessage));
    expect(msg.version).toBe(4);
    expect(msg.registrationId).toBe(V.alice.registrationId);
    expect(msg.preKeyId).toBe(V.bob.preKeyId);
    expect(msg.signedPreKeyId).toBe(V.bob.signedPreKeyId);
    expect(msg.kyberPreKeyId).toBe(V.bob.kyberPreKeyId);
    expect(toHex(msg.kyberCiphertext)).toBe(V.pqxdh.kyberCiphertext);
    expect(toHex(msg.baseKey.serialize())).toBe(V.alice.baseKeyPublic);
    expect(toHex(msg.identityKey.serialize())).toBe(V.alice.identityPublic);
    expect(toHex(msg.message.ratchetKey.serialize())).toBe(V.alice.ratchetKeyPublic);
    expect(msg.message.counter).toBe(0);
    // libsignal puts `addresses` into the SignalMessage inside a PreKey message.
    expect(msg.message.addresses).not.toBeNull();
  });

  it('reproduces PQXDH (dh1..dh4, Kyber secret, RK, CK, PQR) and the first receive step', () => {
    const keys = bobKeys();
    const msg = parsePreKeySignalMessage(fromHex(V.messages[0]!.preKeySignalMessage));
    const secrets = pqxdhAcceptSecrets({
      ourIdentity: keys.identity,
      ourSignedPreKey: keys.signedPreKey.keyPair,
      ourOneTimePreKey: keys.preKey.keyPair,
      ourKyberPreKey: keys.kyberPreKey.keyPair,
      theirIdentity: msg.identityKey,
      theirBaseKey: msg.baseKey,
      kyberCiphertext: msg.kyberCiphertext,
    });
    expect(secrets.dh.map(toHex)).toEqual([
      V.pqxdh.dh1_SPKb_IKa,
      V.pqxdh.dh2_IKb_EKa,
      V.pqxdh.dh3_SPKb_EKa,
      V.pqxdh.dh4_OPKb_EKa,
    ]);
    expect(toHex(secrets.kemSharedSecret)).toBe(V.pqxdh.kyberSharedSecret);
    const hs = deriveHandshakeKeys(secrets);
    expect(toHex(hs.rootKey.key)).toBe(V.pqxdh.rootKey);
    expect(toHex(hs.chainKey.key)).toBe(V.pqxdh.chainKey);
    expect(toHex(hs.pqrKey)).toBe(V.pqxdh.pqrKey);

    const dh = keys.signedPreKey.keyPair.privateKey.agree(msg.message.ratchetKey);
    expect(toHex(dh)).toBe(V.firstReceiveStep.dh_SPKb_ratchetA);
    const [rk, ck] = RootKey.kdf(hs.rootKey.key, dh);
    expect(toHex(rk.key)).toBe(V.firstReceiveStep.rootKey);
    expect(toHex(ck.key)).toBe(V.firstReceiveStep.receiverChainKey);
    // ... and the same through the RootKey/PrivateKey path used by the ratchet.
    const [rk2, ck2] = hs.rootKey.createChain(
      msg.message.ratchetKey,
      keys.signedPreKey.keyPair.privateKey,
    );
    expect(toHex(rk2.key)).toBe(V.firstReceiveStep.rootKey);
    expect(toHex(ck2.key)).toBe(V.firstReceiveStep.receiverChainKey);
  });

  it('reproduces every per-message value: chain key, seed, SPQR header and key, cipher/MAC keys, IV, MAC', () => {
    let spqr: SpqrState = spqrInitialState({ authKey: fromHex(V.pqxdh.pqrKey), direction: 'B2A' });
    let chain = new ChainKey(fromHex(V.firstReceiveStep.receiverChainKey), 0);
    const aliceIdentity = fromHex(V.alice.identityPublic as string);
    const bobIdentity = fromHex(V.bob.identityPublic as string);
    for (const m of V.messages) {
      const msg = parsePreKeySignalMessage(fromHex(m.preKeySignalMessage));
      const inner = msg.message;
      expect(inner.counter).toBe(m.counter);
      expect(chain.index).toBe(m.counter);
      expect(toHex(chain.key)).toBe(m.chainKey);
      const seed = chain.messageSeed();
      expect(toHex(seed)).toBe(m.messageKeySeed_HMAC_ck_01);

      const header = spqrHeader(inner.pqRatchet);
      expect(header).toEqual({
        epoch: m.spqr.epoch,
        index: m.spqr.index,
        type: m.spqr.type,
        chunkIndex: m.spqr.chunkIndex,
      });
      const pq = spqrRecv(spqr, inner.pqRatchet);
      spqr = pq.state;
      expect(pq.key).not.toBeNull();
      expect(toHex(pq.key!)).toBe(m.spqr.spqrMessageKey);

      const keys = MessageKeys.derive(seed, pq.key);
      expect(toHex(keys.cipherKey)).toBe(m.cipherKey);
      expect(toHex(keys.macKey)).toBe(m.macKey);
      expect(toHex(keys.iv)).toBe(m.iv);
      const body = inner.serialized;
      expect(toHex(body.subarray(body.length - 8))).toBe(m.mac);
      const mac = computeSignalMessageMac(
        keys.macKey,
        aliceIdentity,
        bobIdentity,
        body.subarray(0, body.length - 8),
      );
      expect(toHex(mac)).toBe(m.mac);
      chain = chain.next();
    }
  });

  it('decrypts all three messages through the store API and consumes the prekeys', async () => {
    const stores = await bobStores();
    const rng = seededRng('vectors');
    const used: unknown[] = [];
    const markUsed = stores.kyberPreKeyStore.markKyberPreKeyUsed.bind(stores.kyberPreKeyStore);
    stores.kyberPreKeyStore.markKyberPreKeyUsed = (id, spk, base) => {
      used.push([id, spk, toHex(base.serialize())]);
      return markUsed(id, spk, base);
    };
    for (const m of V.messages) {
      const plaintext = await signalDecryptPreKey(
        fromHex(m.preKeySignalMessage),
        ALICE,
        BOB,
        stores,
        { rng },
      );
      expect(new TextDecoder().decode(plaintext)).toBe(m.expectedPlaintext);
    }
    // Only the first message set the session up; the others matched it by base key.
    expect(used).toEqual([[V.bob.kyberPreKeyId, V.bob.signedPreKeyId, V.alice.baseKeyPublic]]);
    expect(await stores.preKeyStore.getPreKey(num('preKeyId', V.bob))).toBeNull();
    expect(await stores.kyberPreKeyStore.getKyberPreKey(num('kyberPreKeyId', V.bob))).toBeNull();
    expect((await stores.identityStore.getIdentity(ALICE))?.serialize()).toEqual(
      fromHex(V.alice.identityPublic as string),
    );

    // A replay of any of them is now a duplicate.
    for (const m of V.messages) {
      await expect(
        signalDecryptPreKey(fromHex(m.preKeySignalMessage), ALICE, BOB, stores, { rng }),
      ).rejects.toSatisfy((e) => ProtocolError.is(e, 'DUPLICATE_MESSAGE'));
    }
    // Bob can answer; his reply is a plain SignalMessage whose MAC binds both identities.
    const reply = await signalEncrypt(new TextEncoder().encode('hi'), ALICE, BOB, stores, {
      rng,
      now: 0,
    });
    expect(reply.type).toBe('whisper');
    expect(reply.body[0]).toBe(0x44);
  });

  it('rejects the vector messages with wrong addresses, a wrong identity or a missing prekey', async () => {
    const rng = seededRng('vectors-neg');
    const body = fromHex(V.messages[0]!.preKeySignalMessage);
    // Addresses swapped: the `addresses` field no longer matches.
    const s1 = await bobStores();
    await expect(signalDecryptPreKey(body, BOB, ALICE, s1, { rng })).rejects.toSatisfy((e) =>
      ProtocolError.is(e, 'ADDRESS_MISMATCH'),
    );
    // Nothing was committed: the prekeys are still there and the right addresses still work.
    expect(await s1.preKeyStore.getPreKey(num('preKeyId', V.bob))).not.toBeNull();
    await expect(signalDecryptPreKey(body, ALICE, BOB, s1, { rng })).resolves.toBeInstanceOf(
      Uint8Array,
    );

    // A different identity is already trusted for Alice's address.
    const s2 = await bobStores();
    await s2.identityStore.saveIdentity(ALICE, new IdentityKey(KeyPair.generate(rng).publicKey));
    await expect(signalDecryptPreKey(body, ALICE, BOB, s2, { rng })).rejects.toSatisfy((e) =>
      ProtocolError.is(e, 'UNTRUSTED_IDENTITY'),
    );

    // The one-time prekey is gone.
    const s3 = await bobStores();
    await s3.preKeyStore.removePreKey(num('preKeyId', V.bob));
    await expect(signalDecryptPreKey(body, ALICE, BOB, s3, { rng })).rejects.toSatisfy((e) =>
      ProtocolError.is(e, 'INVALID_PREKEY_ID'),
    );
  });
});
