/**
 * @sotto/protocol/hazmat — the session layer's internal steps, for known-answer tests, interop
 * harnesses and benchmarks (CONVENTIONS.md "Public surface": dangerous primitives under
 * `./hazmat`). Misused, these break forward secrecy or accept forged messages: applications use
 * the store-based API of the main entry point instead.
 */
export { RootKey } from './ratchet/root-key.js';
export { ChainKey } from './ratchet/chain-key.js';
export { MessageKeys } from './ratchet/message-keys.js';
export { SkippedKeys } from './ratchet/skipped-keys.js';
export { ReceiverChain } from './ratchet/receiver-chain.js';
export {
  ratchetEncrypt,
  ratchetDecrypt,
  type RatchetDecryptContext,
  type RatchetEncryptResult,
  type RatchetDecryptResult,
} from './ratchet/double-ratchet.js';
export {
  pqxdhInitiate,
  pqxdhAccept,
  pqxdhAcceptSecrets,
  deriveHandshakeKeys,
  type HandshakeKeys,
  type PqxdhSecrets,
  type PqxdhInitiatorParams,
  type PqxdhResponderParams,
} from './handshake/pqxdh.js';
export { isCanonicalBaseKey, isInRange, isTorsionFree } from './handshake/base-key.js';
export { initializeAliceSession, initializeBobSession } from './session/session-init.js';
export {
  initiateSession,
  acceptPreKeyMessage,
  encryptWithRecord,
  decryptWithRecord,
  commitDecryption,
  type RecordDecryptResult,
} from './session/session-cipher.js';
export {
  encodeSessionState,
  decodeSessionState,
  type PendingPreKey,
  type SenderChain,
} from './session/session-state.js';
export {
  encodeSignalMessage,
  computeSignalMessageMac,
  verifySignalMessageMac,
  encodeAddresses,
  type SignalMessageFields,
} from './wire/signal-message.js';
export {
  encodePreKeySignalMessage,
  type PreKeySignalMessageFields,
} from './wire/prekey-signal-message.js';
