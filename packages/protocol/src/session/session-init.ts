/**
 * Ratchet initialisation after PQXDH (shared/specs/signal-wire.md §3.1 "Ratchet initialisation";
 * libsignal `ratchet.rs`).
 *
 * Alice (initiator): receiver chain `{SPK_B, CK}`; fresh sending key R_A with
 * `(RK', CK_s) = KDF_RK(RK, DH(R_A, SPK_B))`; SPQR direction A2B with `auth_key = PQR`.
 * Bob (responder): sender chain `{SPK_B pair, CK}` with root RK; SPQR direction B2A.
 * SPQR is always V1 with minimum V1 (mandatory); its `max_jump` is unlimited (u32::MAX) for a
 * session with oneself, as the Double Ratchet's forward-jump limit is.
 */
import { KeyPair, type PublicKey } from '../keys/curve.js';
import type { IdentityKey } from '../keys/identity-key.js';
import { SPQR_MAX_JUMP } from '../limits.js';
import type { HandshakeKeys } from '../handshake/pqxdh.js';
import { ReceiverChain } from '../ratchet/receiver-chain.js';
import type { Rng } from '../rng.js';
import { spqrInitialState } from '../spqr/index.js';
import { CIPHERTEXT_MESSAGE_CURRENT_VERSION } from '../wire/signal-message.js';
import type { SessionState } from './session-state.js';

/** libsignal passes `u32::MAX` as SPQR's `max_jump` for sessions with oneself. */
const SELF_SESSION_SPQR_MAX_JUMP = 0xffff_ffff;

export interface AliceSessionParams {
  readonly keys: HandshakeKeys;
  readonly ourIdentity: IdentityKey;
  readonly theirIdentity: IdentityKey;
  readonly ourBaseKey: PublicKey;
  /** Bob's signed prekey: his first ratchet key. */
  readonly theirSignedPreKey: PublicKey;
  readonly selfSession: boolean;
}

export function initializeAliceSession(p: AliceSessionParams, rng: Rng): SessionState {
  const sendingKey = KeyPair.generate(rng);
  const [rootKey, senderChainKey] = p.keys.rootKey.createChain(
    p.theirSignedPreKey,
    sendingKey.privateKey,
  );
  return {
    version: CIPHERTEXT_MESSAGE_CURRENT_VERSION,
    localIdentity: p.ourIdentity,
    remoteIdentity: p.theirIdentity,
    rootKey,
    previousCounter: 0,
    sender: { ratchetKey: sendingKey, chainKey: senderChainKey },
    receivers: [new ReceiverChain(p.theirSignedPreKey, p.keys.chainKey)],
    pending: null,
    localRegistrationId: 0,
    remoteRegistrationId: 0,
    aliceBaseKey: p.ourBaseKey.serialize(),
    spqr: spqrInitialState({
      authKey: p.keys.pqrKey,
      direction: 'A2B',
      maxJump: p.selfSession ? SELF_SESSION_SPQR_MAX_JUMP : SPQR_MAX_JUMP,
    }),
  };
}

export interface BobSessionParams {
  readonly keys: HandshakeKeys;
  readonly ourIdentity: IdentityKey;
  readonly theirIdentity: IdentityKey;
  readonly theirBaseKey: PublicKey;
  /** Bob's signed prekey pair: his first ratchet key. */
  readonly ourSignedPreKey: KeyPair;
  readonly selfSession: boolean;
}

export function initializeBobSession(p: BobSessionParams): SessionState {
  return {
    version: CIPHERTEXT_MESSAGE_CURRENT_VERSION,
    localIdentity: p.ourIdentity,
    remoteIdentity: p.theirIdentity,
    rootKey: p.keys.rootKey,
    previousCounter: 0,
    sender: { ratchetKey: p.ourSignedPreKey, chainKey: p.keys.chainKey },
    receivers: [],
    pending: null,
    localRegistrationId: 0,
    remoteRegistrationId: 0,
    aliceBaseKey: p.theirBaseKey.serialize(),
    spqr: spqrInitialState({
      authKey: p.keys.pqrKey,
      direction: 'B2A',
      maxJump: p.selfSession ? SELF_SESSION_SPQR_MAX_JUMP : SPQR_MAX_JUMP,
    }),
  };
}
