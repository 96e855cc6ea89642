/**
 * A profile: one identity on this machine, kept in a directory (`--profile DIR`, `SOTTO_PROFILE`,
 * default `~/.sotto`). Its only file is the encrypted client store `store.sqlite` (plus SQLite's
 * `-wal` while open); the store adapter does all the cryptography (docs/cli.md, "Data at rest").
 * The CLI's own settings — the server URL and contact aliases — live in that store too, under the
 * `app:cli` namespace, so they are encrypted like everything else.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import type { ClientStore } from '@sotto/client';
import {
  MIN_PASSPHRASE_LENGTH,
  openSqliteClientStore,
  type SqliteClientStore,
} from '@sotto/client-store-sqlite';
import { CliError } from './cli-error.js';
import { requireOsKeychain, unlockWithKeychain } from './keychain.js';
import { promptHidden } from './terminal/prompt.js';

export const STORE_FILE = 'store.sqlite';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** Where the CLI keeps its settings in the store (never a namespace of the SDK). */
const CLI_NAMESPACE = 'app:cli';
const SETTINGS_KEY = 'settings';
const ALIAS_PREFIX = 'alias:';

export function profileDirectory(option: string | undefined): string {
  const chosen = option ?? process.env.SOTTO_PROFILE;
  return resolve(chosen !== undefined && chosen.length > 0 ? chosen : join(homedir(), '.sotto'));
}

export function storePath(profileDir: string): string {
  return join(profileDir, STORE_FILE);
}

/** The passphrase from SOTTO_PASSPHRASE, or asked for without echo (twice when creating). */
export async function readPassphrase(purpose: 'unlock' | 'create'): Promise<string> {
  const fromEnv = process.env.SOTTO_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  if (purpose === 'unlock') return promptHidden('Passphrase: ', 'passphrase');
  process.stderr.write(
    `Choose a passphrase for this profile (at least ${MIN_PASSPHRASE_LENGTH} characters). It encrypts\n` +
      'everything sotto keeps on this machine; it cannot be recovered if you forget it.\n',
  );
  const first = await promptHidden('New passphrase: ', 'passphrase');
  const second = await promptHidden('Repeat passphrase: ', 'passphrase');
  if (first !== second) throw new CliError('MISMATCH', 'the two passphrases differ');
  return first;
}

/** Throws NO_PROFILE unless the profile directory holds a store. */
export function requireProfile(profileDir: string): void {
  if (!existsSync(storePath(profileDir))) {
    throw new CliError(
      'NO_PROFILE',
      `no profile in ${profileDir}: run "sotto register <number>" first (or pass --profile)`,
    );
  }
}

/**
 * Opens (or, with `create`, creates) the profile's store. An existing profile whose keychain wrap
 * the OS keychain opens needs no passphrase (keychain.ts); otherwise the passphrase is asked for.
 * With `keychain`, the store key is also wrapped by the OS keychain (checked before any prompt; a
 * new profile whose keychain enrolment fails is removed again).
 */
export async function openProfileStore(
  profileDir: string,
  options: { readonly create: boolean; readonly passphrase?: string; readonly keychain?: boolean },
): Promise<{ store: SqliteClientStore; created: boolean }> {
  const path = storePath(profileDir);
  const exists = existsSync(path);
  if (!exists && !options.create) requireProfile(profileDir);
  if (exists && options.passphrase === undefined) {
    const unlocked = await unlockWithKeychain(path);
    if (unlocked !== undefined) return { store: unlocked, created: false };
  }
  const keychain = options.keychain === true ? requireOsKeychain() : undefined;
  await keychain?.check();
  const passphrase = options.passphrase ?? (await readPassphrase(exists ? 'unlock' : 'create'));
  try {
    const store = await openSqliteClientStore({
      path,
      passphrase,
      create: options.create,
      ...(keychain === undefined ? {} : { keychain }),
    });
    return { store, created: !exists };
  } catch (err) {
    if (!exists && keychain !== undefined) discardNewProfileStore(profileDir);
    throw err;
  }
}

/** Removes a store this run created and could not finish setting up (a failed registration). */
export function discardNewProfileStore(profileDir: string): void {
  const path = storePath(profileDir);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}

export interface CliSettings {
  readonly serverUrl: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function readSettings(store: ClientStore): Promise<CliSettings | undefined> {
  const bytes = await store.get(CLI_NAMESPACE, SETTINGS_KEY);
  if (bytes === undefined) return undefined;
  const parsed = JSON.parse(dec.decode(bytes)) as { serverUrl?: unknown };
  if (typeof parsed.serverUrl !== 'string') return undefined;
  return { serverUrl: parsed.serverUrl };
}

export async function writeSettings(store: ClientStore, settings: CliSettings): Promise<void> {
  await store.put(CLI_NAMESPACE, SETTINGS_KEY, enc.encode(JSON.stringify(settings)));
}

/** Local names for contacts: alias → E.164 number. */
export async function readAliases(store: ClientStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [key, value] of await store.list(CLI_NAMESPACE)) {
    if (key.startsWith(ALIAS_PREFIX)) out.set(key.slice(ALIAS_PREFIX.length), dec.decode(value));
  }
  return out;
}

export async function writeAlias(
  store: ClientStore,
  alias: string,
  number: string | undefined,
): Promise<void> {
  if (number === undefined) await store.delete(CLI_NAMESPACE, ALIAS_PREFIX + alias);
  else await store.put(CLI_NAMESPACE, ALIAS_PREFIX + alias, enc.encode(number));
}
