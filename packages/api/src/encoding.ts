/**
 * Text encodings used on the wire, written without `Buffer` so the contract runs in browsers too:
 * standard base64 (RFC 4648 §4, with padding) for bytes inside JSON bodies, base64url without
 * padding (RFC 4648 §5) for ids and credentials that appear in paths and headers, and the
 * canonical lowercase UUID text form (RFC 9562 §4) for account ids and envelope GUIDs.
 * Decoders are strict: non-canonical input (bad padding, stray bits, wrong case) is refused, so
 * one value has exactly one encoding.
 */
import { ApiError } from './errors.js';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_LOOKUP = reverse(STD);
const URL_LOOKUP = reverse(URL);

function reverse(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      alphabet[v >>> 18]! +
      alphabet[(v >>> 12) & 63]! +
      alphabet[(v >>> 6) & 63]! +
      alphabet[v & 63]!;
  }
  const rest = n - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out +=
      alphabet[v >>> 18]! +
      alphabet[(v >>> 12) & 63]! +
      alphabet[(v >>> 6) & 63]! +
      (pad ? '=' : '');
  }
  return out;
}

function decode(text: string, lookup: Int16Array, pad: boolean, what: string): Uint8Array {
  let len = text.length;
  if (pad) {
    if (len % 4 !== 0) throw bad(what);
    if (len > 0 && text.charCodeAt(len - 1) === 61) len--;
    if (len > 0 && text.charCodeAt(len - 1) === 61) len--;
  } else if (len % 4 === 1) {
    throw bad(what);
  }
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? lookup[c]! : -1;
    if (v < 0) throw bad(what);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // Leftover bits must be zero: otherwise two texts would decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) throw bad(what);
  return out;
}

function bad(what: string): ApiError {
  return new ApiError('INVALID_REQUEST', `${what} is not valid base64`);
}

/** Standard base64 with padding (JSON bodies). */
export function toBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}
export function fromBase64(text: string, what = 'value'): Uint8Array {
  return decode(text, STD_LOOKUP, true, what);
}
/** base64url without padding (ids, credentials, paths, headers). */
export function toBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL, false);
}
export function fromBase64Url(text: string, what = 'value'): Uint8Array {
  return decode(text, URL_LOOKUP, false, what);
}
/** Length of the padded base64 text of `n` bytes. */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}
/** Length of the unpadded base64url text of `n` bytes. */
export function base64UrlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase). */
export function uuidFromBytes(bytes: Uint8Array, offset = 0): string {
  if (bytes.length < offset + 16) throw new ApiError('FRAME_INVALID', 'truncated uuid');
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[bytes[offset + i]!]!;
  }
  return s;
}

/** The canonical UUID text form this contract uses (lowercase, hyphenated). */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID_RE = new RegExp(UUID_PATTERN);

export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Canonical UUID text → 16 bytes, written into `out` at `offset` (or a new array). */
export function uuidToBytes(
  text: string,
  out: Uint8Array = new Uint8Array(16),
  offset = 0,
): Uint8Array {
  if (!isUuid(text)) throw new ApiError('INVALID_REQUEST', 'not a canonical uuid');
  let o = offset;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) continue;
    out[o++] = (hexVal(text.charCodeAt(i)) << 4) | hexVal(text.charCodeAt(i + 1));
    i++;
  }
  return out;
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}
