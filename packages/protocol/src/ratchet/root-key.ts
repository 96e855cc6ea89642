/**
 * The root key and the DH ratchet step (shared/specs/signal-wire.md §3.2 "Root step"):
 * `KDF_RK(rk, dh) = HKDF(salt = rk, ikm = dh, info = "WhisperRatchet", 64)` = `rk' ‖ ck`, where
 * `dh = X25519(ourRatchetPrivate, theirRatchetPublic)` (an all-zero result is an error).
 */
import { hkdfSha256, utf8 } from '@sotto/crypto';
import type { PrivateKey, PublicKey } from '../keys/curve.js';
import { ChainKey } from './chain-key.js';

const INFO = utf8('WhisperRatchet');
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class RootKey {
  constructor(
    /** 32 bytes; never modified. */
    readonly key: Uint8Array,
  ) {}

  /** One root step: returns the next root key and a fresh chain key (index 0). */
  createChain(theirRatchetKey: PublicKey, ourRatchetKey: PrivateKey): [RootKey, ChainKey] {
    const dh = ourRatchetKey.agree(theirRatchetKey);
    const [root, chain] = RootKey.kdf(this.key, dh);
    dh.fill(0);
    return [root, chain];
  }

  /** `KDF_RK` on raw bytes (exposed for known-answer tests). */
  static kdf(rootKey: Uint8Array, dh: Uint8Array): [RootKey, ChainKey] {
    const okm = hkdfSha256(dh, rootKey, INFO, 64);
    return [new RootKey(okm.subarray(0, 32)), new ChainKey(okm.subarray(32, 64), 0)];
  }

  toJSON(): string {
    return 'RootKey(<redacted>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
