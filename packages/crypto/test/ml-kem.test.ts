/**
 * Sotto's ML-KEM-768 / ML-KEM-1024 (src/ml-kem/ml-kem.ts, FIPS 203), on both backends, against:
 * 1. known answers in ml-kem-vectors.json (sources cited in its `sources` field): NIST ACVP
 *    keyGen / encapsulation / decapsulation vectors (including modified ciphertexts, i.e.
 *    implicit rejection), the C2SP CCTV "unlucky" vectors (SampleNTT needs more than 575 XOF
 *    bytes, so the re-squeeze path runs) and the CCTV "strcmp" decapsulation vector;
 * 2. `@noble/post-quantum`'s `ml_kem768` / `ml_kem1024` as an oracle, with fast-check:
 *    keygen(d ‖ z), encapsulate(ek, m), decapsulate of the real and of corrupted ciphertexts;
 * 3. the FIPS 203 §7.2 / §7.3 input checks, which both implementations enforce.
 * The 10 000-case CCTV accumulated run is in ml-kem-accumulated.slow.test.ts.
 */
import { readFileSync } from 'node:fs';
import { ml_kem1024, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/active-backend.js';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import { fromHex, toHex } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';
import { mlKemDecapsulate, mlKemEncapsulate, mlKemKeyGen } from '../src/ml-kem/ml-kem.js';
import { ML_KEM_1024, ML_KEM_768, Q, type MlKemParams } from '../src/ml-kem/params.js';

interface Vectors {
  acvp: {
    keyGen: { parameterSet: string; d: string; z: string; ek: string; dk: string }[];
    encapsulation: { parameterSet: string; ek: string; m: string; c: string; k: string }[];
    decapsulation: {
      parameterSet: string;
      dk: string;
      tests: { reason: string; c: string; k: string }[];
    }[];
  };
  cctvUnlucky: {
    parameterSet: string;
    d: string;
    z: string;
    ek: string;
    dk: string;
    m: string;
    K: string;
    c: string;
  }[];
  cctvStrcmp: { parameterSet: string; dk: string; c: string; K: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./ml-kem-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const PARAMS: Record<string, MlKemParams> = {
  'ML-KEM-768': ML_KEM_768,
  'ML-KEM-1024': ML_KEM_1024,
};
const params = (name: string): MlKemParams => PARAMS[name]!;
const hex = (s: string): Uint8Array => fromHex(s.toLowerCase());
const upper = (b: Uint8Array): string => toHex(b).toUpperCase();

const ORACLES = [
  { name: 'ML-KEM-768', p: ML_KEM_768, oracle: ml_kem768 },
  { name: 'ML-KEM-1024', p: ML_KEM_1024, oracle: ml_kem1024 },
];

const previous = useBackend(nodeBackend);
afterAll(() => {
  useBackend(previous);
});

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return CryptoError.is(err) ? err.code : `other:${String(err)}`;
  }
  return 'none';
}

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])(
  'ML-KEM on the $name backend',
  (backend) => {
    const use = (): void => {
      useBackend(backend);
    };

    describe('NIST ACVP FIPS 203 vectors', () => {
      it.each(vectors.acvp.keyGen)('keyGen $parameterSet', (v) => {
        use();
        const pair = mlKemKeyGen(params(v.parameterSet), hex(v.d), hex(v.z));
        expect(upper(pair.encapsulationKey)).toBe(v.ek);
        expect(upper(pair.decapsulationKey)).toBe(v.dk);
      });

      it.each(vectors.acvp.encapsulation)('encapsulation $parameterSet', (v) => {
        use();
        const { ciphertext, sharedSecret } = mlKemEncapsulate(
          params(v.parameterSet),
          hex(v.ek),
          hex(v.m),
        );
        expect(upper(ciphertext)).toBe(v.c);
        expect(upper(sharedSecret)).toBe(v.k);
      });

      it.each(vectors.acvp.decapsulation)(
        'decapsulation $parameterSet (valid and modified ciphertexts)',
        (group) => {
          use();
          expect(group.tests.map((t) => t.reason).sort()).toEqual([
            'modify ciphertext',
            'no modification',
          ]);
          for (const t of group.tests) {
            const k = mlKemDecapsulate(params(group.parameterSet), hex(group.dk), hex(t.c));
            expect(upper(k)).toBe(t.k);
          }
        },
      );
    });

    describe('C2SP CCTV vectors', () => {
      it.each(vectors.cctvUnlucky)(
        'unlucky $parameterSet: keygen (FIPS 203 ipd seed expansion), encaps, decaps, with a SampleNTT re-squeeze',
        (v) => {
          const p = params(v.parameterSet);
          const squeezes: number[] = [];
          useBackend({
            ...backend,
            shake128(data, length) {
              squeezes.push(length);
              return backend.shake128(data, length);
            },
          });
          // ipd's K-PKE.KeyGen is (ρ, σ) = G(d), as in Kyber round 3.
          const pair = mlKemKeyGen(p, hex(v.d), hex(v.z), 'kyber-round3');
          expect(toHex(pair.encapsulationKey)).toBe(v.ek);
          expect(toHex(pair.decapsulationKey)).toBe(v.dk);
          expect(squeezes.filter((n) => n > 504).length).toBeGreaterThan(0);
          const { ciphertext, sharedSecret } = mlKemEncapsulate(p, pair.encapsulationKey, hex(v.m));
          expect(toHex(ciphertext)).toBe(v.c);
          expect(toHex(sharedSecret)).toBe(v.K);
          expect(toHex(mlKemDecapsulate(p, pair.decapsulationKey, ciphertext))).toBe(v.K);
        },
      );

      it.each(vectors.cctvStrcmp)('strcmp $parameterSet decapsulation', (v) => {
        use();
        expect(toHex(mlKemDecapsulate(params(v.parameterSet), hex(v.dk), hex(v.c)))).toBe(v.K);
      });
    });

    describe.each(ORACLES)('$name equals @noble/post-quantum', ({ p, oracle }) => {
      const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

      it('keygen(d ‖ z), encapsulate(ek, m), decapsulate(dk, c)', () => {
        use();
        fc.assert(
          fc.property(bytes(64), bytes(32), (seed, m) => {
            const ours = mlKemKeyGen(p, seed.subarray(0, 32), seed.subarray(32));
            const theirs = oracle.keygen(seed);
            expect(toHex(ours.encapsulationKey)).toBe(toHex(theirs.publicKey));
            expect(toHex(ours.decapsulationKey)).toBe(toHex(theirs.secretKey));
            const enc = mlKemEncapsulate(p, ours.encapsulationKey, m);
            const ref = oracle.encapsulate(theirs.publicKey, m);
            expect(toHex(enc.ciphertext)).toBe(toHex(ref.cipherText));
            expect(toHex(enc.sharedSecret)).toBe(toHex(ref.sharedSecret));
            expect(toHex(mlKemDecapsulate(p, ours.decapsulationKey, enc.ciphertext))).toBe(
              toHex(ref.sharedSecret),
            );
          }),
          { numRuns: 8 },
        );
      });

      it('corrupted ciphertexts decapsulate to noble’s implicit-rejection value J(z ‖ c)', () => {
        use();
        const pair = mlKemKeyGen(p, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
        const { ciphertext, sharedSecret } = mlKemEncapsulate(
          p,
          pair.encapsulationKey,
          new Uint8Array(32).fill(3),
        );
        fc.assert(
          fc.property(
            fc.nat(p.ciphertextLength - 1),
            fc.integer({ min: 1, max: 255 }),
            (pos, flip) => {
              const bad = ciphertext.slice();
              bad[pos]! ^= flip;
              const ours = mlKemDecapsulate(p, pair.decapsulationKey, bad);
              expect(toHex(ours)).toBe(toHex(oracle.decapsulate(bad, pair.decapsulationKey)));
              expect(toHex(ours)).not.toBe(toHex(sharedSecret));
            },
          ),
          { numRuns: 12 },
        );
        // A uniformly random "ciphertext" too.
        fc.assert(
          fc.property(bytes(p.ciphertextLength), (c) => {
            expect(toHex(mlKemDecapsulate(p, pair.decapsulationKey, c))).toBe(
              toHex(oracle.decapsulate(c, pair.decapsulationKey)),
            );
          }),
          { numRuns: 4 },
        );
      });

      it('refuses an encapsulation key with a coefficient ≥ q (FIPS 203 §7.2), as noble does', () => {
        use();
        const { encapsulationKey } = mlKemKeyGen(p, new Uint8Array(32), new Uint8Array(32));
        fc.assert(
          fc.property(fc.nat(2 * 128 * p.k - 1), fc.integer({ min: Q, max: 4095 }), (i, v) => {
            const ek = encapsulationKey.slice();
            // Coefficient i (12 bits, little-endian) := v.
            const byte = 3 * (i >> 1);
            if ((i & 1) === 0) {
              ek[byte] = v & 0xff;
              ek[byte + 1] = (ek[byte + 1]! & 0xf0) | (v >> 8);
            } else {
              ek[byte + 1] = (ek[byte + 1]! & 0x0f) | ((v & 0x0f) << 4);
              ek[byte + 2] = v >> 4;
            }
            expect(errorCode(() => mlKemEncapsulate(p, ek, new Uint8Array(32)))).toBe('BAD_KEY');
            expect(() => oracle.encapsulate(ek, new Uint8Array(32))).toThrow();
          }),
          { numRuns: 10 },
        );
      });

      it('refuses a decapsulation key whose H(ek) does not match (FIPS 203 §7.3), as noble does', () => {
        use();
        const pair = mlKemKeyGen(p, new Uint8Array(32).fill(7), new Uint8Array(32));
        const { ciphertext } = mlKemEncapsulate(p, pair.encapsulationKey, new Uint8Array(32));
        for (const pos of [384 * p.k, 768 * p.k + 31, 768 * p.k + 32, 768 * p.k + 63]) {
          const dk = pair.decapsulationKey.slice();
          dk[pos]! ^= 1;
          expect(errorCode(() => mlKemDecapsulate(p, dk, ciphertext))).toBe('BAD_KEY');
          expect(() => oracle.decapsulate(ciphertext, dk)).toThrow();
        }
      });
    });
  },
);
