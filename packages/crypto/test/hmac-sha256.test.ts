/**
 * The JavaScript HMAC-SHA256 / HKDF-SHA256 behind the Node backend's short inputs
 * (src/backends/hmac-sha256.ts). References: OpenSSL through `node:crypto` (`createHmac`,
 * `hkdfSync`), RFC 4231 §4 and RFC 5869 appendix A. Lengths sweep every padding case: messages
 * across several block boundaries (55/56/63/64 bytes after the 64-byte key block), keys shorter
 * than, equal to and longer than a block, all-zero keys (the precomputed state), odd part splits.
 */
import * as nodeCrypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdfSha256Js, hmacSha256Js, hmacSha256PartsJs } from '../src/backends/hmac-sha256.js';
import { nodeBackend } from '../src/backends/node.js';
import { fromHex, toHex, utf8 } from '../src/bytes.js';

/** Deterministic bytes (a counter through SHA-256), so failures reproduce. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0, block = 0; offset < length; offset += 32, block++) {
    const h = nodeCrypto.createHash('sha256').update(`${seed}:${block}`).digest();
    out.set(h.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

const opensslHmac = (key: Uint8Array, data: Uint8Array): string =>
  nodeCrypto.createHmac('sha256', key).update(data).digest('hex');

const opensslHkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, n: number): string =>
  Buffer.from(
    nodeCrypto.hkdfSync('sha256', ikm, salt.length === 0 ? new Uint8Array(32) : salt, info, n),
  ).toString('hex');

describe('JavaScript HMAC-SHA256', () => {
  it('equals OpenSSL for keys of 0..130 bytes and messages of 0..300 bytes', () => {
    for (const keyLength of [0, 1, 20, 31, 32, 33, 63, 64, 65, 100, 130]) {
      const key = bytes(keyLength, keyLength);
      for (let n = 0; n <= 300; n++) {
        const data = bytes(n, 1000 + n);
        expect(toHex(hmacSha256Js(key, data)), `key ${keyLength}, message ${n}`).toBe(
          opensslHmac(key, data),
        );
      }
    }
  });

  it('treats every all-zero key of at most 64 bytes alike, as RFC 2104 pads them', () => {
    const data = bytes(77, 7);
    for (const keyLength of [0, 1, 32, 64]) {
      expect(toHex(hmacSha256Js(new Uint8Array(keyLength), data))).toBe(
        opensslHmac(new Uint8Array(keyLength), data),
      );
    }
    // 65 zero bytes are hashed first (longer than a block), which gives a different key.
    expect(toHex(hmacSha256Js(new Uint8Array(65), data))).toBe(
      opensslHmac(new Uint8Array(65), data),
    );
  });

  it('hashes parts as their concatenation, wherever the splits fall', () => {
    const key = bytes(32, 1);
    const data = bytes(200, 2);
    for (const cuts of [[0], [1, 2, 3], [3, 67, 68], [64, 128], [5, 5, 5, 199], [200]]) {
      const parts: Uint8Array[] = [];
      let from = 0;
      for (const cut of cuts) {
        parts.push(data.subarray(from, cut));
        from = cut;
      }
      parts.push(data.subarray(from));
      expect(toHex(hmacSha256PartsJs(key, parts)), `cuts ${cuts.join(',')}`).toBe(
        opensslHmac(key, data),
      );
    }
  });

  it('matches RFC 4231 test case 6 (a 131-byte key)', () => {
    const key = new Uint8Array(131).fill(0xaa);
    expect(
      toHex(hmacSha256Js(key, utf8('Test Using Larger Than Block-Size Key - Hash Key First'))),
    ).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });

  it('leaves its inputs unchanged', () => {
    const key = bytes(40, 3);
    const data = bytes(90, 4);
    const [keyCopy, dataCopy] = [key.slice(), data.slice()];
    hmacSha256Js(key, data);
    hkdfSha256Js(data, key, key, 100);
    expect(key).toEqual(keyCopy);
    expect(data).toEqual(dataCopy);
  });
});

describe('JavaScript HKDF-SHA256', () => {
  it('matches RFC 5869 A.1 and A.3', () => {
    const a1 = hkdfSha256Js(
      new Uint8Array(22).fill(0x0b),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(a1)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    const a3 = hkdfSha256Js(
      new Uint8Array(22).fill(0x0b),
      new Uint8Array(0),
      new Uint8Array(0),
      42,
    );
    expect(toHex(a3)).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('equals OpenSSL for outputs of 1..300 bytes and varied salts, IKMs and infos', () => {
    for (const saltLength of [0, 13, 32, 64, 80]) {
      for (const infoLength of [0, 18, 35, 55, 56, 100]) {
        for (const length of [1, 31, 32, 33, 42, 64, 80, 96, 128, 129, 300]) {
          const ikm = bytes(32 + infoLength, length);
          const salt = bytes(saltLength, saltLength + 1);
          const info = bytes(infoLength, infoLength + 2);
          expect(
            toHex(hkdfSha256Js(ikm, salt, info, length)),
            `salt ${saltLength}, info ${infoLength}, length ${length}`,
          ).toBe(opensslHkdf(ikm, salt, info, length));
        }
      }
    }
  });

  it('takes a 32-byte all-zero salt as the empty salt (RFC 5869 §2.2)', () => {
    const ikm = bytes(32, 9);
    const info = utf8('Signal PQ Ratchet V1 Chain Next');
    expect(hkdfSha256Js(ikm, new Uint8Array(32), info, 64)).toEqual(
      hkdfSha256Js(ikm, new Uint8Array(0), info, 64),
    );
  });
});

describe('the Node backend around its JavaScript/OpenSSL thresholds', () => {
  it('gives OpenSSL results on both sides of each threshold', () => {
    const key = bytes(32, 11);
    for (let n = 110; n <= 130; n++) {
      const data = bytes(n, n);
      expect(toHex(nodeBackend.hmacSha256(key, data))).toBe(opensslHmac(key, data));
      expect(toHex(nodeBackend.hmacSha256Parts(key, [data.subarray(0, 7), data.subarray(7)]))).toBe(
        opensslHmac(key, data),
      );
    }
    for (const length of [120, 127, 128, 129, 160]) {
      expect(toHex(nodeBackend.hkdfSha256(key, key, key, length))).toBe(
        opensslHkdf(key, key, key, length),
      );
    }
  });
});
