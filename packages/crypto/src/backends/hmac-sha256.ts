/**
 * HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869) on a JavaScript SHA-256 (FIPS 180-4 §6.2),
 * for the Node backend's short inputs: the protocol's per-message chain-key, message-key and SPQR
 * chain steps (shared/specs/signal-wire.md §3.2, §3.4).
 *
 * Why not `node:crypto`: every `createHmac` costs ~2.8 µs before it hashes anything (a JS object,
 * a C++ object and an OpenSSL `EVP_MAC` context), and one HKDF-SHA256 of 64–80 bytes is three or
 * four of them. Here a compression costs ~0.35 µs, and HMAC's key set-up (the two pad blocks)
 * is computed once per key and reused: HKDF's expand step reuses the PRK state for every block,
 * and the all-zero key (the default salt) is precomputed at load. An HMAC of a short message is
 * then two compressions, an 80-byte HKDF about twelve. Long inputs stay on OpenSSL, where a
 * single call amortises its set-up (the backend decides by length).
 *
 * Not reentrant by design: scratch words and blocks are module-level (the protocol core is
 * synchronous), and every exported function wipes them before it returns. The code has no
 * data-dependent branches or table look-ups, like SHA-256 in OpenSSL or @noble/hashes.
 * Tested against `node:crypto` for every length up to several blocks and on RFC 4231 / RFC 5869
 * vectors (test/hmac-sha256.test.ts).
 */

/** FIPS 180-4 §4.2.2: the 64 round constants. */
const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const IV = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
);

const BLOCK_LENGTH = 64;
const DIGEST_LENGTH = 32;

/** The message schedule (§6.2.2 step 1). */
const W = new Int32Array(64);

/** One SHA-256 compression of `block[offset..offset+64)` into `h` (eight words). */
function compress(h: Int32Array, block: Uint8Array, offset: number): void {
  const w = W;
  for (let i = 0, p = offset; i < 16; i++, p += 4) {
    w[i] = (block[p]! << 24) | (block[p + 1]! << 16) | (block[p + 2]! << 8) | block[p + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + s1 + (g ^ (e & (f ^ g))) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) | (c & (a | b)))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

// The one running hash: chaining value, pending partial block, total length in bytes.
const state = new Int32Array(8);
const pending = new Uint8Array(BLOCK_LENGTH);
let pendingLength = 0;
let totalLength = 0;

/** Starts a hash from eight chaining words at `from[offset..]`, `absorbed` bytes already in. */
function begin(from: Int32Array, offset: number, absorbed: number): void {
  for (let i = 0; i < 8; i++) state[i] = from[offset + i]!;
  pendingLength = 0;
  totalLength = absorbed;
}

function absorb(data: Uint8Array): void {
  const n = data.length;
  totalLength += n;
  let pos = 0;
  if (pendingLength > 0) {
    while (pos < n && pendingLength < BLOCK_LENGTH) pending[pendingLength++] = data[pos++]!;
    if (pendingLength < BLOCK_LENGTH) return;
    compress(state, pending, 0);
    pendingLength = 0;
  }
  for (; n - pos >= BLOCK_LENGTH; pos += BLOCK_LENGTH) compress(state, data, pos);
  while (pos < n) pending[pendingLength++] = data[pos++]!;
}

function absorbByte(byte: number): void {
  totalLength += 1;
  pending[pendingLength++] = byte;
  if (pendingLength === BLOCK_LENGTH) {
    compress(state, pending, 0);
    pendingLength = 0;
  }
}

/** §5.1.1 padding, the last compression(s), and the big-endian digest into `out[offset..+32)`. */
function finish(out: Uint8Array, offset: number): void {
  pending[pendingLength++] = 0x80;
  if (pendingLength > BLOCK_LENGTH - 8) {
    pending.fill(0, pendingLength);
    compress(state, pending, 0);
    pendingLength = 0;
  }
  pending.fill(0, pendingLength, BLOCK_LENGTH - 8);
  const high = Math.floor(totalLength / 0x2000_0000); // bits above 32 of totalLength · 8
  const low = (totalLength * 8) >>> 0;
  pending[56] = high >>> 24;
  pending[57] = high >>> 16;
  pending[58] = high >>> 8;
  pending[59] = high;
  pending[60] = low >>> 24;
  pending[61] = low >>> 16;
  pending[62] = low >>> 8;
  pending[63] = low;
  compress(state, pending, 0);
  for (let i = 0, p = offset; i < 8; i++, p += 4) {
    const v = state[i]!;
    out[p] = v >>> 24;
    out[p + 1] = v >>> 16;
    out[p + 2] = v >>> 8;
    out[p + 3] = v;
  }
}

/**
 * HMAC key state: words 0..7 are the chaining value after the block `K ⊕ ipad`, words 8..15 after
 * `K ⊕ opad` (RFC 2104 §2). Equivalent to the key: wipe it after use.
 */
type KeyState = Int32Array;

const keyBlock = new Uint8Array(BLOCK_LENGTH);
const digest = new Uint8Array(DIGEST_LENGTH);

function setKey(key: Uint8Array, into: KeyState): void {
  let k = key;
  if (key.length > BLOCK_LENGTH) {
    // RFC 2104 §2: keys longer than a block are hashed first.
    begin(IV, 0, 0);
    absorb(key);
    finish(digest, 0);
    k = digest;
  }
  for (let i = 0; i < BLOCK_LENGTH; i++) keyBlock[i] = (i < k.length ? k[i]! : 0) ^ 0x36;
  for (let i = 0; i < 8; i++) into[i] = IV[i]!;
  compress(into, keyBlock, 0);
  for (let i = 0; i < BLOCK_LENGTH; i++) keyBlock[i] ^= 0x36 ^ 0x5c;
  const outer = into.subarray(8, 16);
  outer.set(IV);
  compress(outer, keyBlock, 0);
  keyBlock.fill(0);
}

/** The key state of every all-zero key of at most 64 bytes (HKDF's default salt among them). */
const ZERO_KEY_STATE: KeyState = new Int32Array(16);
setKey(new Uint8Array(0), ZERO_KEY_STATE);

function isZeroKey(key: Uint8Array): boolean {
  if (key.length > BLOCK_LENGTH) return false;
  let acc = 0;
  for (let i = 0; i < key.length; i++) acc |= key[i]!;
  return acc === 0;
}

/** Starts the inner hash of an HMAC under `key`. */
function beginInner(key: KeyState): void {
  begin(key, 0, BLOCK_LENGTH);
}

/** Ends the inner hash, runs the outer one, writes the MAC into `out[offset..+32)`. */
function finishMac(key: KeyState, out: Uint8Array, offset: number): void {
  finish(digest, 0);
  begin(key, 8, BLOCK_LENGTH);
  absorb(digest);
  finish(out, offset);
}

function wipeScratch(): void {
  W.fill(0);
  state.fill(0);
  pending.fill(0);
  digest.fill(0);
}

const macKey: KeyState = new Int32Array(16);

function macKeyState(key: Uint8Array): KeyState {
  if (isZeroKey(key)) return ZERO_KEY_STATE;
  setKey(key, macKey);
  return macKey;
}

function endMac(k: KeyState): Uint8Array {
  const out = new Uint8Array(DIGEST_LENGTH);
  finishMac(k, out, 0);
  macKey.fill(0);
  wipeScratch();
  return out;
}

/** HMAC-SHA256(key, data). */
export function hmacSha256Js(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = macKeyState(key);
  beginInner(k);
  absorb(data);
  return endMac(k);
}

/** HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …). */
export function hmacSha256PartsJs(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const k = macKeyState(key);
  beginInner(k);
  for (let i = 0; i < parts.length; i++) absorb(parts[i]!);
  return endMac(k);
}

const saltKey: KeyState = new Int32Array(16);
const prkKey: KeyState = new Int32Array(16);
const prk = new Uint8Array(DIGEST_LENGTH);
const lastBlock = new Uint8Array(DIGEST_LENGTH);

/**
 * HKDF-SHA256 (RFC 5869 §2.2 extract, §2.3 expand); `length` in 1..8160, an empty `salt` means
 * 32 zero bytes. Each output block is written in place; the PRK's key state serves every block.
 */
export function hkdfSha256Js(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  let s = ZERO_KEY_STATE;
  if (!isZeroKey(salt)) {
    setKey(salt, saltKey);
    s = saltKey;
  }
  beginInner(s);
  absorb(ikm);
  finishMac(s, prk, 0);
  setKey(prk, prkKey);
  prk.fill(0);
  for (let offset = 0, counter = 1; offset < length; offset += DIGEST_LENGTH, counter++) {
    beginInner(prkKey);
    // T(i) = HMAC(PRK, T(i−1) ‖ info ‖ i), T(i−1) read back from `out`.
    if (offset > 0) absorb(out.subarray(offset - DIGEST_LENGTH, offset));
    absorb(info);
    absorbByte(counter);
    if (length - offset >= DIGEST_LENGTH) {
      finishMac(prkKey, out, offset);
    } else {
      finishMac(prkKey, lastBlock, 0);
      out.set(lastBlock.subarray(0, length - offset), offset);
      lastBlock.fill(0);
    }
  }
  saltKey.fill(0);
  prkKey.fill(0);
  wipeScratch();
  return out;
}
