/**
 * The clock port (ARCHITECTURE.md "packages/server ... ports"): every expiry, rate limit and
 * timestamp reads time through it, so tests can move time without waiting.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (an integer). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
