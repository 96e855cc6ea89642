/**
 * Every limit of the protocol core, each with the reason it exists. Values follow libsignal 0.103
 * (`rust/protocol/src/consts.rs`, spqr `chain.rs`) so both sides accept and reject the same
 * messages (shared/specs/signal-wire.md §3.2, §3.4, §5).
 */

/** A counter further ahead than this is refused: bounds the work an attacker can force per message. */
export const MAX_FORWARD_JUMPS = 25_000;
/** Skipped message keys kept per receiver chain; the oldest is dropped first. Bounds state size. */
export const MAX_MESSAGE_KEYS = 2_000;
/** Receiver chains kept per session; the oldest is dropped together with its skipped keys. */
export const MAX_RECEIVER_CHAINS = 5;
/** Previous sessions kept per address so late messages from a replaced session still decrypt. */
export const ARCHIVED_STATES_MAX_LENGTH = 40;
/** A session whose first message was never answered is not used to encrypt after this long (ms). */
export const MAX_UNACKNOWLEDGED_SESSION_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** SPQR chain: how far ahead of its counter a received key index may be. */
export const SPQR_MAX_JUMP = 25_000;
/** SPQR chain: skipped keys kept; older indices are "trimmed". */
export const SPQR_MAX_OOO_KEYS = 2_000;
/** Sender keys: forward jumps allowed within one chain. */
export const SENDER_KEY_MAX_FORWARD_JUMPS = 25_000;
/** Sender keys: skipped message keys stored per state. */
export const SENDER_KEY_MAX_MESSAGE_KEYS = 2_000;
/** Sender keys: states kept per distribution id (chain ids seen). */
export const SENDER_KEY_MAX_STATES = 5;
/** Safety numbers: the iteration count clients use (signal-wire.md §7). */
export const FINGERPRINT_ITERATIONS = 5_200;
