/**
 * Sealed Sender v1 with server and sender certificates (shared/specs/signal-wire.md §6).
 */
export {
  ServerCertificate,
  SenderCertificate,
  knownServerCertificates,
  REVOKED_SERVER_CERTIFICATE_KEY_IDS,
  type SenderCertificateOptions,
  type KnownServerCertificate,
} from './certificates.js';
export {
  UnidentifiedSenderMessageContent,
  SealedSenderMessageType,
  SealedSenderContentHint,
  type UnidentifiedSenderMessageContentOptions,
} from './unidentified-sender-message-content.js';
export {
  sealedSenderEncrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderDecrypt,
  SEALED_SENDER_V1_VERSION_BYTE,
  type SealedSenderLocalAddress,
  type IdentityKeyPairLike,
} from './sealed-sender-cipher.js';
