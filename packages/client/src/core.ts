/**
 * The client's shared machinery, used by its parts (account, keys, devices, outbox, inbox): the
 * options, the device state, the transport, the event hub, the per-address queue, and small
 * helpers (credentials, randomness, time). Not exported from the package: apps use `SottoClient`.
 */
import type { DeviceCredentials, VaultCredential } from '@sotto/api';
import { randomBytes } from '@sotto/crypto';
import {
  addressToString,
  type ProtocolAddress,
  type Rng,
  type SessionContext,
} from '@sotto/protocol';
import type { BackupOptions } from './backup/backup-manager.js';
import type { ClientStore } from './client-store.js';
import { ClientError } from './errors.js';
import { EventHub } from './events.js';
import { KeyedQueue } from './keyed-queue.js';
import { ACK_BATCH_MAX } from './limits.js';
import type { SessionEngine } from './session-engine.js';
import type { RegistrationRecord } from './state/account-records.js';
import { DeviceState } from './state/device-state.js';
import type { FetchLike } from './transport/http-api.js';
import { HttpApi } from './transport/http-api.js';
import {
  MessageSocket,
  type MessageSocketHandlers,
  type WebSocketFactory,
} from './transport/message-socket.js';

/**
 * Recovers the registration-lock master key from a PIN (and stores it under a new PIN). The
 * guess-limited key vault implements it (`VaultPinVault`, vault/pin-vault.ts); without one, the
 * master key lives only on the device (re-registering elsewhere then waits for the lock to lapse).
 */
export interface PinVault {
  store(pin: string, masterKey: Uint8Array, context: PinVaultContext): Promise<void>;
  recover(pin: string, context: PinVaultContext): Promise<Uint8Array>;
  remove?(context: PinVaultContext): Promise<void>;
}

/**
 * What the account manager hands a `PinVault` (vault/pin-vault.ts): where the relay is, the
 * client's fetch, and the account's key vault credential — fetched from the relay for a
 * registered device, or taken from the relay's REGISTRATION_LOCKED answer on a new device.
 */
export interface PinVaultContext {
  readonly serverUrl: string;
  readonly fetch: FetchLike;
  /** The vault credential (a secret: never log it); rejects if the relay has no key vault. */
  credential(): Promise<VaultCredential>;
}

export interface ClientOptions<R> {
  /** The relay, e.g. `https://chat.example.org` (`http://` only on loopback). */
  readonly serverUrl: string;
  readonly store: ClientStore;
  /** Opens WebSockets: the global `WebSocket` in browsers, `ws` in Node 20. */
  readonly webSocketFactory: WebSocketFactory;
  /** Default: `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /** Default: the OS CSPRNG (`randomBytes` of @sotto/crypto). */
  readonly rng?: Rng;
  /** Default: `Date.now`. */
  readonly now?: () => number;
  /** Default: `@sotto/protocol` (see session-engine.ts). */
  readonly sessionEngine?: SessionEngine<R>;
  readonly pinVault?: PinVault;
  /** Send delivery receipts for incoming messages (default true). */
  readonly deliveryReceipts?: boolean;
  /** One-time prekeys of each kind per upload (default PREKEY_BATCH_SIZE). */
  readonly preKeyBatchSize?: number;
  /** Backups: storage for scheduled backups, the key vault for passwords (backup/backup-manager.ts). */
  readonly backup?: BackupOptions;
}

/** Queue key of `records` (address keys always contain a '.', this one cannot collide). */
const RECORDS_LOCK = 'records';

export class ClientCore<R> {
  readonly events = new EventHub();
  readonly queue = new KeyedQueue();
  readonly http: HttpApi;
  readonly rng: Rng;
  readonly now: () => number;
  readonly state: DeviceState<R>;
  readonly socket: MessageSocket;
  readonly deliveryReceipts: boolean;
  registration: RegistrationRecord | null = null;
  closed = false;
  #acks: string[] = [];
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  #socketHandlers: MessageSocketHandlers | null = null;

  constructor(
    readonly options: ClientOptions<R>,
    engine: SessionEngine<R>,
  ) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (fetchImpl === undefined) {
      throw new ClientError('INVALID_ARGUMENT', 'no fetch implementation: pass options.fetch');
    }
    this.http = new HttpApi(options.serverUrl, fetchImpl);
    this.rng = options.rng ?? randomBytes;
    this.now = options.now ?? Date.now;
    this.state = new DeviceState(options.store, engine, this.now);
    this.deliveryReceipts = options.deliveryReceipts ?? true;
    this.socket = new MessageSocket(
      this.http.webSocketUrl,
      () => this.credentials(),
      options.webSocketFactory,
      {
        onEnvelope: (e) => this.#socketHandlers?.onEnvelope(e),
        onQueueEmpty: () => this.#socketHandlers?.onQueueEmpty(),
        onState: (s) => this.#socketHandlers?.onState(s),
        probe: () => this.#socketHandlers?.probe() ?? Promise.resolve('retry'),
      },
    );
  }

  get store(): ClientStore {
    return this.options.store;
  }

  get engine(): SessionEngine<R> {
    return this.state.engine;
  }

  setSocketHandlers(handlers: MessageSocketHandlers): void {
    this.#socketHandlers = handlers;
  }

  credentials(): DeviceCredentials {
    const r = this.registration;
    if (r === null) throw new ClientError('NOT_REGISTERED', 'this device is not registered');
    return { accountId: r.accountId, deviceId: r.deviceId, credential: r.credential };
  }

  /** The registration of a fully set-up device (not one still waiting for its identity). */
  requireRegistered(): RegistrationRecord {
    const r = this.registration;
    if (r === null || r.status !== 'registered' || !this.state.hasLocal) {
      throw new ClientError('NOT_REGISTERED', 'this device is not registered');
    }
    if (this.closed) throw new ClientError('CLOSED', 'the client was closed');
    return r;
  }

  get isPrimary(): boolean {
    return this.registration?.deviceId === 1;
  }

  ctx(): SessionContext {
    return { rng: this.rng, now: this.now() };
  }

  addressKey(address: ProtocolAddress): string {
    return addressToString(address);
  }

  /**
   * Runs a read-modify-write of JSON records (message statuses, device lists) and its commit
   * under one lock, so two of them cannot lose each other's update. Lock order: address locks
   * (`queue`) first, then this one.
   */
  records<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(RECORDS_LOCK, fn);
  }

  /** Queues an acknowledgement; acks of one event-loop turn share a frame. */
  ack(guid: string): void {
    this.#acks.push(guid);
    if (this.#acks.length >= ACK_BATCH_MAX) {
      this.flushAcks();
      return;
    }
    this.#ackTimer ??= setTimeout(() => this.flushAcks(), 0);
  }

  flushAcks(): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    const guids = this.#acks;
    if (guids.length === 0) return;
    this.#acks = [];
    this.socket.ack(guids);
  }

  /** Drops acknowledgements not yet sent (what a crash does; tests use it through `close`). */
  discardAcks(): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    this.#acks = [];
  }
}
