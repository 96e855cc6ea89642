/** A clock for tests: time moves only when the test says so. */
import type { Clock } from '../ports/clock.js';

export class ManualClock implements Clock {
  constructor(private current = 1_750_000_000_000) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
