/**
 * Bytes from JSON bodies. The schema already bounded the base64 text; here the exact byte length
 * and, for keys, the type byte are checked (signal-wire.md §2: `0x05‖32` EC, `0x08‖1568` Kyber).
 * Keys stay opaque otherwise: the relay never parses or uses them.
 */
import {
  ApiError,
  EC_KEY_TYPE,
  EC_PUBLIC_KEY_BYTES,
  KEM_KEY_TYPE,
  KYBER_PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  fromBase64,
  fromBase64Url,
} from '@sotto/api';
import type { OneTimeKey, SignedKey } from '../ports/storage.js';

export function decodeBytes(
  text: string,
  length: number | [number, number],
  what: string,
): Uint8Array {
  const bytes = fromBase64(text, what);
  const [min, max] = typeof length === 'number' ? [length, length] : length;
  if (bytes.length < min || bytes.length > max) {
    throw new ApiError('INVALID_REQUEST', `${what} has the wrong length`);
  }
  return bytes;
}

export function decodeBase64UrlBytes(text: string, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(text, what);
  } catch {
    throw new ApiError('INVALID_REQUEST', `${what} is not valid base64url`);
  }
  if (bytes.length !== length)
    throw new ApiError('INVALID_REQUEST', `${what} has the wrong length`);
  return bytes;
}

function key(text: string, type: number, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text, what);
  } catch {
    throw new ApiError('INVALID_KEY', `${what} is not valid base64`);
  }
  if (bytes.length !== length || bytes[0] !== type) {
    throw new ApiError('INVALID_KEY', `${what} must be ${length} bytes starting with type ${type}`);
  }
  return bytes;
}

export function decodeEcKey(text: string, what: string): Uint8Array {
  return key(text, EC_KEY_TYPE, EC_PUBLIC_KEY_BYTES, what);
}

export function decodeKyberKey(text: string, what: string): Uint8Array {
  return key(text, KEM_KEY_TYPE, KYBER_PUBLIC_KEY_BYTES, what);
}

export function decodeSignature(text: string, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text, what);
  } catch {
    throw new ApiError('INVALID_KEY', `${what} is not valid base64`);
  }
  if (bytes.length !== SIGNATURE_BYTES) {
    throw new ApiError('INVALID_KEY', `${what} must be ${SIGNATURE_BYTES} bytes`);
  }
  return bytes;
}

export function decodeSignedEcKey(
  k: { keyId: number; publicKey: string; signature: string },
  what: string,
): SignedKey {
  return {
    keyId: k.keyId,
    publicKey: decodeEcKey(k.publicKey, `${what}.publicKey`),
    signature: decodeSignature(k.signature, `${what}.signature`),
  };
}

export function decodeSignedKyberKey(
  k: { keyId: number; publicKey: string; signature: string },
  what: string,
): SignedKey {
  return {
    keyId: k.keyId,
    publicKey: decodeKyberKey(k.publicKey, `${what}.publicKey`),
    signature: decodeSignature(k.signature, `${what}.signature`),
  };
}

export function decodeOneTimeEcKey(
  k: { keyId: number; publicKey: string },
  what: string,
): OneTimeKey {
  return { keyId: k.keyId, publicKey: decodeEcKey(k.publicKey, `${what}.publicKey`) };
}
