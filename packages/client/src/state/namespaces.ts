/**
 * Where the client keeps what in its `ClientStore` (client-store.ts): one namespace per kind of
 * record. Keys that encode numbers are zero-padded so `list` returns them in numeric order.
 * Values are the libsignal `storage.proto` encodings for keys (so they load in libsignal too), the
 * session engine's own encoding for sessions, and small JSON documents for everything else.
 */
export const NS = {
  /** `registration`, `identity`, `master-key`, `registration-lock`, `key-state`. */
  account: 'account',
  /** `<accountId>.<deviceId>` → session record (engine encoding). */
  sessions: 'sessions',
  /** `<accountId>` → trust record (JSON: key, accepted, verified, …). */
  identities: 'identities',
  /** `<accountId>` → JSON list of known device ids. */
  devices: 'devices',
  /** `<accountId>` → JSON contact (number, when looked up). */
  contacts: 'contacts',
  /** padded id → PreKeyRecord. */
  preKeys: 'prekeys',
  /** padded id → SignedPreKeyRecord. */
  signedPreKeys: 'signed-prekeys',
  /** padded id → KyberPreKeyRecord. */
  kyberPreKeys: 'kyber-prekeys',
  /** `<kyberId>.<signedId>.<baseKey hex>` → empty: uses of last-resort Kyber prekeys. */
  kyberUsed: 'kyber-used',
  /** padded sequence number → outbox entry (JSON). */
  outbox: 'outbox',
  /** envelope GUID → processed-at (JSON number): redeliveries are recognised. */
  processedGuids: 'inbox-guids',
  /** `<author>/<messageId>` → `<conversation> <key>`: dedupe and receipt lookup. */
  messageIndex: 'message-index',
} as const;

/** Messages of one conversation: key `<padded sentAt>.<author>.<messageId>`. */
export function messagesNamespace(conversation: string): string {
  return `messages:${conversation}`;
}

export function padNumber(n: number, width = 16): string {
  return n.toString().padStart(width, '0');
}
