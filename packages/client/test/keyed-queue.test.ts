/** Per-key serialisation (keyed-queue.ts): one session operation per address at a time. */
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../src/keyed-queue.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time, in call order', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        q.run('a', async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          log.push(`start ${i}`);
          await tick();
          log.push(`end ${i}`);
          running--;
        }),
      ),
    );
    expect(maxRunning).toBe(1);
    expect(log).toEqual(Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
  });

  it('runs different keys in parallel', async () => {
    const q = new KeyedQueue();
    let running = 0;
    let maxRunning = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((k) =>
        q.run(k, async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await tick();
          running--;
        }),
      ),
    );
    expect(maxRunning).toBe(3);
  });

  it('keeps going after a task fails, and passes results and errors through', async () => {
    const q = new KeyedQueue();
    const failure = q.run('a', () => Promise.reject(new Error('boom')));
    const next = q.run('a', () => Promise.resolve(42));
    await expect(failure).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('runAll holds every key: no task of those keys interleaves, in either key order', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const all1 = q.runAll(['b', 'a'], async () => {
      log.push('all1 start');
      await tick();
      log.push('all1 end');
    });
    const single = q.run('a', async () => {
      log.push('a');
      await Promise.resolve();
    });
    const all2 = q.runAll(['a', 'b'], async () => {
      log.push('all2');
      await Promise.resolve();
    });
    await Promise.all([all1, single, all2]);
    expect(log.indexOf('all1 end')).toBeLessThan(log.indexOf('a'));
    expect(log.indexOf('all1 end')).toBeLessThan(log.indexOf('all2'));
  });
});
