/**
 * Kyber1024 round 3 (signal-wire.md §3.3): libsignal's known answer from signal-vectors.json,
 * libsignal-generated keys, round trips, implicit rejection per the spec formula, and lengths.
 * libsignal's TypeScript API exposes no raw KEM encapsulate/decapsulate, so a ciphertext made by
 * libsignal is only available through the vector here and the protocol-level interop tests.
 */
import { readFileSync } from 'node:fs';
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
  readFileSync(new URL('../../../../shared/specs/signal-vectors.json', import.meta.url), 'utf8'),
) as { bob: Record<string, string>; pqxdh: Record<string, string> };

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

  it('the shared secret is SHAKE256(K̄ ‖ SHA3-256(ct)) with K̄ from ML-KEM-1024 on m = SHA3-256(rand)', async () => {
    const { ml_kem1024 } = await import('@noble/post-quantum/ml-kem.js');
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
