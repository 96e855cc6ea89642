/**
 * Attachments: client-encrypted blobs streamed in (`application/octet-stream`, at most
 * maxAttachmentBytes, cut off while streaming), stored under 128 random bits (base64url), fetched
 * by that id, and deleted by the sweeper after the attachment retention.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, ATTACHMENT_ID_BYTES, toBase64Url, type ResponseBody } from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { defineRoute } from '../http/route.js';
import { ATTACHMENT_UPLOADS_PER_ACCOUNT } from '../limits.js';
import { randomSecret } from '../secrets.js';

export function attachmentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // The body stays a stream: the handler pipes it to the blob store with a size limit.
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));

  defineRoute(app, ctx, 'uploadAttachment', async (req, reply) => {
    const { accountId } = deviceOf(req);
    const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    const max = ctx.settings.maxAttachmentBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) throw new ApiError('PAYLOAD_TOO_LARGE');
    await ctx.limit(accountBucket(accountId, 'attachments'), ATTACHMENT_UPLOADS_PER_ACCOUNT);
    const attachmentId = toBase64Url(randomSecret(ATTACHMENT_ID_BYTES));
    const size = await ctx.attachments.write(attachmentId, req.raw, max);
    const createdAt = ctx.clock.now();
    try {
      await ctx.storage.putAttachment({ attachmentId, accountId, size, createdAt });
    } catch (err) {
      await ctx.attachments.delete(attachmentId);
      throw err;
    }
    return reply.code(201).send({
      attachmentId,
      size,
      expiresAt: createdAt + ctx.settings.attachmentRetentionMs,
    } satisfies ResponseBody<'uploadAttachment'>);
  });

  defineRoute(app, ctx, 'downloadAttachment', async (req, reply) => {
    deviceOf(req);
    const { attachmentId } = req.params;
    const record = await ctx.storage.getAttachment(attachmentId);
    const expired =
      record !== undefined &&
      record.createdAt + ctx.settings.attachmentRetentionMs <= ctx.clock.now();
    const stream =
      record === undefined || expired ? undefined : await ctx.attachments.read(attachmentId);
    if (record === undefined || stream === undefined) throw new ApiError('ATTACHMENT_NOT_FOUND');
    return reply
      .type('application/octet-stream')
      .header('content-length', record.size)
      .header('cache-control', 'no-store')
      .send(stream);
  });
}
