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
// --- sessions (PQXDH, Double Ratchet, SPQR, records, stores) ---
export { type ProtocolAddress, addressToString, MIN_DEVICE_ID, MAX_DEVICE_ID } from './address.js';
export { IdentityKey, IdentityKeyPair } from './keys/identity-key.js';
export {
  KemPublicKey,
  KemSecretKey,
  KemKeyPair,
  KYBER1024_KEY_TYPE,
  KEM_PUBLIC_KEY_LENGTH,
  KEM_SECRET_KEY_LENGTH,
  KEM_CIPHERTEXT_LENGTH,
} from './keys/kem.js';
export { PreKeyRecord, SignedPreKeyRecord, KyberPreKeyRecord } from './keys/prekeys.js';
export { PreKeyBundle, type PreKeyBundleFields } from './keys/prekey-bundle.js';
export {
  parseSignalMessage,
  type SignalMessage,
  CIPHERTEXT_MESSAGE_CURRENT_VERSION,
} from './wire/signal-message.js';
export {
  parsePreKeySignalMessage,
  type PreKeySignalMessage,
} from './wire/prekey-signal-message.js';
export {
  serviceIdFixedFromString,
  serviceIdFixedToString,
  type ServiceIdKind,
} from './wire/service-id.js';
export {
  type SessionState,
  serializeSessionState,
  deserializeSessionState,
} from './session/session-state.js';
export { SessionRecord } from './session/session-record.js';
export {
  processPreKeyBundle,
  signalEncrypt,
  signalDecrypt,
  signalDecryptPreKey,
  CIPHERTEXT_MESSAGE_TYPE,
  type CiphertextMessage,
  type CiphertextMessageKind,
  type SessionContext,
} from './session/session-cipher.js';
export type {
  Direction,
  IdentityChange,
  IdentityKeyStore,
  SessionStore,
  PreKeyStore,
  SignedPreKeyStore,
  KyberPreKeyStore,
  ProtocolStores,
} from './session/stores.js';
// --- groups, sealed sender, safety numbers ---
export * from './group/index.js';
export * from './sealed-sender/index.js';
export * from './fingerprint/index.js';
