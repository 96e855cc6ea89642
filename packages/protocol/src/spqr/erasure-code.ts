/**
 * SPQR's systematic Reed–Solomon erasure code over GF(2^16) (shared/specs/signal-wire.md §3.4
 * "Erasure code"; spqr `encoding/polynomial.rs`, `PolyEncoder` / `PolyDecoder`).
 *
 * A payload of 2W bytes is read as W big-endian 16-bit words; word w belongs to polynomial
 * w mod 16 at x = ⌊w/16⌋. Chunk k (32 bytes) is the 16 values P_i(k), i = 0..15, big-endian.
 * For k below the number of words of every polynomial the chunk is the payload bytes
 * [32k, 32k+32) (systematic); higher k are Lagrange evaluations (parity). Polynomial i has
 * n_i = ⌊W/16⌋ + (i < W mod 16 ? 1 : 0) points, so any n_i distinct chunks decode it.
 *
 * Encoders and decoders are immutable values: `nextChunk` and `addChunk` return new ones and share
 * what did not change, so a ratchet state that is thrown away (MAC failure) costs nothing.
 *
 * Decoder rules follow spqr exactly, so the same chunks give the same bytes even from a
 * misbehaving peer: a point is kept if its x is below n_i or the polynomial still lacks points;
 * a repeated x replaces the earlier point; decoding uses the n_i points with the smallest x.
 */
import { ProtocolError } from '../errors.js';
import { contiguousBasis, lagrangeBasis, lagrangeLogWeightsAt, weightedSum } from './polynomial.js';

/** Bytes per chunk. */
export const CHUNK_LENGTH = 32;
const POLYS = 16;
/** Largest payload spqr accepts: 2^16 points for each of the 16 polynomials. */
const MAX_PAYLOAD_LENGTH = 65536 * POLYS * 2;
/** Chunk indices are u16 on the wire. */
export const MAX_CHUNK_INDEX = 0xffff;

export interface Chunk {
  /** 0..65535; the x at which the 16 polynomials were evaluated. */
  readonly index: number;
  /** 32 bytes. */
  readonly data: Uint8Array;
}

function pointsForPoly(totalWords: number, poly: number): number {
  return (totalWords >>> 4) + (poly < (totalWords & 15) ? 1 : 0);
}

function checkPayloadLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length % 2 !== 0 || length > MAX_PAYLOAD_LENGTH) {
    throw new ProtocolError('INVALID_STATE', `erasure code: bad payload length ${length}`);
  }
}

// --- encoder ---------------------------------------------------------------------------------

export interface ErasureEncoder {
  /** The payload (not copied again; never mutated). */
  readonly payload: Uint8Array;
  /** The payload as big-endian 16-bit words. */
  readonly words: Uint16Array;
  /** Counter of the next chunk (u32, wraps); the chunk index is its low 16 bits. */
  readonly next: number;
}

/** Starts encoding `payload` (even length). The payload is copied. */
export function createEncoder(payload: Uint8Array, next = 0): ErasureEncoder {
  checkPayloadLength(payload.length);
  const copy = payload.slice();
  const words = new Uint16Array(copy.length >>> 1);
  for (let w = 0; w < words.length; w++) words[w] = (copy[2 * w]! << 8) | copy[2 * w + 1]!;
  return { payload: copy, words, next: next >>> 0 };
}

/** The chunk at `index` (0..65535) of the encoded payload. */
export function encodeChunk(encoder: ErasureEncoder, index: number): Chunk {
  const { payload, words } = encoder;
  const totalWords = words.length;
  const full = totalWords >>> 4;
  if (index < full) {
    // Systematic: every polynomial has a word at this x.
    return { index, data: payload.slice(index * CHUNK_LENGTH, (index + 1) * CHUNK_LENGTH) };
  }
  const data = new Uint8Array(CHUNK_LENGTH);
  const logWeights = new Int32Array(full + 1);
  let weightsFor = -1; // n for which logWeights currently holds weights
  for (let i = 0; i < POLYS; i++) {
    const n = pointsForPoly(totalWords, i);
    let y: number;
    if (index < n) {
      y = words[index * POLYS + i]!;
    } else if (n === 0) {
      y = 0; // an empty polynomial evaluates to 0 everywhere (spqr: no coefficients)
    } else {
      if (weightsFor !== n) {
        // index ≥ n, so it is not one of the nodes 0..n−1 and all n weights are written.
        lagrangeLogWeightsAt(contiguousBasis(n), index, logWeights);
        weightsFor = n;
      }
      y = weightedSum(logWeights, n, words, i, POLYS);
    }
    data[2 * i] = y >>> 8;
    data[2 * i + 1] = y & 0xff;
  }
  return { index, data };
}

/** The next chunk and the encoder that follows it (the input is not changed). */
export function nextChunk(encoder: ErasureEncoder): { encoder: ErasureEncoder; chunk: Chunk } {
  const chunk = encodeChunk(encoder, encoder.next & MAX_CHUNK_INDEX);
  const { payload, words } = encoder;
  return { encoder: { payload, words, next: (encoder.next + 1) >>> 0 }, chunk };
}

// --- decoder ---------------------------------------------------------------------------------

/**
 * Storage shared by successive versions of one decoder. Point list i occupies the slots
 * `[i·capacity, i·capacity + count_i)`, packed as x·65536 + y, sorted by x, x unique. Slots past a
 * version's counts are invisible to it, so the newest version (the `owner`) may append in place:
 * that is what every chunk arriving in index order does, with no allocation. Any other change
 * (an insertion in the middle, a replaced point, an append by an older version) copies.
 */
interface PointStore {
  readonly slots: Uint32Array;
  readonly capacity: number;
  owner: ErasureDecoder | null;
}

export interface ErasureDecoder {
  /** Length in bytes of the payload being received. */
  readonly length: number;
  /** Number of points held per polynomial (16 entries). */
  readonly counts: readonly number[];
  /** @internal The point lists (see {@link PointStore}). */
  readonly store: PointStore;
}

/**
 * A polynomial needing n points never holds more than 2n: at most n points with x < n, and
 * points with x ≥ n are only added while fewer than n are held.
 */
function storeCapacity(length: number): number {
  return Math.max(1, 2 * Math.ceil((length >>> 1) / POLYS));
}

function newDecoder(length: number, counts: number[], store: PointStore): ErasureDecoder {
  const decoder: ErasureDecoder = { length, counts, store };
  store.owner = decoder;
  return decoder;
}

/** A decoder for a payload of `length` bytes (even). */
export function createDecoder(length: number): ErasureDecoder {
  checkPayloadLength(length);
  const capacity = storeCapacity(length);
  const store: PointStore = { slots: new Uint32Array(POLYS * capacity), capacity, owner: null };
  return newDecoder(length, new Array<number>(POLYS).fill(0), store);
}

/** Rebuilds a decoder from stored points (validated: sorted, unique x). */
export function restoreDecoder(length: number, points: readonly Uint32Array[]): ErasureDecoder {
  checkPayloadLength(length);
  if (points.length !== POLYS) {
    throw new ProtocolError('INVALID_STATE', 'erasure decoder: need 16 point lists');
  }
  let capacity = storeCapacity(length);
  for (const list of points) {
    for (let k = 1; k < list.length; k++) {
      if (list[k]! >>> 16 <= list[k - 1]! >>> 16) {
        throw new ProtocolError('INVALID_STATE', 'erasure decoder: points not sorted');
      }
    }
    capacity = Math.max(capacity, list.length);
  }
  const store: PointStore = { slots: new Uint32Array(POLYS * capacity), capacity, owner: null };
  points.forEach((list, i) => store.slots.set(list, i * capacity));
  return newDecoder(
    length,
    points.map((list) => list.length),
    store,
  );
}

/** The point lists of `decoder` (views, not copies; for serialisation). */
export function decoderPoints(decoder: ErasureDecoder): Uint32Array[] {
  const { slots, capacity } = decoder.store;
  return decoder.counts.map((count, i) => slots.subarray(i * capacity, i * capacity + count));
}

// What `addChunk` does to each polynomial's list.
const KEEP = 0;
const APPEND = 1;
const INSERT = 2;
const REPLACE = 3;
const actions = new Uint8Array(POLYS);
const positions = new Int32Array(POLYS);

/** Adds a received chunk; returns a new decoder (the input is not changed). */
export function addChunk(decoder: ErasureDecoder, chunk: Chunk): ErasureDecoder {
  const { store, counts } = decoder;
  const { slots, capacity } = store;
  const totalWords = decoder.length >>> 1;
  const x = chunk.index;
  const data = chunk.data;
  let changed = false;
  let copy = store.owner !== decoder;
  for (let i = 0; i < POLYS; i++) {
    const needed = pointsForPoly(totalWords, i);
    const count = counts[i]!;
    actions[i] = KEEP;
    if (!(x < needed || count < needed)) continue;
    const packed = ((x << 16) | (data[2 * i]! << 8) | data[2 * i + 1]!) >>> 0;
    // Binary search for x in the sorted list.
    const base = i * capacity;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (slots[base + mid]! >>> 16 < x) lo = mid + 1;
      else hi = mid;
    }
    positions[i] = lo;
    if (lo < count && slots[base + lo]! >>> 16 === x) {
      if (slots[base + lo] === packed) continue;
      actions[i] = REPLACE; // a repeated x replaces the earlier point (spqr SortedSet::push)
      copy = true;
    } else if (lo === count && count < capacity) {
      actions[i] = APPEND;
    } else {
      actions[i] = INSERT;
      copy = true;
    }
    changed = true;
  }
  if (!changed) return decoder;

  const nextCounts = counts.slice();
  for (let i = 0; i < POLYS; i++)
    if (actions[i] === APPEND || actions[i] === INSERT) nextCounts[i]!++;
  let target = store;
  if (copy) {
    const nextCapacity = Math.max(capacity, ...nextCounts);
    target = { slots: new Uint32Array(POLYS * nextCapacity), capacity: nextCapacity, owner: null };
    for (let i = 0; i < POLYS; i++) {
      const from = i * capacity;
      const to = i * nextCapacity;
      const count = counts[i]!;
      if (actions[i] === INSERT) {
        const at = positions[i]!;
        target.slots.set(slots.subarray(from, from + at), to);
        target.slots.set(slots.subarray(from + at, from + count), to + at + 1);
      } else {
        target.slots.set(slots.subarray(from, from + count), to);
      }
    }
  }
  for (let i = 0; i < POLYS; i++) {
    const action = actions[i]!;
    if (action === KEEP) continue;
    const packed = ((x << 16) | (data[2 * i]! << 8) | data[2 * i + 1]!) >>> 0;
    target.slots[i * target.capacity + positions[i]!] = packed;
  }
  return newDecoder(decoder.length, nextCounts, target);
}

/** True once every polynomial has enough points. */
export function isDecodable(decoder: ErasureDecoder): boolean {
  const totalWords = decoder.length >>> 1;
  for (let i = 0; i < POLYS; i++) {
    if (decoder.counts[i]! < pointsForPoly(totalWords, i)) return false;
  }
  return true;
}

/** The decoded payload, or null while chunks are missing. */
export function decodedMessage(decoder: ErasureDecoder): Uint8Array | null {
  if (!isDecodable(decoder)) return null;
  const totalWords = decoder.length >>> 1;
  const { slots, capacity } = decoder.store;
  const out = new Uint8Array(decoder.length);
  // Polynomials with the same node set share their basis and weights.
  let basisKey = '';
  let basis = contiguousBasis(0);
  const weightCache = new Map<number, { node: number; logWeights: Int32Array }>();
  for (let i = 0; i < POLYS; i++) {
    const n = pointsForPoly(totalWords, i);
    if (n === 0) continue;
    const base = i * capacity;
    const xs = new Uint16Array(n);
    const ys = new Uint16Array(n);
    let contiguous = true;
    for (let j = 0; j < n; j++) {
      const point = slots[base + j]!;
      xs[j] = point >>> 16;
      ys[j] = point & 0xffff;
      if (xs[j] !== j) contiguous = false;
    }
    if (contiguous) {
      for (let j = 0; j < n; j++) {
        const w = j * POLYS + i;
        out[2 * w] = ys[j]! >>> 8;
        out[2 * w + 1] = ys[j]! & 0xff;
      }
      continue;
    }
    const key = xs.join(',');
    if (key !== basisKey) {
      basis = lagrangeBasis(xs);
      basisKey = key;
      weightCache.clear();
    }
    for (let k = 0; k < n; k++) {
      let y: number;
      // A node below n is one of the smallest n points, so the search can stop at n.
      let pos = -1;
      for (let j = 0; j < n && xs[j]! <= k; j++) if (xs[j] === k) pos = j;
      if (pos >= 0) {
        y = ys[pos]!;
      } else {
        let weights = weightCache.get(k);
        if (weights === undefined) {
          const logWeights = new Int32Array(n);
          const node = lagrangeLogWeightsAt(basis, k, logWeights);
          weights = { node, logWeights };
          weightCache.set(k, weights);
        }
        y = weights.node >= 0 ? ys[weights.node]! : weightedSum(weights.logWeights, n, ys, 0, 1);
      }
      const w = k * POLYS + i;
      out[2 * w] = y >>> 8;
      out[2 * w + 1] = y & 0xff;
    }
  }
  return out;
}
