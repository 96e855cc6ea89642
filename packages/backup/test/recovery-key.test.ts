// Recovery key (docs/backups.md "Recovery key"): alphabet, unbiased generation, tolerant parsing,
// checksum, and the recovery-key slot checked against an independent node:crypto computation.
import { createCipheriv, createHash, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  BackupKey,
  RecoveryKey,
  RECOVERY_KEY_SLOT_LENGTH,
  RECOVERY_KEY_SLOT_TYPE,
  openRecoveryKeySlot,
  recoveryKeySlot,
} from '../src/index.js';
import { seededRandom } from '../src/testing/index.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A deterministic byte source for reproducible keys. */
function seededBytes(seed: number): (n: number) => Uint8Array {
  const rand = seededRandom(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

const canonical = (key: RecoveryKey) => key.reveal().replace(/ /g, '');

describe('recovery key', () => {
  it('is 64 characters of 0-9a-z, shown as 16 groups of 4', () => {
    const key = RecoveryKey.generate();
    const shown = key.reveal();
    expect(shown).toMatch(/^([0-9a-z]{4} ){15}[0-9a-z]{4}$/);
    expect(canonical(key)).toHaveLength(64);
  });

  it('round-trips through its display form and tolerates case, spaces, dashes and line breaks', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const key = RecoveryKey.generate(seededBytes(seed));
        const text = canonical(key);
        const messy = `  ${text.slice(0, 20).toUpperCase()}-${text.slice(20, 40)}\n${text
          .slice(40)
          .split('')
          .join(' ')} `;
        expect(canonical(RecoveryKey.parse(key.reveal()))).toBe(text);
        expect(canonical(RecoveryKey.parse(messy))).toBe(text);
        expect(key.matches(messy)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('draws characters without modulo bias (rejection sampling)', () => {
    // 3000 keys = 186,000 random characters. With `byte % 36` and no rejection, characters
    // 0-3 would be 8/7 as likely as the rest: chi-square ≈ 260. Unbiased: chi-square ≈ 35 ± 8.
    const counts = new Array<number>(36).fill(0);
    const random = seededBytes(12345);
    for (let i = 0; i < 3000; i++) {
      const text = canonical(RecoveryKey.generate(random));
      for (let j = 0; j < 62; j++) counts[ALPHABET.indexOf(text[j]!)]!++;
    }
    const expected = (3000 * 62) / 36;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(80); // p ≈ 2e-5 for 35 degrees of freedom
  });

  it('skips bytes at or above 252 instead of reducing them', () => {
    // A source that returns 252..255 first: none of them may become a character.
    let call = 0;
    const random = (n: number) => {
      call++;
      return call === 1 ? new Uint8Array(n).fill(255) : new Uint8Array(n).fill(37);
    };
    const text = canonical(RecoveryKey.generate(random));
    expect(text.slice(0, 62)).toBe('1'.repeat(62)); // 37 % 36 = 1; no 255 % 36 = 3
    expect(call).toBe(2);
  });

  it('rejects wrong length, foreign characters and typos with BAD_RECOVERY_KEY', () => {
    const text = canonical(RecoveryKey.generate());
    const bad = (s: string) => {
      try {
        RecoveryKey.parse(s);
        return undefined;
      } catch (err) {
        expect(BackupError.is(err, 'BAD_RECOVERY_KEY')).toBe(true);
        expect(String((err as Error).message)).not.toContain(text.slice(0, 8));
        return (err as Error).message;
      }
    };
    expect(bad(text.slice(0, 63))).toMatch(/64 characters/);
    expect(bad(text.slice(0, 10) + '!' + text.slice(11))).toMatch(/character 11/);
    // Every single-character substitution, and every adjacent transposition.
    let passed = 0;
    let tried = 0;
    for (let i = 0; i < 64; i++) {
      for (const c of ALPHABET) {
        if (c === text[i]) continue;
        tried++;
        if (bad(text.slice(0, i) + c + text.slice(i + 1)) === undefined) passed++;
      }
    }
    for (let i = 0; i < 63; i++) {
      if (text[i] === text[i + 1]) continue;
      tried++;
      if (bad(text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2)) === undefined) passed++;
    }
    // A 2-character checksum lets about 1 in 1296 errors through.
    expect(passed / tried).toBeLessThan(0.01);
  });

  it('ends with the checksum docs/backups.md defines (computed here with node:crypto)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const text = canonical(RecoveryKey.generate(seededBytes(seed)));
      const digest = createHash('sha256')
        .update(`sotto-recovery-key-v1/checksum:${text.slice(0, 62)}`)
        .digest();
      const n = digest.readUInt32BE(0) % 1296;
      expect(text.slice(62)).toBe(ALPHABET[Math.floor(n / 36)]! + ALPHABET[n % 36]!);
    }
  });

  it('matches() is false for another key or garbage', () => {
    const key = RecoveryKey.generate();
    expect(key.matches(canonical(RecoveryKey.generate()))).toBe(false);
    expect(key.matches('not a key')).toBe(false);
  });

  it('never prints itself', () => {
    const key = RecoveryKey.generate();
    const text = canonical(key);
    for (const shown of [JSON.stringify({ key }), inspect(key), String(inspect({ nested: key }))]) {
      expect(shown).not.toContain(text.slice(0, 16));
      expect(shown).toContain('RecoveryKey(<secret>)');
    }
  });
});

describe('recovery-key slot', () => {
  it('matches an independent computation (HKDF-SHA256 + AES-256-GCM from node:crypto)', () => {
    const recoveryKey = RecoveryKey.generate(seededBytes(1));
    const backupKey = BackupKey.generate(seededBytes(2));
    const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const slot = recoveryKeySlot(backupKey, recoveryKey, () => nonce.slice());
    const wrapKey = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(canonical(recoveryKey)),
        Buffer.alloc(0),
        'sotto-backup-v1/recovery-key-wrap',
        32,
      ),
    );
    const cipher = createCipheriv('aes-256-gcm', wrapKey, nonce);
    cipher.setAAD(Buffer.from('sotto-backup-v1/recovery-key-slot'));
    const expected = Buffer.concat([
      nonce,
      cipher.update(backupKey.exportBytes()),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    expect(slot.type).toBe(RECOVERY_KEY_SLOT_TYPE);
    expect(slot.data).toHaveLength(RECOVERY_KEY_SLOT_LENGTH);
    expect(Buffer.from(slot.data).equals(expected)).toBe(true);
  });

  it('opens with its recovery key only', () => {
    const recoveryKey = RecoveryKey.generate();
    const backupKey = BackupKey.generate();
    const slot = recoveryKeySlot(backupKey, recoveryKey);
    expect(
      openRecoveryKeySlot([{ type: 99, data: new Uint8Array(5) }, slot], recoveryKey).equals(
        backupKey,
      ),
    ).toBe(true);
    expect(() => openRecoveryKeySlot([slot], RecoveryKey.generate())).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
    expect(() => openRecoveryKeySlot([{ type: 99, data: new Uint8Array(5) }], recoveryKey)).toThrow(
      expect.objectContaining({ code: 'NO_RECOVERY_SLOT' }),
    );
    const tampered = { type: slot.type, data: slot.data.slice() };
    tampered.data[20]! ^= 1;
    expect(() => openRecoveryKeySlot([tampered], recoveryKey)).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
  });
});

describe('backup key', () => {
  it('never prints itself and compares in constant time', () => {
    const key = BackupKey.generate(seededBytes(3));
    const hex = Buffer.from(key.exportBytes()).toString('hex');
    expect(JSON.stringify({ key })).not.toContain(hex.slice(0, 16));
    expect(inspect(key)).toBe('BackupKey(<secret>)');
    expect(key.equals(BackupKey.fromBytes(key.exportBytes()))).toBe(true);
    expect(key.equals(BackupKey.generate())).toBe(false);
    expect(() => BackupKey.fromBytes(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('is unusable after wipe()', () => {
    const key = BackupKey.generate();
    const copy = BackupKey.fromBytes(key.exportBytes());
    key.wipe();
    expect(key.exportBytes()).toEqual(new Uint8Array(32));
    expect(key.equals(copy)).toBe(false);
  });
});
