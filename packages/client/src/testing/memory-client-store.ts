/**
 * An in-memory `ClientStore` (the storage port in `../client-store.ts`) for tests and for
 * ephemeral clients. It keeps copies of every value (callers may reuse their buffers), applies a
 * transaction's writes only when its function resolves, and runs transactions and single writes
 * one at a time, in call order (so `store.put` called from inside a transaction's function waits
 * for that transaction: use `tx` there). It encrypts nothing and persists nothing: never use it for a real
 * device.
 */
import type { ClientStore, ClientStoreTransaction } from '../client-store.js';

type Table = Map<string, Map<string, Uint8Array>>;

/** One pending write of a transaction: a value, or `null` for a delete. */
type Overlay = Map<string, Map<string, Uint8Array | null>>;

function sortedEntries(
  base: Map<string, Uint8Array> | undefined,
  overlay: Map<string, Uint8Array | null> | undefined,
): Array<readonly [string, Uint8Array]> {
  const merged = new Map<string, Uint8Array>(base);
  if (overlay !== undefined) {
    for (const [key, value] of overlay) {
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
  }
  const keys = [...merged.keys()].sort(compareStrings);
  return keys.map((key) => [key, merged.get(key)!.slice()] as const);
}

/** Code-unit string order (what `Array.prototype.sort` and SQLite's BINARY collation agree on for BMP text). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function closedError(): Error {
  return new Error('MemoryClientStore: store is closed');
}

export class MemoryClientStore implements ClientStore {
  readonly #table: Table = new Map();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Run `task` after every previously queued transaction or write has finished. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // Reads outside a transaction see committed state only (a pending transaction keeps its writes
  // in an overlay), so they need not wait for the queue.
  get(namespace: string, key: string): Promise<Uint8Array | undefined> {
    if (this.#closed) return Promise.reject(closedError());
    return Promise.resolve(this.#table.get(namespace)?.get(key)?.slice());
  }

  list(namespace: string): Promise<Array<readonly [key: string, value: Uint8Array]>> {
    if (this.#closed) return Promise.reject(closedError());
    return Promise.resolve(sortedEntries(this.#table.get(namespace), undefined));
  }

  put(namespace: string, key: string, value: Uint8Array): Promise<void> {
    return this.transaction((tx) => tx.put(namespace, key, value));
  }

  delete(namespace: string, key: string): Promise<void> {
    return this.transaction((tx) => tx.delete(namespace, key));
  }

  transaction<T>(fn: (tx: ClientStoreTransaction) => Promise<T>): Promise<T> {
    return this.#enqueue(async () => {
      if (this.#closed) throw closedError();
      const overlay: Overlay = new Map();
      let open = true;
      const table = this.#table;
      const guard = (): void => {
        if (!open) throw new Error('MemoryClientStore: transaction already finished');
      };
      const tx: ClientStoreTransaction = {
        get(namespace, key) {
          guard();
          const pending = overlay.get(namespace)?.get(key);
          if (pending === null) return Promise.resolve(undefined);
          const value = pending ?? table.get(namespace)?.get(key);
          return Promise.resolve(value?.slice());
        },
        list(namespace) {
          guard();
          return Promise.resolve(sortedEntries(table.get(namespace), overlay.get(namespace)));
        },
        put(namespace, key, value) {
          guard();
          if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array');
          let ns = overlay.get(namespace);
          if (ns === undefined) overlay.set(namespace, (ns = new Map<string, Uint8Array | null>()));
          ns.set(key, value.slice());
          return Promise.resolve();
        },
        delete(namespace, key) {
          guard();
          let ns = overlay.get(namespace);
          if (ns === undefined) overlay.set(namespace, (ns = new Map<string, Uint8Array | null>()));
          ns.set(key, null);
          return Promise.resolve();
        },
      };
      try {
        const result = await fn(tx);
        for (const [namespace, writes] of overlay) {
          let ns = table.get(namespace);
          if (ns === undefined) table.set(namespace, (ns = new Map<string, Uint8Array>()));
          for (const [key, value] of writes) {
            if (value === null) ns.delete(key);
            else ns.set(key, value);
          }
          if (ns.size === 0) table.delete(namespace);
        }
        return result;
      } finally {
        open = false;
      }
    });
  }

  close(): Promise<void> {
    return this.#enqueue(() => {
      this.#closed = true;
      return Promise.resolve();
    });
  }
}

/** A fresh, empty in-memory client store. */
export function createMemoryClientStore(): MemoryClientStore {
  return new MemoryClientStore();
}
