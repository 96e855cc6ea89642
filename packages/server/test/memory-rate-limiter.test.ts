// The in-memory GCRA behind the per-account send limit: burst, steady rate, retry times that
// match the durable buckets' rule, independent keys, and idle keys dropped.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../src/rate-limit/memory-rate-limiter.js';
import { ManualClock } from '../src/testing/index.js';

describe('MemoryRateLimiter', () => {
  it('allows the burst at once, then one event per interval', () => {
    const clock = new ManualClock();
    const limiter = new MemoryRateLimiter({ burst: 3, intervalMs: 100 }, clock);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(limiter.take('b').allowed).toBe(true);
    clock.advance(99);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('never allows more than burst + elapsed/interval events (any schedule)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        (burst, intervalMs, gaps) => {
          const clock = new ManualClock(0);
          const limiter = new MemoryRateLimiter({ burst, intervalMs }, clock);
          let allowed = 0;
          for (const gap of gaps) {
            clock.advance(gap);
            const d = limiter.take('k');
            if (d.allowed) allowed++;
            else expect(d.retryAfterMs).toBeGreaterThan(0);
            expect(allowed).toBeLessThanOrEqual(burst + Math.floor(clock.now() / intervalMs));
          }
        },
      ),
    );
  });

  it('drops keys that went idle', () => {
    const clock = new ManualClock();
    const limiter = new MemoryRateLimiter({ burst: 1, intervalMs: 10 }, clock);
    for (let i = 0; i < 5000; i++) limiter.take(`key-${i}`);
    expect(limiter.size).toBeGreaterThan(4000);
    clock.advance(11);
    for (let i = 0; i < 5000; i++) limiter.take('busy');
    expect(limiter.size).toBeLessThan(10);
  });

  it('refuses a policy that could never allow anything', () => {
    const clock = new ManualClock();
    expect(() => new MemoryRateLimiter({ burst: 0, intervalMs: 10 }, clock)).toThrow(RangeError);
    expect(() => new MemoryRateLimiter({ burst: 1, intervalMs: 0 }, clock)).toThrow(RangeError);
  });
});
