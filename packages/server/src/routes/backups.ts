/**
 * Backups (docs/backups.md "Storage"): the relay adapter of @sotto/backup's storage port. Each
 * account keeps named, client-encrypted archives: an upload streams into a new blob (at most
 * `maxBackupBytes`, and at most what the account's quota leaves, cut off while streaming), and
 * only once every byte is in does one transaction point the name at it, replace the old backup of
 * that name and drop the account's oldest backups beyond the retention count
 * (backups/retention.ts); then the blobs nobody points at are deleted. A failed or aborted upload
 * leaves the old backup as it was. Downloads stream; list answers names, sizes and times.
 *
 * The relay sees ciphertext, sizes, times and the names the client chose; audit events record
 * sizes and counts, never names or bytes. Any device of the account may use these routes.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError, toBase64Url, type ResponseBody } from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { defineRoute, type RouteRequest } from '../http/route.js';
import { BACKUP_UPLOADS_PER_ACCOUNT } from '../limits.js';
import type { BackupBlobStore } from '../ports/backup-blob-store.js';
import { planRetention } from '../backups/retention.js';
import { randomSecret } from '../secrets.js';

/** Backup blob ids: 128 random bits, base64url (the blob store's id rule). */
const BACKUP_BLOB_ID_BYTES = 16;

function store(ctx: ServerContext): BackupBlobStore {
  if (ctx.backups === null) throw new ApiError('BACKUP_STORAGE_UNAVAILABLE');
  return ctx.backups;
}

export function backupRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // The body stays a stream: the handler pipes it to the blob store with a size limit.
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));

  // An upload refused before its whole body arrived (credential, limits, rate): close the
  // connection after the answer rather than read and discard the rest of a large archive.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode >= 400 && req.method === 'PUT' && !req.raw.complete) {
      void reply.header('connection', 'close');
    }
    done(null, payload);
  });

  defineRoute(app, ctx, 'uploadBackup', upload);

  async function upload(req: RouteRequest<'uploadBackup'>, reply: FastifyReply): Promise<unknown> {
    const { accountId, deviceId } = deviceOf(req);
    const { name } = req.params;
    const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    const blobs = store(ctx);
    await ctx.limit(accountBucket(accountId, 'backups'), BACKUP_UPLOADS_PER_ACCOUNT);

    const { maxBackupBytes, backupRetention } = ctx.settings;
    const plan = planRetention(
      await ctx.storage.listBackups(accountId),
      name,
      backupRetention.keep,
    );
    const room = backupRetention.quotaBytes - plan.keptBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const length = Number(declared);
      if (length > maxBackupBytes) throw new ApiError('BACKUP_TOO_LARGE');
      if (length > room) throw new ApiError('BACKUP_QUOTA_EXCEEDED');
    }
    if (room < 0) throw new ApiError('BACKUP_QUOTA_EXCEEDED');
    const max = Math.min(maxBackupBytes, room);

    // The blob store destroys its source on a failure; the request itself stays open through
    // this pass-through, so the refusal can still be answered on the connection.
    const body = new PassThrough();
    req.raw.pipe(body);
    req.raw.on('error', (err) => body.destroy(err));
    req.raw.on('aborted', () => body.destroy(new Error('upload aborted')));
    const blobId = toBase64Url(randomSecret(BACKUP_BLOB_ID_BYTES));
    let size: number;
    try {
      size = await blobs.write(blobId, body, max);
    } catch (err) {
      req.raw.unpipe(body);
      if (ApiError.is(err, 'PAYLOAD_TOO_LARGE')) {
        throw new ApiError(max === maxBackupBytes ? 'BACKUP_TOO_LARGE' : 'BACKUP_QUOTA_EXCEEDED');
      }
      throw err;
    }

    const createdAt = ctx.clock.now();
    const record = { accountId, name, blobId, size, createdAt };
    let outcome;
    try {
      outcome = await ctx.storage.commitBackup(record, backupRetention, ({ replaced, pruned }) => [
        ctx.auditEvent('backup-stored', accountId, deviceId, { size, replaced, pruned }),
      ]);
    } catch (err) {
      await blobs.delete(blobId);
      throw err;
    }
    if (outcome.status !== 'stored') {
      await blobs.delete(blobId);
      if (outcome.status === 'quota-exceeded') throw new ApiError('BACKUP_QUOTA_EXCEEDED');
      throw new ApiError('ACCOUNT_NOT_FOUND');
    }
    for (const id of outcome.obsoleteBlobIds) {
      // Committed already: a blob that cannot be deleted now is only wasted space, not an error.
      await blobs.delete(id).catch((err: unknown) => {
        req.log.warn({ err: { message: (err as Error).message } }, 'backup blob delete failed');
      });
    }
    return reply.code(200).send({ name, size, createdAt } satisfies ResponseBody<'uploadBackup'>);
  }

  defineRoute(app, ctx, 'downloadBackup', async (req, reply) => {
    const { accountId } = deviceOf(req);
    const blobs = store(ctx);
    const record = await ctx.storage.getBackup(accountId, req.params.name);
    const stream = record === undefined ? undefined : await blobs.read(record.blobId);
    if (record === undefined || stream === undefined) throw new ApiError('BACKUP_NOT_FOUND');
    return reply
      .type('application/octet-stream')
      .header('content-length', record.size)
      .header('cache-control', 'no-store')
      .send(stream);
  });

  defineRoute(app, ctx, 'listBackups', async (req) => {
    const { accountId } = deviceOf(req);
    store(ctx);
    const backups = await ctx.storage.listBackups(accountId);
    return {
      backups: backups.map((b) => ({ name: b.name, size: b.size, createdAt: b.createdAt })),
    } satisfies ResponseBody<'listBackups'>;
  });

  defineRoute(app, ctx, 'deleteBackup', async (req, reply) => {
    const { accountId, deviceId } = deviceOf(req);
    const blobs = store(ctx);
    const blobId = await ctx.storage.deleteBackup(accountId, req.params.name, [
      ctx.auditEvent('backup-deleted', accountId, deviceId),
    ]);
    if (blobId === undefined) throw new ApiError('BACKUP_NOT_FOUND');
    await blobs.delete(blobId);
    return reply.code(204).send();
  });
}
