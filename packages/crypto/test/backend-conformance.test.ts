/**
 * The backend conformance suite: every {@link CryptoBackend} must pass the same published
 * known-answer vectors and negative cases. Sources are cited next to each vector.
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import type { CryptoBackend } from '../src/backend.js';
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import { CryptoError } from '../src/errors.js';

const hex = fromHex;
const repeat = (byte: number, n: number) => new Uint8Array(n).fill(byte);
const range = (from: number, to: number) =>
  Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

function expectCode(f: () => unknown, code: CryptoError['code']): void {
  let thrown: unknown;
  try {
    f();
  } catch (err) {
    thrown = err;
  }
  expect(CryptoError.is(thrown, code), `expected CryptoError ${code}, got ${String(thrown)}`).toBe(
    true,
  );
}

// NIST SP 800-38A, F.1.5/F.2.5/F.5.5: the AES-256 key and the four plaintext blocks.
const SP800_38A_KEY = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
const SP800_38A_PLAINTEXT = hex(
  '6bc1bee22e409f96e93d7e117393172a' +
    'ae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52ef' +
    'f69f2445df4f9b17ad2b417be66c3710',
);

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-16 (256-bit key).
const GCM_KEY = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
const GCM_IV = hex('cafebabefacedbaddecaf888');
const GCM_P64 = hex(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
    '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
);
const GCM_C64 = hex(
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
    '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
);
const GCM_AAD = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');

describe.each([nodeBackend, nobleBackend] as CryptoBackend[])('$name backend', (b) => {
  describe('SHA-2 (FIPS 180-4 examples)', () => {
    it('SHA-256("abc")', () => {
      expect(toHex(b.sha256(utf8('abc')))).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
    });
    it('SHA-512("abc") and sha512Parts', () => {
      const expected =
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a' +
        '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f';
      expect(toHex(b.sha512(utf8('abc')))).toBe(expected);
      expect(toHex(b.sha512Parts([utf8('a'), new Uint8Array(0), utf8('bc')]))).toBe(expected);
    });
  });

  describe('HMAC-SHA256 (RFC 4231 §4)', () => {
    const cases: [string, Uint8Array, Uint8Array, string][] = [
      [
        '1',
        repeat(0x0b, 20),
        utf8('Hi There'),
        'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      ],
      [
        '2',
        utf8('Jefe'),
        utf8('what do ya want for nothing?'),
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      ],
      [
        '3',
        repeat(0xaa, 20),
        repeat(0xdd, 50),
        '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
      ],
      [
        '4',
        range(1, 25),
        repeat(0xcd, 50),
        '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
      ],
      [
        '6',
        repeat(0xaa, 131),
        utf8('Test Using Larger Than Block-Size Key - Hash Key First'),
        '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      ],
      [
        '7',
        repeat(0xaa, 131),
        utf8(
          'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
        ),
        '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
      ],
    ];
    it.each(cases)('test case %s', (_name, key, data, expected) => {
      expect(toHex(b.hmacSha256(key, data))).toBe(expected);
      const mid = data.length >> 1;
      expect(toHex(b.hmacSha256Parts(key, [data.subarray(0, mid), data.subarray(mid)]))).toBe(
        expected,
      );
    });
  });

  describe('HKDF-SHA256 (RFC 5869 appendix A)', () => {
    it('A.1 basic', () => {
      const okm = b.hkdfSha256(repeat(0x0b, 22), range(0x00, 0x0c), range(0xf0, 0xf9), 42);
      expect(toHex(okm)).toBe(
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      );
    });
    it('A.2 longer inputs/outputs', () => {
      const okm = b.hkdfSha256(range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82);
      expect(toHex(okm)).toBe(
        'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
          '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
          'cc30c58179ec3e87c14c01d5c1f3434f1d87',
      );
    });
    it('A.3 zero-length salt and info; empty salt equals 32 zero bytes', () => {
      const expected =
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8';
      const ikm = repeat(0x0b, 22);
      expect(toHex(b.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(expected);
      expect(toHex(b.hkdfSha256(ikm, new Uint8Array(32), new Uint8Array(0), 42))).toBe(expected);
    });
    it('long outputs (past the HMAC-loop threshold) extend the short ones', () => {
      const ikm = range(1, 40);
      const long = b.hkdfSha256(ikm, range(2, 9), utf8('info'), 255 * 32);
      expect(long.length).toBe(8160);
      expect(toHex(b.hkdfSha256(ikm, range(2, 9), utf8('info'), 80))).toBe(
        toHex(long.subarray(0, 80)),
      );
      expect(b.hkdfSha256(ikm, range(2, 9), utf8('info'), 0).length).toBe(0);
    });
    it('rejects lengths over 255·32', () => {
      expectCode(
        () => b.hkdfSha256(new Uint8Array(1), new Uint8Array(0), new Uint8Array(0), 8161),
        'BAD_LENGTH',
      );
    });
  });

  describe('SHA-3 and SHAKE256 (FIPS 202; NIST example values)', () => {
    it('SHA3-256', () => {
      expect(toHex(b.sha3_256(new Uint8Array(0)))).toBe(
        'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
      );
      expect(toHex(b.sha3_256(utf8('abc')))).toBe(
        '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
      );
    });
    it('SHA3-512', () => {
      expect(toHex(b.sha3_512(new Uint8Array(0)))).toBe(
        'a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6' +
          '15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26',
      );
      expect(toHex(b.sha3_512(utf8('abc')))).toBe(
        'b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e' +
          '10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0',
      );
    });
    it('SHAKE256 (512-bit outputs) and prefix property', () => {
      const empty =
        '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f' +
        'd75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be';
      expect(toHex(b.shake256(new Uint8Array(0), 64))).toBe(empty);
      expect(toHex(b.shake256(new Uint8Array(0), 32))).toBe(empty.slice(0, 64));
      expect(toHex(b.shake256(utf8('abc'), 64))).toBe(
        '483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739' +
          'd5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4',
      );
      expect(b.shake256(utf8('abc'), 0).length).toBe(0);
      expect(b.shake256(utf8('abc'), 1000).length).toBe(1000);
    });
  });

  describe('AES-256-CBC (NIST SP 800-38A F.2.5) with PKCS#7', () => {
    const iv = range(0x00, 0x0f);
    const expectedCiphertext =
      'f58c4c04d6e5f1ba779eabfb5f7bfbd6' +
      '9cfc4e967edb808d679f777bc6702c7d' +
      '39f23369a9d9bacfa530e26304231461' +
      'b2eb05e2c39be9fcda6c19078c6a9d1b';
    it('encrypts the four blocks, then one full padding block', () => {
      const ct = b.aes256CbcEncrypt(SP800_38A_KEY, iv, SP800_38A_PLAINTEXT);
      expect(ct.length).toBe(80);
      expect(toHex(ct.subarray(0, 64))).toBe(expectedCiphertext);
      expect(toHex(b.aes256CbcDecrypt(SP800_38A_KEY, iv, ct))).toBe(toHex(SP800_38A_PLAINTEXT));
    });
    it('pads every length (0..33) and round-trips', () => {
      for (let n = 0; n <= 33; n++) {
        const pt = range(1, n).subarray(0, n);
        const ct = b.aes256CbcEncrypt(SP800_38A_KEY, iv, pt);
        expect(ct.length).toBe((Math.floor(n / 16) + 1) * 16);
        expect(toHex(b.aes256CbcDecrypt(SP800_38A_KEY, iv, ct))).toBe(toHex(pt));
      }
    });
    it('rejects bad padding with BAD_PADDING', () => {
      // A 16-byte plaintext gets a full block of 0x10 padding. XOR-ing the previous ciphertext
      // block changes the decrypted pad bytes predictably.
      const ct = b.aes256CbcEncrypt(SP800_38A_KEY, iv, range(1, 16));
      const withPad = (lastByte: number, otherFlip = 0) => {
        const c = ct.slice();
        c[15] = c[15]! ^ 0x10 ^ lastByte; // last pad byte -> lastByte
        c[14] = c[14]! ^ otherFlip;
        return c;
      };
      expectCode(() => b.aes256CbcDecrypt(SP800_38A_KEY, iv, withPad(0x00)), 'BAD_PADDING');
      expectCode(() => b.aes256CbcDecrypt(SP800_38A_KEY, iv, withPad(0x11)), 'BAD_PADDING');
      // Last byte says 2, the byte before it is 0x10 ^ 0x01 = 0x11: inconsistent.
      expectCode(() => b.aes256CbcDecrypt(SP800_38A_KEY, iv, withPad(0x02, 0x01)), 'BAD_PADDING');
      // Control: a consistent pad of 1 decrypts (to 31 bytes).
      expect(b.aes256CbcDecrypt(SP800_38A_KEY, iv, withPad(0x01)).length).toBe(31);
    });
    it('rejects ragged or empty ciphertexts and wrong key/iv sizes with BAD_LENGTH', () => {
      expectCode(() => b.aes256CbcDecrypt(SP800_38A_KEY, iv, new Uint8Array(0)), 'BAD_LENGTH');
      expectCode(() => b.aes256CbcDecrypt(SP800_38A_KEY, iv, new Uint8Array(31)), 'BAD_LENGTH');
      expectCode(() => b.aes256CbcEncrypt(new Uint8Array(16), iv, new Uint8Array(1)), 'BAD_LENGTH');
      expectCode(
        () => b.aes256CbcEncrypt(SP800_38A_KEY, new Uint8Array(12), new Uint8Array(1)),
        'BAD_LENGTH',
      );
    });
  });

  describe('AES-256-CTR (NIST SP 800-38A F.5.5)', () => {
    it('encrypts and decrypts', () => {
      const counter = range(0xf0, 0xff);
      const expected =
        '601ec313775789a5b7a7f504bbf3d228' +
        'f443e3ca4d62b59aca84e990cacaf5c5' +
        '2b0930daa23de94ce87017ba2d84988d' +
        'dfc9c58db67aada613c2dd08457941a6';
      expect(toHex(b.aes256Ctr(SP800_38A_KEY, counter, SP800_38A_PLAINTEXT))).toBe(expected);
      expect(toHex(b.aes256Ctr(SP800_38A_KEY, counter, hex(expected)))).toBe(
        toHex(SP800_38A_PLAINTEXT),
      );
      // Partial final block: a prefix of the keystream.
      expect(toHex(b.aes256Ctr(SP800_38A_KEY, counter, SP800_38A_PLAINTEXT.subarray(0, 21)))).toBe(
        expected.slice(0, 42),
      );
    });
    it('carries the counter across all 128 bits (big-endian)', () => {
      const key = range(1, 32);
      const allOnes = repeat(0xff, 16);
      const two = b.aes256Ctr(key, allOnes, new Uint8Array(32));
      // The second block's counter wraps to zero.
      expect(toHex(two.subarray(16))).toBe(
        toHex(b.aes256Ctr(key, new Uint8Array(16), new Uint8Array(16))),
      );
    });
  });

  describe('AES-256-GCM (McGrew-Viega test cases 14-16)', () => {
    it('test case 14: empty plaintext, zero key and IV', () => {
      expect(
        toHex(b.aes256GcmEncrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0))),
      ).toBe('530f8afbc74536b9a963b4f1c4cb738b');
    });
    it('test case 15: no AAD', () => {
      const sealed = b.aes256GcmEncrypt(GCM_KEY, GCM_IV, GCM_P64);
      expect(toHex(sealed)).toBe(toHex(GCM_C64) + 'b094dac5d93471bdec1a502270e3cc6c');
      expect(toHex(b.aes256GcmDecrypt(GCM_KEY, GCM_IV, sealed))).toBe(toHex(GCM_P64));
    });
    it('test case 16: with AAD', () => {
      const p = GCM_P64.subarray(0, 60);
      const sealed = b.aes256GcmEncrypt(GCM_KEY, GCM_IV, p, GCM_AAD);
      expect(toHex(sealed)).toBe(
        toHex(GCM_C64.subarray(0, 60)) + '76fc6ece0f4e1768cddf8853bb2d551b',
      );
      expect(toHex(b.aes256GcmDecrypt(GCM_KEY, GCM_IV, sealed, GCM_AAD))).toBe(toHex(p));
    });
    it('rejects a flipped tag, ciphertext or AAD bit with BAD_TAG', () => {
      const p = GCM_P64.subarray(0, 60);
      const sealed = b.aes256GcmEncrypt(GCM_KEY, GCM_IV, p, GCM_AAD);
      for (const index of [0, 59, 60, 75]) {
        const bad = sealed.slice();
        bad[index] = bad[index]! ^ 0x01;
        expectCode(() => b.aes256GcmDecrypt(GCM_KEY, GCM_IV, bad, GCM_AAD), 'BAD_TAG');
      }
      const badAad = GCM_AAD.slice();
      badAad[0] = badAad[0]! ^ 0x80;
      expectCode(() => b.aes256GcmDecrypt(GCM_KEY, GCM_IV, sealed, badAad), 'BAD_TAG');
      expectCode(() => b.aes256GcmDecrypt(GCM_KEY, GCM_IV, sealed), 'BAD_TAG');
    });
    it('rejects short input and wrong nonce sizes with BAD_LENGTH', () => {
      expectCode(() => b.aes256GcmDecrypt(GCM_KEY, GCM_IV, new Uint8Array(15)), 'BAD_LENGTH');
      expectCode(
        () => b.aes256GcmEncrypt(GCM_KEY, new Uint8Array(16), new Uint8Array(1)),
        'BAD_LENGTH',
      );
    });
  });

  describe('X25519 (RFC 7748)', () => {
    it('§5.2 test vectors (incl. a u with bit 255 set, which is masked)', () => {
      expect(
        toHex(
          b.x25519(
            hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
            hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
          ),
        ),
      ).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
      expect(
        toHex(
          b.x25519(
            hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
            hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
          ),
        ),
      ).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
    });
    it('§6.1 Diffie-Hellman', () => {
      const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
      const alicePub = b.x25519PublicKey(alicePriv);
      const bobPub = b.x25519PublicKey(bobPriv);
      expect(toHex(alicePub)).toBe(
        '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
      );
      expect(toHex(bobPub)).toBe(
        'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
      );
      const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
      expect(toHex(b.x25519(alicePriv, bobPub))).toBe(shared);
      expect(toHex(b.x25519(bobPriv, alicePub))).toBe(shared);
    });
    it('throws BAD_DH for small-order public keys (all-zero result)', () => {
      const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const smallOrder = [
        new Uint8Array(32), // u = 0
        Uint8Array.of(1, ...new Uint8Array(31)), // u = 1 (order 4)
        hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'), // order 8
      ];
      for (const pub of smallOrder) expectCode(() => b.x25519(priv, pub), 'BAD_DH');
    });
    it('rejects wrong key lengths with BAD_LENGTH', () => {
      expectCode(() => b.x25519(new Uint8Array(31), new Uint8Array(32)), 'BAD_LENGTH');
      expectCode(() => b.x25519(new Uint8Array(32), new Uint8Array(33)), 'BAD_LENGTH');
      expectCode(() => b.x25519PublicKey(new Uint8Array(33)), 'BAD_LENGTH');
    });
    it('a mutated private-key array is not served from a stale cache', () => {
      const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const first = toHex(b.x25519PublicKey(priv));
      priv.set(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
      expect(toHex(b.x25519PublicKey(priv))).toBe(
        'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
      );
      expect(first).not.toBe(toHex(b.x25519PublicKey(priv)));
    });
  });

  describe('Ed25519 (RFC 8032 §7.1)', () => {
    const vectors = [
      {
        name: 'TEST 1',
        secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        message: '',
        signature:
          'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
          '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      },
      {
        name: 'TEST 2',
        secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
        message: '72',
        signature:
          '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
          '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      },
      {
        name: 'TEST 3',
        secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
        public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
        message: 'af82',
        signature:
          '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
          '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
      },
    ];
    it.each(vectors)('$name: public key from seed, verify, and flipped bits fail', (v) => {
      expect(toHex(b.ed25519PublicKey(hex(v.secret)))).toBe(v.public);
      const pub = hex(v.public);
      const msg = hex(v.message);
      const sig = hex(v.signature);
      expect(b.ed25519Verify(pub, msg, sig)).toBe(true);
      for (const bit of [0, 255, 256, 511]) {
        const bad = sig.slice();
        bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
        expect(b.ed25519Verify(pub, msg, bad)).toBe(false);
      }
      expect(b.ed25519Verify(pub, Uint8Array.of(...msg, 0), sig)).toBe(false);
      const badPub = pub.slice();
      badPub[0] = badPub[0]! ^ 1;
      expect(b.ed25519Verify(badPub, msg, sig)).toBe(false);
    });
    it('returns false (does not throw) for a public key that is not a point', () => {
      // y = 2 has no x on edwards25519 (2 is not a valid y: (y²−1)/(dy²+1) is a non-square).
      const notAPoint = Uint8Array.of(2, ...new Uint8Array(31));
      expect(b.ed25519Verify(notAPoint, new Uint8Array(0), new Uint8Array(64))).toBe(false);
    });
    it('rejects s ≥ L (RFC 8032 §5.1.7)', () => {
      const v = vectors[0]!;
      const sig = hex(v.signature);
      // s + L, still < 2^256: same point equation, non-canonical scalar.
      const L = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
      let carry = 0;
      for (let i = 0; i < 32; i++) {
        const sum = sig[32 + i]! + L[i]! + carry;
        sig[32 + i] = sum & 0xff;
        carry = sum >> 8;
      }
      expect(b.ed25519Verify(hex(v.public), hex(v.message), sig)).toBe(false);
    });
  });

  describe('randomness and constant-time equality', () => {
    it('randomBytes returns fresh, distinct output of the requested length', () => {
      const seen = new Set<string>();
      for (const n of [0, 1, 32, 64, 255, 300, 5000]) {
        const r = b.randomBytes(n);
        expect(r.length).toBe(n);
        if (n >= 32) seen.add(toHex(r.subarray(0, 32)));
      }
      expect(seen.size).toBe(5);
      // Many small requests (crossing any internal pool refill) are all distinct.
      const many = new Set(Array.from({ length: 600 }, () => toHex(b.randomBytes(16))));
      expect(many.size).toBe(600);
    });
    it('constantTimeEqual', () => {
      expect(b.constantTimeEqual(utf8('abc'), utf8('abc'))).toBe(true);
      expect(b.constantTimeEqual(utf8('abc'), utf8('abd'))).toBe(false);
      expect(b.constantTimeEqual(utf8('abc'), utf8('ab'))).toBe(false);
      expect(b.constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    });
  });

  it('returns plain Uint8Arrays (not Buffers) that own their bytes', () => {
    const outputs = [
      b.sha256(utf8('x')),
      b.hmacSha256(utf8('k'), utf8('x')),
      b.hkdfSha256(utf8('k'), utf8('s'), utf8('i'), 42),
      b.aes256CbcEncrypt(SP800_38A_KEY, new Uint8Array(16), utf8('x')),
      b.x25519PublicKey(new Uint8Array(32).fill(3)),
      b.randomBytes(8),
    ];
    for (const out of outputs) {
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(out.length);
    }
  });
});
