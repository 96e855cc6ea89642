/**
 * The sweeper: deletes what outlived its retention (docs/server.md "Retention") — undelivered
 * envelopes, sent-message ids, expired codes, idle rate-limit buckets, old attachments with their
 * blobs, audit rows past the audit retention, and attachment or backup blobs no row points at. Runs every SWEEP_INTERVAL_MS; never two at once.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServerContext } from './http/context.js';
import { ORPHAN_BLOB_GRACE_MS } from './limits.js';
import type { AttachmentStore } from './ports/attachment-store.js';
import type { SweepResult } from './ports/storage.js';

/** Blob ids checked against the database per query while looking for orphans. */
const ORPHAN_SCAN_BATCH = 500;

/**
 * Deletes the blobs of `store` that no `kind` row points at and that were last written more than
 * ORPHAN_BLOB_GRACE_MS ago: what a crash leaves between writing a blob and recording it (or
 * between replacing a backup and deleting the old bytes). A blob is renamed into place only once
 * complete, and recorded right after, so the grace period only has to cover that moment.
 */
async function sweepOrphanBlobs(
  ctx: ServerContext,
  store: AttachmentStore,
  kind: 'attachment' | 'backup',
  now: number,
): Promise<number> {
  let deleted = 0;
  let batch: string[] = [];
  const flush = async () => {
    for (const id of await ctx.storage.unreferencedBlobs(kind, batch)) {
      await store.delete(id);
      deleted++;
    }
    batch = [];
  };
  for await (const blob of store.list()) {
    if (blob.writtenAt > now - ORPHAN_BLOB_GRACE_MS) continue;
    batch.push(blob.id);
    if (batch.length >= ORPHAN_SCAN_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return deleted;
}

export async function sweepOnce(
  ctx: ServerContext,
): Promise<SweepResult & { readonly orphanBlobs: number }> {
  const now = ctx.clock.now();
  const s = ctx.settings;
  const result = await ctx.storage.sweep({
    now,
    envelopesBefore: now - s.messageRetentionMs,
    // A retry can only come while the message could still be delivered.
    sentMessageIdsBefore: now - s.messageRetentionMs,
    attachmentsBefore: now - s.attachmentRetentionMs,
    auditBefore: now - s.auditRetentionMs,
  });
  for (const id of result.attachmentIds) await ctx.attachments.delete(id);
  const orphanBlobs =
    (await sweepOrphanBlobs(ctx, ctx.attachments, 'attachment', now)) +
    (ctx.backups === null ? 0 : await sweepOrphanBlobs(ctx, ctx.backups, 'backup', now));
  return { ...result, orphanBlobs };
}

export function startSweeper(
  ctx: ServerContext,
  intervalMs: number,
  log: FastifyBaseLogger,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running !== null) return;
    running = sweepOnce(ctx)
      .then((r) => {
        log.info(
          {
            envelopes: r.envelopes,
            sentMessageIds: r.sentMessageIds,
            verificationCodes: r.verificationCodes,
            provisioningCodes: r.provisioningCodes,
            rateLimits: r.rateLimits,
            auditRows: r.auditRows,
            attachments: r.attachmentIds.length,
            orphanBlobs: r.orphanBlobs,
          },
          'sweep done',
        );
      })
      .catch((err: unknown) =>
        log.error({ err: { message: (err as Error).message } }, 'sweep failed'),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (running !== null) await running;
  };
}
