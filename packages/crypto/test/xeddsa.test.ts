/**
 * XEdDSA (signal-wire.md §4): libsignal's known-answer signatures, interop with
 * `@signalapp/libsignal-client` in both directions, independent re-statements of the §4 signing
 * algorithm and verification equation (BigInt point arithmetic of `@noble/curves`), and tampering.
 */
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/active-backend.js';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';
import { sha512 } from '../src/primitives.js';
import { xeddsaSign, xeddsaVerify } from '../src/xeddsa.js';

interface Vectors {
  bob: Record<string, string>;
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../test-vectors/signal-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const bob = (name: string) => fromHex(vectors.bob[name]!);

const L = ed25519.Point.Fn.ORDER;
const withType = (u: Uint8Array) => Uint8Array.of(0x05, ...u);

/** libsignal's derivation of the public key (clamps the private key on deserialize). */
function libsignalPublic(privateKey: Uint8Array): Uint8Array {
  return PrivateKey.deserialize(privateKey.slice()).getPublicKey().getPublicKeyBytes();
}

/**
 * §4 verification written out with raw point arithmetic (independent of both backends'
 * Ed25519 verifiers): A from u and the sign bit via y = (u−1)/(u+1), reject s[31] & 0xE0,
 * check encode([s]B − [h]A) == R.
 */
function referenceVerify(u: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const { Fp } = ed25519.Point;
  const uValue = Fp.create(bytesToNumberLE(u) & ((1n << 255n) - 1n));
  if (Fp.eql(uValue, Fp.neg(Fp.ONE))) return false;
  const y = Fp.div(Fp.sub(uValue, Fp.ONE), Fp.add(uValue, Fp.ONE));
  const aBytes = new Uint8Array(32);
  let yy = y;
  for (let i = 0; i < 32; i++, yy >>= 8n) aBytes[i] = Number(yy & 0xffn);
  aBytes[31] = aBytes[31]! | (signature[63]! & 0x80);
  let A;
  try {
    A = ed25519.Point.fromBytes(aBytes, true);
  } catch {
    return false;
  }
  const s = signature.slice(32);
  s[31] = s[31]! & 0x7f;
  if ((s[31] & 0xe0) !== 0) return false;
  const R = signature.subarray(0, 32);
  const h = bytesToNumberLE(sha512(Uint8Array.of(...R, ...A.toBytes(), ...message))) % L;
  const sValue = bytesToNumberLE(s) % L;
  const check = ed25519.Point.BASE.multiplyUnsafe(sValue).subtract(A.multiplyUnsafe(h));
  return toHex(check.toBytes()) === toHex(R);
}

/**
 * The previous verification path, kept as a cross-check: the Montgomery → Edwards map in BigInt,
 * then OpenSSL's RFC 8032 Ed25519 verifier (which requires s < L).
 */
function opensslVerify(u: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const { Fp } = ed25519.Point;
  const uValue = Fp.create(bytesToNumberLE(u) & ((1n << 255n) - 1n));
  if (Fp.eql(uValue, Fp.neg(Fp.ONE))) return false;
  const y = Fp.div(Fp.sub(uValue, Fp.ONE), Fp.add(uValue, Fp.ONE));
  const aBytes = new Uint8Array(32);
  let yy = y;
  for (let i = 0; i < 32; i++, yy >>= 8n) aBytes[i] = Number(yy & 0xffn);
  if (!Fp.eql(y, Fp.neg(Fp.ONE))) aBytes[31] = aBytes[31]! | (signature[63]! & 0x80);
  const top = signature[63]! & 0x7f;
  if ((top & 0xe0) !== 0) return false;
  const ed = signature.slice();
  ed[63] = top;
  return nodeBackend.ed25519Verify(aBytes, message, ed);
}

/**
 * §4 signing written out with `@noble/curves` BigInt point arithmetic and `@noble/hashes`
 * SHA-512 (independent of the hazmat modules and of both backends), as libsignal's
 * `calculate_signature` computes it:
 * r = SHA-512(0xFE ‖ 0xFF×31 ‖ k ‖ msg ‖ Z) mod L, R = rB, h = SHA-512(R ‖ A ‖ msg) mod L,
 * s = h·a + r mod L, sig = R ‖ s with A's sign bit in bit 7 of sig[63].
 */
function referenceSign(privateKey: Uint8Array, message: Uint8Array, random: Uint8Array): string {
  const k = privateKey.slice();
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 127) | 64;
  const a = bytesToNumberLE(k) % L;
  const A = ed25519.Point.BASE.multiply(a).toBytes();
  const prefix = Uint8Array.of(0xfe, ...new Array<number>(31).fill(0xff));
  const r = bytesToNumberLE(nobleSha512(Uint8Array.of(...prefix, ...k, ...message, ...random))) % L;
  const R = ed25519.Point.BASE.multiplyUnsafe(r).toBytes();
  const h = bytesToNumberLE(nobleSha512(Uint8Array.of(...R, ...A, ...message))) % L;
  let s = (h * a + r) % L;
  const signature = new Uint8Array(64);
  signature.set(R, 0);
  for (let i = 32; i < 64; i++, s >>= 8n) signature[i] = Number(s & 0xffn);
  signature[63] = signature[63]! | (A[31]! & 0x80);
  return toHex(signature);
}

const previous = useBackend(nodeBackend);
afterAll(() => {
  useBackend(previous);
});

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])(
  'XEdDSA on the $name backend',
  (backend) => {
    const use = () => useBackend(backend);

    it('verifies libsignal prekey signatures from signal-vectors.json (signed over the typed keys)', () => {
      use();
      const identity = bob('identityPublic').subarray(1);
      const signedPreKey = bob('signedPreKeyPublic');
      const kyberPreKey = bob('kyberPreKeyPublic');
      expect(signedPreKey.length).toBe(33);
      expect(kyberPreKey.length).toBe(1569);
      expect(xeddsaVerify(identity, signedPreKey, bob('signedPreKeySignature'))).toBe(true);
      expect(xeddsaVerify(identity, kyberPreKey, bob('kyberPreKeySignature'))).toBe(true);
      // Without the type byte the message is different.
      expect(xeddsaVerify(identity, signedPreKey.subarray(1), bob('signedPreKeySignature'))).toBe(
        false,
      );
      // Under another key it fails.
      expect(
        xeddsaVerify(
          bob('signedPreKeyPublic').subarray(1),
          signedPreKey,
          bob('signedPreKeySignature'),
        ),
      ).toBe(false);
    });

    it('signs with the vector identity key; libsignal and the §4 reference accept it', () => {
      use();
      const message = bob('signedPreKeyPublic');
      const signature = xeddsaSign(bob('identityPrivate'), message, new Uint8Array(64).fill(7));
      const identity = bob('identityPublic');
      expect(PublicKey.deserialize(identity).verify(message, signature)).toBe(true);
      expect(referenceVerify(identity.subarray(1), message, signature)).toBe(true);
      expect(xeddsaVerify(identity.subarray(1), message, signature)).toBe(true);
    });

    it("signs byte-for-byte as the §4 reference (libsignal's algorithm) for the same Z", () => {
      use();
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          (privateKey, message, random) => {
            expect(toHex(xeddsaSign(privateKey, message, random))).toBe(
              referenceSign(privateKey, message, random),
            );
          },
        ),
        { numRuns: backend.name === 'node' ? 150 : 40 },
      );
      // Keys and randomness at the edges: all-zero, all-ones, and the vector identity key.
      for (const key of [
        new Uint8Array(32),
        new Uint8Array(32).fill(0xff),
        bob('identityPrivate'),
      ]) {
        for (const random of [new Uint8Array(64), new Uint8Array(64).fill(0xff)]) {
          const message = bob('signedPreKeyPublic');
          expect(toHex(xeddsaSign(key, message, random))).toBe(referenceSign(key, message, random));
        }
      }
    });

    it('our signatures verify under libsignal (random, unclamped keys)', () => {
      use();
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          (privateKey, message, random) => {
            const signature = xeddsaSign(privateKey, message, random);
            const publicKey = libsignalPublic(privateKey);
            expect(
              PublicKey.deserialize(withType(publicKey)).verify(message.slice(), signature.slice()),
            ).toBe(true);
            expect(xeddsaVerify(publicKey, message, signature)).toBe(true);
            expect(referenceVerify(publicKey, message, signature)).toBe(true);
          },
        ),
        { numRuns: backend.name === 'node' ? 40 : 8 },
      );
    });

    it('libsignal signatures verify under ours', () => {
      use();
      for (let i = 0; i < (backend.name === 'node' ? 40 : 8); i++) {
        const key = PrivateKey.generate();
        const message = nodeBackend.randomBytes(i * 7);
        const signature = key.sign(message.slice());
        const publicKey = key.getPublicKey().getPublicKeyBytes();
        expect(xeddsaVerify(publicKey, message, signature)).toBe(true);
        // Bit 255 of u is ignored by both (curve25519-dalek's FieldElement::from_bytes).
        const highBit = publicKey.slice();
        highBit[31] = highBit[31]! | 0x80;
        expect(xeddsaVerify(highBit, message, signature)).toBe(true);
        expect(PublicKey.deserialize(withType(highBit)).verify(message.slice(), signature)).toBe(
          true,
        );
      }
    });

    it('any flipped bit of the signature, message or key is rejected, as by libsignal', () => {
      use();
      const privateKey = nodeBackend.randomBytes(32);
      const publicKey = libsignalPublic(privateKey);
      const message = utf8('sender key message body');
      const signature = xeddsaSign(privateKey, message, nodeBackend.randomBytes(64));
      const lib = PublicKey.deserialize(withType(publicKey));
      for (let bit = 0; bit < 512; bit += 3) {
        const bad = signature.slice();
        bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
        expect(xeddsaVerify(publicKey, message, bad)).toBe(false);
        expect(lib.verify(message.slice(), bad)).toBe(false);
      }
      for (const bit of [0, 7, 100, 254]) {
        const badKey = publicKey.slice();
        badKey[bit >> 3] = badKey[bit >> 3]! ^ (1 << (bit & 7));
        expect(xeddsaVerify(badKey, message, signature)).toBe(false);
      }
      const badMessage = message.slice();
      badMessage[3] = badMessage[3]! ^ 0x10;
      expect(xeddsaVerify(publicKey, badMessage, signature)).toBe(false);
    });

    it('rejects s with bits 253-254 set, and u = −1', () => {
      use();
      const privateKey = nodeBackend.randomBytes(32);
      const publicKey = libsignalPublic(privateKey);
      const message = utf8('m');
      const signature = xeddsaSign(privateKey, message, nodeBackend.randomBytes(64));
      for (const mask of [0x20, 0x40]) {
        const bad = signature.slice();
        bad[63] = bad[63]! | mask;
        expect(xeddsaVerify(publicKey, message, bad)).toBe(false);
      }
      // u = p − 1 = −1 has no Edwards image.
      const minusOne = fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
      expect(xeddsaVerify(minusOne, message, signature)).toBe(false);
      expect(PublicKey.deserialize(withType(minusOne)).verify(message.slice(), signature)).toBe(
        false,
      );
    });

    it('accepts s + L as libsignal does (s is reduced mod L), unlike an RFC 8032 verifier', () => {
      use();
      const key = PrivateKey.generate();
      const message = utf8('malleable');
      const signature = key.sign(message.slice());
      const signBit = signature[63]! & 0x80;
      const s = bytesToNumberLE(
        Uint8Array.of(...signature.subarray(32, 63), signature[63]! & 0x7f),
      );
      let sPlusL = s + L;
      expect(sPlusL < 2n ** 253n).toBe(true);
      const malleated = signature.slice();
      for (let i = 32; i < 64; i++, sPlusL >>= 8n) malleated[i] = Number(sPlusL & 0xffn);
      malleated[63] = malleated[63]! | signBit;
      const publicKey = key.getPublicKey().getPublicKeyBytes();
      expect(key.getPublicKey().verify(message.slice(), malleated)).toBe(true);
      expect(xeddsaVerify(publicKey, message, malleated)).toBe(true);
      expect(opensslVerify(publicKey, message, malleated)).toBe(false);
    });

    it('verifies exactly as libsignal on valid and mutated signatures (fast-check)', () => {
      use();
      const keys = Array.from({ length: 4 }, () => PrivateKey.generate());
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('none' as const) }),
        fc.record({ kind: fc.constant('flip' as const), bit: fc.integer({ min: 0, max: 511 }) }),
        fc.record({ kind: fc.constant('s+L' as const) }),
        fc.record({ kind: fc.constant('sign' as const) }),
        fc.record({
          kind: fc.constant('random R' as const),
          bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
        fc.record({
          kind: fc.constant('random s' as const),
          bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
        fc.record({ kind: fc.constant('message' as const) }),
      );
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.uint8Array({ maxLength: 120 }),
          mutation,
          (index, ours, message, change) => {
            const key = keys[index]!;
            const publicKey = key.getPublicKey().getPublicKeyBytes();
            const signature = ours
              ? xeddsaSign(key.serialize(), message, nodeBackend.randomBytes(64))
              : key.sign(message.slice());
            let signed = message;
            switch (change.kind) {
              case 'none':
                break;
              case 'flip':
                signature[change.bit >> 3] = signature[change.bit >> 3]! ^ (1 << (change.bit & 7));
                break;
              case 's+L': {
                const top = signature[63]! & 0x80;
                let v =
                  bytesToNumberLE(
                    Uint8Array.of(...signature.subarray(32, 63), signature[63]! & 0x7f),
                  ) + L;
                for (let i = 32; i < 64; i++, v >>= 8n) signature[i] = Number(v & 0xffn);
                signature[63] = signature[63]! | top;
                break;
              }
              case 'sign':
                signature[63] = signature[63]! ^ 0x80;
                break;
              case 'random R':
                signature.set(change.bytes, 0);
                break;
              case 'random s':
                signature.set(change.bytes, 32);
                break;
              case 'message':
                signed = Uint8Array.of(...message, 0);
                break;
            }
            const expected = key.getPublicKey().verify(signed.slice(), signature.slice());
            expect(xeddsaVerify(publicKey, signed, signature)).toBe(expected);
            expect(referenceVerify(publicKey, signed, signature)).toBe(expected);
            const s = bytesToNumberLE(
              Uint8Array.of(...signature.subarray(32, 63), signature[63]! & 0x7f),
            );
            if (s < L) expect(opensslVerify(publicKey, signed, signature)).toBe(expected);
          },
        ),
        { numRuns: backend.name === 'node' ? 300 : 60 },
      );
    });

    it('verifies keys seen for the first time (native path in Node) exactly as libsignal', () => {
      use();
      // A fresh key per run: every verification here is one of the key's first few, which the
      // node backend hands to OpenSSL; later ones (the test above) run on hazmat/.
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 80 }),
          fc.integer({ min: -1, max: 511 }),
          fc.boolean(),
          (message, bit, repeat) => {
            const key = PrivateKey.generate();
            const publicKey = key.getPublicKey().getPublicKeyBytes();
            const signature = xeddsaSign(key.serialize(), message, nodeBackend.randomBytes(64));
            if (bit >= 0) signature[bit >> 3] = signature[bit >> 3]! ^ (1 << (bit & 7));
            const expected = key.getPublicKey().verify(message.slice(), signature.slice());
            expect(expected).toBe(bit < 0);
            // The same answer on every use, across the switch from OpenSSL to hazmat/.
            for (let use = 0; use < (repeat ? 6 : 1); use++)
              expect(xeddsaVerify(publicKey, message, signature)).toBe(expected);
          },
        ),
        { numRuns: backend.name === 'node' ? 200 : 40 },
      );
    });

    it('accepts signatures by small-order keys exactly when libsignal does (cofactorless)', () => {
      use();
      // u = 0 maps to A = (0, −1) of order 2; u = 1 to A = (±sqrt(−1), 0) of order 4. Then
      // [s]B − [h]A = [s]B when h ≡ 0 (mod the order), so R = [s]B with such an h verifies.
      const { Point } = ed25519;
      for (const uValue of [0, 1]) {
        const u = new Uint8Array(32);
        u[0] = uValue;
        const lib = PublicKey.deserialize(withType(u));
        let accepted = 0;
        for (let attempt = 0; attempt < 24; attempt++) {
          const message = utf8(`small order ${attempt}`);
          const s = bytesToNumberLE(nodeBackend.randomBytes(32)) % L;
          const signature = new Uint8Array(64);
          signature.set(Point.BASE.multiply(s).toBytes(), 0);
          let v = s;
          for (let i = 32; i < 64; i++, v >>= 8n) signature[i] = Number(v & 0xffn);
          for (const sign of [0, 0x80]) {
            signature[63] = (signature[63]! & 0x7f) | sign;
            const expected = lib.verify(message.slice(), signature.slice());
            expect(xeddsaVerify(u, message, signature)).toBe(expected);
            expect(referenceVerify(u, message, signature)).toBe(expected);
            if (expected) accepted++;
          }
        }
        // About 1/2 (u = 0) or 1/4 (u = 1) of the attempts verify: the case is really exercised.
        expect(accepted).toBeGreaterThan(0);
        expect(accepted).toBeLessThan(48);
      }
    });

    it('keeps per-key caches correct when keys alternate or an array is rewritten', () => {
      use();
      const keys = Array.from({ length: 3 }, () => nodeBackend.randomBytes(32));
      const message = utf8('cache');
      for (let round = 0; round < 3; round++) {
        for (const k of keys) {
          const signature = xeddsaSign(k, message, nodeBackend.randomBytes(64));
          expect(referenceVerify(libsignalPublic(k), message, signature)).toBe(true);
        }
      }
      const mutable = keys[0]!.slice();
      xeddsaSign(mutable, message, nodeBackend.randomBytes(64));
      mutable.set(keys[1]!);
      const signature = xeddsaSign(mutable, message, nodeBackend.randomBytes(64));
      expect(xeddsaVerify(libsignalPublic(keys[1]!), message, signature)).toBe(true);
      expect(xeddsaVerify(libsignalPublic(keys[0]!), message, signature)).toBe(false);
    });

    it('validates argument lengths', () => {
      use();
      const code = (f: () => unknown) => {
        try {
          f();
        } catch (err) {
          return CryptoError.is(err) ? err.code : 'other';
        }
        return 'none';
      };
      expect(
        code(() => xeddsaSign(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64))),
      ).toBe('BAD_LENGTH');
      expect(
        code(() => xeddsaSign(new Uint8Array(32), new Uint8Array(0), new Uint8Array(32))),
      ).toBe('BAD_LENGTH');
      expect(
        code(() => xeddsaVerify(new Uint8Array(33), new Uint8Array(0), new Uint8Array(64))),
      ).toBe('BAD_LENGTH');
      expect(
        code(() => xeddsaVerify(new Uint8Array(32), new Uint8Array(0), new Uint8Array(63))),
      ).toBe('BAD_LENGTH');
    });
  },
);

describe('XEdDSA across backends', () => {
  it('node and noble produce identical signatures for the same key, message and randomness', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (privateKey, message, random) => {
          useBackend(nodeBackend);
          const fromNode = xeddsaSign(privateKey, message, random);
          useBackend(nobleBackend);
          const fromNoble = xeddsaSign(privateKey, message, random);
          useBackend(nodeBackend);
          expect(toHex(fromNode)).toBe(toHex(fromNoble));
        },
      ),
      { numRuns: 8 },
    );
  });

  it('different randomness gives different signatures (the nonce depends on Z)', () => {
    useBackend(nodeBackend);
    const k = nodeBackend.randomBytes(32);
    const a = xeddsaSign(k, utf8('x'), new Uint8Array(64).fill(1));
    const b = xeddsaSign(k, utf8('x'), new Uint8Array(64).fill(2));
    expect(toHex(a.subarray(0, 32))).not.toBe(toHex(b.subarray(0, 32)));
  });
});
