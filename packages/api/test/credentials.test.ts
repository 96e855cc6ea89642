import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError, formatAuthorization, parseAuthorization } from '../src/index.js';

describe('Authorization header', () => {
  it('is HTTP Basic with user <accountId>.<deviceId> and the base64url credential', () => {
    const accountId = randomUUID();
    const credential = randomBytes(32);
    const header = formatAuthorization({ accountId, deviceId: 3, credential });
    const expected = `Basic ${Buffer.from(`${accountId}.3:${credential.toString('base64url')}`).toString('base64')}`;
    expect(header).toBe(expected);
    const parsed = parseAuthorization(header);
    expect(parsed.accountId).toBe(accountId);
    expect(parsed.deviceId).toBe(3);
    expect(Buffer.from(parsed.credential).equals(credential)).toBe(true);
  });

  it('refuses malformed headers without echoing them', () => {
    const accountId = randomUUID();
    const cred = randomBytes(32).toString('base64url');
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    const bad = [
      undefined,
      '',
      'Bearer x',
      basic(`${accountId}:${cred}`),
      basic(`${accountId}.0:${cred}`),
      basic(`${accountId}.128:${cred}`),
      basic(`${accountId}.01:${cred}`),
      basic(`${accountId.toUpperCase()}.1:${cred}`),
      basic(`${accountId}.1:${cred.slice(1)}`),
      basic(`${accountId}.1:${randomBytes(31).toString('base64url')}`),
      `Basic ${'A'.repeat(200)}`,
      'Basic ****',
    ];
    for (const h of bad) {
      try {
        parseAuthorization(h);
        expect.unreachable(String(h));
      } catch (e) {
        expect(ApiError.is(e, 'UNAUTHENTICATED')).toBe(true);
        expect((e as Error).message).not.toContain(cred);
      }
    }
  });

  it('throws only UNAUTHENTICATED on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        for (const h of [s, `Basic ${s}`, `Basic ${Buffer.from(s).toString('base64')}`]) {
          try {
            parseAuthorization(h);
          } catch (e) {
            expect(ApiError.is(e, 'UNAUTHENTICATED')).toBe(true);
          }
        }
      }),
    );
  });
});
