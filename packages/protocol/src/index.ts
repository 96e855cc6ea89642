/**
 * @sotto/protocol — the Signal protocol, sans-I/O (ARCHITECTURE.md): PQXDH, Double Ratchet with
 * SPQR, Sender Keys, Sealed Sender v1 and safety numbers, wire-compatible with libsignal 0.103.
 * State in, state and bytes out; randomness (`Rng`) and time (`now`) are passed in.
 */
export { ProtocolError, type ProtocolErrorCode } from './errors.js';
export * as limits from './limits.js';
export type { Rng } from './rng.js';
export {
  PublicKey,
  PrivateKey,
  KeyPair,
  DJB_KEY_TYPE,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
} from './keys/curve.js';
// --- sessions (PQXDH, Double Ratchet, SPQR, records, stores): owned by the session work ---
// --- groups, sealed sender, safety numbers ---
export * from './group/index.js';
export * from './sealed-sender/index.js';
export * from './fingerprint/index.js';
