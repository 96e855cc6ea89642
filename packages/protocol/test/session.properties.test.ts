/**
 * Property tests of the 1:1 session layer (CONVENTIONS.md test layer 2), with fast-check:
 * - any delivery order within the limits decrypts every message exactly once; a repeat is
 *   DUPLICATE_MESSAGE;
 * - any flipped bit in any message is rejected and leaves the receiver's state byte-identical
 *   (the exceptions, documented and checked: a PreKeySignalMessage's `registration_id` and the
 *   low nibble of its version byte, which libsignal does not authenticate either);
 * - serialising and restoring both sides mid-conversation keeps the conversation working;
 * - SPQR epochs advance.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, SessionRecord, type CiphertextMessage } from '../src/index.js';
import { readVarint } from '../src/wire/protobuf.js';
import {
  decrypt,
  encrypt,
  establishedPair,
  newPair,
  recordBytes,
  roundTrip,
  str,
  type Pair,
  type Party,
} from './session/helpers.js';

const isCode = (code: Parameters<typeof ProtocolError.is>[1]) => (e: unknown) =>
  ProtocolError.is(e, code);

/** The SPQR epoch of a message (`pq_ratchet` = 0x01 ‖ varint(epoch) ‖ …, field 5 of the SignalMessage). */
function spqrEpoch(m: CiphertextMessage): number {
  let body = m.body;
  if (m.type === 'prekey') body = fieldBytes(body.subarray(1), 4);
  const pq = fieldBytes(body.subarray(1, body.length - 8), 5);
  return readVarint(pq, 1)[0];
}

function fieldBytes(pb: Uint8Array, wanted: number): Uint8Array {
  let pos = 0;
  while (pos < pb.length) {
    const [key, p1] = readVarint(pb, pos);
    if (key % 8 === 0) {
      pos = readVarint(pb, p1)[1];
      continue;
    }
    const [len, p2] = readVarint(pb, p1);
    if (Math.floor(key / 8) === wanted) return pb.subarray(p2, p2 + len);
    pos = p2 + len;
  }
  throw new Error(`field ${wanted} not found`);
}

/** Byte range [start, end) of the registration_id field (tag + varint) in a PreKey message. */
function registrationIdRange(body: Uint8Array): [number, number] {
  let pos = 1;
  while (pos < body.length) {
    const start = pos;
    const [key, p1] = readVarint(body, pos);
    if (key % 8 === 0) {
      const [, p2] = readVarint(body, p1);
      if (Math.floor(key / 8) === 5) return [start, p2];
      pos = p2;
    } else {
      const [len, p2] = readVarint(body, p1);
      pos = p2 + len;
    }
  }
  return [0, 0];
}

describe('delivery order', () => {
  it('any order of bursts, with repeats and late messages, decrypts each message exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        async (seed, bursts, choices) => {
          const pair = await newPair(`order-${seed}`);
          const it = choices[Symbol.iterator]();
          const pick = (n: number): number => it.next().value % n;
          const late: { m: CiphertextMessage; from: Party; to: Party; text: string }[] = [];
          let sender = pair.alice;
          let receiver = pair.bob;
          for (let round = 0; round < bursts.length; round++) {
            const sent: { m: CiphertextMessage; text: string }[] = [];
            for (let i = 0; i < bursts[round]!; i++) {
              const t = `r${round} m${i}`;
              sent.push({ m: await encrypt(pair, sender, receiver, t), text: t });
            }
            // Deliver in a random order; hold some back until the very end (≤ 4 chains later,
            // within MAX_RECEIVER_CHAINS), but always deliver at least one so the ratchet turns.
            const order = sent.map((_, i) => i);
            for (let i = order.length - 1; i > 0; i--) {
              const j = pick(i + 1);
              [order[i], order[j]] = [order[j]!, order[i]!];
            }
            const deliverNow = order.filter((_, k) => k === 0 || pick(4) !== 0);
            for (const i of order) {
              const s = sent[i]!;
              if (!deliverNow.includes(i)) {
                late.push({ m: s.m, from: sender, to: receiver, text: s.text });
                continue;
              }
              expect(str(await decrypt(pair, sender, receiver, s.m))).toBe(s.text);
              if (pick(5) === 0) {
                await expect(decrypt(pair, sender, receiver, s.m)).rejects.toSatisfy(
                  isCode('DUPLICATE_MESSAGE'),
                );
              }
            }
            [sender, receiver] = [receiver, sender];
          }
          for (const l of late.reverse()) {
            expect(str(await decrypt(pair, l.from, l.to, l.m))).toBe(l.text);
            await expect(decrypt(pair, l.from, l.to, l.m)).rejects.toSatisfy(
              isCode('DUPLICATE_MESSAGE'),
            );
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('tampering', () => {
  async function checkFlip(
    pair: Pair,
    from: Party,
    to: Party,
    m: CiphertextMessage,
    bit: number,
    plain: string,
  ) {
    const before = await to.stores.sessionStore.getSession(from.address);
    const beforeBytes = before === null ? null : before.serialize();
    const prekeysBefore = to.stores.preKeyStore.ids().join(',');
    const body = Uint8Array.from(m.body);
    const byte = Math.floor(bit / 8) % body.length;
    body[byte]! ^= 1 << (bit % 8);
    const flipped: CiphertextMessage = { type: m.type, body };
    const [regStart, regEnd] = m.type === 'prekey' ? registrationIdRange(m.body) : [0, 0];
    let result: Uint8Array | undefined;
    try {
      result = await decrypt(pair, from, to, flipped);
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
    }
    if (result !== undefined) {
      // Only the unauthenticated parts of a PreKey message may change without it failing: the
      // registration id and the low nibble of the version byte (parsers read the high nibble).
      const lowNibble = byte === 0 && bit % 8 < 4;
      expect(m.type === 'prekey' && ((byte >= regStart && byte < regEnd) || lowNibble)).toBe(true);
      expect(str(result)).toBe(plain);
      return false;
    }
    const after = await to.stores.sessionStore.getSession(from.address);
    expect(after === null ? null : after.serialize()).toEqual(beforeBytes);
    expect(to.stores.preKeyStore.ids().join(',')).toBe(prekeysBefore);
    return true;
  }

  it('any flipped bit of a SignalMessage is rejected and leaves the state byte-identical', async () => {
    const pair = await establishedPair('flip-whisper');
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), async (bit, fromAlice) => {
        const [from, to] = fromAlice ? [pair.alice, pair.bob] : [pair.bob, pair.alice];
        const m = await encrypt(pair, from, to, 'flip me');
        expect(m.type).toBe('whisper');
        expect(await checkFlip(pair, from, to, m, bit % (m.body.length * 8), 'flip me')).toBe(true);
        // The genuine message still decrypts afterwards.
        expect(str(await decrypt(pair, from, to, m))).toBe('flip me');
      }),
      { numRuns: 200 },
    );
  });

  it('any flipped bit of a PreKeySignalMessage is rejected (registration id aside) and changes nothing', async () => {
    let seed = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (bit) => {
        const pair = await newPair(`flip-prekey-${seed++}`);
        const first = await encrypt(pair, pair.alice, pair.bob, 'first');
        const [regStart, regEnd] = registrationIdRange(first.body);
        expect(regEnd).toBeGreaterThan(regStart);
        if (
          await checkFlip(pair, pair.alice, pair.bob, first, bit % (first.body.length * 8), 'first')
        ) {
          // Rejected: nothing was consumed, so the genuine message still sets the session up.
          expect(str(await decrypt(pair, pair.alice, pair.bob, first))).toBe('first');
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('storage', () => {
  it('serialising and restoring both records at any point keeps the conversation going', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 4 }), fc.boolean()), {
          minLength: 2,
          maxLength: 10,
        }),
        async (seed, steps) => {
          const pair = await newPair(`store-${seed}`);
          let n = 0;
          for (const [aliceSends, count, restore] of steps) {
            const [from, to] = aliceSends
              ? [pair.alice, pair.bob]
              : ([pair.alice, pair.bob].reverse() as [Party, Party]);
            // Bob cannot speak first: he has no session before Alice's PreKey message.
            const [f, t] = n === 0 ? [pair.alice, pair.bob] : [from, to];
            for (let i = 0; i < count; i++) await roundTrip(pair, f, t, `m${n++}`);
            if (restore) {
              for (const [party, peer] of [
                [pair.alice, pair.bob],
                [pair.bob, pair.alice],
              ] as const) {
                const bytes = await recordBytes(party, peer);
                const restored = SessionRecord.deserialize(bytes);
                expect(restored.serialize()).toEqual(bytes);
                await party.stores.sessionStore.saveSession(peer.address, restored);
              }
            }
          }
          await roundTrip(pair, pair.bob, pair.alice, 'final b');
          await roundTrip(pair, pair.alice, pair.bob, 'final a');
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('SPQR', () => {
  it('epochs advance in a ping-pong conversation, in both directions, never backwards', async () => {
    const pair = await newPair('epochs');
    const seen = { alice: [] as number[], bob: [] as number[] };
    for (let i = 0; i < 100; i++) {
      seen.alice.push(spqrEpoch(await roundTrip(pair, pair.alice, pair.bob, `a${i}`)));
      seen.bob.push(spqrEpoch(await roundTrip(pair, pair.bob, pair.alice, `b${i}`)));
    }
    for (const epochs of [seen.alice, seen.bob]) {
      expect(epochs[0]).toBe(1);
      expect(Math.max(...epochs)).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < epochs.length; i++)
        expect(epochs[i]!).toBeGreaterThanOrEqual(epochs[i - 1]!);
    }
  });
});
