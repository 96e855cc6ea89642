/**
 * Every time limit and size of the `sotto` command in one place (CONVENTIONS.md: one `limits.ts`
 * per package), each with the reason for its value. Protocol and store limits live in their own
 * packages; these only shape how long a command waits and how much it shows.
 */

/** A command gives up on the relay's WebSocket after this long (a user is waiting at a prompt). */
export const CONNECT_TIMEOUT_MS = 15_000;

/** `send` waits this long for the relay to accept the message (the SDK's own send timeout is 30 s). */
export const ACCEPT_TIMEOUT_MS = 30_000;

/**
 * Before exiting, a command waits this long for the rest of the outbox (receipts, copies for the
 * account's other devices). Whatever is left stays in the store and goes out next time.
 */
export const FLUSH_TIMEOUT_MS = 5000;

/** `chat` shows what waited in the mailbox before it reads input, but never blocks longer. */
export const MAILBOX_WAIT_MS = 5000;

/**
 * After the relay's queue-empty, this long without an incoming event counts as "the mailbox was
 * processed" (the SDK announces queue-empty before it finished decrypting what came before).
 */
export const MAILBOX_QUIET_MS = 300;

/** `status` asks the relay for the device list and reports it unreachable after this long. */
export const REACHABILITY_TIMEOUT_MS = 5000;

/** Messages of history `chat` shows when it opens: a screenful. */
export const CHAT_HISTORY_MESSAGES = 20;

/** Characters of a sent message quoted on its receipt lines. */
export const RECEIPT_QUOTE_LENGTH = 24;
