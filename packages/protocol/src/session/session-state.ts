/**
 * One session's state (shared/specs/signal-wire.md §3.1, §3.2; libsignal `state/session.rs`):
 * identities, root key, sender chain, up to `MAX_RECEIVER_CHAINS` receiver chains (oldest first)
 * with their skipped keys, the pending PreKey items of an unacknowledged session, registration
 * ids, Alice's base key (to recognise repeated PreKey messages) and the SPQR state.
 *
 * States are immutable values: every ratchet operation returns a new state that shares whatever
 * did not change, so a failed decryption cannot have changed anything and an in-memory store can
 * keep live objects without copying.
 *
 * Storage format (Sotto's own; libsignal's `SessionStructure` cannot carry our SPQR state):
 * `FORMAT(0x01) ‖ protobuf` with the field numbers of libsignal's `SessionStructure` where the
 * concept is the same; skipped keys are packed as `be32(index) ‖ seed(32)` per key.
 * `deserializeSessionState` rejects anything malformed with `INVALID_STATE`.
 */
import { ProtocolError } from '../errors.js';
import { KeyPair, PrivateKey, PublicKey } from '../keys/curve.js';
import { IdentityKey } from '../keys/identity-key.js';
import { KEM_CIPHERTEXT_LENGTH } from '../keys/kem.js';
import { MAX_MESSAGE_KEYS, MAX_RECEIVER_CHAINS } from '../limits.js';
import { ChainKey } from '../ratchet/chain-key.js';
import { ReceiverChain } from '../ratchet/receiver-chain.js';
import { RootKey } from '../ratchet/root-key.js';
import { SkippedKeys } from '../ratchet/skipped-keys.js';
import { deserializeSpqrState, serializeSpqrState, type SpqrState } from '../spqr/index.js';
import { ProtoWriter, readFields, type ProtoField } from '../wire/protobuf.js';
import { CIPHERTEXT_MESSAGE_CURRENT_VERSION } from '../wire/signal-message.js';

/** Format byte of a standalone serialised session state. */
export const SESSION_STATE_FORMAT = 0x01;

export interface SenderChain {
  readonly ratchetKey: KeyPair;
  readonly chainKey: ChainKey;
}

/** What an unacknowledged initiator repeats in every PreKeySignalMessage (§2.4). */
export interface PendingPreKey {
  readonly preKeyId: number | null;
  readonly signedPreKeyId: number;
  readonly baseKey: PublicKey;
  readonly kyberPreKeyId: number;
  /** `0x08 ‖ 1568`. */
  readonly kyberCiphertext: Uint8Array;
  /** When the session was created (ms since the epoch, from the injected clock). */
  readonly timestamp: number;
}

export interface SessionState {
  readonly version: number;
  readonly localIdentity: IdentityKey;
  readonly remoteIdentity: IdentityKey;
  readonly rootKey: RootKey;
  /** The last sending index before the latest DH step (informational, sent as previous_counter). */
  readonly previousCounter: number;
  readonly sender: SenderChain;
  /** Oldest first; at most MAX_RECEIVER_CHAINS. */
  readonly receivers: readonly ReceiverChain[];
  /** Set until the first message from the peer has been decrypted. */
  readonly pending: PendingPreKey | null;
  readonly localRegistrationId: number;
  readonly remoteRegistrationId: number;
  /** The initiator's base key, serialised (33 bytes). */
  readonly aliceBaseKey: Uint8Array;
  readonly spqr: SpqrState;
}

function invalid(reason: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'INVALID_STATE',
    `session state: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

// ---------------------------------------------------------------------------------------------
// Encoding

function writeChainKey(w: ProtoWriter, chainKey: ChainKey): void {
  w.bytes(3, chainKey.key).uint32(4, chainKey.index);
}

function encodeSender(chain: SenderChain): Uint8Array {
  const w = new ProtoWriter(112);
  const priv = chain.ratchetKey.privateKey.serialize();
  w.bytes(1, chain.ratchetKey.publicKey.serialize()).bytes(2, priv);
  priv.fill(0);
  writeChainKey(w, chain.chainKey);
  return w.finish();
}

function encodeReceiver(chain: ReceiverChain): Uint8Array {
  const w = new ProtoWriter(80 + chain.skipped.size * 36);
  w.bytes(1, chain.ratchetKey.serialize());
  writeChainKey(w, chain.chainKey);
  if (chain.skipped.size > 0) {
    const packed = new Uint8Array(chain.skipped.size * 36);
    const view = new DataView(packed.buffer);
    let pos = 0;
    for (const [index, seed] of chain.skipped.entries()) {
      view.setUint32(pos, index);
      packed.set(seed, pos + 4);
      pos += 36;
    }
    w.bytes(5, packed);
  }
  return w.finish();
}

function encodePending(p: PendingPreKey): Uint8Array {
  const w = new ProtoWriter(1700);
  if (p.preKeyId !== null) w.uint32(1, p.preKeyId);
  w.bytes(2, p.baseKey.serialize())
    .uint32(3, p.signedPreKeyId)
    .uint64(4, p.timestamp)
    .uint32(5, p.kyberPreKeyId)
    .bytes(6, p.kyberCiphertext);
  return w.finish();
}

/** The protobuf body (no format byte); used inside session records. */
export function encodeSessionState(state: SessionState): Uint8Array {
  const w = new ProtoWriter(4096);
  w.uint32(1, state.version)
    .bytes(2, state.localIdentity.serialize())
    .bytes(3, state.remoteIdentity.serialize())
    .bytes(4, state.rootKey.key)
    .uint32(5, state.previousCounter)
    .bytes(6, encodeSender(state.sender));
  for (const chain of state.receivers) w.bytes(7, encodeReceiver(chain));
  if (state.pending !== null) w.bytes(9, encodePending(state.pending));
  w.uint32(10, state.remoteRegistrationId)
    .uint32(11, state.localRegistrationId)
    .bytes(13, state.aliceBaseKey)
    .bytes(15, serializeSpqrState(state.spqr));
  return w.finish();
}

/** `SESSION_STATE_FORMAT ‖ protobuf`. */
export function serializeSessionState(state: SessionState): Uint8Array {
  const body = encodeSessionState(state);
  const out = new Uint8Array(body.length + 1);
  out[0] = SESSION_STATE_FORMAT;
  out.set(body, 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function fields(bytes: Uint8Array, what: string): ProtoField[] {
  try {
    return [...readFields(bytes)];
  } catch (cause) {
    throw invalid(`${what} does not parse`, cause);
  }
}

function bytesOf(f: ProtoField, length: number | undefined, what: string): Uint8Array {
  if (f.wire !== 2) throw invalid(`${what} has the wrong wire type`);
  if (length !== undefined && f.bytes.length !== length)
    throw invalid(`${what} must be ${length} bytes`);
  return Uint8Array.from(f.bytes);
}

function uintOf(f: ProtoField, what: string, max = 0xffff_ffff): number {
  if (f.wire !== 0) throw invalid(`${what} has the wrong wire type`);
  if (f.int > max) throw invalid(`${what} is out of range`);
  return f.int;
}

function publicKeyOf(f: ProtoField, what: string): PublicKey {
  try {
    return PublicKey.deserialize(bytesOf(f, 33, what));
  } catch (cause) {
    if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
    throw invalid(`${what} is not a public key`, cause);
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw invalid(`${what} is missing`);
  return value;
}

function decodeSender(bytes: Uint8Array): SenderChain {
  let pub: PublicKey | undefined;
  let priv: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  let index: number | undefined;
  for (const f of fields(bytes, 'sender chain')) {
    if (f.field === 1) pub = publicKeyOf(f, 'sender ratchet key');
    else if (f.field === 2) priv = bytesOf(f, 32, 'sender ratchet private key');
    else if (f.field === 3) key = bytesOf(f, 32, 'sender chain key');
    else if (f.field === 4) index = uintOf(f, 'sender chain index');
  }
  const privateKey = PrivateKey.deserialize(need(priv, 'sender ratchet private key'));
  priv?.fill(0);
  const publicKey = need(pub, 'sender ratchet key');
  return {
    ratchetKey: new KeyPair(publicKey, privateKey),
    chainKey: new ChainKey(need(key, 'sender chain key'), need(index, 'sender chain index')),
  };
}

function decodeReceiver(bytes: Uint8Array): ReceiverChain {
  let pub: PublicKey | undefined;
  let key: Uint8Array | undefined;
  let index: number | undefined;
  let skipped = SkippedKeys.EMPTY;
  for (const f of fields(bytes, 'receiver chain')) {
    if (f.field === 1) pub = publicKeyOf(f, 'receiver ratchet key');
    else if (f.field === 3) key = bytesOf(f, 32, 'receiver chain key');
    else if (f.field === 4) index = uintOf(f, 'receiver chain index');
    else if (f.field === 5) {
      const packed = bytesOf(f, undefined, 'skipped keys');
      if (packed.length % 36 !== 0) throw invalid('skipped keys are ragged');
      const count = packed.length / 36;
      if (count > MAX_MESSAGE_KEYS) throw invalid('too many skipped keys');
      const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
      const entries: [number, Uint8Array][] = [];
      for (let pos = 0; pos < packed.length; pos += 36) {
        entries.push([view.getUint32(pos), packed.subarray(pos + 4, pos + 36)]);
      }
      skipped = SkippedKeys.fromEntries(entries);
      if (skipped.size !== count) throw invalid('duplicate skipped key');
    }
  }
  const chainKey = new ChainKey(
    need(key, 'receiver chain key'),
    need(index, 'receiver chain index'),
  );
  for (const [i] of skipped.entries()) {
    if (i >= chainKey.index) throw invalid('skipped key ahead of its chain');
  }
  return new ReceiverChain(need(pub, 'receiver ratchet key'), chainKey, skipped);
}

function decodePending(bytes: Uint8Array): PendingPreKey {
  let preKeyId: number | null = null;
  let baseKey: PublicKey | undefined;
  let signedPreKeyId: number | undefined;
  let timestamp: number | undefined;
  let kyberPreKeyId: number | undefined;
  let kyberCiphertext: Uint8Array | undefined;
  for (const f of fields(bytes, 'pending prekey')) {
    if (f.field === 1) preKeyId = uintOf(f, 'pending prekey id');
    else if (f.field === 2) baseKey = publicKeyOf(f, 'pending base key');
    else if (f.field === 3) signedPreKeyId = uintOf(f, 'pending signed prekey id');
    else if (f.field === 4) timestamp = uintOf(f, 'pending timestamp', Number.MAX_SAFE_INTEGER);
    else if (f.field === 5) kyberPreKeyId = uintOf(f, 'pending Kyber prekey id');
    else if (f.field === 6)
      kyberCiphertext = bytesOf(f, KEM_CIPHERTEXT_LENGTH, 'pending Kyber ciphertext');
  }
  return {
    preKeyId,
    baseKey: need(baseKey, 'pending base key'),
    signedPreKeyId: need(signedPreKeyId, 'pending signed prekey id'),
    timestamp: need(timestamp, 'pending timestamp'),
    kyberPreKeyId: need(kyberPreKeyId, 'pending Kyber prekey id'),
    kyberCiphertext: need(kyberCiphertext, 'pending Kyber ciphertext'),
  };
}

/** Decodes the protobuf body written by `encodeSessionState`. */
export function decodeSessionState(bytes: Uint8Array): SessionState {
  let version: number | undefined;
  let localIdentity: IdentityKey | undefined;
  let remoteIdentity: IdentityKey | undefined;
  let rootKey: Uint8Array | undefined;
  let previousCounter = 0;
  let sender: SenderChain | undefined;
  const receivers: ReceiverChain[] = [];
  let pending: PendingPreKey | null = null;
  let remoteRegistrationId = 0;
  let localRegistrationId = 0;
  let aliceBaseKey: Uint8Array | undefined;
  let spqr: SpqrState | undefined;
  try {
    for (const f of fields(bytes, 'session')) {
      switch (f.field) {
        case 1:
          version = uintOf(f, 'version');
          break;
        case 2:
          localIdentity = new IdentityKey(publicKeyOf(f, 'local identity'));
          break;
        case 3:
          remoteIdentity = new IdentityKey(publicKeyOf(f, 'remote identity'));
          break;
        case 4:
          rootKey = bytesOf(f, 32, 'root key');
          break;
        case 5:
          previousCounter = uintOf(f, 'previous counter');
          break;
        case 6:
          sender = decodeSender(bytesOf(f, undefined, 'sender chain'));
          break;
        case 7:
          receivers.push(decodeReceiver(bytesOf(f, undefined, 'receiver chain')));
          break;
        case 9:
          pending = decodePending(bytesOf(f, undefined, 'pending prekey'));
          break;
        case 10:
          remoteRegistrationId = uintOf(f, 'remote registration id');
          break;
        case 11:
          localRegistrationId = uintOf(f, 'local registration id');
          break;
        case 13:
          aliceBaseKey = bytesOf(f, 33, 'alice base key');
          break;
        case 15:
          try {
            spqr = deserializeSpqrState(bytesOf(f, undefined, 'SPQR state'));
          } catch (cause) {
            throw invalid('SPQR state does not parse', cause);
          }
          break;
        default:
          throw invalid(`unknown field ${f.field}`);
      }
    }
  } catch (cause) {
    if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
    throw invalid('does not parse', cause);
  }
  if (version !== CIPHERTEXT_MESSAGE_CURRENT_VERSION) throw invalid('unsupported session version');
  if (receivers.length > MAX_RECEIVER_CHAINS) throw invalid('too many receiver chains');
  return {
    version,
    localIdentity: need(localIdentity, 'local identity'),
    remoteIdentity: need(remoteIdentity, 'remote identity'),
    rootKey: new RootKey(need(rootKey, 'root key')),
    previousCounter,
    sender: need(sender, 'sender chain'),
    receivers,
    pending,
    localRegistrationId,
    remoteRegistrationId,
    aliceBaseKey: need(aliceBaseKey, 'alice base key'),
    spqr: need(spqr, 'SPQR state'),
  };
}

/** Parses `SESSION_STATE_FORMAT ‖ protobuf`; anything else is `INVALID_STATE`. */
export function deserializeSessionState(bytes: Uint8Array): SessionState {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2 || bytes[0] !== SESSION_STATE_FORMAT) {
    throw invalid('unknown format');
  }
  return decodeSessionState(bytes.subarray(1));
}
