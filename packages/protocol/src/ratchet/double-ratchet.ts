/**
 * The Double Ratchet with the SPQR key mixed into every message key — libsignal's "triple
 * ratchet" (shared/specs/signal-wire.md §3.2, §3.4; libsignal `double_ratchet.rs`,
 * `triple_ratchet.rs`).
 *
 * Encrypt: SPQR send → seed of the sender chain → `WhisperMessageKeys` (salt = SPQR key) →
 * AES-256-CBC → SignalMessage with MAC → sender chain steps.
 * Decrypt: find (or create, by a DH ratchet step) the receiver chain of the message's ratchet key →
 * seed for `counter` (skipped keys, duplicates, forward-jump limit) → SPQR receive → message keys
 * → MAC → `addresses` → AES-256-CBC.
 *
 * Nothing is committed unless the MAC verifies and the plaintext decrypts: both functions take a
 * state and return a new one, never modifying their input (neither the Double Ratchet part nor
 * the SPQR part). Receiving a new ratchet key performs the two root steps of §3.2:
 * `(rk, ckR) = KDF_RK(rk, DH(ourSending, theirs))`, new sending key, `(rk, ckS) = KDF_RK(rk,
 * DH(newSending, theirs))`; the oldest receiver chain beyond MAX_RECEIVER_CHAINS is dropped
 * together with its skipped keys.
 */
import { aes256CbcDecrypt, aes256CbcEncrypt, bytesEqual } from '@sotto/crypto';
import type { ProtocolAddress } from '../address.js';
import { ProtocolError } from '../errors.js';
import { KeyPair, type PublicKey } from '../keys/curve.js';
import { MAX_FORWARD_JUMPS, MAX_RECEIVER_CHAINS } from '../limits.js';
import type { Rng } from '../rng.js';
import type { SessionState } from '../session/session-state.js';
import { spqrRecv, spqrSend } from '../spqr/index.js';
import {
  encodeAddresses,
  encodeSignalMessage,
  verifySignalMessageMac,
  type SignalMessage,
} from '../wire/signal-message.js';
import { MessageKeys } from './message-keys.js';
import { ReceiverChain } from './receiver-chain.js';

export interface RatchetEncryptResult {
  /** The serialised SignalMessage (MAC included). */
  readonly message: Uint8Array;
  readonly state: SessionState;
}

export interface RatchetDecryptResult {
  readonly plaintext: Uint8Array;
  readonly state: SessionState;
}

/**
 * Encrypts one message. `addresses` is the 36-byte field of §2.3 (only for the SignalMessage
 * inside a PreKeySignalMessage) or `null`.
 */
export function ratchetEncrypt(
  state: SessionState,
  plaintext: Uint8Array,
  addresses: Uint8Array | null,
  rng: Rng,
): RatchetEncryptResult {
  const pq = spqrSend(state.spqr, rng);
  const { chainKey, ratchetKey } = state.sender;
  const keys = MessageKeys.derive(chainKey.messageSeed(), pq.key);
  const ciphertext = aes256CbcEncrypt(keys.cipherKey, keys.iv, plaintext);
  const message = encodeSignalMessage(
    {
      ratchetKey: ratchetKey.publicKey.serialize(),
      counter: chainKey.index,
      previousCounter: state.previousCounter,
      ciphertext,
      pqRatchet: pq.message,
      addresses,
    },
    keys.macKey,
    state.localIdentity.serialize(),
    state.remoteIdentity.serialize(),
  );
  return {
    message,
    state: { ...state, sender: { ratchetKey, chainKey: chainKey.next() }, spqr: pq.state },
  };
}

export interface RatchetDecryptContext {
  /** Us (the recipient of the message). */
  readonly localAddress: ProtocolAddress;
  /** The peer (the sender of the message). */
  readonly remoteAddress: ProtocolAddress;
  readonly rng: Rng;
}

/** The DH ratchet step for a new ratchet key of the peer (§3.2 "Receiving a new ratchet key"). */
function dhRatchetStep(
  state: SessionState,
  theirRatchetKey: PublicKey,
  rng: Rng,
): { state: SessionState; chain: ReceiverChain } {
  const [rootKey, receiverChainKey] = state.rootKey.createChain(
    theirRatchetKey,
    state.sender.ratchetKey.privateKey,
  );
  const ratchetKey = KeyPair.generate(rng);
  const [nextRootKey, senderChainKey] = rootKey.createChain(theirRatchetKey, ratchetKey.privateKey);
  const chain = new ReceiverChain(theirRatchetKey, receiverChainKey);
  const receivers = [...state.receivers, chain];
  if (receivers.length > MAX_RECEIVER_CHAINS)
    receivers.splice(0, receivers.length - MAX_RECEIVER_CHAINS);
  return {
    state: {
      ...state,
      rootKey: nextRootKey,
      previousCounter: Math.max(state.sender.chainKey.index - 1, 0),
      sender: { ratchetKey, chainKey: senderChainKey },
      receivers,
    },
    chain,
  };
}

function findReceiverChain(state: SessionState, theirRatchetKey: PublicKey): number {
  const receivers = state.receivers;
  for (let i = receivers.length - 1; i >= 0; i--) {
    if (bytesEqual(receivers[i]!.ratchetKey.u, theirRatchetKey.u)) return i;
  }
  return -1;
}

/**
 * Decrypts one SignalMessage with `state`. Throws `DUPLICATE_MESSAGE`, `MESSAGE_GAP_TOO_LARGE`,
 * `PQ_RATCHET`, `INVALID_MAC`, `ADDRESS_MISMATCH`, `INVALID_MESSAGE` (bad padding) or
 * `INVALID_KEY` (a degenerate ratchet key); `state` is never modified.
 */
export function ratchetDecrypt(
  state: SessionState,
  message: SignalMessage,
  ctx: RatchetDecryptContext,
): RatchetDecryptResult {
  if (message.version !== state.version) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `message version ${message.version} does not match the session`,
    );
  }
  const selfSession = state.localIdentity.isSameAccount(
    ctx.localAddress,
    state.remoteIdentity,
    ctx.remoteAddress,
  );
  const maxForwardJumps = selfSession ? Number.POSITIVE_INFINITY : MAX_FORWARD_JUMPS;

  let next = state;
  let index = findReceiverChain(state, message.ratchetKey);
  let chain: ReceiverChain;
  if (index < 0) {
    const stepped = dhRatchetStep(state, message.ratchetKey, ctx.rng);
    next = stepped.state;
    chain = stepped.chain;
    index = next.receivers.length - 1;
  } else {
    chain = state.receivers[index]!;
  }
  const { seed, chain: advanced } = chain.seedFor(message.counter, maxForwardJumps);

  const pq = spqrRecv(state.spqr, message.pqRatchet);
  const keys = MessageKeys.derive(seed, pq.key);
  if (
    !verifySignalMessageMac(
      message,
      keys.macKey,
      state.remoteIdentity.serialize(),
      state.localIdentity.serialize(),
    )
  ) {
    throw new ProtocolError('INVALID_MAC', 'message MAC does not verify');
  }
  if (message.addresses !== null) {
    const expected = encodeAddresses(ctx.remoteAddress, ctx.localAddress);
    if (expected === null || !bytesEqual(expected, message.addresses)) {
      throw new ProtocolError('ADDRESS_MISMATCH', 'message addresses do not match this session');
    }
  }
  let plaintext: Uint8Array;
  try {
    plaintext = aes256CbcDecrypt(keys.cipherKey, keys.iv, message.ciphertext);
  } catch (cause) {
    throw new ProtocolError('INVALID_MESSAGE', 'ciphertext does not decrypt', { cause });
  }

  const receivers = next.receivers.slice();
  receivers[index] = advanced;
  return { plaintext, state: { ...next, receivers, spqr: pq.state, pending: null } };
}
