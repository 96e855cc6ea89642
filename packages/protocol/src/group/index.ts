/**
 * Sender Keys for groups (shared/specs/signal-wire.md §5). The public surface: the cipher
 * functions, the two wire messages, the record and its store interface. The in-memory store is
 * exported for the package's `./testing` entry (`group/in-memory-sender-key-store.ts`).
 */
export {
  createSenderKeyDistributionMessage,
  processSenderKeyDistributionMessage,
  groupEncrypt,
  groupDecrypt,
} from './group-cipher.js';
export {
  SenderKeyDistributionMessage,
  SENDER_KEY_MESSAGE_VERSION,
  type SenderKeyDistributionFields,
} from './sender-key-distribution-message.js';
export { SenderKeyMessage } from './sender-key-message.js';
export { SenderKeyRecord, SENDER_KEY_RECORD_VERSION } from './sender-key-record.js';
export type { SenderKeyState, SenderMessageKeyPlan } from './sender-key-state.js';
export type { SenderKeyStore } from './sender-key-store.js';
