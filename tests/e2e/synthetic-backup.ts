/**
 * A synthetic Sotto client backup for restore tests: an account with a real identity key pair for
 * `number`, a few contacts with one direct conversation each, and `messages` messages spread over
 * them, written with `createBackup` (the archive format of docs/backup-format.md) under a fresh
 * backup key with a recovery-key slot. Records are generated lazily, so a large history never sits
 * in memory here either.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  BackupKey,
  RecoveryKey,
  createBackup,
  recoveryKeySlot,
  type BackupStorage,
  type Compression,
  type ContentRecord,
} from '@sotto/backup';
import { IdentityKeyPair } from '@sotto/protocol';

export interface SyntheticBackupOptions {
  readonly number: string;
  readonly messages: number;
  /** Characters of each message body (ASCII). */
  readonly bodyLength?: number;
  readonly contacts?: number;
  /** Plaintext bytes per chunk (small values make many chunks out of a small history). */
  readonly chunkSize?: number;
  readonly compression?: Compression;
  readonly name?: string;
  /** The keys of an earlier synthetic backup (another archive of the same account). */
  readonly keysOf?: SyntheticBackup;
}

export interface SyntheticBackup {
  readonly name: string;
  /** The recovery key as shown to a user. */
  readonly recoveryKey: string;
  readonly backupKey: BackupKey;
  readonly contacts: number;
  readonly messages: number;
}

const TIME = 1_750_000_000_000;

function* records(
  options: SyntheticBackupOptions,
  identity: IdentityKeyPair,
): Generator<ContentRecord[]> {
  const contacts = options.contacts ?? 3;
  const body = 'x'.repeat(options.bodyLength ?? 40);
  yield [
    {
      type: 'account',
      accountId: randomUUID(),
      phoneNumber: options.number,
      deviceId: 1,
      registrationId: 77,
      identityPublicKey: identity.publicKey.serialize(),
      identityPrivateKey: identity.privateKey.serialize(),
      profileKey: new Uint8Array(0),
      profileName: '',
      masterKey: new Uint8Array(0),
    },
  ];
  const batch: ContentRecord[] = [];
  for (let i = 1; i <= contacts; i++) {
    const key = randomBytes(33);
    key[0] = 5;
    batch.push({
      type: 'contact',
      recipientId: i,
      serviceId: randomUUID(),
      phoneNumber: `+1415555${String(9000 + i)}`,
      name: '',
      profileName: '',
      profileKey: new Uint8Array(0),
      identityKey: key,
      verification: 'default',
      blocked: false,
    });
    batch.push({
      type: 'conversation',
      conversationId: i,
      kind: 'direct',
      recipientId: i,
      groupId: new Uint8Array(0),
      title: '',
      archived: false,
      pinned: false,
      mutedUntilMs: 0,
      expireTimerSeconds: 0,
    });
  }
  yield batch.splice(0);
  for (let m = 1; m <= options.messages; m++) {
    const conversation = 1 + (m % contacts);
    const outgoing = m % 2 === 0;
    batch.push({
      type: 'message',
      messageId: m,
      conversationId: conversation,
      authorRecipientId: outgoing ? 0 : conversation,
      sentAtMs: TIME + m,
      receivedAtMs: TIME + m + 1,
      body: `${m} ${body}`,
      attachments: [],
      receipts: outgoing
        ? [{ recipientId: conversation, status: 'delivered', updatedAtMs: 0 }]
        : [],
      read: !outgoing,
      expiresInMs: 0,
      expireStartedAtMs: 0,
      authorMessageId: `m${String(m).padStart(21, '0')}`,
      authorDeviceId: 1,
    });
    if (batch.length >= 256) yield batch.splice(0);
  }
  if (batch.length > 0) yield batch.splice(0);
}

/** Writes the backup into `storage` and returns how to open it. */
export async function writeSyntheticBackup(
  storage: BackupStorage,
  options: SyntheticBackupOptions,
): Promise<SyntheticBackup> {
  const identity = IdentityKeyPair.generate((n) => randomBytes(n));
  const backupKey = options.keysOf?.backupKey ?? BackupKey.generate();
  const recovery =
    options.keysOf === undefined
      ? RecoveryKey.generate()
      : RecoveryKey.parse(options.keysOf.recoveryKey);
  const name = options.name ?? `sotto-backup-20250601T120000000Z-synthtst.sbk`;
  await storage.put(
    name,
    createBackup(records(options, identity), {
      backupKey,
      keySlots: [recoveryKeySlot(backupKey, recovery)],
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(options.compression === undefined ? {} : { compression: options.compression }),
      createdAtMs: TIME,
    }),
  );
  return {
    name,
    recoveryKey: recovery.reveal(),
    backupKey,
    contacts: options.contacts ?? 3,
    messages: options.messages,
  };
}
