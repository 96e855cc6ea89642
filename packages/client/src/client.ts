/**
 * `createClient` and `SottoClient`: the SDK's public face (ARCHITECTURE.md "A message's way";
 * docs/client.md). A client is one device of one account over one `ClientStore`; the transport
 * (HTTP through `fetch`, the message socket through `webSocketFactory`) is its only I/O.
 *
 * What it does, and where:
 * - register / link / two-step PIN — account/account-manager.ts
 * - prekeys: upload, refill, rotation — account/key-manager.ts
 * - send: outbox with per-device encryption, 409/410 handling, retries — messaging/outbox.ts
 * - receive: inbox with exactly-once storage before the ack — messaging/inbox.ts
 * - trust on first use, identity-change holds, safety numbers — here and state/device-state.ts
 */
import {
  isUuid,
  PRIMARY_DEVICE_ID,
  toBase64Url,
  type ResponseBody,
  type VaultCredential,
} from '@sotto/api';
import {
  Fingerprint,
  fingerprintIdentifierFromAci,
  ProtocolError,
  PublicKey,
  type SessionRecord,
} from '@sotto/protocol';
import {
  AccountManager,
  type AccountInfo,
  type PendingLink,
  type RegisterOptions,
} from './account/account-manager.js';
import { KeyManager, type KeyStatus } from './account/key-manager.js';
import { BackupManager } from './backup/backup-manager.js';
import { restoreFromBackup, type RestoreOptions, type RestoreResult } from './backup/restore.js';
import { ClientCore, type ClientOptions } from './core.js';
import { ClientError } from './errors.js';
import type {
  ClientEvent,
  ClientEventOf,
  ClientEventType,
  ConnectionState,
  StoredMessage,
} from './events.js';
import {
  KEY_MAINTENANCE_INTERVAL_MS,
  LINK_APPROVAL_TIMEOUT_MS,
  LINK_TIMEOUT_MS,
  MAX_TEXT_BYTES,
  MESSAGE_ID_BYTES,
  PROCESSED_GUID_RETENTION_MS,
} from './limits.js';
import { MAX_RECEIPT_IDS, isMessageId } from './messaging/content.js';
import { DeviceDirectory, errorCode } from './messaging/device-directory.js';
import { Inbox } from './messaging/inbox.js';
import { listMessages, putMessage, updateStatus } from './messaging/message-store.js';
import { Outbox } from './messaging/outbox.js';
import { sottoSessionEngine, type SessionEngine } from './session-engine.js';
import { fromJsonBytes, toJsonBytes } from './state/json.js';
import { NS } from './state/namespaces.js';
import { fetchVaultCredential } from './vault/relay-credential.js';

export interface ContactInfo {
  readonly accountId: string;
  /** Known when the contact was found by number (`lookup`). */
  readonly number: string | null;
  /** The recorded identity key (33 bytes), `null` before the first session. */
  readonly identityKey: Uint8Array | null;
  /**
   * `unknown`: no key recorded yet; `trusted`: the key is accepted; `changed`: a new key arrived
   * and the user has not accepted it (messages to the contact are held).
   */
  readonly identityState: 'unknown' | 'trusted' | 'changed';
  /** The user compared safety numbers for the current key. */
  readonly verified: boolean;
}

export interface SafetyNumber {
  /** 60 digits (shown in 12 groups of 5); the same on both phones. */
  readonly digits: string;
  /** The QR code payload (libsignal's scannable fingerprint, version 2). */
  readonly qrPayload: Uint8Array;
}

export interface DeviceInfo {
  readonly deviceId: number;
  readonly primary: boolean;
  readonly thisDevice: boolean;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface LinkOptions {
  /** How long to wait for the primary's provisioning message (default 10 minutes). */
  readonly timeoutMs?: number;
}

export interface ApproveLinkOptions {
  /** How long to wait for the new device to join after sending it the account (default 2 minutes). */
  readonly timeoutMs?: number;
}

export interface ConnectOptions {
  /**
   * Give up after this many failed attempts to open the first connection (`NETWORK`); default:
   * keep trying. Once open, the client reconnects by itself whatever this says.
   */
  readonly maxAttempts?: number;
  /** Give up if the first connection is not open after this long (`TIMEOUT`); default: never. */
  readonly timeoutMs?: number;
}

interface ContactJson {
  number: string | null;
}

function checkContact(contact: string): void {
  if (typeof contact !== 'string' || !isUuid(contact)) {
    throw new ClientError('INVALID_ARGUMENT', 'contact must be an account id (lowercase UUID)');
  }
}

const textEncoder = new TextEncoder();

/**
 * One device of a Sotto account. Create it with {@link createClient}; register or link it once;
 * then `connect()` and use it. Every method that changes state writes to the store before it
 * returns.
 */
export class SottoClient {
  readonly #core: ClientCore<unknown>;
  readonly #account: AccountManager<unknown>;
  readonly #keys: KeyManager<unknown>;
  readonly #directory: DeviceDirectory<unknown>;
  readonly #outbox: Outbox<unknown>;
  readonly #inbox: Inbox<unknown>;
  /** End-to-end encrypted backups: keys, create, list, delete, schedule (docs/client.md). */
  readonly backups: BackupManager;
  #maintenanceTimer: ReturnType<typeof setInterval> | null = null;
  #keyCheckTimer: ReturnType<typeof setTimeout> | null = null;
  #lastSentAt = 0;

  /** @internal use {@link createClient} */
  constructor(core: ClientCore<unknown>) {
    this.#core = core;
    this.#keys = new KeyManager(core);
    this.#directory = new DeviceDirectory(core);
    this.#account = new AccountManager(core, this.#keys, this.#directory);
    this.#outbox = new Outbox(core, this.#directory);
    this.backups = new BackupManager(core);
    // Plaintext-content envelopes (type 8) carry nothing this client uses yet: acknowledge them.
    this.#inbox = new Inbox(core, this.#directory, this.#outbox, () => Promise.resolve(true));
    this.#inbox.onPreKeyMessage = () => this.#scheduleKeyCheck();
    core.setSocketHandlers({
      onEnvelope: (e) => this.#inbox.receive(e),
      onQueueEmpty: () => void this.#onQueueEmpty(),
      onState: (state) => this.#onState(state),
      probe: async () => {
        if (core.registration === null) return 'retry';
        try {
          await core.http.call('whoAmI', { credentials: core.credentials() });
          return 'retry';
        } catch (err) {
          if (ClientError.is(err, 'DEREGISTERED') || ClientError.isApi(err, 'FORBIDDEN'))
            return 'deregistered';
          // A Sotto relay without this contract's routes is another version of it.
          if (ClientError.isApi(err, 'NOT_FOUND')) return 'unsupported';
          return 'retry';
        }
      },
    });
  }

  /** @internal */
  async init(): Promise<void> {
    await this.#account.load();
    await this.#outbox.load();
  }

  /** Public facts only: never the credential, keys or message content. */
  toJSON(): string {
    const a = this.#account.info();
    return a === null
      ? 'SottoClient(unregistered)'
      : `SottoClient(${a.accountId}.${a.deviceId}, ${a.status})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toJSON();
  }

  // ---- events --------------------------------------------------------------------------------

  /** Subscribes to one kind of event; returns the unsubscribe function. */
  on<T extends ClientEventType>(type: T, listener: (event: ClientEventOf<T>) => void): () => void {
    return this.#core.events.on(type, listener);
  }

  /** Subscribes to every event. */
  onAny(listener: (event: ClientEvent) => void): () => void {
    return this.#core.events.onAny(listener);
  }

  /** The first event of `type` matching `predicate` (rejects with `TIMEOUT`). */
  waitFor<T extends ClientEventType>(
    type: T,
    predicate?: (event: ClientEventOf<T>) => boolean,
    timeoutMs = 30_000,
  ): Promise<ClientEventOf<T>> {
    return this.#core.events.waitFor(
      type,
      predicate,
      timeoutMs,
      () => new ClientError('TIMEOUT', `no ${type} event within ${timeoutMs} ms`),
    );
  }

  /** Every event from now on, as an async iterable (stop with `signal` or `break`). */
  events(signal?: AbortSignal): AsyncIterable<ClientEvent> {
    return this.#core.events.stream(signal);
  }

  get connectionState(): ConnectionState {
    return this.#core.socket.state;
  }

  // ---- account -------------------------------------------------------------------------------

  /** This device's account, or `null` before registration or linking. */
  get account(): AccountInfo | null {
    return this.#account.info();
  }

  /** Asks the relay to send a verification code by SMS to `number` (E.164). */
  requestCode(number: string): Promise<{ expiresInSeconds: number }> {
    return this.#account.requestCode(number);
  }

  /**
   * Registers `number` with its SMS code on this (empty) store: makes the identity key, uploads
   * prekeys. A registration-locked number needs this store's master key or `pin` with a PIN vault;
   * otherwise it fails with `REGISTRATION_LOCKED` (details: `timeRemainingMs`).
   */
  register(options: RegisterOptions): Promise<AccountInfo> {
    return this.#account.register(options);
  }

  /**
   * On a fresh store: restores a backup (with the recovery key, or the password through the key
   * vault), registers the number again with its one SMS code — same account, the restored identity
   * key, new device keys — and writes contacts, verification states, messages and settings. The
   * archive is read twice (verified, then written), with constant memory; a wrong key or a
   * damaged archive fails before anything is written. Then `connect()` as usual.
   */
  restoreFromBackup(options: RestoreOptions): Promise<RestoreResult> {
    return restoreFromBackup(
      this.#core,
      { createInitialKeys: () => this.#keys.createInitialKeys() },
      options,
    );
  }

  /**
   * On a new device with an empty store: starts linking it to an existing account (Signal's
   * device provisioning). Resolves with the link URI to show the primary — as text and as a QR
   * code — and `done`, which resolves once the primary approved it, this device joined the
   * account and uploaded its keys (then `connect()`). Rejects `done` with `TIMEOUT` after
   * `timeoutMs` (default 10 minutes) and `LINK_FAILED` for a message not meant for this device.
   */
  beginLink(options: LinkOptions = {}): Promise<PendingLink> {
    if (this.#core.closed)
      return Promise.reject(new ClientError('CLOSED', 'the client was closed'));
    return this.#account.beginLink(options.timeoutMs ?? LINK_TIMEOUT_MS);
  }

  /**
   * On the primary: approves the new device that shows `uri` (read off its screen — that is what
   * proves the key in it belongs to the device in front of you). Sends it the account's identity
   * key pair, account id, number and a provisioning code, sealed to that key; resolves with the
   * new device's id once it joined (`device-linked` is emitted too).
   */
  approveLink(uri: string, options: ApproveLinkOptions = {}): Promise<{ deviceId: number }> {
    return this.#account.approveLink(uri, options.timeoutMs ?? LINK_APPROVAL_TIMEOUT_MS);
  }

  /** Turns on the two-step PIN (registration lock); primary only. */
  setPin(pin: string): Promise<void> {
    return this.#account.setPin(pin);
  }

  /** Replaces the PIN (the lock stays on); primary only. */
  changePin(pin: string): Promise<void> {
    return this.#account.changePin(pin);
  }

  /** Turns the registration lock off; primary only. */
  removePin(): Promise<void> {
    return this.#account.removePin();
  }

  /** True if this device turned the registration lock on. */
  registrationLockEnabled(): Promise<boolean> {
    return this.#account.lockEnabled();
  }

  /**
   * A fresh key vault credential for this account from the relay (valid for an hour): for
   * `new HttpVaultApi({ url, credential: () => client.vaultCredential() })`. A secret.
   */
  vaultCredential(): Promise<VaultCredential> {
    this.#core.requireRegistered();
    return fetchVaultCredential(
      this.#core.options.serverUrl,
      this.#core.options.fetch ?? globalThis.fetch,
      this.#core.credentials(),
    );
  }

  /** What the relay says about this account (including whether the registration lock is on). */
  async serverAccount(): Promise<{
    accountId: string;
    deviceId: number;
    number: string;
    registrationLock: boolean;
  }> {
    this.#core.requireRegistered();
    return this.#core.http.json('whoAmI', { credentials: this.#core.credentials() });
  }

  /** The account's devices as the relay lists them. */
  async devices(): Promise<DeviceInfo[]> {
    const reg = this.#core.requireRegistered();
    const res = await this.#core.http.call('listDevices', {
      credentials: this.#core.credentials(),
    });
    return (res?.devices ?? []).map((d) => ({
      deviceId: d.deviceId,
      primary: d.deviceId === PRIMARY_DEVICE_ID,
      thisDevice: d.deviceId === reg.deviceId,
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
    }));
  }

  /** Unlinks a device (the primary any linked one; a linked device itself). */
  async removeDevice(deviceId: number): Promise<void> {
    this.#core.requireRegistered();
    await this.#core.http.call('removeDevice', {
      params: { deviceId: String(deviceId) },
      credentials: this.#core.credentials(),
    });
    await this.#directory.refreshOwnDevices();
  }

  /** Prekey counts on the relay and the current signed prekeys of this device. */
  keyStatus(): Promise<KeyStatus> {
    return this.#keys.status();
  }

  /**
   * Refills one-time prekeys below the low-water mark and rotates the signed prekey when due.
   * Runs by itself on connect, hourly, and after PreKey messages; exposed for apps and tests.
   */
  maintainKeys(): Promise<void> {
    return this.#keys.maintain();
  }

  // ---- connection ----------------------------------------------------------------------------

  /**
   * Opens the message socket and resolves once it is open; afterwards the client reconnects with
   * backoff until `close`. Transient failures are retried (for ever, unless `maxAttempts` or
   * `timeoutMs` bound the first connection: `NETWORK`, `TIMEOUT`); permanent ones reject at once:
   * `DEREGISTERED` (the relay refuses this device's credential), `SERVER_UNSUPPORTED` (the relay
   * speaks another version of the protocol).
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    const core = this.#core;
    if (core.closed) throw new ClientError('CLOSED', 'the client was closed');
    if (core.registration === null)
      throw new ClientError('NOT_REGISTERED', 'register or link first');
    core.socket.start(
      options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const timeoutMs = options.timeoutMs;
    try {
      await Promise.race([
        core.socket.whenOpen(),
        ...(timeoutMs === undefined
          ? []
          : [
              new Promise<void>((resolve) => {
                timer = setTimeout(() => {
                  timedOut = true;
                  resolve();
                }, timeoutMs);
              }),
            ]),
      ]);
    } finally {
      clearTimeout(timer);
    }
    if (core.socket.state === 'open') return;
    if (timedOut) {
      core.socket.stop();
      throw new ClientError('TIMEOUT', `no connection to the relay within ${timeoutMs} ms`);
    }
    throw (
      core.socket.failure ?? new ClientError('CLOSED', 'the connection was closed before it opened')
    );
  }

  /**
   * Stops the client: waits for envelopes being processed, sends their acknowledgements, closes
   * the socket. The store stays open (it belongs to the caller).
   */
  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    this.#account.cancelLink();
    this.#stopTimers();
    await this.backups.stop();
    this.#outbox.stop();
    await this.#inbox.idle();
    core.flushAcks();
    core.socket.stop();
  }

  /** Resolves when every queued send was accepted by the relay (held ones excepted). */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  /** Sends not yet accepted by the relay (held ones included). */
  get pendingSends(): number {
    return this.#outbox.size;
  }

  #onState(state: ConnectionState): void {
    const core = this.#core;
    core.events.emit({ type: 'connection', state });
    if (state !== 'open') return;
    if (core.registration?.status !== 'registered') return;
    this.#outbox.kick();
    this.#directory.scheduleOwnRefresh();
    if (core.options.backup?.storage !== undefined && !this.backups.schedulerRunning) {
      this.backups.startScheduler();
    }
    this.#runKeyMaintenance();
    if (this.#maintenanceTimer === null) {
      this.#maintenanceTimer = setInterval(
        () => this.#runKeyMaintenance(),
        KEY_MAINTENANCE_INTERVAL_MS,
      );
      (this.#maintenanceTimer as { unref?: () => void }).unref?.();
      void this.#pruneProcessedGuids();
    }
  }

  /**
   * The relay drained this device's mailbox: announce it once everything received before its
   * QUEUE_EMPTY was processed and the acknowledgements went out — on the same connection.
   */
  async #onQueueEmpty(): Promise<void> {
    const core = this.#core;
    const generation = core.socket.generation;
    await this.#inbox.processedSoFar();
    if (core.closed || !core.socket.isOpen || core.socket.generation !== generation) return;
    core.flushAcks();
    core.events.emit({ type: 'queue-empty' });
  }

  #runKeyMaintenance(): void {
    if (this.#core.closed || this.#core.registration?.status !== 'registered') return;
    this.#keys.maintain().catch((err: unknown) => this.#problem(err));
  }

  #scheduleKeyCheck(): void {
    if (this.#keyCheckTimer !== null) return;
    this.#keyCheckTimer = setTimeout(() => {
      this.#keyCheckTimer = null;
      this.#runKeyMaintenance();
    }, 1000);
  }

  #stopTimers(): void {
    if (this.#maintenanceTimer !== null) clearInterval(this.#maintenanceTimer);
    if (this.#keyCheckTimer !== null) clearTimeout(this.#keyCheckTimer);
    this.#maintenanceTimer = this.#keyCheckTimer = null;
  }

  #problem(err: unknown): void {
    this.#core.events.emit({ type: 'problem', kind: 'maintenance-failed', code: errorCode(err) });
  }

  async #pruneProcessedGuids(): Promise<void> {
    const core = this.#core;
    try {
      const cutoff = core.now() - PROCESSED_GUID_RETENTION_MS;
      const old: string[] = [];
      for (const [guid, bytes] of await core.store.list(NS.processedGuids)) {
        if (fromJsonBytes<number>(bytes, 'processed guid') < cutoff) old.push(guid);
      }
      if (old.length === 0) return;
      await core.store.transaction(async (tx) => {
        for (const guid of old) await tx.delete(NS.processedGuids, guid);
      });
    } catch (err) {
      this.#problem(err);
    }
  }

  // ---- contacts and trust --------------------------------------------------------------------

  /** The account id registered to `number` (remembered as that contact's number). */
  async lookup(number: string): Promise<string> {
    this.#core.requireRegistered();
    let res: ResponseBody<'lookupAccount'>;
    try {
      res = await this.#core.http.json('lookupAccount', {
        body: { number },
        credentials: this.#core.credentials(),
      });
    } catch (err) {
      if (ClientError.isApi(err, 'ACCOUNT_NOT_FOUND')) {
        throw new ClientError('UNKNOWN_CONTACT', 'no account has this number', { cause: err });
      }
      throw err;
    }
    const accountId = res.accountId;
    await this.#core.store.put(
      NS.contacts,
      accountId,
      toJsonBytes({ number } satisfies ContactJson),
    );
    return accountId;
  }

  async contact(accountId: string): Promise<ContactInfo> {
    checkContact(accountId);
    const core = this.#core;
    const trust = await core.state.begin().getTrust(accountId);
    const c = await core.store.get(NS.contacts, accountId);
    const number = c === undefined ? null : fromJsonBytes<ContactJson>(c, 'contact').number;
    return {
      accountId,
      number,
      identityKey: trust?.key ?? null,
      identityState: trust === null ? 'unknown' : trust.accepted ? 'trusted' : 'changed',
      verified: trust?.verified ?? false,
    };
  }

  /** Every contact with a recorded identity or a looked-up number. */
  async contacts(): Promise<ContactInfo[]> {
    const ids = new Set<string>();
    for (const [k] of await this.#core.store.list(NS.identities)) ids.add(k);
    for (const [k] of await this.#core.store.list(NS.contacts)) ids.add(k);
    const out: ContactInfo[] = [];
    for (const id of [...ids].sort()) out.push(await this.contact(id));
    return out;
  }

  /**
   * Accepts a contact's changed identity key (after the `identity-changed` warning) and sends
   * the messages that were held for it. Returns false if nothing was pending.
   */
  async acceptIdentityChange(contact: string): Promise<boolean> {
    checkContact(contact);
    this.#core.requireRegistered();
    const tx = this.#core.state.begin();
    const trust = await tx.getTrust(contact);
    if (trust === null || trust.accepted) return false;
    tx.putTrust(contact, {
      key: trust.key,
      accepted: true,
      verified: false,
      firstSeenAt: trust.firstSeenAt,
      ...(trust.changedAt === undefined ? {} : { changedAt: trust.changedAt }),
    });
    await tx.commit();
    await this.#outbox.release(contact);
    return true;
  }

  /** The safety number of this account and `contact` (their current recorded key). */
  async safetyNumber(contact: string): Promise<SafetyNumber> {
    const fp = await this.#fingerprint(contact);
    return { digits: fp.displayString, qrPayload: fp.qrPayload() };
  }

  async #fingerprint(contact: string): Promise<Fingerprint> {
    checkContact(contact);
    const core = this.#core;
    const reg = core.requireRegistered();
    const trust = await core.state.begin().getTrust(contact);
    if (trust === null)
      throw new ClientError('UNKNOWN_CONTACT', 'no identity key is known for this contact yet');
    return Fingerprint.create({
      version: 2,
      local: {
        identifier: fingerprintIdentifierFromAci(reg.accountId),
        identityKey: core.state.local.identity.publicKey,
      },
      remote: {
        identifier: fingerprintIdentifierFromAci(contact),
        identityKey: PublicKey.deserialize(trust.key),
      },
    });
  }

  /**
   * Compares a QR payload scanned from the contact's phone with ours; on a match marks the
   * contact verified. Returns whether it matched.
   */
  async verifySafetyNumber(contact: string, scanned: Uint8Array): Promise<boolean> {
    const fp = await this.#fingerprint(contact);
    let same: boolean;
    try {
      same = fp.scannable.compare(scanned);
    } catch (err) {
      if (err instanceof ProtocolError) return false;
      throw err;
    }
    if (same) await this.markVerified(contact);
    return same;
  }

  /**
   * Marks the contact's current key as verified (the user compared safety numbers). This also
   * accepts a pending key change.
   */
  async markVerified(contact: string): Promise<void> {
    checkContact(contact);
    this.#core.requireRegistered();
    const tx = this.#core.state.begin();
    const trust = await tx.getTrust(contact);
    if (trust === null)
      throw new ClientError('UNKNOWN_CONTACT', 'no identity key is known for this contact yet');
    tx.putTrust(contact, { ...trust, accepted: true, verified: true });
    await tx.commit();
    await this.#outbox.release(contact);
  }

  /** Clears the verified mark of a contact. */
  async clearVerified(contact: string): Promise<void> {
    checkContact(contact);
    const tx = this.#core.state.begin();
    const trust = await tx.getTrust(contact);
    if (trust === null || !trust.verified) return;
    tx.putTrust(contact, { ...trust, verified: false });
    await tx.commit();
  }

  // ---- messages ------------------------------------------------------------------------------

  /**
   * Sends a text to `contact` (every device of theirs, and a copy to this account's other
   * devices). Resolves once the message is stored in the outbox — it is then sent, and re-sent
   * after crashes and reconnects, until the relay accepts it; follow `message-status` events.
   */
  async send(contact: string, text: string): Promise<StoredMessage> {
    checkContact(contact);
    const core = this.#core;
    const reg = core.requireRegistered();
    if (typeof text !== 'string' || textEncoder.encode(text).length > MAX_TEXT_BYTES) {
      throw new ClientError(
        'INVALID_ARGUMENT',
        `text must be a string of at most ${MAX_TEXT_BYTES} UTF-8 bytes`,
      );
    }
    const id = toBase64Url(core.rng(MESSAGE_ID_BYTES));
    // Strictly increasing per device, so a conversation lists in sending order.
    const now = Math.max(core.now(), this.#lastSentAt + 1);
    this.#lastSentAt = now;
    const message: StoredMessage = {
      id,
      conversation: contact,
      author: reg.accountId,
      authorDevice: reg.deviceId,
      direction: 'outgoing',
      body: text,
      sentAt: now,
      storedAt: now,
      status: this.#outbox.isHeld(contact) ? 'held' : 'pending',
    };
    const tx = core.state.begin();
    putMessage(tx, message);
    this.#outbox.stage(tx, contact, { type: 'text', id, sentAt: now, body: text }, id);
    if (contact !== reg.accountId) {
      this.#outbox.stage(
        tx,
        reg.accountId,
        { type: 'sync-sent', destination: contact, id, sentAt: now, body: text },
        null,
      );
    }
    await tx.commit();
    return message;
  }

  /** Marks incoming messages of `contact` read and sends read receipts (and syncs other devices). */
  async markRead(contact: string, ids: readonly string[]): Promise<void> {
    checkContact(contact);
    const core = this.#core;
    const reg = core.requireRegistered();
    for (const id of ids)
      if (!isMessageId(id)) throw new ClientError('INVALID_ARGUMENT', 'ids must be message ids');
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const chunk = ids.slice(i, i + MAX_RECEIPT_IDS);
      await core.records(async () => {
        const tx = core.state.begin();
        const read: string[] = [];
        for (const id of chunk) {
          if ((await updateStatus(tx, contact, id, 'read', contact)) !== null) read.push(id);
        }
        if (read.length > 0) {
          this.#outbox.stage(tx, contact, { type: 'receipt', kind: 'read', ids: read }, null);
          const sync = { type: 'sync-read', author: contact, ids: read } as const;
          this.#outbox.stage(tx, reg.accountId, sync, null);
        }
        await tx.commit();
      });
    }
  }

  /** The stored messages of a conversation, oldest first (the last `limit` ones if given). */
  messages(contact: string, options: { limit?: number } = {}): Promise<StoredMessage[]> {
    checkContact(contact);
    return listMessages(this.#core.store, contact, options.limit);
  }
}

/**
 * Opens a client over `options.store` (loading any account in it). Pass `ws` as the WebSocket
 * factory in Node 20: `webSocketFactory: (url, o) => new WebSocket(url, o)`.
 */
export async function createClient<R = SessionRecord>(
  options: ClientOptions<R>,
): Promise<SottoClient> {
  if (typeof options.serverUrl !== 'string' || !/^https?:\/\//.test(options.serverUrl)) {
    throw new ClientError('INVALID_ARGUMENT', 'serverUrl must be an http(s) URL');
  }
  if (typeof options.webSocketFactory !== 'function') {
    throw new ClientError('INVALID_ARGUMENT', 'webSocketFactory is required');
  }
  const engine = (options.sessionEngine ?? sottoSessionEngine) as SessionEngine<unknown>;
  const core = new ClientCore<unknown>(options, engine);
  const client = new SottoClient(core);
  await client.init();
  return client;
}
