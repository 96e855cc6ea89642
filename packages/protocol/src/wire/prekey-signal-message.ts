/**
 * PreKeySignalMessage, the first messages of a session (shared/specs/signal-wire.md §2.4). It has
 * no MAC of its own; the embedded SignalMessage carries one.
 *
 *     0x44 ‖ protobuf{1 pre_key_id?, 2 base_key(33), 3 identity_key(33), 4 message,
 *                     5 registration_id, 6 signed_pre_key_id, 7 kyber_pre_key_id,
 *                     8 kyber_ciphertext(0x08‖1568)}
 *
 * Required: base key, identity key, message, signed prekey id, and (for v4) both Kyber fields:
 * a v4 message without them is `MISSING_KYBER`. Version 3 is `LEGACY_VERSION` (X3DH is no longer
 * accepted), newer versions `UNSUPPORTED_VERSION`. The encoder writes fields in number order,
 * as prost does.
 */
import { ProtocolError } from '../errors.js';
import { PublicKey } from '../keys/curve.js';
import { IdentityKey } from '../keys/identity-key.js';
import { readVarint } from './protobuf.js';
import {
  VERSION_BYTE,
  checkMessageVersion,
  parseSignalMessage,
  type SignalMessage,
} from './signal-message.js';

export interface PreKeySignalMessage {
  readonly version: number;
  readonly registrationId: number;
  readonly preKeyId: number | null;
  readonly signedPreKeyId: number;
  readonly kyberPreKeyId: number;
  /** `0x08 ‖ 1568` as received (type and length are checked at decapsulation). */
  readonly kyberCiphertext: Uint8Array;
  readonly baseKey: PublicKey;
  readonly identityKey: IdentityKey;
  readonly message: SignalMessage;
  readonly serialized: Uint8Array;
}

function bad(reason: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'INVALID_MESSAGE',
    `PreKeySignalMessage: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

export function parsePreKeySignalMessage(bytes: Uint8Array): PreKeySignalMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw bad('empty');
  const version = checkMessageVersion(bytes[0]!, 'PreKeySignalMessage');
  let registrationId = 0;
  let preKeyId: number | null = null;
  let signedPreKeyId: number | undefined;
  let kyberPreKeyId: number | undefined;
  let kyberCiphertext: Uint8Array | undefined;
  let baseKey: Uint8Array | undefined;
  let identityKey: Uint8Array | undefined;
  let message: Uint8Array | undefined;
  let pos = 1;
  const end = bytes.length;
  while (pos < end) {
    const [key, afterKey] = readVarint(bytes, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw bad('field number 0');
    const known = field <= 8;
    if (wire === 0) {
      const [value, next] = readVarint(bytes, pos);
      pos = next;
      const v = value % 0x1_0000_0000;
      if (field === 1) preKeyId = v;
      else if (field === 5) registrationId = v;
      else if (field === 6) signedPreKeyId = v;
      else if (field === 7) kyberPreKeyId = v;
      else if (known) throw bad(`field ${field} has the wrong wire type`);
    } else if (wire === 2) {
      const [length, next] = readVarint(bytes, pos);
      pos = next;
      if (pos + length > end) throw bad('truncated field');
      const value = bytes.subarray(pos, pos + length);
      pos += length;
      if (field === 2) baseKey = value;
      else if (field === 3) identityKey = value;
      else if (field === 4) message = value;
      else if (field === 8) kyberCiphertext = value;
      else if (known) throw bad(`field ${field} has the wrong wire type`);
    } else if (wire === 1 || wire === 5) {
      if (known) throw bad(`field ${field} has the wrong wire type`);
      pos += wire === 1 ? 8 : 4;
      if (pos > end) throw bad('truncated field');
    } else {
      throw bad(`unsupported wire type ${wire}`);
    }
  }
  if (baseKey === undefined) throw bad('missing base key');
  if (identityKey === undefined) throw bad('missing identity key');
  if (message === undefined) throw bad('missing message');
  if (signedPreKeyId === undefined) throw bad('missing signed prekey id');
  if (kyberPreKeyId === undefined || kyberCiphertext === undefined) {
    throw new ProtocolError(
      'MISSING_KYBER',
      'PreKeySignalMessage: Kyber prekey id and ciphertext must be present for version 4',
    );
  }
  let parsedBase: PublicKey;
  let parsedIdentity: IdentityKey;
  try {
    parsedBase = PublicKey.deserialize(baseKey);
    parsedIdentity = IdentityKey.deserialize(identityKey);
  } catch (cause) {
    throw bad('invalid key', cause);
  }
  return {
    version,
    registrationId,
    preKeyId,
    signedPreKeyId,
    kyberPreKeyId,
    kyberCiphertext: Uint8Array.from(kyberCiphertext),
    baseKey: parsedBase,
    identityKey: parsedIdentity,
    message: parseSignalMessage(Uint8Array.from(message)),
    serialized: bytes,
  };
}

export interface PreKeySignalMessageFields {
  readonly registrationId: number;
  readonly preKeyId: number | null;
  readonly signedPreKeyId: number;
  readonly kyberPreKeyId: number;
  readonly kyberCiphertext: Uint8Array;
  /** Serialised 33-byte keys. */
  readonly baseKey: Uint8Array;
  readonly identityKey: Uint8Array;
  /** The complete SignalMessage, MAC included. */
  readonly message: Uint8Array;
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

export function encodePreKeySignalMessage(f: PreKeySignalMessageFields): Uint8Array {
  const lenField = (n: number): number => 1 + varintSize(n) + n;
  let size = 1;
  if (f.preKeyId !== null) size += 1 + varintSize(f.preKeyId);
  size += lenField(f.baseKey.length) + lenField(f.identityKey.length) + lenField(f.message.length);
  size += 1 + varintSize(f.registrationId);
  size += 1 + varintSize(f.signedPreKeyId);
  size += 1 + varintSize(f.kyberPreKeyId);
  size += lenField(f.kyberCiphertext.length);
  const out = new Uint8Array(size);
  out[0] = VERSION_BYTE;
  let pos = 1;
  const bytesField = (tag: number, value: Uint8Array): void => {
    out[pos++] = tag;
    pos = writeVarint(out, pos, value.length);
    out.set(value, pos);
    pos += value.length;
  };
  const intField = (tag: number, value: number): void => {
    out[pos++] = tag;
    pos = writeVarint(out, pos, value);
  };
  if (f.preKeyId !== null) intField(0x08, f.preKeyId);
  bytesField(0x12, f.baseKey);
  bytesField(0x1a, f.identityKey);
  bytesField(0x22, f.message);
  intField(0x28, f.registrationId);
  intField(0x30, f.signedPreKeyId);
  intField(0x38, f.kyberPreKeyId);
  bytesField(0x42, f.kyberCiphertext);
  return out;
}
