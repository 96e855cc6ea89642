/**
 * Argument checks that name the argument, in the style of noble's `abytes(x, 32, 'key')`.
 * They throw `CryptoError('BAD_LENGTH')` and never echo the value (it may be secret).
 */
import { CryptoError } from './errors.js';

/** Asserts `value` is a Uint8Array (of exactly `length` bytes when given). */
export function abytes(value: unknown, length: number | undefined, name: string): void {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError('BAD_LENGTH', `${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoError('BAD_LENGTH', `${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** Asserts `value` is an integer in [min, max]. */
export function anumber(value: number, min: number, max: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CryptoError('BAD_LENGTH', `${name} must be an integer in [${min}, ${max}]`);
  }
}
