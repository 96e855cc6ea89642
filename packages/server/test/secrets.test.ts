// The server secret never prints; MACs are domain-separated HMAC-SHA256 (checked against WebCrypto,
// an independent implementation); codes are six uniformly drawn digits; numbers are canonical E.164.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ApiError } from '@sotto/api';
import { ServerSecret } from '../src/index.js';
import { canonicalPhoneNumber } from '../src/phone-number.js';
import { constantTimeEqual, newVerificationCode } from '../src/secrets.js';

describe('server secret', () => {
  it('never shows its key in JSON, inspect or string form', () => {
    const key = randomBytes(32);
    const secret = new ServerSecret(key);
    const shown = [
      JSON.stringify({ secret }),
      inspect(secret),
      inspect({ nested: secret }, { depth: 5 }),
      String(secret),
    ];
    for (const s of shown) {
      expect(s).not.toContain(key.toString('hex'));
      expect(s).not.toContain(key.toString('base64'));
    }
    expect(JSON.stringify({ secret })).toBe('{"secret":"[ServerSecret]"}');
  });

  it('computes HMAC-SHA256(key, purpose ‖ 0 ‖ data), matching WebCrypto', async () => {
    const key = randomBytes(32);
    const secret = new ServerSecret(key);
    const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const expected = Buffer.from(
      await crypto.subtle.sign(
        'HMAC',
        k,
        Buffer.from('verification-code\0+14155550100\u0000123456'),
      ),
    );
    expect(secret.mac('verification-code', '+14155550100\u0000123456').equals(expected)).toBe(true);
    // Different purposes never collide for the same data.
    expect(secret.key('number-key', 'x')).not.toBe(secret.key('rate-limit', 'x'));
  });

  it('refuses short keys', () => {
    expect(() => new ServerSecret(randomBytes(31))).toThrow(RangeError);
  });

  it('compares in constant time and treats different lengths as unequal', () => {
    const a = randomBytes(32);
    expect(constantTimeEqual(a, Buffer.from(a))).toBe(true);
    expect(constantTimeEqual(a, a.subarray(0, 31))).toBe(false);
    const b = Buffer.from(a);
    b[31]! ^= 1;
    expect(constantTimeEqual(a, b)).toBe(false);
  });

  it('draws six-digit codes covering every digit position', () => {
    const seen = Array.from({ length: 6 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      const code = newVerificationCode();
      expect(code).toMatch(/^[0-9]{6}$/);
      for (let j = 0; j < 6; j++) seen[j]!.add(code[j]!);
    }
    for (const s of seen) expect(s.size).toBe(10);
  });
});

describe('phone numbers', () => {
  it('accepts real numbers in canonical E.164 only', () => {
    for (const n of ['+14155550100', '+4915112345678', '+33612345678', '+447911123456']) {
      expect(canonicalPhoneNumber(n)).toBe(n);
    }
    for (const n of [
      '+10000000000',
      '+1415555010',
      '+999123456789',
      '+1 415 555 0100',
      '14155550100',
      '+1-415-555-0100',
    ]) {
      expect(() => canonicalPhoneNumber(n), n).toThrow(ApiError);
    }
  });
});
