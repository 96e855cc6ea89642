/**
 * Micro-benchmark of the primitives on both backends, with libsignal's native binding as the
 * baseline where it exposes the same operation. Run: `npx tsx packages/crypto/test/primitives.bench.ts`
 * (not a test: no timing assertions). Prints µs/op; numbers on a shared machine are noisy.
 */
import { PrivateKey } from '@signalapp/libsignal-client';
import { useBackend } from '../src/active-backend.js';
import type { CryptoBackend } from '../src/backend.js';
import { nodeBackend } from '../src/backends/node.js';
import { nobleBackend } from '../src/backends/noble.js';
import {
  kyber1024Decapsulate,
  kyber1024Encapsulate,
  kyber1024GenerateKeyPair,
} from '../src/kyber1024.js';
import { xeddsaSign, xeddsaVerify } from '../src/xeddsa.js';

const DURATION_MS = Number(process.env['BENCH_MS'] ?? 500);

function measure(run: () => unknown): number {
  for (let i = 0; i < 50; i++) run();
  let count = 0;
  const start = performance.now();
  let now = start;
  while ((now = performance.now()) - start < DURATION_MS) {
    for (let i = 0; i < 10; i++) run();
    count += 10;
  }
  return ((now - start) * 1000) / count;
}

function cases(b: CryptoBackend): Record<string, () => unknown> {
  const key = b.randomBytes(32);
  const iv = b.randomBytes(16);
  const data256 = b.randomBytes(256);
  const data32 = b.randomBytes(32);
  const peer = b.x25519PublicKey(b.randomBytes(32));
  const cbc = b.aes256CbcEncrypt(key, iv, data256);
  const message = b.randomBytes(100);
  const random = b.randomBytes(64);
  const signingKey = b.randomBytes(32);
  const signingPublic = b.x25519PublicKey(signingKey);
  useBackend(b);
  const signature = xeddsaSign(signingKey, message, random);
  const kem = kyber1024GenerateKeyPair();
  const encapsulated = kyber1024Encapsulate(kem.publicKey);
  return {
    'x25519 (fresh private key array)': () => b.x25519(key.slice(), peer),
    'x25519 (same private key array)': () => b.x25519(key, peer),
    'hmacSha256 (32 B)': () => b.hmacSha256(key, data32),
    'hkdfSha256 (80 B out)': () => b.hkdfSha256(data32, key, data32, 80),
    'aes256CbcEncrypt (256 B)': () => b.aes256CbcEncrypt(key, iv, data256),
    'aes256CbcDecrypt (256 B)': () => b.aes256CbcDecrypt(key, iv, cbc),
    'xeddsaSign (100 B, cached key)': () => xeddsaSign(signingKey, message, random),
    'xeddsaVerify (100 B, cached key)': () => xeddsaVerify(signingPublic, message, signature),
    kyber1024Encapsulate: () => kyber1024Encapsulate(kem.publicKey),
    kyber1024Decapsulate: () => kyber1024Decapsulate(encapsulated.ciphertext, kem.secretKey),
  };
}

function libsignalCases(): Record<string, () => unknown> {
  const key = PrivateKey.generate();
  const peer = PrivateKey.generate().getPublicKey();
  const message = new Uint8Array(100);
  const signature = key.sign(message);
  const publicKey = key.getPublicKey();
  return {
    'x25519 (same private key array)': () => key.agree(peer),
    'xeddsaSign (100 B, cached key)': () => key.sign(message),
    'xeddsaVerify (100 B, cached key)': () => publicKey.verify(message, signature),
  };
}

const node = cases(nodeBackend);
const noble = cases(nobleBackend);
const lib = libsignalCases();
const rows: string[][] = [['operation', 'node µs', 'noble µs', 'libsignal µs', 'libsignal/node']];
for (const name of Object.keys(node)) {
  useBackend(nodeBackend);
  const n = measure(node[name]!);
  useBackend(nobleBackend);
  const nb = measure(noble[name]!);
  const l = lib[name] === undefined ? undefined : measure(lib[name]);
  rows.push([
    name,
    n.toFixed(1),
    nb.toFixed(1),
    l === undefined ? '' : l.toFixed(1),
    l === undefined ? '' : (l / n).toFixed(2),
  ]);
}
useBackend(nodeBackend);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
