/**
 * Curve25519 keys as Signal serialises them (shared/specs/signal-wire.md §2.1): public keys are
 * `0x05 ‖ u(32)`, private keys 32 raw bytes (clamped on use), signatures 64-byte XEdDSA (§4).
 * Private keys never print: `toJSON` and `inspect` show the public half only.
 */
import {
  x25519,
  x25519PublicKey,
  xeddsaSign,
  xeddsaVerify,
  bytesEqual,
  toHex,
} from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';

export const DJB_KEY_TYPE = 0x05;
export const PUBLIC_KEY_LENGTH = 33;
export const PRIVATE_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class PublicKey {
  /** The 32-byte u-coordinate. */
  readonly u: Uint8Array;
  private serialized: Uint8Array | undefined;

  private constructor(u: Uint8Array) {
    this.u = u;
  }

  static fromU(u: Uint8Array): PublicKey {
    if (u.length !== 32)
      throw new ProtocolError('INVALID_KEY', 'X25519 public key must be 32 bytes');
    return new PublicKey(Uint8Array.from(u));
  }

  /** Parses `0x05 ‖ u(32)`; like libsignal, trailing bytes are tolerated and ignored. */
  static deserialize(bytes: Uint8Array): PublicKey {
    if (bytes.length < PUBLIC_KEY_LENGTH) {
      throw new ProtocolError('INVALID_KEY', `public key must be ${PUBLIC_KEY_LENGTH} bytes`);
    }
    if (bytes[0] !== DJB_KEY_TYPE) throw new ProtocolError('INVALID_KEY', 'bad public key type');
    return new PublicKey(bytes.slice(1, 33));
  }

  serialize(): Uint8Array {
    if (this.serialized === undefined) {
      const out = new Uint8Array(PUBLIC_KEY_LENGTH);
      out[0] = DJB_KEY_TYPE;
      out.set(this.u, 1);
      this.serialized = out;
    }
    return this.serialized;
  }

  verifySignature(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== SIGNATURE_LENGTH) return false;
    return xeddsaVerify(this.u, message, signature);
  }

  equals(other: PublicKey): boolean {
    return bytesEqual(this.u, other.u);
  }

  toJSON(): string {
    return `PublicKey(${toHex(this.serialize())})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

export class PrivateKey {
  readonly #bytes: Uint8Array;
  #publicKey: PublicKey | undefined;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  static generate(rng: Rng): PrivateKey {
    return PrivateKey.deserialize(rng(32));
  }

  /** 32 raw bytes, clamped (as libsignal does on deserialise). */
  static deserialize(bytes: Uint8Array): PrivateKey {
    if (bytes.length !== PRIVATE_KEY_LENGTH) {
      throw new ProtocolError('INVALID_KEY', `private key must be ${PRIVATE_KEY_LENGTH} bytes`);
    }
    const k = Uint8Array.from(bytes);
    k[0]! &= 248;
    k[31]! &= 127;
    k[31]! |= 64;
    return new PrivateKey(k);
  }

  /** The raw 32 bytes; for storage only. */
  serialize(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  get publicKey(): PublicKey {
    this.#publicKey ??= PublicKey.fromU(x25519PublicKey(this.#bytes));
    return this.#publicKey;
  }

  /** X25519 with an all-zero result rejected. */
  agree(theirs: PublicKey): Uint8Array {
    try {
      return x25519(this.#bytes, theirs.u);
    } catch (cause) {
      throw new ProtocolError('INVALID_KEY', 'key agreement failed', { cause });
    }
  }

  /** XEdDSA signature (64 bytes) with 64 bytes of fresh randomness. */
  sign(message: Uint8Array, rng: Rng): Uint8Array {
    return xeddsaSign(this.#bytes, message, rng(64));
  }

  toJSON(): string {
    return 'PrivateKey(<redacted>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

export class KeyPair {
  constructor(
    readonly publicKey: PublicKey,
    readonly privateKey: PrivateKey,
  ) {}

  static generate(rng: Rng): KeyPair {
    const privateKey = PrivateKey.generate(rng);
    return new KeyPair(privateKey.publicKey, privateKey);
  }

  toJSON(): string {
    return `KeyPair(${this.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
