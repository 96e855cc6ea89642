/**
 * The relational schema behind the storage port, as Kysely table types. Column types are chosen to
 * exist in SQLite and PostgreSQL alike: text, integer, bigint (milliseconds), and a binary type the
 * migration picks per dialect (`blob` / `bytea`). Nothing here is SQLite-only.
 */
import type { Generated } from 'kysely';

export interface AccountsTable {
  account_id: string;
  number: string;
  identity_key: Uint8Array;
  created_at: number;
  reglock_hash: Uint8Array | null;
  reglock_set_at: number | null;
  /** Bumped by every device change: in PostgreSQL the UPDATE locks the row, serialising them. */
  device_epoch: number;
}

export interface DevicesTable {
  account_id: string;
  device_id: number;
  registration_id: number;
  credential_hash: Uint8Array;
  name: Uint8Array | null;
  created_at: number;
  last_seen_at: number;
  /** Envelopes in the mailbox, kept in the same transactions that insert and delete them. */
  mailbox_count: number;
}

/** The signed EC prekey and the last-resort Kyber prekey of a device (one of each). */
export interface DeviceKeysTable {
  account_id: string;
  device_id: number;
  kind: 'ec-signed' | 'kyber-last-resort';
  key_id: number;
  public_key: Uint8Array;
  signature: Uint8Array;
}

export interface OneTimePreKeysTable {
  account_id: string;
  device_id: number;
  kind: 'ec' | 'kyber';
  key_id: number;
  public_key: Uint8Array;
  signature: Uint8Array | null;
}

export interface EnvelopesTable {
  position: Generated<number>;
  guid: string;
  account_id: string;
  device_id: number;
  server_timestamp: number;
  source_account: string;
  source_device: number;
  type: number;
  content: Uint8Array;
}

/** Client message ids already stored, so a retried send is stored once. */
export interface SentMessagesTable {
  client_message_id: string;
  source_account: string;
  source_device: number;
  created_at: number;
  server_timestamp: number;
}

export interface VerificationCodesTable {
  /** HMAC of the number: numbers that never registered are not stored in clear. */
  number_key: string;
  code_hash: Uint8Array;
  expires_at: number;
  attempts: number;
}

export interface ProvisioningCodesTable {
  code_key: string;
  account_id: string;
  expires_at: number;
}

/** GCRA buckets: `tat` is the theoretical arrival time of the next event. */
export interface RateLimitsTable {
  bucket: string;
  tat: number;
}

export interface AttachmentsTable {
  attachment_id: string;
  account_id: string;
  size: number;
  created_at: number;
}

/** Backup archives kept for an account; the bytes live in the backup blob store. */
export interface BackupsTable {
  account_id: string;
  name: string;
  blob_id: string;
  size: number;
  created_at: number;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  event: string;
  account_id: string | null;
  device_id: number | null;
  details: string | null;
  hash: Uint8Array;
}

/** One row (id 1): the chain head and the anchor left by pruning. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: Uint8Array;
  anchor_seq: number;
  anchor_hash: Uint8Array;
}

export interface Database {
  accounts: AccountsTable;
  devices: DevicesTable;
  device_keys: DeviceKeysTable;
  one_time_prekeys: OneTimePreKeysTable;
  envelopes: EnvelopesTable;
  sent_messages: SentMessagesTable;
  verification_codes: VerificationCodesTable;
  provisioning_codes: ProvisioningCodesTable;
  rate_limits: RateLimitsTable;
  attachments: AttachmentsTable;
  backups: BackupsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}

/** The SQL dialect family, for the few column types that differ. */
export type SqlFlavour = 'sqlite' | 'postgres';
