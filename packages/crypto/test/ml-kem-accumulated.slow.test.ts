/**
 * C2SP CCTV "accumulated pq-crystals vectors" (github.com/C2SP/CCTV ML-KEM/README.md, CC0):
 * 10 000 consecutive tests of the pq-crystals reference implementation, checked by one hash.
 *
 * The RNG is one SHAKE128 stream over the empty input; each test draws d, z, m and a random
 * ciphertext `ct`, runs KeyGen(d, z), Encaps(ek, m), Decaps(dk, ct_real) (must equal K) and
 * Decaps(dk, ct) (implicit rejection), and writes ek, dk, ct_real, K and the rejection key into
 * a running SHAKE128, whose first 32 output bytes are the published value. The vectors predate
 * the final FIPS 203 `G(d ‖ k)` key-generation change, so KeyGen uses the ipd / Kyber round 3
 * expansion `G(d)` (`'kyber-round3'`); Encaps and Decaps are the same in both.
 * The hash side of the test uses @noble/hashes directly, independent of the backend under test.
 */
import { shake128 } from '@noble/hashes/sha3.js';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/active-backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { toHex } from '../src/bytes.js';
import { mlKemDecapsulate, mlKemEncapsulate, mlKemKeyGen } from '../src/ml-kem/ml-kem.js';
import { ML_KEM_1024, ML_KEM_768, type MlKemParams } from '../src/ml-kem/params.js';

const TESTS = 10_000;

const previous = useBackend(nodeBackend);
afterAll(() => {
  useBackend(previous);
});

function accumulate(p: MlKemParams): string {
  const rng = shake128.create();
  const acc = shake128.create();
  for (let i = 0; i < TESTS; i++) {
    const d = rng.xof(32);
    const z = rng.xof(32);
    const m = rng.xof(32);
    const randomCiphertext = rng.xof(p.ciphertextLength);
    const { encapsulationKey, decapsulationKey } = mlKemKeyGen(p, d, z, 'kyber-round3');
    const { ciphertext, sharedSecret } = mlKemEncapsulate(p, encapsulationKey, m);
    const decapsulated = mlKemDecapsulate(p, decapsulationKey, ciphertext);
    if (toHex(decapsulated) !== toHex(sharedSecret)) throw new Error(`test ${i}: K mismatch`);
    const rejected = mlKemDecapsulate(p, decapsulationKey, randomCiphertext);
    acc.update(encapsulationKey).update(decapsulationKey).update(ciphertext);
    acc.update(sharedSecret).update(rejected);
  }
  return toHex(acc.xof(32));
}

describe('CCTV accumulated pq-crystals vectors (10 000 tests, node backend)', () => {
  it('ML-KEM-768', { timeout: 300_000 }, () => {
    expect(accumulate(ML_KEM_768)).toBe(
      'f7db260e1137a742e05fe0db9525012812b004d29040a5b606aad3d134b548d3',
    );
  });

  it('ML-KEM-1024', { timeout: 300_000 }, () => {
    expect(accumulate(ML_KEM_1024)).toBe(
      '47ac888fe61544efc0518f46094b4f8a600965fc89822acb06dc7169d24f3543',
    );
  });
});
