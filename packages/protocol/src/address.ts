/**
 * Protocol addresses: who a session is with (libsignal `ProtocolAddress`). The name is usually a
 * service ID string (shared/specs/signal-wire.md §2.3), the device id lies in 1..127 so that it
 * fits the single byte of the `addresses` field.
 */
import { ProtocolError } from './errors.js';

export interface ProtocolAddress {
  readonly name: string;
  readonly deviceId: number;
}

/** libsignal's `DeviceId` range. */
export const MIN_DEVICE_ID = 1;
export const MAX_DEVICE_ID = 127;

/** Throws `INVALID_ADDRESS` unless `address` has a non-empty name and a device id in 1..127. */
export function checkAddress(address: ProtocolAddress, what: string): void {
  if (
    typeof address !== 'object' ||
    address === null ||
    typeof address.name !== 'string' ||
    address.name.length === 0 ||
    !Number.isInteger(address.deviceId) ||
    address.deviceId < MIN_DEVICE_ID ||
    address.deviceId > MAX_DEVICE_ID
  ) {
    throw new ProtocolError(
      'INVALID_ADDRESS',
      `${what} must have a name and a device id in ${MIN_DEVICE_ID}..${MAX_DEVICE_ID}`,
    );
  }
}

/** `name.deviceId`, the form libsignal prints; for map keys and (non-secret) log lines. */
export function addressToString(address: ProtocolAddress): string {
  return `${address.name}.${address.deviceId}`;
}
