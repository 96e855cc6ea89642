// A scanned QR code is untrusted input (CONVENTIONS.md "Errors"): parsing and comparing arbitrary
// or mutated bytes gives a result or a ProtocolError, never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair } from '../../src/keys/curve.js';
import { Fingerprint, ScannableFingerprint } from '../../src/fingerprint/fingerprint.js';
import { seededRng } from '../group/support.js';

const rng = seededRng('fingerprint-parsers');
const ours = Fingerprint.create({
  version: 2,
  iterations: 16,
  local: { identifier: rng(16), identityKey: KeyPair.generate(rng).publicKey },
  remote: { identifier: rng(16), identityKey: KeyPair.generate(rng).publicKey },
});
const valid = ours.qrPayload();

describe('scannable fingerprint on hostile input', () => {
  it('deserialize and compare answer with a result or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const copy = valid.slice();
            copy[i]! ^= x;
            return copy;
          }),
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
        ),
        (bytes) => {
          for (const run of [
            () => ScannableFingerprint.deserialize(bytes),
            () => ours.scannable.compare(bytes),
          ]) {
            try {
              run();
            } catch (err) {
              expect(err).toBeInstanceOf(ProtocolError);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
