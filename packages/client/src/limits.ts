/**
 * Every limit and schedule of the client SDK, each with the reason for its value (CONVENTIONS.md
 * "The protocol core": one `limits.ts` per package). Contract limits shared with the server
 * (envelope size, prekeys per upload, …) come from `@sotto/api` and are not repeated here.
 */

/** Signal pads message content to a multiple of 160 bytes (0x80, then zeros) to hide lengths. */
export const PADDING_BLOCK_BYTES = 160;

/** Longest text body accepted by `send` (UTF-8 bytes): far below the 256 KiB envelope limit. */
export const MAX_TEXT_BYTES = 64 * 1024;

/** One-time prekeys of each kind uploaded per refill (the contract allows 100 per upload). */
export const PREKEY_BATCH_SIZE = 100;

/** Refill one-time prekeys when the server holds fewer than this many of either kind. */
export const PREKEY_LOW_WATER_MARK = 25;

/** Signal-Android rotates the signed prekey every 2 days; the last-resort Kyber key with it. */
export const SIGNED_PREKEY_ROTATION_MS = 2 * 24 * 60 * 60 * 1000;

/**
 * Replaced signed and last-resort prekeys are kept this long, so PreKey messages made from an old
 * bundle (sitting in the mailbox for up to the server's 30-day retention) still decrypt.
 */
export const OLD_SIGNED_PREKEY_RETENTION_MS = 31 * 24 * 60 * 60 * 1000;

/** How often key counts and rotation are checked while connected. */
export const KEY_MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Envelope GUIDs already processed are remembered this long: longer than the server keeps an
 * unacknowledged envelope (30 days), so a redelivery is always recognised.
 */
export const PROCESSED_GUID_RETENTION_MS = 31 * 24 * 60 * 60 * 1000;

/** Reconnect backoff: first delay, ceiling, and the random spread added to each delay. */
export const RECONNECT_INITIAL_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 30_000;
export const RECONNECT_JITTER = 0.2;

/** A PING is sent when the socket was silent this long; no PONG within the timeout reconnects. */
export const KEEPALIVE_INTERVAL_MS = 30_000;
export const KEEPALIVE_TIMEOUT_MS = 15_000;

/** A SEND without its SEND_RESULT after this long is treated as lost (retried, same id). */
export const SEND_TIMEOUT_MS = 30_000;

/** Sends to one recipient in flight at once (the server keeps their order within a connection). */
export const OUTBOX_WINDOW = 32;

/** Retry delays for a send that failed for a transient reason (keys not uploaded yet, 429, 5xx). */
export const OUTBOX_RETRY_INITIAL_MS = 500;
export const OUTBOX_RETRY_MAX_MS = 60_000;

/** Device-list refreshes of the own account are at most this frequent (GET /v1/devices). */
export const OWN_DEVICES_REFRESH_MS = 60_000;

/** Acknowledgements are gathered for at most one event-loop turn, and at most this many per frame. */
export const ACK_BATCH_MAX = 1024;

/**
 * A new device waits this long for the primary to approve its link URI by default: the relay's
 * provisioning socket and provisioning code live as long (10 minutes).
 */
export const LINK_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * After sending the provisioning message, the primary waits this long (by default) for the new
 * device to redeem the code and appear in the device list, polling at the interval below.
 */
export const LINK_APPROVAL_TIMEOUT_MS = 2 * 60 * 1000;
export const LINK_POLL_INTERVAL_MS = 500;

/**
 * A vault credential fetched from the relay is reused for this long (the vault accepts one for an
 * hour, packages/vault limits.ts); then the next vault request fetches a fresh one.
 */
export const VAULT_CREDENTIAL_REUSE_MS = 10 * 60 * 1000;

/** Registration-lock PINs: at least 4 characters (Signal's minimum), at most 64. */
export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 64;

/** The registration-lock master key (Signal's "master key"): 256 random bits. */
export const MASTER_KEY_BYTES = 32;

/** Client message ids and message ids are 128 random bits. */
export const MESSAGE_ID_BYTES = 16;

/** Backups kept in a storage after a successful backup, unless the user chose another number. */
export const DEFAULT_BACKUP_KEEP = 3;

/** At most this many backups are kept (retention is about recovery, not an archive of history). */
export const MAX_BACKUP_KEEP = 100;

/** The "daily" schedule of automatic backups. */
export const DAILY_BACKUP_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** Shortest schedule interval accepted (backups are whole-history snapshots). */
export const MIN_BACKUP_INTERVAL_MS = 60 * 1000;

/** A scheduled backup that failed (storage unreachable, …) is tried again after this long. */
export const BACKUP_RETRY_MS = 15 * 60 * 1000;

/**
 * `backups.createIfDue` (a run from cron or a systemd timer) counts a backup as due this much
 * early (at most a tenth of the interval): a timer that fires at the same time each day finds the
 * last backup a few seconds short of a day old, and would otherwise make one every other day.
 */
export const BACKUP_DUE_EARLY_MS = 15 * 60 * 1000;

/** Records per batch handed to the archive writer (one await per batch, not per record). */
export const BACKUP_RECORD_BATCH = 256;

/** Store writes per transaction when a restore commits its records. */
export const RESTORE_WRITES_PER_TRANSACTION = 2000;
