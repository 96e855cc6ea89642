/**
 * The client store ⇄ backup records (docs/backup-format.md §6; docs/client.md "Backups"):
 *
 * | store                                   | record                                                |
 * | --------------------------------------- | ----------------------------------------------------- |
 * | `account`: registration, identity, master key | `Account` (account id, number, identity pair, master key) |
 * | `identities` (trust) ∪ `contacts` (number)    | `Contact` (identity key, verification, number)     |
 * | `messages:<contact>`                    | one direct `Conversation` per contact, then `Message`s |
 * | backup settings (schedule, keep, password) and app namespaces chosen by the caller | `Setting`s |
 *
 * Verification maps as: verified → VERIFIED; a changed key the user has not accepted yet →
 * UNVERIFIED (sending stays held after a restore); otherwise DEFAULT.
 *
 * Not in a backup, on purpose: sessions, prekeys, device lists, the outbox, processed envelope
 * ids, pending links and the device credential — a restored device registers again with new
 * device keys and starts new sessions. Messages still waiting in the outbox (pending or held) are
 * restored as `failed`: they are not sent again.
 */
import type {
  AccountRecord,
  ContactRecord,
  ContentRecord,
  ConversationRecord,
  MessageRecord,
  Receipt,
  ReceiptStatus,
  SettingRecord,
  VerificationState,
} from '@sotto/backup';
import { constantTimeEqual } from '@sotto/crypto';
import { IdentityKeyPair, PrivateKey } from '@sotto/protocol';
import type { ClientStoreReader } from '../client-store.js';
import { ClientError } from '../errors.js';
import type { OutgoingStatus, StoredMessage } from '../events.js';
import { BACKUP_RECORD_BATCH } from '../limits.js';
import { ACCOUNT_KEYS, loadIdentity, loadRegistration } from '../state/account-records.js';
import { decodeTrust, encodeTrust, type TrustRecord } from '../state/device-state.js';
import { fromJsonBytes, toJsonBytes } from '../state/json.js';
import { messagesNamespace, NS, padNumber } from '../state/namespaces.js';
import type { BackupConfig } from './backup-state.js';

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Setting keys the SDK itself writes (backup preferences); app namespaces use `store:`. */
export const SETTING = {
  schedule: 'sotto.backup.schedule-ms',
  keep: 'sotto.backup.keep',
  password: 'sotto.backup.password',
  lockEnabled: 'sotto.registration-lock',
  nameTag: 'sotto.backup.name-tag',
} as const;
const STORE_SETTING_PREFIX = 'store:';

/** Counts what `exportRecords` will produce (for progress and an estimate of the time left). */
export async function countRecords(
  store: ClientStoreReader,
  options: Pick<ExportOptions, 'config' | 'namespaces'>,
): Promise<number> {
  const messages = (await store.list(NS.messageIndex)).length;
  const ids = await contactIds(store);
  const conversations = await conversationIds(store);
  for (const c of conversations) ids.add(c);
  let settings =
    2 + (options.config.schedule === null ? 0 : 1) + (options.config.nameTag === null ? 0 : 1);
  if ((await store.get(NS.account, ACCOUNT_KEYS.registrationLock)) !== undefined) settings++;
  for (const ns of options.namespaces ?? []) settings += (await store.list(ns)).length;
  return 1 + ids.size + conversations.size + messages + settings;
}

async function contactIds(store: ClientStoreReader): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const [k] of await store.list(NS.identities)) ids.add(k);
  for (const [k] of await store.list(NS.contacts)) ids.add(k);
  return ids;
}

/** Conversations that hold messages, from the message index (`<conversation> <key>`). */
async function conversationIds(store: ClientStoreReader): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [, where] of await store.list(NS.messageIndex)) {
    const text = decoder.decode(where);
    out.add(text.slice(0, text.indexOf(' ')));
  }
  return out;
}

function verificationOf(trust: TrustRecord | null): VerificationState {
  if (trust === null) return 'default';
  if (!trust.accepted) return 'unverified';
  return trust.verified ? 'verified' : 'default';
}

const RECEIPT_OF: Record<OutgoingStatus, ReceiptStatus> = {
  pending: 'pending',
  held: 'pending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

/**
 * A message the relay had not accepted when the backup was made (pending or held) is restored as
 * `failed`: the outbox that would send it is not part of a backup, so it will not go out.
 */
const STATUS_OF: Record<ReceiptStatus, OutgoingStatus> = {
  pending: 'failed',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  viewed: 'read',
  failed: 'failed',
};

export interface ExportOptions {
  /** Backup preferences to carry over (schedule, retention, password protection). */
  readonly config: BackupConfig;
  /** App namespaces of the store to include as settings (e.g. the CLI's aliases). */
  readonly namespaces?: readonly string[];
  /** Called with the number of records produced so far. */
  readonly onRecords?: (count: number) => void;
}

/**
 * The store's contents as backup records, in batches (account, contacts, conversations with
 * their messages, settings). Reads one conversation at a time.
 */
export async function* exportRecords(
  store: ClientStoreReader,
  options: ExportOptions,
): AsyncGenerator<ContentRecord[]> {
  const reg = await loadRegistration(store);
  const identity = await loadIdentity(store);
  if (reg === null || reg.status !== 'registered' || identity === null) {
    throw new ClientError('NOT_REGISTERED', 'only a registered device can make a backup');
  }
  let produced = 0;
  const emit = (batch: ContentRecord[]): ContentRecord[] => {
    produced += batch.length;
    options.onRecords?.(produced);
    return batch;
  };
  const masterKey = await store.get(NS.account, ACCOUNT_KEYS.masterKey);
  const account: AccountRecord = {
    type: 'account',
    accountId: reg.accountId,
    phoneNumber: reg.number ?? '',
    deviceId: reg.deviceId,
    registrationId: reg.registrationId,
    identityPublicKey: identity.publicKey.serialize(),
    identityPrivateKey: identity.privateKey.serialize(),
    profileKey: EMPTY,
    profileName: '',
    masterKey: masterKey ?? EMPTY,
  };
  yield emit([account]);

  // Contacts: everyone with a trust record or a looked-up number, plus the account itself when
  // it wrote notes to itself (a conversation needs a contact to point to).
  const ids = await contactIds(store);
  const conversations = await conversationIds(store);
  for (const c of conversations) ids.add(c);
  const recipientOf = new Map<string, number>();
  let batch: ContentRecord[] = [];
  let next = 1;
  for (const id of [...ids].sort()) {
    const recipientId = next++;
    recipientOf.set(id, recipientId);
    const trustBytes = await store.get(NS.identities, id);
    const trust = trustBytes === undefined ? null : decodeTrust(trustBytes);
    const contactBytes = await store.get(NS.contacts, id);
    const number =
      id === reg.accountId
        ? (reg.number ?? '')
        : contactBytes === undefined
          ? ''
          : (fromJsonBytes<{ number: string | null }>(contactBytes, 'contact').number ?? '');
    const contact: ContactRecord = {
      type: 'contact',
      recipientId,
      serviceId: id,
      phoneNumber: number,
      name: '',
      profileName: '',
      profileKey: EMPTY,
      identityKey: trust?.key ?? EMPTY,
      verification: verificationOf(trust),
      blocked: false,
    };
    batch.push(contact);
    if (batch.length >= BACKUP_RECORD_BATCH) {
      yield emit(batch);
      batch = [];
    }
  }

  // One direct conversation per contact with messages, each followed by its messages.
  let conversationId = 0;
  let messageId = 0;
  for (const conversation of [...conversations].sort()) {
    const recipientId = recipientOf.get(conversation)!;
    const record: ConversationRecord = {
      type: 'conversation',
      conversationId: ++conversationId,
      kind: 'direct',
      recipientId,
      groupId: EMPTY,
      title: '',
      archived: false,
      pinned: false,
      mutedUntilMs: 0,
      expireTimerSeconds: 0,
    };
    batch.push(record);
    for (const [, bytes] of await store.list(messagesNamespace(conversation))) {
      const m = fromJsonBytes<StoredMessage>(bytes, 'message');
      const outgoing = m.author === reg.accountId;
      const author = outgoing ? 0 : (recipientOf.get(m.author) ?? recipientId);
      const receipts: Receipt[] =
        outgoing && m.status !== undefined
          ? [{ recipientId, status: RECEIPT_OF[m.status], updatedAtMs: 0 }]
          : [];
      const message: MessageRecord = {
        type: 'message',
        messageId: ++messageId,
        conversationId,
        authorRecipientId: author,
        sentAtMs: m.sentAt,
        receivedAtMs: m.storedAt,
        body: m.body,
        attachments: [],
        receipts,
        read: !outgoing && m.status === 'read',
        expiresInMs: 0,
        expireStartedAtMs: 0,
        authorMessageId: m.id,
        authorDeviceId: m.authorDevice,
        ...(m.serverTimestamp === undefined ? {} : { serverTimestampMs: m.serverTimestamp }),
      };
      batch.push(message);
      if (batch.length >= BACKUP_RECORD_BATCH) {
        yield emit(batch);
        batch = [];
      }
    }
  }

  // Settings: backup preferences, the lock state, then the chosen app namespaces verbatim.
  const c = options.config;
  const settings: SettingRecord[] = [
    { type: 'setting', key: SETTING.keep, value: c.keep },
    { type: 'setting', key: SETTING.password, value: c.password },
  ];
  if (c.schedule !== null) {
    settings.push({ type: 'setting', key: SETTING.schedule, value: c.schedule.intervalMs });
  }
  if (c.nameTag !== null)
    settings.push({ type: 'setting', key: SETTING.nameTag, value: c.nameTag });
  const lock = await store.get(NS.account, ACCOUNT_KEYS.registrationLock);
  if (lock !== undefined) {
    const enabled = fromJsonBytes<{ enabled: boolean }>(lock, 'registration lock').enabled;
    settings.push({ type: 'setting', key: SETTING.lockEnabled, value: enabled === true });
  }
  for (const ns of options.namespaces ?? []) {
    for (const [key, value] of await store.list(ns)) {
      settings.push({ type: 'setting', key: `${STORE_SETTING_PREFIX}${ns}/${key}`, value });
    }
  }
  batch.push(...settings);
  if (batch.length > 0) yield emit(batch);
}

/** A store write staged by a restore. */
export type StagedWrite = readonly [namespace: string, key: string, value: Uint8Array];

/**
 * The two passes of a restore over an archive's records (restore.ts). Pass 1 (`add`) keeps only
 * what later records refer to — the account, contacts, which contact each direct conversation is
 * with, settings — and counts the messages, which are the bulk and are not kept. Pass 2 turns each
 * message into its store writes (`messageWrites`) as it streams by; `contactWrites` and
 * `settingWrites` come from what pass 1 kept. Nothing is written here. Records that name a contact
 * or conversation the archive does not hold are skipped (docs/backup-format.md §6.3).
 */
export class RecordImporter {
  #account: AccountRecord | null = null;
  readonly #contacts = new Map<number, ContactRecord>();
  readonly #conversations = new Map<number, string>();
  #messageCount = 0;
  readonly #settings = new Map<string, SettingRecord['value']>();

  constructor(private readonly now: number) {}

  get messageCount(): number {
    return this.#messageCount;
  }

  get settings(): ReadonlyMap<string, SettingRecord['value']> {
    return this.#settings;
  }

  /** Pass 1: takes one record (messages are only counted). */
  add(record: ContentRecord | { readonly type: 'backup-info' }): void {
    switch (record.type) {
      case 'backup-info':
        return;
      case 'account':
        this.#account = record;
        return;
      case 'contact':
        this.#contacts.set(record.recipientId, record);
        return;
      case 'conversation': {
        const contact =
          record.kind === 'direct' ? this.#contacts.get(record.recipientId) : undefined;
        if (contact !== undefined)
          this.#conversations.set(record.conversationId, contact.serviceId);
        return;
      }
      case 'message':
        this.#messageCount++;
        return;
      case 'setting':
        this.#settings.set(record.key, record.value);
        return;
    }
  }

  /** The account record and its identity key pair; STORE_CORRUPT if the archive has none. */
  account(): { account: AccountRecord; identity: IdentityKeyPair } {
    const account = this.#account;
    if (account === null) {
      throw new ClientError('STORE_CORRUPT', 'the backup holds no account record');
    }
    let identity: IdentityKeyPair;
    try {
      identity = IdentityKeyPair.fromPrivateKey(PrivateKey.deserialize(account.identityPrivateKey));
    } catch (cause) {
      throw new ClientError('STORE_CORRUPT', 'the identity key in the backup is malformed', {
        cause,
      });
    }
    if (!constantTimeEqual(identity.publicKey.serialize(), account.identityPublicKey)) {
      throw new ClientError('STORE_CORRUPT', 'the identity key pair in the backup does not match');
    }
    return { account, identity };
  }

  /** Contacts other than the account itself. */
  get contactCount(): number {
    const own = this.#account?.accountId;
    let n = 0;
    for (const c of this.#contacts.values()) if (c.serviceId !== own) n++;
    return n;
  }

  /** The account's id in the archive (its own messages are filed under the id it has now). */
  #self(accountId: string): (id: string) => string {
    const archived = this.#account?.accountId;
    return (id: string): string => (id === archived ? accountId : id);
  }

  /** The store writes for contacts and their trust (numbers, identity keys, verification). */
  contactWrites(): StagedWrite[] {
    const archived = this.#account?.accountId;
    const out: StagedWrite[] = [];
    for (const c of this.#contacts.values()) {
      if (c.serviceId === archived) continue;
      if (c.phoneNumber !== '') {
        out.push([NS.contacts, c.serviceId, toJsonBytes({ number: c.phoneNumber })]);
      }
      if (c.identityKey.length > 0) {
        const trust: TrustRecord = {
          key: c.identityKey,
          accepted: c.verification !== 'unverified',
          verified: c.verification === 'verified',
          firstSeenAt: this.now,
        };
        out.push([NS.identities, c.serviceId, encodeTrust(trust)]);
      }
    }
    return out;
  }

  /**
   * Pass 2: appends to `out` the store writes of one message (none if it names a conversation or
   * author the archive lacks). `accountId` is the account on the relay now (the archive's, unless
   * the number was registered anew since); the account's own messages are filed under it.
   */
  messageWrites(m: MessageRecord, accountId: string, out: StagedWrite[]): void {
    const archived = this.#account?.accountId;
    const self = this.#self(accountId);
    const archivedConversation = this.#conversations.get(m.conversationId);
    if (archivedConversation === undefined || m.authorMessageId === undefined) return;
    const conversation = self(archivedConversation);
    const outgoing = m.authorRecipientId === 0;
    const authorService = outgoing ? archived : this.#contacts.get(m.authorRecipientId)?.serviceId;
    if (authorService === undefined) return;
    const author = self(authorService);
    let status: OutgoingStatus | undefined;
    if (outgoing) {
      const receipt = m.receipts[0];
      status = receipt === undefined ? undefined : STATUS_OF[receipt.status];
    } else if (m.read) {
      status = 'read';
    }
    const message: StoredMessage = {
      id: m.authorMessageId,
      conversation,
      author,
      authorDevice: m.authorDeviceId ?? 0,
      direction: outgoing ? 'outgoing' : 'incoming',
      body: m.body,
      sentAt: m.sentAtMs,
      storedAt: m.receivedAtMs,
      ...(m.serverTimestampMs === undefined ? {} : { serverTimestamp: m.serverTimestampMs }),
      ...(status === undefined ? {} : { status }),
    };
    // The same keys as messaging/message-store.ts `putMessage`.
    const key = `${padNumber(message.sentAt)}.${message.author}.${message.id}`;
    out.push([messagesNamespace(conversation), key, toJsonBytes(message)]);
    out.push([
      NS.messageIndex,
      `${message.author}/${message.id}`,
      encoder.encode(`${conversation} ${key}`),
    ]);
  }

  /**
   * The app settings to restore: only app namespaces in `namespaces` are restored from `store:`
   * settings (an archive never writes into the SDK's own namespaces).
   */
  settingWrites(namespaces: readonly string[] = []): StagedWrite[] {
    const out: StagedWrite[] = [];
    for (const [key, value] of this.#settings) {
      if (!key.startsWith(STORE_SETTING_PREFIX) || !(value instanceof Uint8Array)) continue;
      const rest = key.slice(STORE_SETTING_PREFIX.length);
      const slash = rest.indexOf('/');
      if (slash <= 0 || !namespaces.includes(rest.slice(0, slash))) continue;
      out.push([rest.slice(0, slash), rest.slice(slash + 1), value]);
    }
    return out;
  }
}
