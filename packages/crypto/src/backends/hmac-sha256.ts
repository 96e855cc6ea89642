/**
 * HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869) on a JavaScript SHA-256 (FIPS 180-4 §6.2),
 * for the Node backend's short inputs: the protocol's per-message chain-key, message-key and SPQR
 * chain steps (shared/specs/signal-wire.md §3.2, §3.4).
 *
 * Why not `node:crypto`: every `createHmac` costs ~2.8 µs before it hashes anything (a JS object,
 * a C++ object and an OpenSSL `EVP_MAC` context), and one HKDF-SHA256 of 64–80 bytes is three or
 * four of them. Here a compression costs ~0.3 µs once V8 has optimised it, and HMAC's key set-up
 * (the two pad blocks) is computed once per key and reused: HKDF's expand step reuses the PRK
 * state for every block, and the all-zero key (the default salt) is precomputed at load. An HMAC
 * of a short message is then four compressions (two with the zero key), an 80-byte HKDF twelve:
 * about 1.7 µs and 5 µs against 3 µs and 13 µs on OpenSSL. Long inputs stay on OpenSSL, where a
 * single call amortises its set-up (the backend decides by length).
 *
 * The running block is kept as big-endian words (the first 16 words of the message schedule), so
 * digests that feed the next hash (the inner digest into the outer one, the PRK into its key
 * state, T(i−1) into T(i)) move as eight words, never as bytes.
 *
 * Not reentrant by design: scratch words are module-level (the protocol core is synchronous),
 * and every exported function wipes them before it returns. The code has no data-dependent
 * branches or table look-ups, like SHA-256 in OpenSSL or @noble/hashes.
 * Tested against `node:crypto` for every length up to several blocks and on RFC 4231 / RFC 5869
 * vectors (test/hmac-sha256.test.ts).
 */

/** FIPS 180-4 §4.2.2: the 64 round constants. */
// prettier-ignore
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
// prettier-ignore
const IV = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
);

const BLOCK_LENGTH = 64;
const DIGEST_LENGTH = 32;

/** ROTR^n (§3.2); V8 inlines it. */
function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

/** The block being hashed, as big-endian words (FIPS 180-4 §5.2.1, M^(i)). */
const W = new Int32Array(16);

/**
 * One SHA-256 compression (§6.2.2) of the block in `W` into the eight words `s[at..]`; `W` is
 * zeroed afterwards, ready for the next block. The rounds are unrolled by sixteen: the message
 * schedule lives in sixteen locals (W_t overwrites W_{t−16}, §6.2.2 step 1) and the working
 * variables rotate by name instead of by moves (round t adds T1 into the variable that plays d and
 * writes T1 + T2 into the one that plays h).
 */
function compress(s: Int32Array, at: number): void {
  let w0 = W[0]!;
  let w1 = W[1]!;
  let w2 = W[2]!;
  let w3 = W[3]!;
  let w4 = W[4]!;
  let w5 = W[5]!;
  let w6 = W[6]!;
  let w7 = W[7]!;
  let w8 = W[8]!;
  let w9 = W[9]!;
  let w10 = W[10]!;
  let w11 = W[11]!;
  let w12 = W[12]!;
  let w13 = W[13]!;
  let w14 = W[14]!;
  let w15 = W[15]!;
  let a = s[at]!;
  let b = s[at + 1]!;
  let c = s[at + 2]!;
  let d = s[at + 3]!;
  let e = s[at + 4]!;
  let f = s[at + 5]!;
  let g = s[at + 6]!;
  let h = s[at + 7]!;
  let t = 0;
  // prettier-ignore
  for (let i = 0; i < 64; i += 16) {
    if (i > 0) {
      w0 = (w0 + (rotr(w1, 7) ^ rotr(w1, 18) ^ (w1 >>> 3)) + w9 + (rotr(w14, 17) ^ rotr(w14, 19) ^ (w14 >>> 10))) | 0;
      w1 = (w1 + (rotr(w2, 7) ^ rotr(w2, 18) ^ (w2 >>> 3)) + w10 + (rotr(w15, 17) ^ rotr(w15, 19) ^ (w15 >>> 10))) | 0;
      w2 = (w2 + (rotr(w3, 7) ^ rotr(w3, 18) ^ (w3 >>> 3)) + w11 + (rotr(w0, 17) ^ rotr(w0, 19) ^ (w0 >>> 10))) | 0;
      w3 = (w3 + (rotr(w4, 7) ^ rotr(w4, 18) ^ (w4 >>> 3)) + w12 + (rotr(w1, 17) ^ rotr(w1, 19) ^ (w1 >>> 10))) | 0;
      w4 = (w4 + (rotr(w5, 7) ^ rotr(w5, 18) ^ (w5 >>> 3)) + w13 + (rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10))) | 0;
      w5 = (w5 + (rotr(w6, 7) ^ rotr(w6, 18) ^ (w6 >>> 3)) + w14 + (rotr(w3, 17) ^ rotr(w3, 19) ^ (w3 >>> 10))) | 0;
      w6 = (w6 + (rotr(w7, 7) ^ rotr(w7, 18) ^ (w7 >>> 3)) + w15 + (rotr(w4, 17) ^ rotr(w4, 19) ^ (w4 >>> 10))) | 0;
      w7 = (w7 + (rotr(w8, 7) ^ rotr(w8, 18) ^ (w8 >>> 3)) + w0 + (rotr(w5, 17) ^ rotr(w5, 19) ^ (w5 >>> 10))) | 0;
      w8 = (w8 + (rotr(w9, 7) ^ rotr(w9, 18) ^ (w9 >>> 3)) + w1 + (rotr(w6, 17) ^ rotr(w6, 19) ^ (w6 >>> 10))) | 0;
      w9 = (w9 + (rotr(w10, 7) ^ rotr(w10, 18) ^ (w10 >>> 3)) + w2 + (rotr(w7, 17) ^ rotr(w7, 19) ^ (w7 >>> 10))) | 0;
      w10 = (w10 + (rotr(w11, 7) ^ rotr(w11, 18) ^ (w11 >>> 3)) + w3 + (rotr(w8, 17) ^ rotr(w8, 19) ^ (w8 >>> 10))) | 0;
      w11 = (w11 + (rotr(w12, 7) ^ rotr(w12, 18) ^ (w12 >>> 3)) + w4 + (rotr(w9, 17) ^ rotr(w9, 19) ^ (w9 >>> 10))) | 0;
      w12 = (w12 + (rotr(w13, 7) ^ rotr(w13, 18) ^ (w13 >>> 3)) + w5 + (rotr(w10, 17) ^ rotr(w10, 19) ^ (w10 >>> 10))) | 0;
      w13 = (w13 + (rotr(w14, 7) ^ rotr(w14, 18) ^ (w14 >>> 3)) + w6 + (rotr(w11, 17) ^ rotr(w11, 19) ^ (w11 >>> 10))) | 0;
      w14 = (w14 + (rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)) + w7 + (rotr(w12, 17) ^ rotr(w12, 19) ^ (w12 >>> 10))) | 0;
      w15 = (w15 + (rotr(w0, 7) ^ rotr(w0, 18) ^ (w0 >>> 3)) + w8 + (rotr(w13, 17) ^ rotr(w13, 19) ^ (w13 >>> 10))) | 0;
    }
    t = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + K[i]! + w0) | 0;
    d = (d + t) | 0;
    h = (t + (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)))) | 0;
    t = (g + (rotr(d, 6) ^ rotr(d, 11) ^ rotr(d, 25)) + (f ^ (d & (e ^ f))) + K[i + 1]! + w1) | 0;
    c = (c + t) | 0;
    g = (t + (rotr(h, 2) ^ rotr(h, 13) ^ rotr(h, 22)) + ((h & a) | (b & (h | a)))) | 0;
    t = (f + (rotr(c, 6) ^ rotr(c, 11) ^ rotr(c, 25)) + (e ^ (c & (d ^ e))) + K[i + 2]! + w2) | 0;
    b = (b + t) | 0;
    f = (t + (rotr(g, 2) ^ rotr(g, 13) ^ rotr(g, 22)) + ((g & h) | (a & (g | h)))) | 0;
    t = (e + (rotr(b, 6) ^ rotr(b, 11) ^ rotr(b, 25)) + (d ^ (b & (c ^ d))) + K[i + 3]! + w3) | 0;
    a = (a + t) | 0;
    e = (t + (rotr(f, 2) ^ rotr(f, 13) ^ rotr(f, 22)) + ((f & g) | (h & (f | g)))) | 0;
    t = (d + (rotr(a, 6) ^ rotr(a, 11) ^ rotr(a, 25)) + (c ^ (a & (b ^ c))) + K[i + 4]! + w4) | 0;
    h = (h + t) | 0;
    d = (t + (rotr(e, 2) ^ rotr(e, 13) ^ rotr(e, 22)) + ((e & f) | (g & (e | f)))) | 0;
    t = (c + (rotr(h, 6) ^ rotr(h, 11) ^ rotr(h, 25)) + (b ^ (h & (a ^ b))) + K[i + 5]! + w5) | 0;
    g = (g + t) | 0;
    c = (t + (rotr(d, 2) ^ rotr(d, 13) ^ rotr(d, 22)) + ((d & e) | (f & (d | e)))) | 0;
    t = (b + (rotr(g, 6) ^ rotr(g, 11) ^ rotr(g, 25)) + (a ^ (g & (h ^ a))) + K[i + 6]! + w6) | 0;
    f = (f + t) | 0;
    b = (t + (rotr(c, 2) ^ rotr(c, 13) ^ rotr(c, 22)) + ((c & d) | (e & (c | d)))) | 0;
    t = (a + (rotr(f, 6) ^ rotr(f, 11) ^ rotr(f, 25)) + (h ^ (f & (g ^ h))) + K[i + 7]! + w7) | 0;
    e = (e + t) | 0;
    a = (t + (rotr(b, 2) ^ rotr(b, 13) ^ rotr(b, 22)) + ((b & c) | (d & (b | c)))) | 0;
    t = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + K[i + 8]! + w8) | 0;
    d = (d + t) | 0;
    h = (t + (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)))) | 0;
    t = (g + (rotr(d, 6) ^ rotr(d, 11) ^ rotr(d, 25)) + (f ^ (d & (e ^ f))) + K[i + 9]! + w9) | 0;
    c = (c + t) | 0;
    g = (t + (rotr(h, 2) ^ rotr(h, 13) ^ rotr(h, 22)) + ((h & a) | (b & (h | a)))) | 0;
    t = (f + (rotr(c, 6) ^ rotr(c, 11) ^ rotr(c, 25)) + (e ^ (c & (d ^ e))) + K[i + 10]! + w10) | 0;
    b = (b + t) | 0;
    f = (t + (rotr(g, 2) ^ rotr(g, 13) ^ rotr(g, 22)) + ((g & h) | (a & (g | h)))) | 0;
    t = (e + (rotr(b, 6) ^ rotr(b, 11) ^ rotr(b, 25)) + (d ^ (b & (c ^ d))) + K[i + 11]! + w11) | 0;
    a = (a + t) | 0;
    e = (t + (rotr(f, 2) ^ rotr(f, 13) ^ rotr(f, 22)) + ((f & g) | (h & (f | g)))) | 0;
    t = (d + (rotr(a, 6) ^ rotr(a, 11) ^ rotr(a, 25)) + (c ^ (a & (b ^ c))) + K[i + 12]! + w12) | 0;
    h = (h + t) | 0;
    d = (t + (rotr(e, 2) ^ rotr(e, 13) ^ rotr(e, 22)) + ((e & f) | (g & (e | f)))) | 0;
    t = (c + (rotr(h, 6) ^ rotr(h, 11) ^ rotr(h, 25)) + (b ^ (h & (a ^ b))) + K[i + 13]! + w13) | 0;
    g = (g + t) | 0;
    c = (t + (rotr(d, 2) ^ rotr(d, 13) ^ rotr(d, 22)) + ((d & e) | (f & (d | e)))) | 0;
    t = (b + (rotr(g, 6) ^ rotr(g, 11) ^ rotr(g, 25)) + (a ^ (g & (h ^ a))) + K[i + 14]! + w14) | 0;
    f = (f + t) | 0;
    b = (t + (rotr(c, 2) ^ rotr(c, 13) ^ rotr(c, 22)) + ((c & d) | (e & (c | d)))) | 0;
    t = (a + (rotr(f, 6) ^ rotr(f, 11) ^ rotr(f, 25)) + (h ^ (f & (g ^ h))) + K[i + 15]! + w15) | 0;
    e = (e + t) | 0;
    a = (t + (rotr(b, 2) ^ rotr(b, 13) ^ rotr(b, 22)) + ((b & c) | (d & (b | c)))) | 0;
  }
  s[at] = (s[at]! + a) | 0;
  s[at + 1] = (s[at + 1]! + b) | 0;
  s[at + 2] = (s[at + 2]! + c) | 0;
  s[at + 3] = (s[at + 3]! + d) | 0;
  s[at + 4] = (s[at + 4]! + e) | 0;
  s[at + 5] = (s[at + 5]! + f) | 0;
  s[at + 6] = (s[at + 6]! + g) | 0;
  s[at + 7] = (s[at + 7]! + h) | 0;
  W.fill(0);
}

// The one running hash: chaining value, bytes in the current block (held in W[0..16)), total.
const state = new Int32Array(8);
let filled = 0;
let total = 0;

/** Starts a hash from eight chaining words at `from[at..]`, `absorbed` bytes already in. */
function begin(from: Int32Array, at: number, absorbed: number): void {
  for (let i = 0; i < 8; i++) state[i] = from[at + i]!;
  filled = 0;
  total = absorbed;
}

function absorb(data: Uint8Array): void {
  const n = data.length;
  const w = W;
  let p = 0;
  total += n;
  // Until word-aligned: byte by byte.
  while (p < n && (filled & 3) !== 0) {
    w[filled >>> 2]! |= data[p++]! << (24 - 8 * (filled & 3));
    if (++filled === BLOCK_LENGTH) {
      compress(state, 0);
      filled = 0;
    }
  }
  // Whole big-endian words.
  for (; n - p >= 4; p += 4) {
    w[filled >>> 2] = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
    filled += 4;
    if (filled === BLOCK_LENGTH) {
      compress(state, 0);
      filled = 0;
    }
  }
  // The tail (filled is word-aligned here, and the next byte cannot complete a block).
  for (; p < n; filled++) w[filled >>> 2]! |= data[p++]! << (24 - 8 * (filled & 3));
}

/** Absorbs eight words (a digest) at a word-aligned position. */
function absorbWords(words: Int32Array, at: number): void {
  total += DIGEST_LENGTH;
  for (let i = 0; i < 8; i++) {
    W[filled >>> 2] = words[at + i]!;
    filled += 4;
    if (filled === BLOCK_LENGTH) {
      compress(state, 0);
      filled = 0;
    }
  }
}

function absorbByte(byte: number): void {
  total += 1;
  W[filled >>> 2]! |= byte << (24 - 8 * (filled & 3));
  if (++filled === BLOCK_LENGTH) {
    compress(state, 0);
    filled = 0;
  }
}

/** §5.1.1 padding and the last compression(s); the digest is left in `state`. */
function finish(): void {
  const bits = total * 8;
  W[filled >>> 2]! |= 0x80 << (24 - 8 * (filled & 3));
  if (filled + 1 > BLOCK_LENGTH - 8) compress(state, 0);
  W[14] = Math.floor(bits / 0x1_0000_0000);
  W[15] = bits >>> 0;
  compress(state, 0);
  filled = 0;
}

/** Writes the first `length` (≤ 32) bytes of the digest in `state`, big-endian. */
function writeDigest(out: Uint8Array, offset: number, length: number): void {
  let i = 0;
  for (let p = offset; i + 4 <= length; i += 4, p += 4) {
    const v = state[i >>> 2]!;
    out[p] = v >>> 24;
    out[p + 1] = v >>> 16;
    out[p + 2] = v >>> 8;
    out[p + 3] = v;
  }
  for (; i < length; i++) out[offset + i] = state[i >>> 2]! >>> (24 - 8 * (i & 3));
}

/**
 * HMAC key state: words 0..7 are the chaining value after the block `K ⊕ ipad`, words 8..15 after
 * `K ⊕ opad` (RFC 2104 §2). Equivalent to the key: wipe it after use.
 */
type KeyState = Int32Array;

const IPAD = 0x36363636;
const OPAD = 0x5c5c5c5c;
/** The key, zero-padded to a block, as words. */
const keyWords = new Int32Array(16);

/** The two pad blocks of the key in `keyWords`, compressed into `into`. */
function padKey(into: KeyState): void {
  for (let i = 0; i < 16; i++) W[i] = keyWords[i]! ^ IPAD;
  for (let i = 0; i < 8; i++) into[i] = IV[i]!;
  compress(into, 0);
  for (let i = 0; i < 16; i++) W[i] = keyWords[i]! ^ OPAD;
  for (let i = 0; i < 8; i++) into[8 + i] = IV[i]!;
  compress(into, 8);
  keyWords.fill(0);
}

function setKey(key: Uint8Array, into: KeyState): void {
  if (key.length > BLOCK_LENGTH) {
    // RFC 2104 §2: keys longer than a block are hashed first.
    begin(IV, 0, 0);
    absorb(key);
    finish();
    for (let i = 0; i < 8; i++) keyWords[i] = state[i]!;
  } else {
    for (let i = 0; i < key.length; i++) keyWords[i >>> 2]! |= key[i]! << (24 - 8 * (i & 3));
  }
  padKey(into);
}

/** The key state of every all-zero key of at most 64 bytes (HKDF's default salt among them). */
const ZERO_KEY_STATE: KeyState = new Int32Array(16);
padKey(ZERO_KEY_STATE);

function isZeroKey(key: Uint8Array): boolean {
  if (key.length > BLOCK_LENGTH) return false;
  let acc = 0;
  for (let i = 0; i < key.length; i++) acc |= key[i]!;
  return acc === 0;
}

/** Ends the inner hash and runs the outer one; the MAC is left in `state`. */
function finishMac(key: KeyState): void {
  finish();
  const inner = innerDigest;
  for (let i = 0; i < 8; i++) inner[i] = state[i]!;
  begin(key, 8, BLOCK_LENGTH);
  absorbWords(inner, 0);
  finish();
}

const innerDigest = new Int32Array(8);

function wipeScratch(): void {
  W.fill(0);
  state.fill(0);
  innerDigest.fill(0);
}

const macKey: KeyState = new Int32Array(16);

function macKeyState(key: Uint8Array): KeyState {
  if (isZeroKey(key)) return ZERO_KEY_STATE;
  setKey(key, macKey);
  return macKey;
}

function endMac(k: KeyState): Uint8Array {
  finishMac(k);
  const out = new Uint8Array(DIGEST_LENGTH);
  writeDigest(out, 0, DIGEST_LENGTH);
  macKey.fill(0);
  wipeScratch();
  return out;
}

/** HMAC-SHA256(key, data). */
export function hmacSha256Js(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = macKeyState(key);
  begin(k, 0, BLOCK_LENGTH);
  absorb(data);
  return endMac(k);
}

/** HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …). */
export function hmacSha256PartsJs(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const k = macKeyState(key);
  begin(k, 0, BLOCK_LENGTH);
  for (let i = 0; i < parts.length; i++) absorb(parts[i]!);
  return endMac(k);
}

const saltKey: KeyState = new Int32Array(16);
const prkKey: KeyState = new Int32Array(16);
/** T(i − 1) of HKDF-Expand, as words. */
const previous = new Int32Array(8);

/**
 * HKDF-SHA256 (RFC 5869 §2.2 extract, §2.3 expand); `length` in 1..8160, an empty `salt` means
 * 32 zero bytes. The PRK's key state serves every output block.
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
  // PRK = HMAC(salt, IKM), straight into the key words of the expand step.
  begin(s, 0, BLOCK_LENGTH);
  absorb(ikm);
  finishMac(s);
  for (let i = 0; i < 8; i++) keyWords[i] = state[i]!;
  padKey(prkKey);
  for (let offset = 0, counter = 1; offset < length; offset += DIGEST_LENGTH, counter++) {
    // T(i) = HMAC(PRK, T(i−1) ‖ info ‖ i).
    begin(prkKey, 0, BLOCK_LENGTH);
    if (offset > 0) absorbWords(previous, 0);
    absorb(info);
    absorbByte(counter);
    finishMac(prkKey);
    writeDigest(out, offset, Math.min(DIGEST_LENGTH, length - offset));
    for (let i = 0; i < 8; i++) previous[i] = state[i]!;
  }
  saltKey.fill(0);
  prkKey.fill(0);
  previous.fill(0);
  wipeScratch();
  return out;
}
