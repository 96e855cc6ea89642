/**
 * The storage port: everything the relay keeps, as domain operations (not SQL), so the same
 * conformance suite (`@sotto/server/testing`) runs against every adapter. The Kysely
 * implementation (storage/kysely-storage.ts) serves SQLite today and PostgreSQL later; an adapter
 * only supplies the dialect, the driver and its durability tuning.
 *
 * Secrets never reach this port in clear: credentials arrive as SHA-256 hashes, verification and
 * provisioning codes and registration-lock tokens as HMACs under the server secret, and numbers
 * that are not an account's own (pending codes, rate-limit buckets) as HMAC keys. Every method
 * that changes several rows does so in one transaction.
 *
 * Audit rows travel with the change they record: each method behind a security event takes the
 * event(s) as its last argument and appends them, hash-chained, in the SAME transaction, so a crash
 * can never leave a change without its audit row (or a row for a change that did not happen).
 * Where the event depends on what the transaction decided (the id a new device got, the devices a
 * re-registration removed) the argument is a function of that outcome. Events are written only
 * when the change happened (no row for a removal that found nothing, a refused key upload, a
 * number that was taken).
 */

import type { DeviceListProblem } from '../messages/device-list.js';

export interface RegistrationLockRecord {
  /** HMAC-SHA256 of the 32-byte token under the server secret. */
  readonly tokenHash: Uint8Array;
  readonly setAt: number;
}

export interface AccountRecord {
  readonly accountId: string;
  /** E.164; kept because lookup and re-registration need it. Never logged. */
  readonly number: string;
  readonly identityKey: Uint8Array;
  readonly createdAt: number;
  readonly registrationLock: RegistrationLockRecord | null;
}

export interface NewDevice {
  readonly registrationId: number;
  /** SHA-256 of the 256-bit credential. */
  readonly credentialHash: Uint8Array;
  /** Client-encrypted name, opaque to the server. */
  readonly name: Uint8Array | null;
  readonly createdAt: number;
}

export interface DeviceRecord extends NewDevice {
  readonly accountId: string;
  readonly deviceId: number;
  readonly lastSeenAt: number;
}

export interface SignedKey {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}
export interface OneTimeKey {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}
export interface KeyUpload {
  readonly signedPreKey?: SignedKey;
  readonly lastResortKyberPreKey?: SignedKey;
  readonly preKeys?: readonly OneTimeKey[];
  readonly kyberPreKeys?: readonly SignedKey[];
}
export interface DeviceBundle {
  readonly deviceId: number;
  readonly registrationId: number;
  readonly signedPreKey: SignedKey;
  /** A one-time EC prekey, removed from the store as it is handed out; absent when none is left. */
  readonly preKey?: OneTimeKey;
  /** A one-time Kyber prekey (removed as handed out), or the last-resort one when none is left. */
  readonly kyberPreKey: SignedKey;
}

/** One envelope in one device's mailbox. `content` is ciphertext the server cannot read. */
export interface StoredEnvelope {
  readonly guid: string;
  readonly accountId: string;
  readonly deviceId: number;
  readonly serverTimestamp: number;
  readonly sourceAccountId: string;
  readonly sourceDeviceId: number;
  readonly type: number;
  readonly content: Uint8Array;
}
/** A mailbox entry with its position, for paging through a drain. */
export interface MailboxEntry extends StoredEnvelope {
  readonly position: number;
}

/** An envelope of a send, with the registration id the sender encrypted for. */
export interface OutgoingEnvelopeRecord extends StoredEnvelope {
  readonly registrationId: number;
}

/** One send (one client message id) with an envelope per recipient device. */
export interface SendRecord {
  readonly sourceAccountId: string;
  readonly sourceDeviceId: number;
  /** base64url of the 16-byte client message id. */
  readonly clientMessageId: string;
  readonly serverTimestamp: number;
  readonly recipientAccountId: string;
  readonly envelopes: readonly OutgoingEnvelopeRecord[];
}
export type SendOutcome =
  | { readonly status: 'stored' }
  /** The same (source device, client message id) was stored before; nothing new was stored. */
  | { readonly status: 'duplicate'; readonly serverTimestamp: number }
  | { readonly status: 'mailbox-full'; readonly deviceIds: readonly number[] }
  /** The device-list check (messages/device-list.ts) failed; nothing was stored. */
  | DeviceListProblem;

export interface MailboxAck {
  readonly accountId: string;
  readonly deviceId: number;
  readonly guids: readonly string[];
}

export type VerificationAttempt =
  /** An attempt was counted and may be checked against this hash. */
  | { readonly status: 'pending'; readonly codeHash: Uint8Array; readonly attempts: number }
  | { readonly status: 'expired' }
  | { readonly status: 'exhausted' };

/** Generic cell rate algorithm: `burst` events at once, then one per `intervalMs`. */
export interface RateLimitPolicy {
  readonly burst: number;
  readonly intervalMs: number;
}
export type RateLimitDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface AttachmentRecord {
  readonly attachmentId: string;
  readonly accountId: string;
  readonly size: number;
  readonly createdAt: number;
}

/**
 * One backup archive the relay keeps for an account (routes/backups.ts). The bytes are in the
 * backup blob store under `blobId`; the relay knows only the name the client chose, the size and
 * the time.
 */
export interface BackupRecord {
  readonly accountId: string;
  /** The client's object name (`BACKUP_NAME_PATTERN` of @sotto/api). */
  readonly name: string;
  /** Random, server-chosen id of the blob holding the bytes. */
  readonly blobId: string;
  readonly size: number;
  /** When the upload completed (milliseconds). */
  readonly createdAt: number;
}

/** How many backups, and how many bytes of them, the relay keeps per account. */
export interface BackupRetention {
  /** The newest this many backups are kept (newest by `createdAt`, ties by name). */
  readonly keep: number;
  /** The kept backups together take at most this many bytes. */
  readonly quotaBytes: number;
}

export type BackupCommitOutcome =
  | {
      readonly status: 'stored';
      /** Blobs no row refers to any more (the replaced backup, the ones beyond `keep`). */
      readonly obsoleteBlobIds: readonly string[];
    }
  /** The kept backups with this one would exceed the quota; nothing was written. */
  | { readonly status: 'quota-exceeded' }
  /** The account is gone (deleted meanwhile); nothing was written. */
  | { readonly status: 'no-account' };

export type AuditEventType =
  | 'account-registered'
  | 'account-reregistered'
  | 'identity-key-changed'
  | 'verification-code-failed'
  | 'registration-lock-failed'
  | 'registration-lock-set'
  | 'registration-lock-removed'
  | 'device-added'
  | 'device-removed'
  | 'keys-replaced'
  | 'account-deleted'
  | 'backup-stored'
  | 'backup-deleted'
  /** The embedded key vault's events (apps/server wires the vault's onSecurityEvent here). */
  | 'vault-record-registered'
  | 'vault-guess-counted'
  | 'vault-login-succeeded'
  | 'vault-login-failed'
  | 'vault-record-deleted';

export interface AuditEventInput {
  readonly at: number;
  readonly event: AuditEventType;
  readonly accountId: string | null;
  readonly deviceId: number | null;
  /** Small, non-secret facts (counts, kinds). Never numbers, codes, tokens or content. */
  readonly details: Readonly<Record<string, string | number | boolean>> | null;
}
export interface AuditRecord extends AuditEventInput {
  readonly seq: number;
  /** SHA-256(previous hash ‖ canonical row), see audit/audit-chain.ts. */
  readonly hash: Uint8Array;
}
/** Where verification starts: seq 0 and 32 zero bytes, or the last pruned row. */
export interface AuditAnchor {
  readonly seq: number;
  readonly hash: Uint8Array;
}

export interface AccountExportData {
  readonly account: AccountRecord;
  readonly devices: readonly (DeviceRecord & {
    readonly signedPreKey: SignedKey | undefined;
    readonly lastResortKyberPreKey: SignedKey | undefined;
    readonly oneTimePreKeys: readonly OneTimeKey[];
    readonly oneTimeKyberPreKeys: readonly SignedKey[];
  })[];
  readonly pendingEnvelopes: readonly (Omit<StoredEnvelope, 'content'> & {
    readonly size: number;
  })[];
  readonly sentMessageIds: readonly {
    readonly deviceId: number;
    readonly clientMessageId: string;
    readonly createdAt: number;
  }[];
  readonly attachments: readonly AttachmentRecord[];
  /** Sorted by name. */
  readonly backups: readonly BackupRecord[];
  readonly auditEvents: readonly AuditRecord[];
}

/** Cut-off times for one sweep: rows older than these are deleted. */
export interface SweepCutoffs {
  readonly now: number;
  readonly envelopesBefore: number;
  readonly sentMessageIdsBefore: number;
  readonly attachmentsBefore: number;
  readonly auditBefore: number;
}
export interface SweepResult {
  readonly envelopes: number;
  readonly sentMessageIds: number;
  readonly verificationCodes: number;
  readonly provisioningCodes: number;
  readonly rateLimits: number;
  readonly auditRows: number;
  /** Attachment rows deleted; the caller deletes their blobs. */
  readonly attachmentIds: readonly string[];
}

/** Audit events appended in the transaction of the change they record. */
export type AuditEvents = readonly AuditEventInput[];

export interface Storage {
  // accounts
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  getAccountByNumber(number: string): Promise<AccountRecord | undefined>;
  /**
   * Creates the account and its primary (device 1) with `audit`, atomically. 'number-taken' (and
   * nothing written) when another account holds the number — two first registrations racing.
   * Throws if the account id exists.
   */
  createAccount(
    account: { accountId: string; number: string; identityKey: Uint8Array; createdAt: number },
    primary: NewDevice,
    audit?: AuditEvents,
  ): Promise<'created' | 'number-taken'>;
  /**
   * Re-registration: removes every device with its keys and mailbox, clears the registration lock,
   * sets the identity key and adds a new primary (device 1). Returns the removed device ids; the
   * events `audit(removed)` returns are written in the same transaction.
   */
  replaceAccountDevices(
    accountId: string,
    identityKey: Uint8Array,
    primary: NewDevice,
    audit?: (removedDeviceIds: readonly number[]) => AuditEvents,
  ): Promise<readonly number[]>;
  /**
   * Erases the account and everything keyed by it, writing `audit` in the same transaction.
   * Returns its attachment ids and backup blob ids (blobs to delete).
   */
  deleteAccount(
    accountId: string,
    audit?: AuditEvents,
  ): Promise<{
    readonly attachmentIds: readonly string[];
    readonly backupBlobIds: readonly string[];
  }>;
  setRegistrationLock(
    accountId: string,
    lock: RegistrationLockRecord | null,
    audit?: AuditEvents,
  ): Promise<void>;
  /**
   * Sets the account's identity key (the primary's route for a restore, routes/keys.ts), in one
   * transaction with `audit`: every prekey of the account (signed, last-resort and one-time, of
   * every device) is deleted with it, since their signatures were made by the old identity and no
   * longer verify. Refused with nothing written: 'linked-devices' when a device other than the
   * primary exists (it holds the old identity), 'no-account'. 'unchanged' (nothing written, no
   * audit) when the key is already this one.
   */
  replaceIdentityKey(
    accountId: string,
    identityKey: Uint8Array,
    audit?: AuditEvents,
  ): Promise<'replaced' | 'unchanged' | 'linked-devices' | 'no-account'>;
  exportAccount(accountId: string): Promise<AccountExportData | undefined>;

  // devices
  getDevices(accountId: string): Promise<readonly DeviceRecord[]>;
  getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined>;
  /**
   * Adds a device under the lowest free id in 2..maxDeviceId, with the events `audit(deviceId)`
   * returns; `undefined` (and nothing written) when `maxDevices` are in use.
   */
  addDevice(
    accountId: string,
    device: NewDevice,
    limits: { maxDevices: number; maxDeviceId: number },
    audit?: (deviceId: number) => AuditEvents,
  ): Promise<number | undefined>;
  /** Removes a linked device with its keys and mailbox, and writes `audit`. False if there was none. */
  removeDevice(accountId: string, deviceId: number, audit?: AuditEvents): Promise<boolean>;
  touchDevice(accountId: string, deviceId: number, now: number): Promise<void>;

  // verification and provisioning codes
  /** Stores (replacing any earlier one) the code for a number key, with zero attempts. */
  putVerificationCode(numberKey: string, codeHash: Uint8Array, expiresAt: number): Promise<void>;
  /** Counts one attempt atomically; at most `maxAttempts` attempts are ever reported `pending`. */
  beginVerificationAttempt(
    numberKey: string,
    now: number,
    maxAttempts: number,
  ): Promise<VerificationAttempt>;
  /**
   * Deletes the pending code of a number key if it is still the one with `codeHash`, atomically:
   * of two requests presenting the same code at once exactly one gets `true` (the code is single
   * use). False when it was consumed, replaced or removed meanwhile.
   */
  consumeVerificationCode(numberKey: string, codeHash: Uint8Array): Promise<boolean>;
  putProvisioningCode(codeKey: string, accountId: string, expiresAt: number): Promise<void>;
  /** Deletes and returns the account of an unexpired code (single use), atomically. */
  takeProvisioningCode(codeKey: string, now: number): Promise<string | undefined>;

  // rate limits
  /** Takes one event from the bucket atomically. */
  consumeRateLimit(
    bucket: string,
    policy: RateLimitPolicy,
    now: number,
  ): Promise<RateLimitDecision>;
  /** Deletes every bucket whose name starts with `prefix` (account erasure). */
  deleteRateLimits(prefix: string): Promise<void>;

  // keys
  /**
   * Stores an upload, with `audit`, in one transaction. 'full' (and nothing stored) when the
   * one-time keys of a kind would exceed `maxOneTimeKeys`.
   */
  storeKeys(
    accountId: string,
    deviceId: number,
    upload: KeyUpload,
    maxOneTimeKeys: number,
    audit?: AuditEvents,
  ): Promise<'ok' | 'full'>;
  countOneTimeKeys(accountId: string, deviceId: number): Promise<{ ec: number; kyber: number }>;
  /**
   * A bundle for the device, consuming one one-time key of each kind atomically: two callers never
   * receive the same one-time key. `undefined` when the device lacks a signed or last-resort key.
   */
  takePreKeyBundle(accountId: string, deviceId: number): Promise<DeviceBundle | undefined>;

  // mailboxes
  /**
   * Stores a batch of sends in ONE transaction (group commit) and returns an outcome per send, in
   * order. For each send, in this order: a known client message id is a duplicate; the envelopes
   * must match the recipient's devices (checkDeviceList, inside the transaction, so no device
   * change slips between check and write); a mailbox at `maxMailbox` refuses the send. Refused
   * sends store nothing.
   */
  storeSends(sends: readonly SendRecord[], maxMailbox: number): Promise<readonly SendOutcome[]>;
  /**
   * One group commit of the message path in ONE transaction: deletes the acknowledged envelopes
   * (as `deleteEnvelopes`), then stores the sends (as `storeSends`, outcomes in order). Both
   * directions of traffic share one commit, so one fsync.
   */
  commitMailboxBatch(
    sends: readonly SendRecord[],
    acks: readonly MailboxAck[],
    maxMailbox: number,
  ): Promise<{ readonly outcomes: readonly SendOutcome[]; readonly deleted: number }>;
  /** Envelopes with position > `afterPosition`, oldest first. */
  readMailbox(
    accountId: string,
    deviceId: number,
    afterPosition: number,
    limit: number,
  ): Promise<readonly MailboxEntry[]>;
  /** Deletes acknowledged envelopes (one transaction). Returns how many existed. */
  deleteEnvelopes(acks: readonly MailboxAck[]): Promise<number>;
  mailboxSize(accountId: string, deviceId: number): Promise<number>;

  // attachments
  putAttachment(record: AttachmentRecord): Promise<void>;
  getAttachment(attachmentId: string): Promise<AttachmentRecord | undefined>;

  /**
   * Of `blobIds`, those no attachment (`kind = 'attachment'`) or backup (`'backup'`) row points
   * at: blobs left by a crash between writing and recording them.
   */
  unreferencedBlobs(kind: 'attachment' | 'backup', blobIds: readonly string[]): Promise<string[]>;

  // backups
  /** The account's backups, sorted by name. */
  listBackups(accountId: string): Promise<readonly BackupRecord[]>;
  getBackup(accountId: string, name: string): Promise<BackupRecord | undefined>;
  /**
   * Stores a completed upload in one transaction: it replaces the account's backup of the same
   * name, then deletes the oldest backups beyond `retention.keep`, unless the kept backups would
   * exceed `retention.quotaBytes` (then nothing is written). Concurrent commits of one account
   * are serialised. `audit(outcome)` is written with the change.
   */
  commitBackup(
    record: BackupRecord,
    retention: BackupRetention,
    audit?: (change: { readonly replaced: boolean; readonly pruned: number }) => AuditEvents,
  ): Promise<BackupCommitOutcome>;
  /** Deletes one backup with `audit`; its blob id, or `undefined` (and no audit) if none. */
  deleteBackup(accountId: string, name: string, audit?: AuditEvents): Promise<string | undefined>;

  // audit log
  /**
   * Appends events in order, each chained to the previous row's hash (one transaction). For events
   * that are not part of another change (a failed code or lock token).
   */
  appendAuditEvents(events: AuditEvents): Promise<void>;
  readAuditLog(afterSeq: number, limit: number): Promise<readonly AuditRecord[]>;
  auditAnchor(): Promise<AuditAnchor>;

  // maintenance
  sweep(cutoffs: SweepCutoffs): Promise<SweepResult>;
  close(): Promise<void>;
}
