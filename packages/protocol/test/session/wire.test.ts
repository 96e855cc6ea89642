/**
 * Wire formats of 1:1 messages (shared/specs/signal-wire.md §2.2–§2.4) and service IDs: encoder
 * and parser agree, every required field is required, versions map to the right error codes,
 * and bad input from the network is a clean `ProtocolError`.
 */
import { describe, expect, it } from 'vitest';
import {
  KeyPair,
  ProtocolError,
  parsePreKeySignalMessage,
  parseSignalMessage,
} from '../../src/index.js';
import {
  encodeAddresses,
  encodePreKeySignalMessage,
  encodeSignalMessage,
  verifySignalMessageMac,
} from '../../src/hazmat.js';
import { ProtoWriter } from '../../src/wire/protobuf.js';
import {
  sameServiceId,
  serviceIdFixedFromString,
  serviceIdFixedToString,
} from '../../src/wire/service-id.js';
import { seededRng } from '../../src/testing.js';

const rng = seededRng('wire');
const ratchet = KeyPair.generate(rng).publicKey;
const sender = KeyPair.generate(rng).publicKey.serialize();
const receiver = KeyPair.generate(rng).publicKey.serialize();
const macKey = rng(32);
const code = (c: Parameters<typeof ProtocolError.is>[1]) => (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(ProtocolError.is(e, c), String(e)).toBe(true);
    return;
  }
  throw new Error(`expected ${c}`);
};

function signalMessage(
  overrides: Partial<Parameters<typeof encodeSignalMessage>[0]> = {},
): Uint8Array {
  return encodeSignalMessage(
    {
      ratchetKey: ratchet.serialize(),
      counter: 300,
      previousCounter: 7,
      ciphertext: rng(48),
      pqRatchet: Uint8Array.of(1, 1, 1, 0),
      addresses: null,
      ...overrides,
    },
    macKey,
    sender,
    receiver,
  );
}

describe('SignalMessage', () => {
  it('round-trips through encoder and parser, and the MAC binds both identities', () => {
    const bytes = signalMessage();
    expect(bytes[0]).toBe(0x44);
    const m = parseSignalMessage(bytes);
    expect(m.version).toBe(4);
    expect(m.counter).toBe(300);
    expect(m.previousCounter).toBe(7);
    expect(m.ratchetKey.equals(ratchet)).toBe(true);
    expect(m.pqRatchet).toEqual(Uint8Array.of(1, 1, 1, 0));
    expect(m.addresses).toBeNull();
    expect(verifySignalMessageMac(m, macKey, sender, receiver)).toBe(true);
    expect(verifySignalMessageMac(m, macKey, receiver, sender)).toBe(false);
    expect(verifySignalMessageMac(m, rng(32), sender, receiver)).toBe(false);
  });

  it('writes fields in number order, with counter 0 explicit (as prost does)', () => {
    const bytes = signalMessage({
      counter: 0,
      previousCounter: 0,
      ciphertext: Uint8Array.of(9),
      pqRatchet: new Uint8Array(0),
    });
    const pb = bytes.subarray(1, bytes.length - 8);
    expect([...pb.subarray(0, 2)]).toEqual([0x0a, 33]);
    expect([...pb.subarray(35)]).toEqual([0x10, 0, 0x18, 0, 0x22, 1, 9]);
  });

  it('carries the 36-byte addresses field', () => {
    const addresses = encodeAddresses(
      { name: '9d0652a3-dcc3-4d11-975f-74d61598733f', deviceId: 3 },
      { name: 'PNI:796abedb-ca4e-4f18-8803-1fde5b921f9f', deviceId: 127 },
    )!;
    expect(addresses.length).toBe(36);
    expect(addresses[0]).toBe(0);
    expect(addresses[17]).toBe(3);
    expect(addresses[18]).toBe(1);
    expect(addresses[35]).toBe(127);
    expect(parseSignalMessage(signalMessage({ addresses })).addresses).toEqual(addresses);
    expect(
      encodeAddresses(
        { name: 'not-a-uuid', deviceId: 1 },
        { name: '9d0652a3-dcc3-4d11-975f-74d61598733f', deviceId: 1 },
      ),
    ).toBeNull();
  });

  it('maps versions: 3 and older are LEGACY_VERSION, newer UNSUPPORTED_VERSION', () => {
    for (const [byte, c] of [
      [0x33, 'LEGACY_VERSION'],
      [0x23, 'LEGACY_VERSION'],
      [0x54, 'UNSUPPORTED_VERSION'],
      [0xf4, 'UNSUPPORTED_VERSION'],
    ] as const) {
      const bytes = signalMessage();
      bytes[0] = byte;
      code(c)(() => parseSignalMessage(bytes));
    }
  });

  it('rejects missing required fields, wrong wire types, truncation and garbage as INVALID_MESSAGE', () => {
    const mac = new Uint8Array(8);
    const build = (w: ProtoWriter): Uint8Array => Uint8Array.from([0x44, ...w.finish(), ...mac]);
    const key = ratchet.serialize();
    code('INVALID_MESSAGE')(() =>
      parseSignalMessage(build(new ProtoWriter().uint32(2, 1).bytes(4, Uint8Array.of(1)))),
    );
    code('INVALID_MESSAGE')(() =>
      parseSignalMessage(build(new ProtoWriter().bytes(1, key).bytes(4, Uint8Array.of(1)))),
    );
    code('INVALID_MESSAGE')(() =>
      parseSignalMessage(build(new ProtoWriter().bytes(1, key).uint32(2, 1))),
    );
    code('INVALID_MESSAGE')(() =>
      parseSignalMessage(build(new ProtoWriter().uint32(1, 5).uint32(2, 1).bytes(4, key))),
    );
    code('INVALID_MESSAGE')(() =>
      parseSignalMessage(
        build(new ProtoWriter().bytes(1, key.subarray(0, 20)).uint32(2, 1).bytes(4, key)),
      ),
    );
    code('INVALID_MESSAGE')(() => parseSignalMessage(Uint8Array.of(0x44, 1, 2)));
    code('INVALID_MESSAGE')(() => parseSignalMessage(new Uint8Array(0)));
    const good = signalMessage();
    for (let cut = 1; cut < good.length - 8; cut += 7) {
      const truncated = Uint8Array.from([...good.subarray(0, cut), ...mac]);
      expect(() => parseSignalMessage(truncated)).toThrow(ProtocolError);
    }
    for (let i = 0; i < 200; i++) {
      const junk = rng(1 + (i % 90));
      junk[0] = 0x44;
      try {
        parseSignalMessage(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
      }
    }
    // Unknown fields are skipped, as prost does.
    const withExtra = build(
      new ProtoWriter().bytes(1, key).uint32(2, 1).bytes(4, key).uint32(9, 5).bytes(10, key),
    );
    expect(parseSignalMessage(withExtra).counter).toBe(1);
  });
});

describe('PreKeySignalMessage', () => {
  const fields = {
    registrationId: 2222,
    preKeyId: 31 as number | null,
    signedPreKeyId: 42,
    kyberPreKeyId: 77,
    kyberCiphertext: Uint8Array.from([0x08, ...rng(1568)]),
    baseKey: KeyPair.generate(rng).publicKey.serialize(),
    identityKey: sender,
    message: signalMessage(),
  };

  it('round-trips, with and without a one-time prekey', () => {
    for (const preKeyId of [31, null]) {
      const m = parsePreKeySignalMessage(encodePreKeySignalMessage({ ...fields, preKeyId }));
      expect(m.preKeyId).toBe(preKeyId);
      expect([m.registrationId, m.signedPreKeyId, m.kyberPreKeyId]).toEqual([2222, 42, 77]);
      expect(m.kyberCiphertext).toEqual(fields.kyberCiphertext);
      expect(m.message.counter).toBe(300);
    }
  });

  it('a v4 message without both Kyber fields is MISSING_KYBER; v3 is LEGACY_VERSION', () => {
    const w = (f: (p: ProtoWriter) => ProtoWriter): Uint8Array =>
      Uint8Array.from([0x44, ...f(new ProtoWriter()).finish()]);
    const base = (p: ProtoWriter): ProtoWriter =>
      p
        .bytes(2, fields.baseKey)
        .bytes(3, fields.identityKey)
        .bytes(4, fields.message)
        .uint32(6, 42);
    expect(
      parsePreKeySignalMessage(w((p) => base(p).uint32(7, 1).bytes(8, fields.kyberCiphertext)))
        .kyberPreKeyId,
    ).toBe(1);
    code('MISSING_KYBER')(() => parsePreKeySignalMessage(w(base)));
    code('MISSING_KYBER')(() => parsePreKeySignalMessage(w((p) => base(p).uint32(7, 1))));
    code('MISSING_KYBER')(() =>
      parsePreKeySignalMessage(w((p) => base(p).bytes(8, fields.kyberCiphertext))),
    );
    code('INVALID_MESSAGE')(() =>
      parsePreKeySignalMessage(w((p) => p.bytes(2, fields.baseKey).uint32(7, 1))),
    );
    const v3 = encodePreKeySignalMessage(fields);
    v3[0] = 0x33;
    code('LEGACY_VERSION')(() => parsePreKeySignalMessage(v3));
  });
});

describe('service IDs', () => {
  it('parses ACIs and PNIs case-insensitively and only in hyphenated form', () => {
    const aci = serviceIdFixedFromString('9D0652A3-dcc3-4d11-975f-74d61598733f')!;
    expect(aci[0]).toBe(0);
    expect(serviceIdFixedToString(aci)).toBe('9d0652a3-dcc3-4d11-975f-74d61598733f');
    const pni = serviceIdFixedFromString('PNI:796abedb-ca4e-4f18-8803-1fde5b921f9f')!;
    expect(pni[0]).toBe(1);
    expect(serviceIdFixedToString(pni)).toBe('PNI:796abedb-ca4e-4f18-8803-1fde5b921f9f');
    for (const bad of [
      '9d0652a3dcc34d11975f74d61598733f',
      '{9d0652a3-dcc3-4d11-975f-74d61598733f}',
      'urn:uuid:9d0652a3-dcc3-4d11-975f-74d61598733f',
      'pni:796abedb-ca4e-4f18-8803-1fde5b921f9f',
      '+14155550100',
      '9d0652a3-dcc3-4d11-975f-74d61598733g',
      '9d0652a3-dcc3-4d11-975f_74d61598733f',
      '',
    ]) {
      expect(serviceIdFixedFromString(bad), bad).toBeNull();
    }
    expect(
      sameServiceId('9d0652a3-dcc3-4d11-975f-74d61598733f', '9D0652A3-DCC3-4D11-975F-74D61598733F'),
    ).toBe(true);
    expect(
      sameServiceId(
        '9d0652a3-dcc3-4d11-975f-74d61598733f',
        'PNI:9d0652a3-dcc3-4d11-975f-74d61598733f',
      ),
    ).toBe(false);
  });
});
