/**
 * ML-KEM-768 (FIPS 203) with the split ("incremental") encapsulation SPQR needs
 * (shared/specs/signal-wire.md §3.4; libcrux `mlkem768::incremental`, used by spqr v1.5.3),
 * on Sotto's own ML-KEM (`ml-kem/`).
 *
 * The send_ct side of SPQR must emit the first ciphertext part before it has the peer's
 * encapsulation key, so K-PKE.Encrypt (FIPS 203 Alg. 14) is cut in two:
 * - `mlKem768Encapsulate1(header, m)` needs only the 64-byte header `ρ ‖ H(ek)`: it derives
 *   `(K, r) = G(m ‖ H(ek))` (Alg. 17; FIPS 203 uses `m` as is, no pre-hash) and outputs
 *   `ct1 = ByteEncode10(Compress10(u))`, `u = NTT⁻¹(Âᵀ ∘ r̂) + e1`, and the shared secret `K`.
 * - `mlKem768Encapsulate2(state, ek)` checks `H(ek ‖ ρ) == header[32..]` and the FIPS 203
 *   modulus check on `ek = t̂`, then outputs `ct2 = ByteEncode4(Compress4(v))`,
 *   `v = NTT⁻¹(t̂ᵀ ∘ r̂) + e2 + Decompress1(m)`.
 * `ct1 ‖ ct2` is an ordinary ML-KEM-768 ciphertext, so decapsulation is the standard one
 * (Alg. 18). Key generation is the standard Alg. 16, split into header / `t̂` / 2400-byte dk.
 *
 * Left out on purpose: the state between the two halves is `(m, header)` only — encapsulate2
 * re-derives `r̂` and `e2` from it (one G, k + 1 PRF calls and k NTTs) instead of storing
 * 2 KiB of polynomials, which keeps the SPQR state small and free of libcrux's layout.
 */
import { activeBackend } from './active-backend.js';
import { abytes } from './assert.js';
import { CryptoError } from './errors.js';
import { decodeTHat, encryptU, encryptV, sampleR, wipeNoise } from './ml-kem/k-pke.js';
import { hashG, mlKemDecapsulate, mlKemKeyGen } from './ml-kem/ml-kem.js';
import { ML_KEM_768 } from './ml-kem/params.js';

/** `ρ(32) ‖ SHA3-256(t̂ ‖ ρ)(32)`: what the send_ek side sends first. */
export const ML_KEM_768_HEADER_LENGTH = 64;
/** `t̂` only (3 × 384 bytes); the full FIPS 203 key is `t̂ ‖ ρ` (1184 bytes). */
export const ML_KEM_768_ENCAPSULATION_KEY_LENGTH = 1152;
/** The standard FIPS 203 decapsulation key `dkPKE ‖ ek ‖ H(ek) ‖ z`. */
export const ML_KEM_768_DECAPSULATION_KEY_LENGTH = 2400;
/** `ByteEncode10(Compress10(u))`, u ∈ R_q^3. */
export const ML_KEM_768_CT1_LENGTH = 960;
/** `ByteEncode4(Compress4(v))`. */
export const ML_KEM_768_CT2_LENGTH = 128;

const RANDOMNESS_LENGTH = 32;
const SEED_LENGTH = 64;

export interface MlKem768KeyPair {
  /** `ρ ‖ SHA3-256(t̂ ‖ ρ)` (64 bytes). */
  readonly header: Uint8Array;
  /** `t̂` (1152 bytes). */
  readonly encapsulationKey: Uint8Array;
  /** Standard FIPS 203 decapsulation key (2400 bytes). Secret. */
  readonly decapsulationKey: Uint8Array;
}

/** What `mlKem768Encapsulate1` returns. `randomness` and `sharedSecret` are secret. */
export interface MlKem768Encapsulation1 {
  /** First ciphertext part (960 bytes). */
  readonly ct1: Uint8Array;
  /** The ML-KEM shared secret K (32 bytes), known before the encapsulation key is. */
  readonly sharedSecret: Uint8Array;
  /** The encapsulation randomness m (32 bytes): the state `mlKem768Encapsulate2` needs. */
  readonly randomness: Uint8Array;
  /** The header encapsulate1 was called with (64 bytes). */
  readonly header: Uint8Array;
}

/** The part of an encapsulate1 result that encapsulate2 needs (what SPQR keeps in its state). */
export type MlKem768Encapsulation1State = Pick<MlKem768Encapsulation1, 'randomness' | 'header'>;

// --- the KEM ---------------------------------------------------------------------------------

function hideSecrets<T extends object>(value: T, publicView: () => unknown): T {
  Object.defineProperty(value, 'toJSON', { value: publicView, enumerable: false });
  Object.defineProperty(value, Symbol.for('nodejs.util.inspect.custom'), {
    value: publicView,
    enumerable: false,
  });
  return value;
}

/**
 * Generates an ML-KEM-768 key pair (FIPS 203 Alg. 16) from a 64-byte seed `d ‖ z` (random if
 * omitted) and splits its encapsulation key into header and `t̂`.
 */
export function mlKem768GenerateKeyPair(seed?: Uint8Array): MlKem768KeyPair {
  if (seed !== undefined) abytes(seed, SEED_LENGTH, 'seed');
  const s = seed ?? activeBackend().randomBytes(SEED_LENGTH);
  const { encapsulationKey, decapsulationKey } = mlKemKeyGen(
    ML_KEM_768,
    s.subarray(0, 32),
    s.subarray(32, 64),
  );
  if (seed === undefined) s.fill(0);
  const header = new Uint8Array(ML_KEM_768_HEADER_LENGTH);
  header.set(encapsulationKey.subarray(ML_KEM_768_ENCAPSULATION_KEY_LENGTH), 0);
  // H(ek) is stored in dk right after ek (dk = dkPKE ‖ ek ‖ H(ek) ‖ z).
  const hashOffset = 2 * ML_KEM_768_ENCAPSULATION_KEY_LENGTH + 32;
  header.set(decapsulationKey.subarray(hashOffset, hashOffset + 32), 32);
  const pair: MlKem768KeyPair = {
    header,
    encapsulationKey: encapsulationKey.slice(0, ML_KEM_768_ENCAPSULATION_KEY_LENGTH),
    decapsulationKey,
  };
  return hideSecrets(pair, () => ({ type: 'MlKem768KeyPair', header: '[64 bytes]' }));
}

/**
 * First half of ML-KEM-768 encapsulation (FIPS 203 Alg. 17 and Alg. 14 up to `c1`). Needs only
 * the 64-byte header; `random32` is the FIPS 203 message randomness m (used as is).
 */
export function mlKem768Encapsulate1(
  header: Uint8Array,
  random32: Uint8Array,
): MlKem768Encapsulation1 {
  abytes(header, ML_KEM_768_HEADER_LENGTH, 'header');
  abytes(random32, RANDOMNESS_LENGTH, 'random32');
  const backend = activeBackend();
  const kr = hashG(backend, random32, header.subarray(32, 64));
  const noise = sampleR(backend, ML_KEM_768, kr.subarray(32, 64));
  const ct1 = new Uint8Array(ML_KEM_768_CT1_LENGTH);
  encryptU(backend, ML_KEM_768, header.subarray(0, 32), noise, ct1, 0);
  wipeNoise(noise);
  const result: MlKem768Encapsulation1 = {
    ct1,
    sharedSecret: kr.slice(0, 32),
    randomness: random32.slice(),
    header: header.slice(),
  };
  kr.fill(0);
  return hideSecrets(result, () => ({ type: 'MlKem768Encapsulation1', ct1: '[960 bytes]' }));
}

/** `t̂` decoded if `H(t̂ ‖ ρ) == header[32..64]` and the modulus check passes, else null. */
function checkKey(header: Uint8Array, ek: Uint8Array): Int16Array | null {
  const full = new Uint8Array(ML_KEM_768_ENCAPSULATION_KEY_LENGTH + 32);
  full.set(ek, 0);
  full.set(header.subarray(0, 32), ML_KEM_768_ENCAPSULATION_KEY_LENGTH);
  const hash = activeBackend().sha3_256(full);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= hash[i]! ^ header[32 + i]!;
  if (diff !== 0) return null;
  return decodeTHat(ML_KEM_768, ek, true);
}

/**
 * Second half of ML-KEM-768 encapsulation: `ct2` (128 bytes) for the encapsulation key `t̂`.
 * Throws `CryptoError('BAD_KEY')` if `t̂` does not match the header or fails the modulus check.
 */
export function mlKem768Encapsulate2(
  state: MlKem768Encapsulation1State,
  encapsulationKey: Uint8Array,
): Uint8Array {
  abytes(state.header, ML_KEM_768_HEADER_LENGTH, 'state.header');
  abytes(state.randomness, RANDOMNESS_LENGTH, 'state.randomness');
  abytes(encapsulationKey, ML_KEM_768_ENCAPSULATION_KEY_LENGTH, 'encapsulationKey');
  const tHat = checkKey(state.header, encapsulationKey);
  if (tHat === null) {
    throw new CryptoError('BAD_KEY', 'ML-KEM-768 encapsulation key does not match its header');
  }
  const backend = activeBackend();
  const kr = hashG(backend, state.randomness, state.header.subarray(32, 64));
  const noise = sampleR(backend, ML_KEM_768, kr.subarray(32, 64));
  const ct2 = new Uint8Array(ML_KEM_768_CT2_LENGTH);
  encryptV(backend, ML_KEM_768, tHat, noise, state.randomness, ct2, 0);
  wipeNoise(noise);
  kr.fill(0);
  return ct2;
}

/**
 * Standard ML-KEM-768 decapsulation (FIPS 203 Alg. 18, implicit rejection) of
 * `ct = ct1 ‖ ct2` (1088 bytes) with a 2400-byte decapsulation key. Throws
 * `CryptoError('BAD_KEY')` if the key fails the FIPS 203 §7.3 hash check.
 */
export function mlKem768Decapsulate(
  ciphertext: Uint8Array,
  decapsulationKey: Uint8Array,
): Uint8Array {
  abytes(ciphertext, ML_KEM_768_CT1_LENGTH + ML_KEM_768_CT2_LENGTH, 'ciphertext');
  abytes(decapsulationKey, ML_KEM_768_DECAPSULATION_KEY_LENGTH, 'decapsulationKey');
  return mlKemDecapsulate(ML_KEM_768, decapsulationKey, ciphertext);
}
