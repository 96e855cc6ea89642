/**
 * ML-KEM-768 (FIPS 203) with the split ("incremental") encapsulation SPQR needs
 * (shared/specs/signal-wire.md §3.4; libcrux `mlkem768::incremental`, used by spqr v1.5.3).
 *
 * The send_ct side of SPQR must emit the first ciphertext part before it has the peer's
 * encapsulation key, so K-PKE.Encrypt (FIPS 203 Alg. 14) is cut in two:
 * - `mlKem768Encapsulate1(header, m)` needs only the 64-byte header `ρ ‖ H(ek)`: it derives
 *   `(K, r) = G(m ‖ H(ek))` (Alg. 17; FIPS 203 uses `m` as is, no pre-hash) and outputs
 *   `ct1 = ByteEncode10(Compress10(u))`, `u = NTT⁻¹(Âᵀ ∘ r̂) + e1`, and the shared secret `K`.
 * - `mlKem768Encapsulate2(state, ek)` checks `H(ek ‖ ρ) == header[32..]` and the FIPS 203
 *   modulus check on `ek = t̂`, then outputs `ct2 = ByteEncode4(Compress4(v))`,
 *   `v = NTT⁻¹(t̂ᵀ ∘ r̂) + e2 + Decompress1(m)`.
 * `ct1 ‖ ct2` is an ordinary ML-KEM-768 ciphertext, so decapsulation is noble's standard one.
 * Key generation is noble's `ml_kem768.keygen` split into header / `t̂` / standard 2400-byte dk.
 *
 * Left out on purpose: the state between the two halves is `(m, header)` only — encapsulate2
 * re-derives `r̂` and `e2` from it (a few hashes and three NTTs) instead of storing 2 KiB of
 * polynomials, which keeps the SPQR state small and free of libcrux's layout. Arithmetic uses
 * plain Int32Array polynomials reduced into [0, q); JavaScript gives no constant-time guarantee.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256, sha3_512, shake128, shake256 } from '@noble/hashes/sha3.js';
import { abytes } from './assert.js';
import { CryptoError } from './errors.js';

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

// --- ring arithmetic (FIPS 203 §4.3) ---------------------------------------------------------

const N = 256;
const Q = 3329;
const K = 3;
const DU = 10;
const DV = 4;
/** 128⁻¹ mod q (FIPS 203 Alg. 10, last step). */
const INV_128 = 3303;

type Poly = Int32Array;

function bitRev7(i: number): number {
  let r = 0;
  for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b);
  return r;
}

function powMod(base: number, exp: number): number {
  let r = 1;
  let b = base % Q;
  let e = exp;
  while (e > 0) {
    if (e & 1) r = (r * b) % Q;
    b = (b * b) % Q;
    e >>= 1;
  }
  return r;
}

/** ζ^BitRev7(i), ζ = 17 (FIPS 203 Appendix A). */
const ZETAS = /* @__PURE__ */ Int32Array.from({ length: 128 }, (_, i) => powMod(17, bitRev7(i)));
/** ζ^(2·BitRev7(i)+1) for the base-case multiplication (FIPS 203 Alg. 11). */
const GAMMAS = /* @__PURE__ */ Int32Array.from({ length: 128 }, (_, i) =>
  powMod(17, 2 * bitRev7(i) + 1),
);

/** In-place NTT (FIPS 203 Alg. 9); coefficients in [0, q). */
function ntt(f: Poly): void {
  let k = 1;
  for (let len = 128; len >= 2; len >>= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k++]!;
      for (let j = start; j < start + len; j++) {
        const t = (zeta * f[j + len]!) % Q;
        const a = f[j]!;
        const lo = a - t;
        f[j + len] = lo < 0 ? lo + Q : lo;
        const hi = a + t;
        f[j] = hi >= Q ? hi - Q : hi;
      }
    }
  }
}

/** In-place inverse NTT (FIPS 203 Alg. 10); coefficients in [0, q). */
function invNtt(f: Poly): void {
  let k = 127;
  for (let len = 2; len <= 128; len <<= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k--]!;
      for (let j = start; j < start + len; j++) {
        const t = f[j]!;
        const b = f[j + len]!;
        const sum = t + b;
        f[j] = sum >= Q ? sum - Q : sum;
        f[j + len] = (zeta * (b - t + Q)) % Q;
      }
    }
  }
  for (let i = 0; i < N; i++) f[i] = (f[i]! * INV_128) % Q;
}

/** acc += f ∘ g in T_q (FIPS 203 Alg. 11 and 12); all inputs in [0, q). */
function multiplyNttsAccumulate(acc: Poly, f: Poly, g: Poly): void {
  for (let i = 0; i < 128; i++) {
    const a0 = f[2 * i]!;
    const a1 = f[2 * i + 1]!;
    const b0 = g[2 * i]!;
    const b1 = g[2 * i + 1]!;
    const c0 = (((a1 * b1) % Q) * GAMMAS[i]! + a0 * b0 + acc[2 * i]!) % Q;
    const c1 = (a0 * b1 + a1 * b0 + acc[2 * i + 1]!) % Q;
    acc[2 * i] = c0;
    acc[2 * i + 1] = c1;
  }
}

function addInto(a: Poly, b: Poly): void {
  for (let i = 0; i < N; i++) {
    const s = a[i]! + b[i]!;
    a[i] = s >= Q ? s - Q : s;
  }
}

// --- sampling (FIPS 203 §4.2.2) --------------------------------------------------------------

/** SampleNTT(ρ ‖ a ‖ b) with SHAKE128 (FIPS 203 Alg. 7). */
function sampleNtt(rho: Uint8Array, a: number, b: number): Poly {
  const seed = new Uint8Array(34);
  seed.set(rho);
  seed[32] = a;
  seed[33] = b;
  const xof = shake128.create().update(seed);
  const out = new Int32Array(N);
  let j = 0;
  // Three SHAKE128 blocks (504 bytes) almost always suffice; squeeze one more block as needed.
  let buf = xof.xof(504);
  for (;;) {
    for (let i = 0; j < N && i + 3 <= buf.length; i += 3) {
      const b0 = buf[i]!;
      const b1 = buf[i + 1]!;
      const b2 = buf[i + 2]!;
      const d1 = b0 | ((b1 & 0x0f) << 8);
      const d2 = (b1 >> 4) | (b2 << 4);
      if (d1 < Q) out[j++] = d1;
      if (d2 < Q && j < N) out[j++] = d2;
    }
    if (j >= N) return out;
    buf = xof.xof(168);
  }
}

/** SamplePolyCBD_2(PRF_2(s, nonce)) (FIPS 203 Alg. 8 with η = 2; PRF = SHAKE256, 128 bytes). */
function sampleCbd2(s: Uint8Array, nonce: number): Poly {
  const input = new Uint8Array(33);
  input.set(s);
  input[32] = nonce;
  const bytes = shake256(input, { dkLen: 128 });
  const out = new Int32Array(N);
  for (let i = 0; i < 128; i++) {
    const byte = bytes[i]!;
    for (let half = 0; half < 2; half++) {
      const nib = byte >> (4 * half);
      const x = (nib & 1) + ((nib >> 1) & 1);
      const y = ((nib >> 2) & 1) + ((nib >> 3) & 1);
      const d = x - y;
      out[2 * i + half] = d < 0 ? d + Q : d;
    }
  }
  bytes.fill(0);
  return out;
}

// --- encodings (FIPS 203 §4.2.1) -------------------------------------------------------------

/** ByteEncode_d(Compress_d(f)) into `out` at `offset` (d < 12). */
function compressEncode(f: Poly, d: number, out: Uint8Array, offset: number): void {
  const mask = (1 << d) - 1;
  let acc = 0;
  let bits = 0;
  let pos = offset;
  for (let i = 0; i < N; i++) {
    // round(2^d · x / q) mod 2^d; q is odd so no tie can occur.
    const c = Math.floor((f[i]! * (1 << d) + (Q - 1) / 2) / Q) & mask;
    acc |= c << bits;
    bits += d;
    while (bits >= 8) {
      out[pos++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
}

/**
 * ByteDecode_12 of `t̂` with the FIPS 203 §7.2 modulus check (every coefficient < q, i.e.
 * ByteEncode12(ByteDecode12(ek)) == ek). Returns null if the check fails.
 */
function decodeEncapsulationKey(ek: Uint8Array): Poly[] | null {
  const polys: Poly[] = [];
  for (let p = 0; p < K; p++) {
    const f = new Int32Array(N);
    const base = 384 * p;
    for (let i = 0; i < N / 2; i++) {
      const b0 = ek[base + 3 * i]!;
      const b1 = ek[base + 3 * i + 1]!;
      const b2 = ek[base + 3 * i + 2]!;
      const c0 = b0 | ((b1 & 0x0f) << 8);
      const c1 = (b1 >> 4) | (b2 << 4);
      if (c0 >= Q || c1 >= Q) return null;
      f[2 * i] = c0;
      f[2 * i + 1] = c1;
    }
    polys.push(f);
  }
  return polys;
}

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
 * Generates an ML-KEM-768 key pair (noble `ml_kem768.keygen`, FIPS 203 Alg. 16) from a 64-byte
 * seed `d ‖ z` (random if omitted) and splits its public key into header and `t̂`.
 */
export function mlKem768GenerateKeyPair(seed?: Uint8Array): MlKem768KeyPair {
  if (seed !== undefined) abytes(seed, SEED_LENGTH, 'seed');
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  const header = new Uint8Array(ML_KEM_768_HEADER_LENGTH);
  header.set(publicKey.subarray(ML_KEM_768_ENCAPSULATION_KEY_LENGTH), 0);
  header.set(sha3_256(publicKey), 32);
  const pair: MlKem768KeyPair = {
    header,
    encapsulationKey: publicKey.slice(0, ML_KEM_768_ENCAPSULATION_KEY_LENGTH),
    decapsulationKey: secretKey,
  };
  return hideSecrets(pair, () => ({ type: 'MlKem768KeyPair', header: '[64 bytes]' }));
}

/** r̂ = NTT(r) with r_i = CBD(PRF(r, i)), i < K (FIPS 203 Alg. 14, lines 9–12). */
function deriveRHat(r: Uint8Array): Poly[] {
  const rHat: Poly[] = [];
  for (let i = 0; i < K; i++) {
    const p = sampleCbd2(r, i);
    ntt(p);
    rHat.push(p);
  }
  return rHat;
}

function gOf(m: Uint8Array, publicKeyHash: Uint8Array): Uint8Array {
  return sha3_512.create().update(m).update(publicKeyHash).digest();
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
  const rho = header.subarray(0, 32);
  const kr = gOf(random32, header.subarray(32, 64));
  const sharedSecret = kr.slice(0, 32);
  const r = kr.subarray(32, 64);
  const rHat = deriveRHat(r);
  const ct1 = new Uint8Array(ML_KEM_768_CT1_LENGTH);
  for (let i = 0; i < K; i++) {
    const acc = new Int32Array(N);
    // u_i = Σ_j Âᵀ[i][j] ∘ r̂_j with Âᵀ[i][j] = Â[j][i] = SampleNTT(ρ ‖ i ‖ j).
    for (let j = 0; j < K; j++) multiplyNttsAccumulate(acc, sampleNtt(rho, i, j), rHat[j]!);
    invNtt(acc);
    addInto(acc, sampleCbd2(r, K + i)); // e1_i, nonces K..2K-1
    compressEncode(acc, DU, ct1, (i * N * DU) / 8);
  }
  kr.fill(0);
  for (const p of rHat) p.fill(0);
  const result: MlKem768Encapsulation1 = {
    ct1,
    sharedSecret,
    randomness: random32.slice(),
    header: header.slice(),
  };
  return hideSecrets(result, () => ({ type: 'MlKem768Encapsulation1', ct1: '[960 bytes]' }));
}

/** `t̂` decoded if `H(t̂ ‖ ρ) == header[32..64]` and the modulus check passes, else null. */
function checkKey(header: Uint8Array, ek: Uint8Array): Poly[] | null {
  const hash = sha3_256.create().update(ek).update(header.subarray(0, 32)).digest();
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= hash[i]! ^ header[32 + i]!;
  if (diff !== 0) return null;
  return decodeEncapsulationKey(ek);
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
  const m = state.randomness;
  const kr = gOf(m, state.header.subarray(32, 64));
  const r = kr.subarray(32, 64);
  const rHat = deriveRHat(r);
  const v = new Int32Array(N);
  for (let i = 0; i < K; i++) multiplyNttsAccumulate(v, tHat[i]!, rHat[i]!);
  invNtt(v);
  addInto(v, sampleCbd2(r, 2 * K)); // e2
  // μ = Decompress1(ByteDecode1(m)): bit 1 ↦ ⌈q/2⌋ = 1665.
  for (let i = 0; i < N; i++) {
    if ((m[i >> 3]! >> (i & 7)) & 1) {
      const s = v[i]! + 1665;
      v[i] = s >= Q ? s - Q : s;
    }
  }
  const ct2 = new Uint8Array(ML_KEM_768_CT2_LENGTH);
  compressEncode(v, DV, ct2, 0);
  kr.fill(0);
  v.fill(0);
  for (const p of rHat) p.fill(0);
  return ct2;
}

/**
 * Standard ML-KEM-768 decapsulation (noble, FIPS 203 Alg. 18, implicit rejection) of
 * `ct = ct1 ‖ ct2` (1088 bytes) with a 2400-byte decapsulation key.
 */
export function mlKem768Decapsulate(
  ciphertext: Uint8Array,
  decapsulationKey: Uint8Array,
): Uint8Array {
  abytes(ciphertext, ML_KEM_768_CT1_LENGTH + ML_KEM_768_CT2_LENGTH, 'ciphertext');
  abytes(decapsulationKey, ML_KEM_768_DECAPSULATION_KEY_LENGTH, 'decapsulationKey');
  try {
    return ml_kem768.decapsulate(ciphertext, decapsulationKey);
  } catch (cause) {
    throw new CryptoError('BAD_KEY', 'ML-KEM-768 decapsulation key is malformed', { cause });
  }
}
