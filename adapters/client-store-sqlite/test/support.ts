// Shared helpers for the client-store tests: temporary directories and raw access to a store file.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const PASSPHRASE = 'correct horse battery staple';

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-client-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file of the store (main file, -wal, -shm), concatenated: what a copied disk holds. */
export function storeBytes(path: string): Buffer {
  const dir = join(path, '..');
  const base = path.slice(dir.length + 1);
  const parts = readdirSync(dir)
    .filter((name) => name.startsWith(base))
    .sort()
    .map((name) => readFileSync(join(dir, name)));
  return Buffer.concat(parts);
}

/** Names of the files beside `path` that belong to it. */
export function storeFiles(path: string): string[] {
  const dir = join(path, '..');
  const base = path.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((name) => name.startsWith(base))
    .sort();
}

/** Runs `fn` on a raw SQLite connection to a closed store file (to inspect or tamper with it). */
export function withRawDatabase<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
