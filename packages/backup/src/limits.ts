/**
 * Every limit of @sotto/backup, each with the reason it exists (CONVENTIONS.md "The protocol
 * core"). The archive format's fixed numbers (magic, version, field sizes) live in
 * `format/header.ts`; these are the bounds a reader or the vault enforces.
 */

// ---- archive format (docs/backup-format.md) ----

/** Plaintext bytes per chunk written by default: large chunks amortise the AEAD call (bench). */
export const DEFAULT_CHUNK_SIZE = 1 << 20;
/** Smallest chunk a writer may choose or a reader accepts: keeps the 20-byte overhead below 2%. */
export const MIN_CHUNK_SIZE = 1 << 10;
/** Largest chunk a reader accepts: a restore holds about two chunks, so this bounds its memory. */
export const MAX_CHUNK_SIZE = 1 << 24;
/** Largest record (one delimited frame): bounds the reader's reassembly buffer. */
export const MAX_RECORD_LENGTH = 8 << 20;
/** Largest header a reader accepts (it is read whole before it is authenticated). */
export const MAX_HEADER_LENGTH = 4096;
/** Key slots per header. */
export const MAX_KEY_SLOTS = 8;
/** Bytes per key slot (a recovery-key slot is 60). */
export const MAX_KEY_SLOT_LENGTH = 512;
/** Padded bodies are at least this long, so near-empty accounts all look alike. */
export const MIN_PADDED_BODY_LENGTH = 4096;
/** The record encoder hands bytes on in batches of about this size (compression input). */
export const RECORD_BATCH_SIZE = 256 << 10;
/** Longest string field a writer accepts in `BackupInfo.app` (an app name and version). */
export const MAX_APP_NAME_LENGTH = 64;

// ---- key vault (docs/backups.md "The key vault") ----

/** Wrong guesses after which a vault record is destroyed (the "10 guesses"). */
export const VAULT_MAX_ATTEMPTS = 10;
/** Unrefunded attempts allowed without delay; from then on each attempt waits (backoff). */
export const VAULT_FREE_ATTEMPTS = 3;
/** Delay after the first attempt beyond the free ones; it doubles with each further failure. */
export const VAULT_BACKOFF_BASE_MS = 1000;
/** Upper bound of the backoff delay. */
export const VAULT_BACKOFF_MAX_MS = 15 * 60 * 1000;
/** How long a login may take between start and finish (the client runs Argon2id in between). */
export const VAULT_LOGIN_STATE_TTL_MS = 5 * 60 * 1000;
/** Compare-and-set retries before giving up with VAULT_CONFLICT (each retry re-reads). */
export const VAULT_MAX_CAS_RETRIES = 1000;
/** Account ids are service ids or E.164 numbers; anything longer is malformed. */
export const VAULT_MAX_ACCOUNT_ID_LENGTH = 128;
/** Largest wrapped secret the vault stores (a 32-byte key wraps to 61 bytes). */
export const VAULT_MAX_WRAPPED_SECRET_LENGTH = 256;
/** Largest OPAQUE message (base64url text) the vault parses; real ones are under 400 chars. */
export const VAULT_MAX_OPAQUE_MESSAGE_LENGTH = 4096;
/** Largest opaque client-parameter string stored with a record (key-stretching settings). */
export const VAULT_MAX_CLIENT_PARAMS_LENGTH = 256;
/** Largest secret the vault client wraps (backup keys and master keys are 32 bytes). */
export const VAULT_MAX_SECRET_LENGTH = 64;

// ---- recovery key (docs/backups.md "Recovery key") ----

/** Characters of a recovery key, from `0-9a-z`. */
export const RECOVERY_KEY_LENGTH = 64;
/** Of which this many are a checksum: 62 random characters carry 320.5 bits. */
export const RECOVERY_KEY_CHECKSUM_LENGTH = 2;
/** Characters per group when the key is displayed. */
export const RECOVERY_KEY_GROUP_SIZE = 4;

// ---- storage (docs/backups.md "Storage") ----

/** Longest backup object name. */
export const MAX_OBJECT_NAME_LENGTH = 200;
/** Bytes read from a file per pull by the local-directory adapter. */
export const STORAGE_READ_SIZE = 1 << 20;
