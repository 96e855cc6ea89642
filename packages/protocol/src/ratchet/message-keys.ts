/**
 * Per-message keys (shared/specs/signal-wire.md §3.2 "Message keys"):
 * `HKDF(salt = SPQR message key, ikm = seed, info = "WhisperMessageKeys", 80)` split into
 * `cipherKey(32) ‖ macKey(32) ‖ iv(16)`. The salt is "none" (32 zero bytes) only when SPQR
 * returned no key. Without the SPQR salt the MAC fails, so the salt is never optional in practice.
 */
import { hkdfSha256, utf8 } from '@sotto/crypto';

const INFO = utf8('WhisperMessageKeys');
const NO_SALT = new Uint8Array(0);
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class MessageKeys {
  constructor(
    readonly cipherKey: Uint8Array,
    readonly macKey: Uint8Array,
    readonly iv: Uint8Array,
  ) {}

  /** Derives the keys of one message from its chain seed and SPQR key. */
  static derive(seed: Uint8Array, spqrKey: Uint8Array | null): MessageKeys {
    const okm = hkdfSha256(seed, spqrKey ?? NO_SALT, INFO, 80);
    return new MessageKeys(okm.subarray(0, 32), okm.subarray(32, 64), okm.subarray(64, 80));
  }

  toJSON(): string {
    return 'MessageKeys(<redacted>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
