/**
 * KEM keys as libsignal serialises them (shared/specs/signal-wire.md §1.1, §2.1, §3.3): Kyber1024
 * round 3 with key type `0x08`. Public key `0x08 ‖ 1568`, secret key `0x08 ‖ 3168`, ciphertext
 * `0x08 ‖ 1568`. Every other type byte is refused ("bad KEM key type"): the npm build of
 * libsignal 0.103 accepts neither ML-KEM-1024 (`0x0A`) nor Kyber768 (`0x07`), and neither do we.
 */
import {
  KYBER1024_CIPHERTEXT_LENGTH,
  KYBER1024_PUBLIC_KEY_LENGTH,
  KYBER1024_SECRET_KEY_LENGTH,
  bytesEqual,
  kyber1024Decapsulate,
  kyber1024Encapsulate,
  kyber1024GenerateKeyPair,
  toHex,
} from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';

/** The only KEM key type libsignal 0.103 (npm) accepts: Kyber1024 round 3. */
export const KYBER1024_KEY_TYPE = 0x08;
export const KEM_PUBLIC_KEY_LENGTH = 1 + KYBER1024_PUBLIC_KEY_LENGTH;
export const KEM_SECRET_KEY_LENGTH = 1 + KYBER1024_SECRET_KEY_LENGTH;
export const KEM_CIPHERTEXT_LENGTH = 1 + KYBER1024_CIPHERTEXT_LENGTH;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function checkTyped(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ProtocolError('INVALID_KEY', `${what} is empty`);
  }
  if (bytes[0] !== KYBER1024_KEY_TYPE) {
    throw new ProtocolError('INVALID_KEY', `bad KEM key type in ${what}`);
  }
  if (bytes.length !== length) {
    throw new ProtocolError('INVALID_KEY', `${what} must be ${length} bytes`);
  }
}

export class KemPublicKey {
  private constructor(private readonly bytes: Uint8Array) {}

  /** Parses `0x08 ‖ 1568`; any other type or length is `INVALID_KEY`. */
  static deserialize(bytes: Uint8Array): KemPublicKey {
    checkTyped(bytes, KEM_PUBLIC_KEY_LENGTH, 'KEM public key');
    return new KemPublicKey(Uint8Array.from(bytes));
  }

  /** The 1569 serialised bytes (a shared view: do not modify). */
  serialize(): Uint8Array {
    return this.bytes;
  }

  /** The raw 1568-byte key (a view). */
  get raw(): Uint8Array {
    return this.bytes.subarray(1);
  }

  equals(other: KemPublicKey): boolean {
    return bytesEqual(this.bytes, other.bytes);
  }

  /**
   * Encapsulates: returns `0x08 ‖ ciphertext` and the 32-byte shared secret. Randomness comes
   * from `rng` (32 bytes).
   */
  encapsulate(rng: Rng): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
    const { ciphertext, sharedSecret } = kyber1024Encapsulate(this.raw, rng(32));
    const typed = new Uint8Array(KEM_CIPHERTEXT_LENGTH);
    typed[0] = KYBER1024_KEY_TYPE;
    typed.set(ciphertext, 1);
    return { ciphertext: typed, sharedSecret };
  }

  toJSON(): string {
    return `KemPublicKey(${toHex(this.bytes.subarray(0, 9))}…)`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

export class KemSecretKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Parses `0x08 ‖ 3168`. */
  static deserialize(bytes: Uint8Array): KemSecretKey {
    checkTyped(bytes, KEM_SECRET_KEY_LENGTH, 'KEM secret key');
    return new KemSecretKey(Uint8Array.from(bytes));
  }

  /** The 3169 serialised bytes (a copy); for storage only. */
  serialize(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  /**
   * Decapsulates `0x08 ‖ 1568`. A ciphertext of another type or length is `INVALID_MESSAGE`
   * (it must have the same type as the key, §2.1).
   */
  decapsulate(ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length === 0 || ciphertext[0] !== KYBER1024_KEY_TYPE) {
      throw new ProtocolError('INVALID_MESSAGE', 'KEM ciphertext type does not match the key');
    }
    if (ciphertext.length !== KEM_CIPHERTEXT_LENGTH) {
      throw new ProtocolError(
        'INVALID_MESSAGE',
        `KEM ciphertext must be ${KEM_CIPHERTEXT_LENGTH} bytes`,
      );
    }
    return kyber1024Decapsulate(ciphertext.subarray(1), this.#bytes.subarray(1));
  }

  toJSON(): string {
    return 'KemSecretKey(<redacted>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

export class KemKeyPair {
  constructor(
    readonly publicKey: KemPublicKey,
    readonly secretKey: KemSecretKey,
  ) {}

  /** A fresh Kyber1024 key pair from 64 bytes of `rng`. */
  static generate(rng: Rng): KemKeyPair {
    const { publicKey, secretKey } = kyber1024GenerateKeyPair(rng);
    const pub = new Uint8Array(KEM_PUBLIC_KEY_LENGTH);
    pub[0] = KYBER1024_KEY_TYPE;
    pub.set(publicKey, 1);
    const sec = new Uint8Array(KEM_SECRET_KEY_LENGTH);
    sec[0] = KYBER1024_KEY_TYPE;
    sec.set(secretKey, 1);
    secretKey.fill(0);
    const pair = new KemKeyPair(KemPublicKey.deserialize(pub), KemSecretKey.deserialize(sec));
    sec.fill(0);
    return pair;
  }

  toJSON(): string {
    return `KemKeyPair(${this.publicKey.toJSON()})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
