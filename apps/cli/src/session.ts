/**
 * What most commands share: open the profile's store (asking for the passphrase), create the SDK
 * client over it, and — for commands that talk to the relay in real time — connect, failing fast
 * with a clear error when the relay cannot be reached. Closing is always done here, in order:
 * client first (it flushes acknowledgements), then the store.
 */
import WebSocket from 'ws';
import {
  ClientError,
  createClient,
  type BackupOptions,
  type SottoClient,
  type WebSocketFactory,
} from '@sotto/client';
import type { SqliteClientStore } from '@sotto/client-store-sqlite';
import { CliError } from './cli-error.js';
import { cliPinVault } from './commands/pin.js';
import {
  DEFAULT_SERVER_URL,
  discardNewProfileStore,
  openProfileStore,
  profileDirectory,
  readSettings,
} from './profile.js';
import { CONNECT_ATTEMPTS, CONNECT_TIMEOUT_MS, FLUSH_TIMEOUT_MS } from './limits.js';

/** Options every command accepts (before or after its name). */
export interface GlobalOptions {
  readonly profile?: string;
  readonly server?: string;
}

/** Filled in as a command runs, so an error can name the profile and server it concerns. */
export interface RunContext {
  profileDir: string;
  serverUrl?: string;
}

export interface Session {
  readonly profileDir: string;
  readonly serverUrl: string;
  readonly store: SqliteClientStore;
  readonly client: SottoClient;
  /** True if this run created the profile (a failed registration removes it again). */
  readonly created: boolean;
}

const webSocketFactory: WebSocketFactory = (url, options) =>
  new WebSocket(url, { headers: { ...options.headers } });

export function serverUrlFrom(globals: GlobalOptions, saved: string | undefined): string {
  return globals.server ?? process.env.SOTTO_SERVER ?? saved ?? DEFAULT_SERVER_URL;
}

export interface SessionOptions {
  /** Create the profile if it does not exist (register, link, restore). */
  readonly create?: boolean;
  /** Also wrap a new store key with the OS keychain (keychain.ts). */
  readonly keychain?: boolean;
  /** The SDK's backup options (the backup commands: which namespaces go into a backup). */
  readonly backup?: BackupOptions;
}

export async function openSession(
  globals: GlobalOptions,
  ctx: RunContext,
  options: SessionOptions = {},
): Promise<Session> {
  const profileDir = profileDirectory(globals.profile);
  ctx.profileDir = profileDir;
  const { store, created } = await openProfileStore(profileDir, {
    create: options.create ?? false,
    keychain: options.keychain === true,
  });
  try {
    const settings = await readSettings(store);
    const serverUrl = serverUrlFrom(globals, settings?.serverUrl);
    ctx.serverUrl = serverUrl;
    const client = await createClient({
      serverUrl,
      store,
      webSocketFactory,
      // The PIN (SOTTO_PIN) answers a registration lock (on register, and on a restore whose
      // backup key cannot open it).
      pinVault: cliPinVault(),
      ...(options.backup === undefined ? {} : { backup: options.backup }),
    });
    return { profileDir, serverUrl, store, client, created };
  } catch (err) {
    await store.close();
    if (created) discardNewProfileStore(profileDir);
    throw err;
  }
}

export async function closeSession(session: Session): Promise<void> {
  try {
    await session.client.close();
  } finally {
    await session.store.close();
  }
}

/** Runs `fn` with an open session of a registered profile and closes it afterwards. */
export async function withSession<T>(
  globals: GlobalOptions,
  ctx: RunContext,
  fn: (session: Session) => Promise<T>,
  options: Omit<SessionOptions, 'create' | 'keychain'> = {},
): Promise<T> {
  const session = await openSession(globals, ctx, options);
  try {
    if (session.client.account?.status !== 'registered') {
      throw new ClientError('NOT_REGISTERED', 'this profile holds no registered account');
    }
    return await fn(session);
  } finally {
    await closeSession(session);
  }
}

/**
 * Runs `fn` with a session of a profile that holds no account yet, creating the profile if needed
 * (register, link, restore). A profile this run created is removed again unless `fn` succeeds, so
 * a failed attempt leaves nothing behind.
 */
export async function withNewProfile<T>(
  globals: GlobalOptions,
  ctx: RunContext,
  options: Omit<SessionOptions, 'create'>,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await openSession(globals, ctx, { ...options, create: true });
  let succeeded = false;
  try {
    const existing = session.client.account;
    if (existing !== null) {
      throw new ClientError(
        'ALREADY_REGISTERED',
        `this profile already holds ${existing.number ?? 'an account'}`,
      );
    }
    const result = await fn(session);
    succeeded = true;
    return result;
  } finally {
    await closeSession(session);
    if (!succeeded && session.created) discardNewProfileStore(session.profileDir);
  }
}

/** The one line for a relay that cannot be reached. */
export function unreachable(serverUrl: string, cause?: unknown): CliError {
  return new CliError(
    'UNREACHABLE',
    `server unreachable at ${serverUrl}: is it running and is the address right?`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Connects the client's message socket. Unlike an app (which lets the SDK retry for ever), a
 * command wants an answer: CONNECT_ATTEMPTS failed attempts or the timeout end it with "server
 * unreachable"; a refused credential or an incompatible relay end it at once (the SDK's typed
 * errors, described by cli-error.ts).
 */
export async function connectOrFail(
  session: Session,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  try {
    await session.client.connect({ maxAttempts: CONNECT_ATTEMPTS, timeoutMs });
  } catch (err) {
    if (ClientError.is(err, 'NETWORK') || ClientError.is(err, 'TIMEOUT')) {
      throw unreachable(session.serverUrl, err);
    }
    throw err;
  }
}

/**
 * Waits (briefly) until the outbox is empty. What does not go out in time is not lost: the outbox
 * is in the store and is sent on the next connection.
 */
export async function flushBriefly(
  client: SottoClient,
  timeoutMs = FLUSH_TIMEOUT_MS,
): Promise<void> {
  if (client.pendingSends === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.flush(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once what waited in the mailbox was shown: the SDK's `queue-empty` comes only after
 * every envelope before it was stored, shown and acknowledged. Bounded by `timeoutMs`. Call
 * before `connect` so the event is not missed.
 */
export function mailboxDrained(client: SottoClient, timeoutMs: number): Promise<void> {
  return client.waitFor('queue-empty', undefined, timeoutMs).then(
    () => undefined,
    () => undefined,
  );
}
