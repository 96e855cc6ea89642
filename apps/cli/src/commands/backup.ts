/**
 * `sotto backup create|restore|list|delete|schedule|key` (docs/cli.md "Backups"): parsing,
 * prompting and rendering over the SDK's `client.backups` and `restoreFromBackup`.
 *
 * Where backups go (`--to` / `--from`): `relay` (default: the account's space on its relay),
 * `dir:<path>` (a directory, e.g. a USB stick), `s3:<bucket>[/<prefix>]` (an S3-compatible bucket;
 * endpoint and region from SOTTO_S3_ENDPOINT / SOTTO_S3_REGION, credentials from the usual AWS
 * variables or files). Secrets — the recovery key, the backup password — come from a prompt
 * without echo, or SOTTO_RECOVERY_KEY / SOTTO_BACKUP_PASSWORD in scripts; they are never printed,
 * except the new recovery key, shown once when it is made.
 *
 * Automatic backups: `sotto chat` runs the SDK's scheduler (`startScheduledBackups`); otherwise a
 * system timer runs `backup create --if-due`, whose crontab line and systemd units
 * `backup schedule daily` prints (backup-timer.ts).
 */
import { resolve } from 'node:path';
import { BackupError, type BackupStorage } from '@sotto/backup';
import { LocalDirectoryStorage } from '@sotto/backup/node';
import {
  ClientError,
  type BackupOptions,
  type BackupProgress,
  type SottoClient,
} from '@sotto/client';
import { SqliteClientStoreError, type SqliteClientStore } from '@sotto/client-store-sqlite';
import { CliError } from '../cli-error.js';
import { readSettings, writeSettings } from '../profile.js';
import {
  withNewProfile,
  withSession,
  type GlobalOptions,
  type RunContext,
  type Session,
} from '../session.js';
import { ProgressBar, formatBytes } from '../terminal/progress.js';
import { promptHidden, promptLine } from '../terminal/prompt.js';
import { backupTimerSnippets } from './backup-timer.js';
import { askVerificationCode, checkNumberAndCode } from './register.js';

/** The CLI's own namespaces that go into backups: settings and aliases, and backup settings. */
const CLI_NAMESPACE = 'app:cli';
const BACKUP_NAMESPACE = 'app:cli-backup';
const TARGET_KEY = 'target';
const BACKUP_NAMESPACES = [CLI_NAMESPACE, BACKUP_NAMESPACE] as const;
const APP = 'sotto-cli/0.1.0';
/** What the SDK puts into this CLI's backups besides its own records. */
const BACKUP_OPTIONS: BackupOptions = { namespaces: BACKUP_NAMESPACES, app: APP };

const LOSS_WARNING =
  'Keep this recovery key somewhere safe, away from this device (on paper, in a password manager).\n' +
  'It is shown only now. Your backups can be opened ONLY with this key or with your backup password:\n' +
  'if you lose both, nobody — not you, not the server operator — can ever read your backups again.\n';

export interface BackupTargetOption {
  readonly to?: string;
  readonly from?: string;
}

/** Runs `fn` with an open session of a registered profile whose client makes this CLI's backups. */
function withRegistered<T>(
  globals: GlobalOptions,
  ctx: RunContext,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  return withSession(globals, ctx, fn, { backup: BACKUP_OPTIONS });
}

/**
 * Runs `fn` on a registered profile with the backup location `option` names (checked before the
 * profile is opened), else the saved one, else the relay.
 */
async function withLocation<T>(
  option: string | undefined,
  globals: GlobalOptions,
  ctx: RunContext,
  fn: (session: Session, target: Target, storage: BackupStorage) => Promise<T>,
): Promise<T> {
  const given = option === undefined ? undefined : parseTarget(option);
  return withRegistered(globals, ctx, async (session) => {
    const target = given ?? parseTarget((await savedTarget(session.store)) ?? 'relay');
    return fn(session, target, await storageFor(session.client, target));
  });
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/** The location saved by `backup schedule --to`, if any. */
async function savedTarget(store: SqliteClientStore): Promise<string | undefined> {
  const bytes = await store.get(BACKUP_NAMESPACE, TARGET_KEY);
  return bytes === undefined ? undefined : dec.decode(bytes);
}

/** A backup location: the relay, a directory or an S3 bucket. */
type Target =
  | { kind: 'relay' }
  | { kind: 'dir'; path: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
    };

/** Parses `relay`, `dir:<path>` or `s3:<bucket>[/<prefix>]`; USAGE otherwise. */
export function parseTarget(text: string): Target {
  if (text === 'relay') return { kind: 'relay' };
  if (text.startsWith('dir:') && text.length > 4)
    return { kind: 'dir', path: resolve(text.slice(4)) };
  const s3 = /^s3:([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text);
  if (s3 !== null) {
    const prefix = s3[2] ?? '';
    return {
      kind: 's3',
      bucket: s3[1]!,
      prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    };
  }
  throw new CliError('USAGE', 'a backup location is relay, dir:<path> or s3:<bucket>[/<prefix>]');
}

/** The target's canonical text (a directory made absolute), for messages and settings. */
function targetText(target: Target): string {
  switch (target.kind) {
    case 'relay':
      return 'relay';
    case 'dir':
      return `dir:${target.path}`;
    case 's3':
      return `s3:${target.bucket}${target.prefix === '' ? '' : `/${target.prefix}`}`;
  }
}

async function s3Storage(bucket: string, prefix: string): Promise<BackupStorage> {
  const { S3BackupStorage } = await import('@sotto/backup-storage-s3');
  const endpoint = process.env.SOTTO_S3_ENDPOINT;
  const region = process.env.SOTTO_S3_REGION;
  return new S3BackupStorage({
    bucket,
    ...(prefix === '' ? {} : { prefix }),
    ...(region === undefined || region === '' ? {} : { region }),
    ...(endpoint === undefined || endpoint === '' ? {} : { endpoint, forcePathStyle: true }),
  });
}

/** A storage that needs no account (for restore): a directory or a bucket. */
async function storageWithoutAccount(target: Target): Promise<BackupStorage | 'relay'> {
  switch (target.kind) {
    case 'relay':
      return 'relay';
    case 'dir':
      return new LocalDirectoryStorage(target.path);
    case 's3':
      return s3Storage(target.bucket, target.prefix);
  }
}

async function storageFor(client: SottoClient, target: Target): Promise<BackupStorage> {
  const s = await storageWithoutAccount(target);
  return s === 'relay' ? client.backups.relayStorage() : s;
}

function progressReporter(label: string): {
  onProgress: (p: BackupProgress) => void;
  bar: ProgressBar;
} {
  const bar = new ProgressBar(label);
  return {
    bar,
    onProgress: (p) => {
      if (p.phase === 'backup') {
        bar.update({
          done: p.records,
          ...(p.totalRecords === undefined ? {} : { total: p.totalRecords }),
          unit: 'records',
        });
      } else {
        bar.update({
          done: p.bytes,
          ...(p.totalBytes === undefined ? {} : { total: p.totalBytes }),
          unit: 'bytes',
        });
      }
    },
  };
}

/** Turns the backup package's errors into one clear line each. */
function explain(err: unknown): unknown {
  if (!BackupError.is(err)) return err;
  switch (err.code) {
    case 'BAD_KEY':
      return new CliError(
        'BACKUP_KEY_REFUSED',
        'this key does not open the backup (wrong recovery key or password)',
      );
    case 'BAD_RECOVERY_KEY':
      return new CliError('BACKUP_KEY_REFUSED', `not a valid recovery key: ${err.message}`);
    case 'NO_RECOVERY_SLOT':
      return new CliError(
        'BACKUP_KEY_REFUSED',
        'this backup has no recovery key: restore it with --password',
      );
    case 'VAULT_WRONG_PASSWORD': {
      const left = (err.details as { attemptsRemaining?: number } | undefined)?.attemptsRemaining;
      return new CliError(
        'BACKUP_KEY_REFUSED',
        `wrong backup password${left === undefined ? '' : `; ${left} attempts left before the vault erases the key`}`,
      );
    }
    case 'VAULT_RECORD_DESTROYED':
      return new CliError(
        'BACKUP_KEY_REFUSED',
        'too many wrong passwords: the vault erased the key; only the recovery key can open the backups now',
      );
    case 'VAULT_NOT_FOUND':
      return new CliError('BACKUP_KEY_REFUSED', 'no backup password was set for this account');
    case 'VAULT_RATE_LIMITED':
      return new CliError('UNREACHABLE', 'the key vault asks to wait before the next attempt');
    case 'STORAGE_NOT_FOUND':
      return new CliError('USAGE', 'there is no backup of that name');
    case 'STORAGE_IO':
      return new CliError('UNREACHABLE', `the backup storage failed: ${err.message}`);
    case 'TRUNCATED':
    case 'TRAILING_DATA':
    case 'CORRUPT_CHUNK':
    case 'CORRUPT_RECORD':
    case 'BAD_HEADER':
    case 'UNSUPPORTED_VERSION':
    case 'RECORD_TOO_LARGE':
      return new CliError(
        'BACKUP_FAILED',
        `the backup is damaged or not a Sotto backup (${err.code}); nothing was restored`,
      );
    case 'STORAGE_FULL':
      return new CliError(
        'BACKUP_FAILED',
        'the backup storage is full: delete old backups ("sotto backup delete") or use --keep',
      );
    case 'VAULT_SERVER_MISMATCH':
      return new CliError('BACKUP_FAILED', 'the key vault is not the one this profile expects');
    case 'VAULT_LOGIN_EXPIRED':
    case 'VAULT_CONFLICT':
      return new CliError('UNREACHABLE', 'the key vault was busy; try again');
    case 'BAD_WRAPPED_KEY':
    case 'VAULT_BAD_REQUEST':
    case 'INVALID_ARGUMENT':
      return new CliError('BACKUP_FAILED', `${err.code}: ${err.message}`);
  }
  return new CliError('BACKUP_FAILED', `${String(err.code)}: ${err.message}`);
}

async function secret(envName: string, question: string, what: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  return promptHidden(question, what);
}

async function newPassword(): Promise<string> {
  const fromEnv = process.env.SOTTO_BACKUP_PASSWORD;
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const first = await promptHidden('New backup password: ', 'backup password');
  const second = await promptHidden('Repeat backup password: ', 'backup password');
  if (first !== second) throw new CliError('MISMATCH', 'the two passwords differ');
  return first;
}

// ---- commands --------------------------------------------------------------------------------

export async function backupCreate(
  options: BackupTargetOption & { keep?: string; ifDue?: boolean },
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  if (options.ifDue === true) {
    if (options.to !== undefined || options.keep !== undefined) {
      throw new CliError(
        'USAGE',
        '--if-due backs up where and as "sotto backup schedule" set: leave out --to and --keep',
      );
    }
    await backupIfDue(globals, ctx);
    return;
  }
  const keep = options.keep === undefined ? undefined : parseKeep(options.keep);
  await withLocation(options.to, globals, ctx, async (session, target, storage) => {
    const { bar, onProgress } = progressReporter('Backing up');
    let result;
    try {
      result = await session.client.backups.create({
        storage,
        onProgress,
        ...(keep === undefined ? {} : { keep }),
      });
    } catch (err) {
      bar.abandon();
      throw createFailure(err);
    }
    bar.finish();
    reportCreated(result, target);
  });
}

/** The error of a failed `create`, as one line that says what to do. */
function createFailure(err: unknown): unknown {
  if (ClientError.is(err, 'NO_BACKUP_KEY')) {
    return new CliError(
      'USAGE',
      'backups need a recovery key or a password first: run "sotto backup key" (or "sotto backup key password")',
    );
  }
  return explain(err);
}

function reportCreated(
  result: { name: string; size: number; records: number; deleted: readonly string[] },
  target: Target,
): void {
  process.stdout.write(
    `Backup ${result.name} (${formatBytes(result.size)}, ${result.records} records) stored in ${targetText(target)}.\n`,
  );
  if (result.deleted.length > 0) {
    process.stdout.write(
      `Removed ${result.deleted.length} older backup(s) (keeping the newest).\n`,
    );
  }
}

/**
 * `backup create --if-due`, for cron or a systemd timer: a backup to the saved location when the
 * saved schedule says one is due, else one line and exit 0. No progress bar (a timer's output is
 * mailed or logged). A profile open in another sotto process is not an error here: `sotto chat`
 * makes the scheduled backups itself while it runs, and the timer comes back.
 */
async function backupIfDue(globals: GlobalOptions, ctx: RunContext): Promise<void> {
  try {
    await withLocation(undefined, globals, ctx, async (session, target, storage) => {
      const { backups } = session.client;
      let result;
      try {
        result = await backups.createIfDue({ storage });
      } catch (err) {
        throw createFailure(err);
      }
      if (result !== null) {
        reportCreated(result, target);
        return;
      }
      const next = (await backups.status()).nextBackupAt;
      process.stdout.write(
        next === null
          ? 'Automatic backups are off ("sotto backup schedule daily" turns them on); nothing to do.\n'
          : `No backup due yet (the next one is due at ${new Date(next).toISOString()}).\n`,
      );
    });
  } catch (err) {
    if (!SqliteClientStoreError.is(err, 'IN_USE')) throw err;
    process.stdout.write(
      'The profile is open in another sotto process (a running "sotto chat" makes the scheduled backups); nothing to do.\n',
    );
  }
}

function parseKeep(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new CliError('USAGE', '--keep takes a number from 1 to 100');
  }
  return n;
}

export async function backupList(
  options: BackupTargetOption,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withLocation(options.from, globals, ctx, async (session, target, storage) => {
    const list = await session.client.backups.list(storage).catch((e: unknown) => {
      throw explain(e);
    });
    if (list.length === 0) {
      process.stdout.write(`No backups in ${targetText(target)}.\n`);
      return;
    }
    for (const b of list) {
      process.stdout.write(
        `${b.name}  ${new Date(b.createdAt).toISOString()}  ${formatBytes(b.size)}\n`,
      );
    }
  });
}

export async function backupDelete(
  name: string,
  options: BackupTargetOption,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withLocation(options.from, globals, ctx, async (session, target, storage) => {
    const deleted = await session.client.backups.delete(storage, name).catch((e: unknown) => {
      throw explain(e);
    });
    if (!deleted)
      throw new CliError('USAGE', `there is no backup ${name} in ${targetText(target)}`);
    process.stdout.write(`Deleted ${name}.\n`);
  });
}

export async function backupSchedule(
  when: string,
  options: { keep?: string; to?: string },
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  if (when !== 'daily' && when !== 'off') {
    throw new CliError('USAGE', 'schedule takes "daily" or "off"');
  }
  const keep = options.keep === undefined ? undefined : parseKeep(options.keep);
  const target = options.to === undefined ? undefined : parseTarget(options.to);
  await withRegistered(globals, ctx, async (session) => {
    await session.client.backups.setSchedule(when, keep === undefined ? {} : { keep });
    if (target !== undefined) {
      await session.store.put(BACKUP_NAMESPACE, TARGET_KEY, enc.encode(targetText(target)));
    }
    const status = await session.client.backups.status();
    const where =
      target === undefined ? ((await savedTarget(session.store)) ?? 'relay') : targetText(target);
    if (when === 'off') {
      process.stdout.write(`Automatic backups off (keeping the newest ${status.keep}).\n`);
      return;
    }
    process.stdout.write(
      `Automatic backups daily to ${where}, keeping the newest ${status.keep}. They run while\n` +
        '"sotto chat" runs (one that is overdue runs when it starts), and whenever\n' +
        '"sotto backup create --if-due" finds one due.\n\n' +
        backupTimerSnippets({
          profileDir: session.profileDir,
          keychain: session.store.describe().keychainWrap,
          s3: where.startsWith('s3:'),
        }),
    );
  });
}

async function showNewKey(pending: {
  reveal(): string;
  confirm(typed: string): Promise<void>;
}): Promise<void> {
  process.stderr.write(LOSS_WARNING);
  process.stdout.write(`\nRecovery key:\n\n    ${pending.reveal()}\n\n`);
  const typed = await promptLine('Type the recovery key to confirm you have it: ', 'recovery key');
  try {
    await pending.confirm(typed);
  } catch (err) {
    if (ClientError.is(err, 'RECOVERY_KEY_MISMATCH')) {
      throw new CliError(
        'MISMATCH',
        'that is not the key shown; nothing was changed (run the command again for a new key)',
      );
    }
    throw err;
  }
}

export async function backupKey(
  action: 'show' | 'rotate' | 'password',
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withRegistered(globals, ctx, async ({ client }) => {
    const status = await client.backups.status();
    switch (action) {
      case 'show': {
        if (status.recoveryKey) {
          const since = status.recoveryKeyCreatedAt;
          process.stdout.write(
            `A recovery key is set${since === null ? '' : ` (since ${new Date(since).toISOString()})`}; it cannot be shown again.\n` +
              'Lost it? "sotto backup key rotate" makes a new one (older backups then need the old key).\n',
          );
          process.stdout.write(`Backup password: ${status.password ? 'set' : 'not set'}.\n`);
          return;
        }
        await showNewKey(await client.backups.createRecoveryKey());
        process.stdout.write('Recovery key confirmed. "sotto backup create" makes a backup.\n');
        return;
      }
      case 'rotate': {
        const password = status.password
          ? await secret(
              'SOTTO_BACKUP_PASSWORD',
              'Backup password (to re-protect the new key): ',
              'backup password',
            )
          : undefined;
        const pending = await client.backups
          .rotateRecoveryKey(password === undefined ? {} : { password })
          .catch((e: unknown) => {
            throw explain(e);
          });
        await showNewKey({
          reveal: () => pending.reveal(),
          confirm: (typed) =>
            pending.confirm(typed).catch((e: unknown) => {
              throw ClientError.is(e, 'RECOVERY_KEY_MISMATCH') ? e : explain(e);
            }),
        });
        process.stdout.write(
          'New recovery key confirmed. New backups open only with it (or the password); older ones\n' +
            'still need the old key — make a new backup now ("sotto backup create").\n',
        );
        return;
      }
      case 'password': {
        process.stderr.write(
          'The password protects your backup key in the key vault on your relay, which allows 10\n' +
            'wrong guesses and then erases it. Choose a long one you will remember.\n',
        );
        await client.backups.setPassword(await newPassword()).catch((e: unknown) => {
          throw explain(e);
        });
        process.stdout.write('Backup password set.\n');
        return;
      }
    }
  });
}

export async function backupRestore(
  numberArgument: string,
  options: { from?: string; name?: string; password?: boolean; code?: string },
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  const number = checkNumberAndCode(numberArgument, options.code);
  const target = parseTarget(options.from ?? 'relay');
  await withNewProfile(globals, ctx, { backup: BACKUP_OPTIONS }, async (session) => {
    const { client } = session;
    const storage = await storageWithoutAccount(target);
    const key =
      options.password === true
        ? {
            password: await secret('SOTTO_BACKUP_PASSWORD', 'Backup password: ', 'backup password'),
          }
        : {
            recoveryKey: await secret('SOTTO_RECOVERY_KEY', 'Recovery key: ', 'recovery key'),
          };
    let code = options.code;
    if (code === undefined) {
      await client.requestCode(number);
      process.stderr.write(`A verification code was sent to ${number}.\n`);
      code = await askVerificationCode();
    }
    const { bar, onProgress } = progressReporter('Restoring');
    let result;
    try {
      result = await client.restoreFromBackup({
        storage,
        number,
        code,
        ...key,
        ...(options.name === undefined ? {} : { name: options.name }),
        namespaces: BACKUP_NAMESPACES,
        onProgress,
        ...(process.env.SOTTO_PIN === undefined ? {} : { pin: process.env.SOTTO_PIN }),
      });
    } catch (err) {
      bar.abandon();
      throw explain(err);
    }
    bar.finish();
    const settings = await readSettings(session.store);
    if (settings === undefined || settings.serverUrl !== session.serverUrl) {
      await writeSettings(session.store, { serverUrl: session.serverUrl });
    }
    process.stdout.write(
      `Restored ${result.number} from ${result.name} (made ${new Date(result.backupCreatedAt).toISOString()}): ` +
        `${result.contacts} contact(s), ${result.messages} message(s).\n` +
        'This device has new device keys: your contacts start new sessions with it automatically.\n',
    );
    process.stdout.write(`Profile: ${session.profileDir}\n`);
  });
}

/**
 * Starts the SDK's backup scheduler for a long-running command (`sotto chat`) when automatic
 * backups are on: a backup that is overdue runs now, the next one after the interval. `notify`
 * gets one line per backup (never a secret).
 */
export async function startScheduledBackups(
  client: SottoClient,
  store: SqliteClientStore,
  notify: (line: string) => void,
): Promise<void> {
  const status = await client.backups.status();
  if (status.scheduleIntervalMs === null) return;
  const target = parseTarget((await savedTarget(store)) ?? 'relay');
  const storage = await storageFor(client, target);
  client.backups.startScheduler(storage, {
    ...BACKUP_OPTIONS,
    onScheduledBackup: (result) => {
      if (result instanceof Error) {
        const e = explain(result);
        notify(
          `-- automatic backup failed (${e instanceof Error ? e.message : 'error'}); retrying later`,
        );
      } else {
        notify(`-- automatic backup ${result.name} stored in ${targetText(target)}`);
      }
    },
  });
}
