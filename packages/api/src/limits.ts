/**
 * Every limit of the client⇄server contract, each with the reason it exists. Client and server
 * import the same constants, so a well-behaved client never sends what the server refuses.
 * Server-only limits (retention, rate limits, code lifetimes) live in packages/server/src/limits.ts.
 * Key sizes follow shared/specs/signal-wire.md §2 (key and signature encodings).
 */

/** The only WebSocket frame version this contract defines (frames.ts). */
export const FRAME_VERSION = 1;

/** Devices per account, primary included (Signal's limit: one primary and five linked). */
export const MAX_DEVICES_PER_ACCOUNT = 6;
/** Device ids are 1..127; the primary is 1. Lowest free id is reused (a new registration id marks it). */
export const PRIMARY_DEVICE_ID = 1;
export const MAX_DEVICE_ID = 127;
/** Registration ids are 14-bit, as libsignal generates them (1..16380) and Signal-Server checks. */
export const MAX_REGISTRATION_ID = 0x3fff;

/** One envelope's ciphertext; an attachment pointer plus padding fits with room to spare. */
export const MAX_ENVELOPE_CONTENT_BYTES = 256 * 1024;
/** One binary WebSocket frame: a send to every device of an account at the largest envelope size. */
export const MAX_FRAME_BYTES =
  MAX_DEVICES_PER_ACCOUNT * (MAX_ENVELOPE_CONTENT_BYTES + 16) + 64 * 1024;
/** GUIDs acknowledged by one ACK frame; bounds the work one frame can force. */
export const MAX_ACKS_PER_FRAME = 1024;
/** The client's idempotency key per send: random, so duplicates are detected without coordination. */
export const CLIENT_MESSAGE_ID_BYTES = 16;
/** Envelope ids assigned by the server. */
export const ENVELOPE_GUID_BYTES = 16;

/** Key encodings (signal-wire.md §2): `0x05 ‖ 32` EC keys, `0x08 ‖ 1568` Kyber1024 keys. */
export const EC_KEY_TYPE = 0x05;
export const EC_PUBLIC_KEY_BYTES = 33;
export const KEM_KEY_TYPE = 0x08;
export const KYBER_PUBLIC_KEY_BYTES = 1569;
/** XEdDSA signatures over signed and Kyber prekeys. */
export const SIGNATURE_BYTES = 64;
/** Prekey ids are u32 in libsignal. */
export const MAX_PREKEY_ID = 0xffff_ffff;
/** One-time prekeys of each kind per upload: a refill, not a dump (a Kyber key is 1569 bytes). */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** One-time prekeys of each kind the server keeps per device; uploads beyond it are refused. */
export const MAX_ONE_TIME_PREKEYS_STORED = 500;

/** Verification codes are six decimal digits, sent by SMS. */
export const VERIFICATION_CODE_DIGITS = 6;
/** Device credentials: 256 random bits, issued by the server, stored only as SHA-256. */
export const CREDENTIAL_BYTES = 32;
/** Registration-lock tokens are 32 bytes derived on the device; the PIN never leaves it. */
export const REGISTRATION_LOCK_TOKEN_BYTES = 32;
/** Provisioning codes (linking a device): 128 random bits, single use. */
export const PROVISIONING_CODE_BYTES = 16;
/**
 * Provisioning addresses (the new device's provisioning socket, shown in its link URI): 128
 * random bits, so one cannot be guessed; single use.
 */
export const PROVISIONING_ADDRESS_BYTES = 16;
/**
 * One ProvisionEnvelope (device linking): the sealed identity key pair, account id, number and
 * provisioning code take about 250 bytes; the limit leaves room for later fields (Signal's
 * relay allows 256 KiB, far more than any provisioning message needs).
 */
export const MAX_PROVISION_ENVELOPE_BYTES = 4096;
/** Attachment ids: 128 random bits, so an id cannot be guessed. */
export const ATTACHMENT_ID_BYTES = 16;
/** Device names are encrypted by the client; the server stores opaque bytes up to this size. */
export const MAX_DEVICE_NAME_BYTES = 256;
/** One attachment (already encrypted and padded by the client). */
export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/**
 * One backup archive stored on the relay (docs/backups.md "Storage"): client-encrypted, streamed
 * in and out, never held in memory; a 1 GiB archive fits with room to grow. A relay may configure
 * a smaller limit, and its per-account quota bounds the total.
 */
export const MAX_BACKUP_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * Backup object names: the rule of @sotto/backup's storage port, 1..200 characters of
 * `A-Z a-z 0-9 . _ -`, not starting with `.`, `_` or `-` (no paths, no hidden files).
 */
export const MAX_BACKUP_NAME_LENGTH = 200;
export const BACKUP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/** Backups a relay may keep per account (its retention count is configured at or below this). */
export const MAX_BACKUPS_PER_ACCOUNT = 100;
/** Phone numbers in E.164 form are at most 15 digits after the '+'. */
export const MAX_PHONE_NUMBER_LENGTH = 16;
