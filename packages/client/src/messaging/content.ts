/**
 * The plaintext inside every 1:1 Signal message Sotto clients exchange: a small versioned JSON
 * `Content`, padded before encryption so ciphertext lengths reveal little.
 *
 * Padding follows Signal (`PushTransportDetails`): the content, then 0x80, then zeros up to a
 * multiple of 160 bytes (PADDING_BLOCK_BYTES). Unpadding strips trailing zeros and requires the
 * 0x80 marker.
 *
 * Content kinds (`v: 1`):
 * - `text`       a message: `id` (sender-chosen, 128 random bits, base64url), `sentAt`, `body`
 * - `receipt`    `kind` delivery | read, for message `ids` the receiver of the receipt authored
 * - `sync-sent`  to the sender's own other devices: a text it sent to `destination`
 * - `sync-read`  to the sender's own other devices: it read messages `ids` by `author`
 * Unknown kinds and newer versions decode to `null` (ignored, but still acknowledged), so old
 * clients keep working when new kinds appear. Left out on purpose: attachments, groups, edits.
 */
import { isUuid } from '@sotto/api';
import { ClientError } from '../errors.js';
import { MAX_TEXT_BYTES, PADDING_BLOCK_BYTES } from '../limits.js';

export const CONTENT_VERSION = 1;

export type ReceiptKind = 'delivery' | 'read';

export type Content =
  | { readonly type: 'text'; readonly id: string; readonly sentAt: number; readonly body: string }
  | { readonly type: 'receipt'; readonly kind: ReceiptKind; readonly ids: readonly string[] }
  | {
      readonly type: 'sync-sent';
      readonly destination: string;
      readonly id: string;
      readonly sentAt: number;
      readonly body: string;
    }
  | { readonly type: 'sync-read'; readonly author: string; readonly ids: readonly string[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Message ids: 16 bytes in base64url without padding (22 characters). */
const MESSAGE_ID = /^[A-Za-z0-9_-]{22}$/;
/** Receipts name at most this many messages (a receipt is one small envelope). */
export const MAX_RECEIPT_IDS = 500;

export function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && MESSAGE_ID.test(value);
}

/** Appends 0x80 and zeros up to the next multiple of the padding block. */
export function pad(plaintext: Uint8Array): Uint8Array {
  const length = Math.ceil((plaintext.length + 1) / PADDING_BLOCK_BYTES) * PADDING_BLOCK_BYTES;
  const out = new Uint8Array(length);
  out.set(plaintext, 0);
  out[plaintext.length] = 0x80;
  return out;
}

/** Removes the padding; `null` if the 0x80 marker is missing. Returns a view, not a copy. */
export function unpad(padded: Uint8Array): Uint8Array | null {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) return null;
  return padded.subarray(0, i);
}

/** The padded plaintext of `content`. */
export function encodeContent(content: Content): Uint8Array {
  const body: Record<string, unknown> = { v: CONTENT_VERSION, ...content };
  return pad(encoder.encode(JSON.stringify(body)));
}

function safeTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function idList(value: unknown): readonly string[] | null {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RECEIPT_IDS) return null;
  for (const id of value) if (!isMessageId(id)) return null;
  return value as string[];
}

function textBody(value: unknown): value is string {
  return typeof value === 'string' && encoder.encode(value).length <= MAX_TEXT_BYTES;
}

/**
 * Parses a padded plaintext. Returns `null` for content this client does not understand (a newer
 * version or kind); throws `INVALID_ARGUMENT` for content that is malformed.
 */
export function decodeContent(padded: Uint8Array): Content | null {
  const bytes = unpad(padded);
  if (bytes === null) throw new ClientError('INVALID_ARGUMENT', 'content padding is malformed');
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ClientError('INVALID_ARGUMENT', 'content is not UTF-8 JSON', { cause });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ClientError('INVALID_ARGUMENT', 'content is not an object');
  }
  const c = raw as Record<string, unknown>;
  if (c.v !== CONTENT_VERSION) return null;
  const bad = (): never => {
    throw new ClientError('INVALID_ARGUMENT', `malformed ${String(c.type)} content`);
  };
  switch (c.type) {
    case 'text':
      if (!isMessageId(c.id) || !safeTime(c.sentAt) || !textBody(c.body)) return bad();
      return { type: 'text', id: c.id, sentAt: c.sentAt, body: c.body };
    case 'receipt': {
      const ids = idList(c.ids);
      if ((c.kind !== 'delivery' && c.kind !== 'read') || ids === null) return bad();
      return { type: 'receipt', kind: c.kind, ids };
    }
    case 'sync-sent':
      if (
        typeof c.destination !== 'string' ||
        !isUuid(c.destination) ||
        !isMessageId(c.id) ||
        !safeTime(c.sentAt) ||
        !textBody(c.body)
      ) {
        return bad();
      }
      return {
        type: 'sync-sent',
        destination: c.destination,
        id: c.id,
        sentAt: c.sentAt,
        body: c.body,
      };
    case 'sync-read': {
      const ids = idList(c.ids);
      if (typeof c.author !== 'string' || !isUuid(c.author) || ids === null) return bad();
      return { type: 'sync-read', author: c.author, ids };
    }
    default:
      return null;
  }
}
