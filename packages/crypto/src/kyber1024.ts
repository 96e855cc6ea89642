/**
 * Kyber1024 round 3 as libsignal uses it for its `0x08` KEM keys (signal-wire.md §2.1, §3.3), on
 * Sotto's own ML-KEM-1024 (`ml-kem/`, FIPS 203): the K-PKE is identical, and round 3 differs only
 * in three hashes around it:
 * - keygen: `(ρ, σ) = G(d)` (FIPS 203 uses `G(d ‖ k)`); the key layout is the same;
 * - encaps: `m = SHA3-256(rand)`, `(ct, K̄) = ML-KEM.Encaps(pk; m)`,
 *   `K = SHAKE256(K̄ ‖ SHA3-256(ct), 32)`;
 * - decaps: `K = SHAKE256(ML-KEM.Decaps(ct, sk) ‖ SHA3-256(ct), 32)`. ML-KEM.Decaps returns
 *   `J(z ‖ ct)` on implicit rejection, so this is libcrux's round-3 rejection value
 *   `SHAKE256(SHAKE256(z ‖ ct, 32) ‖ H(ct))` (§3.3).
 * Keys and ciphertexts here are raw (no 0x08 type byte; the protocol adds it).
 * On purpose, FIPS 203's input checks apply although round 3 does not require them: a public
 * key with a coefficient ≥ q and a secret key whose embedded `H(pk)` does not match are refused
 * with `BAD_KEY` (libsignal's keys always pass both).
 */
import { activeBackend } from './active-backend.js';
import { abytes } from './assert.js';
import { mlKemDecapsulate, mlKemEncapsulate, mlKemKeyGen } from './ml-kem/ml-kem.js';
import { ML_KEM_1024 } from './ml-kem/params.js';

export const KYBER1024_PUBLIC_KEY_LENGTH = 1568;
export const KYBER1024_SECRET_KEY_LENGTH = 3168;
export const KYBER1024_CIPHERTEXT_LENGTH = 1568;
export const KYBER1024_SHARED_SECRET_LENGTH = 32;
/** Seed length of ML-KEM key generation (`d ‖ z`). */
const KEYGEN_SEED_LENGTH = 64;

export interface Kyber1024KeyPair {
  /** 1568 bytes: `t̂ ‖ ρ`. */
  readonly publicKey: Uint8Array;
  /** 3168 bytes: `s ‖ pk ‖ H(pk) ‖ z`. */
  readonly secretKey: Uint8Array;
}

export interface Kyber1024Encapsulation {
  /** 1568 bytes. */
  readonly ciphertext: Uint8Array;
  /** 32 bytes. */
  readonly sharedSecret: Uint8Array;
}

/**
 * A fresh key pair (Kyber round 3 key generation from `d ‖ z`). `rng(n)` defaults to the backend
 * CSPRNG; 64 bytes are drawn in one call.
 */
export function kyber1024GenerateKeyPair(rng?: (length: number) => Uint8Array): Kyber1024KeyPair {
  const seed =
    rng === undefined ? activeBackend().randomBytes(KEYGEN_SEED_LENGTH) : rng(KEYGEN_SEED_LENGTH);
  abytes(seed, KEYGEN_SEED_LENGTH, 'rng output');
  const { encapsulationKey, decapsulationKey } = mlKemKeyGen(
    ML_KEM_1024,
    seed.subarray(0, 32),
    seed.subarray(32, 64),
    'kyber-round3',
  );
  seed.fill(0);
  return { publicKey: encapsulationKey, secretKey: decapsulationKey };
}

/**
 * Encapsulates to a raw 1568-byte public key. `random32` (32 bytes) defaults to fresh CSPRNG
 * output; pass it only for known-answer tests.
 */
export function kyber1024Encapsulate(
  publicKey: Uint8Array,
  random32?: Uint8Array,
): Kyber1024Encapsulation {
  abytes(publicKey, KYBER1024_PUBLIC_KEY_LENGTH, 'publicKey');
  const backend = activeBackend();
  if (random32 !== undefined) abytes(random32, 32, 'random32');
  const rand = random32 ?? backend.randomBytes(32);
  const m = backend.sha3_256(rand);
  if (random32 === undefined) rand.fill(0);
  let encapsulated: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = mlKemEncapsulate(ML_KEM_1024, publicKey, m);
  } finally {
    m.fill(0);
  }
  const { ciphertext, sharedSecret: kBar } = encapsulated;
  return { ciphertext, sharedSecret: finalSecret(kBar, ciphertext) };
}

/** Decapsulates a raw 1568-byte ciphertext with a raw 3168-byte secret key. */
export function kyber1024Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  abytes(ciphertext, KYBER1024_CIPHERTEXT_LENGTH, 'ciphertext');
  abytes(secretKey, KYBER1024_SECRET_KEY_LENGTH, 'secretKey');
  return finalSecret(mlKemDecapsulate(ML_KEM_1024, secretKey, ciphertext), ciphertext);
}

/** `SHAKE256(K̄ ‖ SHA3-256(ct), 32)`; wipes K̄. */
function finalSecret(kBar: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const backend = activeBackend();
  const input = new Uint8Array(64);
  input.set(kBar, 0);
  input.set(backend.sha3_256(ciphertext), 32);
  kBar.fill(0);
  const out = backend.shake256(input, KYBER1024_SHARED_SECRET_LENGTH);
  input.fill(0);
  return out;
}
