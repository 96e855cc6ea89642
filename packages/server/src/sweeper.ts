/**
 * The sweeper: deletes what outlived its retention (docs/server.md "Retention") — undelivered
 * envelopes, sent-message ids, expired codes, idle rate-limit buckets, old attachments with their
 * blobs, and audit rows past the audit retention. Runs every SWEEP_INTERVAL_MS; never two at once.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServerContext } from './http/context.js';
import type { SweepResult } from './ports/storage.js';

export async function sweepOnce(ctx: ServerContext): Promise<SweepResult> {
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
  return result;
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
