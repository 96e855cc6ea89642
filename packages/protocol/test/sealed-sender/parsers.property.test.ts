// Network input is an expected event (CONVENTIONS.md "Errors"): certificate, USMC and sealed
// sender parsers answer arbitrary or mutated bytes with a ProtocolError, never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair } from '../../src/keys/curve.js';
import { SenderCertificate, ServerCertificate } from '../../src/sealed-sender/certificates.js';
import {
  sealedSenderDecrypt,
  sealedSenderEncrypt,
} from '../../src/sealed-sender/sealed-sender-cipher.js';
import {
  SealedSenderMessageType,
  UnidentifiedSenderMessageContent,
} from '../../src/sealed-sender/unidentified-sender-message-content.js';
import { seededRng } from '../group/support.js';

const rng = seededRng('sealed-parsers');
const root = KeyPair.generate(rng);
const server = KeyPair.generate(rng);
const alice = KeyPair.generate(rng);
const bob = KeyPair.generate(rng);
const serverCert = ServerCertificate.create(1, server.publicKey, root.privateKey, rng);
const senderCert = SenderCertificate.create(
  {
    senderUuid: 'b9b0a9d4-3a8e-4a59-9d0b-3c3f2f8a0c11',
    senderE164: '+14155550100',
    senderDeviceId: 1,
    identityKey: alice.publicKey,
    expires: 10_000,
    signer: serverCert,
    signerKey: server.privateKey,
  },
  rng,
);
const usmc = UnidentifiedSenderMessageContent.create({
  msgType: SealedSenderMessageType.Whisper,
  senderCertificate: senderCert,
  contents: rng(40),
  groupId: rng(8),
});
const sealed = sealedSenderEncrypt(usmc, bob.publicKey, alice, rng);

function inputs(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = valid.slice();
      copy[i]! ^= x;
      return copy;
    }),
    fc.nat(valid.length).map((n) => valid.slice(0, n)),
  );
}

function onlyProtocolErrors(parse: (bytes: Uint8Array) => unknown, valid: Uint8Array): void {
  fc.assert(
    fc.property(inputs(valid), (bytes) => {
      try {
        parse(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }),
    { numRuns: 400 },
  );
}

describe('sealed-sender parsers on hostile input', () => {
  it('ServerCertificate (parse and validate)', () => {
    onlyProtocolErrors(
      (b) => ServerCertificate.deserialize(b).validate(root.publicKey),
      serverCert.serialize(),
    );
  });

  it('SenderCertificate (parse and validate)', () => {
    onlyProtocolErrors(
      (b) => SenderCertificate.deserialize(b).validate(root.publicKey, 0),
      senderCert.serialize(),
    );
  });

  it('UnidentifiedSenderMessageContent', () => {
    onlyProtocolErrors((b) => UnidentifiedSenderMessageContent.deserialize(b), usmc.serialize());
  });

  it('sealed sender v1 envelope', () => {
    onlyProtocolErrors((b) => sealedSenderDecrypt(b, bob, root.publicKey, 0), sealed);
  });
});
