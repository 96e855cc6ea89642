// Sealed Sender v1 and certificates interop with @signalapp/libsignal-client 0.103.0, both
// directions (shared/specs/signal-wire.md §6). Inner messages are real libsignal messages: a
// SenderKeyMessage (type 7) and a PreKeySignalMessage (type 3) from a libsignal session.
import * as signal from '@signalapp/libsignal-client';
import {
  KeyPair,
  ProtocolError,
  SealedSenderContentHint,
  SealedSenderMessageType,
  SenderCertificate,
  SenderKeyDistributionMessage,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  groupDecrypt,
  processSenderKeyDistributionMessage,
  sealedSenderDecrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
} from '@sotto/protocol';
import { randomBytes, toHex } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import { InMemorySenderKeyStore } from '../../packages/protocol/src/group/in-memory-sender-key-store.js';
import {
  LibsignalParty,
  ab,
  fromLibsignalPrivate,
  fromLibsignalPublic,
  libsignalOutcome,
  toLibsignalPrivate,
  toLibsignalPublic,
} from './harness-group/libsignal-stores.js';

const rng = randomBytes;
const ALICE_UUID = '0c7f2a4e-3b1d-4f6a-9e2b-5d8c1a7f3e01';
const BOB_UUID = '0c7f2a4e-3b1d-4f6a-9e2b-5d8c1a7f3e02';
const NOW = 1_750_000_000_000;
const EXPIRES = NOW + 86_400_000;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

// One trust root and server key, used by both implementations.
const root = KeyPair.generate(rng);
const server = KeyPair.generate(rng);

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (ProtocolError.is(err)) return err.code;
    throw err;
  }
}

function libsignalCertificates(identity: signal.PublicKey, expires = EXPIRES, keyId = 7) {
  const serverCert = signal.ServerCertificate.new(
    keyId,
    toLibsignalPublic(server.publicKey),
    toLibsignalPrivate(root.privateKey),
  );
  const senderCert = signal.SenderCertificate.new(
    ALICE_UUID,
    '+14155550111',
    2,
    identity,
    expires,
    serverCert,
    toLibsignalPrivate(server.privateKey),
  );
  return { serverCert, senderCert };
}

function sottoCertificate(identity: KeyPair['publicKey'], expires = EXPIRES, keyId = 7) {
  const signer = ServerCertificate.create(keyId, server.publicKey, root.privateKey, rng);
  return SenderCertificate.create(
    {
      senderUuid: ALICE_UUID,
      senderE164: '+14155550111',
      senderDeviceId: 2,
      identityKey: identity,
      expires,
      signer,
      signerKey: server.privateKey,
    },
    rng,
  );
}

/** libsignal Alice and Bob with a libsignal session Alice → Bob; Sotto knows Bob's identity. */
async function parties() {
  const alice = new LibsignalParty(ALICE_UUID, 2);
  const bob = new LibsignalParty(BOB_UUID, 1);
  await alice.startSessionWith(bob);
  await alice.identityStore.saveIdentity(bob.address, bob.identity.getPublicKey());
  return {
    alice,
    bob,
    aliceIdentity: fromLibsignalPrivate(alice.identity),
    bobIdentity: fromLibsignalPrivate(bob.identity),
  };
}

describe('certificates', () => {
  it('Sotto reads and validates libsignal certificates, and encodes the same signed bytes', () => {
    const identity = KeyPair.generate(rng);
    const { serverCert, senderCert } = libsignalCertificates(toLibsignalPublic(identity.publicKey));
    const parsed = SenderCertificate.deserialize(senderCert.serialize());
    expect(parsed.senderUuid).toBe(ALICE_UUID);
    expect(parsed.senderE164).toBe('+14155550111');
    expect(parsed.senderDeviceId).toBe(2);
    expect(parsed.expires).toBe(EXPIRES);
    expect(parsed.identityKey.equals(identity.publicKey)).toBe(true);
    expect(parsed.signer.keyId).toBe(7);
    expect(parsed.validate(root.publicKey, EXPIRES)).toBe(true);
    expect(codeOf(() => parsed.assertValid(root.publicKey, EXPIRES + 1))).toBe(
      'CERTIFICATE_EXPIRED',
    );
    expect(codeOf(() => parsed.assertValid(server.publicKey, NOW))).toBe('INVALID_CERTIFICATE');
    // With the same embedded server certificate, Sotto signs exactly the bytes libsignal signs.
    const sameSigner = SenderCertificate.create(
      {
        senderUuid: ALICE_UUID,
        senderE164: '+14155550111',
        senderDeviceId: 2,
        identityKey: identity.publicKey,
        expires: EXPIRES,
        signer: ServerCertificate.deserialize(serverCert.serialize()),
        signerKey: server.privateKey,
      },
      rng,
    );
    expect(toHex(sameSigner.certificate)).toBe(toHex(senderCert.certificate()));
    expect(
      toHex(ServerCertificate.create(7, server.publicKey, root.privateKey, rng).certificate),
    ).toBe(toHex(serverCert.certificateData()));
  });

  it('libsignal reads and validates Sotto certificates', () => {
    const identity = KeyPair.generate(rng);
    const ours = sottoCertificate(identity.publicKey);
    const theirs = signal.SenderCertificate.deserialize(ab(ours.serialize()));
    expect(theirs.senderUuid()).toBe(ALICE_UUID);
    expect(theirs.senderE164()).toBe('+14155550111');
    expect(theirs.senderDeviceId()).toBe(2);
    expect(theirs.expiration()).toBe(EXPIRES);
    expect(fromLibsignalPublic(theirs.key()).equals(identity.publicKey)).toBe(true);
    expect(theirs.serverCertificate().keyId()).toBe(7);
    expect(theirs.validate(toLibsignalPublic(root.publicKey), EXPIRES)).toBe(true);
    expect(theirs.validate(toLibsignalPublic(root.publicKey), EXPIRES + 1)).toBe(false);
    expect(theirs.validate(toLibsignalPublic(server.publicKey), NOW)).toBe(false);
    expect(
      theirs.validateWithTrustRoots(
        [toLibsignalPublic(server.publicKey), toLibsignalPublic(root.publicKey)],
        NOW,
      ),
    ).toBe(true);
  });

  it('both refuse the revoked server certificate id and a wrongly signed certificate', () => {
    const identity = KeyPair.generate(rng);
    const revoked = sottoCertificate(identity.publicKey, EXPIRES, 0xdeadc357);
    expect(revoked.validate(root.publicKey, NOW)).toBe(false);
    expect(
      signal.SenderCertificate.deserialize(ab(revoked.serialize())).validate(
        toLibsignalPublic(root.publicKey),
        NOW,
      ),
    ).toBe(false);
    const { senderCert } = libsignalCertificates(
      toLibsignalPublic(identity.publicKey),
      EXPIRES,
      0xdeadc357,
    );
    expect(
      SenderCertificate.deserialize(senderCert.serialize()).validate(root.publicKey, NOW),
    ).toBe(false);
    const forged = SenderCertificate.create(
      {
        senderUuid: ALICE_UUID,
        senderDeviceId: 2,
        identityKey: identity.publicKey,
        expires: EXPIRES,
        signer: ServerCertificate.create(7, server.publicKey, root.privateKey, rng),
        signerKey: identity.privateKey,
      },
      rng,
    );
    expect(forged.validate(root.publicKey, NOW)).toBe(false);
    expect(
      signal.SenderCertificate.deserialize(ab(forged.serialize())).validate(
        toLibsignalPublic(root.publicKey),
        NOW,
      ),
    ).toBe(false);
  });

  it('both validate a certificate naming the known server certificate 0x7357C357', () => {
    // The test certificate's trust root is the public key of the all-zero private key and its
    // server key that of the all-0xFF private key (libsignal sealed_sender.rs).
    const testRoot = signal.PrivateKey.deserialize(new Uint8Array(32)).getPublicKey();
    const testServer = signal.PrivateKey.deserialize(new Uint8Array(32).fill(0xff));
    const identity = KeyPair.generate(rng);
    const certificate = new Uint8Array([
      ...[0x10, 0x02], // senderDevice 2
      ...[0x19, ...new Uint8Array(new BigUint64Array([BigInt(EXPIRES)]).buffer)], // expires fixed64
      ...[0x22, 0x21, ...identity.publicKey.serialize()], // identityKey
      ...[0x40, 0xd7, 0x86, 0xdf, 0x9a, 0x07], // known id 0x7357C357
      ...[0x32, 0x24, ...text(ALICE_UUID)], // uuidString
    ]);
    const signature = testServer.sign(ab(certificate));
    const bytes = new Uint8Array([
      0x0a,
      certificate.length,
      ...certificate,
      0x12,
      0x40,
      ...signature,
    ]);
    const ours = SenderCertificate.deserialize(bytes);
    expect(ours.signerId).toBe(0x7357c357);
    expect(ours.validate(fromLibsignalPublic(testRoot), NOW)).toBe(true);
    expect(signal.SenderCertificate.deserialize(ab(bytes)).validate(testRoot, NOW)).toBe(true);
    expect(ours.validate(root.publicKey, NOW)).toBe(false);
    expect(
      signal.SenderCertificate.deserialize(ab(bytes)).validate(
        toLibsignalPublic(root.publicKey),
        NOW,
      ),
    ).toBe(false);
  });
});

describe('libsignal seals → Sotto opens', () => {
  it('a group message (SenderKeyMessage, type 7) with hint and group id', async () => {
    const { alice, aliceIdentity, bob, bobIdentity } = await parties();
    const distributionId = '3f1e2d4c-5b6a-4789-8a9b-0c1d2e3f4a5b';
    const skdm = await signal.SenderKeyDistributionMessage.create(
      alice.address,
      distributionId,
      alice.senderKeyStore,
    );
    const groupMessage = await signal.groupEncrypt(
      alice.address,
      distributionId,
      alice.senderKeyStore,
      ab(text('hello group')),
    );
    const { senderCert } = libsignalCertificates(toLibsignalPublic(aliceIdentity.publicKey));
    const groupId = randomBytes(32);
    const usmc = signal.UnidentifiedSenderMessageContent.new(
      groupMessage,
      senderCert,
      signal.ContentHint.Resendable,
      ab(groupId),
    );
    const sealed = await signal.sealedSenderEncrypt(usmc, bob.address, alice.identityStore);
    const opened = sealedSenderDecrypt(sealed, bobIdentity, root.publicKey, NOW);
    expect(opened.msgType).toBe(SealedSenderMessageType.SenderKey);
    expect(opened.contentHint).toBe(SealedSenderContentHint.Resendable);
    expect(toHex(opened.groupId!)).toBe(toHex(groupId));
    expect(toHex(opened.serialize())).toBe(toHex(usmc.serialize()));
    const member = new InMemorySenderKeyStore();
    const sender = { name: ALICE_UUID, deviceId: 2 };
    await processSenderKeyDistributionMessage(
      sender,
      SenderKeyDistributionMessage.deserialize(skdm.serialize()),
      member,
    );
    expect(str(await groupDecrypt(sender, opened.contents, member))).toBe('hello group');
  });

  it('a 1:1 message (sealedSenderEncryptMessage, PreKey type 3) whose inner message libsignal then decrypts', async () => {
    const { alice, bob, bobIdentity, aliceIdentity } = await parties();
    const { senderCert } = libsignalCertificates(toLibsignalPublic(aliceIdentity.publicKey));
    const sealed = await signal.sealedSenderEncryptMessage(
      ab(text('sealed hello')),
      bob.address,
      senderCert,
      alice.sessionStore,
      alice.identityStore,
    );
    const opened = sealedSenderDecrypt(sealed, bobIdentity, [root.publicKey], NOW, {
      uuid: BOB_UUID,
      deviceId: 1,
    });
    expect(opened.msgType).toBe(SealedSenderMessageType.PreKey);
    expect(opened.senderCertificate.senderUuid).toBe(ALICE_UUID);
    const libUsmc = await signal.sealedSenderDecryptToUsmc(ab(sealed), bob.identityStore);
    expect(toHex(opened.serialize())).toBe(toHex(libUsmc.serialize()));
    const plaintext = await signal.signalDecryptPreKey(
      signal.PreKeySignalMessage.deserialize(ab(opened.contents)),
      alice.address,
      bob.address,
      bob.sessionStore,
      bob.identityStore,
      bob.preKeyStore,
      bob.signedPreKeyStore,
      bob.kyberPreKeyStore,
    );
    expect(str(plaintext)).toBe('sealed hello');
  });

  it('Sotto refuses what libsignal refuses: expired, untrusted, wrong identity, self-send', async () => {
    const { alice, bob, bobIdentity, aliceIdentity } = await parties();
    const distributionId = '4a1e2d4c-5b6a-4789-8a9b-0c1d2e3f4a5b';
    await signal.SenderKeyDistributionMessage.create(
      alice.address,
      distributionId,
      alice.senderKeyStore,
    );
    const seal = async (certIdentity: signal.PublicKey, expires = EXPIRES) => {
      const { senderCert } = libsignalCertificates(certIdentity, expires);
      const inner = await signal.groupEncrypt(
        alice.address,
        distributionId,
        alice.senderKeyStore,
        ab(text('x')),
      );
      // A decryption-error report, as Signal clients send them: type PLAINTEXT (8).
      const report = signal.DecryptionErrorMessage.forOriginal(
        inner.serialize(),
        signal.CiphertextMessageType.SenderKey,
        NOW,
        2,
      );
      const usmc = signal.UnidentifiedSenderMessageContent.new(
        signal.PlaintextContent.from(report).asCiphertextMessage(),
        senderCert,
        signal.ContentHint.Implicit,
        null,
      );
      return signal.sealedSenderEncrypt(usmc, bob.address, alice.identityStore);
    };
    const expired = await seal(toLibsignalPublic(aliceIdentity.publicKey), NOW - 1);
    expect(codeOf(() => sealedSenderDecrypt(expired, bobIdentity, root.publicKey, NOW))).toBe(
      'CERTIFICATE_EXPIRED',
    );
    expect(sealedSenderDecryptToUsmc(expired, bobIdentity).msgType).toBe(
      SealedSenderMessageType.Plaintext,
    );
    expect(codeOf(() => sealedSenderDecrypt(expired, bobIdentity, server.publicKey, 0))).toBe(
      'INVALID_CERTIFICATE',
    );
    const wrongIdentity = await seal(signal.PrivateKey.generate().getPublicKey());
    expect(codeOf(() => sealedSenderDecryptToUsmc(wrongIdentity, bobIdentity))).toBe(
      'INVALID_CERTIFICATE',
    );
    expect(
      await libsignalOutcome(() =>
        signal.sealedSenderDecryptToUsmc(ab(wrongIdentity), bob.identityStore),
      ),
    ).toMatch(/^error:/);
    const good = await seal(toLibsignalPublic(aliceIdentity.publicKey));
    expect(
      codeOf(() =>
        sealedSenderDecrypt(good, bobIdentity, root.publicKey, NOW, {
          uuid: ALICE_UUID,
          deviceId: 2,
        }),
      ),
    ).toBe('INVALID_MESSAGE');
    expect(codeOf(() => sealedSenderDecryptToUsmc(good, aliceIdentity))).toBe('INVALID_MAC');
  });
});

describe('Sotto seals → libsignal opens', () => {
  it('sealedSenderDecryptToUsmc reads Sotto content field for field', async () => {
    const { bob, bobIdentity, aliceIdentity } = await parties();
    for (const [msgType, contentHint, groupId] of [
      [SealedSenderMessageType.Plaintext, SealedSenderContentHint.Default, undefined],
      [SealedSenderMessageType.Whisper, SealedSenderContentHint.Implicit, randomBytes(16)],
      [SealedSenderMessageType.SenderKey, 77, randomBytes(32)],
    ] as const) {
      const contents = randomBytes(100);
      const usmc = UnidentifiedSenderMessageContent.create({
        msgType,
        senderCertificate: sottoCertificate(aliceIdentity.publicKey),
        contents,
        contentHint,
        ...(groupId ? { groupId } : {}),
      });
      const sealed = sealedSenderEncrypt(usmc, bobIdentity.publicKey, aliceIdentity, rng);
      const theirs = await signal.sealedSenderDecryptToUsmc(ab(sealed), bob.identityStore);
      expect(theirs.msgType()).toBe(msgType);
      expect(theirs.contentHint()).toBe(contentHint);
      expect(toHex(theirs.contents())).toBe(toHex(contents));
      expect(theirs.groupId() === null ? undefined : toHex(theirs.groupId()!)).toBe(
        groupId && toHex(groupId),
      );
      expect(toHex(theirs.senderCertificate().serialize())).toBe(
        toHex(usmc.senderCertificate.serialize()),
      );
      expect(toHex(theirs.serialize())).toBe(toHex(usmc.serialize()));
    }
  });

  it('sealedSenderDecryptMessage validates the Sotto certificate and decrypts the inner libsignal message', async () => {
    const { alice, bob, bobIdentity, aliceIdentity } = await parties();
    const inner = await signal.signalEncrypt(
      ab(text('through Sotto’s envelope')),
      bob.address,
      alice.address,
      alice.sessionStore,
      alice.identityStore,
    );
    expect(inner.type()).toBe(signal.CiphertextMessageType.PreKey);
    const usmc = UnidentifiedSenderMessageContent.create({
      msgType: SealedSenderMessageType.PreKey,
      senderCertificate: sottoCertificate(aliceIdentity.publicKey),
      contents: inner.serialize(),
    });
    const sealed = sealedSenderEncrypt(usmc, bobIdentity.publicKey, aliceIdentity, rng);
    const result = await signal.sealedSenderDecryptMessage(
      ab(sealed),
      toLibsignalPublic(root.publicKey),
      NOW,
      null,
      BOB_UUID,
      1,
      bob.sessionStore,
      bob.identityStore,
      bob.preKeyStore,
      bob.signedPreKeyStore,
      bob.kyberPreKeyStore,
    );
    expect(str(result.message())).toBe('through Sotto’s envelope');
    expect(result.senderUuid()).toBe(ALICE_UUID);
    expect(result.deviceId()).toBe(2);
    expect(result.senderE164()).toBe('+14155550111');
  });

  it('libsignal refuses what Sotto refuses: expired, untrusted, wrong identity, self-send', async () => {
    const { alice, bob, bobIdentity, aliceIdentity } = await parties();
    const attempt = async (sealed: Uint8Array, localUuid = BOB_UUID, localDevice = 1) =>
      libsignalOutcome(() =>
        signal.sealedSenderDecryptMessage(
          ab(sealed),
          toLibsignalPublic(root.publicKey),
          NOW,
          null,
          localUuid,
          localDevice,
          bob.sessionStore,
          bob.identityStore,
          bob.preKeyStore,
          bob.signedPreKeyStore,
          bob.kyberPreKeyStore,
        ),
      );
    const inner = await signal.signalEncrypt(
      ab(text('x')),
      bob.address,
      alice.address,
      alice.sessionStore,
      alice.identityStore,
    );
    const make = (certIdentity: KeyPair['publicKey'], expires = EXPIRES, sealer = aliceIdentity) =>
      sealedSenderEncrypt(
        UnidentifiedSenderMessageContent.create({
          msgType: SealedSenderMessageType.PreKey,
          senderCertificate: sottoCertificate(certIdentity, expires),
          contents: inner.serialize(),
        }),
        bobIdentity.publicKey,
        sealer,
        rng,
      );
    expect(await attempt(make(aliceIdentity.publicKey, NOW - 1))).toMatch(/^error:/);
    expect(
      codeOf(() =>
        sealedSenderDecrypt(
          make(aliceIdentity.publicKey, NOW - 1),
          bobIdentity,
          root.publicKey,
          NOW,
        ),
      ),
    ).toBe('CERTIFICATE_EXPIRED');
    const mallory = KeyPair.generate(rng);
    expect(await attempt(make(aliceIdentity.publicKey, EXPIRES, mallory))).toMatch(/^error:/);
    expect(
      codeOf(() =>
        sealedSenderDecryptToUsmc(make(aliceIdentity.publicKey, EXPIRES, mallory), bobIdentity),
      ),
    ).toBe('INVALID_CERTIFICATE');
    expect(await attempt(make(aliceIdentity.publicKey), ALICE_UUID, 2)).toBe(
      `error:${signal.ErrorCode.SealedSenderSelfSend}`,
    );
    const tampered = make(aliceIdentity.publicKey);
    tampered[tampered.length - 3]! ^= 0x40;
    expect(await attempt(tampered)).toMatch(/^error:/);
    expect(codeOf(() => sealedSenderDecryptToUsmc(tampered, bobIdentity))).toBe('INVALID_MAC');
    // And the untouched message goes through.
    expect(await attempt(make(aliceIdentity.publicKey))).toBe('ok');
  });
});
