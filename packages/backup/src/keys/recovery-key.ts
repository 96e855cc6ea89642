/**
 * The recovery key (docs/backups.md "Recovery key"): 64 characters from `0-9a-z`, shown once and
 * typed back to confirm. 62 characters are uniformly random (drawn by rejection sampling, so
 * there is no modulo bias): 62·log2(36) = 320.5 bits. The last 2 are a checksum that catches a
 * typo before any decryption is tried (a random error passes it with probability 1/1296).
 *
 * The key wraps the backup key in a "recovery-key slot" of the archive header
 * (docs/backup-format.md §2.2) under `HKDF-SHA256(utf8(key), "", "sotto-backup-v1/recovery-key-wrap")`.
 * No password hashing is needed: with 320 bits of entropy, guessing is hopeless at any hash speed.
 *
 * Parsing is tolerant: spaces, dashes and line breaks are ignored and case is folded. The key
 * never prints: `toJSON` and `inspect` show a placeholder; `reveal()` is the one way to read it.
 */
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  concatBytes,
  constantTimeEqual,
  hkdfSha256,
  randomBytes,
  sha256,
  utf8,
} from '@sotto/crypto';
import { BackupError } from '../errors.js';
import {
  RECOVERY_KEY_CHECKSUM_LENGTH,
  RECOVERY_KEY_GROUP_SIZE,
  RECOVERY_KEY_LENGTH,
} from '../limits.js';
import { BACKUP_KEY_LENGTH, BackupKey, backupKeyMaterial } from './backup-key.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = RECOVERY_KEY_LENGTH - RECOVERY_KEY_CHECKSUM_LENGTH;
/** Largest multiple of 36 that fits a byte: bytes at or above it are rejected. */
const REJECTION_BOUND = 252;
const CHECKSUM_DOMAIN = utf8('sotto-recovery-key-v1/checksum:');
const WRAP_INFO = utf8('sotto-backup-v1/recovery-key-wrap');
const SLOT_AAD = utf8('sotto-backup-v1/recovery-key-slot');
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** The key-slot type of a recovery-key slot in the archive header. */
export const RECOVERY_KEY_SLOT_TYPE = 1;
/** Bytes of a recovery-key slot: nonce(12) ‖ AES-256-GCM(backup key)(32) ‖ tag(16). */
export const RECOVERY_KEY_SLOT_LENGTH = NONCE_LENGTH + BACKUP_KEY_LENGTH + TAG_LENGTH;

/** A key slot of the archive header: the backup key wrapped under some user secret. */
export interface KeySlot {
  /** 1 = recovery key; other values are reserved and skipped by readers. */
  readonly type: number;
  readonly data: Uint8Array;
}

function checksum(randomPart: string): string {
  const digest = sha256(concatBytes(CHECKSUM_DOMAIN, utf8(randomPart)));
  // A 32-bit value mod 1296: the bias (< 2^-21) is irrelevant for typo detection.
  const value = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  const n = value % (36 * 36);
  return ALPHABET[Math.floor(n / 36)]! + ALPHABET[n % 36]!;
}

let textOf: (key: RecoveryKey) => string;

export class RecoveryKey {
  /** The canonical 64 lower-case characters, no separators. */
  readonly #text: string;

  static {
    textOf = (key) => key.#text;
  }

  private constructor(text: string) {
    this.#text = text;
  }

  /** A fresh key; `random(n)` defaults to the CSPRNG of @sotto/crypto. */
  static generate(random: (length: number) => Uint8Array = randomBytes): RecoveryKey {
    let text = '';
    while (text.length < RANDOM_LENGTH) {
      const bytes = random(RANDOM_LENGTH + 8);
      for (let i = 0; i < bytes.length && text.length < RANDOM_LENGTH; i++) {
        const b = bytes[i]!;
        if (b < REJECTION_BOUND) text += ALPHABET[b % 36]!;
      }
      bytes.fill(0);
    }
    return new RecoveryKey(text + checksum(text));
  }

  /**
   * Parses a typed key: whitespace and dashes are ignored, upper case is folded. Throws
   * `BAD_RECOVERY_KEY` naming the problem (length, a character's position, or the checksum);
   * the message never repeats the key.
   */
  static parse(typed: string): RecoveryKey {
    if (typeof typed !== 'string') {
      throw new BackupError('BAD_RECOVERY_KEY', 'a recovery key is a string');
    }
    const text = typed.replace(/[\s-]+/g, '').toLowerCase();
    if (text.length !== RECOVERY_KEY_LENGTH) {
      throw new BackupError(
        'BAD_RECOVERY_KEY',
        `a recovery key has ${RECOVERY_KEY_LENGTH} characters, this has ${text.length}`,
      );
    }
    for (let i = 0; i < text.length; i++) {
      if (!ALPHABET.includes(text[i]!)) {
        throw new BackupError(
          'BAD_RECOVERY_KEY',
          `character ${i + 1} is not a digit or a letter a-z`,
        );
      }
    }
    const randomPart = text.slice(0, RANDOM_LENGTH);
    if (!constantTimeEqual(utf8(checksum(randomPart)), utf8(text.slice(RANDOM_LENGTH)))) {
      throw new BackupError('BAD_RECOVERY_KEY', 'the recovery key has a typo (checksum mismatch)');
    }
    return new RecoveryKey(text);
  }

  /** The display form, shown to the user once: 16 groups of 4 characters. */
  reveal(): string {
    const groups: string[] = [];
    for (let i = 0; i < this.#text.length; i += RECOVERY_KEY_GROUP_SIZE) {
      groups.push(this.#text.slice(i, i + RECOVERY_KEY_GROUP_SIZE));
    }
    return groups.join(' ');
  }

  /**
   * Whether `typed` (tolerantly parsed) is this key, in constant time: the "type it back to
   * confirm" step. A typed key that does not parse is simply not a match.
   */
  matches(typed: string): boolean {
    let other: RecoveryKey;
    try {
      other = RecoveryKey.parse(typed);
    } catch {
      return false;
    }
    return constantTimeEqual(utf8(this.#text), utf8(other.#text));
  }

  toJSON(): string {
    return 'RecoveryKey(<secret>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

/** The 32-byte key that wraps the backup key in a recovery-key slot. */
function wrappingKeyOf(recoveryKey: RecoveryKey): Uint8Array {
  if (!(recoveryKey instanceof RecoveryKey)) {
    throw new BackupError('INVALID_ARGUMENT', 'recoveryKey must be a RecoveryKey');
  }
  return hkdfSha256(utf8(textOf(recoveryKey)), new Uint8Array(0), WRAP_INFO, 32);
}

/** Wraps `backupKey` under `recoveryKey`: a slot to put in every archive's header. */
export function recoveryKeySlot(
  backupKey: BackupKey,
  recoveryKey: RecoveryKey,
  random: (length: number) => Uint8Array = randomBytes,
): KeySlot {
  const nonce = random(NONCE_LENGTH);
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
    throw new BackupError('INVALID_ARGUMENT', `random must return ${NONCE_LENGTH} bytes`);
  }
  const wrappingKey = wrappingKeyOf(recoveryKey);
  const sealed = aes256GcmEncrypt(wrappingKey, nonce, backupKeyMaterial(backupKey), SLOT_AAD);
  wrappingKey.fill(0);
  return { type: RECOVERY_KEY_SLOT_TYPE, data: concatBytes(nonce, sealed) };
}

/**
 * The backup key in `slots` that `recoveryKey` opens. Throws `NO_RECOVERY_SLOT` when there is no
 * recovery-key slot, `BAD_KEY` when none opens (a different recovery key).
 */
export function openRecoveryKeySlot(
  slots: readonly KeySlot[],
  recoveryKey: RecoveryKey,
): BackupKey {
  const candidates = slots.filter((s) => s.type === RECOVERY_KEY_SLOT_TYPE);
  if (candidates.length === 0) {
    throw new BackupError('NO_RECOVERY_SLOT', 'this archive has no recovery-key slot');
  }
  const wrappingKey = wrappingKeyOf(recoveryKey);
  try {
    for (const slot of candidates) {
      if (slot.data.length !== RECOVERY_KEY_SLOT_LENGTH) continue;
      let bytes: Uint8Array;
      try {
        bytes = aes256GcmDecrypt(
          wrappingKey,
          slot.data.subarray(0, NONCE_LENGTH),
          slot.data.subarray(NONCE_LENGTH),
          SLOT_AAD,
        );
      } catch {
        continue;
      }
      const key = BackupKey.fromBytes(bytes);
      bytes.fill(0);
      return key;
    }
  } finally {
    wrappingKey.fill(0);
  }
  throw new BackupError('BAD_KEY', 'the recovery key does not open this archive');
}
