import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/index.js';

describe('group commit', () => {
  it('commits everything enqueued in one event-loop turn as one batch, in order', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number, number>(
      (items) => {
        batches.push([...items]);
        return Promise.resolve(items.map((i) => i * 2));
      },
      { maxBatch: 100 },
    );
    const results = await Promise.all([1, 2, 3, 4].map((i) => gc.enqueue(i)));
    expect(results).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('gathers writes arriving during a commit into the next batch, never two commits at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const batches: number[][] = [];
    const gc = new GroupCommit<number, void>(
      async (items) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        batches.push([...items]);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return items.map(() => undefined);
      },
      { maxBatch: 3 },
    );
    const first = gc.enqueue(1);
    await new Promise((r) => setImmediate(r));
    const rest = [2, 3, 4, 5, 6].map((i) => gc.enqueue(i));
    await Promise.all([first, ...rest]);
    expect(maxRunning).toBe(1);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('rejects every write of a failed batch, and keeps working afterwards', async () => {
    let fail = true;
    const gc = new GroupCommit<number, number>(
      (items) => (fail ? Promise.reject(new Error('disk full')) : Promise.resolve([...items])),
      { maxBatch: 10 },
    );
    const failed = await Promise.allSettled([gc.enqueue(1), gc.enqueue(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await gc.enqueue(3)).toBe(3);
  });

  it('waits for a window when one is configured', async () => {
    const times: number[] = [];
    const gc = new GroupCommit<number, number>(
      (items) => {
        times.push(Date.now());
        return Promise.resolve([...items]);
      },
      { maxBatch: 10, windowMs: 30 },
    );
    const start = Date.now();
    await gc.enqueue(1);
    expect(times[0]! - start).toBeGreaterThanOrEqual(25);
  });

  it('commits what is queued on close and refuses new writes', async () => {
    const committed: number[] = [];
    const gc = new GroupCommit<number, void>(
      (items) => {
        committed.push(...items);
        return Promise.resolve(items.map(() => undefined));
      },
      { maxBatch: 2 },
    );
    const pending = [1, 2, 3].map((i) => gc.enqueue(i));
    await gc.close();
    await Promise.all(pending);
    expect(committed).toEqual([1, 2, 3]);
    await expect(gc.enqueue(4)).rejects.toThrow(/shutting down/);
  });
});
