/**
 * ML-KEM parameter sets (FIPS 203 §8, Table 2) and the sizes they imply (Table 3).
 *
 * Only ML-KEM-768 (SPQR, signal-wire.md §3.4) and ML-KEM-1024 (the K-PKE under libsignal's
 * Kyber1024, §3.3) are defined. Left out on purpose: ML-KEM-512, whose η1 = 3 would need a second
 * CBD sampler that nothing in Sotto uses.
 */

/** Degree of the ring R_q = Z_q[X]/(X^256 + 1). */
export const N = 256;
/** The prime modulus q = 3329 = 13·2^8 + 1. */
export const Q = 3329;

export interface MlKemParams {
  readonly name: 'ML-KEM-768' | 'ML-KEM-1024';
  /** Module rank k. */
  readonly k: number;
  /** Compression widths d_u, d_v. (η1 = η2 = 2 in both sets.) */
  readonly du: number;
  readonly dv: number;
  /** `ByteEncode12(t̂) ‖ ρ`: 384k + 32 bytes. */
  readonly encapsulationKeyLength: number;
  /** `dkPKE ‖ ek ‖ H(ek) ‖ z`: 768k + 96 bytes. */
  readonly decapsulationKeyLength: number;
  /** `c1 = ByteEncode_du(Compress_du(u))`: 32·d_u·k bytes. */
  readonly ct1Length: number;
  /** `c2 = ByteEncode_dv(Compress_dv(v))`: 32·d_v bytes. */
  readonly ct2Length: number;
  /** `c1 ‖ c2`. */
  readonly ciphertextLength: number;
}

function params(name: MlKemParams['name'], k: number, du: number, dv: number): MlKemParams {
  return Object.freeze({
    name,
    k,
    du,
    dv,
    encapsulationKeyLength: 384 * k + 32,
    decapsulationKeyLength: 768 * k + 96,
    ct1Length: 32 * du * k,
    ct2Length: 32 * dv,
    ciphertextLength: 32 * (du * k + dv),
  });
}

export const ML_KEM_768: MlKemParams = /* @__PURE__ */ params('ML-KEM-768', 3, 10, 4);
export const ML_KEM_1024: MlKemParams = /* @__PURE__ */ params('ML-KEM-1024', 4, 11, 5);

/** Length of the seeds d, z, the message m, ρ, σ, r and the shared secret. */
export const SYMMETRIC_LENGTH = 32;
