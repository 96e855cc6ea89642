/**
 * SenderKeyDistributionMessage (shared/specs/signal-wire.md §5, libsignal `protocol.rs`):
 *   (3 << 4 | 3) ‖ protobuf{1: distribution_uuid(16), 2: chain_id, 3: iteration,
 *                            4: chain_key(32), 5: signing_key(33)}
 * Only version 3 is spoken. Like libsignal the parser needs at least 65 bytes, every field, a
 * 16-byte UUID, a 32-byte chain key and a 33-byte signing key; fields are written in field-number
 * order as prost does, so the bytes equal libsignal's. The chain key is secret: it never prints.
 */
import { ProtocolError } from '../errors.js';
import { PublicKey, PUBLIC_KEY_LENGTH } from '../keys/curve.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { assertUint32, expectBytes, expectUint32 } from './proto-fields.js';
import { SENDER_CHAIN_KEY_LENGTH } from './sender-chain-key.js';
import { UUID_LENGTH, uuidFromBytes, uuidToBytes } from './uuid.js';

/** The sender-key message version: both nibbles of the first byte, `0x33`. */
export const SENDER_KEY_MESSAGE_VERSION = 3;
/** The first byte of every sender-key message Sotto writes. */
export const SENDER_KEY_VERSION_BYTE =
  (SENDER_KEY_MESSAGE_VERSION << 4) | SENDER_KEY_MESSAGE_VERSION;
/** 1 version byte + an X25519 key and a chain key at least (libsignal's length check). */
const MIN_LENGTH = 1 + 32 + 32;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export interface SenderKeyDistributionFields {
  /** UUID string; stored and reported in canonical lower case. */
  readonly distributionId: string;
  /** 31-bit chain id (libsignal draws a random u32 and shifts it right by one). */
  readonly chainId: number;
  /** Iteration that `chainKey` belongs to. */
  readonly iteration: number;
  /** 32-byte chain key at `iteration` (secret). */
  readonly chainKey: Uint8Array;
  /** Public half of the key that signs every SenderKeyMessage of this chain. */
  readonly signingKey: PublicKey;
}

/**
 * Checks the version byte of a sender-key message (SKDM or SenderKeyMessage): the high nibble
 * must be 3; lower is `LEGACY_VERSION`, higher `UNSUPPORTED_VERSION`.
 */
export function checkSenderKeyVersionByte(first: number | undefined): number {
  if (first === undefined) throw new ProtocolError('INVALID_MESSAGE', 'empty sender key message');
  const version = first >> 4;
  if (version < SENDER_KEY_MESSAGE_VERSION) {
    throw new ProtocolError('LEGACY_VERSION', `sender key message version ${version}`);
  }
  if (version > SENDER_KEY_MESSAGE_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `sender key message version ${version}`);
  }
  return version;
}

export class SenderKeyDistributionMessage implements SenderKeyDistributionFields {
  readonly messageVersion: number;
  readonly distributionId: string;
  readonly chainId: number;
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingKey: PublicKey;
  /** The wire bytes. */
  readonly serialized: Uint8Array;

  private constructor(
    fields: SenderKeyDistributionFields,
    messageVersion: number,
    serialized: Uint8Array,
  ) {
    this.messageVersion = messageVersion;
    this.distributionId = fields.distributionId;
    this.chainId = fields.chainId;
    this.iteration = fields.iteration;
    this.chainKey = fields.chainKey;
    this.signingKey = fields.signingKey;
    this.serialized = serialized;
  }

  /** Builds and encodes a version-3 distribution message. */
  static create(fields: SenderKeyDistributionFields): SenderKeyDistributionMessage {
    const distributionUuid = uuidToBytes(fields.distributionId, 'distributionId');
    assertUint32(fields.chainId, 'chainId');
    assertUint32(fields.iteration, 'iteration');
    if (fields.chainKey.length !== SENDER_CHAIN_KEY_LENGTH) {
      throw new ProtocolError('INVALID_STATE', `chainKey must be ${SENDER_CHAIN_KEY_LENGTH} bytes`);
    }
    const chainKey = Uint8Array.from(fields.chainKey);
    const serialized = new ProtoWriter(128)
      .raw(new Uint8Array([SENDER_KEY_VERSION_BYTE]))
      .bytes(1, distributionUuid)
      .uint32(2, fields.chainId)
      .uint32(3, fields.iteration)
      .bytes(4, chainKey)
      .bytes(5, fields.signingKey.serialize())
      .finish();
    return new SenderKeyDistributionMessage(
      {
        distributionId: uuidFromBytes(distributionUuid),
        chainId: fields.chainId,
        iteration: fields.iteration,
        chainKey,
        signingKey: fields.signingKey,
      },
      SENDER_KEY_MESSAGE_VERSION,
      serialized,
    );
  }

  /** Parses wire bytes; throws `ProtocolError` (`INVALID_MESSAGE`, `LEGACY_VERSION`, …). */
  static deserialize(bytes: Uint8Array): SenderKeyDistributionMessage {
    if (bytes.length < MIN_LENGTH) {
      throw new ProtocolError('INVALID_MESSAGE', 'sender key distribution message too short');
    }
    const messageVersion = checkSenderKeyVersionByte(bytes[0]);
    const serialized = Uint8Array.from(bytes);
    let distributionUuid: Uint8Array | undefined;
    let chainId: number | undefined;
    let iteration: number | undefined;
    let chainKey: Uint8Array | undefined;
    let signingKey: Uint8Array | undefined;
    for (const f of readFields(serialized.subarray(1))) {
      switch (f.field) {
        case 1:
          distributionUuid = expectBytes(f.wire, f.bytes);
          break;
        case 2:
          chainId = expectUint32(f.wire, f.int);
          break;
        case 3:
          iteration = expectUint32(f.wire, f.int);
          break;
        case 4:
          chainKey = expectBytes(f.wire, f.bytes);
          break;
        case 5:
          signingKey = expectBytes(f.wire, f.bytes);
          break;
        default:
          break; // unknown fields are skipped, as prost does
      }
    }
    if (
      distributionUuid?.length !== UUID_LENGTH ||
      chainId === undefined ||
      iteration === undefined ||
      chainKey === undefined ||
      signingKey === undefined
    ) {
      throw new ProtocolError('INVALID_MESSAGE', 'sender key distribution message misses a field');
    }
    if (chainKey.length !== SENDER_CHAIN_KEY_LENGTH || signingKey.length !== PUBLIC_KEY_LENGTH) {
      throw new ProtocolError('INVALID_MESSAGE', 'bad chain key or signing key length');
    }
    return new SenderKeyDistributionMessage(
      {
        distributionId: uuidFromBytes(distributionUuid),
        chainId,
        iteration,
        chainKey: Uint8Array.from(chainKey),
        signingKey: PublicKey.deserialize(signingKey),
      },
      messageVersion,
      serialized,
    );
  }

  serialize(): Uint8Array {
    return this.serialized;
  }

  /** Public fields only: the chain key is redacted. */
  toJSON(): Record<string, unknown> {
    return {
      type: 'SenderKeyDistributionMessage',
      distributionId: this.distributionId,
      chainId: this.chainId,
      iteration: this.iteration,
      signingKey: this.signingKey.toJSON(),
      chainKey: '<redacted>',
    };
  }

  [INSPECT](): string {
    return `SenderKeyDistributionMessage ${JSON.stringify(this.toJSON())}`;
  }
}
