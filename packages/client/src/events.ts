/**
 * The typed event stream of the client (what apps render): incoming messages (and the ones the
 * account's other devices sent), delivery and read receipts, status changes of sent messages, the
 * loud identity-changed warning, device links, and the connection state.
 *
 * Delivery guarantee: a `message` event is emitted after the message is stored and before the
 * relay is told to delete it, exactly once per message and device store. A listener that throws
 * does not stop the client (its error is reported as a `listener-error` problem).
 */
import type { ReceiptKind } from './messaging/content.js';

export type ConnectionState =
  /** Not connected, and not trying (before `connect()`, after `close()`). */
  | 'offline'
  | 'connecting'
  | 'open'
  /** The socket dropped; the client retries with backoff. */
  | 'reconnecting'
  /** The relay refused this device's credential: it was removed or the number re-registered. */
  | 'deregistered'
  /** The relay speaks a protocol version this client does not (update one of them). Final. */
  | 'unsupported';

export type OutgoingStatus =
  /** Stored in the outbox, not yet accepted by the relay. */
  | 'pending'
  /** Waiting for the user to accept a changed identity key of the recipient. */
  | 'held'
  /** Accepted by the relay (durably queued for every device of the recipient). */
  | 'sent'
  | 'delivered'
  | 'read'
  /** Refused for good (the recipient's account does not exist any more). */
  | 'failed';

export interface StoredMessage {
  /** The author's id for this message (128 random bits, base64url). */
  readonly id: string;
  /** The other party's account id (for messages to oneself: one's own). */
  readonly conversation: string;
  /** Account id of the author. */
  readonly author: string;
  /** Device of the author that sent it (for own messages sent here: this device). */
  readonly authorDevice: number;
  readonly direction: 'incoming' | 'outgoing';
  readonly body: string;
  /** The author's clock when sending (ms since the epoch). */
  readonly sentAt: number;
  /** This device's clock when it stored the message. */
  readonly storedAt: number;
  /** The relay's timestamp of the envelope (incoming and synced messages). */
  readonly serverTimestamp?: number;
  /** Outgoing: the delivery state. Incoming: `read` once read receipts were sent, else absent. */
  readonly status?: OutgoingStatus;
}

export interface Sender {
  readonly accountId: string;
  readonly deviceId: number;
}

export type ProblemKind =
  /** An envelope could not be decrypted (corrupt, replayed, or from a session this device lost). */
  | 'decrypt-failed'
  /** A decrypted message did not parse as Sotto content. */
  | 'invalid-content'
  /** A listener threw. */
  | 'listener-error'
  /** Background work (key refill, rotation, device refresh) failed; it is retried. */
  | 'maintenance-failed';

export type ClientEvent =
  | { readonly type: 'message'; readonly message: StoredMessage }
  | {
      readonly type: 'message-status';
      readonly conversation: string;
      readonly id: string;
      readonly status: OutgoingStatus;
    }
  | {
      readonly type: 'receipt';
      readonly from: Sender;
      readonly kind: ReceiptKind;
      readonly ids: readonly string[];
      readonly serverTimestamp: number;
    }
  | {
      readonly type: 'identity-changed';
      /** The contact's account id. */
      readonly contact: string;
      /** The key trusted until now (absent if none was recorded). */
      readonly previousKey?: Uint8Array;
      readonly newKey: Uint8Array;
      /** True if the old key had been verified (safety number compared). */
      readonly wasVerified: boolean;
    }
  | { readonly type: 'connection'; readonly state: ConnectionState }
  /**
   * The relay's mailbox for this device is drained AND every envelope received before that was
   * processed: stored and acknowledged, or reported as a `problem` (once per connection).
   */
  | { readonly type: 'queue-empty' }
  | { readonly type: 'device-linked'; readonly deviceId: number }
  | {
      readonly type: 'problem';
      readonly kind: ProblemKind;
      /** An error code (ProtocolError, ClientError or ApiError code); never secrets. */
      readonly code: string;
      readonly sender?: Sender;
    };

export type ClientEventType = ClientEvent['type'];
export type ClientEventOf<T extends ClientEventType> = Extract<ClientEvent, { type: T }>;

type Listener = (event: ClientEvent) => void;

export class EventHub {
  readonly #byType = new Map<ClientEventType, Set<Listener>>();
  readonly #any = new Set<Listener>();

  on<T extends ClientEventType>(type: T, listener: (event: ClientEventOf<T>) => void): () => void {
    let set = this.#byType.get(type);
    if (set === undefined) this.#byType.set(type, (set = new Set()));
    const l = listener as Listener;
    set.add(l);
    return () => set.delete(l);
  }

  onAny(listener: (event: ClientEvent) => void): () => void {
    this.#any.add(listener);
    return () => this.#any.delete(listener);
  }

  emit(event: ClientEvent): void {
    const set = this.#byType.get(event.type);
    if (set !== undefined) for (const l of [...set]) this.#call(l, event);
    for (const l of [...this.#any]) this.#call(l, event);
  }

  #call(listener: Listener, event: ClientEvent): void {
    try {
      listener(event);
    } catch (err) {
      if (event.type === 'problem' && event.kind === 'listener-error') return;
      const code = err instanceof Error ? err.name : 'unknown';
      this.emit({ type: 'problem', kind: 'listener-error', code });
    }
  }

  /**
   * Resolves with the first event of `type` that satisfies `predicate`; rejects with `TIMEOUT`
   * after `timeoutMs`.
   */
  waitFor<T extends ClientEventType>(
    type: T,
    predicate: (event: ClientEventOf<T>) => boolean = () => true,
    timeoutMs = 30_000,
    onTimeout: () => Error = () => new Error(`timed out waiting for ${type}`),
  ): Promise<ClientEventOf<T>> {
    return new Promise((resolve, reject) => {
      const off = this.on(type, (event) => {
        if (!predicate(event)) return;
        off();
        clearTimeout(timer);
        resolve(event);
      });
      const timer = setTimeout(() => {
        off();
        reject(onTimeout());
      }, timeoutMs);
    });
  }

  /** Every event from now on as an async iterable (buffered; ends when `signal` aborts). */
  stream(signal?: AbortSignal): AsyncIterable<ClientEvent> {
    const queue: ClientEvent[] = [];
    let wake: (() => void) | null = null;
    const off = this.onAny((e) => {
      queue.push(e);
      wake?.();
    });
    const aborted = (): boolean => signal?.aborted === true;
    signal?.addEventListener('abort', () => wake?.(), { once: true });
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<ClientEvent>> => {
          while (queue.length === 0 && !aborted()) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
          if (aborted()) {
            off();
            return { done: true, value: undefined };
          }
          return { done: false, value: queue.shift()! };
        },
        return: (): Promise<IteratorResult<ClientEvent>> => {
          off();
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
  }
}
