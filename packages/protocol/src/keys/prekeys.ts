/**
 * Prekey records (shared/specs/signal-wire.md §1.1, §1.3, §2.1):
 * - one-time EC prekeys: `PreKeyRecordStructure {1: id, 2: public(33), 3: private(32)}`;
 * - signed EC prekeys: `SignedPreKeyRecordStructure {1: id, 2: public(33), 3: private(32),
 *   4: signature(64), 5: timestamp fixed64}`, signed with XEdDSA over the 33-byte public key;
 * - Kyber prekeys (one-time and last-resort): the same `SignedPreKeyRecordStructure` with
 *   `0x08‖1568` public and `0x08‖3168` secret keys, signed over the 1569-byte public key.
 *
 * The encodings are libsignal's `storage.proto` byte for byte (proto3: zero values omitted, fields
 * in number order), so records load in libsignal's `*Record.deserialize` and back. One Sotto
 * extension: a last-resort Kyber record carries `6: true` (absent for one-time records, which
 * therefore stay byte-identical to libsignal's); libsignal ignores the unknown field.
 */
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';
import { ProtoWriter, readFields, type ProtoField } from '../wire/protobuf.js';
import { KeyPair, PrivateKey, PublicKey, SIGNATURE_LENGTH } from './curve.js';
import type { IdentityKeyPair } from './identity-key.js';
import { KemKeyPair, KemPublicKey, KemSecretKey } from './kem.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Prekey ids are protobuf uint32 on the wire. */
const MAX_PREKEY_ID = 0xffff_ffff;

function checkId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PREKEY_ID) {
    throw new ProtocolError('INVALID_STATE', `${what} must be a uint32`);
  }
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new ProtocolError('INVALID_STATE', 'timestamp must be a non-negative safe integer (ms)');
  }
}

interface RecordFields {
  id: number;
  publicKey?: Uint8Array;
  privateKey?: Uint8Array;
  signature?: Uint8Array;
  timestamp: number;
  lastResort: boolean;
}

function parseRecord(bytes: Uint8Array, what: string): RecordFields {
  const out: RecordFields = { id: 0, timestamp: 0, lastResort: false };
  const expect = (f: ProtoField, wire: number): void => {
    if (f.wire !== wire)
      throw new ProtocolError('INVALID_STATE', `${what}: field ${f.field} has the wrong type`);
  };
  try {
    for (const f of readFields(bytes)) {
      switch (f.field) {
        case 1:
          expect(f, 0);
          out.id = f.int % 0x1_0000_0000;
          break;
        case 2:
          expect(f, 2);
          out.publicKey = f.bytes;
          break;
        case 3:
          expect(f, 2);
          out.privateKey = f.bytes;
          break;
        case 4:
          expect(f, 2);
          out.signature = Uint8Array.from(f.bytes);
          break;
        case 5:
          expect(f, 1);
          out.timestamp = f.int;
          break;
        case 6:
          expect(f, 0);
          out.lastResort = f.int !== 0;
          break;
        default:
          break; // unknown fields are ignored, as prost does
      }
    }
  } catch (cause) {
    if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
    throw new ProtocolError('INVALID_STATE', `${what} does not parse`, { cause });
  }
  return out;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ProtocolError('INVALID_STATE', `${what} is missing`);
  return value;
}

function ecKeyPair(fields: RecordFields, what: string): KeyPair {
  try {
    const publicKey = PublicKey.deserialize(required(fields.publicKey, `${what} public key`));
    const privateKey = PrivateKey.deserialize(required(fields.privateKey, `${what} private key`));
    return new KeyPair(publicKey, privateKey);
  } catch (cause) {
    if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
    throw new ProtocolError('INVALID_STATE', `${what} holds an invalid key`, { cause });
  }
}

/** A one-time EC prekey. */
export class PreKeyRecord {
  constructor(
    readonly id: number,
    readonly keyPair: KeyPair,
  ) {
    checkId(id, 'prekey id');
  }

  static generate(id: number, rng: Rng): PreKeyRecord {
    return new PreKeyRecord(id, KeyPair.generate(rng));
  }

  get publicKey(): PublicKey {
    return this.keyPair.publicKey;
  }

  static deserialize(bytes: Uint8Array): PreKeyRecord {
    const f = parseRecord(bytes, 'prekey record');
    return new PreKeyRecord(f.id, ecKeyPair(f, 'prekey record'));
  }

  serialize(): Uint8Array {
    const w = new ProtoWriter(80);
    if (this.id !== 0) w.uint32(1, this.id);
    return w
      .bytes(2, this.keyPair.publicKey.serialize())
      .bytes(3, this.keyPair.privateKey.serialize())
      .finish();
  }

  toJSON(): string {
    return `PreKeyRecord(${this.id}, ${this.keyPair.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

/** A signed EC prekey: `signature = XEdDSA(IK, serialize(SPK))` over the 33 bytes. */
export class SignedPreKeyRecord {
  constructor(
    readonly id: number,
    readonly timestamp: number,
    readonly keyPair: KeyPair,
    readonly signature: Uint8Array,
  ) {
    checkId(id, 'signed prekey id');
    checkTimestamp(timestamp);
  }

  static generate(
    id: number,
    identity: IdentityKeyPair,
    timestamp: number,
    rng: Rng,
  ): SignedPreKeyRecord {
    const keyPair = KeyPair.generate(rng);
    const signature = identity.sign(keyPair.publicKey.serialize(), rng);
    return new SignedPreKeyRecord(id, timestamp, keyPair, signature);
  }

  get publicKey(): PublicKey {
    return this.keyPair.publicKey;
  }

  static deserialize(bytes: Uint8Array): SignedPreKeyRecord {
    const f = parseRecord(bytes, 'signed prekey record');
    return new SignedPreKeyRecord(
      f.id,
      f.timestamp,
      ecKeyPair(f, 'signed prekey record'),
      required(f.signature, 'signed prekey signature'),
    );
  }

  serialize(): Uint8Array {
    const w = new ProtoWriter(160);
    if (this.id !== 0) w.uint32(1, this.id);
    w.bytes(2, this.keyPair.publicKey.serialize()).bytes(3, this.keyPair.privateKey.serialize());
    if (this.signature.length > 0) w.bytes(4, this.signature);
    if (this.timestamp !== 0) w.fixed64(5, this.timestamp);
    return w.finish();
  }

  toJSON(): string {
    return `SignedPreKeyRecord(${this.id}, ${this.keyPair.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

/**
 * A signed Kyber1024 prekey: `signature = XEdDSA(IK, serialize(KPK))` over the 1569 bytes.
 * `lastResort` records are kept after use (the store then refuses a repeated
 * (signed prekey, base key) combination); one-time records are deleted after use.
 */
export class KyberPreKeyRecord {
  constructor(
    readonly id: number,
    readonly timestamp: number,
    readonly keyPair: KemKeyPair,
    readonly signature: Uint8Array,
    readonly lastResort = false,
  ) {
    checkId(id, 'Kyber prekey id');
    checkTimestamp(timestamp);
  }

  static generate(
    id: number,
    identity: IdentityKeyPair,
    timestamp: number,
    rng: Rng,
    options: { lastResort?: boolean } = {},
  ): KyberPreKeyRecord {
    const keyPair = KemKeyPair.generate(rng);
    const signature = identity.sign(keyPair.publicKey.serialize(), rng);
    return new KyberPreKeyRecord(id, timestamp, keyPair, signature, options.lastResort ?? false);
  }

  get publicKey(): KemPublicKey {
    return this.keyPair.publicKey;
  }

  static deserialize(bytes: Uint8Array): KyberPreKeyRecord {
    const f = parseRecord(bytes, 'Kyber prekey record');
    let keyPair: KemKeyPair;
    try {
      keyPair = new KemKeyPair(
        KemPublicKey.deserialize(required(f.publicKey, 'Kyber prekey public key')),
        KemSecretKey.deserialize(required(f.privateKey, 'Kyber prekey secret key')),
      );
    } catch (cause) {
      if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
      throw new ProtocolError('INVALID_STATE', 'Kyber prekey record holds an invalid key', {
        cause,
      });
    }
    return new KyberPreKeyRecord(
      f.id,
      f.timestamp,
      keyPair,
      required(f.signature, 'Kyber prekey signature'),
      f.lastResort,
    );
  }

  serialize(): Uint8Array {
    const w = new ProtoWriter(4900);
    if (this.id !== 0) w.uint32(1, this.id);
    w.bytes(2, this.keyPair.publicKey.serialize());
    const secret = this.keyPair.secretKey.serialize();
    w.bytes(3, secret);
    secret.fill(0);
    if (this.signature.length > 0) w.bytes(4, this.signature);
    if (this.timestamp !== 0) w.fixed64(5, this.timestamp);
    if (this.lastResort) w.bool(6, true);
    return w.finish();
  }

  toJSON(): string {
    return `KyberPreKeyRecord(${this.id}${this.lastResort ? ', last resort' : ''})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

/** Signature length of both signed prekey kinds. */
export const PREKEY_SIGNATURE_LENGTH = SIGNATURE_LENGTH;
