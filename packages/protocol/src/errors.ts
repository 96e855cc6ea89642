/**
 * The one error class of @sotto/protocol (CONVENTIONS.md "Errors"). Codes are a string union so a
 * caller can switch over them exhaustively; messages never contain key material or plaintext.
 */
export type ProtocolErrorCode =
  | 'INVALID_MESSAGE' // malformed bytes: bad protobuf, wrong lengths, unknown type byte
  | 'INVALID_MAC'
  | 'INVALID_SIGNATURE'
  | 'INVALID_KEY' // a key of the wrong type or length, or a non-canonical base key
  | 'LEGACY_VERSION' // PreKey version 3 (X3DH) or older
  | 'UNSUPPORTED_VERSION' // a version newer than we speak
  | 'DUPLICATE_MESSAGE'
  | 'MESSAGE_GAP_TOO_LARGE' // a forward jump beyond MAX_FORWARD_JUMPS
  | 'NO_SESSION'
  | 'SESSION_EXPIRED' // an unacknowledged session older than MAX_UNACKNOWLEDGED_SESSION_AGE
  | 'UNTRUSTED_IDENTITY'
  | 'INVALID_PREKEY_ID' // the PreKey message names a prekey we do not hold
  | 'INVALID_SIGNED_PREKEY_ID' // ... or a signed prekey we do not hold
  | 'INVALID_KYBER_PREKEY_ID'
  | 'KYBER_PREKEY_REUSED' // a last-resort Kyber prekey used twice with the same (signed prekey, base key)
  | 'INVALID_ADDRESS' // a protocol address with an empty name or a device id outside 1..127
  | 'MISSING_KYBER' // a v4 PreKey message without the Kyber fields
  | 'ADDRESS_MISMATCH'
  | 'PQ_RATCHET' // SPQR rejected the message (missing, bad epoch, bad MAC, key jump, reused key)
  | 'NO_SENDER_KEY'
  | 'INVALID_CERTIFICATE'
  | 'CERTIFICATE_EXPIRED'
  | 'INVALID_STATE' // stored state that does not deserialise or a misuse of the API
  | 'FINGERPRINT_VERSION_MISMATCH'
  | 'FINGERPRINT_IDENTIFIER_MISMATCH';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }

  static is(err: unknown, code?: ProtocolErrorCode): err is ProtocolError {
    return err instanceof ProtocolError && (code === undefined || err.code === code);
  }
}
