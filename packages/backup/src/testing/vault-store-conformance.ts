/**
 * The VaultStore port's conformance suite (CONVENTIONS.md test layer 5). Every adapter runs it:
 * `describeVaultStoreConformance('sqlite', () => openSqliteVaultStore(':memory:'))`. It checks the
 * promises the vault core relies on for the guess limit: compare-and-set is atomic (exactly one
 * of many concurrent writers with the same expected revision wins), creation is exclusive,
 * revisions are never reused (no ABA), keys are isolated, stored bytes round-trip and are not
 * shared with the caller, and the server setup is first-writer-wins.
 */
import { randomBytes, toHex } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import type { VaultRecord, VaultRecordKey, VaultStore } from '../vault/vault-store.js';

const rev = () => toHex(randomBytes(16));

function record(overrides: Partial<VaultRecord> = {}): VaultRecord {
  return {
    status: 'active',
    registrationId: 'AAECAwQFBgcICQoLDA0ODw',
    registrationRecord: 'cmVnaXN0cmF0aW9uLXJlY29yZA',
    wrappedSecret: randomBytes(61),
    clientParams: '{"v":1,"keyStretching":"memory-constrained"}',
    failedAttempts: 0,
    lastAttemptAtMs: 0,
    updatedAtMs: 1_750_000_000_000,
    ...overrides,
  };
}

export function describeVaultStoreConformance(name: string, open: () => Promise<VaultStore>): void {
  describe(`vault store conformance: ${name}`, () => {
    let counter = 0;
    const key = (purpose: VaultRecordKey['purpose'] = 'backup'): VaultRecordKey => ({
      accountId: `acct-${Date.now()}-${++counter}-${toHex(randomBytes(4))}`,
      purpose,
    });

    it('keeps the first server setup saved, also under concurrency', async () => {
      const store = await open();
      const before = await store.loadServerSetup();
      const candidates = Array.from(
        { length: 16 },
        (_, i) => `setup-${i}-${toHex(randomBytes(8))}`,
      );
      const results = await Promise.all(candidates.map((c) => store.saveServerSetupIfAbsent(c)));
      const winner = before ?? results[0]!;
      expect(new Set(results)).toEqual(new Set([winner]));
      expect(await store.loadServerSetup()).toBe(winner);
      expect(await store.saveServerSetupIfAbsent('another')).toBe(winner);
    });

    it('creates a record only where none exists and round-trips every field', async () => {
      const store = await open();
      const k = key();
      expect(await store.get(k)).toBeUndefined();
      const r = record({ failedAttempts: 7, lastAttemptAtMs: 1_760_000_000_123, clientParams: '' });
      const r1 = rev();
      expect(await store.compareAndSet(k, undefined, r1, r)).toBe(true);
      const got = await store.get(k);
      expect(got?.revision).toBe(r1);
      expect(got?.record).toEqual(r);
      expect(got?.record.wrappedSecret).toBeInstanceOf(Uint8Array);
      expect(await store.compareAndSet(k, undefined, rev(), record())).toBe(false);
      expect((await store.get(k))?.record).toEqual(r);
    });

    it('round-trips a destroyed tombstone with empty fields', async () => {
      const store = await open();
      const k = key('pin-master-key');
      const tomb = record({
        status: 'destroyed',
        registrationId: '',
        registrationRecord: '',
        wrappedSecret: new Uint8Array(0),
        clientParams: '',
        failedAttempts: 10,
      });
      expect(await store.compareAndSet(k, undefined, rev(), tomb)).toBe(true);
      expect((await store.get(k))?.record).toEqual(tomb);
    });

    it('updates only from the current revision', async () => {
      const store = await open();
      const k = key();
      const r1 = rev();
      await store.compareAndSet(k, undefined, r1, record());
      const r2 = rev();
      const next = record({ failedAttempts: 1 });
      expect(await store.compareAndSet(k, r1, r2, next)).toBe(true);
      expect(await store.compareAndSet(k, r1, rev(), record({ failedAttempts: 5 }))).toBe(false);
      const got = await store.get(k);
      expect(got?.revision).toBe(r2);
      expect(got?.record.failedAttempts).toBe(1);
    });

    it('lets exactly one of many concurrent writers with the same revision win', async () => {
      const store = await open();
      const k = key();
      const r1 = rev();
      await store.compareAndSet(k, undefined, r1, record());
      const attempts = Array.from({ length: 32 }, (_, i) =>
        store.compareAndSet(k, r1, rev(), record({ failedAttempts: i + 1 })),
      );
      const results = await Promise.all(attempts);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.get(k))?.record.failedAttempts).toBe(winner + 1);
    });

    it('lets exactly one of many concurrent creators win', async () => {
      const store = await open();
      const k = key();
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          store.compareAndSet(k, undefined, rev(), record({ failedAttempts: i })),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('deletes only from the current revision, and never reuses a revision', async () => {
      const store = await open();
      const k = key();
      const r1 = rev();
      await store.compareAndSet(k, undefined, r1, record());
      expect(await store.compareAndDelete(k, rev())).toBe(false);
      expect(await store.compareAndDelete(k, r1)).toBe(true);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.compareAndDelete(k, r1)).toBe(false);
      // Re-created: the stale revision r1 must not match the new record.
      const r2 = rev();
      await store.compareAndSet(k, undefined, r2, record({ failedAttempts: 2 }));
      expect(await store.compareAndSet(k, r1, rev(), record({ failedAttempts: 9 }))).toBe(false);
      expect(await store.compareAndDelete(k, r1)).toBe(false);
      expect((await store.get(k))?.record.failedAttempts).toBe(2);
    });

    it('keeps accounts and purposes apart', async () => {
      const store = await open();
      const backup = key('backup');
      const pin: VaultRecordKey = { accountId: backup.accountId, purpose: 'pin-master-key' };
      const other: VaultRecordKey = { accountId: `${backup.accountId}x`, purpose: 'backup' };
      await store.compareAndSet(backup, undefined, rev(), record({ failedAttempts: 3 }));
      expect(await store.get(pin)).toBeUndefined();
      expect(await store.get(other)).toBeUndefined();
      await store.compareAndSet(pin, undefined, rev(), record({ failedAttempts: 4 }));
      expect((await store.get(backup))?.record.failedAttempts).toBe(3);
      expect((await store.get(pin))?.record.failedAttempts).toBe(4);
    });

    it('accepts account ids with + : . _ - characters', async () => {
      const store = await open();
      for (const accountId of [
        '+14155550100',
        'PNI:2f3c9c1e-1b7e-4c1f-9a55-7d0a2f0c1234',
        'a.b_c-d',
      ]) {
        const k: VaultRecordKey = { accountId, purpose: 'backup' };
        expect(await store.compareAndSet(k, undefined, rev(), record())).toBe(true);
        expect(await store.get(k)).toBeDefined();
      }
    });

    it('does not share byte arrays with the caller', async () => {
      const store = await open();
      const k = key();
      const r = record();
      const original = Uint8Array.from(r.wrappedSecret);
      await store.compareAndSet(k, undefined, rev(), r);
      r.wrappedSecret.fill(0);
      const got = await store.get(k);
      expect(got?.record.wrappedSecret).toEqual(original);
      got!.record.wrappedSecret.fill(1);
      expect((await store.get(k))?.record.wrappedSecret).toEqual(original);
    });
  });
}
