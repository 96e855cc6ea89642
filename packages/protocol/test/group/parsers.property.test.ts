// Network input is an expected event (CONVENTIONS.md "Errors"): every sender-key parser answers
// arbitrary or mutated bytes with a ProtocolError (or a valid result), never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { KeyPair } from '../../src/keys/curve.js';
import { SenderKeyDistributionMessage } from '../../src/group/sender-key-distribution-message.js';
import { SenderKeyMessage } from '../../src/group/sender-key-message.js';
import { SenderKeyRecord } from '../../src/group/sender-key-record.js';
import { uuidToBytes } from '../../src/group/uuid.js';
import { DISTRIBUTION_ID, seededRng } from './support.js';

const rng = seededRng('parsers');
const signing = KeyPair.generate(rng);
const validSkdm = SenderKeyDistributionMessage.create({
  distributionId: DISTRIBUTION_ID,
  chainId: 77,
  iteration: 3,
  chainKey: rng(32),
  signingKey: signing.publicKey,
}).serialize();
const validSkm = SenderKeyMessage.create(
  uuidToBytes(DISTRIBUTION_ID),
  77,
  3,
  rng(48),
  signing.privateKey,
  rng,
).serialize();
const validRecord = (() => {
  const record = new SenderKeyRecord();
  record.addState(3, 77, 3, rng(32), signing.publicKey, signing.privateKey);
  record.states[0]!.messageKeyFor(9).commit();
  return record.serialize();
})();

/** Random bytes, or a valid input with bytes replaced, inserted or cut off. */
function inputs(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = valid.slice();
      copy[i]! ^= x;
      return copy;
    }),
    fc.nat(valid.length).map((n) => valid.slice(0, n)),
    fc
      .tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(
        ([i, extra]) => new Uint8Array([...valid.subarray(0, i), ...extra, ...valid.subarray(i)]),
      ),
  );
}

function onlyProtocolErrors(parse: (bytes: Uint8Array) => unknown, valid: Uint8Array): void {
  fc.assert(
    fc.property(inputs(valid), (bytes) => {
      try {
        parse(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }),
    { numRuns: 500 },
  );
}

describe('sender-key parsers on hostile input', () => {
  it('SenderKeyDistributionMessage', () => {
    onlyProtocolErrors((b) => SenderKeyDistributionMessage.deserialize(b), validSkdm);
  });

  it('SenderKeyMessage (parse and verify)', () => {
    onlyProtocolErrors(
      (b) => SenderKeyMessage.deserialize(b).verifySignature(signing.publicKey),
      validSkm,
    );
  });

  it('SenderKeyRecord', () => {
    onlyProtocolErrors((b) => SenderKeyRecord.deserialize(b), validRecord);
  });
});
