// The provisioning socket's frames (frames.ts, 0x86 PROVISIONING_ADDRESS and 0x87
// PROVISION_ENVELOPE): exact bytes, round trips, and strict decoding of anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  MAX_PROVISION_ENVELOPE_BYTES,
  decodeProvisioningFrame,
  encodeProvisioningFrame,
  encodeServerFrame,
  isProvisioningAddress,
} from '../src/index.js';

const ADDRESS = 'AbCdEfGhIjKlMnOpQrSt-_';

describe('provisioning frames', () => {
  it('encodes the address and the envelope with their exact layout', () => {
    const address = encodeProvisioningFrame({ type: 'provisioning-address', address: ADDRESS });
    expect(Buffer.from(address)).toEqual(
      Buffer.concat([Buffer.of(1, 0x86, 22), Buffer.from(ADDRESS, 'ascii')]),
    );
    const envelope = encodeProvisioningFrame({
      type: 'provision-envelope',
      envelope: Uint8Array.of(7, 8, 9),
    });
    expect(Buffer.from(envelope)).toEqual(Buffer.of(1, 0x87, 0, 0, 0, 3, 7, 8, 9));
  });

  it('round-trips any address and envelope within the limits', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 1, maxLength: MAX_PROVISION_ENVELOPE_BYTES }),
        (addressBytes, envelope) => {
          const address = Buffer.from(addressBytes).toString('base64url');
          expect(isProvisioningAddress(address)).toBe(true);
          expect(
            decodeProvisioningFrame(
              encodeProvisioningFrame({ type: 'provisioning-address', address }),
            ),
          ).toEqual({ type: 'provisioning-address', address });
          const decoded = decodeProvisioningFrame(
            encodeProvisioningFrame({ type: 'provision-envelope', envelope }),
          );
          expect(decoded.type === 'provision-envelope' && Buffer.from(decoded.envelope)).toEqual(
            Buffer.from(envelope),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses malformed frames, frames of the message socket, and oversized envelopes', () => {
    const bad = [
      Uint8Array.of(),
      Uint8Array.of(1),
      Uint8Array.of(2, 0x86, 0),
      Uint8Array.of(1, 0x86, 3, 0x41, 0x42),
      Uint8Array.of(1, 0x86, 2, 0x41, 0x42), // too short for an address
      Uint8Array.of(1, 0x87, 0, 0, 0, 0),
      Uint8Array.of(1, 0x87, 0, 0, 0, 2, 1),
      Uint8Array.of(1, 0x87, 0, 0, 0, 1, 1, 9),
      Uint8Array.of(1, 0x87, 0xff, 0xff, 0xff, 0xff),
      encodeServerFrame({ type: 'queue-empty' }),
    ];
    for (const bytes of bad) {
      expect(() => decodeProvisioningFrame(bytes), Buffer.from(bytes).toString('hex')).toThrow(
        ApiError,
      );
    }
    expect(() =>
      encodeProvisioningFrame({ type: 'provisioning-address', address: 'short' }),
    ).toThrow(RangeError);
    expect(() =>
      encodeProvisioningFrame({
        type: 'provision-envelope',
        envelope: new Uint8Array(MAX_PROVISION_ENVELOPE_BYTES + 1),
      }),
    ).toThrow(RangeError);
  });
});
