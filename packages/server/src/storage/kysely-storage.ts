/**
 * The storage port over Kysely (storage/schema.ts). One implementation for every SQL adapter: it
 * uses only SQL that SQLite (≥ 3.35) and PostgreSQL share — `RETURNING`, `ON CONFLICT`, `CASE`,
 * correlated subqueries — and no dialect-specific locking. Where PostgreSQL could interleave two
 * transactions, each write path either uses a single atomic statement (rate limits, code
 * attempts, one-time key consumption) or first updates a row that serialises the competitors
 * (`accounts.device_epoch`, `audit_head`).
 *
 * The message path (commitMailboxBatch, storeSends, deleteEnvelopes, readMailbox) runs statements
 * compiled once (storage/prepared.ts): one transaction per group commit for sends and
 * acknowledgements together, the recipients' device lists read several accounts per statement,
 * one mailbox-count update per device per batch, one DELETE per acknowledged GUID (by its unique
 * index). An adapter may run those transactions on a cheaper path than Kysely's
 * (KyselyStorageOptions.hotTransaction); the SQL stays the same.
 *
 * Audit rows are appended inside the transaction of the change they record (ports/storage.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import { auditRowHash, canonicalDetails } from '../audit/audit-chain.js';
import type {
  AccountExportData,
  AccountRecord,
  AttachmentRecord,
  AuditAnchor,
  AuditEvents,
  AuditEventType,
  AuditRecord,
  BackupCommitOutcome,
  BackupRecord,
  BackupRetention,
  DeviceBundle,
  DeviceRecord,
  KeyUpload,
  MailboxAck,
  MailboxEntry,
  NewDevice,
  OneTimeKey,
  RateLimitDecision,
  RateLimitPolicy,
  RegistrationLockRecord,
  SendOutcome,
  SendRecord,
  SignedKey,
  Storage,
  SweepCutoffs,
  SweepResult,
  VerificationAttempt,
} from '../ports/storage.js';
import { planRetention } from '../backups/retention.js';
import { checkDeviceList } from '../messages/device-list.js';
import { PreparedQuery, type QueryExecutor } from './prepared.js';
import type { AccountsTable, Database, DevicesTable, SqlFlavour } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per multi-row INSERT: far below SQLite's 32766 bound variables (9 columns per row). */
const INSERT_CHUNK = 500;
/** Recipient accounts whose devices one statement reads during a group commit. */
const DEVICE_LOOKUP_CHUNK = 32;
const DEVICE_LOOKUP_NAMES: readonly string[] = Array.from(
  { length: DEVICE_LOOKUP_CHUNK },
  (_, i) => `account${i}`,
);

export interface KyselyStorageOptions {
  readonly flavour: SqlFlavour;
  /** Closes the driver after Kysely is destroyed (the adapter owns the connection). */
  readonly onClose?: () => void | Promise<void>;
  /**
   * Runs `work` as ONE transaction on one connection, giving it an executor for the precompiled
   * statements of the message path (storeSends, deleteEnvelopes, commitMailboxBatch). An adapter
   * whose driver has a cheaper path than Kysely's transaction machinery supplies it (the SQLite
   * adapter runs the cached statements directly); by default `db.transaction()` is used. Either
   * way the SQL is the same Kysely-compiled text.
   */
  readonly hotTransaction?: HotTransaction;
  /**
   * Resolves once every transaction committed so far is on disk. An adapter whose
   * `hotTransaction` lets readers see a commit before its sync completed supplies it; the mailbox
   * drain awaits it after reading, so nothing is delivered that a power loss could take back.
   */
  readonly whenDurable?: () => Promise<void>;
}

/** See KyselyStorageOptions.hotTransaction. */
export type HotTransaction = <T>(work: (exec: QueryExecutor) => Promise<T>) => Promise<T>;

function toAccount(row: AccountsTable): AccountRecord {
  return {
    accountId: row.account_id,
    number: row.number,
    identityKey: row.identity_key,
    createdAt: Number(row.created_at),
    registrationLock:
      row.reglock_hash === null
        ? null
        : { tokenHash: row.reglock_hash, setAt: Number(row.reglock_set_at) },
  };
}

function toDevice(row: DevicesTable): DeviceRecord {
  return {
    accountId: row.account_id,
    deviceId: row.device_id,
    registrationId: row.registration_id,
    credentialHash: row.credential_hash,
    name: row.name === null ? null : row.name,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Blob ids looked up per query by `unreferencedBlobs`. */
const BLOB_LOOKUP_BATCH = 500;

export class KyselyStorage implements Storage {
  private hotQueries: ReturnType<typeof hotQueries> | null = null;

  constructor(
    readonly db: Kysely<Database>,
    private readonly options: KyselyStorageOptions,
  ) {}

  private hot(): ReturnType<typeof hotQueries> {
    return (this.hotQueries ??= hotQueries(this.db));
  }

  /** One transaction for the message path (KyselyStorageOptions.hotTransaction). */
  private hotTransaction<T>(work: (exec: QueryExecutor) => Promise<T>): Promise<T> {
    const custom = this.options.hotTransaction;
    if (custom !== undefined) return custom(work);
    return this.db.transaction().execute((trx) => work(trx));
  }

  // ---- accounts ------------------------------------------------------------------------------

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row === undefined ? undefined : toAccount(row);
  }

  async getAccountByNumber(number: string): Promise<AccountRecord | undefined> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('number', '=', number)
      .executeTakeFirst();
    return row === undefined ? undefined : toAccount(row);
  }

  async createAccount(
    account: { accountId: string; number: string; identityKey: Uint8Array; createdAt: number },
    primary: NewDevice,
    audit: AuditEvents = [],
  ): Promise<'created' | 'number-taken'> {
    return this.db.transaction().execute(async (trx) => {
      // ON CONFLICT on the number only: a racing first registration of the same number is an
      // expected outcome, not an error (an account id collision still throws).
      const inserted = await trx
        .insertInto('accounts')
        .values({
          account_id: account.accountId,
          number: account.number,
          identity_key: account.identityKey,
          created_at: account.createdAt,
          reglock_hash: null,
          reglock_set_at: null,
          device_epoch: 0,
        })
        .onConflict((oc) => oc.column('number').doNothing())
        .returning('account_id')
        .executeTakeFirst();
      if (inserted === undefined) return 'number-taken';
      await insertDevice(trx, account.accountId, 1, primary);
      await appendAudit(trx, audit);
      return 'created';
    });
  }

  async replaceAccountDevices(
    accountId: string,
    identityKey: Uint8Array,
    primary: NewDevice,
    audit?: (removedDeviceIds: readonly number[]) => AuditEvents,
  ): Promise<readonly number[]> {
    return this.db.transaction().execute(async (trx) => {
      await lockAccount(trx, accountId);
      const removed = await trx
        .selectFrom('devices')
        .select('device_id')
        .where('account_id', '=', accountId)
        .execute();
      await deleteDeviceData(trx, accountId, undefined);
      await trx.deleteFrom('provisioning_codes').where('account_id', '=', accountId).execute();
      await trx
        .updateTable('accounts')
        .set({ identity_key: identityKey, reglock_hash: null, reglock_set_at: null })
        .where('account_id', '=', accountId)
        .execute();
      await insertDevice(trx, accountId, 1, primary);
      const removedIds = removed.map((r) => r.device_id);
      if (audit !== undefined) await appendAudit(trx, audit(removedIds));
      return removedIds;
    });
  }

  async deleteAccount(
    accountId: string,
    audit: AuditEvents = [],
  ): Promise<{
    readonly attachmentIds: readonly string[];
    readonly backupBlobIds: readonly string[];
  }> {
    return this.db.transaction().execute(async (trx) => {
      await deleteDeviceData(trx, accountId, undefined);
      const backups = await trx
        .deleteFrom('backups')
        .where('account_id', '=', accountId)
        .returning('blob_id')
        .execute();
      await trx.deleteFrom('sent_messages').where('source_account', '=', accountId).execute();
      await trx.deleteFrom('provisioning_codes').where('account_id', '=', accountId).execute();
      const attachments = await trx
        .deleteFrom('attachments')
        .where('account_id', '=', accountId)
        .returning('attachment_id')
        .execute();
      await trx.deleteFrom('accounts').where('account_id', '=', accountId).execute();
      await appendAudit(trx, audit);
      return {
        attachmentIds: attachments.map((a) => a.attachment_id),
        backupBlobIds: backups.map((b) => b.blob_id),
      };
    });
  }

  async setRegistrationLock(
    accountId: string,
    lock: RegistrationLockRecord | null,
    audit: AuditEvents = [],
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('accounts')
        .set({ reglock_hash: lock?.tokenHash ?? null, reglock_set_at: lock?.setAt ?? null })
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await appendAudit(trx, audit);
    });
  }

  async replaceIdentityKey(
    accountId: string,
    identityKey: Uint8Array,
    audit: AuditEvents = [],
  ): Promise<'replaced' | 'unchanged' | 'linked-devices' | 'no-account'> {
    return this.db.transaction().execute(async (trx) => {
      // Serialises with addDevice and re-registration: no device can join between the check and
      // the change.
      if (!(await lockAccount(trx, accountId))) return 'no-account';
      const account = await trx
        .selectFrom('accounts')
        .select('identity_key')
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      const linked = await trx
        .selectFrom('devices')
        .select('device_id')
        .where('account_id', '=', accountId)
        .where('device_id', '<>', 1)
        .executeTakeFirst();
      if (linked !== undefined) return 'linked-devices';
      if (sameBytes(account.identity_key, identityKey)) return 'unchanged';
      await trx
        .updateTable('accounts')
        .set({ identity_key: identityKey })
        .where('account_id', '=', accountId)
        .execute();
      // Signed by the old identity: they would not verify against the new one.
      await trx.deleteFrom('device_keys').where('account_id', '=', accountId).execute();
      await trx.deleteFrom('one_time_prekeys').where('account_id', '=', accountId).execute();
      await appendAudit(trx, audit);
      return 'replaced';
    });
  }

  async exportAccount(accountId: string): Promise<AccountExportData | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const accountRow = await trx
        .selectFrom('accounts')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      if (accountRow === undefined) return undefined;
      const deviceRows = await trx
        .selectFrom('devices')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('device_id')
        .execute();
      const keyRows = await trx
        .selectFrom('device_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .execute();
      const oneTimeRows = await trx
        .selectFrom('one_time_prekeys')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('key_id')
        .execute();
      const devices = deviceRows.map((d) => {
        const signed = (kind: 'ec-signed' | 'kyber-last-resort'): SignedKey | undefined => {
          const k = keyRows.find((r) => r.device_id === d.device_id && r.kind === kind);
          return k === undefined
            ? undefined
            : { keyId: Number(k.key_id), publicKey: k.public_key, signature: k.signature };
        };
        const mine = oneTimeRows.filter((r) => r.device_id === d.device_id);
        return {
          ...toDevice(d),
          signedPreKey: signed('ec-signed'),
          lastResortKyberPreKey: signed('kyber-last-resort'),
          oneTimePreKeys: mine
            .filter((r) => r.kind === 'ec')
            .map((r) => ({ keyId: Number(r.key_id), publicKey: r.public_key })),
          oneTimeKyberPreKeys: mine
            .filter((r) => r.kind === 'kyber')
            .map((r) => ({
              keyId: Number(r.key_id),
              publicKey: r.public_key,
              signature: r.signature ?? new Uint8Array(0),
            })),
        };
      });
      const envelopes = await trx
        .selectFrom('envelopes')
        .select([
          'guid',
          'account_id',
          'device_id',
          'server_timestamp',
          'source_account',
          'source_device',
          'type',
          // Sizes only: the contents are ciphertext for the account's own devices.
          (eb) => eb.fn<number>('length', ['content']).as('size'),
        ])
        .where('account_id', '=', accountId)
        .orderBy('position')
        .execute();
      const sent = await trx
        .selectFrom('sent_messages')
        .select(['source_device', 'client_message_id', 'created_at'])
        .where('source_account', '=', accountId)
        .orderBy('created_at')
        .execute();
      const attachments = await trx
        .selectFrom('attachments')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      const audit = await trx
        .selectFrom('audit_log')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('seq')
        .execute();
      const backups = await trx
        .selectFrom('backups')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('name')
        .execute();
      return {
        account: toAccount(accountRow),
        devices,
        pendingEnvelopes: envelopes.map((e) => ({
          guid: e.guid,
          accountId: e.account_id,
          deviceId: e.device_id,
          serverTimestamp: Number(e.server_timestamp),
          sourceAccountId: e.source_account,
          sourceDeviceId: e.source_device,
          type: e.type,
          size: Number(e.size),
        })),
        sentMessageIds: sent.map((s) => ({
          deviceId: s.source_device,
          clientMessageId: s.client_message_id,
          createdAt: Number(s.created_at),
        })),
        attachments: attachments.map(toAttachment),
        backups: backups.map(toBackup),
        auditEvents: audit.map(toAudit),
      };
    });
  }

  // ---- devices -------------------------------------------------------------------------------

  async getDevices(accountId: string): Promise<readonly DeviceRecord[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('device_id')
      .execute();
    return rows.map(toDevice);
  }

  async getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row === undefined ? undefined : toDevice(row);
  }

  async addDevice(
    accountId: string,
    device: NewDevice,
    limits: { maxDevices: number; maxDeviceId: number },
    audit?: (deviceId: number) => AuditEvents,
  ): Promise<number | undefined> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockAccount(trx, accountId))) return undefined;
      const used = await trx
        .selectFrom('devices')
        .select('device_id')
        .where('account_id', '=', accountId)
        .execute();
      if (used.length >= limits.maxDevices) return undefined;
      const taken = new Set(used.map((u) => u.device_id));
      for (let id = 2; id <= limits.maxDeviceId; id++) {
        if (taken.has(id)) continue;
        await insertDevice(trx, accountId, id, device);
        if (audit !== undefined) await appendAudit(trx, audit(id));
        return id;
      }
      return undefined;
    });
  }

  async removeDevice(
    accountId: string,
    deviceId: number,
    audit: AuditEvents = [],
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await lockAccount(trx, accountId);
      const n = await deleteDeviceData(trx, accountId, deviceId);
      if (n > 0) await appendAudit(trx, audit);
      return n > 0;
    });
  }

  async touchDevice(accountId: string, deviceId: number, now: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ last_seen_at: now })
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  // ---- verification and provisioning codes ---------------------------------------------------

  async putVerificationCode(
    numberKey: string,
    codeHash: Uint8Array,
    expiresAt: number,
  ): Promise<void> {
    await this.db
      .insertInto('verification_codes')
      .values({ number_key: numberKey, code_hash: codeHash, expires_at: expiresAt, attempts: 0 })
      .onConflict((oc) =>
        oc
          .column('number_key')
          .doUpdateSet({ code_hash: codeHash, expires_at: expiresAt, attempts: 0 }),
      )
      .execute();
  }

  async beginVerificationAttempt(
    numberKey: string,
    now: number,
    maxAttempts: number,
  ): Promise<VerificationAttempt> {
    // One atomic statement: concurrent guesses cannot exceed maxAttempts between them.
    const row = await this.db
      .updateTable('verification_codes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('number_key', '=', numberKey)
      .where('expires_at', '>', now)
      .where('attempts', '<', maxAttempts)
      .returning(['code_hash', 'attempts'])
      .executeTakeFirst();
    if (row !== undefined) {
      return { status: 'pending', codeHash: row.code_hash, attempts: row.attempts };
    }
    const existing = await this.db
      .selectFrom('verification_codes')
      .select(['expires_at', 'attempts'])
      .where('number_key', '=', numberKey)
      .executeTakeFirst();
    if (existing === undefined || Number(existing.expires_at) <= now) return { status: 'expired' };
    return { status: 'exhausted' };
  }

  async consumeVerificationCode(numberKey: string, codeHash: Uint8Array): Promise<boolean> {
    // One statement: of two requests presenting the same code, only one deletes the row.
    const r = await this.db
      .deleteFrom('verification_codes')
      .where('number_key', '=', numberKey)
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async putProvisioningCode(codeKey: string, accountId: string, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('provisioning_codes')
      .values({ code_key: codeKey, account_id: accountId, expires_at: expiresAt })
      .execute();
  }

  async takeProvisioningCode(codeKey: string, now: number): Promise<string | undefined> {
    const row = await this.db
      .deleteFrom('provisioning_codes')
      .where('code_key', '=', codeKey)
      .where('expires_at', '>', now)
      .returning('account_id')
      .executeTakeFirst();
    return row?.account_id;
  }

  // ---- rate limits ---------------------------------------------------------------------------

  async consumeRateLimit(
    bucket: string,
    policy: RateLimitPolicy,
    now: number,
  ): Promise<RateLimitDecision> {
    const { burst, intervalMs } = policy;
    const tolerance = (burst - 1) * intervalMs;
    // GCRA in single statements, so concurrent callers cannot both take the last event.
    for (let attempt = 0; attempt < 3; attempt++) {
      const updated = await this.db
        .updateTable('rate_limits')
        .set((eb) => ({
          tat: eb(
            eb.case().when('tat', '<', now).then(now).else(eb.ref('tat')).end(),
            '+',
            intervalMs,
          ),
        }))
        .where('bucket', '=', bucket)
        .where((eb) =>
          eb(
            eb(eb.case().when('tat', '<', now).then(now).else(eb.ref('tat')).end(), '-', now),
            '<=',
            tolerance,
          ),
        )
        .returning('tat')
        .executeTakeFirst();
      if (updated !== undefined) return { allowed: true };
      const inserted = await this.db
        .insertInto('rate_limits')
        .values({ bucket, tat: now + intervalMs })
        .onConflict((oc) => oc.column('bucket').doNothing())
        .returning('tat')
        .executeTakeFirst();
      if (inserted !== undefined) return { allowed: true };
      const row = await this.db
        .selectFrom('rate_limits')
        .select('tat')
        .where('bucket', '=', bucket)
        .executeTakeFirst();
      if (row !== undefined) {
        const retryAfterMs = Math.max(Number(row.tat), now) - now - tolerance;
        if (retryAfterMs > 0) return { allowed: false, retryAfterMs };
      }
      // The bucket changed between statements (another node); try again.
    }
    return { allowed: false, retryAfterMs: intervalMs };
  }

  async deleteRateLimits(prefix: string): Promise<void> {
    // Prefixes are built by the server from fixed words and UUIDs: no LIKE wildcards inside.
    await this.db.deleteFrom('rate_limits').where('bucket', 'like', `${prefix}%`).execute();
  }

  // ---- keys ----------------------------------------------------------------------------------

  async storeKeys(
    accountId: string,
    deviceId: number,
    upload: KeyUpload,
    maxOneTimeKeys: number,
    audit: AuditEvents = [],
  ): Promise<'ok' | 'full'> {
    return this.db.transaction().execute(async (trx) => {
      for (const [kind, keys] of [
        ['ec', upload.preKeys],
        ['kyber', upload.kyberPreKeys],
      ] as const) {
        if (keys === undefined || keys.length === 0) continue;
        const existing = await trx
          .selectFrom('one_time_prekeys')
          .select('key_id')
          .where('account_id', '=', accountId)
          .where('device_id', '=', deviceId)
          .where('kind', '=', kind)
          .execute();
        const ids = new Set(existing.map((e) => Number(e.key_id)));
        for (const k of keys) ids.add(k.keyId);
        if (ids.size > maxOneTimeKeys) return 'full';
      }
      const signed: [DeviceKindSigned, SignedKey | undefined][] = [
        ['ec-signed', upload.signedPreKey],
        ['kyber-last-resort', upload.lastResortKyberPreKey],
      ];
      for (const [kind, key] of signed) {
        if (key === undefined) continue;
        const values = {
          key_id: key.keyId,
          public_key: key.publicKey,
          signature: key.signature,
        };
        await trx
          .insertInto('device_keys')
          .values({ account_id: accountId, device_id: deviceId, kind, ...values })
          .onConflict((oc) => oc.columns(['account_id', 'device_id', 'kind']).doUpdateSet(values))
          .execute();
      }
      for (const [kind, keys] of [
        ['ec', upload.preKeys],
        ['kyber', upload.kyberPreKeys],
      ] as const) {
        if (keys === undefined || keys.length === 0) continue;
        // The last upload of an id wins, as the ON CONFLICT below would decide row by row.
        const byId = new Map<number, OneTimeKey | SignedKey>();
        for (const k of keys) byId.set(k.keyId, k);
        for (const part of chunks([...byId.values()], INSERT_CHUNK)) {
          await trx
            .insertInto('one_time_prekeys')
            .values(
              part.map((k) => ({
                account_id: accountId,
                device_id: deviceId,
                kind,
                key_id: k.keyId,
                public_key: k.publicKey,
                signature: 'signature' in k ? k.signature : null,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['account_id', 'device_id', 'kind', 'key_id']).doUpdateSet((eb) => ({
                public_key: eb.ref('excluded.public_key'),
                signature: eb.ref('excluded.signature'),
              })),
            )
            .execute();
        }
      }
      await appendAudit(trx, audit);
      return 'ok';
    });
  }

  async countOneTimeKeys(
    accountId: string,
    deviceId: number,
  ): Promise<{ ec: number; kyber: number }> {
    const rows = await this.db
      .selectFrom('one_time_prekeys')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .groupBy('kind')
      .execute();
    let ec = 0;
    let kyber = 0;
    for (const r of rows) {
      if (r.kind === 'ec') ec = Number(r.n);
      else kyber = Number(r.n);
    }
    return { ec, kyber };
  }

  async takePreKeyBundle(accountId: string, deviceId: number): Promise<DeviceBundle | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const device = await trx
        .selectFrom('devices')
        .select('registration_id')
        .where('account_id', '=', accountId)
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      if (device === undefined) return undefined;
      const keys = await trx
        .selectFrom('device_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('device_id', '=', deviceId)
        .execute();
      const signed = keys.find((k) => k.kind === 'ec-signed');
      const lastResort = keys.find((k) => k.kind === 'kyber-last-resort');
      if (signed === undefined || lastResort === undefined) return undefined;
      const ec = await takeOneTimeKey(trx, accountId, deviceId, 'ec');
      const kyber = await takeOneTimeKey(trx, accountId, deviceId, 'kyber');
      return {
        deviceId,
        registrationId: device.registration_id,
        signedPreKey: {
          keyId: Number(signed.key_id),
          publicKey: signed.public_key,
          signature: signed.signature,
        },
        ...(ec === undefined ? {} : { preKey: { keyId: ec.keyId, publicKey: ec.publicKey } }),
        kyberPreKey:
          kyber !== undefined && kyber.signature !== null
            ? { keyId: kyber.keyId, publicKey: kyber.publicKey, signature: kyber.signature }
            : {
                keyId: Number(lastResort.key_id),
                publicKey: lastResort.public_key,
                signature: lastResort.signature,
              },
      };
    });
  }

  // ---- mailboxes -----------------------------------------------------------------------------

  async storeSends(
    sends: readonly SendRecord[],
    maxMailbox: number,
  ): Promise<readonly SendOutcome[]> {
    if (sends.length === 0) return [];
    const q = this.hot();
    return this.hotTransaction(async (trx) => {
      const counts = new MailboxCounts();
      const outcomes = await storeSendsIn(trx, q, sends, maxMailbox, counts);
      await counts.apply(trx, q);
      return outcomes;
    });
  }

  async commitMailboxBatch(
    sends: readonly SendRecord[],
    acks: readonly MailboxAck[],
    maxMailbox: number,
  ): Promise<{ readonly outcomes: readonly SendOutcome[]; readonly deleted: number }> {
    if (sends.length === 0 && acks.length === 0) return { outcomes: [], deleted: 0 };
    const q = this.hot();
    return this.hotTransaction(async (trx) => {
      // One ledger of mailbox counts for both halves: one UPDATE per device per batch.
      const counts = new MailboxCounts();
      const deleted = acks.length === 0 ? 0 : await deleteEnvelopesIn(trx, q, acks, counts);
      const outcomes =
        sends.length === 0 ? [] : await storeSendsIn(trx, q, sends, maxMailbox, counts);
      await counts.apply(trx, q);
      return { outcomes, deleted };
    });
  }

  async readMailbox(
    accountId: string,
    deviceId: number,
    afterPosition: number,
    limit: number,
  ): Promise<readonly MailboxEntry[]> {
    const { rows } = await this.hot().readMailbox.execute(this.db, {
      account: accountId,
      device: deviceId,
      after: afterPosition,
      limit,
    });
    // What was read may include a commit whose sync is still running (KyselyStorageOptions).
    if (this.options.whenDurable !== undefined) await this.options.whenDurable();
    return rows.map((r) => ({
      position: Number(r.position),
      guid: r.guid,
      accountId: r.account_id,
      deviceId: r.device_id,
      serverTimestamp: Number(r.server_timestamp),
      sourceAccountId: r.source_account,
      sourceDeviceId: r.source_device,
      type: r.type,
      content: r.content,
    }));
  }

  async deleteEnvelopes(acks: readonly MailboxAck[]): Promise<number> {
    if (acks.length === 0) return 0;
    const q = this.hot();
    return this.hotTransaction(async (trx) => {
      const counts = new MailboxCounts();
      const deleted = await deleteEnvelopesIn(trx, q, acks, counts);
      await counts.apply(trx, q);
      return deleted;
    });
  }

  async mailboxSize(accountId: string, deviceId: number): Promise<number> {
    const row = await this.db
      .selectFrom('envelopes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- attachments ---------------------------------------------------------------------------

  async putAttachment(record: AttachmentRecord): Promise<void> {
    await this.db
      .insertInto('attachments')
      .values({
        attachment_id: record.attachmentId,
        account_id: record.accountId,
        size: record.size,
        created_at: record.createdAt,
      })
      .execute();
  }

  async getAttachment(attachmentId: string): Promise<AttachmentRecord | undefined> {
    const row = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('attachment_id', '=', attachmentId)
      .executeTakeFirst();
    return row === undefined ? undefined : toAttachment(row);
  }

  async unreferencedBlobs(
    kind: 'attachment' | 'backup',
    blobIds: readonly string[],
  ): Promise<string[]> {
    const referenced = new Set<string>();
    // Bounded IN lists (SQLite allows 32 766 parameters; PostgreSQL 65 535).
    for (let i = 0; i < blobIds.length; i += BLOB_LOOKUP_BATCH) {
      const batch = blobIds.slice(i, i + BLOB_LOOKUP_BATCH);
      const rows =
        kind === 'attachment'
          ? await this.db
              .selectFrom('attachments')
              .select('attachment_id as id')
              .where('attachment_id', 'in', batch)
              .execute()
          : await this.db
              .selectFrom('backups')
              .select('blob_id as id')
              .where('blob_id', 'in', batch)
              .execute();
      for (const r of rows) referenced.add(r.id);
    }
    return blobIds.filter((id) => !referenced.has(id));
  }

  // ---- backups -------------------------------------------------------------------------------

  async listBackups(accountId: string): Promise<readonly BackupRecord[]> {
    const rows = await this.db
      .selectFrom('backups')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('name')
      .execute();
    return rows.map(toBackup);
  }

  async getBackup(accountId: string, name: string): Promise<BackupRecord | undefined> {
    const row = await this.db
      .selectFrom('backups')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toBackup(row);
  }

  async commitBackup(
    record: BackupRecord,
    retention: BackupRetention,
    audit?: (change: { readonly replaced: boolean; readonly pruned: number }) => AuditEvents,
  ): Promise<BackupCommitOutcome> {
    return this.db.transaction().execute(async (trx): Promise<BackupCommitOutcome> => {
      // The account row lock serialises commits of one account (PostgreSQL), so two uploads
      // cannot both pass the quota check; it also finds an account deleted meanwhile.
      if (!(await lockAccount(trx, record.accountId))) return { status: 'no-account' };
      const rows = await trx
        .selectFrom('backups')
        .selectAll()
        .where('account_id', '=', record.accountId)
        .execute();
      const plan = planRetention(rows.map(toBackup), record.name, retention.keep);
      if (plan.keptBytes + record.size > retention.quotaBytes) return { status: 'quota-exceeded' };
      const obsolete = [...(plan.replaced === undefined ? [] : [plan.replaced]), ...plan.pruned];
      for (const b of obsolete) {
        await trx
          .deleteFrom('backups')
          .where('account_id', '=', b.accountId)
          .where('name', '=', b.name)
          .execute();
      }
      await trx
        .insertInto('backups')
        .values({
          account_id: record.accountId,
          name: record.name,
          blob_id: record.blobId,
          size: record.size,
          created_at: record.createdAt,
        })
        .execute();
      if (audit !== undefined) {
        await appendAudit(
          trx,
          audit({ replaced: plan.replaced !== undefined, pruned: plan.pruned.length }),
        );
      }
      return { status: 'stored', obsoleteBlobIds: obsolete.map((b) => b.blobId) };
    });
  }

  async deleteBackup(
    accountId: string,
    name: string,
    audit: AuditEvents = [],
  ): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('backups')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .returning('blob_id')
        .executeTakeFirst();
      if (row === undefined) return undefined;
      await appendAudit(trx, audit);
      return row.blob_id;
    });
  }

  // ---- audit log -----------------------------------------------------------------------------

  async appendAuditEvents(events: AuditEvents): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute((trx) => appendAudit(trx, events));
  }

  async readAuditLog(afterSeq: number, limit: number): Promise<readonly AuditRecord[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toAudit);
  }

  async auditAnchor(): Promise<AuditAnchor> {
    const head = await this.db
      .selectFrom('audit_head')
      .select(['anchor_seq', 'anchor_hash'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return { seq: Number(head.anchor_seq), hash: head.anchor_hash };
  }

  // ---- maintenance ---------------------------------------------------------------------------

  async sweep(c: SweepCutoffs): Promise<SweepResult> {
    return this.db.transaction().execute(async (trx) => {
      // Expired envelopes: delete, then recount the mailboxes they were in.
      const affected = await trx
        .selectFrom('envelopes')
        .select(['account_id', 'device_id'])
        .where('server_timestamp', '<', c.envelopesBefore)
        .groupBy(['account_id', 'device_id'])
        .execute();
      const envelopes = await trx
        .deleteFrom('envelopes')
        .where('server_timestamp', '<', c.envelopesBefore)
        .executeTakeFirst();
      for (const d of affected) {
        await trx
          .updateTable('devices')
          .set((eb) => ({
            mailbox_count: eb
              .selectFrom('envelopes')
              .select((e) => e.fn.countAll<number>().as('n'))
              .where('envelopes.account_id', '=', d.account_id)
              .where('envelopes.device_id', '=', d.device_id),
          }))
          .where('account_id', '=', d.account_id)
          .where('device_id', '=', d.device_id)
          .execute();
      }
      const sent = await trx
        .deleteFrom('sent_messages')
        .where('created_at', '<', c.sentMessageIdsBefore)
        .executeTakeFirst();
      const codes = await trx
        .deleteFrom('verification_codes')
        .where('expires_at', '<=', c.now)
        .executeTakeFirst();
      const provisioning = await trx
        .deleteFrom('provisioning_codes')
        .where('expires_at', '<=', c.now)
        .executeTakeFirst();
      const limits = await trx
        .deleteFrom('rate_limits')
        .where('tat', '<', c.now)
        .executeTakeFirst();
      const attachments = await trx
        .deleteFrom('attachments')
        .where('created_at', '<', c.attachmentsBefore)
        .returning('attachment_id')
        .execute();

      // Audit pruning: the last pruned row becomes the anchor the remaining chain starts from.
      let auditRows = 0;
      const lastOld = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .where('at', '<', c.auditBefore)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (lastOld !== undefined) {
        const pruned = await trx
          .deleteFrom('audit_log')
          .where('seq', '<=', lastOld.seq)
          .executeTakeFirst();
        auditRows = Number(pruned.numDeletedRows);
        await trx
          .updateTable('audit_head')
          .set({ anchor_seq: lastOld.seq, anchor_hash: lastOld.hash })
          .where('id', '=', 1)
          .execute();
      }
      return {
        envelopes: Number(envelopes.numDeletedRows),
        sentMessageIds: Number(sent.numDeletedRows),
        verificationCodes: Number(codes.numDeletedRows),
        provisioningCodes: Number(provisioning.numDeletedRows),
        rateLimits: Number(limits.numDeletedRows),
        auditRows,
        attachmentIds: attachments.map((a) => a.attachment_id),
      };
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.options.onClose?.();
  }
}

type DeviceKindSigned = 'ec-signed' | 'kyber-last-resort';

interface BatchDevice {
  readonly deviceId: number;
  readonly registrationId: number;
  count: number;
}

/** The statements run per message, compiled once (storage/prepared.ts). */
function hotQueries(db: Kysely<Database>) {
  return {
    findSent: new PreparedQuery<
      { cmid: string; account: string; device: number },
      { server_timestamp: number }
    >(['cmid', 'account', 'device'], (a) =>
      db
        .selectFrom('sent_messages')
        .select('server_timestamp')
        .where('client_message_id', '=', a.cmid)
        .where('source_account', '=', a.account)
        .where('source_device', '=', a.device),
    ),
    devicesOfAccounts: new PreparedQuery<
      Record<string, string>,
      { account_id: string; device_id: number; registration_id: number; mailbox_count: number }
    >(DEVICE_LOOKUP_NAMES, (a) =>
      db
        .selectFrom('devices')
        .select(['account_id', 'device_id', 'registration_id', 'mailbox_count'])
        .where(
          'account_id',
          'in',
          DEVICE_LOOKUP_NAMES.map((n) => a[n]!),
        ),
    ),
    insertEnvelope: new PreparedQuery<
      {
        guid: string;
        account: string;
        device: number;
        ts: number;
        sourceAccount: string;
        sourceDevice: number;
        type: number;
        content: Uint8Array;
      },
      never
    >(
      ['guid', 'account', 'device', 'ts', 'sourceAccount', 'sourceDevice', 'type', 'content'],
      (a) =>
        db.insertInto('envelopes').values({
          guid: a.guid,
          account_id: a.account,
          device_id: a.device,
          server_timestamp: a.ts,
          source_account: a.sourceAccount,
          source_device: a.sourceDevice,
          type: a.type,
          content: a.content,
        }),
    ),
    insertSent: new PreparedQuery<
      { cmid: string; account: string; device: number; ts: number },
      never
    >(['cmid', 'account', 'device', 'ts'], (a) =>
      db
        .insertInto('sent_messages')
        .values({
          client_message_id: a.cmid,
          source_account: a.account,
          source_device: a.device,
          created_at: a.ts,
          server_timestamp: a.ts,
        })
        .onConflict((oc) => oc.doNothing()),
    ),
    addToCount: new PreparedQuery<{ account: string; device: number; n: number }, never>(
      ['account', 'device', 'n'],
      (a) =>
        db
          .updateTable('devices')
          .set((eb) => ({ mailbox_count: eb('mailbox_count', '+', a.n) }))
          .where('account_id', '=', a.account)
          .where('device_id', '=', a.device),
    ),
    deleteEnvelope: new PreparedQuery<{ guid: string; account: string; device: number }, never>(
      ['guid', 'account', 'device'],
      (a) =>
        db
          .deleteFrom('envelopes')
          .where('guid', '=', a.guid)
          .where('account_id', '=', a.account)
          .where('device_id', '=', a.device),
    ),
    readMailbox: new PreparedQuery<
      { account: string; device: number; after: number; limit: number },
      Database['envelopes']
    >(['account', 'device', 'after', 'limit'], (a) =>
      db
        .selectFrom('envelopes')
        .selectAll()
        .where('account_id', '=', a.account)
        .where('device_id', '=', a.device)
        .where('position', '>', a.after)
        .orderBy('position')
        .limit(a.limit),
    ),
  };
}

type HotQueries = ReturnType<typeof hotQueries>;

/**
 * Stores a batch of sends inside the caller's transaction (the rules: Storage.storeSends). The
 * recipients' device lists are read once per batch, several accounts per statement.
 */
async function storeSendsIn(
  trx: QueryExecutor,
  q: HotQueries,
  sends: readonly SendRecord[],
  maxMailbox: number,
  counts: MailboxCounts,
): Promise<SendOutcome[]> {
  const outcomes: SendOutcome[] = new Array<SendOutcome>(sends.length);
  /** Client message ids stored in this batch, with their timestamps. */
  const storedHere = new Map<string, number>();
  /** Devices of each recipient account, read once per batch, with live mailbox counts. */
  const devicesOf = await recipientDevices(trx, q, sends, counts);

  for (let i = 0; i < sends.length; i++) {
    const s = sends[i]!;
    const key = dedupeKey(s.clientMessageId, s.sourceAccountId, s.sourceDeviceId);
    const earlierHere = storedHere.get(key);
    if (earlierHere !== undefined) {
      outcomes[i] = { status: 'duplicate', serverTimestamp: earlierHere };
      continue;
    }

    const devices = devicesOf.get(s.recipientAccountId)!;
    const self = s.recipientAccountId === s.sourceAccountId;
    const problem = checkDeviceList(devices, s.envelopes, self ? s.sourceDeviceId : null);
    const full: number[] = [];
    if (problem === null) {
      for (const e of s.envelopes) {
        const d = devices.find((x) => x.deviceId === e.deviceId)!;
        if (d.count >= maxMailbox) full.push(e.deviceId);
      }
    }

    // The client message id is claimed with one INSERT … ON CONFLICT DO NOTHING: a conflict
    // means an earlier batch stored this send. (Checked before the device list and mailbox
    // answers, so a retry of a stored send is always reported as a duplicate.)
    const claimed =
      problem === null && full.length === 0
        ? await q.insertSent.changes(trx, {
            cmid: s.clientMessageId,
            account: s.sourceAccountId,
            device: s.sourceDeviceId,
            ts: s.serverTimestamp,
          })
        : 0;
    if (claimed === 0) {
      const row = (
        await q.findSent.execute(trx, {
          cmid: s.clientMessageId,
          account: s.sourceAccountId,
          device: s.sourceDeviceId,
        })
      ).rows[0];
      if (row !== undefined) {
        outcomes[i] = { status: 'duplicate', serverTimestamp: Number(row.server_timestamp) };
        continue;
      }
    }
    if (problem !== null) {
      outcomes[i] = problem;
      continue;
    }
    if (full.length > 0) {
      outcomes[i] = { status: 'mailbox-full', deviceIds: full };
      continue;
    }
    for (const e of s.envelopes) {
      const d = devices.find((x) => x.deviceId === e.deviceId)!;
      d.count++;
      counts.add(s.recipientAccountId, e.deviceId, 1);
      await q.insertEnvelope.changes(trx, {
        guid: e.guid,
        account: s.recipientAccountId,
        device: e.deviceId,
        ts: e.serverTimestamp,
        sourceAccount: e.sourceAccountId,
        sourceDevice: e.sourceDeviceId,
        type: e.type,
        content: e.content,
      });
    }
    storedHere.set(key, s.serverTimestamp);
    outcomes[i] = { status: 'stored' };
  }

  return outcomes;
}

/**
 * The devices of every recipient of `sends` (ordered by device id; empty for an unknown account),
 * DEVICE_LOOKUP_CHUNK accounts per statement. A short last chunk repeats an id, so one compiled
 * statement serves every batch.
 */
async function recipientDevices(
  trx: QueryExecutor,
  q: HotQueries,
  sends: readonly SendRecord[],
  counts: MailboxCounts,
): Promise<Map<string, BatchDevice[]>> {
  const devicesOf = new Map<string, BatchDevice[]>();
  for (const s of sends) {
    if (!devicesOf.has(s.recipientAccountId)) devicesOf.set(s.recipientAccountId, []);
  }
  const accounts = [...devicesOf.keys()];
  const args: Record<string, string> = {};
  for (let i = 0; i < accounts.length; i += DEVICE_LOOKUP_CHUNK) {
    for (let k = 0; k < DEVICE_LOOKUP_CHUNK; k++) {
      args[DEVICE_LOOKUP_NAMES[k]!] = accounts[Math.min(i + k, accounts.length - 1)]!;
    }
    const { rows } = await q.devicesOfAccounts.execute(trx, args);
    for (const r of rows) {
      devicesOf.get(r.account_id)!.push({
        deviceId: r.device_id,
        registrationId: r.registration_id,
        // Deletes earlier in this transaction are not in the row yet: they wait in the ledger.
        count: r.mailbox_count + counts.pending(r.account_id, r.device_id),
      });
    }
  }
  for (const list of devicesOf.values()) {
    if (list.length > 1) list.sort((a, b) => a.deviceId - b.deviceId);
  }
  return devicesOf;
}

/**
 * Deletes acknowledged envelopes inside the caller's transaction, one statement per GUID (by the
 * unique GUID index; an `IN` list would make SQLite scan the device's whole mailbox instead). Only
 * the acknowledging device's own envelopes match. Returns how many existed.
 */
async function deleteEnvelopesIn(
  trx: QueryExecutor,
  q: HotQueries,
  acks: readonly MailboxAck[],
  counts: MailboxCounts,
): Promise<number> {
  let total = 0;
  for (const a of acks) {
    let n = 0;
    for (const guid of a.guids) {
      n += await q.deleteEnvelope.changes(trx, {
        guid,
        account: a.accountId,
        device: a.deviceId,
      });
    }
    if (n === 0) continue;
    total += n;
    counts.add(a.accountId, a.deviceId, -n);
  }
  return total;
}

/**
 * Net changes of mailbox counts within one transaction, written once per device at the end
 * (`devices.mailbox_count`), whatever mix of deliveries and deletions the batch held.
 */
class MailboxCounts {
  private readonly deltas = new Map<string, { account: string; device: number; n: number }>();

  add(account: string, device: number, n: number): void {
    const key = `${account}.${device}`;
    const d = this.deltas.get(key);
    if (d === undefined) this.deltas.set(key, { account, device, n });
    else d.n += n;
  }

  pending(account: string, device: number): number {
    return this.deltas.get(`${account}.${device}`)?.n ?? 0;
  }

  async apply(trx: QueryExecutor, q: HotQueries): Promise<void> {
    for (const d of this.deltas.values()) {
      if (d.n !== 0) await q.addToCount.changes(trx, d);
    }
    this.deltas.clear();
  }
}

function dedupeKey(clientMessageId: string, account: string, device: number): string {
  return `${clientMessageId}.${account}.${device}`;
}

/**
 * Appends audit events inside the caller's transaction, chained to the head (audit/audit-chain.ts).
 * Touching the head row first makes it a row lock in PostgreSQL: concurrent appenders queue.
 */
async function appendAudit(trx: Transaction<Database>, events: AuditEvents): Promise<void> {
  if (events.length === 0) return;
  await trx
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb.ref('seq') }))
    .where('id', '=', 1)
    .execute();
  const head = await trx
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  let seq = Number(head.seq);
  let hash: Uint8Array = head.hash;
  const rows: Database['audit_log'][] = [];
  for (const e of events) {
    seq++;
    hash = auditRowHash(hash, seq, e);
    rows.push({
      seq,
      at: e.at,
      event: e.event,
      account_id: e.accountId,
      device_id: e.deviceId,
      details: canonicalDetails(e.details),
      hash,
    });
  }
  await trx.insertInto('audit_log').values(rows).execute();
  await trx.updateTable('audit_head').set({ seq, hash }).where('id', '=', 1).execute();
}

/** Bumps the account's device epoch: a row lock in PostgreSQL. False if the account is gone. */
async function lockAccount(trx: Db, accountId: string): Promise<boolean> {
  const r = await trx
    .updateTable('accounts')
    .set((eb) => ({ device_epoch: eb('device_epoch', '+', 1) }))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

async function insertDevice(
  trx: Db,
  accountId: string,
  deviceId: number,
  d: NewDevice,
): Promise<void> {
  await trx
    .insertInto('devices')
    .values({
      account_id: accountId,
      device_id: deviceId,
      registration_id: d.registrationId,
      credential_hash: d.credentialHash,
      name: d.name,
      created_at: d.createdAt,
      last_seen_at: d.createdAt,
      mailbox_count: 0,
    })
    .execute();
}

/** Deletes a device (or all devices when `deviceId` is undefined) with keys and mailbox. */
async function deleteDeviceData(
  trx: Db,
  accountId: string,
  deviceId: number | undefined,
): Promise<number> {
  let envelopes = trx.deleteFrom('envelopes').where('account_id', '=', accountId);
  let keys = trx.deleteFrom('device_keys').where('account_id', '=', accountId);
  let oneTime = trx.deleteFrom('one_time_prekeys').where('account_id', '=', accountId);
  let devices = trx.deleteFrom('devices').where('account_id', '=', accountId);
  if (deviceId !== undefined) {
    envelopes = envelopes.where('device_id', '=', deviceId);
    keys = keys.where('device_id', '=', deviceId);
    oneTime = oneTime.where('device_id', '=', deviceId);
    devices = devices.where('device_id', '=', deviceId);
  }
  await envelopes.execute();
  await keys.execute();
  await oneTime.execute();
  const r = await devices.executeTakeFirst();
  return Number(r.numDeletedRows);
}

async function takeOneTimeKey(
  trx: Db,
  accountId: string,
  deviceId: number,
  kind: 'ec' | 'kyber',
): Promise<{ keyId: number; publicKey: Uint8Array; signature: Uint8Array | null } | undefined> {
  // Pick the lowest id, then delete exactly that row with RETURNING. If a concurrent transaction
  // (PostgreSQL) took it first the DELETE returns nothing and we pick again: never the same key twice.
  for (let attempt = 0; attempt < 8; attempt++) {
    const candidate = await trx
      .selectFrom('one_time_prekeys')
      .select('key_id')
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .where('kind', '=', kind)
      .orderBy('key_id')
      .limit(1)
      .executeTakeFirst();
    if (candidate === undefined) return undefined;
    const taken = await trx
      .deleteFrom('one_time_prekeys')
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .where('kind', '=', kind)
      .where('key_id', '=', candidate.key_id)
      .returning(['key_id', 'public_key', 'signature'])
      .executeTakeFirst();
    if (taken !== undefined) {
      return {
        keyId: Number(taken.key_id),
        publicKey: taken.public_key,
        signature: taken.signature,
      };
    }
  }
  return undefined;
}

function toAttachment(row: Database['attachments']): AttachmentRecord {
  return {
    attachmentId: row.attachment_id,
    accountId: row.account_id,
    size: Number(row.size),
    createdAt: Number(row.created_at),
  };
}

function toBackup(row: Database['backups']): BackupRecord {
  return {
    accountId: row.account_id,
    name: row.name,
    blobId: row.blob_id,
    size: Number(row.size),
    createdAt: Number(row.created_at),
  };
}

function toAudit(row: Database['audit_log']): AuditRecord {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    event: row.event as AuditEventType,
    accountId: row.account_id,
    deviceId: row.device_id,
    details:
      row.details === null
        ? null
        : (JSON.parse(row.details) as Readonly<Record<string, string | number | boolean>>),
    hash: row.hash,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
