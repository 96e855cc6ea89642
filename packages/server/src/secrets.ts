/**
 * How the relay keeps secrets it must check later (ARCHITECTURE.md "Secure by default"):
 * - device credentials: 256 random bits, stored as SHA-256. A plain hash is enough because the
 *   input has full entropy; nobody can search 2^256 candidates.
 * - verification codes, registration-lock tokens, provisioning codes and numbers used as lookup
 *   keys: HMAC-SHA256 under the server secret. A 6-digit code has only 10^6 values, so its plain
 *   hash would fall to a brute force in milliseconds to anyone who reads the database; keyed, the
 *   database alone is useless. The same holds for phone numbers (about 10^10 plausible values).
 * Every comparison of a secret against a stored hash is constant-time.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { VERIFICATION_CODE_DIGITS } from '@sotto/api';

/** Minimum server secret length: a full HMAC-SHA256 key. */
export const SERVER_SECRET_BYTES = 32;

/** Domain separation: one HMAC key, one purpose label per kind of secret. */
export type SecretPurpose =
  'verification-code' | 'number-key' | 'registration-lock' | 'provisioning-code' | 'rate-limit';

export class ServerSecret {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length < SERVER_SECRET_BYTES) {
      throw new RangeError(`server secret must be at least ${SERVER_SECRET_BYTES} bytes`);
    }
    this.#key = Buffer.from(key);
  }

  /** HMAC-SHA256(key, purpose ‖ 0x00 ‖ data). */
  mac(purpose: SecretPurpose, data: string | Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(purpose).update('\0').update(data).digest();
  }

  /** The MAC as hex, for use as a lookup key (no timing concern: the input is unknown to callers). */
  key(purpose: SecretPurpose, data: string | Uint8Array): string {
    return this.mac(purpose, data).toString('hex');
  }

  toJSON(): string {
    return '[ServerSecret]';
  }
  toString(): string {
    return '[ServerSecret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[ServerSecret]';
  }
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time equality of two byte strings; different lengths are simply unequal. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export function randomSecret(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** A uniformly random code of VERIFICATION_CODE_DIGITS decimal digits (no modulo bias). */
export function newVerificationCode(): string {
  return randomInt(0, 10 ** VERIFICATION_CODE_DIGITS)
    .toString()
    .padStart(VERIFICATION_CODE_DIGITS, '0');
}
