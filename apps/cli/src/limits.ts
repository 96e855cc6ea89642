/**
 * Every time limit and size of the `sotto` command in one place (CONVENTIONS.md: one `limits.ts`
 * per package), each with the reason for its value. Protocol and store limits live in their own
 * packages; these only shape how long a command waits and how much it shows.
 */

/** A command gives up on the relay's WebSocket after this long (a user is waiting at a prompt). */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Failed attempts to open the relay's WebSocket before a command says the server is unreachable:
 * a second try rides out a relay that was just restarting, without keeping a user waiting.
 */
export const CONNECT_ATTEMPTS = 2;

/**
 * `sotto link` waits this long for the primary to approve the link (the relay keeps the link open
 * as long); `sotto devices add` waits this long for the new device to join after approving it.
 */
export const LINK_WAIT_MS = 10 * 60_000;
export const LINK_APPROVAL_WAIT_MS = 2 * 60_000;

/** `send` waits this long for the relay to accept the message (the SDK's own send timeout is 30 s). */
export const ACCEPT_TIMEOUT_MS = 30_000;

/**
 * Before exiting, a command waits this long for the rest of the outbox (receipts, copies for the
 * account's other devices). Whatever is left stays in the store and goes out next time.
 */
export const FLUSH_TIMEOUT_MS = 5000;

/** `chat` shows what waited in the mailbox before it reads input, but never blocks longer. */
export const MAILBOX_WAIT_MS = 5000;

/** `status` asks the relay for the device list and reports it unreachable after this long. */
export const REACHABILITY_TIMEOUT_MS = 5000;

/** Messages of history `chat` shows when it opens: a screenful. */
export const CHAT_HISTORY_MESSAGES = 20;

/** Characters of a sent message quoted on its receipt lines. */
export const RECEIPT_QUOTE_LENGTH = 24;

/** Characters of a progress bar (backup create/restore). */
export const PROGRESS_BAR_WIDTH = 24;

/** A progress line is redrawn at most this often on a terminal. */
export const PROGRESS_REDRAW_MS = 100;
