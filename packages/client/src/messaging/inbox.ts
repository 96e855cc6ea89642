/**
 * The inbox (ARCHITECTURE.md "A message's way", steps 6–7): for each envelope the relay pushes,
 * decrypt (one at a time per sending device), store the result together with the advanced
 * session in ONE transaction, emit the event, and only then acknowledge, so the relay deletes it.
 *
 * - Every processed envelope GUID is stored in that same transaction: a redelivery (the ack was
 *   lost in a crash or a dropped socket) is recognised and acknowledged without a second event.
 * - Messages are also de-duplicated by (author, message id): the same message re-encrypted by a
 *   sender that crashed before its send was confirmed is stored once.
 * - Envelopes that cannot be decrypted (corrupt, replayed, a lost session) are acknowledged and
 *   reported as `problem` events: keeping them would block the mailbox forever.
 * - A store failure is not acknowledged: the envelope comes back on the next connection.
 * - Delivery receipts (and the copies for the own account's other devices) are staged in the same
 *   transaction as the message, so a crash cannot lose them.
 */
import { ENVELOPE_TYPES, type EnvelopeFrame } from '@sotto/api';
import { ProtocolError, type CiphertextMessageKind, type ProtocolAddress } from '@sotto/protocol';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import type { ClientEvent, StoredMessage } from '../events.js';
import type { StateTransaction } from '../state/device-state.js';
import { toJsonBytes } from '../state/json.js';
import { NS } from '../state/namespaces.js';
import { decodeContent, type Content } from './content.js';
import { errorCode, type DeviceDirectory } from './device-directory.js';
import { hasMessage, putMessage, updateStatus } from './message-store.js';
import type { Outbox } from './outbox.js';

export interface PlaintextContentHandler {
  /** Handles a type-8 (plaintext content) envelope from the own account; true to acknowledge. */
  (envelope: EnvelopeFrame): Promise<boolean>;
}

export class Inbox<R> {
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  /** Sequence numbers of received envelopes still being processed (`processedSoFar`). */
  #received = 0;
  readonly #pending = new Set<number>();
  #drainWaiters: Array<{ readonly upTo: number; readonly resolve: () => void }> = [];
  onPreKeyMessage: () => void = () => undefined;

  constructor(
    private readonly core: ClientCore<R>,
    private readonly directory: DeviceDirectory<R>,
    private readonly outbox: Outbox<R>,
    private readonly plaintextContent: PlaintextContentHandler,
  ) {}

  /** Entry point for pushed envelopes. */
  receive(envelope: EnvelopeFrame): void {
    const address: ProtocolAddress = {
      name: envelope.sourceAccountId,
      deviceId: envelope.sourceDeviceId,
    };
    // The frame's content is a view into the socket buffer: keep a copy while queued.
    const copy: EnvelopeFrame = { ...envelope, content: envelope.content.slice() };
    const seq = ++this.#received;
    this.#pending.add(seq);
    this.#inFlight++;
    this.core.queue
      .run(this.core.addressKey(address), () => this.#process(copy, address))
      .catch((err: unknown) => {
        // Not acknowledged: the relay delivers it again on the next connection.
        this.core.events.emit({
          type: 'problem',
          kind: 'decrypt-failed',
          code: errorCode(err),
          sender: { accountId: address.name, deviceId: address.deviceId },
        });
      })
      .finally(() => {
        this.#pending.delete(seq);
        this.#wakeDrainWaiters();
        this.#inFlight--;
        if (this.#inFlight === 0) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const w of waiters) w();
        }
      });
  }

  /**
   * Resolves when every envelope received until now was processed — stored and acknowledged, or
   * reported as a problem — whatever arrives after the call (what `queue-empty` waits for).
   */
  processedSoFar(): Promise<void> {
    const upTo = this.#received;
    if (this.#oldestPending() > upTo) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push({ upTo, resolve }));
  }

  #oldestPending(): number {
    let oldest = Infinity;
    for (const seq of this.#pending) if (seq < oldest) oldest = seq;
    return oldest;
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const oldest = this.#oldestPending();
    const ready = this.#drainWaiters.filter((w) => w.upTo < oldest);
    if (ready.length === 0) return;
    this.#drainWaiters = this.#drainWaiters.filter((w) => w.upTo >= oldest);
    for (const w of ready) w.resolve();
  }

  /** Resolves when no envelope is being processed. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #process(envelope: EnvelopeFrame, address: ProtocolAddress): Promise<void> {
    const core = this.core;
    if (core.closed) return;
    if ((await core.store.get(NS.processedGuids, envelope.guid)) !== undefined) {
      core.ack(envelope.guid);
      return;
    }
    const sender = { accountId: envelope.sourceAccountId, deviceId: envelope.sourceDeviceId };
    const own = core.registration?.accountId === envelope.sourceAccountId;
    if (envelope.envelopeType === ENVELOPE_TYPES.plaintextContent) {
      const ack = own ? await this.plaintextContent(envelope) : true;
      if (ack) await this.#markProcessed(envelope);
      return;
    }
    if (core.registration?.status !== 'registered') return; // a device still linking: later
    let kind: CiphertextMessageKind;
    if (envelope.envelopeType === ENVELOPE_TYPES.ciphertext) kind = 'whisper';
    else if (envelope.envelopeType === ENVELOPE_TYPES.prekeyMessage) kind = 'prekey';
    else {
      // Sealed sender and sender-key envelopes are not used by this client yet.
      await this.#markProcessed(envelope);
      core.events.emit({
        type: 'problem',
        kind: 'decrypt-failed',
        code: 'UNSUPPORTED_ENVELOPE',
        sender,
      });
      return;
    }

    const tx = core.state.begin();
    let plaintext: Uint8Array;
    try {
      plaintext = await core.engine.decrypt(
        kind,
        envelope.content,
        address,
        core.state.localAddress,
        tx.engineStores(),
        core.ctx(),
      );
    } catch (err) {
      if (!(err instanceof ProtocolError) && !ClientError.is(err, 'INVALID_ARGUMENT')) throw err;
      await this.#markProcessed(envelope);
      // A replay of something already decrypted is not a problem worth reporting.
      if (!ProtocolError.is(err, 'DUPLICATE_MESSAGE')) {
        core.events.emit({ type: 'problem', kind: 'decrypt-failed', code: err.code, sender });
      }
      return;
    }
    if (kind === 'prekey') this.onPreKeyMessage();

    const events: ClientEvent[] = [];
    let content: Content | null = null;
    try {
      content = decodeContent(plaintext);
    } catch (err) {
      events.push({ type: 'problem', kind: 'invalid-content', code: errorCode(err), sender });
    }
    await core.records(async () => {
      if (content !== null) await this.#apply(tx, content, envelope, own, events);
      await this.directory.noteSender(tx, sender.accountId, sender.deviceId);
      tx.put(NS.processedGuids, envelope.guid, toJsonBytes(core.now()));
      await tx.commit();
    });
    this.directory.emitIdentityChanges(tx.identityChanges);
    for (const e of events) core.events.emit(e);
    core.ack(envelope.guid);
  }

  async #markProcessed(envelope: EnvelopeFrame): Promise<void> {
    await this.core.store.put(NS.processedGuids, envelope.guid, toJsonBytes(this.core.now()));
    this.core.ack(envelope.guid);
  }

  async #apply(
    tx: StateTransaction<R>,
    content: Content,
    envelope: EnvelopeFrame,
    own: boolean,
    events: ClientEvent[],
  ): Promise<void> {
    const core = this.core;
    const me = core.registration!.accountId;
    const from = envelope.sourceAccountId;
    const sender = { accountId: from, deviceId: envelope.sourceDeviceId };
    const now = core.now();
    switch (content.type) {
      case 'text': {
        if (await hasMessage(tx, from, content.id)) return;
        const message: StoredMessage = {
          id: content.id,
          conversation: from,
          author: from,
          authorDevice: envelope.sourceDeviceId,
          direction: own ? 'outgoing' : 'incoming',
          body: content.body,
          sentAt: content.sentAt,
          storedAt: now,
          serverTimestamp: envelope.serverTimestamp,
          ...(own ? { status: 'sent' as const } : {}),
        };
        putMessage(tx, message);
        events.push({ type: 'message', message });
        if (!own && core.deliveryReceipts) {
          this.outbox.stage(
            tx,
            from,
            { type: 'receipt', kind: 'delivery', ids: [content.id] },
            null,
          );
        }
        return;
      }
      case 'sync-sent': {
        if (!own || (await hasMessage(tx, me, content.id))) return;
        const message: StoredMessage = {
          id: content.id,
          conversation: content.destination,
          author: me,
          authorDevice: envelope.sourceDeviceId,
          direction: 'outgoing',
          body: content.body,
          sentAt: content.sentAt,
          storedAt: now,
          serverTimestamp: envelope.serverTimestamp,
          status: 'sent',
        };
        putMessage(tx, message);
        events.push({ type: 'message', message });
        return;
      }
      case 'receipt': {
        if (own) return;
        const status = content.kind === 'read' ? 'read' : 'delivered';
        for (const id of content.ids) {
          // Only the recipient of a message may report on it.
          const updated = await updateStatus(tx, me, id, status, from);
          if (updated !== null) {
            events.push({ type: 'message-status', conversation: from, id, status });
          }
        }
        events.push({
          type: 'receipt',
          from: sender,
          kind: content.kind,
          ids: content.ids,
          serverTimestamp: envelope.serverTimestamp,
        });
        return;
      }
      case 'sync-read': {
        if (!own) return;
        for (const id of content.ids) await updateStatus(tx, content.author, id, 'read');
        return;
      }
    }
  }
}
