/**
 * The canonicality check on an incoming PQXDH base key (shared/specs/signal-wire.md §3.1; libsignal
 * `PublicKey::is_canonical`): the 32-byte u-coordinate must have its high bit clear, be below
 * p = 2^255 − 19, and be torsion-free (a point of the prime-order subgroup). Otherwise the
 * responder fails with "incoming base key is invalid".
 *
 * libsignal decides torsion-freeness on the Edwards form (`to_edwards(0).is_torsion_free()`,
 * which fails for u = −1 and for u on the quadratic twist). Here the same question is answered
 * with one X25519 call (RFC 7748 §5), by the scalar k = 5L − 1, where L is the prime subgroup
 * order. k is already a clamped scalar (k ≡ 0 mod 8, 2^254 ≤ k < 2^255), so X25519 uses it as is,
 * and k ≡ −1 (mod L). For u ∉ {0, −1} below p:
 * - u on the curve, of order d | 8L (the curve group is cyclic of order 8L): [k]P has the u of P
 *   iff [k ∓ 1]P = O iff d divides 5L − 2 or 5L. gcd(5L, 8L) = L and gcd(5L − 2, 8L) = 1, so
 *   exactly the points of order L pass. A torsion component is killed by the factor 8 of k, so
 *   such a point maps to a different u (or to the all-zero output, which X25519 refuses).
 * - u on the twist, of order d | 4L' (L' = (p + 1 − 4L)/2): 5L − 2 and 5L are odd and coprime
 *   to L', so no twist point passes.
 * Both facts are checked numerically by the tests, which also compare against a plain
 * Montgomery-ladder computation of [L]·u. One X25519 costs about 50 µs (OpenSSL in Node), against
 * about 0.7 ms for a BigInt ladder. The base key is public, so timing does not matter here.
 */
import { CryptoError, x25519 } from '@sotto/crypto';

/** p = 2^255 − 19, little-endian. */
const P_BYTES = Uint8Array.from({ length: 32 }, (_, i) =>
  i === 0 ? 0xed : i === 31 ? 0x7f : 0xff,
);

/** k = 5L − 1 as a little-endian X25519 scalar (see the header). */
const MINUS_ONE_MOD_L = Uint8Array.from(
  'a023cdd083ef5bb82f10d62e59e15a6800000000000000000000000000000050'.match(/../g)!,
  (h) => parseInt(h, 16),
);

/** Compares little-endian 32-byte numbers: negative, zero or positive like `a − b`. */
function compareLe(a: Uint8Array, b: Uint8Array): number {
  for (let i = 31; i >= 0; i--) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return 0;
}

/** u = p − 1 (that is, −1), which has no Edwards image. */
function isMinusOne(u: Uint8Array): boolean {
  if (u[0] !== 0xec || u[31] !== 0x7f) return false;
  for (let i = 1; i < 31; i++) if (u[i] !== 0xff) return false;
  return true;
}

function isZero(u: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (u[i] !== 0) return false;
  return true;
}

/** High bit clear and u < p (libsignal `scalar_is_in_range`). */
export function isInRange(u: Uint8Array): boolean {
  if (u.length !== 32) return false;
  if ((u[31]! & 0x80) !== 0) return false;
  return compareLe(u, P_BYTES) < 0;
}

/** Whether the Montgomery u-coordinate (< p) is a point of the prime-order subgroup. */
export function isTorsionFree(u: Uint8Array): boolean {
  if (u.length !== 32 || compareLe(u, P_BYTES) >= 0 || isZero(u) || isMinusOne(u)) return false;
  let image: Uint8Array;
  try {
    image = x25519(MINUS_ONE_MOD_L, u);
  } catch (err) {
    if (CryptoError.is(err)) return false; // the all-zero output: a point of small order
    throw err;
  }
  return compareLe(image, u) === 0;
}

/** libsignal `PublicKey::is_canonical` on the raw 32-byte u-coordinate. */
export function isCanonicalBaseKey(u: Uint8Array): boolean {
  return isInRange(u) && isTorsionFree(u);
}
