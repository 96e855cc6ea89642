/**
 * A deterministic synthetic chat history for tests and benchmarks: an account, contacts with
 * every verification state, direct and group conversations, settings of every value type, and
 * messages with receipts, attachment pointers and non-ASCII text, until about `targetBytes` of
 * encoded records. Text is drawn from a word list so it compresses roughly like real chat.
 * Uses a seeded PRNG (mulberry32), not a CSPRNG: the keys in it are fake.
 */
import { ProtoWriter } from '../format/proto.js';
import type {
  AttachmentPointer,
  ContentRecord,
  MessageRecord,
  Receipt,
  ReceiptStatus,
  VerificationState,
} from '../format/records.js';
import { writeRecord } from '../format/records.js';

export interface SyntheticHistoryOptions {
  /** Approximate encoded size of all records (frames included). */
  readonly targetBytes: number;
  readonly seed?: number;
  readonly contacts?: number;
  readonly groups?: number;
  /** Share of messages with an attachment pointer; default 0.1. */
  readonly attachmentRate?: number;
  /** Only ASCII words in message bodies (default: a few accented words, emoji, CJK, Cyrillic). */
  readonly asciiOnly?: boolean;
}

const WORDS = (
  'the be to of and a in that have I it for not on with he as you do at this but his by from ' +
  'they we say her she or an will my one all would there their what so up out if about who get ' +
  'which go me when make can like time no just him know take people into year your good some ' +
  'could them see other than then now look only come its over think also back after use two how ' +
  'our work first well way even new want because any these give day most us ok yes lol tomorrow ' +
  'tonight dinner meeting call later sure thanks great sounds perfect coffee train home office ' +
  'photo weekend birthday café naïve über São Paulo Zürich 😀 👍 🎉 ❤️ 東京 привет'
).split(' ');
const ASCII_WORDS = WORDS.filter((w) => /^[\x20-\x7e]+$/.test(w));

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytesOf(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Words joined into one flat string (like text read from a database, not a rope). */
function sentence(rand: () => number, words: number, vocabulary = WORDS): string {
  const parts: string[] = [];
  for (let i = 0; i < words; i++) parts.push(vocabulary[Math.floor(rand() * vocabulary.length)]!);
  return parts.join(' ');
}

const scratch = new ProtoWriter(1 << 16);

/** The encoded size of one record as a delimited frame. */
export function encodedRecordLength(record: ContentRecord): number {
  scratch.pos = 0;
  writeRecord(scratch, record);
  return scratch.pos;
}

const VERIFICATIONS: readonly VerificationState[] = ['default', 'verified', 'unverified'];
const STATUSES: readonly ReceiptStatus[] = ['sent', 'delivered', 'read', 'viewed', 'failed'];

/** Yields the history lazily (constant memory). */
export function* syntheticHistory(options: SyntheticHistoryOptions): Generator<ContentRecord> {
  const rand = seededRandom(options.seed ?? 1);
  const contactCount = options.contacts ?? 50;
  const groupCount = options.groups ?? 5;
  const attachmentRate = options.attachmentRate ?? 0.1;
  let bytes = 0;
  const t0 = 1_600_000_000_000;

  const account: ContentRecord = {
    type: 'account',
    accountId: 'a1b2c3d4-0000-4000-8000-000000000001',
    phoneNumber: '+14155550100',
    deviceId: 1,
    registrationId: 4242,
    identityPublicKey: Uint8Array.of(5, ...bytesOf(rand, 32)),
    identityPrivateKey: bytesOf(rand, 32),
    profileKey: bytesOf(rand, 32),
    profileName: 'Ada Lovelace',
    masterKey: bytesOf(rand, 32),
  };
  bytes += encodedRecordLength(account);
  yield account;

  for (let i = 0; i < contactCount; i++) {
    const contact: ContentRecord = {
      type: 'contact',
      recipientId: i + 1,
      serviceId: `c0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      phoneNumber: `+1415555${String(1000 + i).slice(-4)}`,
      name: i % 3 === 0 ? '' : sentence(rand, 2),
      profileName: sentence(rand, 2),
      profileKey: bytesOf(rand, 32),
      identityKey: Uint8Array.of(5, ...bytesOf(rand, 32)),
      verification: VERIFICATIONS[i % 3]!,
      blocked: i % 17 === 16,
    };
    bytes += encodedRecordLength(contact);
    yield contact;
  }

  const conversations = contactCount + groupCount;
  for (let i = 0; i < conversations; i++) {
    const group = i >= contactCount;
    const conversation: ContentRecord = {
      type: 'conversation',
      conversationId: i + 1,
      kind: group ? 'group' : 'direct',
      recipientId: group ? 0 : i + 1,
      groupId: group ? bytesOf(rand, 32) : new Uint8Array(0),
      title: group ? sentence(rand, 3) : '',
      archived: i % 7 === 6,
      pinned: i < 2,
      mutedUntilMs: i % 5 === 4 ? t0 + 86_400_000 : 0,
      expireTimerSeconds: i % 4 === 3 ? 604_800 : 0,
    };
    bytes += encodedRecordLength(conversation);
    yield conversation;
  }

  const settings: ContentRecord[] = [
    { type: 'setting', key: 'privacy.readReceipts', value: true },
    { type: 'setting', key: 'privacy.typingIndicators', value: false },
    { type: 'setting', key: 'chats.defaultExpireTimerSeconds', value: 0 },
    { type: 'setting', key: 'ui.textScale', value: -2 },
    { type: 'setting', key: 'ui.theme', value: 'dark' },
    { type: 'setting', key: 'notifications.sound', value: bytesOf(rand, 16) },
  ];
  for (const s of settings) {
    bytes += encodedRecordLength(s);
    yield s;
  }

  let messageId = 1;
  while (bytes < options.targetBytes) {
    const conversationId = 1 + Math.floor(rand() * conversations);
    const outgoing = rand() < 0.5;
    const group = conversationId > contactCount;
    const r = rand();
    const words =
      r < 0.6
        ? 1 + Math.floor(rand() * 12)
        : r < 0.95
          ? 10 + Math.floor(rand() * 60)
          : 100 + Math.floor(rand() * 300);
    const sentAtMs = t0 + messageId * 60_000;
    let attachments: AttachmentPointer[] = [];
    if (rand() < attachmentRate) {
      attachments = [
        {
          cdnKey: `att-${messageId.toString(36)}-${Math.floor(rand() * 1e9).toString(36)}`,
          cdnNumber: 3,
          key: bytesOf(rand, 64),
          digest: bytesOf(rand, 32),
          size: Math.floor(rand() * 5_000_000),
          contentType: rand() < 0.8 ? 'image/jpeg' : 'application/pdf',
          fileName: rand() < 0.5 ? '' : `IMG_${messageId}.jpg`,
          width: 1920,
          height: 1080,
          uploadedAtMs: sentAtMs,
        },
      ];
    }
    let receipts: Receipt[] = [];
    if (outgoing) {
      const recipients = group ? 1 + Math.floor(rand() * 5) : 1;
      receipts = [];
      for (let k = 0; k < recipients; k++) {
        receipts.push({
          recipientId: 1 + Math.floor(rand() * contactCount),
          status: STATUSES[Math.floor(rand() * STATUSES.length)]!,
          updatedAtMs: sentAtMs + Math.floor(rand() * 100_000),
        });
      }
    }
    const message: MessageRecord = {
      type: 'message',
      messageId: messageId++,
      conversationId,
      authorRecipientId: outgoing
        ? 0
        : group
          ? 1 + Math.floor(rand() * contactCount)
          : conversationId,
      sentAtMs,
      receivedAtMs: outgoing ? 0 : sentAtMs + Math.floor(rand() * 5000),
      body: sentence(rand, words, options.asciiOnly === true ? ASCII_WORDS : WORDS),
      attachments,
      receipts,
      read: !outgoing && rand() < 0.9,
      expiresInMs: 0,
      expireStartedAtMs: 0,
    };
    bytes += encodedRecordLength(message);
    yield message;
  }
}

/** The body bytes (delimited frames, no BackupInfo) that `records` encode to. */
export function encodeRecords(records: Iterable<ContentRecord>): Uint8Array {
  const w = new ProtoWriter(1 << 20);
  for (const r of records) writeRecord(w, r);
  return w.buf.slice(0, w.pos);
}
