/**
 * Skipped message keys of one receiver chain (shared/specs/signal-wire.md §3.2 "Limits"): when a
 * message arrives ahead of the chain, the seeds of the messages in between are kept so they can
 * still be decrypted out of order. At most `MAX_MESSAGE_KEYS` (2 000) per chain; the oldest is
 * dropped first. What is kept is the message-key seed (libsignal's `MessageKeyGenerator::Seed`),
 * because the final keys also need the SPQR key that arrives with the message.
 *
 * Values are immutable: every change returns a new `SkippedKeys` (copy-on-write), so a failed
 * decryption can never have consumed a key.
 */
import { MAX_MESSAGE_KEYS } from '../limits.js';

export class SkippedKeys {
  static readonly EMPTY = new SkippedKeys(new Map());

  /** Insertion order = age: the first entry is the oldest. */
  private constructor(private readonly seeds: ReadonlyMap<number, Uint8Array>) {}

  /** Rebuilds from stored entries (oldest first), keeping the newest `MAX_MESSAGE_KEYS`. */
  static fromEntries(entries: Iterable<readonly [number, Uint8Array]>): SkippedKeys {
    const map = new Map<number, Uint8Array>();
    for (const [index, seed] of entries) {
      map.delete(index);
      map.set(index, seed);
    }
    trim(map);
    return map.size === 0 ? SkippedKeys.EMPTY : new SkippedKeys(map);
  }

  get size(): number {
    return this.seeds.size;
  }

  get(index: number): Uint8Array | undefined {
    return this.seeds.get(index);
  }

  /** A copy without `index`. */
  without(index: number): SkippedKeys {
    if (!this.seeds.has(index)) return this;
    const map = new Map(this.seeds);
    map.delete(index);
    return map.size === 0 ? SkippedKeys.EMPTY : new SkippedKeys(map);
  }

  /** A copy with `entries` (oldest first) appended, then trimmed to the newest MAX_MESSAGE_KEYS. */
  with(entries: readonly (readonly [number, Uint8Array])[]): SkippedKeys {
    if (entries.length === 0) return this;
    const map =
      entries.length >= MAX_MESSAGE_KEYS ? new Map<number, Uint8Array>() : new Map(this.seeds);
    const start = Math.max(0, entries.length - MAX_MESSAGE_KEYS);
    for (let i = start; i < entries.length; i++) {
      const [index, seed] = entries[i]!;
      map.delete(index);
      map.set(index, seed);
    }
    trim(map);
    return new SkippedKeys(map);
  }

  /** Entries oldest first. */
  entries(): IterableIterator<[number, Uint8Array]> {
    return this.seeds.entries();
  }
}

function trim(map: Map<number, Uint8Array>): void {
  if (map.size <= MAX_MESSAGE_KEYS) return;
  let excess = map.size - MAX_MESSAGE_KEYS;
  for (const index of map.keys()) {
    if (excess-- <= 0) break;
    map.delete(index);
  }
}
