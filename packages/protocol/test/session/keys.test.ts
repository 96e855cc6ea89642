/**
 * Keys and records (shared/specs/signal-wire.md §1.3, §2.1, §3.1): identity pairs, prekey
 * records, KEM key checks, the base-key canonicality check, and that secrets never print.
 */
import { inspect } from 'node:util';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { toHex } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import {
  IdentityKeyPair,
  KemKeyPair,
  KeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  ProtocolError,
  SignedPreKeyRecord,
} from '../../src/index.js';
import { isCanonicalBaseKey, isInRange, isTorsionFree } from '../../src/hazmat.js';
import { seededRng } from '../../src/testing.js';

const rng = seededRng('keys');

function le(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}
const P = (1n << 255n) - 19n;

describe('identity keys and prekey records', () => {
  it('round-trip through their storage encodings', () => {
    const identity = IdentityKeyPair.generate(rng);
    const back = IdentityKeyPair.deserialize(identity.serialize());
    expect(back.publicKey.equals(identity.publicKey)).toBe(true);
    expect(toHex(back.privateKey.serialize())).toBe(toHex(identity.privateKey.serialize()));

    const pre = PreKeyRecord.generate(0, rng);
    expect(toHex(PreKeyRecord.deserialize(pre.serialize()).serialize())).toBe(
      toHex(pre.serialize()),
    );
    const spk = SignedPreKeyRecord.generate(0xffff_ffff, identity, 2 ** 52, rng);
    const spk2 = SignedPreKeyRecord.deserialize(spk.serialize());
    expect([spk2.id, spk2.timestamp]).toEqual([0xffff_ffff, 2 ** 52]);
    expect(identity.publicKey.verifySignature(spk2.publicKey.serialize(), spk2.signature)).toBe(
      true,
    );
    const kyber = KyberPreKeyRecord.generate(5, identity, 1, rng, { lastResort: true });
    const kyber2 = KyberPreKeyRecord.deserialize(kyber.serialize());
    expect(kyber2.lastResort).toBe(true);
    expect(kyber2.publicKey.equals(kyber.publicKey)).toBe(true);
    expect(identity.publicKey.verifySignature(kyber2.publicKey.serialize(), kyber2.signature)).toBe(
      true,
    );
  });

  it('rejects broken records with INVALID_STATE and mismatched identity halves with INVALID_KEY', () => {
    const identity = IdentityKeyPair.generate(rng);
    const other = IdentityKeyPair.generate(rng);
    const mixed = new IdentityKeyPair(other.publicKey, identity.privateKey);
    expect(() => IdentityKeyPair.deserialize(mixed.serialize())).toThrow(ProtocolError);
    for (const [name, parse, bytes] of [
      [
        'prekey',
        (b: Uint8Array) => PreKeyRecord.deserialize(b),
        PreKeyRecord.generate(1, rng).serialize(),
      ],
      [
        'signed',
        (b: Uint8Array) => SignedPreKeyRecord.deserialize(b),
        SignedPreKeyRecord.generate(1, identity, 1, rng).serialize(),
      ],
      [
        'kyber',
        (b: Uint8Array) => KyberPreKeyRecord.deserialize(b),
        KyberPreKeyRecord.generate(1, identity, 1, rng).serialize(),
      ],
    ] as const) {
      for (const cut of [0, 3, 20, bytes.length - 1]) {
        try {
          parse(bytes.subarray(0, cut));
          throw new Error(`${name} accepted ${cut} bytes`);
        } catch (e) {
          expect(ProtocolError.is(e, 'INVALID_STATE'), `${name} ${cut}: ${String(e)}`).toBe(true);
        }
      }
    }
  });

  it('never prints private material', () => {
    const identity = IdentityKeyPair.generate(rng);
    const kem = KemKeyPair.generate(rng);
    const spk = SignedPreKeyRecord.generate(1, identity, 1, rng);
    const secretHex = [
      toHex(identity.privateKey.serialize()),
      toHex(kem.secretKey.serialize()).slice(2, 66),
      toHex(spk.keyPair.privateKey.serialize()),
    ];
    const shown = [
      JSON.stringify({ identity, kem, spk }),
      inspect(identity, { depth: 5 }),
      inspect(kem, { depth: 5 }),
      inspect(spk, { depth: 5 }),
      inspect(KyberPreKeyRecord.generate(2, identity, 1, rng), { depth: 5 }),
    ].join('\n');
    for (const s of secretHex) expect(shown).not.toContain(s);
    expect(shown).toContain(toHex(identity.publicKey.serialize()));
  });
});

describe('base key canonicality (§3.1)', () => {
  it('accepts ordinary public keys', () => {
    for (let i = 0; i < 20; i++)
      expect(isCanonicalBaseKey(KeyPair.generate(rng).publicKey.u)).toBe(true);
  });

  it('rejects the high bit and u ≥ p', () => {
    const u = KeyPair.generate(rng).publicKey.u.slice();
    u[31]! |= 0x80;
    expect(isInRange(u)).toBe(false);
    for (const v of [P, P + 1n, P + 18n, (1n << 255n) - 1n])
      expect(isCanonicalBaseKey(le(v))).toBe(false);
    expect(isInRange(le(P - 1n))).toBe(true);
  });

  it('rejects small-order points and points with a torsion component, like libsignal', () => {
    // u = 0 (order 2), u = 1 (order 4), u = −1 (no Edwards image), and the order-8 points.
    for (const v of [0n, 1n, P - 1n]) expect(isTorsionFree(le(v))).toBe(false);
    const Point = ed25519.Point;
    const mont = (pt: InstanceType<typeof Point>): Uint8Array =>
      ed25519.utils.toMontgomery(pt.toBytes());
    const t8 = Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
    expect(t8.multiplyUnsafe(8n).is0()).toBe(true);
    for (let k = 1n; k < 8n; k++) {
      const t = t8.multiplyUnsafe(k);
      if (t.is0() || t.toAffine().y === P - 1n) continue; // (0, −1) has no Montgomery image
      expect(isTorsionFree(mont(t))).toBe(false);
    }
    for (let i = 0; i < 10; i++) {
      const good = Point.BASE.multiply(BigInt(1000 + i));
      expect(isTorsionFree(mont(good))).toBe(true);
      expect(isTorsionFree(mont(good.add(t8)))).toBe(false);
      expect(isTorsionFree(mont(good.add(t8.multiplyUnsafe(4n))))).toBe(false);
    }
  });

  it('rejects u on the quadratic twist', () => {
    // Find twist points: u with u³ + 486662u² + u a non-square mod p.
    let found = 0;
    for (let v = 2n; found < 5; v++) {
      const rhs = (v * v * v + 486662n * v * v + v) % P;
      let r = 1n;
      let b = rhs;
      let e = (P - 1n) / 2n;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % P;
        b = (b * b) % P;
        e >>= 1n;
      }
      if (r === P - 1n) {
        expect(isTorsionFree(le(v))).toBe(false);
        found++;
      }
    }
    // And x25519 keys are never on the twist.
    expect(isTorsionFree(x25519.getPublicKey(PrivateKey.generate(rng).serialize()))).toBe(true);
  });
});
