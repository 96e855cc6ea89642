/**
 * UUIDs as Signal puts them on the wire: 16 raw bytes (RFC 9562 byte order) for distribution ids
 * (shared/specs/signal-wire.md §5), `uuidBytes` in sender certificates (§6) and ACI identifiers
 * of safety numbers (§7); the canonical text form is lower-case `8-4-4-4-12` hex, which is what
 * libsignal's `Uuid::to_string` prints. Internal to the package (not re-exported by the index).
 */
import { ProtocolError, type ProtocolErrorCode } from '../errors.js';

export const UUID_LENGTH = 16;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a `8-4-4-4-12` hex string (either case). */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** Parses a `8-4-4-4-12` hex UUID (either case) into 16 bytes. */
export function uuidToBytes(
  text: string,
  name = 'uuid',
  code: ProtocolErrorCode = 'INVALID_STATE',
): Uint8Array {
  if (typeof text !== 'string' || !UUID_PATTERN.test(text)) {
    throw new ProtocolError(code, `${name} must be a UUID string (8-4-4-4-12 hex)`);
  }
  const out = new Uint8Array(UUID_LENGTH);
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 0x2d) continue; // '-'
    out[j++] = Number.parseInt(text.slice(i, i + 2), 16);
    i++;
  }
  return out;
}

/** Formats 16 bytes as a lower-case `8-4-4-4-12` UUID string. */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== UUID_LENGTH) {
    throw new ProtocolError('INVALID_MESSAGE', `a UUID must be ${UUID_LENGTH} bytes`);
  }
  let s = '';
  for (let i = 0; i < UUID_LENGTH; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[bytes[i]!];
  }
  return s;
}

/** Lower-cases a valid UUID string (so `ABCD…` and `abcd…` name the same distribution). */
export function canonicalUuid(text: string, name = 'uuid'): string {
  if (typeof text !== 'string' || !UUID_PATTERN.test(text)) {
    throw new ProtocolError('INVALID_STATE', `${name} must be a UUID string (8-4-4-4-12 hex)`);
  }
  return text.toLowerCase();
}
