/**
 * SenderKeyMessage (shared/specs/signal-wire.md §5, libsignal `protocol.rs`):
 *   0x33 ‖ protobuf{1: distribution_uuid(16), 2: chain_id, 3: iteration, 4: ciphertext} ‖ sig(64)
 * where `sig` is an XEdDSA signature (§4) by the chain's signing key over `0x33 ‖ protobuf`.
 * This is the per-message hot path, so the encoder writes straight into one buffer of the final
 * size instead of going through a growable writer. The parser needs at least 65 bytes, version 3
 * and every field, like libsignal's; unknown fields are skipped.
 */
import { ProtocolError } from '../errors.js';
import type { PrivateKey, PublicKey } from '../keys/curve.js';
import { SIGNATURE_LENGTH } from '../keys/curve.js';
import type { Rng } from '../rng.js';
import { readFields } from '../wire/protobuf.js';
import { expectBytes, expectUint32 } from './proto-fields.js';
import {
  SENDER_KEY_VERSION_BYTE,
  checkSenderKeyVersionByte,
} from './sender-key-distribution-message.js';
import { UUID_LENGTH, uuidFromBytes } from './uuid.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

/**
 * Encodes and signs a version-3 SenderKeyMessage. `distributionUuid` is the 16-byte id,
 * `chainId`/`iteration` u32 values (checked by the caller's state).
 */
export function encodeSenderKeyMessage(
  distributionUuid: Uint8Array,
  chainId: number,
  iteration: number,
  ciphertext: Uint8Array,
  signingKey: PrivateKey,
  rng: Rng,
): Uint8Array {
  const pbLength =
    2 +
    UUID_LENGTH +
    1 +
    varintLength(chainId) +
    1 +
    varintLength(iteration) +
    1 +
    varintLength(ciphertext.length) +
    ciphertext.length;
  const signedLength = 1 + pbLength;
  const out = new Uint8Array(signedLength + SIGNATURE_LENGTH);
  out[0] = SENDER_KEY_VERSION_BYTE;
  out[1] = 0x0a; // field 1, length-delimited
  out[2] = UUID_LENGTH;
  out.set(distributionUuid, 3);
  let pos = 3 + UUID_LENGTH;
  out[pos++] = 0x10; // field 2, varint
  pos = writeVarint(out, pos, chainId);
  out[pos++] = 0x18; // field 3, varint
  pos = writeVarint(out, pos, iteration);
  out[pos++] = 0x22; // field 4, length-delimited
  pos = writeVarint(out, pos, ciphertext.length);
  out.set(ciphertext, pos);
  const signature = signingKey.sign(out.subarray(0, signedLength), rng);
  out.set(signature, signedLength);
  return out;
}

export class SenderKeyMessage {
  readonly messageVersion: number;
  /** The 16 raw bytes of the distribution id. */
  readonly distributionUuid: Uint8Array;
  readonly chainId: number;
  readonly iteration: number;
  readonly ciphertext: Uint8Array;
  /** The wire bytes (a private copy of the input). */
  readonly serialized: Uint8Array;

  private constructor(
    messageVersion: number,
    distributionUuid: Uint8Array,
    chainId: number,
    iteration: number,
    ciphertext: Uint8Array,
    serialized: Uint8Array,
  ) {
    this.messageVersion = messageVersion;
    this.distributionUuid = distributionUuid;
    this.chainId = chainId;
    this.iteration = iteration;
    this.ciphertext = ciphertext;
    this.serialized = serialized;
  }

  /** The distribution id as a lower-case UUID string. */
  get distributionId(): string {
    return uuidFromBytes(this.distributionUuid);
  }

  /** Builds and signs a message (see {@link encodeSenderKeyMessage}). */
  static create(
    distributionUuid: Uint8Array,
    chainId: number,
    iteration: number,
    ciphertext: Uint8Array,
    signingKey: PrivateKey,
    rng: Rng,
  ): SenderKeyMessage {
    return SenderKeyMessage.deserialize(
      encodeSenderKeyMessage(distributionUuid, chainId, iteration, ciphertext, signingKey, rng),
    );
  }

  /** Parses wire bytes (no signature check: see {@link verifySignature}). */
  static deserialize(bytes: Uint8Array): SenderKeyMessage {
    if (bytes.length < 1 + SIGNATURE_LENGTH) {
      throw new ProtocolError('INVALID_MESSAGE', 'sender key message too short');
    }
    const messageVersion = checkSenderKeyVersionByte(bytes[0]);
    const serialized = Uint8Array.from(bytes);
    let distributionUuid: Uint8Array | undefined;
    let chainId: number | undefined;
    let iteration: number | undefined;
    let ciphertext: Uint8Array | undefined;
    for (const f of readFields(serialized.subarray(1, serialized.length - SIGNATURE_LENGTH))) {
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
          ciphertext = expectBytes(f.wire, f.bytes);
          break;
        default:
          break;
      }
    }
    if (
      distributionUuid?.length !== UUID_LENGTH ||
      chainId === undefined ||
      iteration === undefined ||
      ciphertext === undefined
    ) {
      throw new ProtocolError('INVALID_MESSAGE', 'sender key message misses a field');
    }
    return new SenderKeyMessage(
      messageVersion,
      distributionUuid,
      chainId,
      iteration,
      ciphertext,
      serialized,
    );
  }

  /** True if the trailing signature was made by `signingKey` over everything before it. */
  verifySignature(signingKey: PublicKey): boolean {
    const signedLength = this.serialized.length - SIGNATURE_LENGTH;
    return signingKey.verifySignature(
      this.serialized.subarray(0, signedLength),
      this.serialized.subarray(signedLength),
    );
  }

  serialize(): Uint8Array {
    return this.serialized;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'SenderKeyMessage',
      distributionId: this.distributionId,
      chainId: this.chainId,
      iteration: this.iteration,
      ciphertextLength: this.ciphertext.length,
    };
  }

  [INSPECT](): string {
    return `SenderKeyMessage ${JSON.stringify(this.toJSON())}`;
  }
}
