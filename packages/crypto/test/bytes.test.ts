/** Byte helpers, argument checks and the error class. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abytes, anumber } from '../src/assert.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';

describe('hex', () => {
  it('round-trips any bytes and matches Buffer’s encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toHex(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('hex'));
        expect(bytesEqual(fromHex(text), bytes)).toBe(true);
        expect(bytesEqual(fromHex(text.toUpperCase()), bytes)).toBe(true);
      }),
    );
  });
  it('rejects odd lengths and non-hex digits with BAD_LENGTH', () => {
    for (const bad of ['a', 'abc', 'zz', '0g', ' 0', '0x00', '-1']) {
      expect(() => fromHex(bad)).toThrow(CryptoError);
      try {
        fromHex(bad);
      } catch (err) {
        expect(CryptoError.is(err, 'BAD_LENGTH')).toBe(true);
      }
    }
    expect(fromHex('').length).toBe(0);
  });
});

describe('concatBytes / bytesEqual / utf8', () => {
  it('concatenates in order', () => {
    expect(toHex(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)))).toBe(
      '010203',
    );
    expect(concatBytes().length).toBe(0);
  });
  it('rejects non-bytes', () => {
    expect(() => concatBytes('ab' as unknown as Uint8Array)).toThrow(/part must be a Uint8Array/);
  });
  it('bytesEqual compares lengths and contents', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
  });
  it('utf8 encodes like Buffer', () => {
    const s = 'Sotto · 秘密 · 🔒';
    expect(toHex(utf8(s))).toBe(Buffer.from(s, 'utf8').toString('hex'));
  });
});

describe('CryptoError', () => {
  it('is() narrows by class and optionally by code', () => {
    const err = new CryptoError('BAD_TAG', 'nope', { cause: new Error('inner') });
    expect(CryptoError.is(err)).toBe(true);
    expect(CryptoError.is(err, 'BAD_TAG')).toBe(true);
    expect(CryptoError.is(err, 'BAD_DH')).toBe(false);
    expect(CryptoError.is(new Error('x'))).toBe(false);
    expect(CryptoError.is(undefined)).toBe(false);
    expect(err.name).toBe('CryptoError');
    expect(err.cause).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(Error);
  });
  it('argument errors name the argument and its expected length, never its value', () => {
    const secret = new Uint8Array(31).fill(0xab);
    let message = '';
    try {
      abytes(secret, 32, 'privateKey');
    } catch (err) {
      expect(CryptoError.is(err, 'BAD_LENGTH')).toBe(true);
      message = (err as Error).message;
    }
    expect(message).toBe('privateKey must be 32 bytes, got 31');
    expect(() => abytes('x', undefined, 'data')).toThrow('data must be a Uint8Array');
    expect(() => anumber(1.5, 0, 10, 'length')).toThrow('length must be an integer in [0, 10]');
    expect(() => anumber(11, 0, 10, 'length')).toThrow(CryptoError);
    expect(() => abytes(new Uint8Array(32), 32, 'key')).not.toThrow();
  });
});
