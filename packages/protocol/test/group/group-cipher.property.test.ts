// Properties of the group cipher (CONVENTIONS.md "Tests", layer 2; shared/specs/signal-wire.md §5):
// - any delivery order within the limits decrypts every message exactly once;
// - any flipped bit is rejected and leaves the receiver's state unchanged;
// - a receiver record serialised and restored mid-stream carries on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import {
  createSenderKeyDistributionMessage,
  groupDecrypt,
  groupEncrypt,
  processSenderKeyDistributionMessage,
} from '../../src/group/group-cipher.js';
import { InMemorySenderKeyStore } from '../../src/group/in-memory-sender-key-store.js';
import { SenderKeyRecord } from '../../src/group/sender-key-record.js';
import { ALICE, DISTRIBUTION_ID, hex, seededRng } from './support.js';

async function stream(seed: number, count: number) {
  const rng = seededRng(`prop-${seed}`);
  const sender = new InMemorySenderKeyStore();
  const receiver = new InMemorySenderKeyStore();
  const skdm = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, sender, rng);
  await processSenderKeyDistributionMessage(ALICE, skdm, receiver);
  const plaintexts: Uint8Array[] = [];
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    plaintexts.push(rng(i % 40));
    messages.push(await groupEncrypt(ALICE, DISTRIBUTION_ID, plaintexts[i]!, sender, rng));
  }
  return { receiver, plaintexts, messages };
}

async function snapshot(store: InMemorySenderKeyStore): Promise<string> {
  return hex((await store.getSenderKey(ALICE, DISTRIBUTION_ID))!.serialize());
}

describe('group cipher properties', () => {
  it('any delivery order (with repeats) decrypts each message exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc
          .integer({ min: 1, max: 24 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
              fc.array(fc.nat(n - 1), { maxLength: 8 }),
            ),
          ),
        async (seed, [n, order, repeats]) => {
          const { receiver, plaintexts, messages } = await stream(seed, n);
          const delivered = new Set<number>();
          // Interleave redeliveries of random messages with the permutation.
          const schedule = [...order];
          repeats.forEach((r, k) => schedule.splice((k * 3) % (schedule.length + 1), 0, r));
          for (const i of schedule) {
            try {
              const plaintext = await groupDecrypt(ALICE, messages[i]!, receiver);
              expect(delivered.has(i)).toBe(false);
              expect(hex(plaintext)).toBe(hex(plaintexts[i]!));
              delivered.add(i);
            } catch (err) {
              expect(ProtocolError.is(err, 'DUPLICATE_MESSAGE')).toBe(true);
              expect(delivered.has(i)).toBe(true);
            }
          }
          expect(delivered.size).toBe(n);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('any flipped bit is rejected without a state change', async () => {
    const { receiver, plaintexts, messages } = await stream(7, 3);
    await groupDecrypt(ALICE, messages[0]!, receiver); // the chain has moved once
    const target = messages[2]!;
    await fc.assert(
      fc.asyncProperty(fc.nat(target.length * 8 - 1), async (bit) => {
        const before = await snapshot(receiver);
        const flipped = target.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        await expect(groupDecrypt(ALICE, flipped, receiver)).rejects.toBeInstanceOf(ProtocolError);
        expect(await snapshot(receiver)).toBe(before);
      }),
      { numRuns: 300 },
    );
    // Every bit of the version byte and of the signature, exhaustively.
    for (const bit of [
      ...Array(8).keys(),
      ...Array.from({ length: 512 }, (_, k) => (target.length - 64) * 8 + k),
    ]) {
      const flipped = target.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      await expect(groupDecrypt(ALICE, flipped, receiver)).rejects.toBeInstanceOf(ProtocolError);
    }
    expect(hex(await groupDecrypt(ALICE, target, receiver))).toBe(hex(plaintexts[2]!));
    expect(hex(await groupDecrypt(ALICE, messages[1]!, receiver))).toBe(hex(plaintexts[1]!));
  });

  it('a record serialised and restored mid-stream carries on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc
          .integer({ min: 2, max: 16 })
          .chain((n) =>
            fc.tuple(
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
              fc.integer({ min: 0, max: n }),
            ),
          ),
        async (seed, [order, cut]) => {
          const { receiver, plaintexts, messages } = await stream(seed, order.length);
          for (const i of order.slice(0, cut)) await groupDecrypt(ALICE, messages[i]!, receiver);
          const bytes = (await receiver.getSenderKey(ALICE, DISTRIBUTION_ID))!.serialize();
          const restored = new InMemorySenderKeyStore();
          await restored.saveSenderKey(ALICE, DISTRIBUTION_ID, SenderKeyRecord.deserialize(bytes));
          for (const i of order.slice(0, cut)) {
            await expect(groupDecrypt(ALICE, messages[i]!, restored)).rejects.toSatisfy((e) =>
              ProtocolError.is(e, 'DUPLICATE_MESSAGE'),
            );
          }
          for (const i of order.slice(cut)) {
            expect(hex(await groupDecrypt(ALICE, messages[i]!, restored))).toBe(
              hex(plaintexts[i]!),
            );
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
