/**
 * The backup key: 256 random bits that encrypt every archive of an account
 * (docs/backup-format.md §3). It never leaves the device in the clear: it is wrapped under the
 * recovery key (`recovery-key.ts`) and/or under an OPAQUE export key (`vault/vault-client.ts`).
 * It never prints: `toJSON` and `inspect` show a placeholder.
 */
import { constantTimeEqual, randomBytes } from '@sotto/crypto';
import { BackupError } from '../errors.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
export const BACKUP_KEY_LENGTH = 32;

let material: (key: BackupKey) => Uint8Array;

export class BackupKey {
  readonly #bytes: Uint8Array;

  static {
    material = (key) => key.#bytes;
  }

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** A fresh random key; `random(n)` defaults to the CSPRNG of @sotto/crypto. */
  static generate(random: (length: number) => Uint8Array = randomBytes): BackupKey {
    const bytes = random(BACKUP_KEY_LENGTH);
    if (!(bytes instanceof Uint8Array) || bytes.length !== BACKUP_KEY_LENGTH) {
      throw new BackupError('INVALID_ARGUMENT', `random must return ${BACKUP_KEY_LENGTH} bytes`);
    }
    return new BackupKey(Uint8Array.from(bytes));
  }

  /** A key from its 32 bytes (copied), e.g. as unwrapped from the vault. */
  static fromBytes(bytes: Uint8Array): BackupKey {
    if (!(bytes instanceof Uint8Array) || bytes.length !== BACKUP_KEY_LENGTH) {
      throw new BackupError('INVALID_ARGUMENT', `a backup key is ${BACKUP_KEY_LENGTH} bytes`);
    }
    return new BackupKey(Uint8Array.from(bytes));
  }

  /** A copy of the 32 key bytes, for the client's own encrypted store. Handle with care. */
  exportBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  /** Constant-time equality. */
  equals(other: BackupKey): boolean {
    return constantTimeEqual(this.#bytes, material(other));
  }

  /**
   * Overwrites the key bytes with zeros; the key is unusable afterwards. JavaScript cannot
   * guarantee that no other copy exists (engines may move or copy memory).
   */
  wipe(): void {
    this.#bytes.fill(0);
  }

  toJSON(): string {
    return 'BackupKey(<secret>)';
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

/** The key bytes, for this package's own derivations. Not exported from the package. */
export function backupKeyMaterial(key: BackupKey): Uint8Array {
  if (!(key instanceof BackupKey)) {
    throw new BackupError('INVALID_ARGUMENT', 'backupKey must be a BackupKey');
  }
  return material(key);
}
