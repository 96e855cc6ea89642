/**
 * Safety numbers: the 60-digit display string and the scannable (QR) protobuf
 * (shared/specs/signal-wire.md §7).
 */
export {
  Fingerprint,
  ScannableFingerprint,
  fingerprintIdentifierFromAci,
  fingerprintIdentifierFromE164,
  FINGERPRINT_VERSION_ACI,
  FINGERPRINT_VERSION_E164,
  FINGERPRINT_MIN_ITERATIONS,
  FINGERPRINT_MAX_ITERATIONS,
  type FingerprintOptions,
  type FingerprintParty,
} from './fingerprint.js';
