/**
 * Schema migrations, run by every adapter at start-up through Kysely's Migrator (which records
 * applied migrations in its own table and takes a lock, so concurrent nodes do not race). Written
 * with Kysely's schema builder and types common to SQLite and PostgreSQL; the only per-dialect
 * choices are the binary type and the auto-increment key. Never edit a released migration: add one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlFlavour } from './schema.js';

function migrations(flavour: SqlFlavour): Record<string, Migration> {
  const binary = flavour === 'sqlite' ? 'blob' : 'bytea';
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('accounts')
          .addColumn('account_id', 'text', (c) => c.primaryKey())
          .addColumn('number', 'text', (c) => c.notNull().unique())
          .addColumn('identity_key', binary, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('reglock_hash', binary)
          .addColumn('reglock_set_at', 'bigint')
          .addColumn('device_epoch', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();

        await db.schema
          .createTable('devices')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('device_id', 'integer', (c) => c.notNull())
          .addColumn('registration_id', 'integer', (c) => c.notNull())
          .addColumn('credential_hash', binary, (c) => c.notNull())
          .addColumn('name', binary)
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('mailbox_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('devices_pk', ['account_id', 'device_id'])
          .execute();

        await db.schema
          .createTable('device_keys')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('device_id', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('key_id', 'bigint', (c) => c.notNull())
          .addColumn('public_key', binary, (c) => c.notNull())
          .addColumn('signature', binary, (c) => c.notNull())
          .addPrimaryKeyConstraint('device_keys_pk', ['account_id', 'device_id', 'kind'])
          .execute();

        await db.schema
          .createTable('one_time_prekeys')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('device_id', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('key_id', 'bigint', (c) => c.notNull())
          .addColumn('public_key', binary, (c) => c.notNull())
          .addColumn('signature', binary)
          .addPrimaryKeyConstraint('one_time_prekeys_pk', [
            'account_id',
            'device_id',
            'kind',
            'key_id',
          ])
          .execute();

        let envelopes = db.schema.createTable('envelopes');
        envelopes =
          flavour === 'sqlite'
            ? envelopes.addColumn('position', 'integer', (c) => c.primaryKey().autoIncrement())
            : envelopes.addColumn('position', 'bigserial', (c) => c.primaryKey());
        await envelopes
          .addColumn('guid', 'text', (c) => c.notNull().unique())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('device_id', 'integer', (c) => c.notNull())
          .addColumn('server_timestamp', 'bigint', (c) => c.notNull())
          .addColumn('source_account', 'text', (c) => c.notNull())
          .addColumn('source_device', 'integer', (c) => c.notNull())
          .addColumn('type', 'integer', (c) => c.notNull())
          .addColumn('content', binary, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('envelopes_mailbox')
          .on('envelopes')
          .columns(['account_id', 'device_id', 'position'])
          .execute();
        await db.schema
          .createIndex('envelopes_age')
          .on('envelopes')
          .column('server_timestamp')
          .execute();

        await db.schema
          .createTable('sent_messages')
          .addColumn('client_message_id', 'text', (c) => c.notNull())
          .addColumn('source_account', 'text', (c) => c.notNull())
          .addColumn('source_device', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('server_timestamp', 'bigint', (c) => c.notNull())
          // Account first: the same index serves the duplicate check, export and erasure.
          .addPrimaryKeyConstraint('sent_messages_pk', [
            'source_account',
            'source_device',
            'client_message_id',
          ])
          .execute();
        await db.schema
          .createIndex('sent_messages_age')
          .on('sent_messages')
          .column('created_at')
          .execute();

        await db.schema
          .createTable('verification_codes')
          .addColumn('number_key', 'text', (c) => c.primaryKey())
          .addColumn('code_hash', binary, (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('provisioning_codes')
          .addColumn('code_key', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('rate_limits')
          .addColumn('bucket', 'text', (c) => c.primaryKey())
          .addColumn('tat', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('attachments')
          .addColumn('attachment_id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('attachments_account')
          .on('attachments')
          .column('account_id')
          .execute();
        await db.schema
          .createIndex('attachments_age')
          .on('attachments')
          .column('created_at')
          .execute();

        await db.schema
          .createTable('audit_log')
          .addColumn('seq', 'bigint', (c) => c.primaryKey())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text')
          .addColumn('device_id', 'integer')
          .addColumn('details', 'text')
          .addColumn('hash', binary, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('audit_log_account')
          .on('audit_log')
          .column('account_id')
          .execute();
        await db.schema
          .createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('hash', binary, (c) => c.notNull())
          .addColumn('anchor_seq', 'bigint', (c) => c.notNull())
          .addColumn('anchor_hash', binary, (c) => c.notNull())
          .execute();
        const zero = new Uint8Array(32);
        await sql`insert into audit_head (id, seq, hash, anchor_seq, anchor_hash) values (1, 0, ${zero}, 0, ${zero})`.execute(
          db,
        );
      },
    },
    '0002_backups': {
      async up(db: Kysely<unknown>) {
        // Backup archives per account (routes/backups.ts); the bytes are in the blob store.
        await db.schema
          .createTable('backups')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('blob_id', 'text', (c) => c.notNull().unique())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('backups_pk', ['account_id', 'name'])
          .execute();
      },
    },
  };
}

/** Applies every pending migration; throws (with Kysely's cause) if one fails. */
export async function migrateToLatest<DB>(
  database: Kysely<DB>,
  flavour: SqlFlavour,
): Promise<void> {
  const db = database as unknown as Kysely<unknown>;
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations(flavour)) };
  const migrator = new Migrator({ db, provider });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new Error('storage migration failed', { cause: error });
  }
}
