/**
 * Ratchet building blocks (shared/specs/signal-wire.md §3.2): the chain-key vector from
 * libsignal's `ratchet/keys.rs` unit test, skipped-key limits, receiver-chain rules.
 */
import { fromHex, toHex } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import { KeyPair, ProtocolError } from '../../src/index.js';
import { ChainKey, MessageKeys, ReceiverChain, SkippedKeys } from '../../src/hazmat.js';
import { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS } from '../../src/limits.js';
import { seededRng } from '../../src/testing.js';

const rng = seededRng('ratchet');

describe('chain keys (libsignal rust/protocol/src/ratchet/keys.rs test_chain_key_derivation)', () => {
  it('derives the published message key, MAC key and next chain key', () => {
    const seed = fromHex('8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f');
    const chain = new ChainKey(seed, 0);
    const keys = MessageKeys.derive(chain.messageSeed(), null);
    expect(toHex(keys.cipherKey)).toBe(
      'bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217',
    );
    expect(toHex(keys.macKey)).toBe(
      'c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b',
    );
    const next = chain.next();
    expect(toHex(next.key)).toBe(
      '28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d',
    );
    expect(next.index).toBe(1);
  });
});

describe('skipped keys', () => {
  it('keep the newest MAX_MESSAGE_KEYS, oldest dropped first, and are copy-on-write', () => {
    const entries: [number, Uint8Array][] = [];
    for (let i = 0; i < MAX_MESSAGE_KEYS + 10; i++) entries.push([i, Uint8Array.of(i & 0xff)]);
    const a = SkippedKeys.EMPTY.with(entries.slice(0, 5));
    const b = a.with(entries.slice(5));
    expect(a.size).toBe(5);
    expect(b.size).toBe(MAX_MESSAGE_KEYS);
    expect(b.get(9)).toBeUndefined();
    expect(b.get(10)).toBeDefined();
    const c = b.without(10);
    expect(b.get(10)).toBeDefined();
    expect(c.get(10)).toBeUndefined();
    expect(c.size).toBe(MAX_MESSAGE_KEYS - 1);
  });
});

describe('receiver chains', () => {
  const key = KeyPair.generate(rng).publicKey;
  const start = new ChainKey(rng(32), 0);

  it('derive the same seed whether the message comes in order or after a jump', () => {
    let inOrder = new ReceiverChain(key, start);
    const seeds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = inOrder.seedFor(i, MAX_FORWARD_JUMPS);
      seeds.push(toHex(r.seed));
      inOrder = r.chain;
    }
    const jumped = new ReceiverChain(key, start).seedFor(9, MAX_FORWARD_JUMPS);
    expect(toHex(jumped.seed)).toBe(seeds[9]);
    let chain = jumped.chain;
    for (const i of [3, 0, 8, 5]) {
      const r = chain.seedFor(i, MAX_FORWARD_JUMPS);
      expect(toHex(r.seed)).toBe(seeds[i]);
      chain = r.chain;
      expect(() => chain.seedFor(i, MAX_FORWARD_JUMPS)).toThrow(ProtocolError);
    }
    // The chain the message came from is never modified.
    expect(jumped.chain.skipped.size).toBe(9);
  });

  it('accept a forward jump of exactly MAX_FORWARD_JUMPS and refuse one more', () => {
    const chain = new ReceiverChain(key, start);
    expect(chain.seedFor(MAX_FORWARD_JUMPS, MAX_FORWARD_JUMPS).chain.chainKey.index).toBe(
      MAX_FORWARD_JUMPS + 1,
    );
    try {
      chain.seedFor(MAX_FORWARD_JUMPS + 1, MAX_FORWARD_JUMPS);
      throw new Error('accepted');
    } catch (e) {
      expect(ProtocolError.is(e, 'MESSAGE_GAP_TOO_LARGE')).toBe(true);
    }
    // Unlimited for a session with oneself.
    expect(chain.seedFor(MAX_FORWARD_JUMPS + 1, Number.POSITIVE_INFINITY).seed.length).toBe(32);
  });

  it('keep only the newest 2000 skipped seeds after a long jump; older counters are duplicates', () => {
    const chain = new ReceiverChain(key, start).seedFor(2500, MAX_FORWARD_JUMPS).chain;
    expect(chain.skipped.size).toBe(MAX_MESSAGE_KEYS);
    expect(chain.seedFor(500, MAX_FORWARD_JUMPS).seed.length).toBe(32);
    try {
      chain.seedFor(499, MAX_FORWARD_JUMPS);
      throw new Error('accepted');
    } catch (e) {
      expect(ProtocolError.is(e, 'DUPLICATE_MESSAGE')).toBe(true);
    }
  });
});
