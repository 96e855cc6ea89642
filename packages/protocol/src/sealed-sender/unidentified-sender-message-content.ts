/**
 * UnidentifiedSenderMessageContent (USMC): what a sealed-sender envelope carries once opened
 * (shared/specs/signal-wire.md §6, libsignal `sealed_sender.rs`, `UnidentifiedSenderMessage.Message`
 * in `sealed_sender.proto`):
 *   {1: type, 2: senderCertificate, 3: content, 4: contentHint (omitted for Default), 5: groupId}
 * The protobuf `type` differs from the envelope type only for PreKey messages (1 on the wire,
 * 3 as a CiphertextMessageType). A present but empty group id is not written, as in libsignal.
 */
import { ProtocolError } from '../errors.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { SenderCertificate } from './certificates.js';

/** The type of the inner message, with libsignal's `CiphertextMessageType` values. */
export const SealedSenderMessageType = {
  Whisper: 2,
  PreKey: 3,
  SenderKey: 7,
  Plaintext: 8,
} as const;
export type SealedSenderMessageType =
  (typeof SealedSenderMessageType)[keyof typeof SealedSenderMessageType];

/** How urgently a failure to decrypt should be shown; other values are kept as given. */
export const SealedSenderContentHint = { Default: 0, Resendable: 1, Implicit: 2 } as const;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** The protobuf enum value for each message type (PreKey is 1 on the wire). */
const WIRE_TYPE: Record<SealedSenderMessageType, number> = { 2: 2, 3: 1, 7: 7, 8: 8 };

function fromWireType(value: number): SealedSenderMessageType {
  switch (value) {
    case 1:
      return 3;
    case 2:
    case 7:
    case 8:
      return value;
    default:
      throw new ProtocolError('INVALID_MESSAGE', `unknown sealed sender message type ${value}`);
  }
}

export interface UnidentifiedSenderMessageContentOptions {
  readonly msgType: SealedSenderMessageType;
  readonly senderCertificate: SenderCertificate;
  /** The serialised inner message (e.g. a SignalMessage or a SenderKeyMessage). */
  readonly contents: Uint8Array;
  /** Default 0 (`SealedSenderContentHint.Default`). */
  readonly contentHint?: number;
  readonly groupId?: Uint8Array;
}

export class UnidentifiedSenderMessageContent {
  readonly msgType: SealedSenderMessageType;
  readonly senderCertificate: SenderCertificate;
  readonly contents: Uint8Array;
  readonly contentHint: number;
  readonly groupId: Uint8Array | undefined;
  readonly serialized: Uint8Array;

  private constructor(
    options: Required<Omit<UnidentifiedSenderMessageContentOptions, 'groupId'>> & {
      groupId: Uint8Array | undefined;
    },
    serialized: Uint8Array,
  ) {
    this.msgType = options.msgType;
    this.senderCertificate = options.senderCertificate;
    this.contents = options.contents;
    this.contentHint = options.contentHint;
    this.groupId = options.groupId;
    this.serialized = serialized;
  }

  static create(
    options: UnidentifiedSenderMessageContentOptions,
  ): UnidentifiedSenderMessageContent {
    const contentHint = options.contentHint ?? SealedSenderContentHint.Default;
    if (!Number.isInteger(contentHint) || contentHint < 0 || contentHint > 0x7fff_ffff) {
      throw new ProtocolError('INVALID_STATE', 'contentHint must be an integer in [0, 2^31)');
    }
    const wireType = WIRE_TYPE[options.msgType] as number | undefined;
    if (wireType === undefined) throw new ProtocolError('INVALID_STATE', 'unknown message type');
    const certificate = options.senderCertificate.serialized;
    const w = new ProtoWriter(options.contents.length + certificate.length + 64)
      .uint32(1, wireType)
      .bytes(2, certificate)
      .bytes(3, options.contents);
    if (contentHint !== SealedSenderContentHint.Default) w.uint32(4, contentHint);
    const groupId = options.groupId === undefined ? undefined : Uint8Array.from(options.groupId);
    if (groupId !== undefined && groupId.length > 0) w.bytes(5, groupId);
    return new UnidentifiedSenderMessageContent(
      {
        msgType: options.msgType,
        senderCertificate: options.senderCertificate,
        contents: Uint8Array.from(options.contents),
        contentHint,
        groupId,
      },
      w.finish(),
    );
  }

  /** Parses USMC bytes: `INVALID_MESSAGE` if malformed, `INVALID_CERTIFICATE` for a bad certificate. */
  static deserialize(bytes: Uint8Array): UnidentifiedSenderMessageContent {
    let wireType: number | undefined;
    let certificate: Uint8Array | undefined;
    let contents: Uint8Array | undefined;
    let contentHint = 0;
    let groupId: Uint8Array | undefined;
    for (const f of readFields(bytes)) {
      const bytesField = f.field === 2 || f.field === 3 || f.field === 5;
      const intField = f.field === 1 || f.field === 4;
      if ((bytesField && f.wire !== 2) || (intField && f.wire !== 0)) {
        throw new ProtocolError('INVALID_MESSAGE', 'wrong protobuf wire type');
      }
      if (f.field === 1)
        wireType = f.int | 0; // an enum: prost reads it as i32
      else if (f.field === 2) certificate = f.bytes;
      else if (f.field === 3) contents = f.bytes;
      else if (f.field === 4) contentHint = f.int >>> 0;
      else if (f.field === 5) groupId = Uint8Array.from(f.bytes);
    }
    if (wireType === undefined || certificate === undefined || contents === undefined) {
      throw new ProtocolError('INVALID_MESSAGE', 'sealed sender content misses a field');
    }
    const msgType = fromWireType(wireType);
    return new UnidentifiedSenderMessageContent(
      {
        msgType,
        senderCertificate: SenderCertificate.deserialize(certificate),
        contents: Uint8Array.from(contents),
        contentHint,
        groupId,
      },
      Uint8Array.from(bytes),
    );
  }

  serialize(): Uint8Array {
    return this.serialized;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'UnidentifiedSenderMessageContent',
      msgType: this.msgType,
      contentHint: this.contentHint,
      contentsLength: this.contents.length,
      sender: this.senderCertificate.toJSON(),
    };
  }

  [INSPECT](): string {
    return `UnidentifiedSenderMessageContent ${JSON.stringify(this.toJSON())}`;
  }
}
