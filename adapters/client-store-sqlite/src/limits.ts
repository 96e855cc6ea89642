/**
 * Every limit and parameter of the SQLite client store in one place (CONVENTIONS.md, "The protocol
 * core"), each with the reason for its value. The key hierarchy these feed is described in
 * store-key.ts; docs/cli.md ("Data at rest") explains the choices to users.
 */

/** Bumped when the on-disk layout changes incompatibly; a newer file is refused, not guessed at. */
export const STORE_FORMAT_VERSION = 1;

/** The random store key sealing every value: AES-256. */
export const STORE_KEY_LENGTH = 32;

/** A random store id binds wrapped keys and keychain entries to one store file. */
export const STORE_ID_LENGTH = 16;

/** AES-256-GCM nonce length. Nonces are random: the 2^32-messages-per-key bound is far away. */
export const GCM_NONCE_LENGTH = 12;

/** AES-256-GCM tag length. */
export const GCM_TAG_LENGTH = 16;

/**
 * Argon2id parameters for wrapping the store key with a passphrase. OWASP's minimum is m=19 MiB,
 * t=2, p=1; these follow RFC 9106 §4's second recommendation (m=64 MiB, t=3) with p=1, about
 * 0.1–0.3 s on a laptop core: slow enough to make offline guessing of a copied disk expensive,
 * fast enough to unlock on every CLI start.
 */
export const ARGON2_MEMORY_KIB = 65_536;
export const ARGON2_TIME_COST = 3;
export const ARGON2_PARALLELISM = 1;
export const ARGON2_SALT_LENGTH = 16;

/**
 * A store header may carry other parameters (a future default). Below OWASP's floor is refused as
 * tampering; above these ceilings too (a crafted header must not make opening take hours or all
 * memory).
 */
export const ARGON2_MIN_MEMORY_KIB = 19_456;
export const ARGON2_MIN_TIME_COST = 2;
export const ARGON2_MAX_MEMORY_KIB = 4_194_304; // 4 GiB
export const ARGON2_MAX_TIME_COST = 64;
export const ARGON2_MAX_PARALLELISM = 16;

/**
 * The shortest passphrase accepted when a store is created or its passphrase changed, in Unicode
 * code points. Ten characters rule out a PIN as the only key: a 4–8 digit PIN falls to offline
 * guessing of a copied disk in hours even through Argon2id (docs/cli.md, "Why not a PIN").
 */
export const MIN_PASSPHRASE_LENGTH = 10;

/** Values are padded to a multiple of this many bytes so row sizes reveal less. */
export const VALUE_PAD_BLOCK = 64;

/** How long to wait for another connection's lock before reporting the store as in use. */
export const LOCK_WAIT_MS = 250;

/** Namespaces and keys are length-prefixed with 32 bits; this bounds them well inside that. */
export const MAX_NAME_BYTES = 65_536;

/**
 * How long one call of the OS keychain's tool (`secret-tool`) may take. Generous: the keychain may
 * show an unlock prompt that a person answers; without a prompter it fails at once.
 */
export const KEYCHAIN_TIMEOUT_MS = 30_000;

/**
 * The most output read from the keychain's tool. A store's keychain secret is 32 bytes (44 in
 * base64); anything near this bound is not an entry Sotto wrote.
 */
export const KEYCHAIN_MAX_OUTPUT_BYTES = 64 * 1024;

/** Service and account names passed to the keychain: short, printable, never option-like. */
export const KEYCHAIN_MAX_NAME_LENGTH = 256;
