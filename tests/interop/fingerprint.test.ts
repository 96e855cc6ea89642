// Safety numbers interop with @signalapp/libsignal-client 0.103.0 (shared/specs/signal-wire.md §7):
// the display string and scannable bytes equal libsignal's `Fingerprint.new` for random keys and
// identifiers, and `compare` agrees in both directions.
import * as signal from '@signalapp/libsignal-client';
import {
  Fingerprint,
  FINGERPRINT_VERSION_ACI,
  FINGERPRINT_VERSION_E164,
  KeyPair,
  ProtocolError,
  ScannableFingerprint,
  fingerprintIdentifierFromAci,
  fingerprintIdentifierFromE164,
} from '@sotto/protocol';
import { randomBytes, toHex } from '@sotto/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ab, toLibsignalPublic } from './harness-group/libsignal-stores.js';

function both(
  version: number,
  iterations: number,
  local: { id: Uint8Array; key: KeyPair },
  remote: { id: Uint8Array; key: KeyPair },
) {
  const ours = Fingerprint.create({
    version,
    iterations,
    local: { identifier: local.id, identityKey: local.key.publicKey },
    remote: { identifier: remote.id, identityKey: remote.key.publicKey },
  });
  const theirs = signal.Fingerprint.new(
    iterations,
    version,
    ab(local.id),
    toLibsignalPublic(local.key.publicKey),
    ab(remote.id),
    toLibsignalPublic(remote.key.publicKey),
  );
  return { ours, theirs };
}

function outcome(run: () => boolean): string {
  try {
    return String(run());
  } catch (err) {
    if (ProtocolError.is(err))
      return err.code === 'FINGERPRINT_VERSION_MISMATCH' ? 'version-mismatch' : err.code;
    if (err instanceof signal.LibSignalErrorBase)
      return /version/i.test(err.message) ? 'version-mismatch' : `libsignal:${err.message}`;
    throw err;
  }
}

const party = (id: Uint8Array) => ({ id, key: KeyPair.generate(randomBytes) });
const aciParty = () => party(fingerprintIdentifierFromAci(crypto.randomUUID()));

describe('safety numbers equal libsignal’s', () => {
  it('for ACI (version 2) parties at the client iteration count 5200', () => {
    for (let n = 0; n < 3; n++) {
      const { ours, theirs } = both(FINGERPRINT_VERSION_ACI, 5200, aciParty(), aciParty());
      expect(ours.displayString).toBe(theirs.displayableFingerprint().toString());
      expect(toHex(ours.qrPayload())).toBe(toHex(theirs.scannableFingerprint().toBuffer()));
    }
  });

  it('for random keys, identifiers, versions and iteration counts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.integer({ min: 2, max: 300 }),
        fc.constantFrom(1, 2, 3, 0x7fff_ffff),
        (localId, remoteId, iterations, version) => {
          const { ours, theirs } = both(version, iterations, party(localId), party(remoteId));
          expect(ours.displayString).toBe(theirs.displayableFingerprint().toString());
          expect(toHex(ours.scannable.serialize())).toBe(
            toHex(theirs.scannableFingerprint().toBuffer()),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('for E.164 (version 1) parties', () => {
    const { ours, theirs } = both(
      FINGERPRINT_VERSION_E164,
      5200,
      party(fingerprintIdentifierFromE164('+14155550123')),
      party(fingerprintIdentifierFromE164('+442071838750')),
    );
    expect(ours.displayString).toBe(theirs.displayableFingerprint().toString());
    expect(toHex(ours.qrPayload())).toBe(toHex(theirs.scannableFingerprint().toBuffer()));
  });
});

describe('compare agrees with libsignal', () => {
  it('on matching, self, man-in-the-middle and version-mismatched codes, in both directions', () => {
    const alice = aciParty();
    const bob = aciParty();
    const mallory = aciParty();
    const iterations = 64;
    const a = both(2, iterations, alice, bob);
    const b = both(2, iterations, bob, alice);
    const aMitm = both(2, iterations, alice, { id: bob.id, key: mallory.key });
    const bV1 = both(1, iterations, bob, alice);
    const cases: [ReturnType<typeof both>, ReturnType<typeof both>, string][] = [
      [a, b, 'true'],
      [b, a, 'true'],
      [a, a, 'false'],
      [aMitm, b, 'false'],
      [b, aMitm, 'false'],
      [a, bV1, 'version-mismatch'],
      [bV1, a, 'version-mismatch'],
    ];
    for (const [mine, scanned, expected] of cases) {
      // Sotto scans libsignal's code, and libsignal scans Sotto's.
      const ours = outcome(() =>
        mine.ours.scannable.compare(scanned.theirs.scannableFingerprint().toBuffer()),
      );
      const theirs = outcome(() =>
        mine.theirs.scannableFingerprint().compare(libsignalScannable(scanned.ours.qrPayload())),
      );
      expect(ours).toBe(expected);
      expect(theirs).toBe(expected);
    }
    expect(outcome(() => a.ours.scannable.compare(b.ours.scannable))).toBe('true');
    expect(outcome(() => a.ours.scannable.compare(bV1.ours.qrPayload()))).toBe('version-mismatch');
  });

  it('Sotto parses libsignal’s scannable bytes and re-encodes them identically', () => {
    const { theirs } = both(2, 32, aciParty(), aciParty());
    const bytes = theirs.scannableFingerprint().toBuffer();
    const parsed = ScannableFingerprint.deserialize(bytes);
    expect(toHex(parsed.serialize())).toBe(toHex(bytes));
  });
});

/** libsignal's scannable fingerprint object for bytes produced by Sotto. */
function libsignalScannable(bytes: Uint8Array): signal.ScannableFingerprint {
  return signal.ScannableFingerprint._fromBuffer(ab(bytes));
}
