/**
 * The error registry of the client⇄server contract (CONVENTIONS.md "Errors"): every code the
 * relay can answer with, its HTTP status and what it means. HTTP responses carry
 * `{ error: { code, message, details? } }`; WebSocket ERROR frames carry the same code and status.
 * `docs/errors.md` is checked against {@link API_ERRORS} by a test, so the two cannot drift.
 *
 * Several codes may share a status; clients switch on `code`, never on the status alone.
 */

/** code → [HTTP status, meaning]. The meaning is the sentence documented in docs/errors.md. */
export const API_ERRORS = {
  INVALID_REQUEST: [400, 'The body, parameters or headers do not match the route schema.'],
  INVALID_PHONE_NUMBER: [400, 'The phone number is not a valid number in E.164 form.'],
  INVALID_KEY: [400, 'A key or signature has the wrong type byte or length.'],
  FRAME_INVALID: [400, 'A WebSocket frame is malformed, truncated, too large or of unknown type.'],
  FRAME_VERSION_UNSUPPORTED: [
    400,
    'A WebSocket frame carries a version this server does not speak.',
  ],
  UNAUTHENTICATED: [401, 'The request carries no valid device credential.'],
  VAULT_CREDENTIAL_INVALID: [
    401,
    'The request carries no valid key vault credential: missing, malformed, expired or forged.',
  ],
  FORBIDDEN: [403, 'The authenticated device may not do this (for example, only the primary may).'],
  VERIFICATION_CODE_INVALID: [403, 'The verification code is wrong.'],
  VERIFICATION_CODE_EXPIRED: [
    403,
    'No verification code is pending for this number, or it expired.',
  ],
  PROVISIONING_CODE_INVALID: [403, 'The device provisioning code is wrong, used or expired.'],
  VAULT_LOGIN_FAILED: [
    403,
    'The key vault login did not verify (wrong password or PIN); details give attemptsRemaining.',
  ],
  VAULT_LOGIN_EXPIRED: [
    403,
    'The key vault login state is expired or invalid, or the record was replaced; log in again.',
  ],
  NOT_FOUND: [404, 'No such route.'],
  ACCOUNT_NOT_FOUND: [404, 'No account with this id or number.'],
  DEVICE_NOT_FOUND: [404, 'The account has no device with this id.'],
  KEYS_NOT_FOUND: [
    404,
    'The device has not uploaded a signed prekey and a last-resort Kyber prekey.',
  ],
  ATTACHMENT_NOT_FOUND: [404, 'No attachment with this id, or it expired.'],
  BACKUP_NOT_FOUND: [404, 'The account has no backup with this name.'],
  PROVISIONING_ADDRESS_NOT_FOUND: [
    404,
    'No new device waits at this provisioning address (never opened, already used or expired).',
  ],
  VAULT_RECORD_NOT_FOUND: [404, 'The key vault holds no record for this account and purpose.'],
  MISMATCHED_DEVICES: [
    409,
    "The send does not match the recipient's devices; details list missingDevices and extraDevices.",
  ],
  DEVICE_LIMIT_REACHED: [409, 'The account already has the maximum number of devices.'],
  PREKEY_STORE_FULL: [409, 'Storing these one-time prekeys would exceed the per-device limit.'],
  LINKED_DEVICES_PRESENT: [
    409,
    'The account has linked devices, which hold the old identity key: remove them first.',
  ],
  VAULT_CONFLICT: [409, 'The key vault record kept changing under concurrent requests; retry.'],
  STALE_DEVICES: [
    410,
    'Some envelopes were encrypted for an old registration id; details list staleDevices.',
  ],
  VAULT_RECORD_DESTROYED: [
    410,
    'The key vault record was destroyed after 10 wrong guesses; the secret it held is gone.',
  ],
  PAYLOAD_TOO_LARGE: [413, 'The body, frame, envelope or attachment exceeds its size limit.'],
  BACKUP_TOO_LARGE: [413, 'The backup exceeds the largest backup this relay stores.'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'The Content-Type is not the one this route accepts.'],
  REGISTRATION_LOCKED: [
    423,
    'The number has a registration lock and no token was given; details give timeRemainingMs.',
  ],
  REGISTRATION_LOCK_MISMATCH: [
    423,
    'The registration lock token is wrong; details give timeRemainingMs.',
  ],
  RATE_LIMITED: [429, 'Too many requests; details give retryAfterMs.'],
  VERIFICATION_ATTEMPTS_EXHAUSTED: [429, 'Five wrong codes were tried; request a new code.'],
  INTERNAL: [500, 'An unexpected server error; nothing about it is revealed to the client.'],
  SMS_DELIVERY_FAILED: [502, 'The SMS gateway did not accept the verification code.'],
  SMS_UNAVAILABLE: [503, 'The server has no SMS sender configured, so it cannot register numbers.'],
  SERVICE_UNAVAILABLE: [503, 'The server is shutting down or not ready; retry later.'],
  BACKUP_STORAGE_UNAVAILABLE: [503, 'This server has no backup storage configured.'],
  VAULT_UNAVAILABLE: [503, 'This server has no key vault configured.'],
  MAILBOX_FULL: [507, "A recipient device's mailbox holds the maximum number of envelopes."],
  BACKUP_QUOTA_EXCEEDED: [
    507,
    "Storing the backup would exceed the account's backup quota, counting the backups kept.",
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Every registered code, in registry order. */
export const API_ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

/** The HTTP status of a code. */
export function statusOf(code: ApiErrorCode): number {
  return API_ERRORS[code][0];
}

/** True if `value` is a registered code (for decoding codes that came over the network). */
export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(API_ERRORS, value);
}

/** A key vault credential (vault-routes.ts): `username` the account id, `password` signed. */
export interface VaultCredentialBody {
  readonly username: string;
  readonly password: string;
}
/**
 * Structured details some codes carry. Numbers only; never secrets or phone numbers (one
 * exception: RegistrationLockDetails.vaultCredential, see there).
 */
export interface MismatchedDevicesDetails {
  readonly missingDevices: readonly number[];
  readonly extraDevices: readonly number[];
}
export interface StaleDevicesDetails {
  readonly staleDevices: readonly number[];
}
export interface RetryDetails {
  readonly retryAfterMs: number;
}
export interface VaultLoginFailedDetails {
  readonly attemptsRemaining: number;
}
export interface RegistrationLockDetails {
  readonly timeRemainingMs: number;
  /**
   * REGISTRATION_LOCKED after a correct SMS code, when the relay has a key vault: a short-lived
   * credential for the account's vault record, so the new device can recover its master key with
   * the PIN (Signal sends its SVR credentials in the same place). The one secret a detail may hold.
   */
  readonly vaultCredential?: VaultCredentialBody;
}
export type ApiErrorDetails =
  | MismatchedDevicesDetails
  | StaleDevicesDetails
  | RetryDetails
  | RegistrationLockDetails
  | VaultLoginFailedDetails
  | Readonly<Record<string, unknown>>;

/** The JSON body of every error response. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode;
    readonly message: string;
    readonly details?: ApiErrorDetails;
  };
}

/**
 * The one error class of @sotto/api. Thrown by frame decoders for malformed input and used by the
 * server (and, later, the client) to carry a registry code with optional structured details.
 * Messages never contain key material, codes, tokens or phone numbers.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details: ApiErrorDetails | undefined;

  constructor(
    code: ApiErrorCode,
    message?: string,
    options?: { cause?: unknown; details?: ApiErrorDetails },
  ) {
    super(message ?? API_ERRORS[code][1], options?.cause === undefined ? undefined : options);
    this.code = code;
    this.status = API_ERRORS[code][0];
    this.details = options?.details;
  }

  /** The body to send for this error. */
  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  /** True if `err` is an ApiError (with the given `code`, if one is given). */
  static is(err: unknown, code?: ApiErrorCode): err is ApiError {
    return err instanceof ApiError && (code === undefined || err.code === code);
  }
}
