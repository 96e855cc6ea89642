/**
 * Which backups the relay keeps when a new one arrives (docs/backups.md "Storage"): the newest
 * `keep` of the account, counting the new one, where "newest" is the completion time of the
 * upload and ties are broken by name. The quota counts only what is kept, so an account at its
 * quota can always rotate to a new backup of the same size.
 */
import type { BackupRecord } from '../ports/storage.js';

/** Newest first: later `createdAt`, then the larger name. */
export function newestFirst(a: BackupRecord, b: BackupRecord): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
}

export interface RetentionPlan {
  /** The account's backup of the same name, which the new one replaces. */
  readonly replaced: BackupRecord | undefined;
  /** The other backups that stay. */
  readonly kept: readonly BackupRecord[];
  /** The other backups that go (the oldest beyond `keep`). */
  readonly pruned: readonly BackupRecord[];
  /** Bytes of the kept backups (the new one not included). */
  readonly keptBytes: number;
}

/** The plan for storing a backup named `name` next to `existing`, keeping `keep` in all. */
export function planRetention(
  existing: readonly BackupRecord[],
  name: string,
  keep: number,
): RetentionPlan {
  const others = existing.filter((b) => b.name !== name).sort(newestFirst);
  const kept = others.slice(0, Math.max(0, keep - 1));
  return {
    replaced: existing.find((b) => b.name === name),
    kept,
    pruned: others.slice(kept.length),
    keptBytes: kept.reduce((n, b) => n + b.size, 0),
  };
}
