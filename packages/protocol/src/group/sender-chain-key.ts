/**
 * The sender-key chain (shared/specs/signal-wire.md §5, libsignal `sender_keys.rs`
 * `SenderChainKey` / `SenderMessageKey`):
 *   next chain key   = HMAC-SHA256(chainKey, 0x02)
 *   message key seed = HMAC-SHA256(chainKey, 0x01)
 *   HKDF-SHA256(salt = none, ikm = seed, info = "WhisperGroup", 48) = iv(16) ‖ cipherKey(32)
 * Note the IV comes first (§9). Pure functions; the caller owns the iteration counter. Skipped
 * keys are stored as seeds (as libsignal does) and expanded only when used.
 */
import { hkdfSha256, hmacSha256, utf8 } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';

const MESSAGE_KEY_SEED = new Uint8Array([0x01]);
const CHAIN_KEY_SEED = new Uint8Array([0x02]);
const WHISPER_GROUP = utf8('WhisperGroup');
const NO_SALT = new Uint8Array(0);

/** Length of a sender chain key and of a message key seed. */
export const SENDER_CHAIN_KEY_LENGTH = 32;
/** The largest iteration a chain can reach (`u32::MAX`); libsignal cannot step past it. */
export const MAX_SENDER_KEY_ITERATION = 0xffff_ffff;

/** The chain key that follows `chainKey`. */
export function nextSenderChainKey(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, CHAIN_KEY_SEED);
}

/** The message key seed of the iteration `chainKey` belongs to. */
export function senderMessageKeySeed(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, MESSAGE_KEY_SEED);
}

/** AES-256-CBC key material expanded from a message key seed. */
export interface SenderMessageKey {
  readonly iv: Uint8Array;
  readonly cipherKey: Uint8Array;
}

/** Expands a seed into `iv ‖ cipherKey` (HKDF "WhisperGroup", IV first). */
export function expandSenderMessageKey(seed: Uint8Array): SenderMessageKey {
  const derived = hkdfSha256(seed, NO_SALT, WHISPER_GROUP, 48);
  return { iv: derived.subarray(0, 16), cipherKey: derived.subarray(16, 48) };
}

/** Throws if a chain at `iteration` cannot step forward (libsignal: "Sender chain is too long"). */
export function assertCanAdvance(iteration: number): void {
  if (iteration >= MAX_SENDER_KEY_ITERATION) {
    throw new ProtocolError('INVALID_STATE', 'sender chain is too long');
  }
}
