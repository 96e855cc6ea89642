/**
 * What the client keeps about its backups, in the `backup` namespace of its (encrypted) store:
 * the backup key (32 bytes, docs/backups.md "Backup key"), the recovery-key slot (the backup key
 * wrapped under the recovery key: the recovery key itself is never stored), whether the key vault
 * holds the backup key under a password, the schedule and retention, and the last backup made.
 */
import { BackupKey, type KeySlot } from '@sotto/backup';
import { fromBase64, toBase64 } from '@sotto/api';
import type { ClientStoreReader, ClientStoreTransaction } from '../client-store.js';
import { ClientError } from '../errors.js';
import { DEFAULT_BACKUP_KEEP } from '../limits.js';
import { fromJsonBytes, toJsonBytes } from '../state/json.js';

/** The store namespace of backup state (not itself part of a backup: see backup-records.ts). */
export const BACKUP_NS = 'backup';
const KEY = 'key';
const CONFIG = 'config';

export interface BackupSchedule {
  /** Time between automatic backups (ms). */
  readonly intervalMs: number;
}

export interface BackupConfig {
  /** The backup key wrapped under the recovery key (the slot copied into every archive). */
  readonly recoverySlot: KeySlot | null;
  /** When the current recovery key was confirmed (ms). */
  readonly recoveryKeyCreatedAt: number | null;
  /** The key vault holds the current backup key under a password. */
  readonly password: boolean;
  readonly schedule: BackupSchedule | null;
  /** Retention: how many of the newest backups to keep in a storage after a backup. */
  readonly keep: number;
  readonly lastBackupAt: number | null;
  readonly lastBackupName: string | null;
  /** Marks this client's backup names (backup-manager.ts `backupName`); made at the first backup. */
  readonly nameTag: string | null;
}

export const EMPTY_CONFIG: BackupConfig = {
  recoverySlot: null,
  recoveryKeyCreatedAt: null,
  password: false,
  schedule: null,
  keep: DEFAULT_BACKUP_KEEP,
  lastBackupAt: null,
  lastBackupName: null,
  nameTag: null,
};

interface ConfigJson {
  recoverySlot: { type: number; data: string } | null;
  recoveryKeyCreatedAt: number | null;
  password: boolean;
  schedule: BackupSchedule | null;
  keep: number;
  lastBackupAt: number | null;
  lastBackupName: string | null;
  nameTag?: string | null;
}

export function encodeConfig(c: BackupConfig): Uint8Array {
  const j: ConfigJson = {
    recoverySlot:
      c.recoverySlot === null
        ? null
        : { type: c.recoverySlot.type, data: toBase64(c.recoverySlot.data) },
    recoveryKeyCreatedAt: c.recoveryKeyCreatedAt,
    password: c.password,
    schedule: c.schedule,
    keep: c.keep,
    lastBackupAt: c.lastBackupAt,
    lastBackupName: c.lastBackupName,
    nameTag: c.nameTag,
  };
  return toJsonBytes(j);
}

export function decodeConfig(bytes: Uint8Array): BackupConfig {
  const j = fromJsonBytes<ConfigJson>(bytes, 'backup settings');
  try {
    return {
      recoverySlot:
        j.recoverySlot === null
          ? null
          : { type: j.recoverySlot.type, data: fromBase64(j.recoverySlot.data) },
      recoveryKeyCreatedAt: j.recoveryKeyCreatedAt ?? null,
      password: j.password === true,
      schedule: j.schedule ?? null,
      keep: Number.isInteger(j.keep) && j.keep > 0 ? j.keep : DEFAULT_BACKUP_KEEP,
      lastBackupAt: j.lastBackupAt ?? null,
      lastBackupName: j.lastBackupName ?? null,
      nameTag: typeof j.nameTag === 'string' ? j.nameTag : null,
    };
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'stored backup settings are malformed', { cause });
  }
}

export async function loadConfig(store: ClientStoreReader): Promise<BackupConfig> {
  const bytes = await store.get(BACKUP_NS, CONFIG);
  return bytes === undefined ? EMPTY_CONFIG : decodeConfig(bytes);
}

export async function saveConfig(tx: ClientStoreTransaction, config: BackupConfig): Promise<void> {
  await tx.put(BACKUP_NS, CONFIG, encodeConfig(config));
}

/** The account's backup key, or null before one was made. */
export async function loadBackupKey(store: ClientStoreReader): Promise<BackupKey | null> {
  const bytes = await store.get(BACKUP_NS, KEY);
  if (bytes === undefined) return null;
  try {
    return BackupKey.fromBytes(bytes);
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'the stored backup key is malformed', { cause });
  } finally {
    bytes.fill(0);
  }
}

export async function saveBackupKey(tx: ClientStoreTransaction, key: BackupKey): Promise<void> {
  const bytes = key.exportBytes();
  await tx.put(BACKUP_NS, KEY, bytes);
  bytes.fill(0);
}
