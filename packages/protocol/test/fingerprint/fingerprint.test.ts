// Safety numbers (shared/specs/signal-wire.md §7). Known answers are libsignal v0.101
// rust/protocol/src/fingerprint.rs tests (`fingerprint_encodings`, `fingerprint_test_v1`,
// `fingerprint_test_v2`, `fingerprint_matching_identifiers`, `fingerprint_mismatching_*`),
// themselves the Java `testVectorsVersion1/2`. The display digits are also recomputed by an
// independent BigInt + node:crypto implementation.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair, PublicKey } from '../../src/keys/curve.js';
import {
  Fingerprint,
  ScannableFingerprint,
  fingerprintIdentifierFromAci,
  fingerprintIdentifierFromE164,
} from '../../src/fingerprint/fingerprint.js';
import { hex, seededRng, unhex } from '../group/support.js';

const ALICE_IDENTITY = PublicKey.deserialize(
  unhex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868'),
);
const BOB_IDENTITY = PublicKey.deserialize(
  unhex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b'),
);
const DISPLAYABLE_FINGERPRINT_V1 = '300354477692869396892869876765458257569162576843440918079131';
const ALICE_SCANNABLE_FINGERPRINT_V1 =
  '080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d';
const BOB_SCANNABLE_FINGERPRINT_V1 =
  '080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df';
const ALICE_SCANNABLE_FINGERPRINT_V2 =
  '080212220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d';
const BOB_SCANNABLE_FINGERPRINT_V2 =
  '080212220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df';
const ALICE_STABLE_ID = fingerprintIdentifierFromE164('+14152222222');
const BOB_STABLE_ID = fingerprintIdentifierFromE164('+14153333333');

const rng = seededRng('fingerprint');

function pair(
  version: number,
  iterations: number,
  a = ALICE_IDENTITY,
  b = BOB_IDENTITY,
  aId = ALICE_STABLE_ID,
  bId = BOB_STABLE_ID,
) {
  const alice = Fingerprint.create({
    version,
    iterations,
    local: { identifier: aId, identityKey: a },
    remote: { identifier: bId, identityKey: b },
  });
  const bob = Fingerprint.create({
    version,
    iterations,
    local: { identifier: bId, identityKey: b },
    remote: { identifier: aId, identityKey: a },
  });
  return { alice, bob };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(ProtocolError.is(err) ? err.code : err).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

/** Independent: SHA-512 chain with node:crypto, digits with BigInt. */
function referenceDigits(iterations: number, id: Uint8Array, key: PublicKey): string {
  const k = Buffer.from(key.serialize());
  let h = createHash('sha512')
    .update(Buffer.from([0, 0]))
    .update(k)
    .update(id)
    .update(k)
    .digest();
  for (let i = 1; i < iterations; i++) h = createHash('sha512').update(h).update(k).digest();
  let out = '';
  for (let c = 0; c < 6; c++) {
    const v = BigInt('0x' + h.subarray(c * 5, c * 5 + 5).toString('hex')) % 100000n;
    out += v.toString().padStart(5, '0');
  }
  return out;
}

describe('safety numbers: libsignal vectors', () => {
  it('encodes the scannable form (fingerprint_encodings)', () => {
    const scannable = new ScannableFingerprint(
      2,
      new Uint8Array(32).fill(0x12),
      new Uint8Array(32).fill(0xba),
    );
    expect(hex(scannable.serialize())).toBe(
      '080212220a20' + '12'.repeat(32) + '1a220a20' + 'ba'.repeat(32),
    );
  });

  it('matches fingerprint_test_v1', () => {
    const { alice, bob } = pair(1, 5200);
    expect(hex(alice.scannable.serialize())).toBe(ALICE_SCANNABLE_FINGERPRINT_V1);
    expect(hex(bob.scannable.serialize())).toBe(BOB_SCANNABLE_FINGERPRINT_V1);
    expect(alice.displayString).toBe(DISPLAYABLE_FINGERPRINT_V1);
    expect(bob.displayString).toBe(DISPLAYABLE_FINGERPRINT_V1);
  });

  it('matches fingerprint_test_v2 (display unchanged from v1)', () => {
    const { alice, bob } = pair(2, 5200);
    expect(hex(alice.qrPayload())).toBe(ALICE_SCANNABLE_FINGERPRINT_V2);
    expect(hex(bob.qrPayload())).toBe(BOB_SCANNABLE_FINGERPRINT_V2);
    expect(alice.displayString).toBe(DISPLAYABLE_FINGERPRINT_V1);
  });

  it('uses 5200 iterations by default', () => {
    const alice = Fingerprint.create({
      version: 2,
      local: { identifier: ALICE_STABLE_ID, identityKey: ALICE_IDENTITY },
      remote: { identifier: BOB_STABLE_ID, identityKey: BOB_IDENTITY },
    });
    expect(alice.displayString).toBe(DISPLAYABLE_FINGERPRINT_V1);
  });
});

describe('safety numbers: behaviour', () => {
  it('agrees with an independent implementation for random keys and ids', () => {
    for (let n = 0; n < 4; n++) {
      const a = KeyPair.generate(rng).publicKey;
      const b = KeyPair.generate(rng).publicKey;
      const aId = rng(16);
      const bId = rng(16);
      const iterations = [2, 3, 100, 1024][n]!;
      const { alice } = pair(2, iterations, a, b, aId, bId);
      const halves = [
        referenceDigits(iterations, aId, a),
        referenceDigits(iterations, bId, b),
      ].sort();
      expect(alice.displayString).toBe(halves.join(''));
      expect(alice.displayString).toMatch(/^\d{60}$/);
    }
  });

  it('compares as libsignal does (fingerprint_matching_identifiers)', () => {
    const a = KeyPair.generate(rng).publicKey;
    const b = KeyPair.generate(rng).publicKey;
    const { alice, bob } = pair(1, 1024, a, b);
    expect(alice.displayString).toBe(bob.displayString);
    expect(alice.scannable.compare(bob.scannable.serialize())).toBe(true);
    expect(bob.scannable.compare(alice.scannable)).toBe(true);
    expect(alice.scannable.compare(alice.scannable.serialize())).toBe(false);
    expect(() => alice.scannable.assertMatches(bob.scannable.serialize())).not.toThrow();
    expectCode(
      () => alice.scannable.assertMatches(alice.scannable),
      'FINGERPRINT_IDENTIFIER_MISMATCH',
    );
  });

  it('detects a man in the middle (fingerprint_mismatching_fingerprints)', () => {
    const a = KeyPair.generate(rng).publicKey;
    const b = KeyPair.generate(rng).publicKey;
    const m = KeyPair.generate(rng).publicKey;
    const alice = Fingerprint.create({
      version: 1,
      iterations: 1024,
      local: { identifier: ALICE_STABLE_ID, identityKey: a },
      remote: { identifier: BOB_STABLE_ID, identityKey: m },
    });
    const bob = Fingerprint.create({
      version: 1,
      iterations: 1024,
      local: { identifier: BOB_STABLE_ID, identityKey: b },
      remote: { identifier: ALICE_STABLE_ID, identityKey: a },
    });
    expect(alice.displayString).not.toBe(bob.displayString);
    expect(alice.scannable.compare(bob.scannable.serialize())).toBe(false);
    expect(bob.scannable.compare(alice.scannable.serialize())).toBe(false);
  });

  it('detects another identifier (fingerprint_mismatching_identifiers)', () => {
    const a = KeyPair.generate(rng).publicKey;
    const b = KeyPair.generate(rng).publicKey;
    const alice = Fingerprint.create({
      version: 1,
      iterations: 1024,
      local: { identifier: fingerprintIdentifierFromE164('+141512222222'), identityKey: a },
      remote: { identifier: BOB_STABLE_ID, identityKey: b },
    });
    const bob = Fingerprint.create({
      version: 1,
      iterations: 1024,
      local: { identifier: BOB_STABLE_ID, identityKey: b },
      remote: { identifier: ALICE_STABLE_ID, identityKey: a },
    });
    expect(alice.displayString).not.toBe(bob.displayString);
    expect(alice.scannable.compare(bob.scannable.serialize())).toBe(false);
    expectCode(
      () => bob.scannable.assertMatches(alice.scannable.serialize()),
      'FINGERPRINT_IDENTIFIER_MISMATCH',
    );
  });

  it('refuses another version (fingerprint_mismatching_versions)', () => {
    const v1 = pair(1, 5200).alice;
    const v2 = pair(2, 5200).bob;
    expect(v1.displayString).toBe(v2.displayString);
    expect(hex(v1.qrPayload())).not.toBe(hex(v2.qrPayload()));
    expectCode(() => v1.scannable.compare(v2.qrPayload()), 'FINGERPRINT_VERSION_MISMATCH');
    // A payload without a version reads as version 0, as in libsignal.
    const noVersion = v2.qrPayload().subarray(2);
    expectCode(() => v1.scannable.compare(noVersion), 'FINGERPRINT_VERSION_MISMATCH');
  });

  it('uses the 16 ACI bytes as the version-2 identifier', () => {
    expect(hex(fingerprintIdentifierFromAci('9D0652A3-DCC3-4D11-975F-74D61598733F'))).toBe(
      '9d0652a3dcc34d11975f74d61598733f',
    );
    expectCode(() => fingerprintIdentifierFromAci('not-a-uuid'), 'INVALID_STATE');
  });

  it('accepts 2..1_000_000 iterations only', () => {
    const options = {
      version: 2,
      local: { identifier: ALICE_STABLE_ID, identityKey: ALICE_IDENTITY },
      remote: { identifier: BOB_STABLE_ID, identityKey: BOB_IDENTITY },
    };
    for (const iterations of [0, 1, 1_000_001, 2.5])
      expectCode(() => Fingerprint.create({ ...options, iterations }), 'INVALID_STATE');
    expect(Fingerprint.create({ ...options, iterations: 2 }).displayString).toMatch(/^\d{60}$/);
  });

  it('parses scanned payloads and rejects malformed ones', () => {
    const parsed = ScannableFingerprint.deserialize(unhex(ALICE_SCANNABLE_FINGERPRINT_V2));
    expect(parsed.version).toBe(2);
    expect(hex(parsed.localFingerprint)).toBe(ALICE_SCANNABLE_FINGERPRINT_V2.slice(12, 76));
    const bob = pair(2, 5200).bob;
    expect(bob.scannable.compare(parsed)).toBe(true);
    for (const bad of [
      '0802',
      '0802' + '12220a20' + '00'.repeat(32),
      '0802120012001a00',
      'ff',
      '0a00',
    ]) {
      expectCode(
        () => bob.scannable.compare(unhex(bad)),
        bad === '0a00' ? 'INVALID_MESSAGE' : 'INVALID_MESSAGE',
      );
    }
    expectCode(
      () =>
        ScannableFingerprint.deserialize(
          unhex('12220a20' + '00'.repeat(32) + '1a220a20' + '00'.repeat(32)),
        ),
      'INVALID_MESSAGE',
    );
  });
});
