/**
 * ML-KEM sampling (FIPS 203 §4.2.2): SampleNTT (Alg. 7) from the XOF SHAKE128, and
 * SamplePolyCBD_η (Alg. 8) for η = 2 from the PRF SHAKE256 (§4.1, eq. 4.3). The hash functions
 * come from the active CryptoBackend (OpenSSL in Node, @noble/hashes elsewhere).
 *
 * SampleNTT squeezes a fixed 504 bytes (three SHAKE128 blocks, 336 candidates) first. Each
 * 12-bit candidate is accepted with probability p = 3329/4096, so 504 bytes fall short of 256
 * accepted values with probability P[Binomial(336, p) ≤ 255] ≈ 2^−6.9 (about 1 in 120
 * polynomials). Then the XOF is squeezed again with twice the length, and parsing resumes where
 * it stopped: a SHAKE output is a prefix of every longer output for the same input, so this is
 * exactly Alg. 7, for every input (C2SP CCTV "unlucky" vectors exercise it). 1008 bytes fall
 * short with probability ≈ 2^−260.
 *
 * Only ρ (public) drives the rejection sampling, so its variable time leaks nothing secret.
 */
import type { CryptoBackend } from '../backend.js';
import { N, Q } from './params.js';

/** SHAKE128 bytes squeezed for SampleNTT before the (rare) longer re-squeeze. */
export const SAMPLE_NTT_SQUEEZE_LENGTH = 3 * 168;

/**
 * SampleNTT(B) (FIPS 203 Alg. 7) for the 34-byte XOF input `B = ρ ‖ j ‖ i`, into
 * `out[off..off+256)`; coefficients in [0, q).
 */
export function sampleNtt(
  backend: CryptoBackend,
  xofInput: Uint8Array,
  out: Int16Array,
  off: number,
): void {
  let length = SAMPLE_NTT_SQUEEZE_LENGTH;
  let bytes = backend.shake128(xofInput, length);
  let count = 0;
  let pos = 0;
  for (;;) {
    for (; count < N && pos + 3 <= length; pos += 3) {
      const b0 = bytes[pos]!;
      const b1 = bytes[pos + 1]!;
      const b2 = bytes[pos + 2]!;
      const d1 = b0 | ((b1 & 0x0f) << 8);
      const d2 = (b1 >> 4) | (b2 << 4);
      if (d1 < Q) out[off + count++] = d1;
      if (d2 < Q && count < N) out[off + count++] = d2;
    }
    if (count === N) return;
    // Out of candidates: squeeze a longer output and continue from `pos` (a multiple of 3).
    length *= 2;
    bytes = backend.shake128(xofInput, length);
  }
}

/**
 * Row `i` of Â (`transposed = false`: entries SampleNTT(ρ ‖ j ‖ i), FIPS 203 Alg. 13 line 6) or
 * of Âᵀ (`transposed = true`: SampleNTT(ρ ‖ i ‖ j), Alg. 14 line 6 read transposed), for
 * j < k, into `out[0..256k)`.
 */
export function sampleMatrixRow(
  backend: CryptoBackend,
  rho: Uint8Array,
  i: number,
  k: number,
  transposed: boolean,
  out: Int16Array,
): void {
  const xofInput = new Uint8Array(34);
  xofInput.set(rho.subarray(0, 32), 0);
  for (let j = 0; j < k; j++) {
    xofInput[32] = transposed ? i : j;
    xofInput[33] = transposed ? j : i;
    sampleNtt(backend, xofInput, out, N * j);
  }
}

/** PRF_2 output length: 64·η bytes for η = 2. */
const PRF_LENGTH = 128;

/**
 * SamplePolyCBD_2(PRF_2(s, nonce)) (FIPS 203 Alg. 8, η = 2) into `out[off..off+256)`, with
 * coefficients as integers in [−2, 2]. `prfInput` is a 33-byte scratch array holding `s` in its
 * first 32 bytes; its last byte is overwritten with `nonce`.
 */
export function sampleCbd2(
  backend: CryptoBackend,
  prfInput: Uint8Array,
  nonce: number,
  out: Int16Array,
  off: number,
): void {
  prfInput[32] = nonce;
  const bytes = backend.shake256(prfInput, PRF_LENGTH);
  // Each coefficient takes 4 bits b0..b3 (little-endian bit order, Alg. 8 via BytesToBits):
  // x = b0 + b1, y = b2 + b3, f = x − y. Work on 32-bit words: 8 coefficients per word.
  for (let w = 0; w < PRF_LENGTH / 4; w++) {
    const p = 4 * w;
    const t =
      (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
    // Pairwise bit sums: the 2-bit field at bit 2m holds b_{2m} + b_{2m+1}.
    const d = (t & 0x55555555) + ((t >>> 1) & 0x55555555);
    const base = off + 8 * w;
    for (let c = 0; c < 8; c++) {
      out[base + c] = ((d >>> (4 * c)) & 3) - ((d >>> (4 * c + 2)) & 3);
    }
  }
  bytes.fill(0);
}
