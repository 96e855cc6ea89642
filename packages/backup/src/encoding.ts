/**
 * Runtime-neutral byte helpers (no `Buffer`: this package runs in browsers): base64url without
 * padding (RFC 4648 §5, the form `@serenity-kit/opaque` uses for its messages and keys) and
 * big-endian integers up to 2^53 - 1.
 */
import { BackupError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >>> 18]! +
      ALPHABET[(n >>> 12) & 63]! +
      ALPHABET[(n >>> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

/**
 * Decodes base64url without padding. Rejects other alphabets, padding, a length of 1 mod 4 and
 * non-zero trailing bits (so every byte string has exactly one accepted encoding).
 */
export function fromBase64url(text: string, name: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 === 1) {
    throw new BackupError('INVALID_ARGUMENT', `${name} is not base64url`);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new BackupError('INVALID_ARGUMENT', `${name} is not base64url`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new BackupError('INVALID_ARGUMENT', `${name} is not canonical base64url`);
  }
  return out;
}

/** Writes `value` (0 ≤ value < 2^53) as 8 big-endian bytes at `offset`. */
export function writeU64(out: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  writeU32(out, offset, high);
  writeU32(out, offset + 4, value >>> 0);
}

/** Reads 8 big-endian bytes; undefined when the value exceeds 2^53 - 1. */
export function readU64(bytes: Uint8Array, offset: number): number | undefined {
  const high = readU32(bytes, offset);
  if (high > 0x1fffff) return undefined;
  return high * 0x1_0000_0000 + readU32(bytes, offset + 4);
}

export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = value >>> 16;
  out[offset + 2] = value >>> 8;
  out[offset + 3] = value;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

export function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 8;
  out[offset + 1] = value;
}

export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}
