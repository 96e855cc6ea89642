/**
 * The WebSocket half of the transport (packages/api frames.ts): one authenticated socket per
 * device that carries SEND/SEND_RESULT, pushed ENVELOPEs, ACKs and keep-alive PINGs, and that
 * reconnects with exponential backoff and jitter whenever it drops.
 *
 * The WebSocket constructor is injected (`webSocketFactory`): browsers pass the global one, Node 20
 * callers pass `ws`, tests wrap either to inject faults. The socket is the only place frames are
 * encoded and decoded. A SEND whose socket drops before its answer fails with `NETWORK`; the outbox
 * retries it with the same client message id, so the relay stores it once.
 *
 * Transient failures (refused connections, timeouts, drops, 5xx) are retried for ever, unless
 * `start({ maxAttempts })` bounds the attempts before the first open (a command-line tool wants an
 * answer, an app wants to wait). Permanent failures end the loop with a typed reason
 * (`failure`): close code 4401 (device removed) or a refused credential on the upgrade (asked
 * over HTTP, since browsers hide the upgrade's status) → `deregistered`; a relay that speaks
 * another frame version (a frame or ERROR with FRAME_VERSION_UNSUPPORTED, or a relay without the
 * routes of this contract) → `unsupported`.
 */
import {
  ApiError,
  decodeServerFrame,
  encodeClientFrame,
  formatAuthorization,
  MAX_ACKS_PER_FRAME,
  type DeviceCredentials,
  type EnvelopeFrame,
  type SendFrame,
  type ServerFrame,
} from '@sotto/api';
import { ClientError } from '../errors.js';
import type { ConnectionState } from '../events.js';
import {
  KEEPALIVE_INTERVAL_MS,
  KEEPALIVE_TIMEOUT_MS,
  RECONNECT_INITIAL_DELAY_MS,
  RECONNECT_JITTER,
  RECONNECT_MAX_DELAY_MS,
  SEND_TIMEOUT_MS,
} from '../limits.js';
import { serverRejected } from './http-api.js';

/**
 * An event handler property. Declared through a method so that implementations whose handlers
 * take a more specific event type (`ws`: `(event: WebSocket.Event) => void`) are accepted.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The subset of the WHATWG `WebSocket` the client uses (also implemented by `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/**
 * Opens a WebSocket to `url` sending `headers` with the upgrade request. With `ws`:
 * `(url, { headers }) => new WebSocket(url, { headers })`.
 */
export type WebSocketFactory = (
  url: string,
  options: { readonly headers: Readonly<Record<string, string>> },
) => WebSocketLike;

/** Close code of the relay for a removed device (packages/server device-connection.ts). */
const CLOSE_DEVICE_REMOVED = 4401;
const OPEN = 1;

export interface SendOutcome {
  readonly serverTimestamp: number;
  readonly duplicate: boolean;
}

/** What an HTTP probe of the relay says after a socket failed to open. */
export type RelayProbe =
  /** Reachable and accepting this device, or unreachable: worth retrying. */
  | 'retry'
  /** The relay refuses this device's credential (401/403). */
  | 'deregistered'
  /** The relay does not speak this client's version of the contract. */
  | 'unsupported';

export interface MessageSocketHandlers {
  onEnvelope(envelope: EnvelopeFrame): void;
  onQueueEmpty(): void;
  onState(state: ConnectionState): void;
  /** Asked after a socket closed before it opened: is the failure permanent? */
  probe(): Promise<RelayProbe>;
}

export interface StartOptions {
  /** Give up after this many failed attempts before the first open (default: never). */
  readonly maxAttempts?: number;
}

interface PendingRequest {
  resolve(outcome: SendOutcome): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class MessageSocket {
  #socket: WebSocketLike | null = null;
  #state: ConnectionState = 'offline';
  #running = false;
  #attempt = 0;
  #nextRequestId = 1;
  readonly #pending = new Map<number, PendingRequest>();
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #keepaliveTimer: ReturnType<typeof setTimeout> | null = null;
  #pongTimer: ReturnType<typeof setTimeout> | null = null;
  #openWaiters: Array<() => void> = [];
  #attemptsLeft = Infinity;
  #generation = 0;
  #failure: ClientError | null = null;

  constructor(
    private readonly url: string,
    private readonly credentials: () => DeviceCredentials,
    private readonly factory: WebSocketFactory,
    private readonly handlers: MessageSocketHandlers,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): ConnectionState {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Counts the sockets that opened: a frame's effects can be tied to its connection. */
  get generation(): number {
    return this.#generation;
  }

  /** Why the loop stopped by itself (deregistered, unsupported, attempts used up), if it did. */
  get failure(): ClientError | null {
    return this.#failure;
  }

  start(options: StartOptions = {}): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#failure = null;
    this.#attemptsLeft =
      options.maxAttempts === undefined ? Infinity : Math.max(1, Math.floor(options.maxAttempts));
    this.#open();
  }

  /** Stops reconnecting and closes the socket; pending sends fail with `CLOSED`. */
  stop(state: ConnectionState = 'offline'): void {
    this.#running = false;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#clearKeepalive();
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      try {
        socket.close(1000, 'client closed');
      } catch {
        // already closed
      }
    }
    this.#failPending(new ClientError('CLOSED', 'the connection was closed'));
    this.#setState(state);
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when the socket is open (or the loop stopped: check `isOpen`). */
  whenOpen(): Promise<void> {
    if (this.#state === 'open' || !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#openWaiters.push(resolve));
  }

  /** Sends a SEND frame and resolves with its SEND_RESULT; rejects on ERROR or a dropped socket. */
  send(frame: Omit<SendFrame, 'type' | 'requestId'>): Promise<SendOutcome> {
    const socket = this.#socket;
    if (socket === null || this.#state !== 'open') {
      return Promise.reject(new ClientError('NETWORK', 'not connected'));
    }
    const requestId = this.#nextRequestId;
    this.#nextRequestId = this.#nextRequestId >= 0xffff_fffe ? 1 : this.#nextRequestId + 1;
    const bytes = encodeClientFrame({ type: 'send', requestId, ...frame });
    return new Promise<SendOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new ClientError('NETWORK', 'no answer to a send'));
        // A relay that stopped answering is treated like a dropped socket.
        this.#dropSocket();
      }, SEND_TIMEOUT_MS);
      this.#pending.set(requestId, { resolve, reject, timer });
      try {
        socket.send(bytes);
      } catch (cause) {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        reject(new ClientError('NETWORK', 'the socket refused a frame', { cause }));
      }
    });
  }

  /**
   * Acknowledges envelopes. Dropped silently when the socket is closed: the relay then delivers
   * them again and the inbox recognises them by GUID.
   */
  ack(guids: readonly string[]): void {
    const socket = this.#socket;
    if (socket === null || this.#state !== 'open') return;
    for (let i = 0; i < guids.length; i += MAX_ACKS_PER_FRAME) {
      try {
        socket.send(
          encodeClientFrame({ type: 'ack', guids: guids.slice(i, i + MAX_ACKS_PER_FRAME) }),
        );
      } catch {
        return;
      }
    }
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.handlers.onState(state);
  }

  #open(): void {
    if (!this.#running) return;
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let socket: WebSocketLike;
    try {
      socket = this.factory(this.url, {
        headers: { authorization: formatAuthorization(this.credentials()) },
      });
    } catch {
      this.#scheduleReconnect(false);
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      opened = true;
      this.#attempt = 0;
      this.#attemptsLeft = Infinity;
      this.#generation++;
      this.#setState('open');
      this.#armKeepalive();
      const waiters = this.#openWaiters;
      this.#openWaiters = [];
      for (const w of waiters) w();
    };
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return;
      this.#armKeepalive();
      const data = event.data;
      let bytes: Uint8Array;
      if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
      else if (data instanceof Uint8Array) bytes = data;
      else return; // text frames are not part of the protocol
      let frame: ServerFrame;
      try {
        frame = decodeServerFrame(bytes);
      } catch (err) {
        if (ApiError.is(err, 'FRAME_VERSION_UNSUPPORTED')) this.#unsupported(err);
        return; // a malformed frame from the relay is ignored (never trusted)
      }
      this.#onFrame(frame);
    };
    socket.onerror = () => {
      // `onclose` follows and decides.
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#clearKeepalive();
      this.#failPending(new ClientError('NETWORK', 'the connection dropped'));
      if (event.code === CLOSE_DEVICE_REMOVED) {
        this.#fail('deregistered', deregistered());
        return;
      }
      this.#scheduleReconnect(!opened);
    };
  }

  #fail(state: 'deregistered' | 'unsupported' | 'offline', failure: ClientError): void {
    this.#failure = failure;
    this.stop(state);
  }

  #unsupported(cause: unknown): void {
    this.#fail(
      'unsupported',
      new ClientError(
        'SERVER_UNSUPPORTED',
        'the relay speaks a protocol version this client does not',
        {
          cause,
        },
      ),
    );
  }

  #scheduleReconnect(neverOpened: boolean): void {
    if (!this.#running) return;
    if (neverOpened && this.#attemptsLeft !== Infinity) this.#attemptsLeft--;
    this.#setState('reconnecting');
    const attempt = this.#attempt++;
    const base = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_INITIAL_DELAY_MS * 2 ** attempt);
    const delay = base * (1 + RECONNECT_JITTER * (this.random() * 2 - 1));
    const go = (): void => {
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = null;
        this.#open();
      }, delay);
    };
    if (!neverOpened) {
      go();
      return;
    }
    const retryOrGiveUp = (): void => {
      if (!this.#running) return;
      if (this.#attemptsLeft <= 0) {
        this.#fail(
          'offline',
          new ClientError(
            'NETWORK',
            'the relay could not be reached; gave up after the attempts allowed',
          ),
        );
        return;
      }
      go();
    };
    // A socket that never opened may have been refused for good (HTTP 401, an incompatible
    // relay): ask over HTTP before retrying.
    this.handlers.probe().then(
      (probe) => {
        if (!this.#running) return;
        if (probe === 'deregistered') this.#fail('deregistered', deregistered());
        else if (probe === 'unsupported') this.#unsupported(undefined);
        else retryOrGiveUp();
      },
      () => retryOrGiveUp(),
    );
  }

  #dropSocket(): void {
    const socket = this.#socket;
    if (socket === null) return;
    try {
      socket.close(4000, 'unresponsive');
    } catch {
      // ignore
    }
    // Some implementations delay `close` events; do not wait for it.
    socket.onclose?.({ code: 4000, reason: 'unresponsive' });
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'envelope':
        this.handlers.onEnvelope(frame);
        return;
      case 'send-result': {
        const p = this.#pending.get(frame.requestId);
        if (p === undefined) return;
        this.#pending.delete(frame.requestId);
        clearTimeout(p.timer);
        p.resolve({ serverTimestamp: frame.serverTimestamp, duplicate: frame.duplicate });
        return;
      }
      case 'error': {
        const p = this.#pending.get(frame.requestId);
        if (p === undefined) {
          if (frame.code === 'FRAME_VERSION_UNSUPPORTED') this.#unsupported(undefined);
          return;
        }
        this.#pending.delete(frame.requestId);
        clearTimeout(p.timer);
        const err = new ApiError(
          frame.code,
          frame.message,
          frame.details === undefined ? {} : { details: frame.details },
        );
        p.reject(serverRejected('send', err));
        if (frame.code === 'FRAME_VERSION_UNSUPPORTED') this.#unsupported(err);
        return;
      }
      case 'pong':
        if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
        this.#pongTimer = null;
        return;
      case 'queue-empty':
        this.handlers.onQueueEmpty();
        return;
    }
  }

  #armKeepalive(): void {
    if (this.#keepaliveTimer !== null) clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = setTimeout(() => this.#ping(), KEEPALIVE_INTERVAL_MS);
    unref(this.#keepaliveTimer);
  }

  #ping(): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== OPEN) return;
    try {
      socket.send(encodeClientFrame({ type: 'ping', requestId: 0 }));
    } catch {
      return;
    }
    if (this.#pongTimer === null) {
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null;
        this.#dropSocket();
      }, KEEPALIVE_TIMEOUT_MS);
      unref(this.#pongTimer);
    }
    this.#armKeepalive();
  }

  #clearKeepalive(): void {
    if (this.#keepaliveTimer !== null) clearTimeout(this.#keepaliveTimer);
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#keepaliveTimer = this.#pongTimer = null;
  }

  #failPending(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

function deregistered(): ClientError {
  return new ClientError('DEREGISTERED', "the relay no longer accepts this device's credential");
}

/** Node timers keep the process alive; keep-alive timers should not. */
function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
