/**
 * What most commands share: open the profile's store (asking for the passphrase), create the SDK
 * client over it, and — for commands that talk to the relay in real time — connect, failing fast
 * with a clear error when the relay cannot be reached. Closing is always done here, in order:
 * client first (it flushes acknowledgements), then the store.
 */
import WebSocket from 'ws';
import { ClientError, createClient, type SottoClient, type WebSocketFactory } from '@sotto/client';
import type { SqliteClientStore } from '@sotto/client-store-sqlite';
import { CliError } from './cli-error.js';
import {
  DEFAULT_SERVER_URL,
  discardNewProfileStore,
  openProfileStore,
  profileDirectory,
  readSettings,
} from './profile.js';
import { CONNECT_TIMEOUT_MS, FLUSH_TIMEOUT_MS, MAILBOX_QUIET_MS } from './limits.js';

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

export async function openSession(
  globals: GlobalOptions,
  ctx: RunContext,
  options: { readonly create?: boolean } = {},
): Promise<Session> {
  const profileDir = profileDirectory(globals.profile);
  ctx.profileDir = profileDir;
  const { store, created } = await openProfileStore(profileDir, {
    create: options.create ?? false,
  });
  try {
    const settings = await readSettings(store);
    const serverUrl = serverUrlFrom(globals, settings?.serverUrl);
    ctx.serverUrl = serverUrl;
    const client = await createClient({ serverUrl, store, webSocketFactory });
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
): Promise<T> {
  const session = await openSession(globals, ctx);
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
 * Connects the client's message socket. Unlike the SDK (which retries for ever, right for an app
 * that stays open), a command fails fast: the first failed attempt or the timeout ends it.
 */
export async function connectOrFail(
  session: Session,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  const { client } = session;
  let off: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unreachable = (): CliError =>
    new CliError(
      'UNREACHABLE',
      `cannot reach ${session.serverUrl}: is it running and is the address right?`,
    );
  const failed = new Promise<never>((_, reject) => {
    off = client.on('connection', (event) => {
      if (event.state === 'reconnecting') reject(unreachable());
    });
    timer = setTimeout(() => reject(unreachable()), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), failed]);
  } finally {
    off?.();
    clearTimeout(timer);
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
 * Resolves once what waited in the mailbox was shown: the relay said its queue is empty and the
 * client then stayed quiet for a moment (the SDK processes envelopes after announcing queue-empty).
 * Bounded by `timeoutMs`. Call before `connect` so the queue-empty event is not missed.
 */
export function mailboxDrained(client: SottoClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let emptied = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      off();
      clearTimeout(quiet);
      clearTimeout(limit);
      resolve();
    };
    const rearm = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, MAILBOX_QUIET_MS);
    };
    const off = client.onAny((event) => {
      if (event.type === 'queue-empty') emptied = true;
      if (emptied) rearm();
    });
    const limit = setTimeout(finish, timeoutMs);
  });
}
