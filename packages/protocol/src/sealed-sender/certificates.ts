/**
 * Sealed-sender certificates (shared/specs/signal-wire.md §6, libsignal `sealed_sender.rs`,
 * `proto/sealed_sender.proto`). Both are `pb{1: certificate bytes, 2: signature(64)}`:
 * - ServerCertificate.certificate = `{1: id, 2: key(33)}`, signed (XEdDSA, §4) by a trust root;
 * - SenderCertificate.certificate = `{1: senderE164?, 2: senderDevice, 3: expires (fixed64 ms),
 *   4: identityKey(33), 5: embedded ServerCertificate | 8: known server-certificate id,
 *   6: uuidString | 7: uuidBytes}`, signed by the server certificate's key.
 * Fields are written in prost's order (1–4, then the signer oneof, then the uuid oneof), so the
 * signed bytes equal what libsignal's `SenderCertificate.new` signs.
 *
 * Validation (libsignal `validate_with_trust_roots`): the server certificate must not carry a
 * revoked id (0xDEADC357) and must be signed by one of the trust roots (every root is checked, to
 * hide which one matched); the sender certificate must be signed by the server key; and
 * `now <= expires`.
 *
 * Known server certificates: a sender certificate may name its signer by id (field 8) instead
 * of embedding it, to save space. libsignal hard-codes three: id 2 (Signal staging), id 3 (Signal
 * production) and 0x7357C357 (a test certificate whose trust root is the public key of the
 * all-zero private key and whose server key is that of the all-0xFF private key). They matter
 * only when parsing field 8; the data below is copied from libsignal v0.101
 * `KNOWN_SERVER_CERTIFICATES` (public certificates, not code). A self-hosted Sotto server embeds
 * its own server certificate and never uses field 8.
 *
 * Expiry times are milliseconds since 1970 held as JS numbers (exact up to 2^53).
 */
import { fromHex } from '@sotto/crypto';
import { MAX_DEVICE_ID, MIN_DEVICE_ID } from '../address.js';
import { ProtocolError } from '../errors.js';
import type { PrivateKey } from '../keys/curve.js';
import { PublicKey } from '../keys/curve.js';
import type { Rng } from '../rng.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { assertUint32 } from '../group/proto-fields.js';
import { UUID_LENGTH, uuidFromBytes } from '../group/uuid.js';

/** Server-certificate ids that are refused whatever their signature (libsignal's list). */
export const REVOKED_SERVER_CERTIFICATE_KEY_IDS: readonly number[] = [0xdeadc357];

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function invalid(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'INVALID_CERTIFICATE',
    message,
    cause === undefined ? undefined : { cause },
  );
}

/** Reads `{1: certificate, 2: signature}`; both are required. */
function readSignedEnvelope(bytes: Uint8Array): { certificate: Uint8Array; signature: Uint8Array } {
  let certificate: Uint8Array | undefined;
  let signature: Uint8Array | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 1 || f.field === 2) {
      if (f.wire !== 2) throw invalid('wrong protobuf wire type');
      if (f.field === 1) certificate = Uint8Array.from(f.bytes);
      else signature = Uint8Array.from(f.bytes);
    }
  }
  if (certificate === undefined || signature === undefined) {
    throw invalid('certificate or signature missing');
  }
  return { certificate, signature };
}

function writeSignedEnvelope(certificate: Uint8Array, signature: Uint8Array): Uint8Array {
  return new ProtoWriter(certificate.length + signature.length + 8)
    .bytes(1, certificate)
    .bytes(2, signature)
    .finish();
}

/** Runs `parse`, turning any parse failure into `INVALID_CERTIFICATE`. */
function parsing<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (ProtocolError.is(cause, 'INVALID_CERTIFICATE')) throw cause;
    throw invalid(`${what} does not parse`, cause);
  }
}

export class ServerCertificate {
  readonly keyId: number;
  /** The server's signing key. */
  readonly key: PublicKey;
  /** The signed bytes `{1: id, 2: key}`. */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
  readonly serialized: Uint8Array;

  private constructor(
    keyId: number,
    key: PublicKey,
    certificate: Uint8Array,
    signature: Uint8Array,
    serialized: Uint8Array,
  ) {
    this.keyId = keyId;
    this.key = key;
    this.certificate = certificate;
    this.signature = signature;
    this.serialized = serialized;
  }

  /** Issues a server certificate: the trust root signs `{1: keyId, 2: key}`. */
  static create(keyId: number, key: PublicKey, trustRoot: PrivateKey, rng: Rng): ServerCertificate {
    assertUint32(keyId, 'keyId');
    const certificate = new ProtoWriter(48).uint32(1, keyId).bytes(2, key.serialize()).finish();
    const signature = trustRoot.sign(certificate, rng);
    return new ServerCertificate(
      keyId,
      key,
      certificate,
      signature,
      writeSignedEnvelope(certificate, signature),
    );
  }

  /** Parses a serialised certificate; `INVALID_CERTIFICATE` if malformed. */
  static deserialize(bytes: Uint8Array): ServerCertificate {
    return parsing('server certificate', () => {
      const { certificate, signature } = readSignedEnvelope(bytes);
      let keyId: number | undefined;
      let key: Uint8Array | undefined;
      for (const f of readFields(certificate)) {
        if (f.field === 1) {
          if (f.wire !== 0) throw invalid('wrong protobuf wire type');
          keyId = f.int >>> 0;
        } else if (f.field === 2) {
          if (f.wire !== 2) throw invalid('wrong protobuf wire type');
          key = f.bytes;
        }
      }
      if (keyId === undefined || key === undefined)
        throw invalid('server certificate misses a field');
      return new ServerCertificate(
        keyId,
        PublicKey.deserialize(key),
        certificate,
        signature,
        Uint8Array.from(bytes),
      );
    });
  }

  /** True if the id is not revoked and `trustRoot` signed the certificate. */
  validate(trustRoot: PublicKey): boolean {
    if (REVOKED_SERVER_CERTIFICATE_KEY_IDS.includes(this.keyId)) return false;
    return trustRoot.verifySignature(this.certificate, this.signature);
  }

  serialize(): Uint8Array {
    return this.serialized;
  }

  toJSON(): Record<string, unknown> {
    return { type: 'ServerCertificate', keyId: this.keyId, key: this.key.toJSON() };
  }

  [INSPECT](): string {
    return `ServerCertificate ${JSON.stringify(this.toJSON())}`;
  }
}

/**
 * libsignal v0.101 `KNOWN_SERVER_CERTIFICATES`: id, trust root (33 bytes; libsignal writes them in
 * base64), serialised ServerCertificate.
 */
const KNOWN_SERVER_CERTIFICATE_DATA: readonly (readonly [number, string, string])[] = [
  [
    2,
    '058854ead3e3a8fe3a286644cd1b3538be14dfd5797653c9fd7d3d85ae2b12b926',
    '0a25080212210539450d63ebd0752c0fd4038b9d07a916f5e174b756d409b5ca79f4c97400631e124064c5a38b1e927497d3d4786b101a623ab34a7da3954fae126b04dba9d7a3604ed88cdc8550950f0d4a9134ceb7e19b94139151d2c3d6e1c81e9d1128aafca806',
  ],
  [
    3,
    '054918d08fbdfa83e00c29f8f8073a22ef35df2bea903aff81af03ccbc45c6e93a',
    '0a250803122105bc9d1d290be964810dfa7e94856480a3f7060d004c9762c24c575a1522353a5a1240c11ec3c401eb0107ab38f8600e8720a63169e0e2eb8a3fae24f63099f85ea319c3c1c46d3454706ae2a679d1fee690a488adda98a2290b66c906bb60295ed781',
  ],
  [
    0x7357c357,
    '052fe57da347cd62431528daac5fbb290730fff684afc4cfc2ed90995f58cb3b74',
    '0a2908d786df9a07122105847c0d2c375234f365e660955187a3735a0f7613d1609d3a6a4d8c53aeaa5a221240e0b9ebacdfc3aa2827f7924b697784d1c25e44ca05dd433e1a38dc6382eb2730d419ca9a250b1be9d5a9463e61efd6781777a91b83c97b844d014206e2829785',
  ],
];

export interface KnownServerCertificate {
  readonly id: number;
  /** The trust root that signed it (documentation; validation still uses the caller's roots). */
  readonly trustRoot: PublicKey;
  readonly certificate: ServerCertificate;
}

let knownServerCertificateCache: ReadonlyMap<number, KnownServerCertificate> | undefined;

/** The hard-coded server certificates a sender certificate may reference by id (field 8). */
export function knownServerCertificates(): ReadonlyMap<number, KnownServerCertificate> {
  knownServerCertificateCache ??= new Map(
    KNOWN_SERVER_CERTIFICATE_DATA.map(([id, root, cert]) => [
      id,
      {
        id,
        trustRoot: PublicKey.deserialize(fromHex(root)),
        certificate: ServerCertificate.deserialize(fromHex(cert)),
      },
    ]),
  );
  return knownServerCertificateCache;
}

export interface SenderCertificateOptions {
  /** The sender's ACI as a UUID string (written as `uuidString`, as libsignal does). */
  readonly senderUuid: string;
  readonly senderE164?: string;
  /** 1..=127. */
  readonly senderDeviceId: number;
  /** The sender's identity key. */
  readonly identityKey: PublicKey;
  /** Expiry, milliseconds since 1970. */
  readonly expires: number;
  /** The server certificate to embed; `signerKey` must be its private key. */
  readonly signer: ServerCertificate;
  readonly signerKey: PrivateKey;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function decodeString(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw invalid('string field is not UTF-8', cause);
  }
}

export class SenderCertificate {
  /** The sender's service id string (a UUID for an ACI). */
  readonly senderUuid: string;
  readonly senderE164: string | undefined;
  readonly senderDeviceId: number;
  /** Expiry, milliseconds since 1970. */
  readonly expires: number;
  /** The sender's identity key. */
  readonly identityKey: PublicKey;
  /** The id named in field 8 when the signer is a known certificate rather than embedded. */
  readonly signerId: number | undefined;
  /** The signed `Certificate` bytes. */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
  readonly serialized: Uint8Array;
  readonly #embeddedSigner: ServerCertificate | undefined;

  private constructor(fields: {
    senderUuid: string;
    senderE164: string | undefined;
    senderDeviceId: number;
    expires: number;
    identityKey: PublicKey;
    signerId: number | undefined;
    embeddedSigner: ServerCertificate | undefined;
    certificate: Uint8Array;
    signature: Uint8Array;
    serialized: Uint8Array;
  }) {
    this.senderUuid = fields.senderUuid;
    this.senderE164 = fields.senderE164;
    this.senderDeviceId = fields.senderDeviceId;
    this.expires = fields.expires;
    this.identityKey = fields.identityKey;
    this.signerId = fields.signerId;
    this.#embeddedSigner = fields.embeddedSigner;
    this.certificate = fields.certificate;
    this.signature = fields.signature;
    this.serialized = fields.serialized;
  }

  /**
   * The server certificate that signed this one: the embedded one, or the known certificate
   * named by id. `INVALID_CERTIFICATE` for an unknown id.
   */
  get signer(): ServerCertificate {
    if (this.#embeddedSigner !== undefined) return this.#embeddedSigner;
    const known = knownServerCertificates().get(this.signerId ?? -1);
    if (known === undefined) {
      throw invalid(`unknown server certificate id ${this.signerId ?? 'none'}`);
    }
    return known.certificate;
  }

  /** Issues a sender certificate signed by `options.signerKey` (the server side). */
  static create(options: SenderCertificateOptions, rng: Rng): SenderCertificate {
    const { senderUuid, senderE164, senderDeviceId, identityKey, expires, signer } = options;
    if (typeof senderUuid !== 'string' || senderUuid.length === 0) {
      throw new ProtocolError('INVALID_STATE', 'senderUuid must be a non-empty string');
    }
    if (
      !Number.isInteger(senderDeviceId) ||
      senderDeviceId < MIN_DEVICE_ID ||
      senderDeviceId > MAX_DEVICE_ID
    ) {
      throw new ProtocolError(
        'INVALID_STATE',
        `senderDeviceId must be in ${MIN_DEVICE_ID}..${MAX_DEVICE_ID}`,
      );
    }
    if (!Number.isSafeInteger(expires) || expires < 0) {
      throw new ProtocolError('INVALID_STATE', 'expires must be a non-negative safe integer');
    }
    const w = new ProtoWriter(256);
    if (senderE164 !== undefined) w.string(1, senderE164);
    w.uint32(2, senderDeviceId)
      .fixed64(3, expires)
      .bytes(4, identityKey.serialize())
      .bytes(5, signer.serialized)
      .string(6, senderUuid);
    const certificate = w.finish();
    const signature = options.signerKey.sign(certificate, rng);
    return new SenderCertificate({
      senderUuid,
      senderE164,
      senderDeviceId,
      expires,
      identityKey,
      signerId: undefined,
      embeddedSigner: signer,
      certificate,
      signature,
      serialized: writeSignedEnvelope(certificate, signature),
    });
  }

  /** Parses a serialised certificate; `INVALID_CERTIFICATE` if malformed. */
  static deserialize(bytes: Uint8Array): SenderCertificate {
    return parsing('sender certificate', () => {
      const { certificate, signature } = readSignedEnvelope(bytes);
      let senderE164: string | undefined;
      let senderUuid: string | undefined;
      let senderDevice: number | undefined;
      let expires: number | undefined;
      let identityKey: Uint8Array | undefined;
      let embedded: Uint8Array | undefined;
      let signerId: number | undefined;
      let hasSigner = false;
      for (const f of readFields(certificate)) {
        switch (f.field) {
          case 1:
            senderE164 = decodeString(lengthDelimited(f.wire, f.bytes));
            break;
          case 2:
            senderDevice = varint(f.wire, f.int);
            break;
          case 3:
            if (f.wire !== 1) throw invalid('wrong protobuf wire type');
            expires = f.int;
            break;
          case 4:
            identityKey = lengthDelimited(f.wire, f.bytes);
            break;
          case 5: // oneof signer: the last one seen wins, as in prost
            embedded = lengthDelimited(f.wire, f.bytes);
            signerId = undefined;
            hasSigner = true;
            break;
          case 8:
            signerId = varint(f.wire, f.int);
            embedded = undefined;
            hasSigner = true;
            break;
          case 6: // oneof senderUuid
            senderUuid = decodeString(lengthDelimited(f.wire, f.bytes));
            break;
          case 7: {
            const raw = lengthDelimited(f.wire, f.bytes);
            if (raw.length !== UUID_LENGTH) throw invalid('uuidBytes must be 16 bytes');
            senderUuid = uuidFromBytes(raw);
            break;
          }
          default:
            break;
        }
      }
      if (
        senderDevice === undefined ||
        senderDevice < MIN_DEVICE_ID ||
        senderDevice > MAX_DEVICE_ID ||
        expires === undefined ||
        !hasSigner ||
        senderUuid === undefined ||
        identityKey === undefined
      ) {
        throw invalid('sender certificate misses a field or has a bad device id');
      }
      return new SenderCertificate({
        senderUuid,
        senderE164,
        senderDeviceId: senderDevice,
        expires,
        identityKey: PublicKey.deserialize(identityKey),
        signerId,
        embeddedSigner:
          embedded === undefined ? undefined : ServerCertificate.deserialize(embedded),
        certificate,
        signature,
        serialized: Uint8Array.from(bytes),
      });
    });
  }

  /**
   * Throws unless the certificate is valid at `now` (ms) under one of `trustRoots`:
   * `INVALID_CERTIFICATE` (unknown or revoked signer, a signature that does not verify) or
   * `CERTIFICATE_EXPIRED` (`now > expires`).
   */
  assertValid(trustRoots: PublicKey | readonly PublicKey[], now: number): void {
    const roots = trustRoots instanceof PublicKey ? [trustRoots] : trustRoots;
    const signer = this.signer;
    if (REVOKED_SERVER_CERTIFICATE_KEY_IDS.includes(signer.keyId)) {
      throw invalid(`server certificate id ${signer.keyId} is revoked`);
    }
    // Check every root so the time taken does not tell which one matched.
    let anyValid = false;
    for (const root of roots) anyValid = signer.validate(root) || anyValid;
    if (!anyValid) throw invalid('server certificate is not signed by a trust root');
    if (!signer.key.verifySignature(this.certificate, this.signature)) {
      throw invalid('sender certificate is not signed by the server certificate');
    }
    if (now > this.expires) {
      throw new ProtocolError('CERTIFICATE_EXPIRED', 'sender certificate has expired');
    }
  }

  /** libsignal `SenderCertificate.validate`: true if {@link assertValid} would not throw. */
  validate(trustRoots: PublicKey | readonly PublicKey[], now: number): boolean {
    try {
      this.assertValid(trustRoots, now);
      return true;
    } catch (err) {
      if (ProtocolError.is(err)) return false;
      throw err;
    }
  }

  serialize(): Uint8Array {
    return this.serialized;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'SenderCertificate',
      senderUuid: this.senderUuid,
      senderDeviceId: this.senderDeviceId,
      expires: this.expires,
      identityKey: this.identityKey.toJSON(),
      signerKeyId: this.#embeddedSigner?.keyId ?? this.signerId,
    };
  }

  [INSPECT](): string {
    return `SenderCertificate ${JSON.stringify(this.toJSON())}`;
  }
}

function lengthDelimited(wire: number, bytes: Uint8Array): Uint8Array {
  if (wire !== 2) throw invalid('wrong protobuf wire type');
  return bytes;
}

function varint(wire: number, value: number): number {
  if (wire !== 0) throw invalid('wrong protobuf wire type');
  return value >>> 0;
}
