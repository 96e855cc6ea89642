/**
 * Field checks shared by the decoders of groups, sealed sender and safety numbers
 * (shared/specs/signal-wire.md §5–§7). prost (libsignal's protobuf library) rejects a known field
 * sent with the wrong wire type and truncates a wider varint to the declared `uint32`; these
 * helpers do the same so both sides accept and reject the same bytes. Internal to the package.
 */
import { ProtocolError, type ProtocolErrorCode } from '../errors.js';

/** A wire-type-2 field's bytes; another wire type is an error with `code`. */
export function expectBytes(
  wire: number,
  bytes: Uint8Array,
  code: ProtocolErrorCode = 'INVALID_MESSAGE',
): Uint8Array {
  if (wire !== 2) throw new ProtocolError(code, 'wrong protobuf wire type');
  return bytes;
}

/** A varint field read as `uint32` (wider values are truncated, as prost's `as u32` does). */
export function expectUint32(
  wire: number,
  value: number,
  code: ProtocolErrorCode = 'INVALID_MESSAGE',
): number {
  if (wire !== 0) throw new ProtocolError(code, 'wrong protobuf wire type');
  return value >>> 0;
}

/** Throws `INVALID_STATE` unless `value` is an integer in [0, 2^32). */
export function assertUint32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new ProtocolError('INVALID_STATE', `${name} must be an integer in [0, 2^32)`);
  }
}
