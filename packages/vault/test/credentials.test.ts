// Vault credentials (Signal-Server's external service credentials, credentials.ts): the exact
// password format, a known-answer vector per scope (the relay's issuer in packages/server is
// checked against the same vector), expiry and clock skew, constant-shape failures, and a key
// that never prints.
import { createHmac, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ApiError, formatVaultAuthorization, parseVaultAuthorization } from '@sotto/api';
import {
  VaultCredentials,
  vaultCredentialScopeKey,
  vaultCredentialSignature,
  vaultLimits,
} from '../src/index.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const ACCOUNT = '2f3c9c1e-1b7e-4c1f-9a55-7d0a2f0c1234';
const T = 1_760_000_000;
/** Computed once from the construction in the module header; packages/server tests use it too. */
const VECTORS = {
  full: `${T}:570ee373cd6bca4f680d`,
  recover: `${T}:b55cb796015224299f4a`,
} as const;

const at = (seconds: number) => () => seconds * 1000;

describe('vault credentials', () => {
  it('match the known-answer vectors of both scopes', () => {
    for (const scope of ['full', 'recover'] as const) {
      const c = new VaultCredentials({ key: KEY, now: at(T) }).issue(ACCOUNT, scope);
      expect(c).toEqual({ username: ACCOUNT, password: VECTORS[scope] });
    }
  });

  it("are Signal's construction: truncated HMAC-SHA256 over username:timestamp, in hex", () => {
    const scopeKey = Buffer.from(
      hkdfSync('sha256', KEY, new Uint8Array(0), 'sotto-vault-credential-v1/full', 32),
    );
    expect(vaultCredentialScopeKey(KEY, 'full')).toEqual(scopeKey);
    const mac = createHmac('sha256', scopeKey).update(`${ACCOUNT}:${T}`).digest();
    expect(vaultCredentialSignature(scopeKey, ACCOUNT, T)).toBe(
      mac.subarray(0, 10).toString('hex'),
    );
    expect(VECTORS.full).toMatch(/^[0-9]+:[0-9a-f]{20}$/);
  });

  it('verify to the account and scope they were issued for', () => {
    const credentials = new VaultCredentials({ key: KEY, now: at(T) });
    for (const scope of ['full', 'recover'] as const) {
      const header = formatVaultAuthorization(credentials.issue(ACCOUNT, scope));
      expect(credentials.verify(header)).toEqual({ accountId: ACCOUNT, scope });
    }
  });

  it('expire after VAULT_CREDENTIAL_MAX_AGE_MS and refuse timestamps from the future', () => {
    const header = formatVaultAuthorization({ username: ACCOUNT, password: VECTORS.full });
    const maxAge = vaultLimits.VAULT_CREDENTIAL_MAX_AGE_MS / 1000;
    const skew = vaultLimits.VAULT_CREDENTIAL_MAX_SKEW_MS / 1000;
    const verifyAt = (s: number) => new VaultCredentials({ key: KEY, now: at(s) }).verify(header);
    expect(verifyAt(T + maxAge).accountId).toBe(ACCOUNT);
    expect(verifyAt(T - skew).accountId).toBe(ACCOUNT);
    expect(() => verifyAt(T + maxAge + 1)).toThrow(/expired/);
    expect(() => verifyAt(T - skew - 1)).toThrow(ApiError);
  });

  it('refuse a wrong key, another account, a tampered signature or timestamp', () => {
    const credentials = new VaultCredentials({ key: KEY, now: at(T) });
    const other = new VaultCredentials({ key: new Uint8Array(32).fill(9), now: at(T) });
    const [ts, sig] = VECTORS.full.split(':') as [string, string];
    const tamperedSig = `${ts}:${sig.slice(0, -1)}${sig.endsWith('d') ? 'e' : 'd'}`;
    const headers = {
      'wrong key': formatVaultAuthorization(other.issue(ACCOUNT, 'full')),
      'other account': formatVaultAuthorization({
        username: ACCOUNT.replace('2f3c', '2f3d'),
        password: VECTORS.full,
      }),
      'tampered signature': formatVaultAuthorization({ username: ACCOUNT, password: tamperedSig }),
      'tampered timestamp': formatVaultAuthorization({
        username: ACCOUNT,
        password: `${Number(ts) - 1}:${sig}`,
      }),
      'upper-case hex': formatVaultAuthorization({
        username: ACCOUNT,
        password: `${ts}:${sig.toUpperCase()}`,
      }),
      empty: undefined,
      garbage: 'Basic %%%',
      huge: `Basic ${'A'.repeat(10_000)}`,
    };
    for (const [name, header] of Object.entries(headers)) {
      let err: unknown;
      try {
        credentials.verify(header);
      } catch (e) {
        err = e;
      }
      expect(ApiError.is(err, 'VAULT_CREDENTIAL_INVALID'), name).toBe(true);
      // The answer never repeats the header.
      expect((err as Error).message).not.toContain(sig);
    }
  });

  it('parse the header strictly', () => {
    const parsed = parseVaultAuthorization(
      formatVaultAuthorization({ username: ACCOUNT, password: VECTORS.recover }),
    );
    expect(parsed).toEqual({
      username: ACCOUNT,
      timestampSeconds: T,
      signatureHex: VECTORS.recover.split(':')[1],
    });
    expect(() =>
      parseVaultAuthorization(
        formatVaultAuthorization({ username: 'a:b', password: VECTORS.full }),
      ),
    ).toThrow(ApiError);
  });

  it('need a 32-byte key and never print it', () => {
    expect(() => new VaultCredentials({ key: new Uint8Array(31) })).toThrow(RangeError);
    const credentials = new VaultCredentials({ key: KEY });
    const shown = `${inspect(credentials)} ${JSON.stringify({ credentials })} ${String(credentials)}`;
    expect(shown).toContain('[VaultCredentials]');
    expect(shown).not.toMatch(/0,1,2|000102/);
  });
});
