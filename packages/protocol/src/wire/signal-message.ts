/**
 * SignalMessage, the Double Ratchet's wire format (shared/specs/signal-wire.md §2.2, §2.3):
 *
 *     0x44 ‖ protobuf{1 ratchet_key(33), 2 counter, 3 previous_counter, 4 ciphertext,
 *                     5 pq_ratchet, 6 addresses(36)} ‖ MAC(8)
 *     MAC = HMAC-SHA256(mac_key, senderIdentity(33) ‖ receiverIdentity(33) ‖ 0x44 ‖ protobuf)[0..8]
 *
 * The encoder writes fields in number order as prost does (so our bytes equal libsignal's for the
 * same inputs); the parser accepts any valid encoding and the MAC covers the bytes as received.
 * Versions: 4 is required; 3 (and older) is `LEGACY_VERSION`, newer is `UNSUPPORTED_VERSION`.
 * `addresses` = senderServiceIdFixed(17) ‖ senderDevice(1) ‖ recipientServiceIdFixed(17) ‖
 * recipientDevice(1), present only when both names are service IDs.
 */
import { constantTimeEqual, hmacSha256Parts } from '@sotto/crypto';
import type { ProtocolAddress } from '../address.js';
import { ProtocolError } from '../errors.js';
import { PublicKey } from '../keys/curve.js';
import { readVarint } from './protobuf.js';
import { SERVICE_ID_FIXED_LENGTH, serviceIdFixedFromString } from './service-id.js';

export const CIPHERTEXT_MESSAGE_CURRENT_VERSION = 4;
export const CIPHERTEXT_MESSAGE_PRE_KYBER_VERSION = 3;
/** `(version << 4) | CURRENT_VERSION` for every 1:1 message we send. */
export const VERSION_BYTE =
  (CIPHERTEXT_MESSAGE_CURRENT_VERSION << 4) | CIPHERTEXT_MESSAGE_CURRENT_VERSION;
export const MAC_LENGTH = 8;
export const ADDRESSES_LENGTH = 2 * (SERVICE_ID_FIXED_LENGTH + 1);
const EMPTY = new Uint8Array(0);

export interface SignalMessage {
  readonly version: number;
  readonly ratchetKey: PublicKey;
  readonly counter: number;
  readonly previousCounter: number;
  /** AES-256-CBC ciphertext (a view into `serialized`). */
  readonly ciphertext: Uint8Array;
  /** The SPQR message; empty when the field is absent. */
  readonly pqRatchet: Uint8Array;
  readonly addresses: Uint8Array | null;
  /** The whole message as received, MAC included. */
  readonly serialized: Uint8Array;
}

/**
 * Checks the version byte of a 1:1 message (§2.2): the high nibble is the message version.
 * v4 passes; v3 and older are `LEGACY_VERSION`; newer is `UNSUPPORTED_VERSION`.
 */
export function checkMessageVersion(first: number, what: string): number {
  const version = first >> 4;
  if (version < CIPHERTEXT_MESSAGE_CURRENT_VERSION) {
    throw new ProtocolError('LEGACY_VERSION', `${what} version ${version} is no longer supported`);
  }
  if (version > CIPHERTEXT_MESSAGE_CURRENT_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `${what} version ${version} is not supported`);
  }
  return version;
}

function bad(reason: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'INVALID_MESSAGE',
    `SignalMessage: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Parses a SignalMessage; the MAC is checked later, with the message keys. */
export function parseSignalMessage(bytes: Uint8Array): SignalMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length < MAC_LENGTH + 1) throw bad('too short');
  const version = checkMessageVersion(bytes[0]!, 'SignalMessage');
  const end = bytes.length - MAC_LENGTH;
  let ratchetKey: Uint8Array | undefined;
  let counter: number | undefined;
  let previousCounter = 0;
  let ciphertext: Uint8Array | undefined;
  let pqRatchet: Uint8Array = EMPTY;
  let addresses: Uint8Array | null = null;
  let pos = 1;
  while (pos < end) {
    const [key, afterKey] = readVarint(bytes, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw bad('field number 0');
    if (wire === 0) {
      const [value, next] = readVarint(bytes, pos);
      if (next > end) throw bad('truncated varint');
      pos = next;
      if (field === 2) counter = value % 0x1_0000_0000;
      else if (field === 3) previousCounter = value % 0x1_0000_0000;
      else if (field <= 6) throw bad(`field ${field} has the wrong wire type`);
    } else if (wire === 2) {
      const [length, next] = readVarint(bytes, pos);
      pos = next;
      if (pos + length > end) throw bad('truncated field');
      const value = bytes.subarray(pos, pos + length);
      pos += length;
      if (field === 1) ratchetKey = value;
      else if (field === 4) ciphertext = value;
      else if (field === 5) pqRatchet = value;
      else if (field === 6) addresses = value;
      else if (field <= 3) throw bad(`field ${field} has the wrong wire type`);
    } else if (wire === 1) {
      if (field <= 6) throw bad(`field ${field} has the wrong wire type`);
      pos += 8;
    } else if (wire === 5) {
      if (field <= 6) throw bad(`field ${field} has the wrong wire type`);
      pos += 4;
    } else {
      throw bad(`unsupported wire type ${wire}`);
    }
    if (pos > end) throw bad('truncated field');
  }
  if (ratchetKey === undefined) throw bad('missing ratchet key');
  if (counter === undefined) throw bad('missing counter');
  if (ciphertext === undefined) throw bad('missing ciphertext');
  let parsedKey: PublicKey;
  try {
    parsedKey = PublicKey.deserialize(ratchetKey);
  } catch (cause) {
    throw bad('invalid ratchet key', cause);
  }
  return {
    version,
    ratchetKey: parsedKey,
    counter,
    previousCounter,
    ciphertext,
    pqRatchet: Uint8Array.from(pqRatchet),
    addresses: addresses === null ? null : Uint8Array.from(addresses),
    serialized: bytes,
  };
}

/** The truncated MAC of §2.3 over `content` (= version byte ‖ protobuf). */
export function computeSignalMessageMac(
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
  content: Uint8Array,
): Uint8Array {
  return hmacSha256Parts(macKey, [senderIdentity, receiverIdentity, content]).subarray(
    0,
    MAC_LENGTH,
  );
}

/** Constant-time check of the trailing MAC. Identities are the serialised 33-byte keys. */
export function verifySignalMessageMac(
  message: SignalMessage,
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
): boolean {
  const bytes = message.serialized;
  const split = bytes.length - MAC_LENGTH;
  const ours = computeSignalMessageMac(
    macKey,
    senderIdentity,
    receiverIdentity,
    bytes.subarray(0, split),
  );
  return constantTimeEqual(ours, bytes.subarray(split));
}

/**
 * The 36-byte `addresses` value for a message from `sender` to `recipient`, or `null` when either
 * name is not a service ID (libsignal then leaves the field out).
 */
export function encodeAddresses(
  sender: ProtocolAddress,
  recipient: ProtocolAddress,
): Uint8Array | null {
  const s = serviceIdFixedFromString(sender.name);
  const r = serviceIdFixedFromString(recipient.name);
  if (s === null || r === null) return null;
  const out = new Uint8Array(ADDRESSES_LENGTH);
  out.set(s, 0);
  out[SERVICE_ID_FIXED_LENGTH] = sender.deviceId;
  out.set(r, SERVICE_ID_FIXED_LENGTH + 1);
  out[2 * SERVICE_ID_FIXED_LENGTH + 1] = recipient.deviceId;
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

function writeBytes(out: Uint8Array, pos: number, tag: number, value: Uint8Array): number {
  out[pos++] = tag;
  pos = writeVarint(out, pos, value.length);
  out.set(value, pos);
  return pos + value.length;
}

export interface SignalMessageFields {
  /** Serialised 33-byte ratchet public key. */
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  readonly previousCounter: number;
  readonly ciphertext: Uint8Array;
  readonly pqRatchet: Uint8Array;
  readonly addresses: Uint8Array | null;
}

/**
 * Encodes and MACs a SignalMessage in one buffer. `senderIdentity`/`receiverIdentity` are the
 * serialised 33-byte identity keys.
 */
export function encodeSignalMessage(
  fields: SignalMessageFields,
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
): Uint8Array {
  const { ratchetKey, counter, previousCounter, ciphertext, pqRatchet, addresses } = fields;
  let size = 1;
  size += 1 + varintSize(ratchetKey.length) + ratchetKey.length;
  size += 1 + varintSize(counter);
  size += 1 + varintSize(previousCounter);
  size += 1 + varintSize(ciphertext.length) + ciphertext.length;
  if (pqRatchet.length > 0) size += 1 + varintSize(pqRatchet.length) + pqRatchet.length;
  if (addresses !== null) size += 1 + varintSize(addresses.length) + addresses.length;
  const out = new Uint8Array(size + MAC_LENGTH);
  out[0] = VERSION_BYTE;
  let pos = writeBytes(out, 1, 0x0a, ratchetKey);
  out[pos++] = 0x10;
  pos = writeVarint(out, pos, counter);
  out[pos++] = 0x18;
  pos = writeVarint(out, pos, previousCounter);
  pos = writeBytes(out, pos, 0x22, ciphertext);
  if (pqRatchet.length > 0) pos = writeBytes(out, pos, 0x2a, pqRatchet);
  if (addresses !== null) pos = writeBytes(out, pos, 0x32, addresses);
  const mac = computeSignalMessageMac(
    macKey,
    senderIdentity,
    receiverIdentity,
    out.subarray(0, pos),
  );
  out.set(mac, pos);
  return out;
}
