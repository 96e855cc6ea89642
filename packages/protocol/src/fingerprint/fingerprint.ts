/**
 * Safety numbers (shared/specs/signal-wire.md §7, libsignal `fingerprint.rs`,
 * `proto/fingerprint.proto`). Per party, with its 33-byte identity key K and identifier id:
 *   H₀ = SHA-512(0x00 0x00 ‖ K ‖ id ‖ K),  Hᵢ = SHA-512(Hᵢ₋₁ ‖ K)  (`iterations` hashes in all)
 * Display: the first 30 bytes of each party's hash as six 5-byte big-endian numbers mod 100000,
 * zero-padded to 5 digits (30 digits per party), the lexicographically smaller half first:
 * 60 digits, the same on both phones. Scannable (the QR payload):
 *   pb{1: version, 2: {1: local[0..32]}, 3: {1: remote[0..32]}}
 * Version 2 identifies a party by its 16-byte ACI UUID, version 1 (legacy) by its E.164 string;
 * the version only appears in the scannable form. Clients use 5200 iterations; 2..=1 000 000
 * are accepted, as in libsignal.
 *
 * `compare` follows libsignal: a different version is an error (`FINGERPRINT_VERSION_MISMATCH`),
 * different fingerprints are `false`. `assertMatches` turns `false` into
 * `FINGERPRINT_IDENTIFIER_MISMATCH`: the scanned code was made for another identifier or key.
 */
import { constantTimeEqual, sha512Parts, utf8 } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { PublicKey } from '../keys/curve.js';
import { FINGERPRINT_ITERATIONS } from '../limits.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { assertUint32 } from '../group/proto-fields.js';
import { uuidToBytes } from '../group/uuid.js';

/** Scannable version for parties identified by ACI (16-byte UUID). */
export const FINGERPRINT_VERSION_ACI = 2;
/** Legacy scannable version for parties identified by E.164 phone number. */
export const FINGERPRINT_VERSION_E164 = 1;
/** Iteration bounds accepted by libsignal (`iterations <= 1 || iterations > 1000000` fail). */
export const FINGERPRINT_MIN_ITERATIONS = 2;
export const FINGERPRINT_MAX_ITERATIONS = 1_000_000;
/** Bytes of each party's hash carried in the scannable form. */
const SCANNABLE_LENGTH = 32;
const HASH_VERSION = new Uint8Array([0x00, 0x00]);

/** A party's identifier for version 2: the 16 bytes of its ACI UUID. */
export function fingerprintIdentifierFromAci(aci: string): Uint8Array {
  return uuidToBytes(aci, 'aci');
}

/** A party's identifier for version 1: the UTF-8 bytes of its E.164 number (e.g. "+14152222222"). */
export function fingerprintIdentifierFromE164(e164: string): Uint8Array {
  return utf8(e164);
}

export interface FingerprintParty {
  /** ACI bytes (version 2) or E.164 bytes (version 1). */
  readonly identifier: Uint8Array;
  readonly identityKey: PublicKey;
}

export interface FingerprintOptions {
  /** `FINGERPRINT_VERSION_ACI` (2) or `FINGERPRINT_VERSION_E164` (1); any u32 is encoded as given. */
  readonly version: number;
  /** Default `FINGERPRINT_ITERATIONS` (5200). */
  readonly iterations?: number;
  readonly local: FingerprintParty;
  readonly remote: FingerprintParty;
}

/** The iterated SHA-512 of one party (64 bytes). */
function partyHash(iterations: number, party: FingerprintParty): Uint8Array {
  const key = party.identityKey.serialize();
  let hash = sha512Parts([HASH_VERSION, key, party.identifier, key]);
  const parts = [hash, key];
  for (let i = 1; i < iterations; i++) {
    parts[0] = hash;
    hash = sha512Parts(parts);
  }
  return hash;
}

/** 30 digits from the first 30 bytes of a party's hash. */
function displayDigits(hash: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    const o = chunk * 5;
    // 40-bit big-endian value: exact in a double, no BigInt needed.
    const low =
      ((hash[o + 1]! << 24) | (hash[o + 2]! << 16) | (hash[o + 3]! << 8) | hash[o + 4]!) >>> 0;
    const value = hash[o]! * 0x1_0000_0000 + low;
    out += String(value % 100_000).padStart(5, '0');
  }
  return out;
}

export class ScannableFingerprint {
  readonly version: number;
  /** First 32 bytes of our hash. */
  readonly localFingerprint: Uint8Array;
  /** First 32 bytes of the other party's hash. */
  readonly remoteFingerprint: Uint8Array;

  constructor(version: number, localFingerprint: Uint8Array, remoteFingerprint: Uint8Array) {
    assertUint32(version, 'version');
    this.version = version;
    this.localFingerprint = localFingerprint;
    this.remoteFingerprint = remoteFingerprint;
  }

  /** The QR payload: `pb{1: version, 2: {1: local}, 3: {1: remote}}`. */
  serialize(): Uint8Array {
    const logical = (content: Uint8Array): Uint8Array =>
      new ProtoWriter(content.length + 2).bytes(1, content).finish();
    return new ProtoWriter(80)
      .uint32(1, this.version)
      .bytes(2, logical(this.localFingerprint))
      .bytes(3, logical(this.remoteFingerprint))
      .finish();
  }

  /** Parses a scanned payload; `INVALID_MESSAGE` if a field is missing or malformed. */
  static deserialize(bytes: Uint8Array): ScannableFingerprint {
    const parsed = parseCombined(bytes);
    if (parsed.version === undefined) {
      throw new ProtocolError('INVALID_MESSAGE', 'scannable fingerprint without a version');
    }
    return new ScannableFingerprint(parsed.version, parsed.local, parsed.remote);
  }

  /**
   * True if `scanned` (the other phone's code) is the mirror of ours: their local is our remote
   * and their remote our local. Throws `FINGERPRINT_VERSION_MISMATCH` for another version and
   * `INVALID_MESSAGE` for an unreadable code.
   */
  compare(scanned: Uint8Array | ScannableFingerprint): boolean {
    const theirs =
      scanned instanceof ScannableFingerprint
        ? {
            version: scanned.version,
            local: scanned.localFingerprint,
            remote: scanned.remoteFingerprint,
          }
        : parseCombined(scanned);
    const theirVersion = theirs.version ?? 0;
    if (theirVersion !== this.version) {
      throw new ProtocolError(
        'FINGERPRINT_VERSION_MISMATCH',
        `scanned safety number has version ${theirVersion}, ours is ${this.version}`,
      );
    }
    const same1 = constantTimeEqual(theirs.local, this.remoteFingerprint);
    const same2 = constantTimeEqual(theirs.remote, this.localFingerprint);
    return same1 && same2;
  }

  /** Like {@link compare}, but a mismatch throws `FINGERPRINT_IDENTIFIER_MISMATCH`. */
  assertMatches(scanned: Uint8Array | ScannableFingerprint): void {
    if (!this.compare(scanned)) {
      throw new ProtocolError(
        'FINGERPRINT_IDENTIFIER_MISMATCH',
        'scanned safety number belongs to another identity or identifier',
      );
    }
  }
}

function parseCombined(bytes: Uint8Array): {
  version: number | undefined;
  local: Uint8Array;
  remote: Uint8Array;
} {
  let version: number | undefined;
  let local: Uint8Array | undefined;
  let remote: Uint8Array | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 1) {
      if (f.wire !== 0) throw new ProtocolError('INVALID_MESSAGE', 'wrong protobuf wire type');
      version = f.int >>> 0;
    } else if (f.field === 2 || f.field === 3) {
      if (f.wire !== 2) throw new ProtocolError('INVALID_MESSAGE', 'wrong protobuf wire type');
      const content = parseLogical(f.bytes);
      if (f.field === 2) local = content;
      else remote = content;
    }
  }
  if (local === undefined || remote === undefined) {
    throw new ProtocolError('INVALID_MESSAGE', 'scannable fingerprint misses a fingerprint');
  }
  return { version, local, remote };
}

/** `LogicalFingerprint{1: content}`; `undefined` content counts as missing. */
function parseLogical(bytes: Uint8Array): Uint8Array | undefined {
  let content: Uint8Array | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 1) {
      if (f.wire !== 2) throw new ProtocolError('INVALID_MESSAGE', 'wrong protobuf wire type');
      content = Uint8Array.from(f.bytes);
    }
  }
  return content;
}

export class Fingerprint {
  /** The 60-digit safety number (the same on both sides). */
  readonly displayString: string;
  readonly scannable: ScannableFingerprint;

  private constructor(displayString: string, scannable: ScannableFingerprint) {
    this.displayString = displayString;
    this.scannable = scannable;
  }

  /** Computes the safety number of `local` and `remote` (2 × `iterations` SHA-512 calls). */
  static create(options: FingerprintOptions): Fingerprint {
    const iterations = options.iterations ?? FINGERPRINT_ITERATIONS;
    if (
      !Number.isInteger(iterations) ||
      iterations < FINGERPRINT_MIN_ITERATIONS ||
      iterations > FINGERPRINT_MAX_ITERATIONS
    ) {
      throw new ProtocolError(
        'INVALID_STATE',
        `fingerprint iterations must be in ${FINGERPRINT_MIN_ITERATIONS}..${FINGERPRINT_MAX_ITERATIONS}`,
      );
    }
    const local = partyHash(iterations, options.local);
    const remote = partyHash(iterations, options.remote);
    const localDigits = displayDigits(local);
    const remoteDigits = displayDigits(remote);
    const displayString =
      localDigits < remoteDigits ? localDigits + remoteDigits : remoteDigits + localDigits;
    return new Fingerprint(
      displayString,
      new ScannableFingerprint(
        options.version,
        local.slice(0, SCANNABLE_LENGTH),
        remote.slice(0, SCANNABLE_LENGTH),
      ),
    );
  }

  /** The QR code payload (the scannable protobuf). */
  qrPayload(): Uint8Array {
    return this.scannable.serialize();
  }
}
