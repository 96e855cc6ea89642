/**
 * XEdDSA over Curve25519, libsignal's variant (signal-wire.md §4; libsignal
 * `rust/core/src/curve/curve25519.rs`): signatures by X25519 keys that verify as Ed25519.
 *
 * Sign (k = clamped private key), exactly as libsignal's `calculate_signature`: `a = k mod L`,
 * `A = aB`, `r = SHA-512(0xFE ‖ 0xFF×31 ‖ k ‖ msg ‖ Z) mod L` for 64 random bytes Z, `R = rB`,
 * `h = SHA-512(R ‖ A ‖ msg) mod L`, `s = h·a + r mod L`; `sig = R ‖ s` with A's sign bit stored in
 * the top bit of sig[63]. Unlike the XEdDSA paper, `a` is NOT negated. Given the same Z the
 * signature is byte-identical to libsignal's.
 *
 * Verify, exactly as libsignal's `verify_signature`: A = the Edwards point of the Montgomery u
 * with `y = (u − 1)/(u + 1)` and the sign bit from sig[63] (curve25519-dalek's `to_edwards`); clear
 * that bit; reject `s[31] & 0xE0`; take s mod L (so, as in libsignal and unlike RFC 8032, s + L is
 * accepted); accept iff `encode([s]B − [h]A) == R` byte for byte (cofactorless).
 *
 * The curve arithmetic is this package's own BigInt-free code in `hazmat/` (fixed-base comb for
 * signing, Straus double-base for verifying), shared by both backends; only SHA-512 comes from the
 * backend. Verification is the Ed25519 equation on the mapped key, so where the backend's Ed25519
 * verifier is OpenSSL, a key's first verifications (with s < L) go to it (docs/crypto.md, "Which
 * verifier runs"). Per-key derived values (A and its sign bit for a private key; the Edwards form
 * and tables of a Montgomery key) are cached in small LRUs, since sender-key chains sign and verify
 * with one key repeatedly. The private-key cache is keyed by a labelled SHA-256 of the key, never by the key
 * itself.
 */
import { activeBackend } from './active-backend.js';
import { abytes } from './assert.js';
import { BoundedCache, bytesKey } from './bounded-cache.js';
import {
  type VerifyingPoint,
  expandVerifyingPoint,
  prepareVerifyingPoint,
  verifyEquation,
} from './hazmat/ed25519-double-base.js';
import { ed25519FixedBaseMultiply } from './hazmat/ed25519-fixed-base.js';
import { edwardsFromMontgomery } from './hazmat/edwards25519.js';
import { scalarMulAdd, scalarReduce } from './hazmat/scalar25519.js';

export const XEDDSA_SIGNATURE_LENGTH = 64;

/** Domain separator of the nonce hash: 0xFE ‖ 0xFF×31 (hash_1 of the XEdDSA paper). */
const NONCE_PREFIX = new Uint8Array(32).fill(0xff);
NONCE_PREFIX[0] = 0xfe;

/** How many keys' derived values to remember (sender-key chains, identity keys). */
const KEY_CACHE_SIZE = 128;

interface SigningKey {
  /** Encoded Edwards public key A = aB (sign bit included). */
  readonly edwardsPublic: Uint8Array;
  readonly signBit: number;
}

const signingKeys = new BoundedCache<SigningKey>(KEY_CACHE_SIZE);
/** Montgomery u ‖ sign bit -> its Edwards form for verification. */
const verifyingKeys = new BoundedCache<VerifyingKey>(KEY_CACHE_SIZE);

/** Scratch for the scalars r and h (32 bytes each), wiped after every signature. */
const scalarR = new Uint8Array(32);
const scalarH = new Uint8Array(32);

function clamp(privateKey: Uint8Array): Uint8Array {
  const k = privateKey.slice();
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/** Domain label of the signing-key cache fingerprint. */
const FINGERPRINT_LABEL = new TextEncoder().encode('Sotto XEdDSA signing-key cache v1');

/**
 * A = k·B (= (k mod L)·B) and its sign bit for a clamped private key k, cached by a labelled
 * SHA-256 of the key.
 */
function signingKey(k: Uint8Array): SigningKey {
  const input = new Uint8Array(FINGERPRINT_LABEL.length + 32);
  input.set(FINGERPRINT_LABEL, 0);
  input.set(k, FINGERPRINT_LABEL.length);
  const fingerprint = bytesKey(activeBackend().sha256(input));
  input.fill(0);
  let key = signingKeys.get(fingerprint);
  if (key === undefined) {
    const edwardsPublic = ed25519FixedBaseMultiply(k);
    key = { edwardsPublic, signBit: edwardsPublic[31]! & 0x80 };
    signingKeys.set(fingerprint, key);
  }
  return key;
}

/**
 * Signs `message` with a 32-byte X25519 private key (clamped here, as libsignal clamps on
 * deserialize) using 64 bytes of fresh randomness `random64`. Returns the 64-byte signature.
 *
 * Exactly signal-wire.md §4 (libsignal's `calculate_signature`), so for the same `random64` the
 * signature is byte-identical to libsignal's: `r = SHA-512(0xFE ‖ 0xFF×31 ‖ k ‖ msg ‖ Z) mod L`,
 * `R = r·B`, `h = SHA-512(R ‖ A ‖ msg) mod L`, `s = h·a + r mod L`, `sig = R ‖ s` with A's sign
 * bit in bit 7 of sig[63]. `r·B` and `A = k·B` use `hazmat/ed25519-fixed-base.ts`, the scalar
 * steps `hazmat/scalar25519.ts`; neither uses BigInt.
 */
export function xeddsaSign(
  privateKey: Uint8Array,
  message: Uint8Array,
  random64: Uint8Array,
): Uint8Array<ArrayBuffer> {
  abytes(privateKey, 32, 'privateKey');
  abytes(message, undefined, 'message');
  abytes(random64, 64, 'random64');
  const backend = activeBackend();
  const k = clamp(privateKey);
  const key = signingKey(k);

  const nonceHash = backend.sha512Parts([NONCE_PREFIX, k, message, random64]);
  scalarReduce(nonceHash, scalarR);
  nonceHash.fill(0);
  const R = ed25519FixedBaseMultiply(scalarR);

  const hHash = backend.sha512Parts([R, key.edwardsPublic, message]);
  scalarReduce(hHash, scalarH);
  const signature = new Uint8Array(XEDDSA_SIGNATURE_LENGTH);
  signature.set(R, 0);
  // s = h·a + r mod L with a = k mod L; scalarMulAdd reduces h·k + r itself.
  scalarMulAdd(signature, 32, scalarH, k, scalarR);
  k.fill(0);
  scalarR.fill(0);
  scalarH.fill(0);
  signature[63] = signature[63]! | key.signBit;
  return signature;
}

/**
 * A Montgomery key's Edwards form as XEdDSA verification needs it, cached per (u, sign bit).
 * `encoded` is null when u has no Edwards image (u = −1).
 */
interface VerifyingKey {
  readonly encoded: Uint8Array | null;
  /** The decoded point and its tables once built; null if `encoded` is not a curve point. */
  point: VerifyingPoint | null | undefined;
  /** Verifications with this key so far. */
  uses: number;
}

/**
 * With a native Ed25519 verifier (OpenSSL), a key's first verifications go through it: OpenSSL
 * verifies a fresh key in about half the time `hazmat/` needs to decode it and build its first
 * table. From this many uses on, the key gets `hazmat/`'s expanded tables (a one-time cost of
 * about 192 doublings) and then verifies faster than OpenSSL; sender-key chains and identity keys
 * reach it, one-off signed prekeys of a session setup do not.
 */
const NATIVE_VERIFY_USES = 4;

/**
 * The cached Edwards form of Montgomery `u` with a sign bit (0 or 0x80). Mirrors
 * curve25519-dalek's `MontgomeryPoint::to_edwards` followed by `compress`, which libsignal uses:
 * `y = (u − 1)/(u + 1)`, bit 255 of u ignored, x = 0 (u = 0) encoded with sign 0; u = −1 has no
 * image. Whether y belongs to a curve point (u not on the twist) is decided when it is decoded.
 */
function verifyingKey(u: Uint8Array, signBit: number): VerifyingKey {
  const id = bytesKey(u) + String.fromCharCode(signBit);
  let key = verifyingKeys.get(id);
  if (key === undefined) {
    key = { encoded: edwardsFromMontgomery(u, signBit), point: undefined, uses: 0 };
    verifyingKeys.set(id, key);
  }
  key.uses++;
  return key;
}

/** `hazmat/`'s point for the key, decoded on first need and expanded once the key is reused. */
function hazmatPoint(key: VerifyingKey, encoded: Uint8Array): VerifyingPoint | null {
  if (key.point === undefined) key.point = prepareVerifyingPoint(encoded);
  // Used before: worth the one-time expansion that makes each later verification cheaper.
  if (key.point !== null && key.uses > 1) expandVerifyingPoint(key.point);
  return key.point;
}

/** Little-endian bytes of L = 2^252 + 27742317777372353535851937790883648493. */
const ORDER_L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** Whether the 32-byte little-endian s (top bit cleared) is below L, i.e. canonical for RFC 8032. */
function belowOrder(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! !== ORDER_L[i]!) return s[i]! < ORDER_L[i]!;
  }
  return false;
}

/** Scratch for the s of a signature being verified, top bit cleared (public). */
const verifyS = new Uint8Array(32);

/**
 * Verifies an XEdDSA signature by a 32-byte X25519 public key (u-coordinate, no 0x05 byte), as
 * libsignal's `verify_signature` does: A from u and sig[63]'s top bit (which is then cleared);
 * reject if bit 253 or 254 of s is set; s is not required to be below L (libsignal reduces it mod
 * L, so s + L is accepted, unlike RFC 8032); `h = SHA-512(R ‖ A ‖ msg) mod L`; accept iff
 * `encode([s]B − [h]A)` equals R byte for byte (cofactorless). Returns false for any invalid or malformed signature; throws only on wrong
 * argument types or lengths.
 */
export function xeddsaVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  abytes(publicKey, 32, 'publicKey');
  abytes(message, undefined, 'message');
  abytes(signature, XEDDSA_SIGNATURE_LENGTH, 'signature');
  const key = verifyingKey(publicKey, signature[63]! & 0x80);
  const encoded = key.encoded;
  if (encoded === null) return false;
  const top = signature[63]! & 0x7f;
  if ((top & 0xe0) !== 0) return false;
  const R = signature.subarray(0, 32);
  // libsignal reduces s mod L; [s]B = [s mod L]B since B has order L, so s (< 2^253) is used as is.
  verifyS.set(signature.subarray(32, 64));
  verifyS[31] = top;
  const backend = activeBackend();
  // OpenSSL's Ed25519 verification is the same equation on the same A, h and R (RFC 8032 §5.1.7,
  // cofactorless, R compared as bytes) but refuses s ≥ L, which libsignal accepts: such
  // signatures, and keys used often, take the hazmat path.
  if (backend.nativeEd25519Verify && key.uses < NATIVE_VERIFY_USES && belowOrder(verifyS)) {
    const canonical = new Uint8Array(XEDDSA_SIGNATURE_LENGTH);
    canonical.set(R, 0);
    canonical.set(verifyS, 32);
    return backend.ed25519Verify(encoded, message, canonical);
  }
  const point = hazmatPoint(key, encoded);
  if (point === null) return false;
  const h = scalarReduce(backend.sha512Parts([R, point.encoded, message]));
  return verifyEquation(point, R, verifyS, h);
}
