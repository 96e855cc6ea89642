// The encoders are checked against Node's Buffer (an independent implementation) and for
// strictness: every value has exactly one accepted text form.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  base64Length,
  base64UrlLength,
  fromBase64,
  fromBase64Url,
  isUuid,
  toBase64,
  toBase64Url,
  uuidFromBytes,
  uuidToBytes,
} from '../src/index.js';

describe('base64', () => {
  it('matches Buffer for any bytes, both alphabets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const std = Buffer.from(bytes).toString('base64');
        const url = Buffer.from(bytes).toString('base64url');
        expect(toBase64(bytes)).toBe(std);
        expect(toBase64Url(bytes)).toBe(url);
        expect(fromBase64(std)).toEqual(bytes);
        expect(fromBase64Url(url)).toEqual(bytes);
        expect(std.length).toBe(base64Length(bytes.length));
        expect(url.length).toBe(base64UrlLength(bytes.length));
      }),
    );
  });

  it('refuses non-canonical and malformed text', () => {
    for (const bad of ['A', 'AB', 'AB=', 'AB=A', 'AB==AB==', 'QR==', 'QUF=', '****', 'QUFB\n']) {
      expect(() => fromBase64(bad), bad).toThrow(ApiError);
    }
    for (const bad of ['A', 'QR', 'QUF', 'QUE=', 'a+b/', 'é']) {
      expect(() => fromBase64Url(bad), bad).toThrow(ApiError);
    }
  });

  it('never throws anything but ApiError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        for (const f of [fromBase64, fromBase64Url]) {
          try {
            const out = f(s);
            // Whatever decodes must re-encode to the same text (canonical form).
            expect(f === fromBase64 ? toBase64(out) : toBase64Url(out)).toBe(s);
          } catch (e) {
            expect(e).toBeInstanceOf(ApiError);
          }
        }
      }),
    );
  });
});

describe('uuid', () => {
  it('round-trips Node UUIDs through 16 bytes', () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      const bytes = uuidToBytes(id);
      expect(Buffer.from(bytes).toString('hex')).toBe(id.replaceAll('-', ''));
      expect(uuidFromBytes(bytes)).toBe(id);
    }
  });

  it('accepts only the canonical lowercase form', () => {
    const id = randomUUID();
    expect(isUuid(id)).toBe(true);
    expect(isUuid(id.toUpperCase())).toBe(id === id.toUpperCase());
    expect(isUuid(id.replaceAll('-', ''))).toBe(false);
    expect(() => uuidToBytes(`${id}0`)).toThrow(ApiError);
  });
});
