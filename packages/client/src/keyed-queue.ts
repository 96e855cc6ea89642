/**
 * Serialises work per key: `run(key, fn)` starts `fn` once every earlier task for `key` has
 * settled. The client runs every session operation (encrypt, decrypt, starting a session) of one
 * protocol address through it — "one message is decrypted at a time per session" — while
 * different addresses proceed in parallel.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Runs `fn` holding every key of `keys` (taken in sorted order, so two callers cannot deadlock). */
  runAll<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> =>
      i === sorted.length ? fn() : this.run(sorted[i]!, () => step(i + 1));
    return step(0);
  }
}
