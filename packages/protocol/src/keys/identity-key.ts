/**
 * Identity keys (shared/specs/signal-wire.md §2.1): an identity key is a Curve25519 public key
 * serialised as `0x05 ‖ u(32)`; the identity key pair is stored as the protobuf
 * `IdentityKeyPairStructure {1: public(33), 2: private(32)}` (libsignal `storage.proto`), so the
 * bytes load in libsignal's `IdentityKeyPair.deserialize` and back.
 *
 * Also here: the alternate-identity (PNI) signature of §4 and libsignal's "same account" test that
 * turns off the forward-jump limit for sessions with oneself.
 */
import { utf8 } from '@sotto/crypto';
import type { ProtocolAddress } from '../address.js';
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { sameServiceId } from '../wire/service-id.js';
import { KeyPair, PrivateKey, PublicKey } from './curve.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const ALTERNATE_IDENTITY_PREFIX = new Uint8Array([
  ...new Uint8Array(32).fill(0xff),
  ...utf8('Signal_PNI_Signature'),
]);

export class IdentityKey {
  constructor(readonly publicKey: PublicKey) {}

  /** Parses `0x05 ‖ u(32)` (trailing bytes tolerated, as libsignal does). */
  static deserialize(bytes: Uint8Array): IdentityKey {
    return new IdentityKey(PublicKey.deserialize(bytes));
  }

  serialize(): Uint8Array {
    return this.publicKey.serialize();
  }

  equals(other: IdentityKey): boolean {
    return this.publicKey.equals(other.publicKey);
  }

  /** Verifies `signAlternateIdentity` (§4): `0xFF×32 ‖ "Signal_PNI_Signature" ‖ other(33)`. */
  verifyAlternateIdentity(other: IdentityKey, signature: Uint8Array): boolean {
    return this.publicKey.verifySignature(alternateIdentityMessage(other), signature);
  }

  /**
   * libsignal `IdentityKey::is_same_account`: the same identity key AND both addresses name the
   * same service ID. Sessions with oneself have no forward-jump limit (§3.2).
   */
  isSameAccount(self: ProtocolAddress, other: IdentityKey, otherAddress: ProtocolAddress): boolean {
    return this.equals(other) && sameServiceId(self.name, otherAddress.name);
  }

  toJSON(): string {
    return `IdentityKey(${this.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

function alternateIdentityMessage(other: IdentityKey): Uint8Array {
  const out = new Uint8Array(ALTERNATE_IDENTITY_PREFIX.length + 33);
  out.set(ALTERNATE_IDENTITY_PREFIX, 0);
  out.set(other.serialize(), ALTERNATE_IDENTITY_PREFIX.length);
  return out;
}

export class IdentityKeyPair {
  readonly identityKey: IdentityKey;

  constructor(
    readonly publicKey: PublicKey,
    readonly privateKey: PrivateKey,
  ) {
    this.identityKey = new IdentityKey(publicKey);
  }

  static generate(rng: Rng): IdentityKeyPair {
    const pair = KeyPair.generate(rng);
    return new IdentityKeyPair(pair.publicKey, pair.privateKey);
  }

  /** Builds the pair from a private key alone (the public half is recomputed). */
  static fromPrivateKey(privateKey: PrivateKey): IdentityKeyPair {
    return new IdentityKeyPair(privateKey.publicKey, privateKey);
  }

  /** `IdentityKeyPairStructure {1: public(33), 2: private(32)}`; both fields required. */
  static deserialize(bytes: Uint8Array): IdentityKeyPair {
    let pub: Uint8Array | undefined;
    let priv: Uint8Array | undefined;
    for (const f of readFields(bytes)) {
      if (f.field === 1 && f.wire === 2) pub = f.bytes;
      else if (f.field === 2 && f.wire === 2) priv = f.bytes;
    }
    if (pub === undefined || priv === undefined) {
      throw new ProtocolError('INVALID_KEY', 'identity key pair is missing a key');
    }
    const privateKey = PrivateKey.deserialize(priv);
    const publicKey = PublicKey.deserialize(pub);
    if (!privateKey.publicKey.equals(publicKey)) {
      throw new ProtocolError('INVALID_KEY', 'identity key pair halves do not match');
    }
    return new IdentityKeyPair(publicKey, privateKey);
  }

  serialize(): Uint8Array {
    return new ProtoWriter(72)
      .bytes(1, this.publicKey.serialize())
      .bytes(2, this.privateKey.serialize())
      .finish();
  }

  sign(message: Uint8Array, rng: Rng): Uint8Array {
    return this.privateKey.sign(message, rng);
  }

  /** Signs another identity key (the ACI signing the PNI identity, §4). */
  signAlternateIdentity(other: IdentityKey, rng: Rng): Uint8Array {
    return this.privateKey.sign(alternateIdentityMessage(other), rng);
  }

  toJSON(): string {
    return `IdentityKeyPair(${this.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
