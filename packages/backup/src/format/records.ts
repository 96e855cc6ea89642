/**
 * The records of a backup and their protobuf encoding (docs/backup-format.md §6, schema
 * `sotto.backup.v1`). The decompressed body is a sequence of `Frame` messages, each preceded by
 * its length as a varint (protobuf's `writeDelimitedTo`); the first frame is `BackupInfo`.
 *
 * Fields follow proto3: a field equal to its default is not written and reads back as the default
 * (empty string, empty bytes, 0, false). Unknown fields and unknown frame kinds are skipped, so a
 * later schema can add to any message; an unknown enum value reads as the enum's default.
 * Attachments are not in the archive, only pointers with the keys that decrypt them.
 *
 * As in Signal's backup format, records refer to each other by archive-local numbers (a contact's
 * `recipientId`, a conversation's `conversationId`), and every reference points to a record
 * earlier in the stream: contacts, then conversations, then messages. Numbers are compact and
 * cheap to encode (a message names its author without repeating a 36-character service id).
 */
import { BackupError } from '../errors.js';
import { ProtoReader, WIRE_VARINT, type ProtoWriter } from './proto.js';

/** The record schema version written in BackupInfo. */
export const SCHEMA_VERSION = 1;

/** The first record of every archive (written by the writer, yielded first by the reader). */
export interface BackupInfoRecord {
  readonly type: 'backup-info';
  readonly schemaVersion: number;
  readonly createdAtMs: number;
  /** The writing application and version, e.g. "sotto-cli/0.1.0". */
  readonly app: string;
}

/** The account's own identity and keys. */
export interface AccountRecord {
  readonly type: 'account';
  /** The account's service id (ACI). */
  readonly accountId: string;
  /** E.164. */
  readonly phoneNumber: string;
  readonly deviceId: number;
  readonly registrationId: number;
  /** Serialized identity public key (`0x05 ‖ u`, 33 bytes). */
  readonly identityPublicKey: Uint8Array;
  /** Identity private key (32 bytes). */
  readonly identityPrivateKey: Uint8Array;
  /** Profile key (32 bytes). */
  readonly profileKey: Uint8Array;
  readonly profileName: string;
  /** The account master key (registration lock, storage), if the client has one. */
  readonly masterKey: Uint8Array;
}

export type VerificationState = 'default' | 'verified' | 'unverified';

export interface ContactRecord {
  readonly type: 'contact';
  /** Archive-local id (≥ 1, unique among contacts) that other records use to name this contact. */
  readonly recipientId: number;
  /** The contact's service id (ACI). */
  readonly serviceId: string;
  readonly phoneNumber: string;
  /** The user's own name for the contact. */
  readonly name: string;
  readonly profileName: string;
  readonly profileKey: Uint8Array;
  /** The contact's identity key as last seen (33 bytes), empty if none. */
  readonly identityKey: Uint8Array;
  /** Whether the user verified `identityKey` (safety number) or it changed since. */
  readonly verification: VerificationState;
  readonly blocked: boolean;
}

export interface ConversationRecord {
  readonly type: 'conversation';
  /** Local id, unique within the archive; messages refer to it. */
  readonly conversationId: number;
  readonly kind: 'direct' | 'group';
  /** For a direct conversation: the contact's recipientId. 0 for a group. */
  readonly recipientId: number;
  /** For a group: the group id. Empty for a direct conversation. */
  readonly groupId: Uint8Array;
  readonly title: string;
  readonly archived: boolean;
  readonly pinned: boolean;
  readonly mutedUntilMs: number;
  readonly expireTimerSeconds: number;
}

export type ReceiptStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'viewed' | 'failed';

/** Delivery state of an outgoing message for one recipient. */
export interface Receipt {
  /** The recipient's contact recipientId. */
  readonly recipientId: number;
  readonly status: ReceiptStatus;
  readonly updatedAtMs: number;
}

/** Where an attachment lives and the keys to decrypt it (the blob is not in the archive). */
export interface AttachmentPointer {
  readonly cdnKey: string;
  readonly cdnNumber: number;
  /** 64 bytes: AES-256 key ‖ HMAC-SHA256 key. */
  readonly key: Uint8Array;
  /** SHA-256 of the encrypted blob. */
  readonly digest: Uint8Array;
  /** Plaintext size in bytes. */
  readonly size: number;
  readonly contentType: string;
  readonly fileName: string;
  readonly width: number;
  readonly height: number;
  readonly uploadedAtMs: number;
}

export interface MessageRecord {
  readonly type: 'message';
  readonly messageId: number;
  readonly conversationId: number;
  /** The author's contact recipientId; 0 for the account's own (outgoing) messages. */
  readonly authorRecipientId: number;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
  readonly body: string;
  readonly attachments: readonly AttachmentPointer[];
  /** For outgoing messages: one receipt per recipient. */
  readonly receipts: readonly Receipt[];
  /** Incoming messages: whether the user has read it. */
  readonly read: boolean;
  readonly expiresInMs: number;
  readonly expireStartedAtMs: number;
  /**
   * The author's own id for the message (Sotto: 128 random bits, base64url), which receipts and
   * de-duplication use. Schema addition (field 12); absent when empty.
   */
  readonly authorMessageId?: string;
  /** The author's device that sent it (field 13); absent when 0. */
  readonly authorDeviceId?: number;
  /** The relay's timestamp of the envelope, ms (field 14); absent when 0. */
  readonly serverTimestampMs?: number;
}

export type SettingValue = boolean | number | string | Uint8Array;

export interface SettingRecord {
  readonly type: 'setting';
  readonly key: string;
  /** A boolean, a safe integer, a string or bytes. */
  readonly value: SettingValue;
}

/** What a backup holds (what the writer takes): every record but BackupInfo. */
export type ContentRecord =
  AccountRecord | ContactRecord | ConversationRecord | MessageRecord | SettingRecord;

/** What a reader yields. */
export type BackupRecord = BackupInfoRecord | ContentRecord;

// ---- field numbers (docs/backup-format.md §6) ----

const FRAME_INFO = 1;
const FRAME_ACCOUNT = 2;
const FRAME_CONTACT = 3;
const FRAME_CONVERSATION = 4;
const FRAME_MESSAGE = 5;
const FRAME_SETTING = 6;

const VERIFICATION: readonly VerificationState[] = ['default', 'verified', 'unverified'];
const RECEIPT: readonly ReceiptStatus[] = [
  'pending',
  'sent',
  'delivered',
  'read',
  'viewed',
  'failed',
];

function enumIndex<T>(values: readonly T[], value: T, name: string): number {
  const i = values.indexOf(value);
  if (i < 0)
    throw new BackupError('INVALID_ARGUMENT', `${name} is not one of ${values.join(', ')}`);
  return i;
}

/** RECEIPT.indexOf(status) for the per-message path, without a search. */
function receiptStatusIndex(status: ReceiptStatus): number {
  switch (status) {
    case 'pending':
      return 0;
    case 'sent':
      return 1;
    case 'delivered':
      return 2;
    case 'read':
      return 3;
    case 'viewed':
      return 4;
    case 'failed':
      return 5;
    default:
      return enumIndex(RECEIPT, status, 'receipt status');
  }
}

function badRecord(what: string): BackupError {
  return new BackupError('INVALID_ARGUMENT', what);
}

// ---- encoding ----

function writeAttachment(w: ProtoWriter, a: AttachmentPointer): void {
  w.string(1, a.cdnKey);
  w.uint(2, a.cdnNumber);
  w.bytes(3, a.key);
  w.bytes(4, a.digest);
  w.uint(5, a.size);
  w.string(6, a.contentType);
  w.string(7, a.fileName);
  w.uint(8, a.width);
  w.uint(9, a.height);
  w.uint(10, a.uploadedAtMs);
}

function writeMessage(w: ProtoWriter, m: MessageRecord): void {
  w.uint(1, m.messageId);
  w.uint(2, m.conversationId);
  w.uint(3, m.authorRecipientId);
  w.uint(4, m.sentAtMs);
  w.uint(5, m.receivedAtMs);
  w.string(6, m.body);
  for (const a of m.attachments) {
    const start = w.begin(7);
    writeAttachment(w, a);
    w.end(start);
  }
  for (const r of m.receipts) {
    const start = w.begin(8);
    w.uint(1, r.recipientId);
    w.uint(2, receiptStatusIndex(r.status));
    w.uint(3, r.updatedAtMs);
    w.end(start);
  }
  w.bool(9, m.read);
  w.uint(10, m.expiresInMs);
  w.uint(11, m.expireStartedAtMs);
  if (m.authorMessageId !== undefined) w.string(12, m.authorMessageId);
  if (m.authorDeviceId !== undefined) w.uint(13, m.authorDeviceId);
  if (m.serverTimestampMs !== undefined) w.uint(14, m.serverTimestampMs);
}

function writeSetting(w: ProtoWriter, s: SettingRecord): void {
  w.string(1, s.key);
  const v = s.value;
  // Oneof members are written even when they equal the default.
  if (typeof v === 'boolean') {
    w.varint((2 << 3) | WIRE_VARINT);
    w.varint(v ? 1 : 0);
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw badRecord('a numeric setting must be a safe integer');
    w.varint((3 << 3) | WIRE_VARINT);
    w.zigzag(v);
  } else if (typeof v === 'string') {
    w.string(4, v, true);
  } else if (v instanceof Uint8Array) {
    w.bytes(5, v, true);
  } else {
    throw badRecord('a setting value is a boolean, number, string or Uint8Array');
  }
}

/** Appends one delimited Frame holding `record` to `w` (on error, `w.pos` is left anywhere). */
export function writeRecord(w: ProtoWriter, record: BackupRecord): void {
  switch (record.type) {
    // Messages first: nearly every record is one.
    case 'message': {
      const start = w.beginFrame(FRAME_MESSAGE);
      writeMessage(w, record);
      w.endFrame(start);
      break;
    }
    case 'backup-info': {
      const start = w.beginFrame(FRAME_INFO);
      w.uint(1, record.schemaVersion);
      w.uint(2, record.createdAtMs);
      w.string(3, record.app);
      w.endFrame(start);
      break;
    }
    case 'account': {
      const start = w.beginFrame(FRAME_ACCOUNT);
      w.string(1, record.accountId);
      w.string(2, record.phoneNumber);
      w.uint(3, record.deviceId);
      w.uint(4, record.registrationId);
      w.bytes(5, record.identityPublicKey);
      w.bytes(6, record.identityPrivateKey);
      w.bytes(7, record.profileKey);
      w.string(8, record.profileName);
      w.bytes(9, record.masterKey);
      w.endFrame(start);
      break;
    }
    case 'contact': {
      const start = w.beginFrame(FRAME_CONTACT);
      w.uint(1, record.recipientId);
      w.string(2, record.serviceId);
      w.string(3, record.phoneNumber);
      w.string(4, record.name);
      w.string(5, record.profileName);
      w.bytes(6, record.profileKey);
      w.bytes(7, record.identityKey);
      w.uint(8, enumIndex(VERIFICATION, record.verification, 'verification'));
      w.bool(9, record.blocked);
      w.endFrame(start);
      break;
    }
    case 'conversation': {
      const start = w.beginFrame(FRAME_CONVERSATION);
      w.uint(1, record.conversationId);
      if (record.kind === 'direct') {
        if (record.recipientId === 0 || record.groupId.length !== 0) {
          throw badRecord('a direct conversation has a recipientId and no groupId');
        }
        w.uint(2, record.recipientId);
      } else if (record.kind === 'group') {
        if (record.groupId.length === 0 || record.recipientId !== 0) {
          throw badRecord('a group conversation has a groupId and no recipientId');
        }
        w.bytes(3, record.groupId);
      } else {
        throw badRecord('conversation kind is direct or group');
      }
      w.string(4, record.title);
      w.bool(5, record.archived);
      w.bool(6, record.pinned);
      w.uint(7, record.mutedUntilMs);
      w.uint(8, record.expireTimerSeconds);
      w.endFrame(start);
      break;
    }
    case 'setting': {
      const start = w.beginFrame(FRAME_SETTING);
      writeSetting(w, record);
      w.endFrame(start);
      break;
    }
    default:
      throw badRecord(`unknown record type ${String((record as { type?: unknown }).type)}`);
  }
}

// ---- decoding ----
//
// Case labels are tags written as number literals, `(field << 3) | wire` with wire 0 = varint and
// 2 = length-delimited, which V8 folds to constants and compiles into a jump table. Nested
// messages are read in place: the reader's `end` is narrowed to the nested message and restored.

const EMPTY: Uint8Array = new Uint8Array(0);

function readInfo(r: ProtoReader, outerEnd: number): BackupInfoRecord {
  let schemaVersion = 0;
  let createdAtMs = 0;
  let app = '';
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        schemaVersion = r.varint();
        break;
      case (2 << 3) | 0:
        createdAtMs = r.varint();
        break;
      case (3 << 3) | 2:
        app = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  return { type: 'backup-info', schemaVersion, createdAtMs, app };
}

function readAccount(r: ProtoReader, outerEnd: number): AccountRecord {
  let accountId = '';
  let phoneNumber = '';
  let deviceId = 0;
  let registrationId = 0;
  let identityPublicKey = EMPTY;
  let identityPrivateKey = EMPTY;
  let profileKey = EMPTY;
  let profileName = '';
  let masterKey = EMPTY;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2:
        accountId = r.string();
        break;
      case (2 << 3) | 2:
        phoneNumber = r.string();
        break;
      case (3 << 3) | 0:
        deviceId = r.varint();
        break;
      case (4 << 3) | 0:
        registrationId = r.varint();
        break;
      case (5 << 3) | 2:
        identityPublicKey = r.bytes();
        break;
      case (6 << 3) | 2:
        identityPrivateKey = r.bytes();
        break;
      case (7 << 3) | 2:
        profileKey = r.bytes();
        break;
      case (8 << 3) | 2:
        profileName = r.string();
        break;
      case (9 << 3) | 2:
        masterKey = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  return {
    type: 'account',
    accountId,
    phoneNumber,
    deviceId,
    registrationId,
    identityPublicKey,
    identityPrivateKey,
    profileKey,
    profileName,
    masterKey,
  };
}

function readContact(r: ProtoReader, outerEnd: number): ContactRecord {
  let recipientId = 0;
  let serviceId = '';
  let phoneNumber = '';
  let name = '';
  let profileName = '';
  let profileKey = EMPTY;
  let identityKey = EMPTY;
  let verification: VerificationState = 'default';
  let blocked = false;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        recipientId = r.varint();
        break;
      case (2 << 3) | 2:
        serviceId = r.string();
        break;
      case (3 << 3) | 2:
        phoneNumber = r.string();
        break;
      case (4 << 3) | 2:
        name = r.string();
        break;
      case (5 << 3) | 2:
        profileName = r.string();
        break;
      case (6 << 3) | 2:
        profileKey = r.bytes();
        break;
      case (7 << 3) | 2:
        identityKey = r.bytes();
        break;
      case (8 << 3) | 0:
        verification = VERIFICATION[r.varint()] ?? 'default';
        break;
      case (9 << 3) | 0:
        blocked = r.bool();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  return {
    type: 'contact',
    recipientId,
    serviceId,
    phoneNumber,
    name,
    profileName,
    profileKey,
    identityKey,
    verification,
    blocked,
  };
}

function readConversation(r: ProtoReader, outerEnd: number): ConversationRecord {
  let conversationId = 0;
  let recipientId = 0;
  let groupId = EMPTY;
  let title = '';
  let archived = false;
  let pinned = false;
  let mutedUntilMs = 0;
  let expireTimerSeconds = 0;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        conversationId = r.varint();
        break;
      case (2 << 3) | 0:
        recipientId = r.varint();
        break;
      case (3 << 3) | 2:
        groupId = r.bytes();
        break;
      case (4 << 3) | 2:
        title = r.string();
        break;
      case (5 << 3) | 0:
        archived = r.bool();
        break;
      case (6 << 3) | 0:
        pinned = r.bool();
        break;
      case (7 << 3) | 0:
        mutedUntilMs = r.varint();
        break;
      case (8 << 3) | 0:
        expireTimerSeconds = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if ((recipientId === 0) === (groupId.length === 0)) {
    throw new BackupError('CORRUPT_RECORD', 'a conversation names exactly one contact or group');
  }
  r.end = outerEnd;
  return {
    type: 'conversation',
    conversationId,
    kind: recipientId === 0 ? 'group' : 'direct',
    recipientId,
    groupId,
    title,
    archived,
    pinned,
    mutedUntilMs,
    expireTimerSeconds,
  };
}

function readAttachment(r: ProtoReader, outerEnd: number): AttachmentPointer {
  let cdnKey = '';
  let cdnNumber = 0;
  let key = EMPTY;
  let digest = EMPTY;
  let size = 0;
  let contentType = '';
  let fileName = '';
  let width = 0;
  let height = 0;
  let uploadedAtMs = 0;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2:
        cdnKey = r.string();
        break;
      case (2 << 3) | 0:
        cdnNumber = r.varint();
        break;
      case (3 << 3) | 2:
        key = r.bytes();
        break;
      case (4 << 3) | 2:
        digest = r.bytes();
        break;
      case (5 << 3) | 0:
        size = r.varint();
        break;
      case (6 << 3) | 2:
        contentType = r.string();
        break;
      case (7 << 3) | 2:
        fileName = r.string();
        break;
      case (8 << 3) | 0:
        width = r.varint();
        break;
      case (9 << 3) | 0:
        height = r.varint();
        break;
      case (10 << 3) | 0:
        uploadedAtMs = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  return {
    cdnKey,
    cdnNumber,
    key,
    digest,
    size,
    contentType,
    fileName,
    width,
    height,
    uploadedAtMs,
  };
}

function readReceipt(r: ProtoReader, outerEnd: number): Receipt {
  let recipientId = 0;
  let status: ReceiptStatus = 'pending';
  let updatedAtMs = 0;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        recipientId = r.varint();
        break;
      case (2 << 3) | 0:
        status = RECEIPT[r.varint()] ?? 'pending';
        break;
      case (3 << 3) | 0:
        updatedAtMs = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  return { recipientId, status, updatedAtMs };
}

const NO_ATTACHMENTS: readonly AttachmentPointer[] = Object.freeze([]);
const NO_RECEIPTS: readonly Receipt[] = Object.freeze([]);

function readMessage(r: ProtoReader, outerEnd: number): MessageRecord {
  let messageId = 0;
  let conversationId = 0;
  let authorRecipientId = 0;
  let sentAtMs = 0;
  let receivedAtMs = 0;
  let body = '';
  let attachments: AttachmentPointer[] | undefined;
  let receipts: Receipt[] | undefined;
  let read = false;
  let expiresInMs = 0;
  let expireStartedAtMs = 0;
  let authorMessageId = '';
  let authorDeviceId = 0;
  let serverTimestampMs = 0;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        messageId = r.varint();
        break;
      case (2 << 3) | 0:
        conversationId = r.varint();
        break;
      case (3 << 3) | 0:
        authorRecipientId = r.varint();
        break;
      case (4 << 3) | 0:
        sentAtMs = r.varint();
        break;
      case (5 << 3) | 0:
        receivedAtMs = r.varint();
        break;
      case (6 << 3) | 2:
        body = r.string();
        break;
      case (7 << 3) | 2:
        if (attachments === undefined) attachments = [readAttachment(r, r.enter())];
        else attachments.push(readAttachment(r, r.enter()));
        break;
      case (8 << 3) | 2:
        // Most messages have one receipt: an exact one-element array, grown only for more.
        if (receipts === undefined) receipts = [readReceipt(r, r.enter())];
        else receipts.push(readReceipt(r, r.enter()));
        break;
      case (9 << 3) | 0:
        read = r.bool();
        break;
      case (10 << 3) | 0:
        expiresInMs = r.varint();
        break;
      case (11 << 3) | 0:
        expireStartedAtMs = r.varint();
        break;
      case (12 << 3) | 2:
        authorMessageId = r.string();
        break;
      case (13 << 3) | 0:
        authorDeviceId = r.varint();
        break;
      case (14 << 3) | 0:
        serverTimestampMs = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outerEnd;
  const message: MessageRecord = {
    type: 'message',
    messageId,
    conversationId,
    authorRecipientId,
    sentAtMs,
    receivedAtMs,
    body,
    attachments: attachments ?? NO_ATTACHMENTS,
    receipts: receipts ?? NO_RECEIPTS,
    read,
    expiresInMs,
    expireStartedAtMs,
  };
  // Fields 12–14 are present only when set; the common case (none) spreads nothing.
  if (authorMessageId === '' && authorDeviceId === 0 && serverTimestampMs === 0) return message;
  return {
    ...message,
    ...(authorMessageId === '' ? {} : { authorMessageId }),
    ...(authorDeviceId === 0 ? {} : { authorDeviceId }),
    ...(serverTimestampMs === 0 ? {} : { serverTimestampMs }),
  };
}

function readSetting(r: ProtoReader, outerEnd: number): SettingRecord {
  let key = '';
  let value: SettingValue | undefined;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2:
        key = r.string();
        break;
      case (2 << 3) | 0:
        value = r.bool();
        break;
      case (3 << 3) | 0:
        value = r.sint();
        break;
      case (4 << 3) | 2:
        value = r.string();
        break;
      case (5 << 3) | 2:
        value = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (value === undefined) throw new BackupError('CORRUPT_RECORD', 'a setting has no value');
  r.end = outerEnd;
  return { type: 'setting', key, value };
}

/** One reader for all frames (decoding is synchronous): no allocation per record. */
const frameReader = new ProtoReader(EMPTY, 0, 0);

/**
 * Decodes the Frame in `buf[start, end)`. Returns undefined for a frame of a kind this reader
 * does not know (a later schema's addition), which the caller skips.
 */
export function readRecord(buf: Uint8Array, start: number, end: number): BackupRecord | undefined {
  const r = frameReader;
  r.reset(buf, start, end);
  let record: BackupRecord | undefined;
  while (!r.done) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2: // FRAME_INFO
        record = readInfo(r, r.enter());
        break;
      case (2 << 3) | 2: // FRAME_ACCOUNT
        record = readAccount(r, r.enter());
        break;
      case (3 << 3) | 2: // FRAME_CONTACT
        record = readContact(r, r.enter());
        break;
      case (4 << 3) | 2: // FRAME_CONVERSATION
        record = readConversation(r, r.enter());
        break;
      case (5 << 3) | 2: // FRAME_MESSAGE
        record = readMessage(r, r.enter());
        break;
      case (6 << 3) | 2: // FRAME_SETTING
        record = readSetting(r, r.enter());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return record;
}
