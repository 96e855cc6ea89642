/**
 * Small byte helpers used across Sotto. `bytesEqual` is NOT constant-time: use
 * `constantTimeEqual` for MACs, tokens and codes.
 */
import { abytes } from './assert.js';
import { CryptoError } from './errors.js';

/** Concatenates byte arrays into a new Uint8Array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) {
    abytes(p, undefined, 'part');
    length += p.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Byte equality (variable time: for public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex encoding. */
export function toHex(bytes: Uint8Array): string {
  abytes(bytes, undefined, 'bytes');
  let s = '';
  for (const b of bytes) s += HEX[b];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/** Decodes hex (either case). Throws `CryptoError('BAD_LENGTH')` on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) {
    throw new CryptoError('BAD_LENGTH', 'hex must be a string of even length');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0)
      throw new CryptoError('BAD_LENGTH', `hex has a non-hex digit at ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 encoding of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}
