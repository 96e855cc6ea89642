/**
 * Split ML-KEM-768 encapsulation (shared/specs/signal-wire.md §3.4 "Incremental ML-KEM-768").
 * Oracle: noble's FIPS 203 `ml_kem768.encapsulate(pk, m)` with the same m — `ct1 ‖ ct2` and the
 * shared secret must be identical byte for byte, and noble's decapsulation must agree, also on
 * tampered ciphertexts (implicit rejection). The split encapsulation runs on both backends.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../src/active-backend.js';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import { CryptoError } from '../src/errors.js';
import {
  ML_KEM_768_CT1_LENGTH,
  ML_KEM_768_CT2_LENGTH,
  ML_KEM_768_DECAPSULATION_KEY_LENGTH,
  ML_KEM_768_ENCAPSULATION_KEY_LENGTH,
  ML_KEM_768_HEADER_LENGTH,
  mlKem768Decapsulate,
  mlKem768Encapsulate1,
  mlKem768Encapsulate2,
  mlKem768GenerateKeyPair,
} from '../src/ml-kem-768-incremental.js';

const seed64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const rand32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

function fullPublicKey(encapsulationKey: Uint8Array, header: Uint8Array): Uint8Array {
  const pk = new Uint8Array(1184);
  pk.set(encapsulationKey, 0);
  pk.set(header.subarray(0, 32), 1152);
  return pk;
}

function ciphertext(ct1: Uint8Array, ct2: Uint8Array): Uint8Array {
  const ct = new Uint8Array(ct1.length + ct2.length);
  ct.set(ct1, 0);
  ct.set(ct2, ct1.length);
  return ct;
}

describe('ML-KEM-768 split encapsulation', () => {
  it('has the FIPS 203 / libcrux incremental sizes', () => {
    expect(ML_KEM_768_HEADER_LENGTH).toBe(64);
    expect(ML_KEM_768_ENCAPSULATION_KEY_LENGTH).toBe(1152);
    expect(ML_KEM_768_DECAPSULATION_KEY_LENGTH).toBe(2400);
    expect(ML_KEM_768_CT1_LENGTH).toBe(960);
    expect(ML_KEM_768_CT2_LENGTH).toBe(128);
    expect(ML_KEM_768_CT1_LENGTH + ML_KEM_768_CT2_LENGTH).toBe(ml_kem768.lengths.cipherText);
  });

  it('splits the noble key pair into header = ρ ‖ H(t̂‖ρ), ek = t̂ and the standard dk', () => {
    fc.assert(
      fc.property(seed64, (seed) => {
        const pair = mlKem768GenerateKeyPair(seed);
        const reference = ml_kem768.keygen(seed);
        expect(pair.encapsulationKey).toEqual(reference.publicKey.subarray(0, 1152));
        expect(pair.header.subarray(0, 32)).toEqual(reference.publicKey.subarray(1152));
        expect(pair.header.subarray(32)).toEqual(sha3_256(reference.publicKey));
        expect(pair.decapsulationKey).toEqual(reference.secretKey);
      }),
      { numRuns: 10 },
    );
  });

  it('ct1 ‖ ct2 and the shared secret equal noble encapsulate(pk, m) for random keys and m', () => {
    fc.assert(
      fc.property(seed64, rand32, (seed, m) => {
        const pair = mlKem768GenerateKeyPair(seed);
        const first = mlKem768Encapsulate1(pair.header, m);
        const ct2 = mlKem768Encapsulate2(first, pair.encapsulationKey);
        const reference = ml_kem768.encapsulate(
          fullPublicKey(pair.encapsulationKey, pair.header),
          m,
        );
        expect(first.ct1.length).toBe(960);
        expect(ct2.length).toBe(128);
        expect(ciphertext(first.ct1, ct2)).toEqual(reference.cipherText);
        expect(first.sharedSecret).toEqual(reference.sharedSecret);
        expect(mlKem768Decapsulate(ciphertext(first.ct1, ct2), pair.decapsulationKey)).toEqual(
          first.sharedSecret,
        );
      }),
      { numRuns: 40 },
    );
  });

  it('encapsulate2 needs only the randomness and the header from encapsulate1', () => {
    const pair = mlKem768GenerateKeyPair();
    const m = new Uint8Array(32).fill(7);
    const first = mlKem768Encapsulate1(pair.header, m);
    const ct2 = mlKem768Encapsulate2(
      { randomness: first.randomness.slice(), header: first.header.slice() },
      pair.encapsulationKey,
    );
    expect(mlKem768Decapsulate(ciphertext(first.ct1, ct2), pair.decapsulationKey)).toEqual(
      first.sharedSecret,
    );
    // The caller's buffers are copied, not kept.
    m.fill(0);
    expect(first.randomness).toEqual(new Uint8Array(32).fill(7));
  });

  it('rejects an encapsulation key that does not match the header (any flipped byte)', () => {
    const pair = mlKem768GenerateKeyPair();
    const first = mlKem768Encapsulate1(pair.header, new Uint8Array(32));
    fc.assert(
      fc.property(fc.nat({ max: 1151 }), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const ek = pair.encapsulationKey.slice();
        ek[pos]! ^= flip;
        expect(() => mlKem768Encapsulate2(first, ek)).toThrow(CryptoError);
        try {
          mlKem768Encapsulate2(first, ek);
        } catch (err) {
          expect(CryptoError.is(err, 'BAD_KEY')).toBe(true);
        }
      }),
      { numRuns: 50 },
    );
    // The key of another pair does not match either.
    const other = mlKem768GenerateKeyPair();
    expect(() => mlKem768Encapsulate2(first, other.encapsulationKey)).toThrow(CryptoError);
  });

  it('applies the FIPS 203 modulus check even when the header hash matches', () => {
    const pair = mlKem768GenerateKeyPair();
    const ek = pair.encapsulationKey.slice();
    // Coefficient 0 of t̂[0] := 4095 (≥ q): ByteEncode12(ByteDecode12(ek)) ≠ ek.
    ek[0] = 0xff;
    ek[1] = (ek[1]! & 0xf0) | 0x0f;
    const rho = pair.header.subarray(0, 32);
    const header = new Uint8Array(64);
    header.set(rho, 0);
    header.set(sha3_256(fullPublicKey(ek, pair.header)), 32);
    const first = mlKem768Encapsulate1(header, new Uint8Array(32).fill(1));
    expect(() => mlKem768Encapsulate2(first, ek)).toThrow(/does not match/);
    // noble's encapsulate refuses the same key.
    expect(() =>
      ml_kem768.encapsulate(fullPublicKey(ek, pair.header), new Uint8Array(32)),
    ).toThrow();
  });

  it('checks argument lengths', () => {
    const pair = mlKem768GenerateKeyPair();
    const isBadLength = (fn: () => unknown): boolean => {
      try {
        fn();
        return false;
      } catch (err) {
        return CryptoError.is(err, 'BAD_LENGTH');
      }
    };
    expect(isBadLength(() => mlKem768GenerateKeyPair(new Uint8Array(32)))).toBe(true);
    expect(
      isBadLength(() => mlKem768Encapsulate1(pair.header.subarray(0, 63), new Uint8Array(32))),
    ).toBe(true);
    expect(isBadLength(() => mlKem768Encapsulate1(pair.header, new Uint8Array(31)))).toBe(true);
    const first = mlKem768Encapsulate1(pair.header, new Uint8Array(32));
    expect(isBadLength(() => mlKem768Encapsulate2(first, pair.encapsulationKey.subarray(1)))).toBe(
      true,
    );
    expect(
      isBadLength(() => mlKem768Decapsulate(new Uint8Array(1087), pair.decapsulationKey)),
    ).toBe(true);
    expect(isBadLength(() => mlKem768Decapsulate(new Uint8Array(1088), new Uint8Array(2399)))).toBe(
      true,
    );
  });

  it('decapsulation of a tampered ciphertext gives a different secret (implicit rejection)', () => {
    const pair = mlKem768GenerateKeyPair();
    const first = mlKem768Encapsulate1(pair.header, new Uint8Array(32).fill(3));
    const ct = ciphertext(first.ct1, mlKem768Encapsulate2(first, pair.encapsulationKey));
    ct[5]! ^= 1;
    expect(mlKem768Decapsulate(ct, pair.decapsulationKey)).not.toEqual(first.sharedSecret);
  });

  it('never prints secret key material', () => {
    const pair = mlKem768GenerateKeyPair();
    const first = mlKem768Encapsulate1(pair.header, new Uint8Array(32).fill(9));
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    for (const text of [
      JSON.stringify(pair),
      inspect(pair),
      JSON.stringify(first),
      inspect(first),
    ]) {
      expect(text).not.toContain(hex(pair.decapsulationKey.subarray(0, 16)));
      expect(text).not.toContain(hex(first.sharedSecret));
      expect(text).not.toContain('9, 9, 9');
      expect(text).not.toMatch(/decapsulationKey|sharedSecret|randomness/);
    }
  });
});

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])(
  'ML-KEM-768 split encapsulation on the $name backend',
  (backend) => {
    /** Runs `f` with `backend` active, restoring the previous backend afterwards. */
    const withBackend = (f: () => void): void => {
      const previous = useBackend(backend);
      try {
        f();
      } finally {
        useBackend(previous);
      }
    };

    it('keygen, encapsulate1/2 and decapsulate equal noble, tampered ciphertexts included', () => {
      withBackend(() =>
        fc.assert(
          fc.property(
            seed64,
            rand32,
            fc.nat(1087),
            fc.integer({ min: 1, max: 255 }),
            (seed, m, pos, flip) => {
              const pair = mlKem768GenerateKeyPair(seed);
              const reference = ml_kem768.keygen(seed);
              expect(pair.decapsulationKey).toEqual(reference.secretKey);
              const first = mlKem768Encapsulate1(pair.header, m);
              const ct = ciphertext(first.ct1, mlKem768Encapsulate2(first, pair.encapsulationKey));
              const encapsulated = ml_kem768.encapsulate(reference.publicKey, m);
              expect(ct).toEqual(encapsulated.cipherText);
              expect(first.sharedSecret).toEqual(encapsulated.sharedSecret);
              expect(mlKem768Decapsulate(ct, pair.decapsulationKey)).toEqual(first.sharedSecret);
              ct[pos]! ^= flip;
              expect(mlKem768Decapsulate(ct, pair.decapsulationKey)).toEqual(
                ml_kem768.decapsulate(ct, reference.secretKey),
              );
            },
          ),
          { numRuns: 10 },
        ),
      );
    });

    it('refuses a decapsulation key that fails the FIPS 203 hash check with BAD_KEY', () => {
      withBackend(() => {
        const pair = mlKem768GenerateKeyPair();
        const dk = pair.decapsulationKey.slice();
        dk[2 * 1152 + 32]! ^= 1; // first byte of H(ek)
        let thrown: unknown;
        try {
          mlKem768Decapsulate(new Uint8Array(1088), dk);
        } catch (err) {
          thrown = err;
        }
        expect(CryptoError.is(thrown, 'BAD_KEY')).toBe(true);
      });
    });
  },
);
