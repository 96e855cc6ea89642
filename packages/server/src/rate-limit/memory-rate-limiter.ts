/**
 * An in-memory rate limiter for the per-message path (limits.ts MESSAGE_SENDS_PER_ACCOUNT): the
 * generic cell rate algorithm of the durable buckets (storage port `consumeRateLimit`), kept in a
 * Map instead of a table, because a durable bucket would cost a database write per message.
 *
 * What it leaves out on purpose: persistence and sharing. A restart, or another relay node, starts
 * every key afresh; this bounds a flood from one account on one node, it is not an accounting
 * record. Idle keys (whose theoretical arrival time has passed) are dropped in a sweep every
 * SWEEP_EVERY decisions, so memory follows the number of recently active keys.
 */
import type { Clock } from '../ports/clock.js';
import type { RateLimitDecision, RateLimitPolicy } from '../ports/storage.js';

/** Decisions between two sweeps of idle keys. */
const SWEEP_EVERY = 4096;
const ALLOWED: RateLimitDecision = { allowed: true };

export class MemoryRateLimiter {
  /** key → theoretical arrival time of the next event (ms). */
  private readonly tat = new Map<string, number>();
  private readonly tolerance: number;
  private sinceSweep = 0;

  constructor(
    private readonly policy: RateLimitPolicy,
    private readonly clock: Clock,
  ) {
    if (!(policy.burst >= 1) || !(policy.intervalMs > 0)) {
      throw new RangeError('a rate-limit policy needs burst >= 1 and intervalMs > 0');
    }
    this.tolerance = (policy.burst - 1) * policy.intervalMs;
  }

  /** Takes one event for `key`; a refused event takes nothing. */
  take(key: string): RateLimitDecision {
    const now = this.clock.now();
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(now);
    const stored = this.tat.get(key);
    const tat = stored === undefined || stored < now ? now : stored;
    const ahead = tat - now;
    if (ahead > this.tolerance) return { allowed: false, retryAfterMs: ahead - this.tolerance };
    this.tat.set(key, tat + this.policy.intervalMs);
    return ALLOWED;
  }

  /** Keys currently tracked (for tests). */
  get size(): number {
    return this.tat.size;
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [key, tat] of this.tat) if (tat <= now) this.tat.delete(key);
  }
}
