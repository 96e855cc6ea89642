/**
 * The WebSocket half of the client⇄server contract: binary frames `version(1) ‖ type(1) ‖ body`,
 * bodies made of fixed-width big-endian integers and length-prefixed byte strings, split by
 * direction. Client → server types are 0x01..0x7f, server → client types 0x81..0xff, so a frame
 * sent the wrong way is refused by its type alone.
 *
 * client → server
 *   0x01 SEND   requestId u32 ‖ clientMessageId 16 ‖ recipient uuid 16 ‖ count u8 ‖
 *               count × (deviceId u16 ‖ registrationId u32 ‖ envelopeType u8 ‖ len u32 ‖ content)
 *   0x02 ACK    count u16 ‖ count × guid 16
 *   0x03 PING   requestId u32
 * server → client
 *   0x81 ENVELOPE     guid 16 ‖ serverTimestamp f64 ‖ source uuid 16 ‖ sourceDeviceId u16 ‖
 *                     envelopeType u8 ‖ len u32 ‖ content
 *   0x82 SEND_RESULT  requestId u32 ‖ serverTimestamp f64 ‖ flags u8 (bit 0: duplicate)
 *   0x83 ERROR        requestId u32 ‖ status u16 ‖ codeLen u8 ‖ code ‖ msgLen u16 ‖ message ‖
 *                     detailsLen u16 ‖ details (UTF-8 JSON, may be empty)
 *   0x84 PONG         requestId u32
 *   0x85 QUEUE_EMPTY  (no body) — the mailbox drain after connecting is complete
 * server → new device, on the provisioning socket only (routes.ts `provisioningSocket`)
 *   0x86 PROVISIONING_ADDRESS  len u8 ‖ address (ASCII: base64url of 16 random bytes)
 *   0x87 PROVISION_ENVELOPE    len u32 ‖ envelope (opaque ProvisionEnvelope bytes)
 *
 * Timestamps are milliseconds since the epoch as IEEE-754 doubles (exact for every integer below
 * 2^53; no BigInt on the per-message path). Decoders are strict — exact lengths, no trailing bytes,
 * counts and sizes within limits.ts — and throw `ApiError` (FRAME_INVALID, FRAME_VERSION_UNSUPPORTED
 * or PAYLOAD_TOO_LARGE). Decoded `content` is a view into the frame, not a copy.
 */
import { uuidFromBytes, uuidToBytes } from './encoding.js';
import { ApiError, isApiErrorCode, type ApiErrorCode, type ApiErrorDetails } from './errors.js';
import {
  CLIENT_MESSAGE_ID_BYTES,
  FRAME_VERSION,
  MAX_ACKS_PER_FRAME,
  MAX_DEVICE_ID,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_ENVELOPE_CONTENT_BYTES,
  MAX_FRAME_BYTES,
  MAX_PROVISION_ENVELOPE_BYTES,
  MAX_REGISTRATION_ID,
  PROVISIONING_ADDRESS_BYTES,
} from './limits.js';

/** Signal's Envelope.Type numbers for the kinds of content a relay carries. */
export const ENVELOPE_TYPES = {
  ciphertext: 1,
  prekeyMessage: 3,
  sealedSender: 6,
  senderKey: 7,
  plaintextContent: 8,
} as const;
export type EnvelopeType = (typeof ENVELOPE_TYPES)[keyof typeof ENVELOPE_TYPES];
const ENVELOPE_TYPE_SET: ReadonlySet<number> = new Set(Object.values(ENVELOPE_TYPES));
export function isEnvelopeType(n: number): n is EnvelopeType {
  return ENVELOPE_TYPE_SET.has(n);
}

export const FRAME_TYPES = {
  send: 0x01,
  ack: 0x02,
  ping: 0x03,
  envelope: 0x81,
  sendResult: 0x82,
  error: 0x83,
  pong: 0x84,
  queueEmpty: 0x85,
  provisioningAddress: 0x86,
  provisionEnvelope: 0x87,
} as const;

// ---- frame shapes --------------------------------------------------------------------------

export interface OutgoingEnvelope {
  readonly deviceId: number;
  readonly registrationId: number;
  readonly type: EnvelopeType;
  readonly content: Uint8Array;
}
export interface SendFrame {
  readonly type: 'send';
  /** Chosen by the client (≥ 1) to match the SEND_RESULT or ERROR answering this frame. */
  readonly requestId: number;
  /** 16 random bytes; a retry with the same id is stored once. */
  readonly clientMessageId: Uint8Array;
  readonly recipient: string;
  readonly envelopes: readonly OutgoingEnvelope[];
}
export interface AckFrame {
  readonly type: 'ack';
  readonly guids: readonly string[];
}
export interface PingFrame {
  readonly type: 'ping';
  readonly requestId: number;
}
export type ClientFrame = SendFrame | AckFrame | PingFrame;

export interface EnvelopeFrame {
  readonly type: 'envelope';
  readonly guid: string;
  readonly serverTimestamp: number;
  readonly sourceAccountId: string;
  readonly sourceDeviceId: number;
  readonly envelopeType: EnvelopeType;
  readonly content: Uint8Array;
}
export interface SendResultFrame {
  readonly type: 'send-result';
  readonly requestId: number;
  readonly serverTimestamp: number;
  /** The same client message id was stored before; nothing new was stored. */
  readonly duplicate: boolean;
}
export interface ErrorFrame {
  readonly type: 'error';
  /** The request this answers, or 0 when the frame was too broken to name one. */
  readonly requestId: number;
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly message: string;
  readonly details?: ApiErrorDetails;
}
export interface PongFrame {
  readonly type: 'pong';
  readonly requestId: number;
}
export interface QueueEmptyFrame {
  readonly type: 'queue-empty';
}
export type ServerFrame =
  EnvelopeFrame | SendResultFrame | ErrorFrame | PongFrame | QueueEmptyFrame;

// ---- reading -------------------------------------------------------------------------------

class Reader {
  private offset = 2;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): number {
    const at = this.offset;
    if (at + n > this.bytes.length) throw invalid('truncated frame');
    this.offset = at + n;
    return at;
  }
  u8(): number {
    return this.bytes[this.need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.need(2));
  }
  u32(): number {
    return this.view.getUint32(this.need(4));
  }
  f64(): number {
    return this.view.getFloat64(this.need(8));
  }
  bytesView(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }
  uuid(): string {
    return uuidFromBytes(this.bytes, this.need(16));
  }
  end(): void {
    if (this.offset !== this.bytes.length) throw invalid('trailing bytes after frame body');
  }
}

function invalid(message: string): ApiError {
  return new ApiError('FRAME_INVALID', message);
}

function header(bytes: Uint8Array): number {
  if (bytes.length < 2) throw invalid('frame shorter than its header');
  if (bytes.length > MAX_FRAME_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', 'frame too large');
  if (bytes[0] !== FRAME_VERSION) {
    throw new ApiError('FRAME_VERSION_UNSUPPORTED', `frame version ${bytes[0]} is not supported`);
  }
  return bytes[1]!;
}

/**
 * The request id of a SEND or PING frame, read without validating the rest, so an ERROR frame can
 * name the request it refuses. 0 when there is none.
 */
export function frameRequestId(bytes: Uint8Array): number {
  if (bytes.length < 6 || bytes[0] !== FRAME_VERSION) return 0;
  if (bytes[1] !== FRAME_TYPES.send && bytes[1] !== FRAME_TYPES.ping) return 0;
  return ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0;
}

/** Decodes a frame a client sent (used by the server). */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const type = header(bytes);
  const r = new Reader(bytes);
  switch (type) {
    case FRAME_TYPES.send: {
      const requestId = r.u32();
      const clientMessageId = r.bytesView(CLIENT_MESSAGE_ID_BYTES);
      const recipient = r.uuid();
      const count = r.u8();
      if (count < 1 || count > MAX_DEVICES_PER_ACCOUNT)
        throw invalid('envelope count out of range');
      const envelopes: OutgoingEnvelope[] = [];
      for (let i = 0; i < count; i++) {
        const deviceId = r.u16();
        const registrationId = r.u32();
        const envType = r.u8();
        const len = r.u32();
        if (deviceId < 1 || deviceId > MAX_DEVICE_ID) throw invalid('device id out of range');
        if (registrationId < 1 || registrationId > MAX_REGISTRATION_ID) {
          throw invalid('registration id out of range');
        }
        if (!isEnvelopeType(envType)) throw invalid('unknown envelope type');
        if (len > MAX_ENVELOPE_CONTENT_BYTES) {
          throw new ApiError('PAYLOAD_TOO_LARGE', 'envelope content too large');
        }
        if (len === 0) throw invalid('empty envelope content');
        // At most six envelopes: a linear scan is the cheapest duplicate check.
        for (const e of envelopes)
          if (e.deviceId === deviceId) throw invalid('duplicate device id');
        envelopes.push({ deviceId, registrationId, type: envType, content: r.bytesView(len) });
      }
      r.end();
      return { type: 'send', requestId, clientMessageId, recipient, envelopes };
    }
    case FRAME_TYPES.ack: {
      const count = r.u16();
      if (count < 1 || count > MAX_ACKS_PER_FRAME) throw invalid('ack count out of range');
      const guids: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) guids[i] = r.uuid();
      r.end();
      return { type: 'ack', guids };
    }
    case FRAME_TYPES.ping: {
      const requestId = r.u32();
      r.end();
      return { type: 'ping', requestId };
    }
    default:
      throw invalid(`unknown client frame type ${type}`);
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** Decodes a frame the server sent (used by clients). */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  const type = header(bytes);
  const r = new Reader(bytes);
  switch (type) {
    case FRAME_TYPES.envelope: {
      const guid = r.uuid();
      const serverTimestamp = r.f64();
      const sourceAccountId = r.uuid();
      const sourceDeviceId = r.u16();
      const envelopeType = r.u8();
      const len = r.u32();
      if (!isEnvelopeType(envelopeType)) throw invalid('unknown envelope type');
      if (len > MAX_ENVELOPE_CONTENT_BYTES)
        throw new ApiError('PAYLOAD_TOO_LARGE', 'envelope too large');
      checkTimestamp(serverTimestamp);
      const content = r.bytesView(len);
      r.end();
      return {
        type: 'envelope',
        guid,
        serverTimestamp,
        sourceAccountId,
        sourceDeviceId,
        envelopeType,
        content,
      };
    }
    case FRAME_TYPES.sendResult: {
      const requestId = r.u32();
      const serverTimestamp = r.f64();
      const flags = r.u8();
      r.end();
      checkTimestamp(serverTimestamp);
      if ((flags & ~1) !== 0) throw invalid('unknown send-result flags');
      return { type: 'send-result', requestId, serverTimestamp, duplicate: (flags & 1) === 1 };
    }
    case FRAME_TYPES.error: {
      const requestId = r.u32();
      const status = r.u16();
      const code = decodeText(r.bytesView(r.u8()));
      const message = decodeText(r.bytesView(r.u16()));
      const detailsText = decodeText(r.bytesView(r.u16()));
      r.end();
      if (!isApiErrorCode(code)) throw invalid('unknown error code');
      let details: ApiErrorDetails | undefined;
      if (detailsText.length > 0) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(detailsText);
        } catch {
          throw invalid('error details are not JSON');
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw invalid('error details are not an object');
        }
        details = parsed as ApiErrorDetails;
      }
      return {
        type: 'error',
        requestId,
        code,
        status,
        message,
        ...(details === undefined ? {} : { details }),
      };
    }
    case FRAME_TYPES.pong: {
      const requestId = r.u32();
      r.end();
      return { type: 'pong', requestId };
    }
    case FRAME_TYPES.queueEmpty:
      r.end();
      return { type: 'queue-empty' };
    default:
      throw invalid(`unknown server frame type ${type}`);
  }
}

function decodeText(bytes: Uint8Array): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw invalid('text is not UTF-8');
  }
}

function checkTimestamp(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalid('timestamp out of range');
}

// ---- writing -------------------------------------------------------------------------------

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 2;
  constructor(size: number, type: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.bytes[0] = FRAME_VERSION;
    this.bytes[1] = type;
  }
  u8(v: number): void {
    this.bytes[this.offset++] = v;
  }
  u16(v: number): void {
    this.view.setUint16(this.offset, v);
    this.offset += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.offset, v);
    this.offset += 4;
  }
  f64(v: number): void {
    this.view.setFloat64(this.offset, v);
    this.offset += 8;
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.offset);
    this.offset += b.length;
  }
  uuid(text: string): void {
    uuidToBytes(text, this.bytes, this.offset);
    this.offset += 16;
  }
  done(): Uint8Array {
    if (this.offset !== this.bytes.length) throw new Error('frame writer size mismatch');
    return this.bytes;
  }
}

function u32Arg(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw new RangeError(`${name} must be a u32`);
}

/** Encodes a frame a client sends. Arguments outside the contract's limits throw. */
export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  switch (frame.type) {
    case 'send': {
      u32Arg(frame.requestId, 'requestId');
      if (frame.clientMessageId.length !== CLIENT_MESSAGE_ID_BYTES) {
        throw new RangeError('clientMessageId must be 16 bytes');
      }
      const n = frame.envelopes.length;
      if (n < 1 || n > MAX_DEVICES_PER_ACCOUNT) throw new RangeError('envelope count out of range');
      let size = 2 + 4 + 16 + 16 + 1;
      for (const e of frame.envelopes) size += 11 + e.content.length;
      const w = new Writer(size, FRAME_TYPES.send);
      w.u32(frame.requestId);
      w.raw(frame.clientMessageId);
      w.uuid(frame.recipient);
      w.u8(n);
      for (const e of frame.envelopes) {
        w.u16(e.deviceId);
        w.u32(e.registrationId);
        w.u8(e.type);
        w.u32(e.content.length);
        w.raw(e.content);
      }
      return w.done();
    }
    case 'ack': {
      const n = frame.guids.length;
      if (n < 1 || n > MAX_ACKS_PER_FRAME) throw new RangeError('ack count out of range');
      const w = new Writer(2 + 2 + 16 * n, FRAME_TYPES.ack);
      w.u16(n);
      for (const g of frame.guids) w.uuid(g);
      return w.done();
    }
    case 'ping': {
      u32Arg(frame.requestId, 'requestId');
      const w = new Writer(6, FRAME_TYPES.ping);
      w.u32(frame.requestId);
      return w.done();
    }
  }
}

/** Encodes a frame the server sends. */
export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  switch (frame.type) {
    case 'envelope': {
      const w = new Writer(
        2 + 16 + 8 + 16 + 2 + 1 + 4 + frame.content.length,
        FRAME_TYPES.envelope,
      );
      w.uuid(frame.guid);
      w.f64(frame.serverTimestamp);
      w.uuid(frame.sourceAccountId);
      w.u16(frame.sourceDeviceId);
      w.u8(frame.envelopeType);
      w.u32(frame.content.length);
      w.raw(frame.content);
      return w.done();
    }
    case 'send-result': {
      const w = new Writer(2 + 4 + 8 + 1, FRAME_TYPES.sendResult);
      w.u32(frame.requestId);
      w.f64(frame.serverTimestamp);
      w.u8(frame.duplicate ? 1 : 0);
      return w.done();
    }
    case 'error': {
      const code = textEncoder.encode(frame.code);
      const message = textEncoder.encode(frame.message.slice(0, 1024));
      const details =
        frame.details === undefined
          ? new Uint8Array(0)
          : textEncoder.encode(JSON.stringify(frame.details));
      if (details.length > 0xffff) throw new RangeError('error details too large');
      const w = new Writer(
        2 + 4 + 2 + 1 + code.length + 2 + message.length + 2 + details.length,
        FRAME_TYPES.error,
      );
      w.u32(frame.requestId);
      w.u16(frame.status);
      w.u8(code.length);
      w.raw(code);
      w.u16(message.length);
      w.raw(message);
      w.u16(details.length);
      w.raw(details);
      return w.done();
    }
    case 'pong': {
      const w = new Writer(6, FRAME_TYPES.pong);
      w.u32(frame.requestId);
      return w.done();
    }
    case 'queue-empty':
      return new Writer(2, FRAME_TYPES.queueEmpty).done();
  }
}

/** The ERROR frame for an `ApiError` (details and message as the HTTP body would carry them). */
export function errorFrameOf(requestId: number, err: ApiError): ErrorFrame {
  return {
    type: 'error',
    requestId,
    code: err.code,
    status: err.status,
    message: err.message,
    ...(err.details === undefined ? {} : { details: err.details }),
  };
}

// ---- the provisioning socket ----------------------------------------------------------------

/** The address a new device shows in its link URI (the relay's name for its provisioning socket). */
export interface ProvisioningAddressFrame {
  readonly type: 'provisioning-address';
  readonly address: string;
}
/** The primary's ProvisionEnvelope, end-to-end encrypted to the new device's key. */
export interface ProvisionEnvelopeFrame {
  readonly type: 'provision-envelope';
  readonly envelope: Uint8Array;
}
export type ProvisioningFrame = ProvisioningAddressFrame | ProvisionEnvelopeFrame;

const PROVISIONING_ADDRESS_PATTERN = new RegExp(
  `^[A-Za-z0-9_-]{${Math.ceil((PROVISIONING_ADDRESS_BYTES * 4) / 3)}}$`,
);

/** True if `text` has the form of a provisioning address (base64url of 16 bytes, unpadded). */
export function isProvisioningAddress(text: string): boolean {
  return PROVISIONING_ADDRESS_PATTERN.test(text);
}

/** Encodes a frame of the provisioning socket (server side). */
export function encodeProvisioningFrame(frame: ProvisioningFrame): Uint8Array {
  switch (frame.type) {
    case 'provisioning-address': {
      if (!isProvisioningAddress(frame.address)) throw new RangeError('malformed address');
      const text = textEncoder.encode(frame.address);
      const w = new Writer(2 + 1 + text.length, FRAME_TYPES.provisioningAddress);
      w.u8(text.length);
      w.raw(text);
      return w.done();
    }
    case 'provision-envelope': {
      const n = frame.envelope.length;
      if (n < 1 || n > MAX_PROVISION_ENVELOPE_BYTES) throw new RangeError('envelope size');
      const w = new Writer(2 + 4 + n, FRAME_TYPES.provisionEnvelope);
      w.u32(n);
      w.raw(frame.envelope);
      return w.done();
    }
  }
}

/** Decodes a frame of the provisioning socket (new device side); strict like the others. */
export function decodeProvisioningFrame(bytes: Uint8Array): ProvisioningFrame {
  const type = header(bytes);
  const r = new Reader(bytes);
  switch (type) {
    case FRAME_TYPES.provisioningAddress: {
      const address = decodeText(r.bytesView(r.u8()));
      r.end();
      if (!isProvisioningAddress(address)) throw invalid('malformed provisioning address');
      return { type: 'provisioning-address', address };
    }
    case FRAME_TYPES.provisionEnvelope: {
      const n = r.u32();
      if (n > MAX_PROVISION_ENVELOPE_BYTES) {
        throw new ApiError('PAYLOAD_TOO_LARGE', 'provision envelope too large');
      }
      if (n === 0) throw invalid('empty provision envelope');
      const envelope = r.bytesView(n);
      r.end();
      return { type: 'provision-envelope', envelope };
    }
    default:
      throw invalid(`unknown provisioning frame type ${type}`);
  }
}
