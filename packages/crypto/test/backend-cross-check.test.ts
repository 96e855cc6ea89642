/**
 * Property tests: the node (OpenSSL) and noble (pure JS) backends are independent
 * implementations, so agreeing on random inputs for every primitive is strong evidence both are
 * right (the known-answer vectors are in backend-conformance.test.ts).
 */
import { createPrivateKey, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeBackend as node } from '../src/backends/node.js';
import { nobleBackend as noble } from '../src/backends/noble.js';
import { toHex } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key32 = bytes(32, 32);
const iv16 = bytes(16, 16);
const RUNS = { numRuns: 60 };

function outcome(f: () => Uint8Array | boolean): string {
  try {
    const out = f();
    return typeof out === 'boolean' ? String(out) : toHex(out);
  } catch (err) {
    return CryptoError.is(err) ? `error:${err.code}` : `other:${String(err)}`;
  }
}

describe('node and noble backends agree', () => {
  it('hashes', () => {
    fc.assert(
      fc.property(bytes(0, 300), fc.integer({ min: 0, max: 200 }), (data, n) => {
        expect(toHex(node.sha256(data))).toBe(toHex(noble.sha256(data)));
        expect(toHex(node.sha512(data))).toBe(toHex(noble.sha512(data)));
        expect(toHex(node.sha3_256(data))).toBe(toHex(noble.sha3_256(data)));
        expect(toHex(node.sha3_512(data))).toBe(toHex(noble.sha3_512(data)));
        expect(toHex(node.shake256(data, n))).toBe(toHex(noble.shake256(data, n)));
      }),
      RUNS,
    );
  });

  it('sha512Parts and hmacSha256Parts equal the one-shot over the concatenation', () => {
    fc.assert(
      fc.property(bytes(0, 100), fc.array(bytes(0, 80), { maxLength: 5 }), (key, parts) => {
        const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          joined.set(p, o);
          o += p.length;
        }
        const sha = toHex(noble.sha512(joined));
        expect(toHex(node.sha512Parts(parts))).toBe(sha);
        expect(toHex(noble.sha512Parts(parts))).toBe(sha);
        const mac = toHex(noble.hmacSha256(key, joined));
        expect(toHex(node.hmacSha256(key, joined))).toBe(mac);
        expect(toHex(node.hmacSha256Parts(key, parts))).toBe(mac);
        expect(toHex(noble.hmacSha256Parts(key, parts))).toBe(mac);
      }),
      RUNS,
    );
  });

  it('HKDF-SHA256, including empty salts and long outputs', () => {
    fc.assert(
      fc.property(
        bytes(0, 80),
        fc.oneof(fc.constant(new Uint8Array(0)), bytes(0, 80)),
        bytes(0, 80),
        fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 8160 })),
        (ikm, salt, info, length) => {
          expect(toHex(node.hkdfSha256(ikm, salt, info, length))).toBe(
            toHex(noble.hkdfSha256(ikm, salt, info, length)),
          );
        },
      ),
      RUNS,
    );
  });

  it('AES-256-CBC both ways, and the same verdict on tampered ciphertexts', () => {
    fc.assert(
      fc.property(
        key32,
        iv16,
        bytes(0, 100),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (key, iv, pt, pos, flip) => {
          const ct = node.aes256CbcEncrypt(key, iv, pt);
          expect(toHex(noble.aes256CbcEncrypt(key, iv, pt))).toBe(toHex(ct));
          expect(toHex(noble.aes256CbcDecrypt(key, iv, ct))).toBe(toHex(pt));
          const bad = ct.slice();
          const at = pos % bad.length;
          bad[at] = bad[at]! ^ flip;
          expect(outcome(() => node.aes256CbcDecrypt(key, iv, bad))).toBe(
            outcome(() => noble.aes256CbcDecrypt(key, iv, bad)),
          );
        },
      ),
      RUNS,
    );
  });

  it('AES-256-CBC decrypt of arbitrary block-aligned input: same plaintext or both BAD_PADDING', () => {
    fc.assert(
      fc.property(
        key32,
        iv16,
        fc.integer({ min: 1, max: 4 }),
        bytes(64, 64),
        fc.nat(255),
        (key, iv, blocks, raw, last) => {
          const ct = raw.slice(0, blocks * 16);
          ct[ct.length - 1] = last;
          expect(outcome(() => node.aes256CbcDecrypt(key, iv, ct))).toBe(
            outcome(() => noble.aes256CbcDecrypt(key, iv, ct)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('AES-256-CTR', () => {
    fc.assert(
      fc.property(key32, iv16, bytes(0, 100), (key, iv, data) => {
        expect(toHex(node.aes256Ctr(key, iv, data))).toBe(toHex(noble.aes256Ctr(key, iv, data)));
      }),
      RUNS,
    );
  });

  it('AES-256-GCM both ways, with and without AAD; tampering fails on both', () => {
    fc.assert(
      fc.property(
        key32,
        bytes(12, 12),
        bytes(0, 100),
        fc.option(bytes(0, 40), { nil: undefined }),
        fc.nat(),
        (key, nonce, pt, aad, pos) => {
          const sealed = node.aes256GcmEncrypt(key, nonce, pt, aad);
          expect(toHex(noble.aes256GcmEncrypt(key, nonce, pt, aad))).toBe(toHex(sealed));
          expect(toHex(noble.aes256GcmDecrypt(key, nonce, sealed, aad))).toBe(toHex(pt));
          expect(toHex(node.aes256GcmDecrypt(key, nonce, sealed, aad))).toBe(toHex(pt));
          const bad = sealed.slice();
          const at = pos % bad.length;
          bad[at] = bad[at]! ^ 1;
          expect(outcome(() => node.aes256GcmDecrypt(key, nonce, bad, aad))).toBe('error:BAD_TAG');
          expect(outcome(() => noble.aes256GcmDecrypt(key, nonce, bad, aad))).toBe('error:BAD_TAG');
        },
      ),
      RUNS,
    );
  });

  it('X25519 public keys and shared secrets', () => {
    fc.assert(
      fc.property(key32, key32, (a, b) => {
        const pa = node.x25519PublicKey(a);
        const pb = noble.x25519PublicKey(b);
        expect(toHex(noble.x25519PublicKey(a))).toBe(toHex(pa));
        expect(toHex(node.x25519PublicKey(b))).toBe(toHex(pb));
        const shared = toHex(node.x25519(a, pb));
        expect(toHex(noble.x25519(a, pb))).toBe(shared);
        expect(toHex(node.x25519(b, pa))).toBe(shared);
      }),
      { numRuns: 20 },
    );
  });

  it('X25519 with arbitrary u (incl. twist points and non-canonical u ≥ p)', () => {
    fc.assert(
      fc.property(key32, key32, (priv, u) => {
        expect(outcome(() => node.x25519(priv, u))).toBe(outcome(() => noble.x25519(priv, u)));
      }),
      { numRuns: 20 },
    );
  });

  it('Ed25519 public key from seed, and verify verdicts on valid and tampered signatures', () => {
    fc.assert(
      fc.property(key32, bytes(0, 100), fc.nat(), (seed, msg, pos) => {
        const pub = node.ed25519PublicKey(seed);
        expect(toHex(noble.ed25519PublicKey(seed))).toBe(toHex(pub));
        // A signature from an independent signer: OpenSSL via node:crypto's one-shot sign.
        const sig = signEd25519(seed, msg);
        expect(node.ed25519Verify(pub, msg, sig)).toBe(true);
        expect(noble.ed25519Verify(pub, msg, sig)).toBe(true);
        const bad = sig.slice();
        const at = pos % 64;
        bad[at] = bad[at]! ^ (1 << (pos % 8));
        expect(node.ed25519Verify(pub, msg, bad)).toBe(false);
        expect(noble.ed25519Verify(pub, msg, bad)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('constantTimeEqual', () => {
    fc.assert(
      fc.property(bytes(0, 40), bytes(0, 40), (a, b) => {
        expect(node.constantTimeEqual(a, b)).toBe(noble.constantTimeEqual(a, b));
        expect(node.constantTimeEqual(a, a.slice())).toBe(true);
      }),
      RUNS,
    );
  });
});

/** Ed25519 signing by OpenSSL from a raw seed (RFC 8410 PKCS#8 wrapping). */
function signEd25519(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return new Uint8Array(
    sign(null, msg, createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })),
  );
}
