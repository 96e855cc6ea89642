/**
 * K-PKE, the CPA-secure encryption scheme under ML-KEM (FIPS 203 §5): KeyGen (Alg. 13),
 * Encrypt (Alg. 14) and Decrypt (Alg. 15), for the parameter sets of params.ts.
 *
 * Encrypt is exposed in two halves because SPQR must send `c1` before it knows `t̂`
 * (signal-wire.md §3.4): `encryptU` (Â from ρ, e1, u and c1: needs ρ only) and `encryptV`
 * (e2, μ, v and c2: needs t̂), both from the same r̂ (`sampleR`; FIPS 203 calls it ŷ).
 * KeyGen takes ρ and σ rather than d, so the caller chooses the seed expansion: ML-KEM's
 * `G(d ‖ k)` or Kyber round 3's `G(d)` (signal-wire.md §3.3).
 *
 * Scratch arrays holding secrets (ŝ, e, r̂, noise, w) are wiped with `fill(0)` before returning;
 * JavaScript cannot promise more (docs/crypto.md).
 */
import type { CryptoBackend } from '../backend.js';
import {
  addMessage,
  byteDecode12,
  byteEncode12,
  compressEncode,
  decodeDecompress,
  encodeMessage,
} from './encoding.js';
import {
  addInto,
  invNttFromMontgomery,
  multiplyAccumulate,
  ntt,
  reduce,
  toMontgomery,
} from './ntt.js';
import { N, type MlKemParams } from './params.js';
import { sampleCbd2, sampleMatrixRow } from './sampling.js';

/** `s ‖ 0` as the 33-byte PRF input scratch (its last byte is the nonce). */
function prfInput(seed: Uint8Array): Uint8Array {
  const input = new Uint8Array(33);
  input.set(seed.subarray(0, 32), 0);
  return input;
}

/**
 * K-PKE.KeyGen (Alg. 13) after its line 1, i.e. from ρ and σ: writes `ek = ByteEncode12(t̂) ‖ ρ`
 * (384k + 32 bytes) into `ek` and `dkPKE = ByteEncode12(ŝ)` (384k bytes) into `dkPke`.
 */
export function kPkeKeyGen(
  backend: CryptoBackend,
  p: MlKemParams,
  rho: Uint8Array,
  sigma: Uint8Array,
  ek: Uint8Array,
  dkPke: Uint8Array,
): void {
  const { k } = p;
  const sHat = new Int16Array(N * k);
  const tHat = new Int16Array(N * k);
  const scratch = new Int16Array(N * k);
  const prf = prfInput(sigma);
  for (let i = 0; i < k; i++) {
    sampleCbd2(backend, prf, i, sHat, N * i); // s_i, nonces 0..k−1
    ntt(sHat, N * i);
  }
  for (let i = 0; i < k; i++) {
    // t̂_i = Σ_j Â[i][j] ∘ ŝ_j + ê_i
    sampleMatrixRow(backend, rho, i, k, false, scratch);
    multiplyAccumulate(tHat, N * i, scratch, 0, sHat, 0, k);
    toMontgomery(tHat, N * i);
    sampleCbd2(backend, prf, k + i, scratch, 0); // e_i, nonces k..2k−1
    ntt(scratch, 0);
    addInto(tHat, N * i, scratch, 0, N);
    reduce(tHat, N * i, N);
  }
  byteEncode12(tHat, 0, N * k, ek, 0);
  ek.set(rho.subarray(0, 32), 384 * k);
  byteEncode12(sHat, 0, N * k, dkPke, 0);
  sHat.fill(0);
  scratch.fill(0);
  prf.fill(0);
}

/** Encryption randomness: r̂ and the PRF input for e1 and e2. Secret. */
export interface EncryptionNoise {
  /** `NTT(r_i)` for i < k, as k·256 entries. */
  readonly rHat: Int16Array;
  /** `r ‖ nonce`: the PRF input for e1 (nonces k..2k−1) and e2 (nonce 2k). */
  readonly prf: Uint8Array;
}

/** r̂ = NTT(y) from the 32-byte encryption randomness r (Alg. 14 lines 9–12 and 18). */
export function sampleR(backend: CryptoBackend, p: MlKemParams, r: Uint8Array): EncryptionNoise {
  const { k } = p;
  const rHat = new Int16Array(N * k);
  const prf = prfInput(r);
  for (let i = 0; i < k; i++) {
    sampleCbd2(backend, prf, i, rHat, N * i);
    ntt(rHat, N * i);
  }
  return { rHat, prf };
}

export function wipeNoise(noise: EncryptionNoise): void {
  noise.rHat.fill(0);
  noise.prf.fill(0);
}

/**
 * First half of K-PKE.Encrypt: `c1 = ByteEncode_du(Compress_du(u))` with
 * `u = NTT⁻¹(Âᵀ ∘ r̂) + e1` (Alg. 14 lines 4–8, 13–16, 19, 22), written to `out` at `oo`
 * (32·du·k bytes). Needs only ρ of the encryption key.
 */
export function encryptU(
  backend: CryptoBackend,
  p: MlKemParams,
  rho: Uint8Array,
  noise: EncryptionNoise,
  out: Uint8Array,
  oo: number,
): void {
  const { k, du } = p;
  const row = new Int16Array(N * k);
  const u = new Int16Array(N);
  const e1 = new Int16Array(N);
  for (let i = 0; i < k; i++) {
    sampleMatrixRow(backend, rho, i, k, true, row);
    multiplyAccumulate(u, 0, row, 0, noise.rHat, 0, k);
    invNttFromMontgomery(u, 0);
    sampleCbd2(backend, noise.prf, k + i, e1, 0);
    addInto(u, 0, e1, 0, N);
    reduce(u, 0, N);
    compressEncode(u, 0, du, out, oo + 32 * du * i);
  }
  u.fill(0);
  e1.fill(0);
}

/**
 * Second half of K-PKE.Encrypt: `c2 = ByteEncode_dv(Compress_dv(v))` with
 * `v = NTT⁻¹(t̂ᵀ ∘ r̂) + e2 + Decompress1(m)` (Alg. 14 lines 17, 20–21, 23), written to `out` at
 * `oo` (32·dv bytes). `tHat` is the decoded t̂ (k·256 entries in [0, q)).
 */
export function encryptV(
  backend: CryptoBackend,
  p: MlKemParams,
  tHat: Int16Array,
  noise: EncryptionNoise,
  m: Uint8Array,
  out: Uint8Array,
  oo: number,
): void {
  const { k, dv } = p;
  const v = new Int16Array(N);
  const e2 = new Int16Array(N);
  multiplyAccumulate(v, 0, tHat, 0, noise.rHat, 0, k);
  invNttFromMontgomery(v, 0);
  sampleCbd2(backend, noise.prf, 2 * k, e2, 0);
  addInto(v, 0, e2, 0, N);
  addMessage(m, v, 0);
  reduce(v, 0, N);
  compressEncode(v, 0, dv, out, oo);
  v.fill(0);
  e2.fill(0);
}

/**
 * Decodes `t̂` from `ByteEncode12(t̂) ‖ ρ` (or its first 384k bytes) into k·256 entries mod q.
 * Returns null if the FIPS 203 §7.2 modulus check fails and `checkModulus` is set.
 */
export function decodeTHat(
  p: MlKemParams,
  ek: Uint8Array,
  checkModulus: boolean,
): Int16Array | null {
  const tHat = new Int16Array(N * p.k);
  const inRange = byteDecode12(ek, 0, N * p.k, tHat, 0);
  return inRange || !checkModulus ? tHat : null;
}

/** K-PKE.Encrypt (Alg. 14) of the 32-byte `m` with randomness `r` into `out` (c1 ‖ c2). */
export function kPkeEncrypt(
  backend: CryptoBackend,
  p: MlKemParams,
  tHat: Int16Array,
  rho: Uint8Array,
  m: Uint8Array,
  r: Uint8Array,
  out: Uint8Array,
): void {
  const noise = sampleR(backend, p, r);
  encryptU(backend, p, rho, noise, out, 0);
  encryptV(backend, p, tHat, noise, m, out, p.ct1Length);
  wipeNoise(noise);
}

/**
 * K-PKE.Decrypt (Alg. 15): the 32-byte message of ciphertext `c` (its first p.ciphertextLength
 * bytes) under `dkPKE = ByteEncode12(ŝ)` (its first 384k bytes).
 */
export function kPkeDecrypt(p: MlKemParams, dkPke: Uint8Array, c: Uint8Array): Uint8Array {
  const { k, du, dv } = p;
  const uHat = new Int16Array(N * k);
  for (let i = 0; i < k; i++) {
    decodeDecompress(c, 32 * du * i, du, uHat, N * i);
    ntt(uHat, N * i);
  }
  const sHat = new Int16Array(N * k);
  byteDecode12(dkPke, 0, N * k, sHat, 0);
  const w = new Int16Array(N);
  multiplyAccumulate(w, 0, sHat, 0, uHat, 0, k);
  invNttFromMontgomery(w, 0);
  // w = v' − NTT⁻¹(ŝᵀ ∘ NTT(u')), with v' in [0, q): |w| < 2q, then reduced.
  const v = new Int16Array(N);
  decodeDecompress(c, p.ct1Length, dv, v, 0);
  for (let i = 0; i < N; i++) w[i] = v[i]! - w[i]!;
  reduce(w, 0, N);
  const m = new Uint8Array(32);
  encodeMessage(w, 0, m);
  sHat.fill(0);
  w.fill(0);
  return m;
}
