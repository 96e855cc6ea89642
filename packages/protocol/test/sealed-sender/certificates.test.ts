// Sealed-sender certificates (shared/specs/signal-wire.md §6). Known answers are the fixtures of
// libsignal v0.101 rust/protocol/src/sealed_sender.rs: `test_lossless_round_trip`,
// `test_uuid_bytes_representation`, `test_known_server_cert` and `verify_known_certificates`.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair, PrivateKey } from '../../src/keys/curve.js';
import {
  SenderCertificate,
  ServerCertificate,
  knownServerCertificates,
} from '../../src/sealed-sender/certificates.js';
import { hex, seededRng, unhex } from '../group/support.js';

// libsignal sealed_sender.rs `test_lossless_round_trip` (the certificate carries an unknown
// field 999 = "crashing right down" to prove unknown fields survive).
const LOSSLESS_DATA =
  '100119697a0000000000002221056c9d1f8deb82b9a898f9c277a1b74989ec009afb5c0acb5e8e69e3d5ca29d6322a690a2508011221053b03ca070e6f6b2f271d32f27321689cdf4e59b106c10b58fbe15063ed868a5a124024bc92954e52ad1a105b5bda85c9db410dcfeb42a671b45a523b3a46e9594a8bde0efc671d8e8e046b32c67f59b80a46ffdf24071850779bc21325107902af89322461616161616161612d373030302d313165622d623332612d333362386138613438376136ba3e136372617368696e6720726967687420646f776e';
const LOSSLESS_SIGNATURE =
  'a22d8f86f5d00794f319add821e342c6ffffb6b34f741e569f8b321ab0255f2d1757ecf648e53a3602cae8f09b3fc80dcf27534d67efd272b6739afc31f75c8c';
// `test_uuid_bytes_representation`
const UUID_BYTES_DATA =
  '100119697a000000000000222105e083a8ce423d1c1955174107a85a6a7f3bcbf566723624077f75eafe8e0a07752a690a25080112210507a24397ae27d06fa76d2f02cfb5546e0b23a7e0c3670c1eb1e73b135a8e1e4d12407d127509ae1f5e9dcaa511793d3e94350dcb269e4ca54500da6e1f4dc13d95940c15badef019edfe8666315500c54e4489d4b83f6ce79c7f65c9772a1a83d88c3a10aaaaaaaa700011ebb32a33b8a8a487a6';
const UUID_BYTES_SIGNATURE =
  '755c428e9bf6ba367152f1e545834649b4e8f70df8383a352a953fdb774862af5d42fab573fc52b90ad47c331c36f93b1a4fa7a2504917d895452ffe7f44bd0e';
// `test_known_server_cert` (signer referenced by id 0x7357C357, field 8)
const KNOWN_CERT_DATA =
  '100119697a000000000000222105d75b13e15c7700079dd226f51e5a790ba395e819e88a74d0cf5cedfad8b4334840d786df9a07322461616161616161612d373030302d313165622d623332612d333362386138613438376136';
const KNOWN_CERT_SIGNATURE =
  'e62667bce627caed56ca2ab309b6ae7bc890a30a7482c0e1fd77ec9c3b7528abfd45c8c42b240509a71d973ef5e0f1dbd2685fe01410f0fdbaa8fb247a67e08f';
const UUID = 'aaaaaaaa-7000-11eb-b32a-33b8a8a487a6';

/** pb{1: data, 2: signature}, written by hand. */
function envelope(dataHex: string, signatureHex: string): Uint8Array {
  const dataLength = dataHex.length / 2;
  const lengthVarint =
    dataLength < 128
      ? dataLength.toString(16).padStart(2, '0')
      : ((dataLength & 0x7f) | 0x80).toString(16) + (dataLength >> 7).toString(16).padStart(2, '0');
  return unhex('0a' + lengthVarint + dataHex + '1240' + signatureHex);
}

const trustRoot = PrivateKey.deserialize(new Uint8Array(32)).publicKey;
const rng = seededRng('certificates');

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(ProtocolError.is(err) ? err.code : err).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

describe('libsignal certificate fixtures', () => {
  it('validates the lossless-round-trip fixture (unknown field kept in the signed bytes)', () => {
    const bytes = envelope(LOSSLESS_DATA, LOSSLESS_SIGNATURE);
    const cert = SenderCertificate.deserialize(bytes);
    expect(cert.senderUuid).toBe(UUID);
    expect(cert.senderE164).toBeUndefined();
    expect(cert.senderDeviceId).toBe(1);
    expect(cert.expires).toBe(31337);
    expect(cert.signerId).toBeUndefined();
    expect(cert.signer.keyId).toBe(1);
    expect(cert.validate(trustRoot, 31336)).toBe(true);
    expect(cert.validate(trustRoot, 31337)).toBe(true);
    expect(cert.validate(trustRoot, 31338)).toBe(false);
    expectCode(() => cert.assertValid(trustRoot, 31338), 'CERTIFICATE_EXPIRED');
    expect(hex(cert.serialize())).toBe(hex(bytes));
  });

  it('validates the uuidBytes fixture', () => {
    const cert = SenderCertificate.deserialize(envelope(UUID_BYTES_DATA, UUID_BYTES_SIGNATURE));
    expect(cert.senderUuid).toBe(UUID);
    expect(cert.senderDeviceId).toBe(1);
    expect(cert.expires).toBe(31337);
    expect(cert.validate(trustRoot, 31336)).toBe(true);
  });

  it('validates the fixture that names known server certificate 0x7357C357', () => {
    const cert = SenderCertificate.deserialize(envelope(KNOWN_CERT_DATA, KNOWN_CERT_SIGNATURE));
    expect(cert.signerId).toBe(0x7357c357);
    expect(cert.signer.keyId).toBe(0x7357c357);
    // Its server key is the public key of the all-0xFF private key.
    expect(
      cert.signer.key.equals(PrivateKey.deserialize(new Uint8Array(32).fill(0xff)).publicKey),
    ).toBe(true);
    expect(cert.validate(trustRoot, 31336)).toBe(true);
    expect(cert.validate(KeyPair.generate(rng).publicKey, 31336)).toBe(false);
  });

  it('has the three known server certificates, each signed by its trust root', () => {
    const known = knownServerCertificates();
    expect([...known.keys()].sort((a, b) => a - b)).toEqual([2, 3, 0x7357c357]);
    for (const [id, entry] of known) {
      expect(entry.certificate.keyId).toBe(id);
      expect(entry.certificate.validate(entry.trustRoot)).toBe(true);
    }
    expect(known.get(0x7357c357)!.trustRoot.equals(trustRoot)).toBe(true);
  });

  it('encodes a certificate exactly as the fixture (minus its unknown field)', () => {
    const fixture = SenderCertificate.deserialize(envelope(LOSSLESS_DATA, LOSSLESS_SIGNATURE));
    const unknownField = 'ba3e136372617368696e6720726967687420646f776e';
    expect(LOSSLESS_DATA.endsWith(unknownField)).toBe(true);
    const made = SenderCertificate.create(
      {
        senderUuid: UUID,
        senderDeviceId: 1,
        identityKey: fixture.identityKey,
        expires: 31337,
        signer: fixture.signer,
        signerKey: KeyPair.generate(rng).privateKey,
      },
      rng,
    );
    expect(hex(made.certificate)).toBe(LOSSLESS_DATA.slice(0, -unknownField.length));
  });
});

describe('certificate issuing and validation', () => {
  const root = KeyPair.generate(rng);
  const server = KeyPair.generate(rng);
  const sender = KeyPair.generate(rng);
  const serverCert = ServerCertificate.create(42, server.publicKey, root.privateKey, rng);
  const options = {
    senderUuid: '9d0652a3-dcc3-4d11-975f-74d61598733f',
    senderE164: '+14151231234',
    senderDeviceId: 3,
    identityKey: sender.publicKey,
    expires: 1_700_000_000_000,
    signer: serverCert,
    signerKey: server.privateKey,
  };

  it('issues a server certificate {1: id, 2: key} signed by the root', () => {
    expect(hex(serverCert.certificate)).toBe('082a' + '1221' + hex(server.publicKey.serialize()));
    expect(serverCert.validate(root.publicKey)).toBe(true);
    expect(serverCert.validate(server.publicKey)).toBe(false);
    const parsed = ServerCertificate.deserialize(serverCert.serialize());
    expect(parsed.keyId).toBe(42);
    expect(parsed.key.equals(server.publicKey)).toBe(true);
    expect(parsed.validate(root.publicKey)).toBe(true);
  });

  it('issues and validates a sender certificate', () => {
    const cert = SenderCertificate.create(options, rng);
    const parsed = SenderCertificate.deserialize(cert.serialize());
    expect(parsed.senderUuid).toBe(options.senderUuid);
    expect(parsed.senderE164).toBe('+14151231234');
    expect(parsed.senderDeviceId).toBe(3);
    expect(parsed.expires).toBe(options.expires);
    expect(parsed.identityKey.equals(sender.publicKey)).toBe(true);
    expect(parsed.validate(root.publicKey, options.expires)).toBe(true);
    expect(parsed.validate([KeyPair.generate(rng).publicKey, root.publicKey], 0)).toBe(true);
    expectCode(() => parsed.assertValid(KeyPair.generate(rng).publicKey, 0), 'INVALID_CERTIFICATE');
    expectCode(() => parsed.assertValid([], 0), 'INVALID_CERTIFICATE');
    expectCode(
      () => parsed.assertValid(root.publicKey, options.expires + 1),
      'CERTIFICATE_EXPIRED',
    );
  });

  it('refuses the revoked server certificate id 0xDEADC357 even when correctly signed', () => {
    const revoked = ServerCertificate.create(0xdeadc357, server.publicKey, root.privateKey, rng);
    expect(revoked.validate(root.publicKey)).toBe(false);
    const cert = SenderCertificate.create({ ...options, signer: revoked }, rng);
    expectCode(() => cert.assertValid(root.publicKey, 0), 'INVALID_CERTIFICATE');
  });

  it('refuses a sender certificate not signed by the server key', () => {
    const cert = SenderCertificate.create({ ...options, signerKey: sender.privateKey }, rng);
    expectCode(() => cert.assertValid(root.publicKey, 0), 'INVALID_CERTIFICATE');
  });

  it('refuses an unknown server certificate id', () => {
    // KNOWN_CERT_DATA with id 0x7357C357 (d786df9a07) replaced by 5.
    const data = KNOWN_CERT_DATA.replace('40d786df9a07', '4005');
    const cert = SenderCertificate.deserialize(envelope(data, KNOWN_CERT_SIGNATURE));
    expect(cert.signerId).toBe(5);
    expectCode(() => cert.signer, 'INVALID_CERTIFICATE');
    expect(cert.validate(trustRoot, 0)).toBe(false);
  });

  it('rejects malformed certificates with INVALID_CERTIFICATE', () => {
    const good = SenderCertificate.create(options, rng);
    const cases = [
      new Uint8Array([0xff]),
      unhex('0a00'), // no signature
      envelope('', '00'.repeat(64)), // empty certificate
      envelope(hex(good.certificate).replace('1003', '1000'), '00'.repeat(64)), // device 0
      envelope(hex(good.certificate).replace('1003', '10ff01'), '00'.repeat(64)), // device 255
      envelope('1001', '00'.repeat(64)),
      envelope(
        '10011901000000000000002221' + hex(sender.publicKey.serialize()) + '4001' + '3a03aaaaaa',
        '00'.repeat(64),
      ), // uuidBytes of 3 bytes
      envelope('0a02ff00' + hex(good.certificate), '00'.repeat(64)), // e164 not UTF-8
    ];
    for (const bytes of cases)
      expectCode(() => SenderCertificate.deserialize(bytes), 'INVALID_CERTIFICATE');
    expectCode(
      () => ServerCertificate.deserialize(unhex('0a020801' + '1240' + '00'.repeat(64))),
      'INVALID_CERTIFICATE',
    );
  });

  it('validates arguments when issuing', () => {
    expectCode(
      () => SenderCertificate.create({ ...options, senderDeviceId: 0 }, rng),
      'INVALID_STATE',
    );
    expectCode(
      () => SenderCertificate.create({ ...options, senderDeviceId: 128 }, rng),
      'INVALID_STATE',
    );
    expectCode(() => SenderCertificate.create({ ...options, expires: -1 }, rng), 'INVALID_STATE');
    expectCode(
      () => ServerCertificate.create(-1, server.publicKey, root.privateKey, rng),
      'INVALID_STATE',
    );
  });

  it('prints no phone number', () => {
    const cert = SenderCertificate.create(options, rng);
    expect(JSON.stringify(cert)).not.toContain('4151231234');
    expect(inspect(cert)).not.toContain('4151231234');
    expect(inspect(cert)).toContain(options.senderUuid);
  });
});
