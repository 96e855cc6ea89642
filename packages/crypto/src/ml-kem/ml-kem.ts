/**
 * ML-KEM (FIPS 203 §6–7) for ML-KEM-768 and ML-KEM-1024: the deterministic internal algorithms
 * ML-KEM.KeyGen_internal (Alg. 16, from d and z), ML-KEM.Encaps_internal (Alg. 17, from m) and
 * ML-KEM.Decaps_internal (Alg. 18, with implicit rejection), plus the input checks of §7.2
 * (encapsulation key modulus check) and §7.3 (decapsulation key hash check).
 *
 * Hashes come from the active CryptoBackend: H = SHA3-256, G = SHA3-512, J = SHAKE256(·, 32).
 * Randomness is the caller's (kyber1024.ts, ml-kem-768-incremental.ts); this module draws none.
 * `mlKemKeyGen` can also expand d as Kyber round 3 does (`G(d)` without the `‖ k` of FIPS 203
 * Alg. 13 line 1), which is the only difference in key generation (signal-wire.md §3.3).
 *
 * Decapsulation compares the ciphertexts and selects K' or K̄ without branching on secret data;
 * JavaScript's JIT gives no constant-time guarantee beyond that.
 */
import type { CryptoBackend } from '../backend.js';
import { activeBackend } from '../active-backend.js';
import { CryptoError } from '../errors.js';
import { decodeTHat, kPkeDecrypt, kPkeEncrypt, kPkeKeyGen } from './k-pke.js';
import { SYMMETRIC_LENGTH, type MlKemParams } from './params.js';

export interface MlKemKeyPair {
  /** `ek = ByteEncode12(t̂) ‖ ρ` (384k + 32 bytes). */
  readonly encapsulationKey: Uint8Array;
  /** `dk = dkPKE ‖ ek ‖ H(ek) ‖ z` (768k + 96 bytes). Secret. */
  readonly decapsulationKey: Uint8Array;
}

export interface MlKemEncapsulation {
  readonly ciphertext: Uint8Array;
  /** K (32 bytes). Secret. */
  readonly sharedSecret: Uint8Array;
}

/** How d becomes (ρ, σ): FIPS 203 `G(d ‖ k)`, or Kyber round 3 `G(d)`. */
export type SeedExpansion = 'fips-203' | 'kyber-round3';

/** `G(a ‖ b)` for two 32-byte strings. */
export function hashG(backend: CryptoBackend, a: Uint8Array, b: Uint8Array): Uint8Array {
  const input = new Uint8Array(64);
  input.set(a.subarray(0, 32), 0);
  input.set(b.subarray(0, 32), 32);
  const out = backend.sha3_512(input);
  input.fill(0);
  return out;
}

/** Byte-string equality without data-dependent branches or early exit; equal lengths assumed. */
function equalMask(a: Uint8Array, b: Uint8Array, length: number): number {
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= a[i]! ^ b[i]!;
  return (diff - 1) >> 31; // −1 if equal, 0 otherwise
}

/**
 * ML-KEM.KeyGen_internal(d, z) (FIPS 203 Alg. 16; K-PKE.KeyGen is Alg. 13). With
 * `seedExpansion = 'kyber-round3'`, (ρ, σ) = G(d) as in Kyber round 3.
 */
export function mlKemKeyGen(
  p: MlKemParams,
  d: Uint8Array,
  z: Uint8Array,
  seedExpansion: SeedExpansion = 'fips-203',
): MlKemKeyPair {
  const backend = activeBackend();
  const { k } = p;
  const gInput = new Uint8Array(seedExpansion === 'fips-203' ? 33 : 32);
  gInput.set(d.subarray(0, 32), 0);
  if (seedExpansion === 'fips-203') gInput[32] = k;
  const rhoSigma = backend.sha3_512(gInput);
  const dk = new Uint8Array(p.decapsulationKeyLength);
  const ekEnd = 768 * k + 32;
  const ek = dk.subarray(384 * k, ekEnd);
  kPkeKeyGen(backend, p, rhoSigma.subarray(0, 32), rhoSigma.subarray(32, 64), ek, dk);
  dk.set(backend.sha3_256(ek), ekEnd);
  dk.set(z.subarray(0, 32), ekEnd + 32);
  gInput.fill(0);
  rhoSigma.fill(0);
  return { encapsulationKey: ek.slice(), decapsulationKey: dk };
}

/**
 * ML-KEM.Encaps_internal(ek, m) (FIPS 203 Alg. 17) after the §7.2 input checks. Throws
 * `CryptoError('BAD_KEY')` if a coefficient of t̂ is not below q. Lengths are the caller's check.
 */
export function mlKemEncapsulate(
  p: MlKemParams,
  ek: Uint8Array,
  m: Uint8Array,
): MlKemEncapsulation {
  const backend = activeBackend();
  const tHat = decodeTHat(p, ek, true);
  if (tHat === null) {
    throw new CryptoError('BAD_KEY', `${p.name} encapsulation key fails the modulus check`);
  }
  const kr = hashG(backend, m, backend.sha3_256(ek));
  const ciphertext = new Uint8Array(p.ciphertextLength);
  kPkeEncrypt(backend, p, tHat, ek.subarray(384 * p.k), m, kr.subarray(32, 64), ciphertext);
  const sharedSecret = kr.slice(0, SYMMETRIC_LENGTH);
  kr.fill(0);
  return { ciphertext, sharedSecret };
}

/**
 * ML-KEM.Decaps_internal(dk, c) (FIPS 203 Alg. 18) after the §7.3 hash check, which throws
 * `CryptoError('BAD_KEY')` if `H(ek) ≠ h` inside dk. A ciphertext that does not re-encrypt to
 * itself yields the implicit-rejection key `K̄ = J(z ‖ c)`. Lengths are the caller's check.
 */
export function mlKemDecapsulate(p: MlKemParams, dk: Uint8Array, c: Uint8Array): Uint8Array {
  const backend = activeBackend();
  const { k } = p;
  const ekEnd = 768 * k + 32;
  const ek = dk.subarray(384 * k, ekEnd);
  const h = dk.subarray(ekEnd, ekEnd + 32);
  const z = dk.subarray(ekEnd + 32, ekEnd + 64);
  if (equalMask(backend.sha3_256(ek), h, 32) === 0) {
    throw new CryptoError('BAD_KEY', `${p.name} decapsulation key fails the hash check`);
  }
  const mPrime = kPkeDecrypt(p, dk, c);
  const kr = hashG(backend, mPrime, h);
  const jInput = new Uint8Array(32 + p.ciphertextLength);
  jInput.set(z, 0);
  jInput.set(c.subarray(0, p.ciphertextLength), 32);
  const kBar = backend.shake256(jInput, SYMMETRIC_LENGTH);
  // Alg. 18 decodes t̂ with ByteDecode12 (mod q, no modulus check: §7.3 checks only the hash).
  const tHat = decodeTHat(p, ek, false)!;
  const cPrime = new Uint8Array(p.ciphertextLength);
  kPkeEncrypt(backend, p, tHat, ek.subarray(384 * k), mPrime, kr.subarray(32, 64), cPrime);
  const keep = equalMask(c, cPrime, p.ciphertextLength);
  const out = new Uint8Array(SYMMETRIC_LENGTH);
  for (let i = 0; i < SYMMETRIC_LENGTH; i++) {
    out[i] = kBar[i]! ^ (keep & (kr[i]! ^ kBar[i]!));
  }
  mPrime.fill(0);
  kr.fill(0);
  jInput.fill(0);
  kBar.fill(0);
  cPrime.fill(0);
  return out;
}
