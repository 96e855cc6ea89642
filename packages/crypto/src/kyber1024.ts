/**
 * Kyber1024 round 3 as libsignal uses it for its `0x08` KEM keys (signal-wire.md §2.1, §3.3),
 * built on FIPS 203 ML-KEM-1024 (`@noble/post-quantum` `ml_kem1024`) plus the two hashes where
 * round 3 differs:
 * - encaps: `m = SHA3-256(rand)`, `(ct, K̄) = ML-KEM.Encaps(pk; m)`, `K = SHAKE256(K̄ ‖ SHA3-256(ct), 32)`;
 * - decaps: `K = SHAKE256(ML-KEM.Decaps(ct, sk) ‖ SHA3-256(ct), 32)` (this also matches round 3's
 *   implicit rejection, see §3.3);
 * - keygen: ML-KEM keygen; its keys are valid Kyber keys with the same layout (the seed
 *   expansion differs, which nobody can observe).
 * Keys and ciphertexts here are raw (no 0x08 type byte; the protocol adds it).
 */
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { activeBackend } from './active-backend.js';
import { abytes } from './assert.js';
import { CryptoError } from './errors.js';

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

/** A fresh key pair; `rng(n)` defaults to the backend CSPRNG (64 bytes are drawn). */
export function kyber1024GenerateKeyPair(rng?: (length: number) => Uint8Array): Kyber1024KeyPair {
  const seed =
    rng === undefined ? activeBackend().randomBytes(KEYGEN_SEED_LENGTH) : rng(KEYGEN_SEED_LENGTH);
  abytes(seed, KEYGEN_SEED_LENGTH, 'rng output');
  const { publicKey, secretKey } = ml_kem1024.keygen(seed);
  seed.fill(0);
  return { publicKey, secretKey };
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
  let rand = random32;
  if (rand === undefined) rand = backend.randomBytes(32);
  else abytes(rand, 32, 'random32');
  const m = backend.sha3_256(rand);
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = ml_kem1024.encapsulate(publicKey, m);
  } catch (cause) {
    throw new CryptoError('BAD_KEY', 'Kyber1024 public key is malformed', { cause });
  } finally {
    m.fill(0);
  }
  const { cipherText, sharedSecret: kBar } = encapsulated;
  const sharedSecret = finalSecret(kBar, cipherText);
  return { ciphertext: cipherText, sharedSecret };
}

/** Decapsulates a raw 1568-byte ciphertext with a raw 3168-byte secret key. */
export function kyber1024Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  abytes(ciphertext, KYBER1024_CIPHERTEXT_LENGTH, 'ciphertext');
  abytes(secretKey, KYBER1024_SECRET_KEY_LENGTH, 'secretKey');
  let kBar: Uint8Array;
  try {
    kBar = ml_kem1024.decapsulate(ciphertext, secretKey);
  } catch (cause) {
    throw new CryptoError('BAD_KEY', 'Kyber1024 secret key is malformed', { cause });
  }
  return finalSecret(kBar, ciphertext);
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
