/**
 * Sending and acknowledging envelopes (ARCHITECTURE.md "A message's way", steps 5–7).
 *
 * A send names the recipient account and carries one envelope per device. The service gives each
 * envelope a random GUID and the server timestamp and hands the send to the group commit, whose
 * transaction checks the device list (messages/device-list.ts: 409 MISMATCHED_DEVICES with
 * missing/extra devices; 410 STALE_DEVICES when a registration id changed). Only after the
 * batch's transaction committed does the sender get its answer and the fan-out hear about the
 * envelopes — so an acknowledged envelope is on disk, and a pushed envelope exists in the mailbox
 * before the recipient can acknowledge it. Acknowledgements (deletes) join the same queue, so
 * one transaction and one fsync serve both directions of traffic.
 *
 * A sender's own account is a valid recipient: the envelopes then go to every other device of the
 * sender, and the sending device itself counts as extra.
 *
 * Each send first takes one event from the sending account's in-memory rate limit
 * (MESSAGE_SENDS_PER_ACCOUNT); a refused send answers RATE_LIMITED with retryAfterMs and stores
 * nothing.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, toBase64Url, type SendFrame } from '@sotto/api';
import { GroupCommit } from '../group-commit.js';
import { GROUP_COMMIT_MAX_BATCH, MESSAGE_SENDS_PER_ACCOUNT } from '../limits.js';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter.js';
import type { FanOut } from '../ports/fan-out.js';
import type { Clock } from '../ports/clock.js';
import type {
  MailboxAck,
  OutgoingEnvelopeRecord,
  RateLimitPolicy,
  SendOutcome,
  SendRecord,
  Storage,
} from '../ports/storage.js';

export interface SendResult {
  readonly serverTimestamp: number;
  readonly duplicate: boolean;
}

export interface MessageServiceOptions {
  readonly storage: Storage;
  readonly fanOut: FanOut;
  readonly clock: Clock;
  readonly maxMailboxEnvelopes: number;
  /** Extra gathering time for group commit (0: flush at the end of the event-loop turn). */
  readonly groupCommitWindowMs?: number;
  /** Sends per account (default MESSAGE_SENDS_PER_ACCOUNT). */
  readonly sendsPerAccount?: RateLimitPolicy;
}

/** One queued write of the message path: a send, or a device's acknowledgements. */
type MailboxWrite =
  | { readonly send: SendRecord; readonly ack?: undefined }
  | { readonly ack: MailboxAck; readonly send?: undefined };

export class MessageService {
  /** Sends and acknowledgements share one queue: one transaction, one fsync per batch. */
  private readonly writes: GroupCommit<MailboxWrite, SendOutcome | undefined>;
  private readonly sendLimit: MemoryRateLimiter;

  constructor(private readonly o: MessageServiceOptions) {
    this.sendLimit = new MemoryRateLimiter(o.sendsPerAccount ?? MESSAGE_SENDS_PER_ACCOUNT, o.clock);
    this.writes = new GroupCommit(
      async (batch) => {
        const sends: SendRecord[] = [];
        const acks: MailboxAck[] = [];
        for (const w of batch) {
          if (w.send !== undefined) sends.push(w.send);
          else acks.push(w.ack);
        }
        const { outcomes } = await o.storage.commitMailboxBatch(sends, acks, o.maxMailboxEnvelopes);
        let next = 0;
        return batch.map((w) => (w.send === undefined ? undefined : outcomes[next++]));
      },
      { windowMs: o.groupCommitWindowMs ?? 0, maxBatch: GROUP_COMMIT_MAX_BATCH },
    );
  }

  async send(
    source: { accountId: string; deviceId: number },
    frame: SendFrame,
  ): Promise<SendResult> {
    const allowed = this.sendLimit.take(source.accountId);
    if (!allowed.allowed) {
      throw new ApiError('RATE_LIMITED', undefined, {
        details: { retryAfterMs: allowed.retryAfterMs },
      });
    }
    const serverTimestamp = this.o.clock.now();
    const envelopes: OutgoingEnvelopeRecord[] = frame.envelopes.map((e) => ({
      guid: randomUUID(),
      accountId: frame.recipient,
      deviceId: e.deviceId,
      registrationId: e.registrationId,
      serverTimestamp,
      sourceAccountId: source.accountId,
      sourceDeviceId: source.deviceId,
      type: e.type,
      content: e.content,
    }));
    // The device list is checked inside the group-commit transaction (storage port, storeSends),
    // so a device added or removed between check and write cannot slip through.
    const outcome = await this.writes.enqueue({
      send: {
        sourceAccountId: source.accountId,
        sourceDeviceId: source.deviceId,
        clientMessageId: toBase64Url(frame.clientMessageId),
        serverTimestamp,
        recipientAccountId: frame.recipient,
        envelopes,
      },
    });
    if (outcome === undefined) throw new Error('group commit lost a send outcome');
    switch (outcome.status) {
      case 'stored':
        for (const envelope of envelopes) {
          this.o.fanOut.publish(envelope.accountId, envelope.deviceId, {
            type: 'envelope',
            envelope,
          });
        }
        return { serverTimestamp, duplicate: false };
      case 'duplicate':
        return { serverTimestamp: outcome.serverTimestamp, duplicate: true };
      case 'unknown-recipient':
        throw new ApiError('ACCOUNT_NOT_FOUND');
      case 'mismatched-devices':
        throw new ApiError('MISMATCHED_DEVICES', undefined, {
          details: { missingDevices: outcome.missingDevices, extraDevices: outcome.extraDevices },
        });
      case 'stale-devices':
        throw new ApiError('STALE_DEVICES', undefined, {
          details: { staleDevices: outcome.staleDevices },
        });
      case 'mailbox-full':
        throw new ApiError('MAILBOX_FULL', undefined, {
          details: { devices: [...outcome.deviceIds] },
        });
    }
  }

  /** Deletes acknowledged envelopes (group-committed). Unknown GUIDs are ignored. */
  async ack(accountId: string, deviceId: number, guids: readonly string[]): Promise<void> {
    await this.writes.enqueue({ ack: { accountId, deviceId, guids } });
  }

  /** Writes still waiting for their transaction. */
  get pendingWrites(): number {
    return this.writes.pending;
  }

  /** Commits everything queued; refuses new writes. */
  async close(): Promise<void> {
    await this.writes.close();
  }
}
