/**
 * `client.backups` (docs/client.md "Backups", docs/backups.md): end-to-end encrypted backups of
 * the client store into any `BackupStorage` (the relay, a directory, an S3 bucket).
 *
 * Keys: one random 256-bit backup key per account (`@sotto/backup` `BackupKey`), kept in the
 * client's encrypted store and protected for a new device by
 * - a recovery key (64 characters, shown once, typed back to confirm): its key slot — the backup
 *   key wrapped under it — is copied into every archive, so archive + recovery key restore
 *   everything, even without the relay; and/or
 * - a password, through the guess-limited key vault (`storeBackupKeyInVault`, purpose 'backup').
 * With neither, `create` refuses: such a backup could never be opened.
 *
 * Rotating the recovery key makes a NEW backup key and a new slot (and re-stores it in the vault
 * when a password protects it). Re-wrapping the old backup key would not do: anyone who had the
 * old recovery key and one old archive holds the backup key itself, and could open every later
 * archive. After a rotation the old recovery key opens only archives made before it.
 *
 * Retention: after each successful upload, all but the newest `keep` backups of this client in
 * that storage are deleted (names `sotto-backup-<UTC time>-<tag>.sbk`: name order is time order,
 * and the random tag, carried over by a restore, keeps other profiles' backups in a shared
 * directory out of reach).
 *
 * Scheduling: a persisted interval; `startScheduler` runs a backup when one is due (at once if it
 * is overdue, e.g. the client was not running), then after each interval; failures are retried
 * after BACKUP_RETRY_MS. An app that is not running all day instead calls `createIfDue` from a
 * timer of the system (cron, systemd), which makes a backup only when one is due.
 */
import {
  BackupKey,
  RecoveryKey,
  createBackup,
  recoverBackupKeyFromVault,
  recoveryKeySlot,
  storeBackupKeyInVault,
  type BackupStorage,
  type VaultApi,
  type VaultClientOptions,
} from '@sotto/backup';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import {
  BACKUP_DUE_EARLY_MS,
  BACKUP_RETRY_MS,
  DAILY_BACKUP_INTERVAL_MS,
  MAX_BACKUP_KEEP,
  MIN_BACKUP_INTERVAL_MS,
} from '../limits.js';
import { countRecords, exportRecords } from './backup-records.js';
import { RelayBackupStorage } from './relay-storage.js';
import { relayVault } from './relay-vault.js';
import {
  loadBackupKey,
  loadConfig,
  saveBackupKey,
  saveConfig,
  type BackupConfig,
} from './backup-state.js';

/** Progress of a long backup task (create or restore). */
export interface BackupProgress {
  readonly phase: 'backup' | 'restore';
  /** Records produced (create) or read (restore: in the current pass) so far. */
  readonly records: number;
  /** Records expected (create: counted beforehand; restore: in pass 2, counted by pass 1). */
  readonly totalRecords?: number;
  /** Archive bytes written (create) or read (restore, both passes together) so far. */
  readonly bytes: number;
  /**
   * Restore: archive bytes of both passes against twice the archive size (when the storage lists
   * it): a restore reads the archive once to verify it and once to write it.
   */
  readonly totalBytes?: number;
  /** Restore: 'verify' (pass 1, nothing written) or 'write' (pass 2). */
  readonly pass?: 'verify' | 'write';
}

/** What the SDK's backup features need that a client is configured with. */
export interface BackupOptions {
  /** Where scheduled backups go (they run only when this is set). */
  readonly storage?: BackupStorage;
  /** The key vault for password protection (HTTP on the relay, or a `KeyVault` in process). */
  readonly vault?: VaultApi;
  readonly vaultOptions?: VaultClientOptions;
  /** App namespaces of the store to include in backups (e.g. the CLI's aliases). */
  readonly namespaces?: readonly string[];
  /** Written into each archive, e.g. "sotto-cli/0.1.0". */
  readonly app?: string;
  /** Called after each scheduled backup: a result or an error. */
  readonly onScheduledBackup?: (result: BackupResult | Error) => void;
}

/** What `startScheduler` may set for this run (over `ClientOptions.backup`). */
export type SchedulerOptions = Pick<BackupOptions, 'namespaces' | 'app' | 'onScheduledBackup'>;

export interface CreateOptions {
  readonly storage: BackupStorage;
  readonly onProgress?: (progress: BackupProgress) => void;
  /** Overrides the stored retention for this run. */
  readonly keep?: number;
}

export interface BackupResult {
  readonly name: string;
  /** Archive bytes. */
  readonly size: number;
  readonly records: number;
  readonly createdAt: number;
  /** Older backups removed by retention. */
  readonly deleted: readonly string[];
}

export interface BackupListing {
  readonly name: string;
  readonly size: number;
  readonly createdAt: number;
}

export interface BackupStatus {
  /** A backup key exists (made with the first recovery key or password). */
  readonly keyCreated: boolean;
  readonly recoveryKey: boolean;
  readonly recoveryKeyCreatedAt: number | null;
  readonly password: boolean;
  /** Automatic backups: the interval, or null when off. */
  readonly scheduleIntervalMs: number | null;
  readonly keep: number;
  readonly lastBackupAt: number | null;
  readonly lastBackupName: string | null;
  /** When the next automatic backup is due (the last one's time plus the interval), or null. */
  readonly nextBackupAt: number | null;
}

/**
 * A recovery key waiting to be confirmed: show `reveal()` once, then `confirm(typed)`. Nothing
 * is saved until the typed key matches.
 */
export interface PendingRecoveryKey {
  reveal(): string;
  /** Saves the new key's slot if `typed` matches; throws `RECOVERY_KEY_MISMATCH` otherwise. */
  confirm(typed: string): Promise<void>;
}

const NAME_PREFIX = 'sotto-backup-';
const NAME_SUFFIX = '.sbk';
const NAME =
  /^sotto-backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:-([a-z2-7]{8}))?\.sbk$/;
const TAG_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `sotto-backup-20250601T120000123Z-<tag>.sbk`: the UTC time, so name order is time order, and
 * the tag of the client that made it (random, kept in its backup settings and carried over by a
 * restore), so retention never deletes another profile's backups in a shared directory.
 */
export function backupName(at: number, tag?: string): string {
  const iso = new Date(at).toISOString(); // 2025-06-01T12:00:00.123Z
  const time = iso.replace(/[-:.]/g, '');
  return `${NAME_PREFIX}${time}${tag === undefined ? '' : `-${tag}`}${NAME_SUFFIX}`;
}

/** The creation time encoded in a backup name, or null for other objects. */
export function backupTime(name: string): number | null {
  const m = NAME.exec(name);
  if (m === null) return null;
  const n = m.slice(1, 8).map(Number);
  return Date.UTC(n[0]!, n[1]! - 1, n[2], n[3], n[4], n[5], n[6]);
}

/** The tag of the client that made a backup (null for an untagged name or another object). */
export function backupTag(name: string): string | null {
  return NAME.exec(name)?.[8] ?? null;
}

/** A new random tag: 8 base32 characters (40 bits). */
function newTag(rng: (n: number) => Uint8Array): string {
  const bytes = rng(5);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += TAG_ALPHABET[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  return out;
}

/** The newest backup in `storage`, or null if there is none. */
export async function newestBackup(storage: BackupStorage): Promise<BackupListing | null> {
  const all = await listBackups(storage);
  return all.length === 0 ? null : all[all.length - 1]!;
}

/** Sotto backups in `storage`, oldest first (other objects are ignored). */
export async function listBackups(storage: BackupStorage): Promise<BackupListing[]> {
  const out: BackupListing[] = [];
  for (const o of await storage.list()) {
    const createdAt = backupTime(o.name);
    if (createdAt !== null) out.push({ name: o.name, size: o.size, createdAt });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkKeep(keep: number): number {
  if (!Number.isInteger(keep) || keep < 1 || keep > MAX_BACKUP_KEEP) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      `keep must be an integer from 1 to ${MAX_BACKUP_KEEP}`,
    );
  }
  return keep;
}

function checkPassword(password: string): void {
  if (typeof password !== 'string' || password.length === 0) {
    throw new ClientError('INVALID_ARGUMENT', 'password must be a non-empty string');
  }
}

/** Counts the bytes of a stream as they pass. */
function counted(
  stream: ReadableStream<Uint8Array>,
  onBytes: (total: number) => void,
): ReadableStream<Uint8Array> {
  let total = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length;
        onBytes(total);
        controller.enqueue(chunk);
      },
    }),
  );
}

export { counted as countBytes };

/** When the next scheduled backup is due, or null when automatic backups are off. */
function nextBackupAt(config: BackupConfig): number | null {
  return config.schedule === null ? null : (config.lastBackupAt ?? 0) + config.schedule.intervalMs;
}

export class BackupManager {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<BackupResult> | null = null;
  #schedulerStorage: BackupStorage | null = null;
  #overrides: SchedulerOptions = {};

  constructor(private readonly core: ClientCore<unknown>) {}

  get #options(): BackupOptions {
    return { ...this.core.options.backup, ...this.#overrides };
  }

  async status(): Promise<BackupStatus> {
    const config = await loadConfig(this.core.store);
    const key = await loadBackupKey(this.core.store);
    key?.wipe();
    return {
      keyCreated: key !== null,
      recoveryKey: config.recoverySlot !== null,
      recoveryKeyCreatedAt: config.recoveryKeyCreatedAt,
      password: config.password,
      scheduleIntervalMs: config.schedule?.intervalMs ?? null,
      keep: config.keep,
      lastBackupAt: config.lastBackupAt,
      lastBackupName: config.lastBackupName,
      nextBackupAt: nextBackupAt(config),
    };
  }

  /**
   * A first recovery key (the backup key is made now if there is none). If one exists already,
   * this fails: use `rotateRecoveryKey` (a recovery key cannot be shown a second time).
   */
  async createRecoveryKey(): Promise<PendingRecoveryKey> {
    this.core.requireRegistered();
    const config = await loadConfig(this.core.store);
    if (config.recoverySlot !== null) {
      throw new ClientError(
        'INVALID_ARGUMENT',
        'a recovery key exists already and cannot be shown again: rotate it to get a new one',
      );
    }
    const existing = await loadBackupKey(this.core.store);
    return this.#pending(existing ?? BackupKey.generate(this.core.rng), undefined);
  }

  /**
   * A new recovery key AND a new backup key: after confirmation, old recovery keys open only
   * backups made before. When a password protects backups, give it: the vault then holds the
   * new backup key (otherwise this fails with INVALID_ARGUMENT before anything changes).
   */
  async rotateRecoveryKey(options: { password?: string } = {}): Promise<PendingRecoveryKey> {
    this.core.requireRegistered();
    const config = await loadConfig(this.core.store);
    if (config.password) {
      if (options.password === undefined) {
        throw new ClientError(
          'INVALID_ARGUMENT',
          'backups are also protected by a password: give it, so the vault gets the new key',
        );
      }
      checkPassword(options.password);
    }
    return this.#pending(BackupKey.generate(this.core.rng), options.password);
  }

  #pending(backupKey: BackupKey, password: string | undefined): PendingRecoveryKey {
    const recoveryKey = RecoveryKey.generate(this.core.rng);
    let done = false;
    return {
      reveal: () => recoveryKey.reveal(),
      confirm: async (typed: string) => {
        if (done) throw new ClientError('INVALID_ARGUMENT', 'this recovery key was confirmed');
        if (!recoveryKey.matches(typed)) {
          throw new ClientError(
            'RECOVERY_KEY_MISMATCH',
            'the typed recovery key does not match the one shown',
          );
        }
        const slot = recoveryKeySlot(backupKey, recoveryKey, this.core.rng);
        // The vault gets the new key first: if that fails, nothing here changed.
        if (password !== undefined) await this.#storeInVault(backupKey, password);
        const now = this.core.now();
        await this.core.store.transaction(async (tx) => {
          const config = await loadConfig(tx);
          await saveBackupKey(tx, backupKey);
          await saveConfig(tx, {
            ...config,
            recoverySlot: slot,
            recoveryKeyCreatedAt: now,
            password: password !== undefined ? true : config.password,
          });
        });
        done = true;
      },
    };
  }

  /** The configured vault, or else the one inside the relay. */
  #vault(): VaultApi {
    return this.#options.vault ?? relayVault(this.core, () => this.core.credentials());
  }

  async #storeInVault(backupKey: BackupKey, password: string): Promise<void> {
    const reg = this.core.requireRegistered();
    await storeBackupKeyInVault(
      this.#vault(),
      { accountId: reg.accountId, password, backupKey },
      this.#options.vaultOptions,
    );
  }

  /**
   * Protects the backup key with `password` in the key vault (the backup key is made now if
   * there is none). Replaces an earlier password.
   */
  async setPassword(password: string): Promise<void> {
    this.core.requireRegistered();
    checkPassword(password);
    let key = await loadBackupKey(this.core.store);
    const created = key === null;
    key ??= BackupKey.generate(this.core.rng);
    await this.#storeInVault(key, password);
    await this.core.store.transaction(async (tx) => {
      if (created) await saveBackupKey(tx, key);
      await saveConfig(tx, { ...(await loadConfig(tx)), password: true });
    });
    key.wipe();
  }

  /** Checks `password` against the vault (one of its 10 guesses); true if it opens the key. */
  async checkPassword(password: string): Promise<boolean> {
    const reg = this.core.requireRegistered();
    checkPassword(password);
    const key = await recoverBackupKeyFromVault(
      this.#vault(),
      { accountId: reg.accountId, password },
      this.#options.vaultOptions,
    );
    const mine = await loadBackupKey(this.core.store);
    const same = mine !== null && mine.equals(key);
    key.wipe();
    mine?.wipe();
    return same;
  }

  /** Automatic backups every `interval` ('daily' or ms), or 'off'; optionally a new retention. */
  async setSchedule(interval: 'daily' | 'off' | number, options: { keep?: number } = {}) {
    let schedule: BackupConfig['schedule'];
    if (interval === 'off') schedule = null;
    else {
      const intervalMs = interval === 'daily' ? DAILY_BACKUP_INTERVAL_MS : interval;
      if (!Number.isInteger(intervalMs) || intervalMs < MIN_BACKUP_INTERVAL_MS) {
        throw new ClientError(
          'INVALID_ARGUMENT',
          `interval must be 'daily', 'off' or at least ${MIN_BACKUP_INTERVAL_MS} ms`,
        );
      }
      schedule = { intervalMs };
    }
    const keep = options.keep === undefined ? undefined : checkKeep(options.keep);
    await this.core.store.transaction(async (tx) => {
      const config = await loadConfig(tx);
      await saveConfig(tx, { ...config, schedule, ...(keep === undefined ? {} : { keep }) });
    });
    if (this.#schedulerStorage !== null) this.#arm();
  }

  /** How many backups to keep in a storage (applied after each successful backup). */
  async setKeep(keep: number): Promise<void> {
    checkKeep(keep);
    await this.core.store.transaction(async (tx) => {
      await saveConfig(tx, { ...(await loadConfig(tx)), keep });
    });
  }

  /** This account's backup space on the relay (needs a registered device). */
  relayStorage(): BackupStorage {
    const core = this.core;
    core.requireRegistered();
    return new RelayBackupStorage({
      serverUrl: core.options.serverUrl,
      credentials: () => core.credentials(),
    });
  }

  list(storage: BackupStorage): Promise<BackupListing[]> {
    return listBackups(storage);
  }

  /** Deletes one backup; false if there was none of that name. */
  delete(storage: BackupStorage, name: string): Promise<boolean> {
    if (backupTime(name) === null) {
      throw new ClientError('INVALID_ARGUMENT', 'not the name of a Sotto backup');
    }
    return storage.delete(name);
  }

  /**
   * Writes a backup of everything in the store to `storage`, then applies retention. One backup
   * runs at a time: a second call while one runs waits for it and makes its own.
   */
  async create(options: CreateOptions): Promise<BackupResult> {
    while (this.#running !== null) await this.#running.catch(() => undefined);
    const run = this.#create(options);
    this.#running = run;
    try {
      return await run;
    } finally {
      this.#running = null;
    }
  }

  /**
   * Makes a backup like `create` when automatic backups are on and one is due (up to
   * BACKUP_DUE_EARLY_MS early); otherwise resolves null without touching the storage. For apps
   * that do not run all day: a timer of the system (cron, systemd) runs one that calls this.
   */
  async createIfDue(options: CreateOptions): Promise<BackupResult | null> {
    const config = await loadConfig(this.core.store);
    const due = nextBackupAt(config);
    if (due === null || config.schedule === null) return null;
    const early = Math.min(BACKUP_DUE_EARLY_MS, Math.floor(config.schedule.intervalMs / 10));
    if (due - early > this.core.now()) return null;
    return this.create(options);
  }

  async #create(options: CreateOptions): Promise<BackupResult> {
    const core = this.core;
    core.requireRegistered();
    let config = await loadConfig(core.store);
    const backupKey = await loadBackupKey(core.store);
    if (backupKey === null || (config.recoverySlot === null && !config.password)) {
      backupKey?.wipe();
      throw new ClientError(
        'NO_BACKUP_KEY',
        'set up a recovery key or a password first: without one a backup could never be opened',
      );
    }
    const keep = options.keep === undefined ? config.keep : checkKeep(options.keep);
    if (config.nameTag === null) {
      const nameTag = newTag(core.rng);
      await core.store.transaction(async (tx) => {
        await saveConfig(tx, { ...(await loadConfig(tx)), nameTag });
      });
      config = { ...config, nameTag };
    }
    const tag = config.nameTag!;
    const namespaces = this.#options.namespaces;
    const totalRecords = await countRecords(core.store, {
      config,
      ...(namespaces === undefined ? {} : { namespaces }),
    });
    let records = 0;
    let bytes = 0;
    const report = (): void =>
      options.onProgress?.({ phase: 'backup', records, totalRecords, bytes });
    const createdAt = Math.max(core.now(), (config.lastBackupAt ?? 0) + 1);
    const name = backupName(createdAt, tag);
    const source = exportRecords(core.store, {
      config,
      ...(namespaces === undefined ? {} : { namespaces }),
      onRecords: (n) => {
        records = n;
        report();
      },
    });
    const archive = createBackup(source, {
      backupKey,
      keySlots: config.recoverySlot === null ? [] : [config.recoverySlot],
      createdAtMs: createdAt,
      ...(this.#options.app === undefined ? {} : { app: this.#options.app }),
    });
    let stored;
    try {
      stored = await options.storage.put(
        name,
        counted(archive, (n) => {
          bytes = n;
          report();
        }),
      );
    } finally {
      backupKey.wipe();
    }
    await core.store.transaction(async (tx) => {
      await saveConfig(tx, {
        ...(await loadConfig(tx)),
        lastBackupAt: createdAt,
        lastBackupName: name,
      });
    });
    // Retention: only after the new backup is safely stored, and only this client's backups.
    const all = (await listBackups(options.storage)).filter((b) => backupTag(b.name) === tag);
    const deleted: string[] = [];
    for (const old of all.slice(0, Math.max(0, all.length - keep))) {
      if (old.name === name) continue;
      if (await options.storage.delete(old.name)) deleted.push(old.name);
    }
    return { name, size: stored.size, records, createdAt, deleted };
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /**
   * Runs scheduled backups into `storage` (default `ClientOptions.backup.storage`) while the
   * client runs: at once when one is overdue, then every interval. Idempotent.
   */
  startScheduler(storage?: BackupStorage, options: SchedulerOptions = {}): void {
    this.#overrides = options;
    const s = storage ?? this.#options.storage;
    if (s === undefined) {
      throw new ClientError('INVALID_ARGUMENT', 'no backup storage for scheduled backups');
    }
    this.#schedulerStorage = s;
    this.#arm();
  }

  stopScheduler(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#schedulerStorage = null;
  }

  /**
   * Stops the scheduler and waits for a backup in progress (on `client.close()`: the store must
   * stay open until it is done; a failed one leaves no partial object in the storage).
   */
  async stop(): Promise<void> {
    this.stopScheduler();
    while (this.#running !== null) await this.#running.catch(() => undefined);
  }

  get schedulerRunning(): boolean {
    return this.#schedulerStorage !== null;
  }

  #arm(delayOverride?: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#schedulerStorage === null || this.core.closed) return;
    void loadConfig(this.core.store).then(
      (config) => {
        const due = nextBackupAt(config);
        if (due === null || this.#schedulerStorage === null) return;
        const delay = delayOverride ?? Math.max(0, due - this.core.now());
        // setTimeout holds at most 2^31 − 1 ms; a longer wait re-arms when it fires.
        this.#timer = setTimeout(() => void this.#runScheduled(), Math.min(delay, 0x7fffffff));
        (this.#timer as { unref?: () => void }).unref?.();
      },
      (err: unknown) => this.#options.onScheduledBackup?.(err as Error),
    );
  }

  async #runScheduled(): Promise<void> {
    this.#timer = null;
    const storage = this.#schedulerStorage;
    if (storage === null || this.core.closed) return;
    const config = await loadConfig(this.core.store);
    const due = nextBackupAt(config);
    if (due === null) return;
    if (due > this.core.now()) {
      this.#arm();
      return;
    }
    try {
      const result = await this.create({ storage });
      this.#options.onScheduledBackup?.(result);
      this.#arm();
    } catch (err) {
      this.#options.onScheduledBackup?.(err instanceof Error ? err : new Error(String(err)));
      this.#arm(BACKUP_RETRY_MS);
    }
  }
}
