// Sealed Sender v1 (shared/specs/signal-wire.md §6). The envelope is opened once more by an
// independent node:crypto implementation of the formulas in the spec, so the layout and KDFs are
// checked without trusting the code under test; libsignal interop lives in tests/interop.
import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair, type PublicKey } from '../../src/keys/curve.js';
import { SenderCertificate, ServerCertificate } from '../../src/sealed-sender/certificates.js';
import {
  sealedSenderDecrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
} from '../../src/sealed-sender/sealed-sender-cipher.js';
import {
  SealedSenderContentHint,
  SealedSenderMessageType,
  UnidentifiedSenderMessageContent,
} from '../../src/sealed-sender/unidentified-sender-message-content.js';
import { readFields } from '../../src/wire/protobuf.js';
import { hex, seededRng, unhex } from '../group/support.js';

const rng = seededRng('sealed-sender');
const root = KeyPair.generate(rng);
const server = KeyPair.generate(rng);
const alice = KeyPair.generate(rng);
const bob = KeyPair.generate(rng);
const ALICE_UUID = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const EXPIRES = 1_800_000_000_000;
const serverCert = ServerCertificate.create(1, server.publicKey, root.privateKey, rng);

function certificateFor(identity: PublicKey, deviceId = 1): SenderCertificate {
  return SenderCertificate.create(
    {
      senderUuid: ALICE_UUID,
      senderE164: '+14155550100',
      senderDeviceId: deviceId,
      identityKey: identity,
      expires: EXPIRES,
      signer: serverCert,
      signerKey: server.privateKey,
    },
    rng,
  );
}

function content(identity: PublicKey = alice.publicKey): UnidentifiedSenderMessageContent {
  return UnidentifiedSenderMessageContent.create({
    msgType: SealedSenderMessageType.Whisper,
    senderCertificate: certificateFor(identity),
    contents: new TextEncoder().encode('inner signal message'),
    contentHint: SealedSenderContentHint.Resendable,
    groupId: unhex('0102030405'),
  });
}

async function expectCode(fn: () => unknown, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect(ProtocolError.is(err) ? err.code : err).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

/** Independent X25519 via node:crypto JWK keys. */
function nodeDh(privateKey: Uint8Array, publicU: Uint8Array): Buffer {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: b64(publicU) },
    format: 'jwk',
  });
  const priv = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64(privateKey), x: b64(new Uint8Array(32)) },
    format: 'jwk',
  });
  return diffieHellman({ privateKey: priv, publicKey: pub });
}

function nodeOpen(sealed: Uint8Array, keys: Buffer, what: string): Buffer {
  const cipherKey = keys.subarray(32, 64);
  const macKey = keys.subarray(64, 96);
  const ct = sealed.subarray(0, sealed.length - 10);
  const mac = createHmac('sha256', macKey).update(ct).digest().subarray(0, 10);
  expect(hex(mac), what).toBe(hex(sealed.subarray(sealed.length - 10)));
  const d = createDecipheriv('aes-256-ctr', cipherKey, Buffer.alloc(16));
  return Buffer.concat([d.update(ct), d.final()]);
}

describe('sealed sender v1', () => {
  it('matches an independent implementation of the spec formulas', () => {
    const usmc = content();
    const sealed = sealedSenderEncrypt(usmc, bob.publicKey, alice, rng);
    expect(sealed[0]).toBe(0x11);
    const fields = new Map([...readFields(sealed.subarray(1))].map((f) => [f.field, f.bytes]));
    expect([...fields.keys()]).toEqual([1, 2, 3]);
    const ephemeral = fields.get(1)!;
    expect(ephemeral.length).toBe(33);
    expect(ephemeral[0]).toBe(0x05);
    const bobPrivate = bob.privateKey.serialize();
    const e = Buffer.from(
      hkdfSync(
        'sha256',
        nodeDh(bobPrivate, ephemeral.subarray(1)),
        Buffer.concat([Buffer.from('UnidentifiedDelivery'), bob.publicKey.serialize(), ephemeral]),
        Buffer.alloc(0),
        96,
      ),
    );
    const staticKey = nodeOpen(fields.get(2)!, e, 'static MAC');
    expect(hex(staticKey)).toBe(hex(alice.publicKey.serialize()));
    const s = Buffer.from(
      hkdfSync(
        'sha256',
        nodeDh(bobPrivate, staticKey.subarray(1)),
        Buffer.concat([e.subarray(0, 32), fields.get(2)!]),
        Buffer.alloc(0),
        96,
      ),
    );
    expect(hex(nodeOpen(fields.get(3)!, s, 'message MAC'))).toBe(hex(usmc.serialize()));
  });

  it('round-trips the content', () => {
    const usmc = content();
    const opened = sealedSenderDecrypt(
      sealedSenderEncrypt(usmc, bob.publicKey, alice, rng),
      bob,
      root.publicKey,
      EXPIRES,
    );
    expect(hex(opened.serialize())).toBe(hex(usmc.serialize()));
    expect(opened.msgType).toBe(2);
    expect(opened.contentHint).toBe(1);
    expect(hex(opened.groupId!)).toBe('0102030405');
    expect(new TextDecoder().decode(opened.contents)).toBe('inner signal message');
    expect(opened.senderCertificate.senderUuid).toBe(ALICE_UUID);
  });

  it('checks the certificate only in sealedSenderDecrypt', async () => {
    const sealed = sealedSenderEncrypt(content(), bob.publicKey, alice, rng);
    expect(sealedSenderDecryptToUsmc(sealed, bob).senderCertificate.expires).toBe(EXPIRES);
    await expectCode(
      () => sealedSenderDecrypt(sealed, bob, root.publicKey, EXPIRES + 1),
      'CERTIFICATE_EXPIRED',
    );
    await expectCode(
      () => sealedSenderDecrypt(sealed, bob, server.publicKey, 0),
      'INVALID_CERTIFICATE',
    );
    expect(sealedSenderDecrypt(sealed, bob, [server.publicKey, root.publicKey], 0).msgType).toBe(2);
  });

  it('refuses a certificate that does not belong to the sealing identity', async () => {
    const mallory = KeyPair.generate(rng);
    // Mallory seals with her own identity but presents Alice's certificate.
    const sealed = sealedSenderEncrypt(content(alice.publicKey), bob.publicKey, mallory, rng);
    await expectCode(() => sealedSenderDecryptToUsmc(sealed, bob), 'INVALID_CERTIFICATE');
  });

  it('refuses the wrong recipient with INVALID_MAC', async () => {
    const sealed = sealedSenderEncrypt(content(), bob.publicKey, alice, rng);
    await expectCode(() => sealedSenderDecryptToUsmc(sealed, alice), 'INVALID_MAC');
  });

  it('refuses a message sealed by our own device', async () => {
    const sealed = sealedSenderEncrypt(content(), bob.publicKey, alice, rng);
    await expectCode(
      () => sealedSenderDecrypt(sealed, bob, root.publicKey, 0, { uuid: ALICE_UUID, deviceId: 1 }),
      'INVALID_MESSAGE',
    );
    await expectCode(
      () =>
        sealedSenderDecrypt(sealed, bob, root.publicKey, 0, {
          uuid: 'x',
          e164: '+14155550100',
          deviceId: 1,
        }),
      'INVALID_MESSAGE',
    );
    expect(
      sealedSenderDecrypt(sealed, bob, root.publicKey, 0, { uuid: ALICE_UUID, deviceId: 2 })
        .msgType,
    ).toBe(2);
  });

  it('reads version nibble 0 as v1 (like libsignal) and refuses v2 and others', async () => {
    const sealed = sealedSenderEncrypt(content(), bob.publicKey, alice, rng);
    const v0 = sealed.slice();
    v0[0] = 0x01;
    expect(sealedSenderDecryptToUsmc(v0, bob).msgType).toBe(2);
    for (const first of [0x22, 0x23, 0x31, 0xf1]) {
      const other = sealed.slice();
      other[0] = first;
      await expectCode(() => sealedSenderDecryptToUsmc(other, bob), 'UNSUPPORTED_VERSION');
    }
    await expectCode(() => sealedSenderDecryptToUsmc(new Uint8Array(0), bob), 'INVALID_MESSAGE');
    await expectCode(
      () => sealedSenderDecryptToUsmc(unhex('110a2105' + '00'.repeat(32)), bob),
      'INVALID_MESSAGE',
    );
  });

  it('rejects any flipped bit', () => {
    const sealed = sealedSenderEncrypt(content(), bob.publicKey, alice, rng);
    fc.assert(
      fc.property(fc.nat(sealed.length * 8 - 1), (bit) => {
        const flipped = sealed.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        // The version byte's low nibble is not checked, and major version 0 (bit 4 cleared) is
        // read as v1: libsignal does both, so these flips are accepted on both sides.
        if (bit >> 3 === 0 && (bit & 7) <= 4) return;
        expect(() => sealedSenderDecryptToUsmc(flipped, bob)).toThrow(ProtocolError);
      }),
      { numRuns: 400 },
    );
  });
});

describe('UnidentifiedSenderMessageContent', () => {
  const cert = certificateFor(alice.publicKey);

  it('encodes {1 type, 2 certificate, 3 content, 4 hint, 5 group id} with PreKey as 1', () => {
    const usmc = UnidentifiedSenderMessageContent.create({
      msgType: SealedSenderMessageType.PreKey,
      senderCertificate: cert,
      contents: unhex('abcd'),
    });
    const certHex = hex(cert.serialize());
    const certLength = cert.serialize().length;
    const lengthVarint =
      ((certLength & 0x7f) | 0x80).toString(16) + (certLength >> 7).toString(16).padStart(2, '0');
    expect(hex(usmc.serialize())).toBe('0801' + '12' + lengthVarint + certHex + '1a02abcd');
    const withHint = UnidentifiedSenderMessageContent.create({
      msgType: SealedSenderMessageType.Plaintext,
      senderCertificate: cert,
      contents: unhex('abcd'),
      contentHint: SealedSenderContentHint.Implicit,
      groupId: new Uint8Array(0), // an empty group id is not written
    });
    expect(hex(withHint.serialize())).toBe(
      '0808' + '12' + lengthVarint + certHex + '1a02abcd' + '2002',
    );
    const parsed = UnidentifiedSenderMessageContent.deserialize(usmc.serialize());
    expect(parsed.msgType).toBe(3);
    expect(parsed.contentHint).toBe(0);
    expect(parsed.groupId).toBeUndefined();
  });

  it('keeps unknown content hints and refuses unknown types', async () => {
    const certHex = hex(cert.serialize());
    const certLength = cert.serialize().length;
    const lengthVarint =
      ((certLength & 0x7f) | 0x80).toString(16) + (certLength >> 7).toString(16).padStart(2, '0');
    const unknownHint = unhex('0807' + '12' + lengthVarint + certHex + '1a00' + '2009');
    const parsed = UnidentifiedSenderMessageContent.deserialize(unknownHint);
    expect(parsed.contentHint).toBe(9);
    expect(parsed.msgType).toBe(7);
    await expectCode(
      () =>
        UnidentifiedSenderMessageContent.deserialize(
          unhex('0803' + '12' + lengthVarint + certHex + '1a00'),
        ),
      'INVALID_MESSAGE',
    );
    await expectCode(
      () => UnidentifiedSenderMessageContent.deserialize(unhex('0802' + '1a00')),
      'INVALID_MESSAGE',
    );
    await expectCode(
      () =>
        UnidentifiedSenderMessageContent.deserialize(unhex('0802' + '1203' + '0a0100' + '1a00')),
      'INVALID_CERTIFICATE',
    );
  });
});
