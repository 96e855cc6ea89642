/**
 * Sender Keys for groups (shared/specs/signal-wire.md §5, libsignal `group_cipher.rs`): the sender
 * announces a chain with a SenderKeyDistributionMessage (sent to each member over the 1:1
 * sessions), then encrypts each group message once with AES-256-CBC under the next chain key and
 * signs it with the chain's signing key.
 *
 * Receiving follows libsignal's order of checks: parse, find the record (`NO_SENDER_KEY`), find
 * the chain id (`NO_SENDER_KEY`), version, signature (`INVALID_SIGNATURE`), iteration
 * (`DUPLICATE_MESSAGE`, `MESSAGE_GAP_TOO_LARGE`), decryption (`INVALID_MESSAGE`). The record
 * changes only after the plaintext is out, then it is saved.
 */
import { checkAddress, type ProtocolAddress } from '../address.js';
import { CryptoError, aes256CbcDecrypt, aes256CbcEncrypt } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import { KeyPair } from '../keys/curve.js';
import type { Rng } from '../rng.js';
import { expandSenderMessageKey } from './sender-chain-key.js';
import {
  SENDER_KEY_MESSAGE_VERSION,
  SenderKeyDistributionMessage,
} from './sender-key-distribution-message.js';
import { SenderKeyMessage, encodeSenderKeyMessage } from './sender-key-message.js';
import { SenderKeyRecord } from './sender-key-record.js';
import type { SenderKeyStore } from './sender-key-store.js';
import { canonicalUuid, uuidFromBytes, uuidToBytes } from './uuid.js';

/**
 * The distribution message for our own chain of `distributionId`, creating the chain (random
 * 31-bit chain id, chain key and signing key) when there is none yet.
 */
export async function createSenderKeyDistributionMessage(
  sender: ProtocolAddress,
  distributionId: string,
  store: SenderKeyStore,
  rng: Rng,
): Promise<SenderKeyDistributionMessage> {
  checkAddress(sender, 'sender');
  const id = canonicalUuid(distributionId, 'distributionId');
  let record = await store.getSenderKey(sender, id);
  if (record === null) {
    const random = rng(4);
    // libsignal-protocol-java uses 31-bit chain ids: a random u32 shifted right by one.
    const chainId =
      ((random[0]! << 24) | (random[1]! << 16) | (random[2]! << 8) | random[3]!) >>> 1;
    const chainKey = rng(32).slice(0, 32);
    const signing = KeyPair.generate(rng);
    record = new SenderKeyRecord();
    record.addState(
      SENDER_KEY_MESSAGE_VERSION,
      chainId,
      0,
      chainKey,
      signing.publicKey,
      signing.privateKey,
    );
    await store.saveSenderKey(sender, id, record);
  }
  const state = record.currentState();
  if (state === undefined) {
    throw new ProtocolError('INVALID_STATE', 'sender key record has no state');
  }
  return SenderKeyDistributionMessage.create({
    distributionId: id,
    chainId: state.chainId,
    iteration: state.iteration,
    chainKey: state.chainKey,
    signingKey: state.signingKey,
  });
}

/** Records the chain announced by `sender` so its group messages can be decrypted. */
export async function processSenderKeyDistributionMessage(
  sender: ProtocolAddress,
  message: SenderKeyDistributionMessage,
  store: SenderKeyStore,
): Promise<void> {
  checkAddress(sender, 'sender');
  const id = message.distributionId;
  const record = (await store.getSenderKey(sender, id)) ?? new SenderKeyRecord();
  record.addState(
    message.messageVersion,
    message.chainId,
    message.iteration,
    message.chainKey,
    message.signingKey,
    undefined,
  );
  await store.saveSenderKey(sender, id, record);
}

/** Encrypts `plaintext` for the group under our chain of `distributionId`; returns the wire bytes. */
export async function groupEncrypt(
  sender: ProtocolAddress,
  distributionId: string,
  plaintext: Uint8Array,
  store: SenderKeyStore,
  rng: Rng,
): Promise<Uint8Array> {
  checkAddress(sender, 'sender');
  const distributionUuid = uuidToBytes(distributionId, 'distributionId');
  const id = uuidFromBytes(distributionUuid);
  const record = await store.getSenderKey(sender, id);
  if (record === null) {
    throw new ProtocolError('NO_SENDER_KEY', `no sender key for distribution ${id}`);
  }
  const state = record.currentState();
  if (state?.signingPrivateKey === undefined) {
    throw new ProtocolError('INVALID_STATE', `sender key for ${id} cannot sign`);
  }
  const key = state.nextSendingKey();
  const { iv, cipherKey } = expandSenderMessageKey(key.seed);
  const ciphertext = aes256CbcEncrypt(cipherKey, iv, plaintext);
  const bytes = encodeSenderKeyMessage(
    distributionUuid,
    state.chainId,
    key.iteration,
    ciphertext,
    state.signingPrivateKey,
    rng,
  );
  key.commit();
  await store.saveSenderKey(sender, id, record);
  return bytes;
}

/** Decrypts a SenderKeyMessage from `sender`; the record is saved only on success. */
export async function groupDecrypt(
  sender: ProtocolAddress,
  ciphertext: Uint8Array,
  store: SenderKeyStore,
): Promise<Uint8Array> {
  checkAddress(sender, 'sender');
  const message = SenderKeyMessage.deserialize(ciphertext);
  const id = uuidFromBytes(message.distributionUuid);
  const record = await store.getSenderKey(sender, id);
  if (record === null) {
    throw new ProtocolError('NO_SENDER_KEY', `no sender key for distribution ${id}`);
  }
  const state = record.stateForChainId(message.chainId);
  if (state === undefined) {
    throw new ProtocolError('NO_SENDER_KEY', `no sender key chain ${message.chainId} for ${id}`);
  }
  if (message.messageVersion !== state.messageVersion) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `sender key message version mismatch`);
  }
  if (!message.verifySignature(state.signingKey)) {
    throw new ProtocolError('INVALID_SIGNATURE', 'sender key message signature does not verify');
  }
  const key = state.messageKeyFor(message.iteration);
  const { iv, cipherKey } = expandSenderMessageKey(key.seed);
  let plaintext: Uint8Array;
  try {
    plaintext = aes256CbcDecrypt(cipherKey, iv, message.ciphertext);
  } catch (cause) {
    if (!CryptoError.is(cause)) throw cause;
    throw new ProtocolError('INVALID_MESSAGE', 'sender key message does not decrypt', { cause });
  }
  key.commit();
  await store.saveSenderKey(sender, id, record);
  return plaintext;
}
