// SenderKeyRecord: the state rules of libsignal `sender_key_record_add_sender_key_state_tests`
// (rust/protocol/src/sender_keys.rs) and the versioned serialisation.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair, type PublicKey } from '../../src/keys/curve.js';
import { SENDER_KEY_MAX_MESSAGE_KEYS, SENDER_KEY_MAX_STATES } from '../../src/limits.js';
import { SenderKeyRecord } from '../../src/group/sender-key-record.js';
import { hex, seededRng, unhex } from './support.js';

const rng = seededRng('record');
const randomKey = (): PublicKey => KeyPair.generate(rng).publicKey;
/** libsignal's `chain_key(i)`: i as 16 big-endian bytes; Sotto needs 32, so it is repeated. */
const chainKey = (i: number): Uint8Array => {
  const out = new Uint8Array(32);
  out[15] = i;
  out[31] = i;
  return out;
};

function order(record: SenderKeyRecord): string[] {
  return record.states.map((s) => `${s.chainId}:${hex(s.signingKey.serialize())}`);
}

describe('SenderKeyRecord.addState', () => {
  it('adds a single state and a second one', () => {
    const record = new SenderKeyRecord();
    const k1 = randomKey();
    const k2 = randomKey();
    record.addState(3, 1, 1, chainKey(1), k1, undefined);
    expect(record.states.length).toBe(1);
    record.addState(3, 2, 1, chainKey(2), k2, undefined);
    expect(record.states.length).toBe(2);
    expect(hex(record.stateForChainId(1)!.chainKey)).toBe(hex(chainKey(1)));
    expect(hex(record.stateForChainId(2)!.chainKey)).toBe(hex(chainKey(2)));
  });

  it(`keeps at most ${SENDER_KEY_MAX_STATES} states, ejecting the oldest`, () => {
    expect(SENDER_KEY_MAX_STATES).toBe(5);
    const record = new SenderKeyRecord();
    const keys = Array.from({ length: 6 }, randomKey);
    for (let i = 0; i < 5; i++) record.addState(3, i + 1, 1, chainKey(i + 1), keys[i]!, undefined);
    const five = order(record);
    expect(five.map((s) => s.split(':')[0])).toEqual(['5', '4', '3', '2', '1']);
    record.addState(3, 6, 1, chainKey(6), keys[5]!, undefined);
    expect(order(record)).toEqual([`6:${hex(keys[5]!.serialize())}`, ...five.slice(0, 4)]);
    expect(record.stateForChainId(1)).toBeUndefined();
  });

  it('keeps the first data when the same chain id and key are added again', () => {
    const record = new SenderKeyRecord();
    const key = randomKey();
    record.addState(3, 1, 1, chainKey(1), key, undefined);
    record.addState(3, 1, 1, chainKey(2), key, undefined);
    expect(record.states.length).toBe(1);
    expect(hex(record.states[0]!.chainKey)).toBe(hex(chainKey(1)));
  });

  it('replaces a state whose chain id comes back with another key', () => {
    const record = new SenderKeyRecord();
    const k1 = randomKey();
    const k2 = randomKey();
    record.addState(3, 1, 1, chainKey(1), k1, undefined);
    record.addState(3, 1, 1, chainKey(2), k2, undefined);
    expect(record.states.length).toBe(1);
    expect(record.states[0]!.signingKey.equals(k2)).toBe(true);
    expect(hex(record.states[0]!.chainKey)).toBe(hex(chainKey(2)));
  });

  it('moves a re-added state to the front', () => {
    const record = new SenderKeyRecord();
    const k1 = randomKey();
    const k2 = randomKey();
    record.addState(3, 1, 1, chainKey(1), k1, undefined);
    record.addState(3, 2, 1, chainKey(2), k2, undefined);
    expect(record.states.map((s) => s.chainId)).toEqual([2, 1]);
    record.addState(3, 1, 1, chainKey(3), k1, undefined);
    expect(record.states.map((s) => s.chainId)).toEqual([1, 2]);
    expect(hex(record.states[0]!.chainKey)).toBe(hex(chainKey(1)));
  });
});

describe('SenderKeyRecord serialisation', () => {
  it('round-trips states, skipped keys and the private signing key', () => {
    const record = new SenderKeyRecord();
    const signer = KeyPair.generate(rng);
    record.addState(3, 7, 0, chainKey(7), randomKey(), undefined);
    record.addState(3, 9, 4, chainKey(9), signer.publicKey, signer.privateKey);
    const receiving = record.stateForChainId(7)!;
    receiving.messageKeyFor(10).commit(); // skips 0..9
    receiving.messageKeyFor(3).commit(); // uses one skipped key
    const bytes = record.serialize();
    const restored = SenderKeyRecord.deserialize(bytes);
    expect(hex(restored.serialize())).toBe(hex(bytes));
    const state = restored.stateForChainId(7)!;
    expect(state.iteration).toBe(11);
    expect(state.skippedIterations()).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(restored.stateForChainId(9)!.signingPrivateKey).toBeDefined();
    expect(restored.stateForChainId(7)!.signingPrivateKey).toBeUndefined();
    expect(restored.states.map((s) => s.chainId)).toEqual([9, 7]);
  });

  it('writes the libsignal structure followed by the format version (field 15 = 1)', () => {
    const record = new SenderKeyRecord();
    const key = randomKey();
    record.addState(3, 1, 0, chainKey(1), key, undefined);
    const state =
      '0801' + // chain_id 1
      '1222' +
      '1220' +
      hex(chainKey(1)) + // sender_chain_key {iteration 0 omitted, seed}
      '1a23' +
      '0a21' +
      hex(key.serialize()) + // sender_signing_key {public}
      '2803'; // message_version 3
    expect(hex(record.serialize())).toBe('0a' + (state.length / 2).toString(16) + state + '7801');
    // A record without field 15 (as libsignal writes it) reads the same.
    const libsignalBytes = unhex('0a' + (state.length / 2).toString(16) + state);
    expect(hex(SenderKeyRecord.deserialize(libsignalBytes).serialize())).toBe(
      hex(record.serialize()),
    );
  });

  it('refuses newer formats and garbage with INVALID_STATE', () => {
    for (const bytes of [unhex('7802'), unhex('0a03ffffff'), unhex('0a00'), unhex('ff')]) {
      try {
        SenderKeyRecord.deserialize(bytes);
        expect.unreachable();
      } catch (err) {
        expect(ProtocolError.is(err, 'INVALID_STATE')).toBe(true);
      }
    }
  });

  it(`keeps at most ${SENDER_KEY_MAX_MESSAGE_KEYS} skipped keys, oldest dropped first`, () => {
    const record = new SenderKeyRecord();
    record.addState(3, 1, 0, chainKey(1), randomKey(), undefined);
    const state = record.states[0]!;
    state.messageKeyFor(1500).commit();
    state.messageKeyFor(2600).commit();
    expect(state.skippedKeyCount).toBe(SENDER_KEY_MAX_MESSAGE_KEYS);
    const skipped = state.skippedIterations();
    // 0..1499 and 1501..2599 were skipped (2599 keys): the 599 oldest are gone.
    expect(skipped[0]).toBe(599);
    expect(skipped.includes(1500)).toBe(false);
    expect(skipped.at(-1)).toBe(2599);
    expect(() => state.messageKeyFor(598)).toThrow(/DUPLICATE_MESSAGE/);
    expect(() => state.messageKeyFor(599)).not.toThrow();
  });

  it('never prints keys', () => {
    const record = new SenderKeyRecord();
    const signer = KeyPair.generate(rng);
    record.addState(3, 1, 0, chainKey(0xab), signer.publicKey, signer.privateKey);
    for (const text of [JSON.stringify(record), inspect(record), inspect(record.states[0])]) {
      expect(text).not.toContain('abababab');
      expect(text).not.toContain(hex(signer.privateKey.serialize()).slice(0, 16));
      expect(text).toContain('"chainId":1');
    }
  });
});
