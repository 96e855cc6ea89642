// SenderKeyDistributionMessage and SenderKeyMessage wire formats (shared/specs/signal-wire.md §5,
// libsignal rust/protocol/src/protocol.rs). Expected bytes are written out by hand from the
// field table in the spec, not produced by the encoder under test.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair } from '../../src/keys/curve.js';
import { SenderKeyDistributionMessage } from '../../src/group/sender-key-distribution-message.js';
import { SenderKeyMessage } from '../../src/group/sender-key-message.js';
import { uuidToBytes } from '../../src/group/uuid.js';
import { DISTRIBUTION_ID, hex, seededRng, unhex } from './support.js';

const rng = seededRng('messages');
const signing = KeyPair.generate(rng);
const chainKey = unhex('11'.repeat(32));
const uuidHex = DISTRIBUTION_ID.replaceAll('-', '');

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(ProtocolError.is(err)).toBe(true);
    expect((err as ProtocolError).code).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

describe('SenderKeyDistributionMessage', () => {
  it('encodes 0x33 ‖ pb{1 uuid, 2 chain id, 3 iteration, 4 chain key, 5 signing key}', () => {
    const skdm = SenderKeyDistributionMessage.create({
      distributionId: DISTRIBUTION_ID.toUpperCase(),
      chainId: 300,
      iteration: 0,
      chainKey,
      signingKey: signing.publicKey,
    });
    const expected =
      '33' +
      '0a10' +
      uuidHex +
      '10ac02' + // 300 as a varint
      '1800' + // iteration 0 is written (proto2 optional, Some(0))
      '2220' +
      '11'.repeat(32) +
      '2a21' +
      hex(signing.publicKey.serialize());
    expect(hex(skdm.serialize())).toBe(expected);
    expect(skdm.distributionId).toBe(DISTRIBUTION_ID);
  });

  it('round-trips and tolerates unknown fields', () => {
    const skdm = SenderKeyDistributionMessage.create({
      distributionId: DISTRIBUTION_ID,
      chainId: 0x7fff_ffff,
      iteration: 0xffff_fffe,
      chainKey,
      signingKey: signing.publicKey,
    });
    const withUnknown = new Uint8Array([...skdm.serialize(), 0x78, 0x05]); // field 15 = 5
    for (const bytes of [skdm.serialize(), withUnknown]) {
      const parsed = SenderKeyDistributionMessage.deserialize(bytes);
      expect(parsed.chainId).toBe(0x7fff_ffff);
      expect(parsed.iteration).toBe(0xffff_fffe);
      expect(hex(parsed.chainKey)).toBe(hex(chainKey));
      expect(parsed.signingKey.equals(signing.publicKey)).toBe(true);
      expect(parsed.distributionId).toBe(DISTRIBUTION_ID);
      expect(parsed.messageVersion).toBe(3);
    }
  });

  it('rejects malformed messages with clear codes', () => {
    const good = SenderKeyDistributionMessage.create({
      distributionId: DISTRIBUTION_ID,
      chainId: 1,
      iteration: 1,
      chainKey,
      signingKey: signing.publicKey,
    }).serialize();
    expectCode(
      () => SenderKeyDistributionMessage.deserialize(good.subarray(0, 64)),
      'INVALID_MESSAGE',
    );
    expectCode(
      () => SenderKeyDistributionMessage.deserialize(Uint8Array.of(0x23, ...good.subarray(1))),
      'LEGACY_VERSION',
    );
    expectCode(
      () => SenderKeyDistributionMessage.deserialize(Uint8Array.of(0x43, ...good.subarray(1))),
      'UNSUPPORTED_VERSION',
    );
    // chain key of 31 bytes
    const shortKey = unhex(
      '33' +
        '0a10' +
        uuidHex +
        '1001' +
        '1801' +
        '221f' +
        '11'.repeat(31) +
        '2a21' +
        hex(signing.publicKey.serialize()),
    );
    expectCode(() => SenderKeyDistributionMessage.deserialize(shortKey), 'INVALID_MESSAGE');
    // missing iteration
    const noIteration = unhex(
      '33' +
        '0a10' +
        uuidHex +
        '1001' +
        '2220' +
        '11'.repeat(32) +
        '2a21' +
        hex(signing.publicKey.serialize()),
    );
    expectCode(() => SenderKeyDistributionMessage.deserialize(noIteration), 'INVALID_MESSAGE');
    // chain id sent as bytes (wrong wire type)
    const wrongWire = unhex(
      '33' +
        '0a10' +
        uuidHex +
        '1201' +
        '00' +
        '1801' +
        '2220' +
        '11'.repeat(32) +
        '2a21' +
        hex(signing.publicKey.serialize()),
    );
    expectCode(() => SenderKeyDistributionMessage.deserialize(wrongWire), 'INVALID_MESSAGE');
    // distribution uuid of 15 bytes
    const shortUuid = unhex(
      '33' +
        '0a0f' +
        uuidHex.slice(2) +
        '1001' +
        '1801' +
        '2220' +
        '11'.repeat(32) +
        '2a21' +
        hex(signing.publicKey.serialize()),
    );
    expectCode(() => SenderKeyDistributionMessage.deserialize(shortUuid), 'INVALID_MESSAGE');
  });

  it('never prints the chain key', () => {
    const skdm = SenderKeyDistributionMessage.create({
      distributionId: DISTRIBUTION_ID,
      chainId: 1,
      iteration: 0,
      chainKey,
      signingKey: signing.publicKey,
    });
    for (const text of [JSON.stringify(skdm), inspect(skdm)]) {
      expect(text).not.toContain('11'.repeat(8));
      expect(text).not.toContain('17,17,17');
      expect(text).toContain('redacted');
    }
  });
});

describe('SenderKeyMessage', () => {
  const uuid = uuidToBytes(DISTRIBUTION_ID);
  const ciphertext = unhex('c0ffee'.repeat(11) + 'aa');

  it('encodes 0x33 ‖ pb{1,2,3,4} ‖ XEdDSA signature over the rest', () => {
    const message = SenderKeyMessage.create(uuid, 5, 200, ciphertext, signing.privateKey, rng);
    const bytes = message.serialize();
    const body = '33' + '0a10' + uuidHex + '1005' + '18c801' + '2222' + hex(ciphertext);
    expect(hex(bytes.subarray(0, bytes.length - 64))).toBe(body);
    expect(bytes.length).toBe(body.length / 2 + 64);
    expect(
      signing.publicKey.verifySignature(
        bytes.subarray(0, bytes.length - 64),
        bytes.subarray(bytes.length - 64),
      ),
    ).toBe(true);
    expect(message.verifySignature(signing.publicKey)).toBe(true);
    expect(message.verifySignature(KeyPair.generate(rng).publicKey)).toBe(false);
    const parsed = SenderKeyMessage.deserialize(bytes);
    expect(parsed.chainId).toBe(5);
    expect(parsed.iteration).toBe(200);
    expect(hex(parsed.ciphertext)).toBe(hex(ciphertext));
    expect(parsed.distributionId).toBe(DISTRIBUTION_ID);
  });

  it('detects a changed byte through the signature', () => {
    const bytes = SenderKeyMessage.create(
      uuid,
      5,
      200,
      ciphertext,
      signing.privateKey,
      rng,
    ).serialize();
    for (const index of [0 + 20, 25, bytes.length - 70, bytes.length - 1]) {
      const copy = bytes.slice();
      copy[index]! ^= 0x01;
      let verified = false;
      try {
        verified = SenderKeyMessage.deserialize(copy).verifySignature(signing.publicKey);
      } catch (err) {
        expect(ProtocolError.is(err)).toBe(true);
      }
      expect(verified).toBe(false);
    }
  });

  it('rejects short, wrong-version and incomplete messages', () => {
    expectCode(() => SenderKeyMessage.deserialize(new Uint8Array(64)), 'INVALID_MESSAGE');
    const sig = '00'.repeat(64);
    expectCode(
      () =>
        SenderKeyMessage.deserialize(
          unhex('22' + '0a10' + uuidHex + '1005' + '1801' + '2200' + sig),
        ),
      'LEGACY_VERSION',
    );
    expectCode(
      () =>
        SenderKeyMessage.deserialize(
          unhex('53' + '0a10' + uuidHex + '1005' + '1801' + '2200' + sig),
        ),
      'UNSUPPORTED_VERSION',
    );
    expectCode(
      () => SenderKeyMessage.deserialize(unhex('33' + '0a10' + uuidHex + '1005' + '1801' + sig)),
      'INVALID_MESSAGE',
    );
    expectCode(
      () => SenderKeyMessage.deserialize(unhex('33' + '1005' + '1801' + '2200' + sig)),
      'INVALID_MESSAGE',
    );
    // an empty ciphertext field is still present: parses
    expect(
      SenderKeyMessage.deserialize(unhex('33' + '0a10' + uuidHex + '1005' + '1801' + '2200' + sig))
        .ciphertext.length,
    ).toBe(0);
  });
});
