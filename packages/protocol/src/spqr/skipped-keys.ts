/**
 * The skipped message keys of one SPQR receive chain (shared/specs/signal-wire.md §3.4 "Chain",
 * `recvKey`; spqr `chain.rs` `KeyHistory`), as a persistent (immutable, structurally shared)
 * set of `index → 32-byte key`.
 *
 * Keys live in aligned blocks of 32 consecutive indices with a presence bit mask. Taking a key
 * copies one small block record and the block list (≈ 63 references at the 2 000-key limit),
 * never the keys themselves, so a state that the Double Ratchet later throws away costs almost
 * nothing. Appending copies at most the one partially filled block it extends.
 *
 * Which indices are still retrievable (the `ctr − MAX_OOO_KEYS` horizon, "trimmed") is decided
 * by the chain; this set only drops whole blocks below a horizon to bound memory.
 */

const BLOCK = 32;
const KEY_LENGTH = 32;

interface KeyBlock {
  /** First index of the block (a multiple of 32). */
  readonly start: number;
  /** 32 × 32 bytes; slot s holds the key of index start + s when bit s of `present` is set. */
  readonly keys: Uint8Array;
  /** Presence bits (u32). */
  readonly present: number;
}

export interface SkippedKeys {
  /** Blocks in increasing `start` order, none empty. */
  readonly blocks: readonly KeyBlock[];
}

export const NO_SKIPPED_KEYS: SkippedKeys = { blocks: [] };

function blockStart(index: number): number {
  return index - (index % BLOCK);
}

function findBlock(blocks: readonly KeyBlock[], start: number): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = blocks[mid]!.start;
    if (s === start) return mid;
    if (s < start) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Removes and returns the key of `index`, or null if it is not stored. */
export function takeSkippedKey(
  skipped: SkippedKeys,
  index: number,
): { skipped: SkippedKeys; key: Uint8Array } | null {
  const b = findBlock(skipped.blocks, blockStart(index));
  if (b < 0) return null;
  const block = skipped.blocks[b]!;
  const slot = index - block.start;
  const bit = (1 << slot) >>> 0;
  if ((block.present & bit) === 0) return null;
  const key = block.keys.slice(slot * KEY_LENGTH, (slot + 1) * KEY_LENGTH);
  const present = (block.present & ~bit) >>> 0;
  const blocks = skipped.blocks.slice();
  if (present === 0) blocks.splice(b, 1);
  else blocks[b] = { start: block.start, keys: block.keys, present };
  return { skipped: { blocks }, key };
}

/**
 * Adds the keys of indices `firstIndex, firstIndex + 1, …` (`keys` holds them back to back).
 * Every new index must be larger than every stored one.
 */
export function appendSkippedKeys(
  skipped: SkippedKeys,
  firstIndex: number,
  keys: Uint8Array,
): SkippedKeys {
  const count = keys.length / KEY_LENGTH;
  if (count === 0) return skipped;
  const blocks = skipped.blocks.slice();
  let current: { start: number; keys: Uint8Array; present: number } | null = null;
  const last = blocks[blocks.length - 1];
  for (let k = 0; k < count; k++) {
    const index = firstIndex + k;
    const start = blockStart(index);
    if (current === null || current.start !== start) {
      if (current !== null) blocks.push(current);
      if (last !== undefined && last.start === start && current === null) {
        // Extend the last stored block: copy it (it may be shared with older states).
        blocks.pop();
        current = { start, keys: last.keys.slice(), present: last.present };
      } else {
        current = { start, keys: new Uint8Array(BLOCK * KEY_LENGTH), present: 0 };
      }
    }
    const slot = index - start;
    current.keys.set(keys.subarray(k * KEY_LENGTH, (k + 1) * KEY_LENGTH), slot * KEY_LENGTH);
    current.present = (current.present | (1 << slot)) >>> 0;
  }
  if (current !== null) blocks.push(current);
  return { blocks };
}

/** Drops the blocks whose indices are all below `horizon`. */
export function dropSkippedKeysBelow(skipped: SkippedKeys, horizon: number): SkippedKeys {
  const { blocks } = skipped;
  let n = 0;
  while (n < blocks.length && blocks[n]!.start + BLOCK <= horizon) n++;
  return n === 0 ? skipped : { blocks: blocks.slice(n) };
}

/** Every stored `(index, key)` with index ≥ `horizon`, in increasing index order. */
export function listSkippedKeys(
  skipped: SkippedKeys,
  horizon = 0,
): Array<{ index: number; key: Uint8Array }> {
  const out: Array<{ index: number; key: Uint8Array }> = [];
  for (const block of skipped.blocks) {
    for (let slot = 0; slot < BLOCK; slot++) {
      const index = block.start + slot;
      if (index < horizon || (block.present & ((1 << slot) >>> 0)) === 0) continue;
      out.push({ index, key: block.keys.subarray(slot * KEY_LENGTH, (slot + 1) * KEY_LENGTH) });
    }
  }
  return out;
}

/** Number of stored keys (including any below a horizon not yet dropped). */
export function countSkippedKeys(skipped: SkippedKeys): number {
  let n = 0;
  for (const block of skipped.blocks) {
    let bits = block.present;
    while (bits !== 0) {
      bits &= bits - 1;
      n++;
    }
  }
  return n;
}
