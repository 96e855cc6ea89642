/**
 * A tiny least-recently-used map with a fixed capacity, for per-key derived PUBLIC values that
 * the hot paths would otherwise recompute on every message (KeyObjects of public keys, XEdDSA's
 * Edwards form of a Montgomery key). Keys are byte strings (`bytesKey`).
 */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      // Refresh recency: Map iterates in insertion order, so the first entry is the oldest.
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.capacity && !this.map.has(key)) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}

/** A Map key for a short byte string (one char per byte). */
export function bytesKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}
