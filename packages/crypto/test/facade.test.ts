/** The package entry points: default backend selection, the facade, and the export lists. */
import { describe, expect, it } from 'vitest';
import * as nodeEntry from '../src/index.js';
import * as browserEntry from '../src/index.browser.js';

const {
  activeBackend,
  useBackend,
  nodeBackend,
  nobleBackend,
  x25519GenerateKeyPair,
  x25519,
  x25519PublicKey,
  hkdfSha256,
  hmacSha256,
  aes256CbcEncrypt,
  aes256CbcDecrypt,
  toHex,
  utf8,
  CryptoError,
} = nodeEntry;

describe('entry points', () => {
  it('the Node entry makes node:crypto the active backend', () => {
    expect(activeBackend()).toBe(nodeBackend);
  });

  it('the browser entry exports the same names except nodeBackend', () => {
    const nodeNames = Object.keys(nodeEntry)
      .filter((n) => n !== 'nodeBackend')
      .sort();
    expect(Object.keys(browserEntry).sort()).toEqual(nodeNames);
    expect('nodeBackend' in browserEntry).toBe(false);
  });

  it('useBackend switches every facade function and returns the previous backend', () => {
    const calls: string[] = [];
    const spy = new Proxy(nobleBackend, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value === 'function') calls.push(String(prop));
        return value;
      },
    });
    const previous = useBackend(spy);
    try {
      hmacSha256(utf8('k'), utf8('d'));
      hkdfSha256(utf8('k'), new Uint8Array(0), new Uint8Array(0), 32);
      aes256CbcDecrypt(
        new Uint8Array(32),
        new Uint8Array(16),
        aes256CbcEncrypt(new Uint8Array(32), new Uint8Array(16), utf8('x')),
      );
    } finally {
      expect(useBackend(previous)).toBe(spy);
    }
    expect(calls).toEqual(['hmacSha256', 'hkdfSha256', 'aes256CbcEncrypt', 'aes256CbcDecrypt']);
    expect(activeBackend()).toBe(nodeBackend);
  });
});

describe('x25519GenerateKeyPair', () => {
  it('clamps the private key and derives the matching public key', () => {
    for (const backend of [nodeBackend, nobleBackend]) {
      const previous = useBackend(backend);
      try {
        const { privateKey, publicKey } = x25519GenerateKeyPair();
        expect(privateKey.length).toBe(32);
        expect(privateKey[0]! & 7).toBe(0);
        expect(privateKey[31]! & 0xc0).toBe(0x40);
        expect(toHex(publicKey)).toBe(toHex(nobleBackend.x25519PublicKey(privateKey)));
        const other = x25519GenerateKeyPair();
        expect(toHex(x25519(privateKey, other.publicKey))).toBe(
          toHex(x25519(other.privateKey, publicKey)),
        );
      } finally {
        useBackend(previous);
      }
    }
  });

  it('uses the given rng (and copies its output)', () => {
    const raw = new Uint8Array(32).fill(0xff);
    const { privateKey, publicKey } = x25519GenerateKeyPair(() => raw);
    expect(toHex(raw)).toBe('ff'.repeat(32));
    expect(toHex(privateKey)).toBe('f8' + 'ff'.repeat(30) + '7f');
    expect(toHex(publicKey)).toBe(toHex(x25519PublicKey(privateKey)));
  });

  it('rejects a short rng output', () => {
    expect(() => x25519GenerateKeyPair(() => new Uint8Array(16))).toThrow(CryptoError);
  });
});
