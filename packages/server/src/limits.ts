/**
 * Every server-side limit, each with the reason it exists (CONVENTIONS.md "named limits in one
 * limits.ts"). Wire limits shared with clients live in @sotto/api limits.ts. Rate limits use the
 * generic cell rate algorithm: `burst` events at once, then one per `intervalMs`.
 */
import type { RateLimitPolicy } from './ports/storage.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A verification code is valid for 10 minutes (issue: "valid 10 minutes"). */
export const VERIFICATION_CODE_TTL_MS = 10 * MINUTE;
/** Wrong guesses per code (issue: "5 wrong tries per code"); then a new code must be requested. */
export const MAX_VERIFICATION_ATTEMPTS = 5;
/** A provisioning code lives as long as a verification code: enough to scan a QR code. */
export const PROVISIONING_CODE_TTL_MS = 10 * MINUTE;
/** A registration lock lapses after 7 days without any device of the account connecting. */
export const REGISTRATION_LOCK_LAPSE_MS = 7 * DAY;
/** Wrong registration-lock tokens per account: a burst of 10, then one per day. */
export const REGISTRATION_LOCK_ATTEMPTS: RateLimitPolicy = { burst: 10, intervalMs: DAY };

/** SMS per number: three at once (a typo, a slow network), then one per 10 minutes. */
export const CODE_SENDS_PER_NUMBER: RateLimitPolicy = { burst: 3, intervalMs: 10 * MINUTE };
/** SMS per client IP: bounds SMS-pumping fraud from one address. */
export const CODE_SENDS_PER_IP: RateLimitPolicy = { burst: 20, intervalMs: 3 * MINUTE };
/** Registration attempts per IP: guesses across many numbers from one address. */
export const REGISTRATIONS_PER_IP: RateLimitPolicy = { burst: 30, intervalMs: MINUTE };
/** Provisioning codes per account: linking is rare. */
export const PROVISIONING_CODES_PER_ACCOUNT: RateLimitPolicy = {
  burst: 5,
  intervalMs: 10 * MINUTE,
};
/**
 * Provisioning sockets (a new device waiting to be linked) per IP: a person links a device now
 * and then; this bounds the sockets one address can hold open.
 */
export const PROVISIONING_SOCKETS_PER_IP: RateLimitPolicy = { burst: 10, intervalMs: MINUTE };
/** Provisioning sockets open at once on one node: each costs a socket and a timer. */
export const MAX_PROVISIONING_SOCKETS = 1_000;
/**
 * A provisioning socket closes after this long without its envelope: the user has the time of a
 * provisioning code to scan the QR code (the new device can always open a new one).
 */
export const PROVISIONING_SOCKET_TTL_MS = 10 * MINUTE;
/** Provisioning messages a primary may send: linking is rare (same budget as its codes). */
export const PROVISIONING_MESSAGES_PER_ACCOUNT: RateLimitPolicy = {
  burst: 5,
  intervalMs: 10 * MINUTE,
};
/** Link attempts per IP (codes have 128 bits; this bounds the work, not the guessing). */
export const LINK_ATTEMPTS_PER_IP: RateLimitPolicy = { burst: 10, intervalMs: MINUTE };
/** Prekey bundle fetches per account: sessions with a large group at once, not key draining. */
export const KEY_FETCHES_PER_ACCOUNT: RateLimitPolicy = { burst: 500, intervalMs: 500 };
/** Key uploads per device: refills and rotations, a few per day. */
export const KEY_UPLOADS_PER_DEVICE: RateLimitPolicy = { burst: 20, intervalMs: MINUTE };
/** Number lookups per account: enough for contacts, not for enumerating the number space. */
export const DIRECTORY_LOOKUPS_PER_ACCOUNT: RateLimitPolicy = { burst: 200, intervalMs: 6_000 };
/** Attachment uploads per account. */
export const ATTACHMENT_UPLOADS_PER_ACCOUNT: RateLimitPolicy = { burst: 50, intervalMs: MINUTE };
/** Backup uploads per account, all devices together: a nightly backup and a few retries. */
export const BACKUP_UPLOADS_PER_ACCOUNT: RateLimitPolicy = { burst: 10, intervalMs: 10 * MINUTE };
/**
 * Message sends (SEND frames, one per recipient account) per account, all its devices together:
 * a message to a 1000-member group goes out at once, then 100 sends a second — far above any
 * person's pace, while one account cannot take more than a small share of a relay (the relay
 * benchmark, docs/performance.md, sustains thousands a second). Counted in memory per relay
 * process (rate-limit/memory-rate-limiter.ts), since a durable bucket would cost a write per send.
 */
export const MESSAGE_SENDS_PER_ACCOUNT: RateLimitPolicy = { burst: 1_000, intervalMs: 10 };
/** Failed authentications per IP before the IP is slowed down. */
export const AUTH_FAILURES_PER_IP: RateLimitPolicy = { burst: 20, intervalMs: 3_000 };
/** Every HTTP request per IP per minute (in memory, before any work): a flood guard. */
export const HTTP_REQUESTS_PER_IP_PER_MINUTE = 1200;

/** Undelivered envelopes expire after 30 days by default (ARCHITECTURE.md "data minimisation"). */
export const DEFAULT_MESSAGE_RETENTION_MS = 30 * DAY;
/** Attachments expire after 30 days by default: a recipient offline longer loses them too. */
export const DEFAULT_ATTACHMENT_RETENTION_MS = 30 * DAY;
/** Audit rows are kept one year by default, then pruned (the chain anchor moves forward). */
export const DEFAULT_AUDIT_RETENTION_MS = 365 * DAY;
/**
 * Backups kept per account by default: the newest five, so there are older ones to fall back on
 * if the newest is bad, while the space one account takes stays bounded.
 */
export const DEFAULT_BACKUP_RETENTION_COUNT = 5;
/** Bytes the kept backups of one account may take by default: two archives of the largest size. */
export const DEFAULT_BACKUP_QUOTA_BYTES = 4 * 1024 * 1024 * 1024;
/** How often the sweeper deletes what expired. */
export const SWEEP_INTERVAL_MS = 10 * MINUTE;
/**
 * A blob no row points at is deleted by the sweeper once it was last written this long ago: far
 * longer than the moment between renaming a complete blob into place and recording it.
 */
export const ORPHAN_BLOB_GRACE_MS = 60 * MINUTE;

/** Envelopes per device mailbox; a device offline for a long time stops receiving, not the server. */
export const MAX_MAILBOX_ENVELOPES = 10_000;
/** JSON bodies: 100 Kyber prekeys in base64 fit (~230 KiB). */
export const MAX_KEYS_BODY_BYTES = 512 * 1024;
/** Every other JSON body. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Sends gathered into one transaction at most; more wait for the next batch. */
export const GROUP_COMMIT_MAX_BATCH = 2_000;
/** Envelopes read from storage per page while draining a mailbox. */
export const DRAIN_PAGE_SIZE = 200;
/** Envelopes pushed but not yet acknowledged per connection; beyond it pushes wait for acks. */
export const MAX_UNACKED_PER_CONNECTION = 1_000;
/** Sends awaiting their commit per connection; beyond it the socket stops reading. */
export const MAX_PENDING_SENDS_PER_CONNECTION = 256;
/** Last-seen is written at most this often per device (it gates the registration lock). */
export const LAST_SEEN_UPDATE_INTERVAL_MS = HOUR;
/** WebSocket keep-alive: a connection that misses a ping round-trip is closed. */
export const WS_HEARTBEAT_INTERVAL_MS = 30_000;
/** On shutdown, connections and pending commits get this long before the process exits. */
export const SHUTDOWN_GRACE_MS = 10_000;
