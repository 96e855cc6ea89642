// Group cipher (shared/specs/signal-wire.md §5, libsignal group_cipher.rs): round trips, limits,
// error codes, and "no state change on failure".
import { aes256CbcEncrypt } from '@sotto/crypto';
import { describe, expect, it } from 'vitest';
import { ProtocolError, type ProtocolErrorCode } from '../../src/errors.js';
import {
  createSenderKeyDistributionMessage,
  groupDecrypt,
  groupEncrypt,
  processSenderKeyDistributionMessage,
} from '../../src/group/group-cipher.js';
import {
  expandSenderMessageKey,
  nextSenderChainKey,
  senderMessageKeySeed,
} from '../../src/group/sender-chain-key.js';
import { InMemorySenderKeyStore } from '../../src/group/in-memory-sender-key-store.js';
import { SenderKeyDistributionMessage } from '../../src/group/sender-key-distribution-message.js';
import { SenderKeyMessage } from '../../src/group/sender-key-message.js';
import { SENDER_KEY_MAX_FORWARD_JUMPS, SENDER_KEY_MAX_MESSAGE_KEYS } from '../../src/limits.js';
import { uuidToBytes } from '../../src/group/uuid.js';
import { KeyPair } from '../../src/keys/curve.js';
import { ALICE, CAROL, DISTRIBUTION_ID, hex, seededRng } from './support.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

async function expectCode(promise: Promise<unknown>, code: ProtocolErrorCode): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(ProtocolError.is(err) ? err.code : err).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

async function setup(seed: string) {
  const rng = seededRng(seed);
  const aliceStore = new InMemorySenderKeyStore();
  const bobStore = new InMemorySenderKeyStore();
  const skdm = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, aliceStore, rng);
  await processSenderKeyDistributionMessage(
    ALICE,
    SenderKeyDistributionMessage.deserialize(skdm.serialize()),
    bobStore,
  );
  return { rng, aliceStore, bobStore, skdm };
}

async function receiverSnapshot(store: InMemorySenderKeyStore): Promise<string> {
  return hex((await store.getSenderKey(ALICE, DISTRIBUTION_ID))!.serialize());
}

describe('group cipher', () => {
  it('creates one chain per distribution id and reuses it', async () => {
    const { rng, aliceStore, skdm } = await setup('reuse');
    expect(skdm.chainId).toBeLessThan(2 ** 31);
    expect(skdm.iteration).toBe(0);
    const again = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, aliceStore, rng);
    expect(again.chainId).toBe(skdm.chainId);
    expect(hex(again.chainKey)).toBe(hex(skdm.chainKey));
    await groupEncrypt(ALICE, DISTRIBUTION_ID, text('x'), aliceStore, rng);
    const later = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, aliceStore, rng);
    expect(later.iteration).toBe(1);
    expect(hex(later.chainKey)).not.toBe(hex(skdm.chainKey));
  });

  it('delivers in order, out of order and to several members', async () => {
    const { rng, aliceStore, bobStore, skdm } = await setup('order');
    const carolStore = new InMemorySenderKeyStore();
    await processSenderKeyDistributionMessage(ALICE, skdm, carolStore);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      sent.push(
        await groupEncrypt(ALICE, DISTRIBUTION_ID.toUpperCase(), text(`m${i}`), aliceStore, rng),
      );
    }
    for (const i of [0, 1, 2, 3, 4, 5])
      expect(str(await groupDecrypt(ALICE, sent[i]!, bobStore))).toBe(`m${i}`);
    for (const i of [5, 2, 0, 4, 1, 3])
      expect(str(await groupDecrypt(ALICE, sent[i]!, carolStore))).toBe(`m${i}`);
    for (const i of [0, 3, 5])
      await expectCode(groupDecrypt(ALICE, sent[i]!, bobStore), 'DUPLICATE_MESSAGE');
  });

  it('encrypts the empty message and large ones', async () => {
    const { rng, aliceStore, bobStore } = await setup('sizes');
    for (const size of [0, 1, 15, 16, 17, 4096]) {
      const plaintext = rng(size);
      const ct = await groupEncrypt(ALICE, DISTRIBUTION_ID, plaintext, aliceStore, rng);
      expect(hex(await groupDecrypt(ALICE, ct, bobStore))).toBe(hex(plaintext));
    }
  });

  it(`accepts a jump of exactly ${SENDER_KEY_MAX_FORWARD_JUMPS} and refuses one more`, async () => {
    const { rng, aliceStore, skdm } = await setup('jump');
    const signing = (await aliceStore.getSenderKey(ALICE, DISTRIBUTION_ID))!.states[0]!;
    const uuid = uuidToBytes(DISTRIBUTION_ID);
    // Build far-ahead messages by hand with the sender's signing key and chain.
    const messageAt = (iteration: number): Uint8Array => {
      let ck = skdm.chainKey;
      for (let i = 0; i < iteration; i++) ck = nextSenderChainKey(ck);
      const { iv, cipherKey } = expandSenderMessageKey(senderMessageKeySeed(ck));
      return SenderKeyMessage.create(
        uuid,
        skdm.chainId,
        iteration,
        aes256CbcEncrypt(cipherKey, iv, text(`at ${iteration}`)),
        signing.signingPrivateKey!,
        rng,
      ).serialize();
    };
    const tooFar = messageAt(SENDER_KEY_MAX_FORWARD_JUMPS + 1);
    const justRight = messageAt(SENDER_KEY_MAX_FORWARD_JUMPS);
    const store = new InMemorySenderKeyStore();
    await processSenderKeyDistributionMessage(ALICE, skdm, store);
    const before = await receiverSnapshot(store);
    await expectCode(groupDecrypt(ALICE, tooFar, store), 'MESSAGE_GAP_TOO_LARGE');
    expect(await receiverSnapshot(store)).toBe(before);
    expect(str(await groupDecrypt(ALICE, justRight, store))).toBe(
      `at ${SENDER_KEY_MAX_FORWARD_JUMPS}`,
    );
    const state = (await store.getSenderKey(ALICE, DISTRIBUTION_ID))!.states[0]!;
    expect(state.skippedKeyCount).toBe(SENDER_KEY_MAX_MESSAGE_KEYS);
    // The oldest skipped keys were evicted: an early message is now a duplicate.
    await expectCode(groupDecrypt(ALICE, messageAt(3), store), 'DUPLICATE_MESSAGE');
    // One within the kept window still decrypts.
    const kept = SENDER_KEY_MAX_FORWARD_JUMPS - 5;
    expect(str(await groupDecrypt(ALICE, messageAt(kept), store))).toBe(`at ${kept}`);
  });

  it('answers NO_SENDER_KEY for an unknown sender, distribution or chain', async () => {
    const { rng, aliceStore, bobStore } = await setup('unknown');
    const ct = await groupEncrypt(ALICE, DISTRIBUTION_ID, text('hi'), aliceStore, rng);
    await expectCode(groupDecrypt(CAROL, ct, bobStore), 'NO_SENDER_KEY');
    await expectCode(groupDecrypt(ALICE, ct, new InMemorySenderKeyStore()), 'NO_SENDER_KEY');
    await expectCode(
      groupEncrypt(ALICE, 'e1d1d1d1-7000-11eb-b32a-33b8a8a487a6', text('x'), aliceStore, rng),
      'NO_SENDER_KEY',
    );
    // A new chain from Alice (she lost her state) is unknown until distributed.
    const fresh = new InMemorySenderKeyStore();
    await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, fresh, rng);
    const other = await groupEncrypt(ALICE, DISTRIBUTION_ID, text('new chain'), fresh, rng);
    await expectCode(groupDecrypt(ALICE, other, bobStore), 'NO_SENDER_KEY');
  });

  it('refuses to encrypt with a receiving state', async () => {
    const { rng, bobStore } = await setup('receiving');
    await expectCode(
      groupEncrypt(ALICE, DISTRIBUTION_ID, text('x'), bobStore, rng),
      'INVALID_STATE',
    );
  });

  it('refuses a forged signature and a bad ciphertext without changing state', async () => {
    const { rng, aliceStore, bobStore, skdm } = await setup('forged');
    const genuine = await groupEncrypt(ALICE, DISTRIBUTION_ID, text('genuine'), aliceStore, rng);
    const before = await receiverSnapshot(bobStore);
    // Signed by a key of our own: INVALID_SIGNATURE.
    const parsed = SenderKeyMessage.deserialize(genuine);
    const forged = SenderKeyMessage.create(
      parsed.distributionUuid,
      parsed.chainId,
      parsed.iteration,
      parsed.ciphertext,
      KeyPair.generate(rng).privateKey,
      rng,
    );
    await expectCode(groupDecrypt(ALICE, forged.serialize(), bobStore), 'INVALID_SIGNATURE');
    // Correctly signed but the ciphertext was replaced: INVALID_MESSAGE (bad padding / length).
    const signer = (await aliceStore.getSenderKey(ALICE, DISTRIBUTION_ID))!.states[0]!;
    for (const junk of [rng(32), rng(17), new Uint8Array(0)]) {
      const badCiphertext = SenderKeyMessage.create(
        parsed.distributionUuid,
        skdm.chainId,
        5,
        junk,
        signer.signingPrivateKey!,
        rng,
      );
      await expectCode(groupDecrypt(ALICE, badCiphertext.serialize(), bobStore), 'INVALID_MESSAGE');
    }
    expect(await receiverSnapshot(bobStore)).toBe(before);
    expect(str(await groupDecrypt(ALICE, genuine, bobStore))).toBe('genuine');
  });

  it('rotates chains: a new SKDM becomes current and old chains still decrypt', async () => {
    const rng = seededRng('rotate');
    const aliceStores = Array.from({ length: 7 }, () => new InMemorySenderKeyStore());
    const bobStore = new InMemorySenderKeyStore();
    const messages: Uint8Array[] = [];
    for (const store of aliceStores) {
      const skdm = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, store, rng);
      await processSenderKeyDistributionMessage(ALICE, skdm, bobStore);
      messages.push(
        await groupEncrypt(ALICE, DISTRIBUTION_ID, text(`chain ${messages.length}`), store, rng),
      );
    }
    const record = (await bobStore.getSenderKey(ALICE, DISTRIBUTION_ID))!;
    expect(record.states.length).toBe(5);
    // The two oldest chains were dropped.
    await expectCode(groupDecrypt(ALICE, messages[0]!, bobStore), 'NO_SENDER_KEY');
    await expectCode(groupDecrypt(ALICE, messages[1]!, bobStore), 'NO_SENDER_KEY');
    for (let i = 2; i < 7; i++)
      expect(str(await groupDecrypt(ALICE, messages[i]!, bobStore))).toBe(`chain ${i}`);
  });

  it('re-processing a known SKDM keeps the progress made', async () => {
    const { rng, aliceStore, bobStore, skdm } = await setup('replay-skdm');
    const m0 = await groupEncrypt(ALICE, DISTRIBUTION_ID, text('0'), aliceStore, rng);
    await groupDecrypt(ALICE, m0, bobStore);
    await processSenderKeyDistributionMessage(ALICE, skdm, bobStore);
    await expectCode(groupDecrypt(ALICE, m0, bobStore), 'DUPLICATE_MESSAGE');
  });

  it('keeps senders and devices apart', async () => {
    const rng = seededRng('apart');
    const sender = new InMemorySenderKeyStore();
    const receiver = new InMemorySenderKeyStore();
    const alice2 = { name: ALICE.name, deviceId: 2 };
    const s1 = await createSenderKeyDistributionMessage(ALICE, DISTRIBUTION_ID, sender, rng);
    const s2 = await createSenderKeyDistributionMessage(alice2, DISTRIBUTION_ID, sender, rng);
    expect(s1.chainId).not.toBe(s2.chainId);
    await processSenderKeyDistributionMessage(ALICE, s1, receiver);
    const ct = await groupEncrypt(alice2, DISTRIBUTION_ID, text('from device 2'), sender, rng);
    await expectCode(groupDecrypt(alice2, ct, receiver), 'NO_SENDER_KEY');
    await processSenderKeyDistributionMessage(alice2, s2, receiver);
    expect(str(await groupDecrypt(alice2, ct, receiver))).toBe('from device 2');
  });
});
