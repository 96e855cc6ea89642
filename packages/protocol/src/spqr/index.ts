/**
 * SPQR v1, the Sparse Post-Quantum Ratchet (libsignal `pq_ratchet`, spqr crate v1.5.3), as the
 * Double Ratchet uses it (shared/specs/signal-wire.md §3.4 "Sending one message" / "Receiving one
 * message", §9):
 *
 * - send: `(payload, epochSecret?) = braid.send()`; an epoch secret is added to the chain;
 *   `(index, key) = chain.sendKey(epoch − 1)`; the message is `serialize(epoch, index, payload)`
 *   and `key` salts `WhisperMessageKeys`.
 * - recv: an empty field (or version byte 0) is rejected (MinimumVersion before the first
 *   receive, VersionMismatch after); a version byte > 1 is ignored (same state, no key);
 *   otherwise parse, `braid.recv`, add any epoch secret, and the key is `chain.recvKey(epoch − 1,
 *   index)` — none for `epoch − 1 == 0 && index == 0`.
 *
 * Every function is pure: the input state is never changed, so the caller commits the returned
 * state only after the Double Ratchet MAC verified. All rejections are
 * `ProtocolError('PQ_RATCHET')` with the reason in the message; bad stored state is
 * `ProtocolError('INVALID_STATE')`.
 *
 * Left out on purpose: version negotiation down to V0 (libsignal 0.103 always requires V1).
 */
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';
import { braidRecv, braidSend, initialSendCtState, initialSendEkState } from './braid.js';
import { addEpoch, createChain, recvKey, sendKey, type SpqrDirection } from './chain.js';
import { SPQR_MESSAGE_VERSION, parseSpqrMessage, serializeSpqrMessage } from './message.js';
import { deserializeState, serializeState } from './state-serialization.js';
import { SpqrState } from './state.js';

export type { SpqrDirection } from './chain.js';
export type { BraidStateKind } from './braid.js';
export { SpqrState } from './state.js';
export { SPQR_STATE_FORMAT_VERSION } from './state-serialization.js';

const AUTH_KEY_LENGTH = 32;

/**
 * A fresh state at epoch 1. The initiator (Alice) uses `A2B` and starts as the send_ek side; the
 * responder uses `B2A` and starts as the send_ct side. `authKey` is PQXDH's `PQR` (32 bytes);
 * `maxJump` defaults to `SPQR_MAX_JUMP` (libsignal passes 2^32 − 1 for a session with oneself).
 */
export function spqrInitialState(p: {
  authKey: Uint8Array;
  direction: SpqrDirection;
  maxJump?: number;
}): SpqrState {
  if (!(p.authKey instanceof Uint8Array) || p.authKey.length !== AUTH_KEY_LENGTH) {
    throw new ProtocolError('INVALID_STATE', 'SPQR auth key must be 32 bytes');
  }
  if (p.direction !== 'A2B' && p.direction !== 'B2A') {
    throw new ProtocolError('INVALID_STATE', 'SPQR direction must be A2B or B2A');
  }
  const braid =
    p.direction === 'A2B' ? initialSendEkState(p.authKey) : initialSendCtState(p.authKey);
  const chain = createChain(
    p.authKey,
    p.direction,
    p.maxJump === undefined ? {} : { maxJump: p.maxJump },
  );
  return new SpqrState({ direction: p.direction, braid, chain, received: false });
}

/** Produces the `pq_ratchet` bytes of the next message and its message key. */
export function spqrSend(
  state: SpqrState,
  rng: Rng,
): { state: SpqrState; message: Uint8Array; key: Uint8Array | null } {
  const { data } = state;
  const sent = braidSend(data.braid, rng);
  const chain =
    sent.epochSecret === null
      ? data.chain
      : addEpoch(data.chain, sent.epochSecret.epoch, sent.epochSecret.secret);
  const { chain: nextChain, index, key } = sendKey(chain, sent.epoch - 1);
  const message = serializeSpqrMessage({
    epoch: sent.epoch,
    chainIndex: index,
    payload: sent.payload,
  });
  return {
    state: new SpqrState({
      direction: data.direction,
      braid: sent.state,
      chain: nextChain,
      received: data.received,
    }),
    message,
    key,
  };
}

/** Processes the `pq_ratchet` bytes of a received message; returns its message key. */
export function spqrRecv(
  state: SpqrState,
  message: Uint8Array,
): { state: SpqrState; key: Uint8Array | null } {
  const { data } = state;
  if (message.length === 0 || message[0] === 0) {
    throw new ProtocolError(
      'PQ_RATCHET',
      data.received ? 'version mismatch after negotiation' : 'minimum version',
    );
  }
  if (message[0]! > SPQR_MESSAGE_VERSION) {
    // A future version: spqr ignores it and keeps speaking its own.
    return { state, key: null };
  }
  const msg = parseSpqrMessage(message);
  const received = braidRecv(data.braid, msg.epoch, msg.payload);
  let chain =
    received.epochSecret === null
      ? data.chain
      : addEpoch(data.chain, received.epochSecret.epoch, received.epochSecret.secret);
  const keyEpoch = msg.epoch - 1;
  let key: Uint8Array | null = null;
  if (!(keyEpoch === 0 && msg.chainIndex === 0)) {
    const r = recvKey(chain, keyEpoch, msg.chainIndex);
    chain = r.chain;
    key = r.key;
  }
  return {
    state: new SpqrState({
      direction: data.direction,
      braid: received.state,
      chain,
      received: true,
    }),
    key,
  };
}

/** Sotto's storage encoding of a state; the first byte is the format version. */
export function serializeSpqrState(state: SpqrState): Uint8Array {
  return serializeState(state);
}

/** Inverse of `serializeSpqrState`; `ProtocolError('INVALID_STATE')` on bad input. */
export function deserializeSpqrState(bytes: Uint8Array): SpqrState {
  return deserializeState(bytes);
}
