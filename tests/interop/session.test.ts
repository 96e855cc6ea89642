/**
 * 1:1 session interop with @signalapp/libsignal-client 0.103.0 (shared/specs/signal-wire.md,
 * "What an interop test suite should cover", items 1–4 and 6; items 5 and long runs are in
 * session.slow.test.ts). Every scenario runs Sotto→libsignal and libsignal→Sotto; where a case
 * must be rejected, the libsignal⇄libsignal control rejects it too.
 */
import * as signal from '@signalapp/libsignal-client';
import { aes256CbcEncrypt, randomBytes, toHex } from '@sotto/crypto';
import {
  IdentityKey,
  IdentityKeyPair,
  KemKeyPair,
  KemPublicKey,
  KemSecretKey,
  KeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  ProtocolError,
  type ProtocolErrorCode,
  PublicKey,
  SessionRecord,
  SignedPreKeyRecord,
} from '@sotto/protocol';
import {
  MessageKeys,
  deriveHandshakeKeys,
  encodeSignalMessage,
  initializeAliceSession,
} from '@sotto/protocol/hazmat';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import {
  LibsignalPeer,
  PAIRINGS,
  SottoPeer,
  ab,
  connect,
  makePeer,
  newAddress,
  str,
  text,
  type Kind,
  type Peer,
  type RawBundle,
  type Wire,
} from './harness/peers.js';
import { deliver, pingPong } from './harness/scenarios.js';
import {
  getBytes,
  innerSignalMessage,
  joinPreKeyMessage,
  joinSignalMessage,
  splitPreKeyMessage,
  splitSignalMessage,
  spqrHeader,
  withBytes,
  without,
} from './harness/wire-edit.js';

const INTEROP: readonly (readonly [Kind, Kind])[] = PAIRINGS.slice(0, 2);

describe('key and signature formats (item 1)', () => {
  it('Sotto prekey records load in libsignal byte for byte, and their signatures verify there', () => {
    const identity = IdentityKeyPair.generate(randomBytes);
    const pre = PreKeyRecord.generate(7, randomBytes);
    const spk = SignedPreKeyRecord.generate(8, identity, 1_700_000_000_123, randomBytes);
    const kyber = KyberPreKeyRecord.generate(9, identity, 1_700_000_000_456, randomBytes);

    const lPre = signal.PreKeyRecord.deserialize(ab(pre.serialize()));
    expect(lPre.id()).toBe(7);
    expect(toHex(lPre.serialize())).toBe(toHex(pre.serialize()));
    expect(toHex(lPre.publicKey().serialize())).toBe(toHex(pre.publicKey.serialize()));

    const lSpk = signal.SignedPreKeyRecord.deserialize(ab(spk.serialize()));
    expect([lSpk.id(), lSpk.timestamp()]).toEqual([8, 1_700_000_000_123]);
    expect(toHex(lSpk.serialize())).toBe(toHex(spk.serialize()));

    const lKyber = signal.KyberPreKeyRecord.deserialize(ab(kyber.serialize()));
    expect([lKyber.id(), lKyber.timestamp()]).toEqual([9, 1_700_000_000_456]);
    expect(toHex(lKyber.serialize())).toBe(toHex(kyber.serialize()));
    expect(lKyber.publicKey().serialize()[0]).toBe(0x08);
    expect(lKyber.publicKey().serialize().length).toBe(1569);
    expect(lKyber.secretKey().serialize().length).toBe(3169);

    const lIdentity = signal.IdentityKeyPair.deserialize(ab(identity.serialize()));
    expect(toHex(lIdentity.serialize())).toBe(toHex(identity.serialize()));
    expect(lIdentity.publicKey.verify(ab(spk.publicKey.serialize()), ab(spk.signature))).toBe(true);
    expect(lIdentity.publicKey.verify(ab(kyber.publicKey.serialize()), ab(kyber.signature))).toBe(
      true,
    );
    // The Kyber signature covers the typed 1569 bytes, not the raw key.
    expect(lIdentity.publicKey.verify(ab(kyber.publicKey.raw), ab(kyber.signature))).toBe(false);
    // A libsignal private key built from our bytes signs for the same public key.
    const sig = lIdentity.privateKey.sign(ab(text('x')));
    expect(identity.publicKey.verifySignature(text('x'), sig)).toBe(true);
  });

  it('libsignal prekey records load in Sotto byte for byte, and their signatures verify here', () => {
    const identity = signal.IdentityKeyPair.generate();
    const ec = signal.PrivateKey.generate();
    const kem = signal.KEMKeyPair.generate();
    const pre = signal.PreKeyRecord.new(11, ec.getPublicKey(), ec);
    const spkSig = identity.privateKey.sign(ec.getPublicKey().serialize());
    const spk = signal.SignedPreKeyRecord.new(12, 1_650_000_000_000, ec.getPublicKey(), ec, spkSig);
    const kyberSig = identity.privateKey.sign(kem.getPublicKey().serialize());
    const kyber = signal.KyberPreKeyRecord.new(13, 1_650_000_000_001, kem, kyberSig);

    const sPre = PreKeyRecord.deserialize(pre.serialize());
    expect(toHex(sPre.serialize())).toBe(toHex(pre.serialize()));
    const sSpk = SignedPreKeyRecord.deserialize(spk.serialize());
    expect([sSpk.id, sSpk.timestamp]).toEqual([12, 1_650_000_000_000]);
    expect(toHex(sSpk.serialize())).toBe(toHex(spk.serialize()));
    const sKyber = KyberPreKeyRecord.deserialize(kyber.serialize());
    expect([sKyber.id, sKyber.timestamp, sKyber.lastResort]).toEqual([
      13,
      1_650_000_000_001,
      false,
    ]);
    expect(toHex(sKyber.serialize())).toBe(toHex(kyber.serialize()));

    const sIdentity = IdentityKeyPair.deserialize(identity.serialize());
    expect(toHex(sIdentity.serialize())).toBe(toHex(identity.serialize()));
    expect(sIdentity.publicKey.verifySignature(spk.publicKey().serialize(), spkSig)).toBe(true);
    expect(sIdentity.publicKey.verifySignature(kem.getPublicKey().serialize(), kyberSig)).toBe(
      true,
    );
    expect(sIdentity.publicKey.verifySignature(kem.getPublicKey().serialize(), spkSig)).toBe(false);
    // Our signatures verify in libsignal too (XEdDSA, §4).
    const ours = sIdentity.sign(text('y'), randomBytes);
    expect(identity.publicKey.verify(ab(text('y')), ab(ours))).toBe(true);
  });

  it('a last-resort Kyber record stays readable by libsignal (the extra field is ignored)', () => {
    const identity = IdentityKeyPair.generate(randomBytes);
    const kyber = KyberPreKeyRecord.generate(5, identity, 1, randomBytes, { lastResort: true });
    const back = KyberPreKeyRecord.deserialize(kyber.serialize());
    expect(back.lastResort).toBe(true);
    const l = signal.KyberPreKeyRecord.deserialize(ab(kyber.serialize()));
    expect(toHex(l.publicKey().serialize())).toBe(toHex(kyber.publicKey.serialize()));
  });

  it('both refuse KEM keys of another type (ML-KEM-1024 0x0A, Kyber768 0x07) or length', () => {
    const kem = KemKeyPair.generate(randomBytes);
    for (const type of [0x0a, 0x07, 0x05]) {
      const pk = Uint8Array.from(kem.publicKey.serialize());
      pk[0] = type;
      expect(() => signal.KEMPublicKey.deserialize(ab(pk))).toThrow();
      expect(() => KemPublicKey.deserialize(pk)).toThrow(ProtocolError);
    }
    const short = kem.publicKey.serialize().subarray(0, 1568);
    expect(() => signal.KEMPublicKey.deserialize(ab(short))).toThrow();
    expect(() => KemPublicKey.deserialize(short)).toThrow(ProtocolError);
    const sk = kem.secretKey.serialize();
    sk[0] = 0x0a;
    expect(() => signal.KEMSecretKey.deserialize(ab(sk))).toThrow();
    expect(() => KemSecretKey.deserialize(sk)).toThrow(ProtocolError);
    // EC keys: 0x05‖32, trailing bytes tolerated by both, wrong type refused by both.
    const ec = KeyPair.generate(randomBytes).publicKey.serialize();
    const longer = Uint8Array.from([...ec, 1, 2]);
    expect(toHex(signal.PublicKey.deserialize(ab(longer)).serialize())).toBe(toHex(ec));
    expect(toHex(PublicKey.deserialize(longer).serialize())).toBe(toHex(ec));
    const wrong = Uint8Array.from(ec);
    wrong[0] = 0x06;
    expect(() => signal.PublicKey.deserialize(ab(wrong))).toThrow();
    expect(() => PublicKey.deserialize(wrong)).toThrow(ProtocolError);
  });

  it('libsignal decrypts with Sotto-generated prekey records, and Sotto with libsignal-generated ones', async () => {
    // libsignal as receiver, holding records Sotto generated (signal-wire.md §1.3).
    const sIdentity = IdentityKeyPair.generate(randomBytes);
    const pre = PreKeyRecord.generate(21, randomBytes);
    const spk = SignedPreKeyRecord.generate(22, sIdentity, 0, randomBytes);
    const kyber = KyberPreKeyRecord.generate(23, sIdentity, 0, randomBytes);
    const receiver = new LibsignalPeer({
      identity: signal.IdentityKeyPair.deserialize(ab(sIdentity.serialize())),
    });
    receiver.preKeys.keys.set(21, signal.PreKeyRecord.deserialize(ab(pre.serialize())));
    receiver.signedPreKeys.keys.set(22, signal.SignedPreKeyRecord.deserialize(ab(spk.serialize())));
    receiver.kyberPreKeys.keys.set(23, signal.KyberPreKeyRecord.deserialize(ab(kyber.serialize())));
    const sender = new SottoPeer();
    const bundle: RawBundle = {
      registrationId: receiver.registrationId,
      deviceId: 1,
      preKeyId: 21,
      preKey: pre.publicKey.serialize(),
      signedPreKeyId: 22,
      signedPreKey: spk.publicKey.serialize(),
      signedPreKeySignature: spk.signature,
      identityKey: sIdentity.publicKey.serialize(),
      kyberPreKeyId: 23,
      kyberPreKey: kyber.publicKey.serialize(),
      kyberPreKeySignature: kyber.signature,
    };
    await sender.startSession(receiver.address, bundle);
    await deliver(sender, receiver, 'to libsignal, with keys Sotto made');
    await deliver(receiver, sender, 'and back');

    // Sotto as receiver, holding records libsignal generated.
    const lIdentity = signal.IdentityKeyPair.generate();
    const ec = signal.PrivateKey.generate();
    const ec2 = signal.PrivateKey.generate();
    const kem = signal.KEMKeyPair.generate();
    const lPre = signal.PreKeyRecord.new(31, ec.getPublicKey(), ec);
    const lSpk = signal.SignedPreKeyRecord.new(
      32,
      0,
      ec2.getPublicKey(),
      ec2,
      lIdentity.privateKey.sign(ec2.getPublicKey().serialize()),
    );
    const lKyber = signal.KyberPreKeyRecord.new(
      33,
      0,
      kem,
      lIdentity.privateKey.sign(kem.getPublicKey().serialize()),
    );
    const sottoReceiver = new SottoPeer({
      identity: IdentityKeyPair.deserialize(lIdentity.serialize()),
    });
    await sottoReceiver.stores.preKeyStore.savePreKey(
      31,
      PreKeyRecord.deserialize(lPre.serialize()),
    );
    await sottoReceiver.stores.signedPreKeyStore.saveSignedPreKey(
      32,
      SignedPreKeyRecord.deserialize(lSpk.serialize()),
    );
    await sottoReceiver.stores.kyberPreKeyStore.saveKyberPreKey(
      33,
      KyberPreKeyRecord.deserialize(lKyber.serialize()),
    );
    const lSender = new LibsignalPeer();
    await lSender.startSession(sottoReceiver.address, {
      registrationId: sottoReceiver.stores.registrationId,
      deviceId: 1,
      preKeyId: 31,
      preKey: ec.getPublicKey().serialize(),
      signedPreKeyId: 32,
      signedPreKey: ec2.getPublicKey().serialize(),
      signedPreKeySignature: lSpk.signature(),
      identityKey: lIdentity.publicKey.serialize(),
      kyberPreKeyId: 33,
      kyberPreKey: kem.getPublicKey().serialize(),
      kyberPreKeySignature: lKyber.signature(),
    });
    await deliver(lSender, sottoReceiver, 'to Sotto, with keys libsignal made');
    await deliver(sottoReceiver, lSender, 'and back');
  });
});

describe.each(INTEROP)('session setup: %s initiates, %s responds (items 2–3)', (aKind, bKind) => {
  for (const oneTime of [true, false]) {
    it(`${oneTime ? 'with' : 'without'} a one-time prekey: PreKey messages until the reply, then Whisper`, async () => {
      const { a, b } = await connect(aKind, bKind, { oneTime });
      const first: Wire[] = [];
      for (let i = 0; i < 3; i++) first.push(await a.encrypt(b.address, text(`hello ${i}`)));
      for (const w of first) {
        expect(w.type).toBe(3);
        const outer = splitPreKeyMessage(w.body);
        expect(outer.version).toBe(0x44);
        expect(outer.fields.some((f) => f.field === 1)).toBe(oneTime);
        expect(getBytes(outer.fields, 8)?.length).toBe(1569);
        // The inner SignalMessage carries the 36-byte addresses (both names are UUIDs).
        const inner = splitSignalMessage(innerSignalMessage(w));
        expect(getBytes(inner.fields, 6)?.length).toBe(36);
      }
      // Deliver out of order: the later PreKey messages find the session by base key.
      for (const i of [1, 0, 2])
        expect(str(await b.decrypt(a.address, first[i]!))).toBe(`hello ${i}`);

      const reply = await b.encrypt(a.address, text('reply'));
      expect(reply.type).toBe(2);
      expect(getBytes(splitSignalMessage(reply.body).fields, 6)).toBeUndefined();
      expect(str(await a.decrypt(b.address, reply))).toBe('reply');
      const after = await a.encrypt(b.address, text('after'));
      expect(after.type).toBe(2);
      expect(str(await b.decrypt(a.address, after))).toBe('after');
    });
  }

  it('the responder consumes the one-time prekey and marks the Kyber prekey used', async () => {
    const { a, b } = await connect(aKind, bKind);
    const w = await a.encrypt(b.address, text('x'));
    const outer = splitPreKeyMessage(w.body).fields;
    const preKeyId = outer.find((f) => f.field === 1)!.value as number;
    const kyberId = outer.find((f) => f.field === 7)!.value as number;
    const spkId = outer.find((f) => f.field === 6)!.value as number;
    const baseKey = toHex(getBytes(outer, 2)!);
    await b.decrypt(a.address, w);
    if (b instanceof SottoPeer) {
      expect(await b.stores.preKeyStore.getPreKey(preKeyId)).toBeNull();
      expect(await b.stores.kyberPreKeyStore.getKyberPreKey(kyberId)).toBeNull();
    } else {
      const l = b as LibsignalPeer;
      expect(l.preKeys.keys.has(preKeyId)).toBe(false);
      expect(l.kyberPreKeys.used).toEqual([[kyberId, spkId, baseKey]]);
    }
  });
});

describe.each(INTEROP)(
  'ping-pong past two SPQR epochs: %s initiates, %s responds (item 4)',
  (aKind, bKind) => {
    it('keys from epoch ≥ 3 decrypt in both directions and both SPQR roles', async () => {
      const { a, b } = await connect(aKind, bKind);
      const { aEpoch, bEpoch } = await pingPong(a, b, 110);
      expect(aEpoch).toBeGreaterThanOrEqual(3);
      expect(bEpoch).toBeGreaterThanOrEqual(3);
      // Bursts in both directions keep working after the epochs turned.
      for (let i = 0; i < 5; i++) await deliver(a, b, `burst a ${i}`);
      for (let i = 0; i < 5; i++) await deliver(b, a, `burst b ${i}`);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Negative cases (item 6): the tampered message is rejected by the receiver of every pairing,
// interop and control alike, and the genuine message still decrypts afterwards.

type Tamper = (w: Wire) => Wire;
type Case = [name: string, sottoCode: ProtocolErrorCode, tamper: Tamper];

async function expectRejectedThenGenuineWorks(
  b: Peer,
  a: Peer,
  tampered: Wire,
  genuine: Wire,
  plain: string,
  sottoCode: ProtocolErrorCode,
): Promise<void> {
  const outcome = await b.tryDecrypt(a.address, tampered);
  expect(outcome.ok, `${b.kind} accepted a tampered message`).toBe(false);
  if (b.kind === 'sotto' && !outcome.ok) expect(outcome.error).toBe(sottoCode);
  expect(str(await b.decrypt(a.address, genuine))).toBe(plain);
}

const prekeyCases: Case[] = [
  [
    'missing Kyber fields',
    'MISSING_KYBER',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      return { type: 3, body: joinPreKeyMessage(m.version, without(m.fields, 7, 8)) };
    },
  ],
  [
    'missing Kyber ciphertext only',
    'MISSING_KYBER',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      return { type: 3, body: joinPreKeyMessage(m.version, without(m.fields, 8)) };
    },
  ],
  [
    'PreKey version 3',
    'LEGACY_VERSION',
    (w) => {
      const body = Uint8Array.from(w.body);
      body[0] = 0x33;
      return { type: 3, body };
    },
  ],
  [
    'a version from the future',
    'UNSUPPORTED_VERSION',
    (w) => {
      const body = Uint8Array.from(w.body);
      body[0] = 0x54;
      return { type: 3, body };
    },
  ],
  [
    'ML-KEM-1024 type byte (0x0A) on the KEM ciphertext',
    'INVALID_MESSAGE',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      const ct = Uint8Array.from(getBytes(m.fields, 8)!);
      ct[0] = 0x0a;
      return { type: 3, body: joinPreKeyMessage(m.version, withBytes(m.fields, 8, ct)) };
    },
  ],
  [
    'a flipped bit in the KEM ciphertext',
    'INVALID_MAC',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      const ct = Uint8Array.from(getBytes(m.fields, 8)!);
      ct[100]! ^= 0x01;
      return { type: 3, body: joinPreKeyMessage(m.version, withBytes(m.fields, 8, ct)) };
    },
  ],
  [
    'a bad MAC on the inner message',
    'INVALID_MAC',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      const inner = Uint8Array.from(getBytes(m.fields, 4)!);
      inner[inner.length - 1]! ^= 0x80;
      return { type: 3, body: joinPreKeyMessage(m.version, withBytes(m.fields, 4, inner)) };
    },
  ],
  [
    'no pq_ratchet in the inner message',
    'PQ_RATCHET',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      const inner = splitSignalMessage(getBytes(m.fields, 4)!);
      const stripped = joinSignalMessage(inner.version, without(inner.fields, 5), inner.mac);
      return { type: 3, body: joinPreKeyMessage(m.version, withBytes(m.fields, 4, stripped)) };
    },
  ],
  [
    'a non-canonical base key (u ≥ p)',
    'INVALID_KEY',
    (w) => {
      const m = splitPreKeyMessage(w.body);
      const base = new Uint8Array(33);
      base[0] = 0x05;
      base.fill(0xff, 1);
      base[32] = 0x7f;
      return { type: 3, body: joinPreKeyMessage(m.version, withBytes(m.fields, 2, base)) };
    },
  ],
];

const whisperCases: Case[] = [
  [
    'a bad MAC',
    'INVALID_MAC',
    (w) => {
      const body = Uint8Array.from(w.body);
      body[body.length - 1]! ^= 0x01;
      return { type: 2, body };
    },
  ],
  [
    'a flipped ciphertext bit',
    'INVALID_MAC',
    (w) => {
      const m = splitSignalMessage(w.body);
      const ct = Uint8Array.from(getBytes(m.fields, 4)!);
      ct[0]! ^= 0x01;
      return { type: 2, body: joinSignalMessage(m.version, withBytes(m.fields, 4, ct), m.mac) };
    },
  ],
  [
    'no pq_ratchet',
    'PQ_RATCHET',
    (w) => {
      const m = splitSignalMessage(w.body);
      return { type: 2, body: joinSignalMessage(m.version, without(m.fields, 5), m.mac) };
    },
  ],
  [
    'an SPQR version byte of 0',
    'PQ_RATCHET',
    (w) => {
      const m = splitSignalMessage(w.body);
      const pq = Uint8Array.from(getBytes(m.fields, 5)!);
      pq[0] = 0;
      return { type: 2, body: joinSignalMessage(m.version, withBytes(m.fields, 5, pq), m.mac) };
    },
  ],
  [
    'SignalMessage version 3',
    'LEGACY_VERSION',
    (w) => {
      const body = Uint8Array.from(w.body);
      body[0] = 0x33;
      return { type: 2, body };
    },
  ],
  [
    'addresses added to a reply',
    'INVALID_MAC',
    (w) => {
      const m = splitSignalMessage(w.body);
      return {
        type: 2,
        body: joinSignalMessage(
          m.version,
          [...m.fields, { field: 6, wire: 2, value: new Uint8Array(36) }],
          m.mac,
        ),
      };
    },
  ],
];

describe.each(PAIRINGS)('rejections: %s sends, %s receives (item 6)', (aKind, bKind) => {
  for (const [name, code, tamper] of prekeyCases) {
    it(`PreKey message with ${name}`, async () => {
      const { a, b } = await connect(aKind, bKind);
      const genuine = await a.encrypt(b.address, text('genuine'));
      await expectRejectedThenGenuineWorks(b, a, tamper(genuine), genuine, 'genuine', code);
    });
  }

  for (const [name, code, tamper] of whisperCases) {
    it(`SignalMessage with ${name}`, async () => {
      const { a, b } = await connect(aKind, bKind);
      await deliver(a, b, 'setup');
      await deliver(b, a, 'ack');
      const genuine = await a.encrypt(b.address, text('genuine'));
      expect(genuine.type).toBe(2);
      await expectRejectedThenGenuineWorks(b, a, tamper(genuine), genuine, 'genuine', code);
    });
  }

  it('a PreKey message addressed to someone else (wrong recipient in `addresses`)', async () => {
    const a = makePeer(aKind);
    const b = makePeer(bKind);
    const wrong = newAddress();
    await a.startSession(wrong, await b.bundle());
    const w = await a.encrypt(wrong, text('misdirected'));
    const outcome = await b.tryDecrypt(a.address, w);
    expect(outcome.ok).toBe(false);
    if (bKind === 'sotto' && !outcome.ok) expect(outcome.error).toBe('ADDRESS_MISMATCH');
  });

  it('a PreKey message claimed by the wrong sender (wrong sender in `addresses`)', async () => {
    const { a, b } = await connect(aKind, bKind);
    const w = await a.encrypt(b.address, text('x'));
    const outcome = await b.tryDecrypt(newAddress(), w);
    expect(outcome.ok).toBe(false);
    if (bKind === 'sotto' && !outcome.ok) expect(outcome.error).toBe('ADDRESS_MISMATCH');
    expect(str(await b.decrypt(a.address, w))).toBe('x');
  });

  it('a bundle with a bad signed-prekey or Kyber signature is refused by the initiator', async () => {
    const a = makePeer(aKind);
    const b = makePeer(bKind);
    const bundle = await b.bundle();
    const badSpk = Uint8Array.from(bundle.signedPreKeySignature);
    badSpk[5]! ^= 1;
    await expect(
      a.startSession(b.address, { ...bundle, signedPreKeySignature: badSpk }),
    ).rejects.toThrow();
    const badKyber = Uint8Array.from(bundle.kyberPreKeySignature);
    badKyber[5]! ^= 1;
    await expect(
      a.startSession(b.address, { ...bundle, kyberPreKeySignature: badKyber }),
    ).rejects.toThrow();
    // The Kyber key must be signed as the 1569 typed bytes: a signature over the SPK does not do.
    await expect(
      a.startSession(b.address, { ...bundle, kyberPreKeySignature: bundle.signedPreKeySignature }),
    ).rejects.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Messages only a non-conforming sender would make, forged with Sotto's internals and checked
// against both receivers.

/** A Sotto sender whose session uses ML-KEM-1024 (FIPS 203) where Kyber1024 round 3 belongs. */
async function mlKemInitiator(b: Peer): Promise<{ a: SottoPeer; bundle: RawBundle }> {
  const a = new SottoPeer();
  const bundle = await b.bundle();
  const ours = a.stores.identity;
  const theirIdentity = IdentityKey.deserialize(bundle.identityKey);
  const spk = PublicKey.deserialize(bundle.signedPreKey);
  const base = KeyPair.generate(randomBytes);
  const dh = [
    ours.privateKey.agree(spk),
    base.privateKey.agree(theirIdentity.publicKey),
    base.privateKey.agree(spk),
    base.privateKey.agree(PublicKey.deserialize(bundle.preKey!)),
  ];
  const { cipherText, sharedSecret } = ml_kem1024.encapsulate(bundle.kyberPreKey.subarray(1));
  const keys = deriveHandshakeKeys({ dh, kemSharedSecret: sharedSecret });
  const state = initializeAliceSession(
    {
      keys,
      ourIdentity: ours.identityKey,
      theirIdentity,
      ourBaseKey: base.publicKey,
      theirSignedPreKey: spk,
      selfSession: false,
    },
    randomBytes,
  );
  const record = SessionRecord.newFresh();
  record.promoteState({
    ...state,
    pending: {
      preKeyId: bundle.preKeyId,
      signedPreKeyId: bundle.signedPreKeyId,
      baseKey: base.publicKey,
      kyberPreKeyId: bundle.kyberPreKeyId,
      kyberCiphertext: Uint8Array.from([0x08, ...cipherText]),
      timestamp: a.now,
    },
    localRegistrationId: a.stores.registrationId,
    remoteRegistrationId: bundle.registrationId,
  });
  await a.stores.sessionStore.saveSession(b.address, record);
  return { a, bundle };
}

/** A reply from a Sotto sender with a valid MAC but no `pq_ratchet` (a classic-only sender). */
async function classicOnlyMessage(a: SottoPeer, remote: Peer, plaintext: string): Promise<Wire> {
  const state = (await a.stores.sessionStore.getSession(remote.address))!.current!;
  const keys = MessageKeys.derive(state.sender.chainKey.messageSeed(), null);
  const ciphertext = aes256CbcEncrypt(keys.cipherKey, keys.iv, text(plaintext));
  const body = encodeSignalMessage(
    {
      ratchetKey: state.sender.ratchetKey.publicKey.serialize(),
      counter: state.sender.chainKey.index,
      previousCounter: state.previousCounter,
      ciphertext,
      pqRatchet: new Uint8Array(0),
      addresses: null,
    },
    keys.macKey,
    state.localIdentity.serialize(),
    state.remoteIdentity.serialize(),
  );
  return { type: 2, body };
}

describe.each(['sotto', 'libsignal'] as const)(
  'forged by a non-conforming sender, received by %s',
  (bKind) => {
    it('a session keyed with ML-KEM-1024 instead of Kyber1024 fails the MAC', async () => {
      const b = makePeer(bKind);
      const { a } = await mlKemInitiator(b);
      const w = await a.encrypt(b.address, text('ml-kem'));
      expect(w.type).toBe(3);
      expect((await b.tryDecrypt(a.address, w)).ok).toBe(false);
    });

    it('a message with a valid MAC but no pq_ratchet (a classic Double Ratchet sender)', async () => {
      const b = makePeer(bKind);
      const a = new SottoPeer();
      await a.startSession(b.address, await b.bundle());
      await deliver(a, b, 'setup');
      await deliver(b, a, 'ack');
      const forged = await classicOnlyMessage(a, b, 'classic');
      expect(getBytes(splitSignalMessage(forged.body).fields, 5)).toBeUndefined();
      expect((await b.tryDecrypt(a.address, forged)).ok).toBe(false);
      await deliver(a, b, 'still fine');
    });
  },
);

describe('SPQR header sanity', () => {
  it('the first PreKey message of either implementation starts SPQR at epoch 1 with a header chunk', async () => {
    for (const [aKind, bKind] of INTEROP) {
      const { a, b } = await connect(aKind, bKind);
      const w = await a.encrypt(b.address, text('x'));
      expect(spqrHeader(w)).toEqual({ epoch: 1, index: 1, type: 1 });
    }
  });
});
