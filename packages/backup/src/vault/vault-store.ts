/**
 * The key vault's storage port (docs/backups.md "The key vault"), kept small so a SQL adapter is
 * a few statements: the OPAQUE server setup (first writer wins), and one record per
 * (account, purpose) updated only by compare-and-set on an opaque revision token. The vault core
 * (`key-vault.ts`) builds every atomic step (charge an attempt, refund, destroy) on that one
 * primitive, so an adapter cannot get the guess limit wrong by itself. Adapters run the
 * conformance suite in `@sotto/backup/testing`.
 *
 * A SQL adapter: `UPDATE vault SET record = ?, revision = ? WHERE account = ? AND purpose = ? AND
 * revision = ?` (one row changed = success) and `INSERT ... ON CONFLICT DO NOTHING` for creation.
 */
import { BackupError } from '../errors.js';

export type VaultPurpose = 'backup' | 'pin-master-key';
export const VAULT_PURPOSES: readonly VaultPurpose[] = ['backup', 'pin-master-key'];

export interface VaultRecordKey {
  readonly accountId: string;
  readonly purpose: VaultPurpose;
}

/**
 * What the vault keeps per account and purpose. Nothing here is password-equivalent
 * (docs/backups.md "What the vault stores"): the OPAQUE registration record and a secret wrapped
 * under a key only the password (through the OPRF) can derive.
 */
export interface VaultRecord {
  readonly status: 'active' | 'destroyed';
  /** Random id of this registration, part of the OPAQUE credential identifier; '' if destroyed. */
  readonly registrationId: string;
  /** OPAQUE RegistrationRecord (RFC 9807, "Registration"), base64url; '' if destroyed. */
  readonly registrationRecord: string;
  /** The secret wrapped by the client under its OPAQUE export key; empty if destroyed. */
  readonly wrappedSecret: Uint8Array;
  /** Client parameters (key-stretching settings), opaque to the vault. */
  readonly clientParams: string;
  /** Attempts charged at login start and not reset by a successful login. */
  readonly failedAttempts: number;
  /** When the last attempt was charged (ms since the epoch). */
  readonly lastAttemptAtMs: number;
  readonly updatedAtMs: number;
}

export interface StoredVaultRecord {
  /** Opaque token that changes with every write. */
  readonly revision: string;
  readonly record: VaultRecord;
}

export interface VaultStore {
  /** The OPAQUE server setup, if one was saved. */
  loadServerSetup(): Promise<string | undefined>;
  /** Saves `setup` unless one is saved; returns the saved one (the first writer wins). */
  saveServerSetupIfAbsent(setup: string): Promise<string>;
  get(key: VaultRecordKey): Promise<StoredVaultRecord | undefined>;
  /**
   * Atomically: if the record's revision is `expectedRevision` (undefined: there is no record),
   * store `record` with revision `newRevision` and return true; otherwise change nothing and
   * return false.
   */
  compareAndSet(
    key: VaultRecordKey,
    expectedRevision: string | undefined,
    newRevision: string,
    record: VaultRecord,
  ): Promise<boolean>;
  /** Atomically deletes the record if its revision is `expectedRevision`; true if it did. */
  compareAndDelete(key: VaultRecordKey, expectedRevision: string): Promise<boolean>;
}

function copyRecord(record: VaultRecord): VaultRecord {
  return { ...record, wrappedSecret: Uint8Array.from(record.wrappedSecret) };
}

export interface MemoryVaultStoreOptions {
  /**
   * Awaited at the start of every operation: tests pass random delays to interleave concurrent
   * operations the way a networked database would.
   */
  readonly delay?: () => Promise<void>;
}

/** The in-memory store: for tests, development and single-process deployments without a disk. */
export class MemoryVaultStore implements VaultStore {
  readonly #records = new Map<string, StoredVaultRecord>();
  readonly #delay: () => Promise<void>;
  #setup: string | undefined;

  constructor(options: MemoryVaultStoreOptions = {}) {
    this.#delay = options.delay ?? (() => Promise.resolve());
  }

  static #id(key: VaultRecordKey): string {
    if (typeof key.accountId !== 'string' || typeof key.purpose !== 'string') {
      throw new BackupError('INVALID_ARGUMENT', 'a vault key has an accountId and a purpose');
    }
    return `${key.purpose}\u0000${key.accountId}`;
  }

  async loadServerSetup(): Promise<string | undefined> {
    await this.#delay();
    return this.#setup;
  }

  async saveServerSetupIfAbsent(setup: string): Promise<string> {
    await this.#delay();
    this.#setup ??= setup;
    return this.#setup;
  }

  async get(key: VaultRecordKey): Promise<StoredVaultRecord | undefined> {
    await this.#delay();
    const stored = this.#records.get(MemoryVaultStore.#id(key));
    return stored === undefined
      ? undefined
      : { revision: stored.revision, record: copyRecord(stored.record) };
  }

  async compareAndSet(
    key: VaultRecordKey,
    expectedRevision: string | undefined,
    newRevision: string,
    record: VaultRecord,
  ): Promise<boolean> {
    await this.#delay();
    // No await between the check and the write: atomic in a single-threaded runtime.
    const id = MemoryVaultStore.#id(key);
    if (this.#records.get(id)?.revision !== expectedRevision) return false;
    this.#records.set(id, { revision: newRevision, record: copyRecord(record) });
    return true;
  }

  async compareAndDelete(key: VaultRecordKey, expectedRevision: string): Promise<boolean> {
    await this.#delay();
    const id = MemoryVaultStore.#id(key);
    if (this.#records.get(id)?.revision !== expectedRevision) return false;
    this.#records.delete(id);
    return true;
  }

  /** Everything stored, for tests that inspect what the vault keeps. */
  dump(): {
    readonly serverSetup: string | undefined;
    readonly records: readonly StoredVaultRecord[];
  } {
    return {
      serverSetup: this.#setup,
      records: [...this.#records.values()].map((s) => ({
        revision: s.revision,
        record: copyRecord(s.record),
      })),
    };
  }
}
