/**
 * Phone number validation: the body schema admits `+` and up to 15 digits (E.164 §6); here
 * libphonenumber-js (full metadata) checks that the number can exist, and that the text is already
 * in canonical E.164 form, so one number has one spelling in storage and in rate-limit keys.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ApiError } from '@sotto/api';

export function canonicalPhoneNumber(input: string): string {
  const parsed = parsePhoneNumberFromString(input);
  if (parsed === undefined || !parsed.isValid() || parsed.number !== input) {
    throw new ApiError('INVALID_PHONE_NUMBER');
  }
  return parsed.number;
}
