/**
 * One device's WebSocket (packages/api frames.ts). On open it subscribes to the fan-out first and
 * then drains the mailbox oldest first, so nothing committed in between is missed; envelopes that
 * arrive during the drain wait and are de-duplicated by GUID. QUEUE_EMPTY follows once the first
 * complete drain has sent everything that was queued. Envelopes stay in the mailbox until the device acknowledges them, so a connection
 * that drops loses nothing: the next one drains again (at-least-once; the client drops GUIDs it
 * has already seen).
 *
 * Flow control: at most MAX_UNACKED_PER_CONNECTION envelopes are outstanding; beyond that pushes
 * are skipped (they stay in the mailbox) and a new drain starts once acknowledgements free room.
 * At most MAX_PENDING_SENDS_PER_CONNECTION sends wait for their commit; beyond that the socket
 * stops reading. A malformed frame is answered with an ERROR frame and the connection keeps going.
 *
 * Writes: frames sent in one run of the event loop (the pushes and answers of one group commit)
 * go out in one system call — the TCP socket is corked at the first frame and uncorked on the next
 * tick — instead of one write per frame.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import {
  ApiError,
  decodeClientFrame,
  encodeServerFrame,
  errorFrameOf,
  frameRequestId,
  isEnvelopeType,
  type ClientFrame,
  type ServerFrame,
} from '@sotto/api';
import {
  DRAIN_PAGE_SIZE,
  MAX_PENDING_SENDS_PER_CONNECTION,
  MAX_UNACKED_PER_CONNECTION,
} from '../limits.js';
import type { Clock } from '../ports/clock.js';
import type { DeviceEvent, FanOut, Unsubscribe } from '../ports/fan-out.js';
import type { Storage, StoredEnvelope } from '../ports/storage.js';
import type { MessageService } from './message-service.js';

/** Close codes in the private range (RFC 6455 §7.4.2). */
export const CLOSE_DEVICE_REMOVED = 4401;
export const CLOSE_DISPLACED = 4409;

export interface DeviceConnectionDeps {
  readonly storage: Storage;
  readonly fanOut: FanOut;
  readonly messages: MessageService;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
}

/** The TCP socket under a `ws` WebSocket (`_socket`, not part of ws's typed API). */
interface Corkable {
  cork(): void;
  uncork(): void;
}
function tcpSocketOf(ws: WebSocket): Corkable | null {
  const raw = (ws as unknown as { _socket?: Partial<Corkable> | null })._socket;
  return raw !== null &&
    raw !== undefined &&
    typeof raw.cork === 'function' &&
    typeof raw.uncork === 'function'
    ? (raw as Corkable)
    : null;
}

export class DeviceConnection {
  readonly id = randomUUID();
  /** Pushed, not yet acknowledged. */
  private readonly unacked = new Set<string>();
  /** Acknowledged, delete not yet committed: a drain must not resend these. */
  private readonly acking = new Set<string>();
  private draining = false;
  private drainAgain = false;
  private firstDrainDone = false;
  private held: StoredEnvelope[] = [];
  private pendingSends = 0;
  private paused = false;
  private alive = true;
  private closed = false;
  private unsubscribe: Unsubscribe | null = null;
  private readonly tcp: Corkable | null;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp?.uncork();
  };

  constructor(
    private readonly socket: WebSocket,
    readonly accountId: string,
    readonly deviceId: number,
    private readonly deps: DeviceConnectionDeps,
    private readonly onClosed: (c: DeviceConnection) => void,
  ) {
    this.tcp = tcpSocketOf(socket);
  }

  start(): void {
    const { fanOut } = this.deps;
    // Older connections of this device close; this one then owns the mailbox.
    fanOut.publish(this.accountId, this.deviceId, { type: 'displaced', connectionId: this.id });
    this.unsubscribe = fanOut.subscribe(this.accountId, this.deviceId, (e) => this.onEvent(e));
    this.socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    this.socket.on('close', () => this.onClose());
    this.socket.on('pong', () => {
      this.alive = true;
    });
    void this.drain();
  }

  /** Called by the server's heartbeat timer: close a connection that missed the last ping. */
  heartbeat(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  // ---- server → device -----------------------------------------------------------------------

  private onEvent(e: DeviceEvent): void {
    switch (e.type) {
      case 'envelope':
        if (this.draining) {
          if (this.held.length < MAX_UNACKED_PER_CONNECTION) this.held.push(e.envelope);
          else this.drainAgain = true;
        } else {
          this.push(e.envelope);
        }
        return;
      case 'device-removed':
        this.socket.close(CLOSE_DEVICE_REMOVED, 'device removed');
        return;
      case 'displaced':
        if (e.connectionId !== this.id)
          this.socket.close(CLOSE_DISPLACED, 'displaced by a newer connection');
        return;
    }
  }

  /** Sends one envelope unless it is outstanding already. False when the window is full. */
  private push(env: StoredEnvelope): boolean {
    if (this.closed) return false;
    if (this.unacked.has(env.guid) || this.acking.has(env.guid)) return true;
    if (this.unacked.size >= MAX_UNACKED_PER_CONNECTION) {
      this.drainAgain = true;
      return false;
    }
    if (!isEnvelopeType(env.type)) return true; // cannot happen: types are checked on the way in
    this.unacked.add(env.guid);
    this.send({
      type: 'envelope',
      guid: env.guid,
      serverTimestamp: env.serverTimestamp,
      sourceAccountId: env.sourceAccountId,
      sourceDeviceId: env.sourceDeviceId,
      envelopeType: env.type,
      content: env.content,
    });
    return true;
  }

  private async drain(): Promise<void> {
    if (this.draining || this.closed) return;
    this.draining = true;
    this.drainAgain = false;
    let complete = false;
    try {
      let after = 0;
      for (;;) {
        const page = await this.deps.storage.readMailbox(
          this.accountId,
          this.deviceId,
          after,
          DRAIN_PAGE_SIZE,
        );
        let full = false;
        for (const env of page) {
          if (!this.push(env)) {
            full = true;
            break;
          }
        }
        if (full || this.closed) break;
        if (page.length < DRAIN_PAGE_SIZE) {
          complete = true;
          break;
        }
        after = page[page.length - 1]!.position;
      }
    } catch (err) {
      this.deps.log.error({ err: { message: (err as Error).message } }, 'mailbox drain failed');
      this.drainAgain = true;
    } finally {
      this.draining = false;
    }
    const held = this.held;
    this.held = [];
    for (const env of held) this.push(env);
    // QUEUE_EMPTY once everything queued before the connection has been sent (not merely paged).
    if (complete && !this.firstDrainDone && !this.closed) {
      this.firstDrainDone = true;
      this.send({ type: 'queue-empty' });
    }
  }

  private send(frame: ServerFrame): void {
    if (this.closed) return;
    if (!this.corked && this.tcp !== null) {
      this.corked = true;
      this.tcp.cork();
      process.nextTick(this.uncork);
    }
    this.socket.send(encodeServerFrame(frame), { binary: true });
  }

  // ---- device → server -----------------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.send(
        errorFrameOf(0, new ApiError('FRAME_INVALID', 'text frames are not part of the protocol')),
      );
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(data);
    } catch (err) {
      this.answerError(frameRequestId(data), err);
      return;
    }
    switch (frame.type) {
      case 'send':
        this.onSend(frame.requestId, frame);
        return;
      case 'ack':
        this.onAck(frame.guids);
        return;
      case 'ping':
        this.send({ type: 'pong', requestId: frame.requestId });
        return;
    }
  }

  private onSend(requestId: number, frame: Extract<ClientFrame, { type: 'send' }>): void {
    this.pendingSends++;
    if (this.pendingSends >= MAX_PENDING_SENDS_PER_CONNECTION && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.deps.messages
      .send({ accountId: this.accountId, deviceId: this.deviceId }, frame)
      .then(
        (r) =>
          this.send({
            type: 'send-result',
            requestId,
            serverTimestamp: r.serverTimestamp,
            duplicate: r.duplicate,
          }),
        (err: unknown) => this.answerError(requestId, err),
      )
      .finally(() => {
        this.pendingSends--;
        if (this.paused && this.pendingSends < MAX_PENDING_SENDS_PER_CONNECTION / 2) {
          this.paused = false;
          this.socket.resume();
        }
      });
  }

  private onAck(guids: readonly string[]): void {
    const mine: string[] = [];
    for (const g of guids) {
      // Only envelopes this connection delivered; others are still deleted if they are ours
      // (an ack after a reconnect), the storage checks the owner.
      this.unacked.delete(g);
      this.acking.add(g);
      mine.push(g);
    }
    this.deps.messages
      .ack(this.accountId, this.deviceId, mine)
      .catch((err: unknown) => {
        this.deps.log.error({ err: { message: (err as Error).message } }, 'ack commit failed');
      })
      .finally(() => {
        for (const g of mine) this.acking.delete(g);
      });
    if (this.drainAgain && !this.draining && this.unacked.size < MAX_UNACKED_PER_CONNECTION / 2) {
      void this.drain();
    }
  }

  private answerError(requestId: number, err: unknown): void {
    if (ApiError.is(err)) {
      this.send(errorFrameOf(requestId, err));
      return;
    }
    this.deps.log.error({ err: { message: (err as Error).message } }, 'frame handling failed');
    this.send(errorFrameOf(requestId, new ApiError('INTERNAL')));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unacked.clear();
    this.held = [];
    this.onClosed(this);
    this.deps.storage
      .touchDevice(this.accountId, this.deviceId, this.deps.clock.now())
      .catch(() => undefined);
  }
}
