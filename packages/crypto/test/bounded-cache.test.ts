/** The LRU used for per-key derived public values. */
import { describe, expect, it } from 'vitest';
import { BoundedCache, bytesKey } from '../src/bounded-cache.js';

describe('BoundedCache', () => {
  it('evicts the least recently used entry at capacity', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3); // evicts b
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('overwriting an existing key does not evict another', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10);
    expect(cache.get('a')).toBe(10);
    expect(cache.get('b')).toBe(2);
  });

  it('bytesKey is injective on equal-length byte strings', () => {
    expect(bytesKey(Uint8Array.of(0, 255, 7))).toBe('\u0000\u00ff\u0007');
    expect(bytesKey(Uint8Array.of(1, 2))).not.toBe(bytesKey(Uint8Array.of(2, 1)));
  });
});
