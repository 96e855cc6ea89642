/**
 * The writer's check of the archive's reference rule (docs/backup-format.md §6.3): every
 * reference points to a record earlier in the stream. Contacts are named by `recipientId`,
 * conversations by `conversationId`; both must be unique. Memory grows with the number of
 * contacts and conversations, not messages.
 *
 * Readers do not enforce the rule (a later schema may add kinds of records that are referenced);
 * a client skips a record whose reference it cannot resolve.
 */
import { BackupError } from '../errors.js';
import type { ContentRecord } from './records.js';

function invalid(message: string): never {
  throw new BackupError('INVALID_ARGUMENT', message);
}

/** Ids below this are kept in a byte map (at most 64 KiB per set), larger ones in a Set. */
const DENSE_ID_LIMIT = 1 << 16;

/**
 * A set of ids ≥ 1. Clients number contacts and conversations from 1 upwards, so a byte map
 * answers the per-message lookups; a Set holds the rest. Memory grows with the largest small id
 * and the number of large ones, never with messages.
 */
class IdSet {
  #dense = new Uint8Array(64);
  readonly #sparse = new Set<number>();

  has(id: number): boolean {
    if (id < this.#dense.length) return this.#dense[id] === 1;
    return this.#sparse.has(id);
  }

  add(id: number): void {
    if (id < DENSE_ID_LIMIT) {
      if (id >= this.#dense.length) {
        const next = new Uint8Array(
          Math.min(DENSE_ID_LIMIT, Math.max(2 * this.#dense.length, id + 1)),
        );
        next.set(this.#dense);
        this.#dense = next;
      }
      this.#dense[id] = 1;
    } else {
      this.#sparse.add(id);
    }
  }
}

export class ReferenceChecker {
  readonly #contacts = new IdSet();
  readonly #conversations = new IdSet();
  #account = false;

  check(record: ContentRecord): void {
    switch (record.type) {
      case 'message': {
        if (!this.#conversations.has(record.conversationId)) {
          invalid(`message ${record.messageId} refers to an unknown conversation`);
        }
        if (record.authorRecipientId !== 0 && !this.#contacts.has(record.authorRecipientId)) {
          invalid(`message ${record.messageId} refers to an unknown author`);
        }
        for (const receipt of record.receipts) {
          if (!this.#contacts.has(receipt.recipientId)) {
            invalid(`message ${record.messageId} has a receipt for an unknown recipient`);
          }
        }
        return;
      }
      case 'contact': {
        const id = record.recipientId;
        if (!Number.isSafeInteger(id) || id < 1) invalid('a contact recipientId is an integer ≥ 1');
        if (this.#contacts.has(id)) invalid(`two contacts have recipientId ${id}`);
        this.#contacts.add(id);
        return;
      }
      case 'conversation': {
        const id = record.conversationId;
        if (!Number.isSafeInteger(id) || id < 1) invalid('a conversationId is an integer ≥ 1');
        if (this.#conversations.has(id)) invalid(`two conversations have conversationId ${id}`);
        if (record.kind === 'direct' && !this.#contacts.has(record.recipientId)) {
          invalid(`conversation ${id} refers to an unknown contact`);
        }
        this.#conversations.add(id);
        return;
      }
      case 'account':
        if (this.#account) invalid('an archive has at most one account record');
        this.#account = true;
        return;
      case 'setting':
        if (typeof record.key !== 'string' || record.key === '') invalid('a setting has a key');
        return;
      default:
        invalid(`unknown record type ${String((record as { type?: unknown }).type)}`);
    }
  }
}
