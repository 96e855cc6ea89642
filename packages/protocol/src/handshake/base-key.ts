/**
 * The canonicality check on an incoming PQXDH base key (shared/specs/signal-wire.md §3.1; libsignal
 * `PublicKey::is_canonical`): the 32-byte u-coordinate must have its high bit clear, be below
 * p = 2^255 − 19, and be torsion-free (a point of the prime-order subgroup). Otherwise the
 * responder fails with "incoming base key is invalid".
 *
 * libsignal decides torsion-freeness on the Edwards form (`to_edwards(0).is_torsion_free()`,
 * which fails for u = −1 and for u on the quadratic twist). Here the same question is answered on
 * the Montgomery curve with an x-only ladder: u passes iff u ∉ {0, −1} and [L]·(u, ·) is the point
 * at infinity, where L is the prime subgroup order. A u on the twist never passes, because L is
 * coprime to the twist's order, so both tests accept exactly the same keys.
 *
 * This runs once per incoming session (never per message), so plain BigInt arithmetic is used.
 * It is not constant time, which is fine: the base key is public.
 */

const P = (1n << 255n) - 19n;
/** Order of the prime subgroup, 2^252 + 27742317777372353535851937790883648493. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const A24 = 121665n; // (A − 2) / 4 with A = 486662, as in RFC 7748's ladder

const MASK = (1n << 255n) - 1n;
const TWO_P = 2n * P;

/**
 * Partial reduction mod p using 2^255 ≡ 19: for 0 ≤ a < 2^520 the result is below 2p and
 * congruent to a. Cheaper than `%` and enough inside the ladder; the final test reduces fully.
 */
function red(a: bigint): bigint {
  a = (a & MASK) + 19n * (a >> 255n);
  return (a & MASK) + 19n * (a >> 255n);
}

function uFromBytes(u: Uint8Array): bigint {
  let x = 0n;
  for (let i = 31; i >= 0; i--) x = (x << 8n) | BigInt(u[i]!);
  return x;
}

/** High bit clear and u < p (libsignal `scalar_is_in_range`). */
export function isInRange(u: Uint8Array): boolean {
  if (u.length !== 32) return false;
  if ((u[31]! & 0x80) !== 0) return false;
  return uFromBytes(u) < P;
}

/** Z of [k](u) in projective x-only coordinates (RFC 7748 §5 ladder); 0 mod p = infinity. */
function ladderZ(u: bigint, k: bigint, bits: number): bigint {
  let x2 = 1n;
  let z2 = 0n;
  let x3 = u;
  let z3 = 1n;
  let swap = 0n;
  for (let t = bits - 1; t >= 0; t--) {
    const kt = (k >> BigInt(t)) & 1n;
    if ((swap ^ kt) === 1n) {
      [x2, x3] = [x3, x2];
      [z2, z3] = [z3, z2];
    }
    swap = kt;
    // Every value stays in [0, 2p): differences add 2p first.
    const a = x2 + z2;
    const aa = red(a * a);
    const b = x2 - z2 + TWO_P;
    const bb = red(b * b);
    const e = aa - bb + TWO_P;
    const c = x3 + z3;
    const d = x3 - z3 + TWO_P;
    const da = red(d * a);
    const cb = red(c * b);
    const s = da + cb;
    const m = da - cb + TWO_P;
    x3 = red(s * s);
    z3 = red(u * red(m * m));
    x2 = red(aa * bb);
    z2 = red(e * red(aa + A24 * e));
  }
  return (swap === 1n ? z3 : z2) % P;
}

/** Whether the Montgomery u-coordinate (< p) is a point of the prime-order subgroup. */
export function isTorsionFree(u: Uint8Array): boolean {
  const x = uFromBytes(u);
  if (x === 0n || x === P - 1n || x >= P) return false;
  return ladderZ(x, L, 253) === 0n;
}

/** libsignal `PublicKey::is_canonical` on the raw 32-byte u-coordinate. */
export function isCanonicalBaseKey(u: Uint8Array): boolean {
  return isInRange(u) && isTorsionFree(u);
}
