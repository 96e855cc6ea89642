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
  return { encoder: { ...encoder, next: (encoder.next + 1) >>> 0 }, chunk };
}

// --- decoder ---------------------------------------------------------------------------------

export interface ErasureDecoder {
  /** Length in bytes of the payload being received. */
  readonly length: number;
  /** Per polynomial: points packed as x·65536 + y, sorted by x, x unique. */
  readonly points: readonly Uint32Array[];
}

const EMPTY_POINTS = new Uint32Array(0);

/** A decoder for a payload of `length` bytes (even). */
export function createDecoder(length: number): ErasureDecoder {
  checkPayloadLength(length);
  return { length, points: Array.from({ length: POLYS }, () => EMPTY_POINTS) };
}

/** Rebuilds a decoder from stored points (validated: sorted, unique x). */
export function restoreDecoder(length: number, points: readonly Uint32Array[]): ErasureDecoder {
  checkPayloadLength(length);
  if (points.length !== POLYS) {
    throw new ProtocolError('INVALID_STATE', 'erasure decoder: need 16 point lists');
  }
  for (const list of points) {
    for (let k = 1; k < list.length; k++) {
      if (list[k]! >>> 16 <= list[k - 1]! >>> 16) {
        throw new ProtocolError('INVALID_STATE', 'erasure decoder: points not sorted');
      }
    }
  }
  return { length, points: points.slice() };
}

function insertPoint(list: Uint32Array, x: number, y: number): Uint32Array {
  const packed = (x * 65536 + y) >>> 0;
  // Binary search for x.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! >>> 16 < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo < list.length && list[lo]! >>> 16 === x) {
    if (list[lo] === packed) return list;
    const replaced = list.slice();
    replaced[lo] = packed; // a repeated x replaces the earlier point (spqr SortedSet::push)
    return replaced;
  }
  const out = new Uint32Array(list.length + 1);
  out.set(list.subarray(0, lo), 0);
  out[lo] = packed;
  out.set(list.subarray(lo), lo + 1);
  return out;
}

/** Adds a received chunk; returns a new decoder (the input is not changed). */
export function addChunk(decoder: ErasureDecoder, chunk: Chunk): ErasureDecoder {
  const totalWords = decoder.length >>> 1;
  const x = chunk.index;
  let points: Uint32Array[] | null = null;
  for (let i = 0; i < POLYS; i++) {
    const needed = pointsForPoly(totalWords, i);
    const list = decoder.points[i]!;
    if (x < needed || list.length < needed) {
      const y = (chunk.data[2 * i]! << 8) | chunk.data[2 * i + 1]!;
      const updated = insertPoint(list, x, y);
      if (updated !== list) {
        points ??= decoder.points.slice();
        points[i] = updated;
      }
    }
  }
  return points === null ? decoder : { length: decoder.length, points };
}

/** True once every polynomial has enough points. */
export function isDecodable(decoder: ErasureDecoder): boolean {
  const totalWords = decoder.length >>> 1;
  for (let i = 0; i < POLYS; i++) {
    if (decoder.points[i]!.length < pointsForPoly(totalWords, i)) return false;
  }
  return true;
}

/** The decoded payload, or null while chunks are missing. */
export function decodedMessage(decoder: ErasureDecoder): Uint8Array | null {
  if (!isDecodable(decoder)) return null;
  const totalWords = decoder.length >>> 1;
  const out = new Uint8Array(decoder.length);
  // Polynomials with the same node set share their basis and weights.
  let basisKey = '';
  let basis = contiguousBasis(0);
  const weightCache = new Map<number, { node: number; logWeights: Int32Array }>();
  for (let i = 0; i < POLYS; i++) {
    const n = pointsForPoly(totalWords, i);
    if (n === 0) continue;
    const list = decoder.points[i]!;
    const xs = new Uint16Array(n);
    const ys = new Uint16Array(n);
    let contiguous = true;
    for (let j = 0; j < n; j++) {
      xs[j] = list[j]! >>> 16;
      ys[j] = list[j]! & 0xffff;
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
