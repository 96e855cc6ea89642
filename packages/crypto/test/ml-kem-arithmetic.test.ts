/**
 * The building blocks of src/ml-kem/ against independent restatements of FIPS 203:
 * - Compress/Decompress (eq. 4.7–4.8) for every x and d, ByteEncode/ByteDecode (Alg. 5–6)
 *   against a literal bit-array implementation, and the §7.2 modulus check;
 * - Barrett (every int16) and Montgomery reduction (extremes and random values) and their bounds;
 * - the zeta table against FIPS 203 Appendix A and the pq-crystals reference table;
 * - NTT / MultiplyNTTs / NTT⁻¹ against schoolbook multiplication in Z_q[X]/(X^256 + 1),
 *   including worst-case inputs for the lazy accumulation;
 * - SampleNTT (Alg. 7, including the re-squeeze when 504 XOF bytes run out) and
 *   SamplePolyCBD_2 (Alg. 8) against literal implementations;
 * - the backends' SHAKE128 (FIPS 202 examples, prefix property, backend agreement).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import { toHex, utf8 } from '../src/bytes.js';
import {
  byteDecode12,
  byteEncode12,
  compress,
  compressEncode,
  decodeDecompress,
  decompress,
  encodeMessage,
} from '../src/ml-kem/encoding.js';
import {
  barrettReduce,
  invNttFromMontgomery,
  montgomeryReduce,
  multiplyAccumulate,
  ntt,
  ZETAS,
} from '../src/ml-kem/ntt.js';
import { N, Q } from '../src/ml-kem/params.js';
import { SAMPLE_NTT_SQUEEZE_LENGTH, sampleCbd2, sampleNtt } from '../src/ml-kem/sampling.js';

/** x mod q in [0, q) for any integer. */
const modQ = (x: number): number => ((x % Q) + Q) % Q;

/** FIPS 203 Alg. 5 (ByteEncode_d) written literally over a bit array. */
function literalByteEncode(f: readonly number[], d: number): Uint8Array {
  const bits: number[] = [];
  for (const a of f) for (let j = 0; j < d; j++) bits.push(Math.floor(a / 2 ** j) % 2);
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < bits.length; i++) out[i >> 3]! += bits[i]! * 2 ** (i % 8);
  return out;
}

/** FIPS 203 Alg. 6 (ByteDecode_d) written literally, without the mod q for d = 12. */
function literalByteDecode(bytes: Uint8Array, d: number): number[] {
  const f: number[] = [];
  for (let i = 0; i < N; i++) {
    let a = 0;
    for (let j = 0; j < d; j++) {
      const bit = i * d + j;
      a += ((bytes[bit >> 3]! >> (bit % 8)) & 1) * 2 ** j;
    }
    f.push(a);
  }
  return f;
}

/** Schoolbook product in Z_q[X]/(X^256 + 1), coefficients in [0, q). */
function negacyclicProduct(f: ArrayLike<number>, g: ArrayLike<number>): number[] {
  const out = new Array<number>(N).fill(0);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const p = modQ(f[i]! * g[j]!);
      const k = i + j;
      if (k < N) out[k] = (out[k]! + p) % Q;
      else out[k - N] = modQ(out[k - N]! - p);
    }
  }
  return out;
}

const coefficient = fc.integer({ min: -(Q - 1), max: Q - 1 });
const poly = fc.array(coefficient, { minLength: N, maxLength: N }).map((a) => Int16Array.from(a));

describe('Compress / Decompress (FIPS 203 eq. 4.7, 4.8)', () => {
  it.each([1, 4, 5, 10, 11])(
    'Compress_%i(x) = round(2^d·x/q) mod 2^d for every x in [0, q)',
    (d) => {
      for (let x = 0; x < Q; x++) {
        // round(2^d·x/q) = ⌊(2^(d+1)·x + q) / 2q⌋ (q is odd, so there are no ties).
        const expected = Math.floor((2 ** (d + 1) * x + Q) / (2 * Q)) % 2 ** d;
        if (compress(x, d) !== expected) expect([x, compress(x, d)]).toEqual([x, expected]);
      }
    },
  );

  it.each([1, 4, 5, 10, 11])('Decompress_%i(y) = round(q·y/2^d) for every y < 2^d', (d) => {
    for (let y = 0; y < 2 ** d; y++) {
      expect(decompress(y, d)).toBe(Math.floor((2 * Q * y + 2 ** d) / 2 ** (d + 1)));
    }
  });

  it.each([4, 5, 10, 11])(
    'compressEncode_%i is ByteEncode_d(Compress_d(f)) for any representatives in (−q, q)',
    (d) => {
      fc.assert(
        fc.property(poly, (f) => {
          const out = new Uint8Array(32 * d + 3).fill(0xee);
          compressEncode(f, 0, d, out, 3);
          const expected = literalByteEncode(
            Array.from(f, (x) => compress(modQ(x), d)),
            d,
          );
          expect(toHex(out.subarray(3))).toBe(toHex(expected));
          expect(toHex(out.subarray(0, 3))).toBe('eeeeee');
        }),
        { numRuns: 30 },
      );
    },
  );

  it.each([4, 5, 10, 11])(
    'decodeDecompress_%i is Decompress_d(ByteDecode_d(bytes)) for any bytes',
    (d) => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32 * d, maxLength: 32 * d }), (bytes) => {
          const out = new Int16Array(N + 5);
          decodeDecompress(bytes, 0, d, out, 5);
          expect(Array.from(out.subarray(5))).toEqual(
            literalByteDecode(bytes, d).map((y) => decompress(y, d)),
          );
        }),
        { numRuns: 30 },
      );
    },
  );

  it('encodeMessage is ByteEncode_1(Compress_1(w))', () => {
    fc.assert(
      fc.property(poly, (w) => {
        const out = new Uint8Array(32);
        encodeMessage(w, 0, out);
        expect(toHex(out)).toBe(
          toHex(
            literalByteEncode(
              Array.from(w, (x) => compress(modQ(x), 1)),
              1,
            ),
          ),
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe('ByteEncode_12 / ByteDecode_12 and the modulus check (FIPS 203 §7.2)', () => {
  it('encodes any representative in (−q, q) as its value mod q', () => {
    fc.assert(
      fc.property(poly, (f) => {
        const out = new Uint8Array(384);
        byteEncode12(f, 0, N, out, 0);
        expect(toHex(out)).toBe(toHex(literalByteEncode(Array.from(f, modQ), 12)));
      }),
      { numRuns: 30 },
    );
  });

  it('decodes mod q and reports whether every value was below q', () => {
    const values = fc.array(fc.integer({ min: 0, max: 4095 }), { minLength: N, maxLength: N });
    fc.assert(
      fc.property(values, fc.boolean(), (raw, forceInRange) => {
        const f = forceInRange ? raw.map((x) => x % Q) : raw;
        const bytes = literalByteEncode(f, 12);
        const out = new Int16Array(N);
        const inRange = byteDecode12(bytes, 0, N, out, 0);
        expect(inRange).toBe(f.every((x) => x < Q));
        expect(Array.from(out)).toEqual(f.map((x) => x % Q));
      }),
      { numRuns: 60 },
    );
  });

  it('flags exactly the values q..4095 at any position', () => {
    for (const bad of [Q, Q + 1, 4095]) {
      for (const position of [0, 1, 128, 255]) {
        const f = new Array<number>(N).fill(Q - 1);
        f[position] = bad;
        expect(byteDecode12(literalByteEncode(f, 12), 0, N, new Int16Array(N), 0)).toBe(false);
        f[position] = Q - 1;
        expect(byteDecode12(literalByteEncode(f, 12), 0, N, new Int16Array(N), 0)).toBe(true);
      }
    }
  });
});

describe('Montgomery and Barrett reduction', () => {
  it('barrettReduce maps every int16 to its representative in [−(q−1)/2, (q−1)/2]', () => {
    for (let a = -32768; a < 32768; a++) {
      const r = barrettReduce(a);
      if (modQ(r - a) !== 0 || Math.abs(r) > (Q - 1) / 2) expect([a, r]).toBe('reduced');
    }
  });

  it('montgomeryReduce(a) ≡ a·2^−16 (mod q) with |result| < q for |a| < q·2^15', () => {
    const limit = Q * 2 ** 15 - 1;
    const check = (a: number): void => {
      const r = montgomeryReduce(a);
      expect(modQ(r * 2 ** 16 - a)).toBe(0);
      expect(Math.abs(r)).toBeLessThan(Q);
    };
    for (const a of [0, 1, -1, limit, -limit, Q, -Q, 2 ** 15, -(2 ** 15)]) check(a);
    fc.assert(
      fc.property(fc.integer({ min: -limit, max: limit }), (a) => check(a)),
      { numRuns: 5000 },
    );
  });
});

describe('zetas', () => {
  it('are ζ^BitRev7(i)·2^16 mod q: FIPS 203 Appendix A values, times R', () => {
    // FIPS 203 Appendix A, first row: ζ^BitRev7(i) for i = 0..7.
    const appendixA = [1, 1729, 2580, 3289, 2642, 630, 1897, 848];
    appendixA.forEach((z, i) => expect(modQ(ZETAS[i]! - z * 2 ** 16)).toBe(0));
    // pq-crystals ref/ntt.c `zetas[]` (Montgomery form, centered), first eight entries.
    expect(Array.from(ZETAS.subarray(0, 8))).toEqual([
      -1044, -758, -359, -1517, 1493, 1422, 287, 202,
    ]);
    // Every entry: ζ = 17 to the 7-bit-reversed index, computed by repeated multiplication.
    for (let i = 0; i < 128; i++) {
      let rev = 0;
      for (let b = 0; b < 7; b++) rev |= ((i >> b) & 1) << (6 - b);
      let z = 1;
      for (let e = 0; e < rev; e++) z = (z * 17) % Q;
      expect(modQ(ZETAS[i]! - z * 2 ** 16)).toBe(0);
      expect(Math.abs(ZETAS[i]!)).toBeLessThanOrEqual((Q - 1) / 2);
    }
  });
});

describe('NTT, MultiplyNTTs, NTT⁻¹ (FIPS 203 Alg. 9–12)', () => {
  /** NTT⁻¹(Σ NTT(f_j) ∘ NTT(g_j)) through the module's functions. */
  function viaNtt(fs: readonly Int16Array[], gs: readonly Int16Array[]): number[] {
    const k = fs.length;
    const a = new Int16Array(N * k);
    const b = new Int16Array(N * k);
    fs.forEach((f, j) => a.set(f, N * j));
    gs.forEach((g, j) => b.set(g, N * j));
    for (let j = 0; j < k; j++) {
      ntt(a, N * j);
      ntt(b, N * j);
    }
    for (const x of [...a, ...b]) expect(Math.abs(x)).toBeLessThanOrEqual((Q - 1) / 2);
    const out = new Int16Array(N + 7);
    multiplyAccumulate(out, 7, a, 0, b, 0, k);
    invNttFromMontgomery(out, 7);
    for (const x of out.subarray(7)) expect(Math.abs(x)).toBeLessThan(Q);
    return Array.from(out.subarray(7), modQ);
  }

  function schoolbookSum(fs: readonly Int16Array[], gs: readonly Int16Array[]): number[] {
    const sum = new Array<number>(N).fill(0);
    fs.forEach((f, j) => {
      const p = negacyclicProduct(f, gs[j]!);
      for (let i = 0; i < N; i++) sum[i] = (sum[i]! + p[i]!) % Q;
    });
    return sum;
  }

  it('multiply polynomials like schoolbook multiplication mod X^256 + 1', () => {
    fc.assert(
      fc.property(poly, poly, (f, g) => {
        expect(viaNtt([f], [g])).toEqual(negacyclicProduct(f, g));
      }),
      { numRuns: 15 },
    );
  });

  it('compute inner products of 4-vectors (the ML-KEM-1024 case)', () => {
    const vector = fc.array(poly, { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(vector, vector, (fs, gs) => {
        expect(viaNtt(fs, gs)).toEqual(schoolbookSum(fs, gs));
      }),
      { numRuns: 4 },
    );
  });

  it('multiplyAccumulate stays exact at its bounds (|a|, |b| ≤ q − 1, k = 4)', () => {
    for (const [x, y] of [
      [Q - 1, Q - 1],
      [Q - 1, -(Q - 1)],
      [-(Q - 1), -(Q - 1)],
    ] as const) {
      const a = new Int16Array(4 * N).fill(x);
      const b = new Int16Array(4 * N).fill(y);
      const out = new Int16Array(N);
      multiplyAccumulate(out, 0, a, 0, b, 0, 4);
      // Reference: Σ_j (a0 + a1X)(b0 + b1X) mod (X² − γ_i), with γ_i = ζ^(2·BitRev7(i)+1).
      for (let i = 0; i < 128; i++) {
        let rev = 0;
        for (let bit = 0; bit < 7; bit++) rev |= ((i >> bit) & 1) << (6 - bit);
        let gamma = 1;
        for (let e = 0; e < 2 * rev + 1; e++) gamma = (gamma * 17) % Q;
        const c0 = modQ(4 * (x * y + modQ(x * y) * gamma));
        const c1 = modQ(4 * 2 * x * y);
        // out carries the factor R⁻¹ = 2^−16.
        expect(modQ(out[2 * i]! * 2 ** 16 - c0)).toBe(0);
        expect(modQ(out[2 * i + 1]! * 2 ** 16 - c1)).toBe(0);
        expect(Math.abs(out[2 * i]!)).toBeLessThan(Q);
      }
    }
  });
});

/** A backend whose XOF/PRF outputs are prefixes of fixed streams; records requested lengths. */
function streamBackend(stream: Uint8Array, lengths: number[]): CryptoBackend {
  return {
    ...nobleBackend,
    shake128(_data, length) {
      lengths.push(length);
      expect(length).toBeLessThanOrEqual(stream.length);
      return stream.slice(0, length);
    },
    shake256(_data, length) {
      lengths.push(length);
      return stream.slice(0, length);
    },
  };
}

/** FIPS 203 Alg. 7 written literally over a byte stream. */
function literalSampleNtt(stream: Uint8Array): number[] {
  const a: number[] = [];
  for (let i = 0; a.length < N; i += 3) {
    const d1 = stream[i]! + 256 * (stream[i + 1]! % 16);
    const d2 = Math.floor(stream[i + 1]! / 16) + 16 * stream[i + 2]!;
    if (d1 < Q) a.push(d1);
    if (d2 < Q && a.length < N) a.push(d2);
  }
  return a;
}

describe('SampleNTT (FIPS 203 Alg. 7)', () => {
  it('parses like Alg. 7 and re-squeezes a longer output (a prefix-extension) when 504 bytes run out', () => {
    const rejectedPrefix = fc.integer({ min: 0, max: 1400 });
    const tail = fc.uint8Array({ minLength: 1200, maxLength: 1200 });
    fc.assert(
      fc.property(rejectedPrefix, tail, (prefix, rest) => {
        // 0xff bytes give candidates 4095 (rejected): long runs force one or two re-squeezes.
        const stream = new Uint8Array(4032);
        stream.fill(0xff, 0, prefix);
        stream.set(rest, prefix);
        const lengths: number[] = [];
        const out = new Int16Array(N + 1).fill(-1);
        sampleNtt(streamBackend(stream, lengths), new Uint8Array(34), out, 1);
        expect(out[0]).toBe(-1);
        expect(Array.from(out.subarray(1))).toEqual(literalSampleNtt(stream));
        expect(lengths[0]).toBe(SAMPLE_NTT_SQUEEZE_LENGTH);
        lengths.forEach((l, i) => expect(l).toBe(SAMPLE_NTT_SQUEEZE_LENGTH * 2 ** i));
        if (prefix >= 504) expect(lengths.length).toBeGreaterThan(1);
      }),
      { numRuns: 60 },
    );
  });

  it('hands the 34-byte input to the backend XOF and parses its SHAKE128 stream', () => {
    const seen: Uint8Array[] = [];
    const spy: CryptoBackend = {
      ...nodeBackend,
      shake128(data, length) {
        seen.push(data.slice());
        return nodeBackend.shake128(data, length);
      },
    };
    const input = Uint8Array.from({ length: 34 }, (_, i) => i);
    const out = new Int16Array(N);
    sampleNtt(spy, input, out, 0);
    expect(toHex(seen[0]!)).toBe(toHex(input));
    const stream = nodeBackend.shake128(input, 2016);
    expect(Array.from(out)).toEqual(literalSampleNtt(stream));
  });
});

describe('SamplePolyCBD_2 (FIPS 203 Alg. 8)', () => {
  it('equals the literal bit-level definition over PRF_2(s, b) = SHAKE256(s ‖ b, 128)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 128 }), fc.nat(255), (bytes, b) => {
        const lengths: number[] = [];
        const prfInput = new Uint8Array(33);
        const out = new Int16Array(N + 2);
        sampleCbd2(streamBackend(bytes, lengths), prfInput, b, out, 2);
        expect(lengths).toEqual([128]);
        expect(prfInput[32]).toBe(b);
        const bit = (k: number): number => (bytes[k >> 3]! >> (k % 8)) & 1;
        const expected = Array.from({ length: N }, (_, i) => {
          const x = bit(4 * i) + bit(4 * i + 1);
          const y = bit(4 * i + 2) + bit(4 * i + 3);
          return x - y;
        });
        expect(Array.from(out.subarray(2))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])('$name backend shake128', (b) => {
  it('matches the FIPS 202 examples (as listed on the SHA-3 Wikipedia page)', () => {
    expect(toHex(b.shake128(new Uint8Array(0), 32))).toBe(
      '7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26',
    );
    expect(toHex(b.shake128(utf8('The quick brown fox jumps over the lazy dog'), 32))).toBe(
      'f4202e3c5852f9182a0430fd8144f0a74b95e7417ecae17db0f8cfeed0e3e66e',
    );
    expect(b.shake128(utf8('x'), 0).length).toBe(0);
  });

  it('outputs prefixes of each other and agrees with the other backend', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 2000 }), (d, n) => {
        const long = b.shake128(d, n + 500);
        expect(toHex(b.shake128(d, n))).toBe(toHex(long.subarray(0, n)));
        const other = b === nodeBackend ? nobleBackend : nodeBackend;
        expect(toHex(other.shake128(d, n))).toBe(toHex(long.subarray(0, n)));
      }),
      { numRuns: 40 },
    );
  });
});
