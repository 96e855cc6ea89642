// Sender Keys interop with @signalapp/libsignal-client 0.103.0 in both directions
// (shared/specs/signal-wire.md §5): distribution messages, group messages in and out of order,
// skipped iterations, the 25 000-jump and 2 000-key limits, duplicates, and records.
import * as signal from '@signalapp/libsignal-client';
import {
  KeyPair,
  ProtocolError,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SenderKeyRecord,
  createSenderKeyDistributionMessage,
  groupDecrypt,
  groupEncrypt,
  limits,
  processSenderKeyDistributionMessage,
} from '@sotto/protocol';
import { InMemorySenderKeyStore } from '../../packages/protocol/src/group/in-memory-sender-key-store.js';
import { aes256CbcEncrypt, randomBytes, toHex } from '@sotto/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expandSenderMessageKey,
  nextSenderChainKey,
  senderMessageKeySeed,
} from '../../packages/protocol/src/group/sender-chain-key.js';
import { uuidToBytes } from '../../packages/protocol/src/group/uuid.js';
import {
  LibsignalSenderKeyStore,
  ab,
  libsignalOutcome,
  toLibsignalPrivate,
  toLibsignalPublic,
} from './harness-group/libsignal-stores.js';

const SENDER_UUID = '5c2e7f59-1b9a-4c41-9f5c-3b0b5f1f0a01';
const sotto = { name: SENDER_UUID, deviceId: 3 };
const lsAddress = signal.ProtocolAddress.new(SENDER_UUID, 3);
const rng = randomBytes;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

function newDistributionId(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function sottoCode(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (err) {
    if (ProtocolError.is(err)) return err.code;
    throw err;
  }
}

/** Sotto sends; a libsignal member has processed the SKDM. */
async function sottoSender() {
  const distributionId = newDistributionId();
  const senderStore = new InMemorySenderKeyStore();
  const skdm = await createSenderKeyDistributionMessage(sotto, distributionId, senderStore, rng);
  const libsignalMember = new LibsignalSenderKeyStore();
  await signal.processSenderKeyDistributionMessage(
    lsAddress,
    signal.SenderKeyDistributionMessage.deserialize(ab(skdm.serialize())),
    libsignalMember,
  );
  const encrypt = (s: string) => groupEncrypt(sotto, distributionId, text(s), senderStore, rng);
  return { distributionId, senderStore, skdm, libsignalMember, encrypt };
}

/** libsignal sends; a Sotto member has processed the SKDM. */
async function libsignalSender() {
  const distributionId = newDistributionId();
  const senderStore = new LibsignalSenderKeyStore();
  const skdm = await signal.SenderKeyDistributionMessage.create(
    lsAddress,
    distributionId,
    senderStore,
  );
  const sottoMember = new InMemorySenderKeyStore();
  await processSenderKeyDistributionMessage(
    sotto,
    SenderKeyDistributionMessage.deserialize(skdm.serialize()),
    sottoMember,
  );
  const encrypt = async (s: string) =>
    (await signal.groupEncrypt(lsAddress, distributionId, senderStore, ab(text(s)))).serialize();
  return { distributionId, senderStore, skdm, sottoMember, encrypt };
}

describe('sender keys: Sotto → libsignal', () => {
  it('libsignal reads the SKDM field for field', async () => {
    const { distributionId, skdm } = await sottoSender();
    const parsed = signal.SenderKeyDistributionMessage.deserialize(ab(skdm.serialize()));
    expect(parsed.distributionId()).toBe(distributionId);
    expect(parsed.chainId()).toBe(skdm.chainId);
    expect(parsed.iteration()).toBe(0);
    expect(toHex(parsed.chainKey())).toBe(toHex(skdm.chainKey));
    expect(toHex(parsed.serialize())).toBe(toHex(skdm.serialize()));
  });

  it('libsignal decrypts in order, out of order and after skipped iterations', async () => {
    const { encrypt, libsignalMember } = await sottoSender();
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) sent.push(await encrypt(`message ${i}`));
    // In order, then jumps ahead (10, 39, 20) and back, then the rest newest first.
    const head = [0, 1, 2, 10, 5, 3, 39, 4, 20, 6, 7, 8, 9];
    const order = [...head, ...[...Array(40).keys()].filter((i) => !head.includes(i)).reverse()];
    for (const i of order) {
      const plaintext = await signal.groupDecrypt(lsAddress, libsignalMember, ab(sent[i]!));
      expect(str(plaintext)).toBe(`message ${i}`);
    }
    for (const i of [0, 10, 39]) {
      expect(
        await libsignalOutcome(() => signal.groupDecrypt(lsAddress, libsignalMember, ab(sent[i]!))),
      ).toBe(`error:${signal.ErrorCode.DuplicatedMessage}`);
    }
  });

  it('libsignal agrees on the 25 000 forward-jump limit', async () => {
    const { skdm, senderStore, libsignalMember, distributionId } = await sottoSender();
    const signing = (await senderStore.getSenderKey(sotto, distributionId))!.states[0]!
      .signingPrivateKey!;
    const messageAt = (iteration: number): Uint8Array => {
      let ck = skdm.chainKey;
      for (let i = 0; i < iteration; i++) ck = nextSenderChainKey(ck);
      const { iv, cipherKey } = expandSenderMessageKey(senderMessageKeySeed(ck));
      return SenderKeyMessage.create(
        uuidToBytes(distributionId),
        skdm.chainId,
        iteration,
        aes256CbcEncrypt(cipherKey, iv, text(`at ${iteration}`)),
        signing,
        rng,
      ).serialize();
    };
    const limit = limits.SENDER_KEY_MAX_FORWARD_JUMPS;
    const tooFar = messageAt(limit + 1);
    expect(
      await libsignalOutcome(() => signal.groupDecrypt(lsAddress, libsignalMember, ab(tooFar))),
    ).toMatch(/^error:/);
    expect(str(await signal.groupDecrypt(lsAddress, libsignalMember, ab(messageAt(limit))))).toBe(
      `at ${limit}`,
    );
    // libsignal kept only the newest 2 000 skipped keys, like Sotto.
    expect(
      await libsignalOutcome(() =>
        signal.groupDecrypt(
          lsAddress,
          libsignalMember,
          ab(messageAt(limit - limits.SENDER_KEY_MAX_MESSAGE_KEYS - 1)),
        ),
      ),
    ).toBe(`error:${signal.ErrorCode.DuplicatedMessage}`);
    expect(
      str(
        await signal.groupDecrypt(
          lsAddress,
          libsignalMember,
          ab(messageAt(limit - limits.SENDER_KEY_MAX_MESSAGE_KEYS)),
        ),
      ),
    ).toBe(`at ${limit - limits.SENDER_KEY_MAX_MESSAGE_KEYS}`);
  });

  it('SKDM and SenderKeyMessage bytes equal libsignal’s for the same fields', () => {
    const signing = KeyPair.generate(rng);
    const chainKey = randomBytes(32);
    const distributionId = newDistributionId();
    const ours = SenderKeyDistributionMessage.create({
      distributionId,
      chainId: 123456,
      iteration: 77,
      chainKey,
      signingKey: signing.publicKey,
    });
    const theirs = signal.SenderKeyDistributionMessage._new(
      3,
      distributionId,
      123456,
      77,
      ab(chainKey),
      toLibsignalPublic(signing.publicKey),
    );
    expect(toHex(ours.serialize())).toBe(toHex(theirs.serialize()));
    const ciphertext = randomBytes(48);
    const oursMessage = SenderKeyMessage.create(
      uuidToBytes(distributionId),
      99,
      1000,
      ciphertext,
      signing.privateKey,
      rng,
    );
    const theirsMessage = signal.SenderKeyMessage._new(
      3,
      distributionId,
      99,
      1000,
      ab(ciphertext),
      toLibsignalPrivate(signing.privateKey),
    );
    const body = (b: Uint8Array) => toHex(b.subarray(0, b.length - 64));
    expect(body(oursMessage.serialize())).toBe(body(theirsMessage.serialize()));
    // Each side verifies the other's XEdDSA signature.
    expect(
      signal.SenderKeyMessage.deserialize(ab(oursMessage.serialize())).verifySignature(
        toLibsignalPublic(signing.publicKey),
      ),
    ).toBe(true);
    expect(
      SenderKeyMessage.deserialize(theirsMessage.serialize()).verifySignature(signing.publicKey),
    ).toBe(true);
  });
});

describe('sender keys: libsignal → Sotto', () => {
  it('Sotto reads libsignal’s SKDM', async () => {
    const { skdm, distributionId } = await libsignalSender();
    const parsed = SenderKeyDistributionMessage.deserialize(skdm.serialize());
    expect(parsed.distributionId).toBe(distributionId);
    expect(parsed.chainId).toBe(skdm.chainId());
    expect(parsed.iteration).toBe(skdm.iteration());
    expect(toHex(parsed.chainKey)).toBe(toHex(skdm.chainKey()));
    const again = SenderKeyDistributionMessage.create(parsed);
    expect(toHex(again.serialize())).toBe(toHex(skdm.serialize()));
  });

  it('Sotto decrypts in order, out of order and after skipped iterations', async () => {
    const { encrypt, sottoMember } = await libsignalSender();
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) sent.push(await encrypt(`lib ${i}`));
    const head = [3, 0, 1, 29, 2, 15];
    const order = [...head, ...[...Array(30).keys()].filter((i) => !head.includes(i)).reverse()];
    for (const i of order)
      expect(str(await groupDecrypt(sotto, sent[i]!, sottoMember))).toBe(`lib ${i}`);
    for (const i of [0, 29, 15])
      expect(await sottoCode(() => groupDecrypt(sotto, sent[i]!, sottoMember))).toBe(
        'DUPLICATE_MESSAGE',
      );
  });

  it('Sotto skips 2 100 libsignal messages and keeps the newest 2 000 keys', async () => {
    const { encrypt, sottoMember } = await libsignalSender();
    const sent: Uint8Array[] = [];
    for (let i = 0; i <= 2101; i++) sent.push(await encrypt(`n${i}`));
    expect(str(await groupDecrypt(sotto, sent[2101]!, sottoMember))).toBe('n2101');
    expect(await sottoCode(() => groupDecrypt(sotto, sent[100]!, sottoMember))).toBe(
      'DUPLICATE_MESSAGE',
    );
    expect(str(await groupDecrypt(sotto, sent[101]!, sottoMember))).toBe('n101');
    expect(str(await groupDecrypt(sotto, sent[2100]!, sottoMember))).toBe('n2100');
  });

  it('records move between libsignal and Sotto', async () => {
    const { encrypt, senderStore, distributionId } = await libsignalSender();
    const libsignalMember = new LibsignalSenderKeyStore();
    const skdm = await signal.SenderKeyDistributionMessage.create(
      lsAddress,
      distributionId,
      senderStore,
    );
    await signal.processSenderKeyDistributionMessage(lsAddress, skdm, libsignalMember);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) sent.push(await encrypt(`r${i}`));
    for (const i of [4, 1, 9]) await signal.groupDecrypt(lsAddress, libsignalMember, ab(sent[i]!));
    // libsignal record -> Sotto: same bytes plus Sotto's version field, same behaviour.
    const libBytes = (await libsignalMember.getSenderKey(lsAddress, distributionId))!.serialize();
    const record = SenderKeyRecord.deserialize(libBytes);
    expect(toHex(record.serialize())).toBe(toHex(libBytes) + '7801');
    const sottoMember = new InMemorySenderKeyStore();
    await sottoMember.saveSenderKey(sotto, distributionId, record);
    for (const i of [4, 1, 9])
      expect(await sottoCode(() => groupDecrypt(sotto, sent[i]!, sottoMember))).toBe(
        'DUPLICATE_MESSAGE',
      );
    for (const i of [0, 2, 3])
      expect(str(await groupDecrypt(sotto, sent[i]!, sottoMember))).toBe(`r${i}`);
    // Sotto record -> libsignal: libsignal loads it and carries on.
    const back = signal.SenderKeyRecord.deserialize(
      ab((await sottoMember.getSenderKey(sotto, distributionId))!.serialize()),
    );
    const libsignalAgain = new LibsignalSenderKeyStore();
    await libsignalAgain.saveSenderKey(lsAddress, distributionId, back);
    for (const i of [0, 2, 4]) {
      expect(
        await libsignalOutcome(() => signal.groupDecrypt(lsAddress, libsignalAgain, ab(sent[i]!))),
      ).toBe(`error:${signal.ErrorCode.DuplicatedMessage}`);
    }
    for (const i of [5, 11, 6])
      expect(str(await signal.groupDecrypt(lsAddress, libsignalAgain, ab(sent[i]!)))).toBe(`r${i}`);
    // A sending record made by Sotto encrypts in libsignal.
    const own = new InMemorySenderKeyStore();
    const ownSkdm = await createSenderKeyDistributionMessage(sotto, distributionId, own, rng);
    await groupEncrypt(sotto, distributionId, text('advance'), own, rng);
    const libsignalSenderStore = new LibsignalSenderKeyStore();
    await libsignalSenderStore.saveSenderKey(
      lsAddress,
      distributionId,
      signal.SenderKeyRecord.deserialize(
        ab((await own.getSenderKey(sotto, distributionId))!.serialize()),
      ),
    );
    const fromLibsignal = await signal.groupEncrypt(
      lsAddress,
      distributionId,
      libsignalSenderStore,
      ab(text('sent by libsignal with a Sotto record')),
    );
    const receiver = new InMemorySenderKeyStore();
    await processSenderKeyDistributionMessage(sotto, ownSkdm, receiver);
    expect(str(await groupDecrypt(sotto, fromLibsignal.serialize(), receiver))).toBe(
      'sent by libsignal with a Sotto record',
    );
  });
});

describe('sender keys: Sotto and libsignal accept and refuse the same deliveries', () => {
  it('holds for random schedules with repeats and corrupted copies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 1, max: 12 }).chain((n) =>
          fc
            .array(fc.tuple(fc.nat(n - 1), fc.option(fc.nat(8 * 200), { freq: 4 })), {
              minLength: n,
              maxLength: 3 * n,
            })
            .map((s) => [n, s] as const),
        ),
        async (libsignalSends, [n, schedule]) => {
          const distributionId = newDistributionId();
          const sottoMember = new InMemorySenderKeyStore();
          const libsignalMember = new LibsignalSenderKeyStore();
          let sent: Uint8Array[] = [];
          if (libsignalSends) {
            const store = new LibsignalSenderKeyStore();
            const skdm = await signal.SenderKeyDistributionMessage.create(
              lsAddress,
              distributionId,
              store,
            );
            await signal.processSenderKeyDistributionMessage(lsAddress, skdm, libsignalMember);
            await processSenderKeyDistributionMessage(
              sotto,
              SenderKeyDistributionMessage.deserialize(skdm.serialize()),
              sottoMember,
            );
            for (let i = 0; i < n; i++)
              sent.push(
                (
                  await signal.groupEncrypt(lsAddress, distributionId, store, ab(text(`p${i}`)))
                ).serialize(),
              );
          } else {
            const store = new InMemorySenderKeyStore();
            const skdm = await createSenderKeyDistributionMessage(
              sotto,
              distributionId,
              store,
              rng,
            );
            await processSenderKeyDistributionMessage(sotto, skdm, sottoMember);
            await signal.processSenderKeyDistributionMessage(
              lsAddress,
              signal.SenderKeyDistributionMessage.deserialize(ab(skdm.serialize())),
              libsignalMember,
            );
            sent = [];
            for (let i = 0; i < n; i++)
              sent.push(await groupEncrypt(sotto, distributionId, text(`p${i}`), store, rng));
          }
          for (const [i, flip] of schedule) {
            const bytes = sent[i]!.slice();
            if (flip !== null) bytes[(flip >> 3) % bytes.length]! ^= 1 << (flip & 7);
            const ours = await sottoCode(() => groupDecrypt(sotto, bytes, sottoMember));
            const theirs = await libsignalOutcome(() =>
              signal.groupDecrypt(lsAddress, libsignalMember, ab(bytes)),
            );
            expect(
              ours === 'ok',
              `delivery of ${i} flip ${String(flip)}: Sotto ${ours}, libsignal ${theirs}`,
            ).toBe(theirs === 'ok');
            if (ours === 'DUPLICATE_MESSAGE')
              expect(theirs).toBe(`error:${signal.ErrorCode.DuplicatedMessage}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
