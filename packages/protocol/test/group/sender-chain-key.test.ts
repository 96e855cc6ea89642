// Sender-key chain derivation (shared/specs/signal-wire.md §5), checked against an independent
// node:crypto computation of the formulas in the spec, plus libsignal's
// `sender_chain_key_iteration_tests` (rust/protocol/src/sender_keys.rs).
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import {
  MAX_SENDER_KEY_ITERATION,
  assertCanAdvance,
  expandSenderMessageKey,
  nextSenderChainKey,
  senderMessageKeySeed,
} from '../../src/group/sender-chain-key.js';
import { hex, seededRng } from './support.js';

function hmac(key: Uint8Array, label: number): Buffer {
  return createHmac('sha256', key)
    .update(Buffer.from([label]))
    .digest();
}

describe('sender chain key', () => {
  it('steps and seeds with HMAC-SHA256 labels 0x02 and 0x01', () => {
    const rng = seededRng('chain');
    for (let n = 0; n < 8; n++) {
      const ck = rng(32);
      expect(hex(nextSenderChainKey(ck))).toBe(hmac(ck, 2).toString('hex'));
      expect(hex(senderMessageKeySeed(ck))).toBe(hmac(ck, 1).toString('hex'));
    }
  });

  it('expands a seed with HKDF "WhisperGroup" into iv (first 16) then key (32)', () => {
    const rng = seededRng('expand');
    for (let n = 0; n < 8; n++) {
      const seed = rng(32);
      const okm = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), 'WhisperGroup', 48));
      const { iv, cipherKey } = expandSenderMessageKey(seed);
      expect(hex(iv)).toBe(okm.subarray(0, 16).toString('hex'));
      expect(hex(cipherKey)).toBe(okm.subarray(16, 48).toString('hex'));
    }
  });

  it('never repeats a seed over successive iterations (libsignal `iteration`)', () => {
    let ck: Uint8Array = new Uint8Array([1, 2, 3, 4]);
    const seen = new Set([hex(ck)]);
    for (let i = 1; i < 10; i++) {
      ck = nextSenderChainKey(ck);
      expect(seen.has(hex(ck))).toBe(false);
      seen.add(hex(ck));
    }
  });

  it('refuses to step past u32::MAX (libsignal `when_sender_chain_key_iteration_overflows`)', () => {
    expect(() => assertCanAdvance(MAX_SENDER_KEY_ITERATION)).toThrow(ProtocolError);
    expect(() => assertCanAdvance(MAX_SENDER_KEY_ITERATION - 1)).not.toThrow();
  });
});
