/**
 * Conversations as the client stores them: one namespace per conversation, keyed by
 * `<padded sentAt>.<author>.<id>` so `list` returns a conversation in the authors' time order,
 * plus an index `<author>/<id>` → where the message is, used to drop duplicates (the same message
 * delivered twice, e.g. re-encrypted after a crash) and to apply receipts. All writes go through a
 * `StateTransaction`, together with the session state that produced them.
 */
import type { OutgoingStatus, StoredMessage } from '../events.js';
import type { StateTransaction } from '../state/device-state.js';
import { fromJsonBytes, toJsonBytes } from '../state/json.js';
import { messagesNamespace, NS, padNumber } from '../state/namespaces.js';
import type { ClientStoreReader } from '../client-store.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function messageKey(m: Pick<StoredMessage, 'sentAt' | 'author' | 'id'>): string {
  return `${padNumber(m.sentAt)}.${m.author}.${m.id}`;
}

function indexKey(author: string, id: string): string {
  return `${author}/${id}`;
}

/** Status ranks: a status only moves up (a late "delivered" never overrides "read"). */
const RANK: Record<OutgoingStatus, number> = {
  pending: 0,
  held: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  failed: 4,
};

export function statusAdvances(from: OutgoingStatus | undefined, to: OutgoingStatus): boolean {
  if (from === undefined) return true;
  if (from === 'failed') return false;
  if ((from === 'pending' || from === 'held') && (to === 'pending' || to === 'held')) {
    return from !== to;
  }
  return RANK[to] > RANK[from];
}

/** True if a message with this author and id is stored (or written earlier in `tx`). */
export async function hasMessage(
  tx: StateTransaction<unknown>,
  author: string,
  id: string,
): Promise<boolean> {
  return (await tx.get(NS.messageIndex, indexKey(author, id))) !== undefined;
}

export function putMessage(tx: StateTransaction<unknown>, message: StoredMessage): void {
  const key = messageKey(message);
  tx.put(messagesNamespace(message.conversation), key, toJsonBytes(message));
  tx.put(
    NS.messageIndex,
    indexKey(message.author, message.id),
    encoder.encode(`${message.conversation} ${key}`),
  );
}

export async function findMessage(
  reader: Pick<ClientStoreReader, 'get'>,
  author: string,
  id: string,
): Promise<StoredMessage | null> {
  const where = await reader.get(NS.messageIndex, indexKey(author, id));
  if (where === undefined) return null;
  const text = decoder.decode(where);
  const space = text.indexOf(' ');
  const bytes = await reader.get(messagesNamespace(text.slice(0, space)), text.slice(space + 1));
  return bytes === undefined ? null : fromJsonBytes<StoredMessage>(bytes, 'message');
}

/**
 * Moves a stored message to `status` if that is an advance (and, with `conversation`, only if
 * the message belongs to that conversation); returns the updated message, or `null` when
 * nothing changed.
 */
export async function updateStatus(
  tx: StateTransaction<unknown>,
  author: string,
  id: string,
  status: OutgoingStatus,
  conversation?: string,
): Promise<StoredMessage | null> {
  const message = await findMessage(tx, author, id);
  if (message === null || !statusAdvances(message.status, status)) return null;
  if (conversation !== undefined && message.conversation !== conversation) return null;
  const updated: StoredMessage = { ...message, status };
  putMessage(tx, updated);
  return updated;
}

export async function listMessages(
  reader: ClientStoreReader,
  conversation: string,
  limit?: number,
): Promise<StoredMessage[]> {
  const entries = await reader.list(messagesNamespace(conversation));
  const start = limit === undefined ? 0 : Math.max(0, entries.length - limit);
  const out: StoredMessage[] = [];
  for (let i = start; i < entries.length; i++) {
    out.push(fromJsonBytes<StoredMessage>(entries[i]![1], 'message'));
  }
  return out;
}
