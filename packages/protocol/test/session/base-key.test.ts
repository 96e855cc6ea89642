/**
 * The torsion check of src/handshake/base-key.ts answers "is [L]·u the point at infinity?" with
 * one X25519 by k = 5L − 1. Checked here two ways: the number theory its header relies on, and
 * agreement with a plain RFC 7748 Montgomery ladder computing [L]·u directly (written here with
 * BigInt), on random u-coordinates (half on the curve, half on the twist; one in eight curve
 * points is torsion-free) and on the special points. Both backends are exercised.
 */
import { describe, expect, it } from 'vitest';
import { nobleBackend, nodeBackend, randomBytes, useBackend } from '@sotto/crypto';
import { isCanonicalBaseKey, isTorsionFree } from '../../src/hazmat.js';

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
/** Order of the twist's large prime subgroup: #twist = 2(p + 1) − 8L = 4L'. */
const L_TWIST = (P + 1n - 4n * L) / 2n;

const mod = (a: bigint): bigint => ((a % P) + P) % P;

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Z of [k]·u by the RFC 7748 §5 ladder (unclamped k); 0 means the point at infinity. */
function ladderZ(u: bigint, k: bigint): bigint {
  let [x2, z2, x3, z3] = [1n, 0n, u, 1n];
  let swap = 0n;
  for (let t = 255; t >= 0; t--) {
    const bit = (k >> BigInt(t)) & 1n;
    if ((swap ^ bit) === 1n) [x2, x3, z2, z3] = [x3, x2, z3, z2];
    swap = bit;
    const a = mod(x2 + z2);
    const b = mod(x2 - z2);
    const [aa, bb] = [mod(a * a), mod(b * b)];
    const e = mod(aa - bb);
    const da = mod(mod(x3 - z3) * a);
    const cb = mod(mod(x3 + z3) * b);
    x3 = mod((da + cb) ** 2n);
    z3 = mod(u * mod((da - cb) ** 2n));
    x2 = mod(aa * bb);
    z2 = mod(e * mod(aa + 121665n * e));
  }
  return swap === 1n ? z3 : z2;
}

const le = (v: bigint): Uint8Array =>
  Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

function reference(u: bigint): boolean {
  return u !== 0n && u !== P - 1n && u < P && ladderZ(u, L) === 0n;
}

describe('base key torsion check by X25519(5L − 1, u)', () => {
  it('rests on k = 5L − 1 being a clamped scalar ≡ −1 (mod L) with the stated gcds', () => {
    const k = 5n * L - 1n;
    expect(k % 8n).toBe(0n);
    expect(k >> 254n).toBe(1n); // bit 254 set, bit 255 clear
    expect((k + 1n) % L).toBe(0n);
    expect(2n * (P + 1n) - 8n * L).toBe(4n * L_TWIST);
    expect(gcd(5n * L - 2n, 8n * L)).toBe(1n);
    expect(gcd(5n * L, 8n * L)).toBe(L);
    expect(gcd(5n * L - 2n, L_TWIST)).toBe(1n);
    expect(gcd(5n * L, L_TWIST)).toBe(1n);
  });

  for (const backend of [nodeBackend, nobleBackend]) {
    it(`agrees with the [L]·u ladder on random and special u (${backend.name} backend)`, () => {
      const previous = useBackend(backend);
      try {
        const special = [0n, 1n, 2n, 9n, P - 1n, P - 2n, P - 9n];
        const random: bigint[] = [];
        const count = backend.name === 'node' ? 300 : 40;
        while (random.length < count) {
          const r = randomBytes(32);
          r[31]! &= 0x7f;
          let u = 0n;
          for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(r[i]!);
          if (u < P) random.push(u);
        }
        let accepted = 0;
        for (const u of [...special, ...random]) {
          const expected = reference(u);
          expect(isTorsionFree(le(u)), `u = ${u}`).toBe(expected);
          if (expected) accepted++;
        }
        // About 1 in 16 random u passes; make sure both outcomes were exercised.
        expect(accepted).toBeGreaterThan(0);
        expect(accepted).toBeLessThan(random.length);
        // Ordinary public keys ([8c]·B multiples) always pass.
        for (let i = 0; i < 5; i++) {
          expect(isCanonicalBaseKey(backend.x25519PublicKey(randomBytes(32)))).toBe(true);
        }
      } finally {
        useBackend(previous);
      }
    });
  }
});
