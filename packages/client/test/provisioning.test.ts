/**
 * Device provisioning pieces: Signal's ProvisioningCipher (provisioning-cipher.ts), the
 * ProvisionEnvelope / ProvisionMessage protobufs (provisioning-proto.ts) and the link URI
 * (link-uri.ts).
 *
 * No published test vectors exist for the provisioning cipher, so both directions are checked
 * against an independent computation: the X25519 agreement and HKDF of the reference
 * (@signalapp/libsignal-client 0.103.0, dev-only: `PrivateKey.agree`, `hkdf`) and AES-256-CBC and
 * HMAC-SHA256 of node:crypto, following Signal-Android's PrimaryProvisioningCipher and
 * Signal-Desktop's ProvisioningCipher (salt 32 zero bytes, info "TextSecure Provisioning Message",
 * 64 bytes split 32/32, body = 0x01 ‖ iv ‖ ciphertext ‖ HMAC over all of it but the MAC).
 * The protobuf bytes are compared with hand-assembled encodings of Signal's field numbers.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import * as signal from '@signalapp/libsignal-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../src/index.js';
import { formatLinkUri, parseLinkUri } from '../src/account/link-uri.js';
import {
  decryptProvisioning,
  encryptProvisioning,
  PROVISIONING_INFO,
} from '../src/account/provisioning-cipher.js';
import {
  decodeProvisionEnvelope,
  decodeProvisionMessage,
  encodeProvisionEnvelope,
  encodeProvisionMessage,
} from '../src/account/provisioning-proto.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const ab = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** An independent ProvisioningCipher key schedule: libsignal's agreement and HKDF. */
function referenceKeys(
  ours: signal.PrivateKey,
  theirSerialized: Uint8Array,
): { cipherKey: Buffer; macKey: Buffer } {
  const shared = ours.agree(signal.PublicKey.deserialize(ab(theirSerialized)));
  const okm = signal.hkdf(64, shared, ab(new TextEncoder().encode(PROVISIONING_INFO)), null);
  return {
    cipherKey: Buffer.from(okm.subarray(0, 32)),
    macKey: Buffer.from(okm.subarray(32)),
  };
}

function newDevice() {
  const privateKey = signal.PrivateKey.generate();
  return {
    privateKey,
    rawPrivate: new Uint8Array(privateKey.serialize()),
    publicKey: new Uint8Array(privateKey.getPublicKey().serialize()),
  };
}

function flipBit(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 1 << bit;
  return copy;
}

describe('ProvisioningCipher', () => {
  it('seals what an independent implementation opens (libsignal agreement + HKDF, node:crypto)', () => {
    const device = newDevice();
    const message = rng(173);
    const envelope = decodeProvisionEnvelope(encryptProvisioning(device.publicKey, message, rng));
    expect(envelope.publicKey.length).toBe(33);
    expect(envelope.publicKey[0]).toBe(0x05);
    const body = Buffer.from(envelope.body);
    expect(body[0]).toBe(0x01);
    expect((body.length - 1 - 16 - 32) % 16).toBe(0);

    const { cipherKey, macKey } = referenceKeys(device.privateKey, envelope.publicKey);
    const mac = createHmac('sha256', macKey)
      .update(body.subarray(0, body.length - 32))
      .digest();
    expect(mac.equals(body.subarray(body.length - 32))).toBe(true);
    const decipher = createDecipheriv('aes-256-cbc', cipherKey, body.subarray(1, 17));
    const plain = Buffer.concat([
      decipher.update(body.subarray(17, body.length - 32)),
      decipher.final(),
    ]);
    expect(plain.equals(Buffer.from(message))).toBe(true);
  });

  it('opens what an independent implementation sealed', () => {
    const device = newDevice();
    const primaryEphemeral = signal.PrivateKey.generate();
    const ephemeralPublic = new Uint8Array(primaryEphemeral.getPublicKey().serialize());
    const { cipherKey, macKey } = referenceKeys(primaryEphemeral, device.publicKey);
    const iv = randomBytes(16);
    const message = randomBytes(250);
    const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
    const signed = Buffer.concat([Buffer.of(1), iv, cipher.update(message), cipher.final()]);
    const body = Buffer.concat([signed, createHmac('sha256', macKey).update(signed).digest()]);
    // ProvisionEnvelope { 1: publicKey, 2: body } assembled by hand.
    const envelope = Buffer.concat([
      Buffer.of(0x0a, 33),
      ephemeralPublic,
      Buffer.of(0x12, (body.length & 0x7f) | 0x80, body.length >> 7),
      body,
    ]);
    const opened = decryptProvisioning(device.rawPrivate, new Uint8Array(envelope));
    expect(Buffer.from(opened).equals(message)).toBe(true);
  });

  it('rejects an envelope for another key, a flipped bit anywhere, and another version', () => {
    const device = newDevice();
    const other = newDevice();
    const sealed = encryptProvisioning(device.publicKey, rng(100), rng);
    const fails = (bytes: Uint8Array, key = device.rawPrivate): void => {
      let err: unknown;
      try {
        decryptProvisioning(key, bytes);
      } catch (e) {
        err = e;
      }
      expect(ClientError.is(err, 'LINK_FAILED')).toBe(true);
    };
    fails(sealed, other.rawPrivate);
    // Every bit, the top bit of the primary key's u-coordinate (which X25519 ignores) included.
    fails(flipBit(sealed, 2 + 32, 7));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), (bit) => {
        const copy = sealed.slice();
        copy[bit >> 3]! ^= 1 << (bit & 7);
        fails(copy);
      }),
      { numRuns: 300 },
    );
    // Version 0 (Signal's registration provisioning) is not a device-link message.
    const envelope = decodeProvisionEnvelope(sealed);
    const body = envelope.body.slice();
    body[0] = 0x00;
    fails(encodeProvisionEnvelope({ publicKey: envelope.publicKey, body }));
    fails(encodeProvisionEnvelope({ publicKey: envelope.publicKey, body: body.subarray(0, 48) }));
    expect(() => encryptProvisioning(device.publicKey.subarray(1), rng(1), rng)).toThrow(
      ClientError,
    );
  });
});

describe('Provision protobufs', () => {
  const message = {
    aciIdentityKeyPublic: new Uint8Array(33).fill(5),
    aciIdentityKeyPrivate: new Uint8Array(32).fill(7),
    number: '+14155550100',
    provisioningCode: 'AAAAAAAAAAAAAAAAAAAAAA',
    aci: '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d',
  };

  it("writes Signal's field numbers in order", () => {
    const text = (s: string) => Buffer.from(s, 'utf8');
    const expected = Buffer.concat([
      Buffer.of(0x0a, 33),
      Buffer.alloc(33, 5),
      Buffer.of(0x12, 32),
      Buffer.alloc(32, 7),
      Buffer.of(0x1a, 12),
      text(message.number),
      Buffer.of(0x22, 22),
      text(message.provisioningCode),
      Buffer.of(0x42, 36),
      text(message.aci),
    ]);
    expect(Buffer.from(encodeProvisionMessage(message))).toEqual(expected);
    expect(decodeProvisionMessage(expected)).toEqual(message);
    const noNumber = encodeProvisionMessage({ ...message, number: null });
    expect(decodeProvisionMessage(noNumber).number).toBeNull();
  });

  it("skips Signal's fields Sotto does not use, and refuses broken or incomplete messages", () => {
    const withExtras = Buffer.concat([
      Buffer.from(encodeProvisionMessage(message)),
      Buffer.of(0x32, 3, 1, 2, 3), // 6: profileKey
      Buffer.of(0x38, 1), // 7: readReceipts
      Buffer.of(0x48, 1), // 9: provisioningVersion
      Buffer.of(0x5a, 2, 9, 9), // 11: pniIdentityKeyPublic
    ]);
    expect(decodeProvisionMessage(withExtras)).toEqual(message);
    const full = encodeProvisionMessage(message);
    for (const cut of [1, 10, full.length - 1]) {
      expect(() => decodeProvisionMessage(full.subarray(0, cut))).toThrow(ClientError);
    }
    expect(() => decodeProvisionMessage(Buffer.of(0x0b))).toThrow(ClientError); // a group
    expect(() => decodeProvisionEnvelope(Buffer.of(0x0a, 1, 5))).toThrow(ClientError);
  });
});

describe('link URI', () => {
  const publicKey = new Uint8Array(33).map((_, i) => (i === 0 ? 5 : 250 - i));
  const address = 'AbCdEfGhIjKlMnOpQrSt-_';

  it("has Signal's shape and round-trips", () => {
    const uri = formatLinkUri({ address, publicKey });
    expect(uri).toBe(
      `sotto://link?uuid=${address}&pub_key=${encodeURIComponent(Buffer.from(publicKey).toString('base64'))}`,
    );
    const parsed = parseLinkUri(`  ${uri}\n`);
    expect(parsed.address).toBe(address);
    expect(Buffer.from(parsed.publicKey)).toEqual(Buffer.from(publicKey));
    // Typed without percent-encoding ('+' and '/' as they are).
    const raw = `sotto://link?uuid=${address}&pub_key=${Buffer.from(publicKey).toString('base64')}`;
    expect(Buffer.from(parseLinkUri(raw).publicKey)).toEqual(Buffer.from(publicKey));
  });

  it('refuses anything else', () => {
    const good = formatLinkUri({ address, publicKey });
    for (const bad of [
      '',
      'garbage',
      good.replace('sotto:', 'sgnl:'),
      good.replace('//link', '//linkdevice'),
      `${good}&extra=1`,
      good.replace('uuid=AbCd', 'uuid=Ab'),
      good.replace('pub_key=Bf', 'pub_key=Af'),
      `sotto://link?uuid=${address}&pub_key=${Buffer.from(publicKey.subarray(1)).toString('base64')}`,
    ]) {
      expect(() => parseLinkUri(bad), bad).toThrow(ClientError);
    }
  });
});
