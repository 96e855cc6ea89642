/**
 * The outbox (ARCHITECTURE.md "A message's way", steps 2–5): every send is first stored as an
 * entry (recipient, a client message id, the padded content), then encrypted for each of the
 * recipient's devices — the ciphertexts and the advanced sessions saved in ONE transaction before
 * anything leaves — then sent over the socket. The entry is deleted only after the relay accepted
 * it. After a crash or a dropped connection the same entry is sent again with the same client
 * message id and the same ciphertexts, so the relay stores it once and the recipient decrypts it
 * once.
 *
 * Per recipient the entries go out in order, up to OUTBOX_WINDOW in flight. The relay's
 * corrections are applied and the entry re-prepared: 409 adds the missing devices (fetching their
 * bundles) and drops the extra ones, 410 replaces sessions of re-registered devices. A contact
 * whose identity key changed and is not accepted yet is "held": nothing goes to it until
 * `acceptIdentityChange`. Transient refusals (keys not uploaded yet, rate limits, a full mailbox)
 * are retried with backoff; a deleted account fails the entry for good.
 */
import {
  uuidFromBytes,
  uuidToBytes,
  type ApiErrorCode,
  type EnvelopeType,
  type MismatchedDevicesDetails,
  type StaleDevicesDetails,
} from '@sotto/api';
import { ProtocolError, type ProtocolAddress } from '@sotto/protocol';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import type { OutgoingStatus } from '../events.js';
import {
  MESSAGE_ID_BYTES,
  OUTBOX_RETRY_INITIAL_MS,
  OUTBOX_RETRY_MAX_MS,
  OUTBOX_WINDOW,
} from '../limits.js';
import type { StateTransaction } from '../state/device-state.js';
import { NS, padNumber } from '../state/namespaces.js';
import { encodeContent, type Content } from './content.js';
import {
  errorCode,
  IdentityHeldError,
  RetryLaterError,
  type DeviceDirectory,
} from './device-directory.js';
import { updateStatus } from './message-store.js';

interface OutboxEnvelope {
  readonly deviceId: number;
  readonly registrationId: number;
  readonly type: EnvelopeType;
  readonly content: Uint8Array;
}

interface OutboxEntry {
  readonly seq: number;
  readonly recipient: string;
  readonly clientMessageId: Uint8Array;
  /** The padded plaintext. */
  readonly plaintext: Uint8Array;
  /** The text message whose status this entry drives (the copy to the contact, not the sync). */
  readonly messageId: string | null;
  envelopes: OutboxEnvelope[];
  readonly createdAt: number;
}

/**
 * Entries are stored in a compact binary form (they are written once per send and hold the
 * ciphertexts): `0x01 ‖ seq f64 ‖ createdAt f64 ‖ recipient uuid(16) ‖ clientMessageId(16) ‖
 * idLen u8 ‖ messageId (ASCII) ‖ plaintextLen u32 ‖ plaintext ‖ count u8 ‖
 * count × (deviceId u16 ‖ registrationId u32 ‖ type u8 ‖ len u32 ‖ content)`.
 */
const ENTRY_FORMAT = 0x01;
const ascii = new TextEncoder();
const asciiDecoder = new TextDecoder();

function encodeEntry(e: OutboxEntry): Uint8Array {
  const id = e.messageId === null ? new Uint8Array(0) : ascii.encode(e.messageId);
  let size = 1 + 8 + 8 + 16 + 16 + 1 + id.length + 4 + e.plaintext.length + 1;
  for (const v of e.envelopes) size += 11 + v.content.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = ENTRY_FORMAT;
  view.setFloat64(o, e.seq);
  view.setFloat64(o + 8, e.createdAt);
  o += 16;
  uuidToBytes(e.recipient, out, o);
  o += 16;
  out.set(e.clientMessageId, o);
  o += 16;
  out[o++] = id.length;
  out.set(id, o);
  o += id.length;
  view.setUint32(o, e.plaintext.length);
  out.set(e.plaintext, o + 4);
  o += 4 + e.plaintext.length;
  out[o++] = e.envelopes.length;
  for (const v of e.envelopes) {
    view.setUint16(o, v.deviceId);
    view.setUint32(o + 2, v.registrationId);
    out[o + 6] = v.type;
    view.setUint32(o + 7, v.content.length);
    out.set(v.content, o + 11);
    o += 11 + v.content.length;
  }
  return out;
}

function decodeEntry(bytes: Uint8Array): OutboxEntry {
  try {
    if (bytes[0] !== ENTRY_FORMAT) throw new Error('unknown format');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const need = (o: number, n: number): number => {
      if (o + n > bytes.length) throw new Error('truncated');
      return o;
    };
    let o = 1;
    const seq = view.getFloat64(need(o, 16));
    const createdAt = view.getFloat64(o + 8);
    o += 16;
    const recipient = uuidFromBytes(bytes, need(o, 32));
    const clientMessageId = bytes.slice(o + 16, o + 32);
    o += 32;
    const idLen = bytes[need(o, 1)]!;
    o += 1;
    const messageId =
      idLen === 0 ? null : asciiDecoder.decode(bytes.subarray(need(o, idLen), o + idLen));
    o += idLen;
    const plainLen = view.getUint32(need(o, 4));
    const plaintext = bytes.slice(need(o + 4, plainLen), o + 4 + plainLen);
    o += 4 + plainLen;
    const count = bytes[need(o, 1)]!;
    o += 1;
    const envelopes: OutboxEnvelope[] = [];
    for (let i = 0; i < count; i++) {
      need(o, 11);
      const len = view.getUint32(o + 7);
      envelopes.push({
        deviceId: view.getUint16(o),
        registrationId: view.getUint32(o + 2),
        type: bytes[o + 6] as EnvelopeType,
        content: bytes.slice(need(o + 11, len), o + 11 + len),
      });
      o += 11 + len;
    }
    if (o !== bytes.length) throw new Error('trailing bytes');
    return { seq, recipient, clientMessageId, plaintext, messageId, envelopes, createdAt };
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'stored outbox entry is malformed', { cause });
  }
}

interface RecipientQueue {
  readonly recipient: string;
  readonly entries: OutboxEntry[];
  running: boolean;
  held: boolean;
  retryTimer: ReturnType<typeof setTimeout> | null;
  retryDelay: number;
}

interface SendResultOf {
  readonly entry: OutboxEntry;
  /** `null`: accepted by the relay (or nothing to send). */
  readonly error: unknown;
}

/** Refusals a retry cannot fix: the entry fails (its message shows `failed`). */
const PERMANENT: ReadonlySet<ApiErrorCode> = new Set<ApiErrorCode>([
  'ACCOUNT_NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'INVALID_REQUEST',
  'FRAME_INVALID',
  'FRAME_VERSION_UNSUPPORTED',
]);

export class Outbox<R> {
  readonly #queues = new Map<string, RecipientQueue>();
  #nextSeq = 1;
  #flushWaiters: Array<() => void> = [];

  constructor(
    private readonly core: ClientCore<R>,
    private readonly directory: DeviceDirectory<R>,
  ) {}

  /** Loads persisted entries (after a restart) into their queues. */
  async load(): Promise<void> {
    for (const [, bytes] of await this.core.store.list(NS.outbox)) {
      const e = decodeEntry(bytes);
      this.#queue(e.recipient).entries.push(e);
      this.#nextSeq = Math.max(this.#nextSeq, e.seq + 1);
    }
  }

  /** Entries not yet accepted by the relay. */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.entries.length;
    return n;
  }

  #queue(recipient: string): RecipientQueue {
    let q = this.#queues.get(recipient);
    if (q === undefined) {
      q = {
        recipient,
        entries: [],
        running: false,
        held: false,
        retryTimer: null,
        retryDelay: OUTBOX_RETRY_INITIAL_MS,
      };
      this.#queues.set(recipient, q);
    }
    return q;
  }

  /**
   * Adds a send of `content` to `recipient` to `tx`; after the commit it is queued and sent.
   * `messageId` names the text message whose status this send drives.
   */
  stage(
    tx: StateTransaction<R>,
    recipient: string,
    content: Content,
    messageId: string | null,
  ): void {
    const entry: OutboxEntry = {
      seq: this.#nextSeq++,
      recipient,
      clientMessageId: this.core.rng(MESSAGE_ID_BYTES),
      plaintext: encodeContent(content),
      messageId,
      envelopes: [],
      createdAt: this.core.now(),
    };
    tx.put(NS.outbox, padNumber(entry.seq), encodeEntry(entry));
    tx.afterCommit(() => {
      this.#queue(recipient).entries.push(entry);
      this.kick(recipient);
    });
  }

  /** Starts (or resumes) sending; without `recipient`, for every queue. */
  kick(recipient?: string): void {
    if (recipient !== undefined) {
      const q = this.#queues.get(recipient);
      if (q !== undefined) void this.#drive(q);
      return;
    }
    for (const q of this.#queues.values()) void this.#drive(q);
  }

  /** Releases a contact's held entries (after the user accepted its new identity key). */
  async release(contact: string): Promise<void> {
    const q = this.#queues.get(contact);
    if (q === undefined || !q.held) return;
    q.held = false;
    await this.#setStatuses(q.entries, 'pending');
    this.kick(contact);
  }

  isHeld(contact: string): boolean {
    return this.#queues.get(contact)?.held ?? false;
  }

  /** Resolves when every entry was accepted by the relay or is held. */
  flush(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  /** Stops retry timers (on close). */
  stop(): void {
    for (const q of this.#queues.values()) {
      if (q.retryTimer !== null) clearTimeout(q.retryTimer);
      q.retryTimer = null;
    }
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  #idle(): boolean {
    for (const q of this.#queues.values()) if (q.entries.length > 0 && !q.held) return false;
    return true;
  }

  #checkFlushed(): void {
    if (this.#flushWaiters.length === 0 || !this.#idle()) return;
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Sends the queue's entries in order with up to OUTBOX_WINDOW in flight. A correction from the
   * relay (409/410), a retryable refusal or a lost connection stops new sends; once the ones in
   * flight have settled, corrections are applied and sending resumes (re-preparing entries), or a
   * retry is scheduled, or the queue waits for the next connection.
   */
  async #drive(q: RecipientQueue): Promise<void> {
    if (q.running || q.held || q.retryTimer !== null || this.core.closed) return;
    if (this.core.registration?.status !== 'registered') return;
    q.running = true;
    const inflight = new Set<OutboxEntry>();
    const results: SendResultOf[] = [];
    let wake: (() => void) | null = null;
    let blocked = false;
    let retry: { afterMs?: number } | null = null;
    let prepareError: { error: unknown } | null = null;
    try {
      for (;;) {
        if (results.length > 0) {
          const r = await this.#settle(q, results.splice(0));
          if (r.retry !== null) retry = r.retry;
          if (r.stop) blocked = true;
        }
        if (blocked && inflight.size === 0 && results.length === 0) {
          if (prepareError !== null) {
            await this.#onPrepareError(q, prepareError.error);
            break;
          }
          if (retry !== null) {
            this.#retryLater(q, retry.afterMs);
            break;
          }
          if (!this.core.socket.isOpen) break;
          blocked = false; // corrections applied: re-prepare and go on
        }
        if (q.held || this.core.closed) break;
        const open = this.core.socket.isOpen;
        const next =
          blocked || !open || inflight.size >= OUTBOX_WINDOW
            ? undefined
            : q.entries.find((e) => !inflight.has(e));
        if (next !== undefined) {
          try {
            await this.#prepare(q, next);
          } catch (error) {
            prepareError = { error };
            blocked = true;
            continue;
          }
          if (next.envelopes.length === 0) {
            results.push({ entry: next, error: null }); // no device to send to
            continue;
          }
          inflight.add(next);
          this.core.socket
            .send({
              clientMessageId: next.clientMessageId,
              recipient: next.recipient,
              envelopes: next.envelopes,
            })
            .then(
              () => results.push({ entry: next, error: null }),
              (error: unknown) => results.push({ entry: next, error }),
            )
            .finally(() => {
              inflight.delete(next);
              wake?.();
            });
          continue;
        }
        if (inflight.size === 0 && results.length === 0) {
          if (!open && q.entries.length > 0) break; // resumes on the next connection
          if (q.entries.length === 0 || blocked) break;
        }
        if (results.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      }
    } catch (err) {
      this.core.events.emit({ type: 'problem', kind: 'maintenance-failed', code: errorCode(err) });
      this.#retryLater(q);
    } finally {
      q.running = false;
      this.#checkFlushed();
    }
  }

  #retryLater(q: RecipientQueue, afterMs?: number): void {
    if (this.core.closed || q.retryTimer !== null) return;
    const delay = afterMs ?? q.retryDelay;
    q.retryDelay = Math.min(OUTBOX_RETRY_MAX_MS, q.retryDelay * 2);
    q.retryTimer = setTimeout(() => {
      q.retryTimer = null;
      void this.#drive(q);
    }, delay);
  }

  /**
   * Applies settled sends: finishes accepted and permanently refused entries, applies 409/410
   * corrections. `stop`: launch nothing new until the sends in flight settled.
   */
  async #settle(
    q: RecipientQueue,
    results: readonly SendResultOf[],
  ): Promise<{ stop: boolean; retry: { afterMs?: number } | null }> {
    const done: Array<{ entry: OutboxEntry; status: OutgoingStatus }> = [];
    let retry: { afterMs?: number } | null = null;
    let stop = false;
    const seen = new Set<string>();
    for (const { entry, error } of results) {
      if (error === null) {
        done.push({ entry, status: 'sent' });
        continue;
      }
      stop = true;
      const apiCode = error instanceof ClientError ? error.apiCode : undefined;
      const details = error instanceof ClientError ? error.details : undefined;
      const once = `${apiCode}:${JSON.stringify(details)}`;
      const first = !seen.has(once);
      seen.add(once);
      if (apiCode === 'MISMATCHED_DEVICES') {
        const d = details as MismatchedDevicesDetails | undefined;
        if (first) {
          await this.directory.applyMismatch(
            q.recipient,
            d?.missingDevices ?? [],
            d?.extraDevices ?? [],
          );
        }
      } else if (apiCode === 'STALE_DEVICES') {
        const stale = (details as StaleDevicesDetails | undefined)?.staleDevices ?? [];
        if (first) await this.directory.applyStale(q.recipient, stale);
        for (const e of q.entries)
          e.envelopes = e.envelopes.filter((v) => !stale.includes(v.deviceId));
      } else if (apiCode !== undefined && PERMANENT.has(apiCode)) {
        done.push({ entry, status: 'failed' });
      } else if (apiCode === 'RATE_LIMITED') {
        const after = (details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
        retry = after === undefined ? {} : { afterMs: after };
      } else if (this.core.socket.isOpen) {
        // NETWORK (a send timed out), MAILBOX_FULL, 5xx: try again later.
        retry ??= {};
      }
      // Otherwise the socket dropped: the entry goes out again on the next connection.
    }
    if (done.length > 0) {
      await this.#finish(q, done);
      if (!stop) q.retryDelay = OUTBOX_RETRY_INITIAL_MS;
    }
    return { stop, retry };
  }

  async #onPrepareError(q: RecipientQueue, err: unknown): Promise<void> {
    if (err instanceof IdentityHeldError) {
      q.held = true;
      await this.#setStatuses(q.entries, 'held');
      return;
    }
    if (err instanceof RetryLaterError) {
      this.#retryLater(q, err.afterMs);
      return;
    }
    if (ClientError.is(err, 'UNKNOWN_CONTACT')) {
      await this.#finish(
        q,
        q.entries.map((entry) => ({ entry, status: 'failed' as const })),
      );
      return;
    }
    if (ClientError.is(err, 'NETWORK') || ClientError.is(err, 'CLOSED')) {
      this.#retryLater(q);
      return;
    }
    this.core.events.emit({ type: 'problem', kind: 'maintenance-failed', code: errorCode(err) });
    this.#retryLater(q);
  }

  /** Makes sure `e` holds a ciphertext for exactly the recipient's current devices. */
  async #prepare(q: RecipientQueue, e: OutboxEntry): Promise<void> {
    const recipient = q.recipient;
    const core = this.core;
    const devices = await this.directory.devicesFor(recipient);
    if (recipient !== core.registration?.accountId) {
      const trust = await core.state.begin().getTrust(recipient);
      if (trust !== null && !trust.accepted) throw new IdentityHeldError(recipient);
    }
    const keep = e.envelopes.filter((v) => devices.includes(v.deviceId));
    const missing = devices.filter((d) => !keep.some((v) => v.deviceId === d));
    if (missing.length === 0 && keep.length === e.envelopes.length) return;
    if (missing.length > 0) await this.directory.ensureSessions(recipient, missing);
    const addresses: ProtocolAddress[] = missing.map((deviceId) => ({ name: recipient, deviceId }));
    const local = core.state.localAddress;
    await core.queue.runAll(
      addresses.map((a) => core.addressKey(a)),
      async () => {
        const tx = core.state.begin();
        const ctx = core.ctx();
        const added: OutboxEnvelope[] = [];
        for (const address of addresses) {
          let message;
          try {
            message = await core.engine.encrypt(
              e.plaintext,
              address,
              local,
              tx.engineStores(),
              ctx,
            );
          } catch (err) {
            throw await this.#encryptError(err, address);
          }
          const record = await tx.getSession(address);
          const registrationId =
            record === null ? null : core.engine.remoteRegistrationId(record, ctx.now);
          if (registrationId === null) throw new RetryLaterError('session vanished', 0);
          added.push({
            deviceId: address.deviceId,
            registrationId,
            type: message.type === 'prekey' ? 3 : 1,
            content: message.body,
          });
        }
        const envelopes = [...keep, ...added];
        tx.put(NS.outbox, padNumber(e.seq), encodeEntry({ ...e, envelopes }));
        // The sessions and the ciphertexts are on disk before any of them leaves.
        await tx.commit();
        e.envelopes = envelopes;
        this.directory.emitIdentityChanges(tx.identityChanges);
      },
    );
  }

  async #encryptError(err: unknown, address: ProtocolAddress): Promise<Error> {
    if (ProtocolError.is(err, 'UNTRUSTED_IDENTITY')) {
      const trust = await this.core.state.begin().getTrust(address.name);
      if (trust === null || !trust.accepted) return new IdentityHeldError(address.name);
      // The session belongs to a key the contact no longer has: start a new one.
      await this.directory.applyStale(address.name, [address.deviceId]);
      return new RetryLaterError('session with an outdated identity', 0);
    }
    if (ProtocolError.is(err, 'NO_SESSION') || ProtocolError.is(err, 'SESSION_EXPIRED')) {
      return new RetryLaterError('no usable session', 0);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  async #finish(
    q: RecipientQueue,
    done: ReadonlyArray<{ entry: OutboxEntry; status: OutgoingStatus }>,
  ): Promise<void> {
    const me = this.core.registration!.accountId;
    const events: Array<{ id: string; status: OutgoingStatus }> = [];
    await this.core.records(async () => {
      const tx = this.core.state.begin();
      for (const { entry, status } of done) {
        tx.delete(NS.outbox, padNumber(entry.seq));
        if (entry.messageId !== null) {
          const updated = await updateStatus(tx, me, entry.messageId, status);
          if (updated !== null) events.push({ id: entry.messageId, status });
        }
      }
      await tx.commit();
    });
    const finished = new Set(done.map((d) => d.entry));
    const remaining = q.entries.filter((e) => !finished.has(e));
    q.entries.length = 0;
    q.entries.push(...remaining);
    for (const ev of events) {
      this.core.events.emit({
        type: 'message-status',
        conversation: q.recipient,
        id: ev.id,
        status: ev.status,
      });
    }
  }

  async #setStatuses(entries: readonly OutboxEntry[], status: OutgoingStatus): Promise<void> {
    const reg = this.core.registration;
    if (reg === null) return;
    const changed: Array<{ conversation: string; id: string }> = [];
    await this.core.records(async () => {
      const tx = this.core.state.begin();
      for (const e of entries) {
        if (e.messageId === null) continue;
        if ((await updateStatus(tx, reg.accountId, e.messageId, status)) !== null) {
          changed.push({ conversation: e.recipient, id: e.messageId });
        }
      }
      await tx.commit();
    });
    for (const c of changed) this.core.events.emit({ type: 'message-status', ...c, status });
  }
}
