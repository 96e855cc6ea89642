/**
 * Kyber1024 round 3 (signal-wire.md §3.3): libsignal's known answer from signal-vectors.json,
 * the CRYSTALS-Kyber round 3 NIST KAT (PQCkemKAT_3168.rsp count 0, in ml-kem-vectors.json, with
 * randomness from the NIST AES-256-CTR DRBG), the C2SP CCTV "unlucky" ML-KEM-1024 vector (its
 * ipd key generation is round 3's), libsignal-generated keys, round trips, implicit rejection per
 * the spec formula, equality with a round-3 oracle built on @noble/post-quantum's ML-KEM-1024
 * (fast-check, valid and corrupted ciphertexts), and lengths.
 * libsignal's TypeScript API exposes no raw KEM encapsulate/decapsulate, so a ciphertext made by
 * libsignal is only available through the vector here and the protocol-level interop tests.
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import fc from 'fast-check';
import { sha3_256 as refSha3_256, shake256 as refShake256 } from '@noble/hashes/sha3.js';
import { KEMKeyPair } from '@signalapp/libsignal-client';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/active-backend.js';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import { fromHex, toHex } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';
import {
  KYBER1024_CIPHERTEXT_LENGTH,
  KYBER1024_PUBLIC_KEY_LENGTH,
  KYBER1024_SECRET_KEY_LENGTH,
  kyber1024Decapsulate,
  kyber1024Encapsulate,
  kyber1024GenerateKeyPair,
} from '../src/kyber1024.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../test-vectors/signal-vectors.json', import.meta.url), 'utf8'),
) as { bob: Record<string, string>; pqxdh: Record<string, string> };

const kemVectors = JSON.parse(
  readFileSync(new URL('./ml-kem-vectors.json', import.meta.url), 'utf8'),
) as {
  kyber1024Round3: { seed: string; pk: string; sk: string; ct: string; ss: string }[];
  cctvUnlucky: { parameterSet: string; d: string; z: string; ek: string; dk: string }[];
};

/**
 * The NIST PQC KAT DRBG (`randombytes` of NIST's rng.c): AES-256-CTR_DRBG without derivation
 * function or personalisation, reseeded after every request (SP 800-90A §10.2.1).
 */
class NistKatDrbg {
  private key = new Uint8Array(32);
  private v = new Uint8Array(16);

  constructor(seed: Uint8Array) {
    this.update(seed);
  }

  randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 16) {
      this.increment();
      out.set(this.block().subarray(0, Math.min(16, length - i)), i);
    }
    this.update(undefined);
    return out;
  }

  private increment(): void {
    for (let j = 15; j >= 0; j--) {
      this.v[j] = (this.v[j]! + 1) & 0xff;
      if (this.v[j] !== 0) break;
    }
  }

  private block(): Uint8Array {
    const cipher = createCipheriv('aes-256-ecb', this.key, null);
    cipher.setAutoPadding(false);
    return new Uint8Array(cipher.update(this.v));
  }

  private update(data: Uint8Array | undefined): void {
    const temp = new Uint8Array(48);
    for (let i = 0; i < 3; i++) {
      this.increment();
      temp.set(this.block(), 16 * i);
    }
    if (data !== undefined) for (let i = 0; i < 48; i++) temp[i]! ^= data[i]!;
    this.key = temp.slice(0, 32);
    this.v = temp.slice(32, 48);
  }
}

/** Round 3 on top of noble's FIPS 203 ML-KEM-1024 (signal-wire.md §3.3), as an oracle. */
const oracle = {
  encapsulate(publicKey: Uint8Array, rand: Uint8Array) {
    const { cipherText, sharedSecret } = ml_kem1024.encapsulate(publicKey, refSha3_256(rand));
    return {
      ciphertext: cipherText,
      sharedSecret: refShake256(Uint8Array.of(...sharedSecret, ...refSha3_256(cipherText)), {
        dkLen: 32,
      }),
    };
  },
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array) {
    const kBar = ml_kem1024.decapsulate(ciphertext, secretKey);
    return refShake256(Uint8Array.of(...kBar, ...refSha3_256(ciphertext)), { dkLen: 32 });
  },
};

/** Strips libsignal's 0x08 KEM type byte. */
function untyped(serialized: Uint8Array): Uint8Array {
  expect(serialized[0]).toBe(0x08);
  return serialized.subarray(1);
}

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return CryptoError.is(err) ? err.code : `other:${String(err)}`;
  }
  return 'none';
}

const previous = useBackend(nodeBackend);
afterAll(() => {
  useBackend(previous);
});

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])(
  'Kyber1024 on the $name backend',
  (backend) => {
    const use = () => useBackend(backend);

    it('decapsulates libsignal’s PQXDH ciphertext to the recorded shared secret', () => {
      use();
      const secretKey = untyped(fromHex(vectors.bob.kyberPreKeySecret!));
      const ciphertext = untyped(fromHex(vectors.pqxdh.kyberCiphertext!));
      expect(secretKey.length).toBe(KYBER1024_SECRET_KEY_LENGTH);
      expect(ciphertext.length).toBe(KYBER1024_CIPHERTEXT_LENGTH);
      expect(toHex(kyber1024Decapsulate(ciphertext, secretKey))).toBe(
        vectors.pqxdh.kyberSharedSecret,
      );
    });

    it.each(kemVectors.kyber1024Round3)(
      'reproduces the round 3 NIST KAT (PQCkemKAT_3168.rsp): keygen, encaps, decaps',
      (v) => {
        use();
        const drbg = new NistKatDrbg(fromHex(v.seed.toLowerCase()));
        // crypto_kem_keypair draws d (indcpa_keypair) and then z, 32 bytes each.
        const d = drbg.randomBytes(32);
        const z = drbg.randomBytes(32);
        const pair = kyber1024GenerateKeyPair((n) => {
          expect(n).toBe(64);
          return Uint8Array.of(...d, ...z);
        });
        expect(toHex(pair.publicKey).toUpperCase()).toBe(v.pk);
        expect(toHex(pair.secretKey).toUpperCase()).toBe(v.sk);
        // crypto_kem_enc draws 32 bytes and hashes them to m.
        const { ciphertext, sharedSecret } = kyber1024Encapsulate(
          pair.publicKey,
          drbg.randomBytes(32),
        );
        expect(toHex(ciphertext).toUpperCase()).toBe(v.ct);
        expect(toHex(sharedSecret).toUpperCase()).toBe(v.ss);
        expect(toHex(kyber1024Decapsulate(ciphertext, pair.secretKey)).toUpperCase()).toBe(v.ss);
      },
    );

    it('generates the CCTV "unlucky" ML-KEM-1024 ipd key (round 3 keygen, SampleNTT re-squeeze)', () => {
      use();
      const v = kemVectors.cctvUnlucky.find((x) => x.parameterSet === 'ML-KEM-1024')!;
      const pair = kyber1024GenerateKeyPair(() => fromHex(v.d + v.z));
      expect(toHex(pair.publicKey)).toBe(v.ek);
      expect(toHex(pair.secretKey)).toBe(v.dk);
    });

    it('equals the noble-based round 3 oracle for random keys, randomness and corrupted ciphertexts', () => {
      use();
      const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
      fc.assert(
        fc.property(
          bytes(64),
          bytes(32),
          fc.nat(KYBER1024_CIPHERTEXT_LENGTH - 1),
          fc.integer({ min: 1, max: 255 }),
          (seed, rand, pos, flip) => {
            const pair = kyber1024GenerateKeyPair(() => seed.slice());
            const ours = kyber1024Encapsulate(pair.publicKey, rand);
            const theirs = oracle.encapsulate(pair.publicKey, rand);
            expect(toHex(ours.ciphertext)).toBe(toHex(theirs.ciphertext));
            expect(toHex(ours.sharedSecret)).toBe(toHex(theirs.sharedSecret));
            expect(toHex(kyber1024Decapsulate(ours.ciphertext, pair.secretKey))).toBe(
              toHex(theirs.sharedSecret),
            );
            const bad = ours.ciphertext.slice();
            bad[pos]! ^= flip;
            expect(toHex(kyber1024Decapsulate(bad, pair.secretKey))).toBe(
              toHex(oracle.decapsulate(bad, pair.secretKey)),
            );
          },
        ),
        { numRuns: 6 },
      );
    });

    it('the vector secret key embeds the vector public key (s ‖ pk ‖ H(pk) ‖ z)', () => {
      const secretKey = untyped(fromHex(vectors.bob.kyberPreKeySecret!));
      const publicKey = untyped(fromHex(vectors.bob.kyberPreKeyPublic!));
      expect(publicKey.length).toBe(KYBER1024_PUBLIC_KEY_LENGTH);
      expect(toHex(secretKey.subarray(1536, 1536 + 1568))).toBe(toHex(publicKey));
      expect(toHex(secretKey.subarray(3104, 3136))).toBe(toHex(refSha3_256(publicKey)));
    });

    it('encapsulates to libsignal-generated keys and decapsulates with their secret keys', () => {
      use();
      for (let i = 0; i < 3; i++) {
        const pair = KEMKeyPair.generate();
        const publicKey = untyped(pair.getPublicKey().serialize());
        const secretKey = untyped(pair.getSecretKey().serialize());
        const { ciphertext, sharedSecret } = kyber1024Encapsulate(publicKey);
        expect(ciphertext.length).toBe(KYBER1024_CIPHERTEXT_LENGTH);
        expect(sharedSecret.length).toBe(32);
        expect(toHex(kyber1024Decapsulate(ciphertext, secretKey))).toBe(toHex(sharedSecret));
      }
    });

    it('round-trips with our own keys; fresh randomness gives fresh secrets', () => {
      use();
      const { publicKey, secretKey } = kyber1024GenerateKeyPair();
      expect(publicKey.length).toBe(KYBER1024_PUBLIC_KEY_LENGTH);
      expect(secretKey.length).toBe(KYBER1024_SECRET_KEY_LENGTH);
      const a = kyber1024Encapsulate(publicKey);
      const b = kyber1024Encapsulate(publicKey);
      expect(toHex(a.sharedSecret)).not.toBe(toHex(b.sharedSecret));
      expect(toHex(kyber1024Decapsulate(a.ciphertext, secretKey))).toBe(toHex(a.sharedSecret));
      expect(toHex(kyber1024Decapsulate(b.ciphertext, secretKey))).toBe(toHex(b.sharedSecret));
    });

    it('a tampered ciphertext gives the implicit-rejection secret SHAKE256(SHAKE256(z‖ct,32) ‖ SHA3-256(ct))', () => {
      use();
      const { publicKey, secretKey } = kyber1024GenerateKeyPair();
      const { ciphertext, sharedSecret } = kyber1024Encapsulate(publicKey);
      const bad = ciphertext.slice();
      bad[100] = bad[100]! ^ 0x01;
      const rejected = kyber1024Decapsulate(bad, secretKey);
      expect(toHex(rejected)).not.toBe(toHex(sharedSecret));
      const z = secretKey.subarray(3136, 3168);
      const kBar = refShake256(Uint8Array.of(...z, ...bad), { dkLen: 32 });
      const expected = refShake256(Uint8Array.of(...kBar, ...refSha3_256(bad)), { dkLen: 32 });
      expect(toHex(rejected)).toBe(toHex(expected));
    });

    it('validates lengths with BAD_LENGTH', () => {
      use();
      const { publicKey, secretKey } = kyber1024GenerateKeyPair();
      const { ciphertext } = kyber1024Encapsulate(publicKey);
      expect(errorCode(() => kyber1024Encapsulate(publicKey.subarray(1)))).toBe('BAD_LENGTH');
      expect(errorCode(() => kyber1024Encapsulate(publicKey, new Uint8Array(31)))).toBe(
        'BAD_LENGTH',
      );
      expect(errorCode(() => kyber1024Decapsulate(ciphertext.subarray(1), secretKey))).toBe(
        'BAD_LENGTH',
      );
      expect(
        errorCode(() => kyber1024Decapsulate(ciphertext, Uint8Array.of(8, ...secretKey))),
      ).toBe('BAD_LENGTH');
      expect(errorCode(() => kyber1024GenerateKeyPair(() => new Uint8Array(63)))).toBe(
        'BAD_LENGTH',
      );
    });

    it('rejects a public key with out-of-range coefficients (FIPS 203 modulus check) with BAD_KEY', () => {
      use();
      expect(
        errorCode(() =>
          kyber1024Encapsulate(new Uint8Array(KYBER1024_PUBLIC_KEY_LENGTH).fill(0xff)),
        ),
      ).toBe('BAD_KEY');
    });
  },
);

describe('Kyber1024 across backends', () => {
  it('is deterministic given the rng and the encapsulation randomness', () => {
    const seed = Uint8Array.from({ length: 64 }, (_, i) => i);
    const random = new Uint8Array(32).fill(9);
    const run = (backend: CryptoBackend) => {
      useBackend(backend);
      const pair = kyber1024GenerateKeyPair((n) => seed.slice(0, n));
      const { ciphertext, sharedSecret } = kyber1024Encapsulate(pair.publicKey, random);
      return [toHex(pair.publicKey), toHex(ciphertext), toHex(sharedSecret)].join(':');
    };
    const fromNode = run(nodeBackend);
    expect(run(nobleBackend)).toBe(fromNode);
    useBackend(nodeBackend);
  });

  it('the shared secret is SHAKE256(K̄ ‖ SHA3-256(ct)) with K̄ from ML-KEM-1024 on m = SHA3-256(rand)', () => {
    useBackend(nodeBackend);
    const pair = kyber1024GenerateKeyPair();
    const random = new Uint8Array(32).fill(5);
    const ours = kyber1024Encapsulate(pair.publicKey, random);
    const inner = ml_kem1024.encapsulate(pair.publicKey, refSha3_256(random));
    expect(toHex(ours.ciphertext)).toBe(toHex(inner.cipherText));
    const expected = refShake256(
      Uint8Array.of(...inner.sharedSecret, ...refSha3_256(inner.cipherText)),
      {
        dkLen: 32,
      },
    );
    expect(toHex(ours.sharedSecret)).toBe(toHex(expected));
  });
});
