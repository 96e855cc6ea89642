/**
 * Symmetric-key ratchet chain keys (shared/specs/signal-wire.md §3.2; libsignal
 * `ratchet/keys.rs` `ChainKey`): `next = HMAC-SHA256(ck, 0x02)`, `seed = HMAC-SHA256(ck, 0x01)`;
 * the index rises by one per message and equals the SignalMessage `counter` of the key it makes.
 * Chain keys are immutable values: stepping returns a new one.
 */
import { hmacSha256 } from '@sotto/crypto';

const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class ChainKey {
  constructor(
    /** 32 bytes; never modified. */
    readonly key: Uint8Array,
    readonly index: number,
  ) {}

  /** The chain key for the next message. */
  next(): ChainKey {
    return new ChainKey(hmacSha256(this.key, CHAIN_KEY_SEED), this.index + 1);
  }

  /** The message-key seed for message `index` (the IKM of §3.2 "Message keys"). */
  messageSeed(): Uint8Array {
    return hmacSha256(this.key, MESSAGE_KEY_SEED);
  }

  toJSON(): string {
    return `ChainKey(index ${this.index})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
