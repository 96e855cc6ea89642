/**
 * Session establishment and 1:1 encryption (shared/specs/signal-wire.md §1, §2.3, §2.4, §3;
 * libsignal `session.rs`, `session_management.rs`).
 *
 * Two layers:
 * - a pure core — `initiateSession`, `acceptPreKeyMessage`, `encryptWithRecord`,
 *   `decryptWithRecord` — that takes records/states and returns new ones (nothing is modified in
 *   place, so a failure changes nothing);
 * - the store-based API that mirrors libsignal's: `processPreKeyBundle`, `signalEncrypt`,
 *   `signalDecrypt`, `signalDecryptPreKey`, with `ctx = { rng, now }` injected.
 *
 * Session selection ("Sesame") follows libsignal: decrypt with the current state, then with the
 * archived states newest first (a success there promotes that state); a duplicate stops the
 * search; the SignalMessage inside a PreKey message is only tried against the state that PreKey
 * message selected. The sender keeps wrapping messages in PreKeySignalMessages (with the
 * `addresses` field) until it has decrypted one from the peer, and refuses to send on such a
 * session once it is older than MAX_UNACKNOWLEDGED_SESSION_AGE_MS (`SESSION_EXPIRED`).
 *
 * Concurrency: one operation per address at a time is the caller's job (see `stores.ts`).
 */
import { checkAddress, type ProtocolAddress } from '../address.js';
import { ProtocolError } from '../errors.js';
import { KeyPair } from '../keys/curve.js';
import type { IdentityKey, IdentityKeyPair } from '../keys/identity-key.js';
import type { KemKeyPair } from '../keys/kem.js';
import type { PreKeyBundle } from '../keys/prekey-bundle.js';
import { pqxdhAccept, pqxdhInitiate } from '../handshake/pqxdh.js';
import { ratchetDecrypt, ratchetEncrypt } from '../ratchet/double-ratchet.js';
import type { Rng } from '../rng.js';
import {
  encodePreKeySignalMessage,
  parsePreKeySignalMessage,
  type PreKeySignalMessage,
} from '../wire/prekey-signal-message.js';
import { encodeAddresses, parseSignalMessage, type SignalMessage } from '../wire/signal-message.js';
import { initializeAliceSession, initializeBobSession } from './session-init.js';
import { SessionRecord, isStale } from './session-record.js';
import type { SessionState } from './session-state.js';
import type { ProtocolStores } from './stores.js';

/** Randomness and time, injected (CONVENTIONS.md "The protocol core"). */
export interface SessionContext {
  readonly rng: Rng;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** libsignal `CiphertextMessageType`: Whisper 2, PreKey 3. */
export type CiphertextMessageKind = 'whisper' | 'prekey';
export const CIPHERTEXT_MESSAGE_TYPE = { whisper: 2, prekey: 3 } as const;

export interface CiphertextMessage {
  readonly type: CiphertextMessageKind;
  readonly body: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Pure core

export interface InitiateSessionParams {
  readonly bundle: PreKeyBundle;
  readonly ourIdentity: IdentityKeyPair;
  readonly localRegistrationId: number;
  readonly address: ProtocolAddress;
  readonly localAddress: ProtocolAddress;
}

/**
 * Alice's side of PQXDH from a bundle: verifies both prekey signatures (`INVALID_SIGNATURE`),
 * encapsulates to the Kyber prekey and returns the new, unacknowledged session state.
 */
export function initiateSession(p: InitiateSessionParams, ctx: SessionContext): SessionState {
  const { bundle } = p;
  const theirIdentity = bundle.identityKey;
  if (
    !theirIdentity.publicKey.verifySignature(
      bundle.signedPreKey.serialize(),
      bundle.signedPreKeySignature,
    )
  ) {
    throw new ProtocolError('INVALID_SIGNATURE', 'signed prekey signature does not verify');
  }
  if (
    !theirIdentity.publicKey.verifySignature(
      bundle.kyberPreKey.serialize(),
      bundle.kyberPreKeySignature,
    )
  ) {
    throw new ProtocolError('INVALID_SIGNATURE', 'Kyber prekey signature does not verify');
  }
  const baseKey = KeyPair.generate(ctx.rng);
  const { keys, kyberCiphertext } = pqxdhInitiate(
    {
      ourIdentity: p.ourIdentity,
      ourBaseKey: baseKey,
      theirIdentity,
      theirSignedPreKey: bundle.signedPreKey,
      theirOneTimePreKey: bundle.preKey,
      theirKyberPreKey: bundle.kyberPreKey,
    },
    ctx.rng,
  );
  const state = initializeAliceSession(
    {
      keys,
      ourIdentity: p.ourIdentity.identityKey,
      theirIdentity,
      ourBaseKey: baseKey.publicKey,
      theirSignedPreKey: bundle.signedPreKey,
      selfSession: p.ourIdentity.identityKey.isSameAccount(
        p.localAddress,
        theirIdentity,
        p.address,
      ),
    },
    ctx.rng,
  );
  return {
    ...state,
    pending: {
      preKeyId: bundle.preKeyId,
      signedPreKeyId: bundle.signedPreKeyId,
      baseKey: baseKey.publicKey,
      kyberPreKeyId: bundle.kyberPreKeyId,
      kyberCiphertext,
      timestamp: ctx.now,
    },
    localRegistrationId: p.localRegistrationId,
    remoteRegistrationId: bundle.registrationId,
  };
}

export interface AcceptPreKeyParams {
  readonly message: PreKeySignalMessage;
  readonly ourIdentity: IdentityKeyPair;
  readonly localRegistrationId: number;
  readonly ourSignedPreKey: KeyPair;
  readonly ourOneTimePreKey: KeyPair | null;
  readonly ourKyberPreKey: KemKeyPair;
  readonly address: ProtocolAddress;
  readonly localAddress: ProtocolAddress;
}

/** Bob's side of PQXDH for a PreKey message (the base key must be canonical, §3.1). */
export function acceptPreKeyMessage(p: AcceptPreKeyParams): SessionState {
  const { message } = p;
  const keys = pqxdhAccept({
    ourIdentity: p.ourIdentity,
    ourSignedPreKey: p.ourSignedPreKey,
    ourOneTimePreKey: p.ourOneTimePreKey,
    ourKyberPreKey: p.ourKyberPreKey,
    theirIdentity: message.identityKey,
    theirBaseKey: message.baseKey,
    kyberCiphertext: message.kyberCiphertext,
  });
  const state = initializeBobSession({
    keys,
    ourIdentity: p.ourIdentity.identityKey,
    theirIdentity: message.identityKey,
    theirBaseKey: message.baseKey,
    ourSignedPreKey: p.ourSignedPreKey,
    selfSession: p.ourIdentity.identityKey.isSameAccount(
      p.localAddress,
      message.identityKey,
      p.address,
    ),
  });
  return {
    ...state,
    localRegistrationId: p.localRegistrationId,
    remoteRegistrationId: message.registrationId,
  };
}

/**
 * Encrypts with the record's current state; returns the message and the new current state (the
 * record itself is not modified). `NO_SESSION` without a current state, `SESSION_EXPIRED` for
 * an unacknowledged session older than 30 days.
 */
export function encryptWithRecord(
  record: SessionRecord,
  plaintext: Uint8Array,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  ctx: SessionContext,
): { message: CiphertextMessage; state: SessionState } {
  const state = record.current;
  if (state === null) throw new ProtocolError('NO_SESSION', 'no session to encrypt with');
  const pending = state.pending;
  if (pending === null) {
    const { message, state: next } = ratchetEncrypt(state, plaintext, null, ctx.rng);
    return { message: { type: 'whisper', body: message }, state: next };
  }
  if (isStale(state, ctx.now)) {
    throw new ProtocolError(
      'SESSION_EXPIRED',
      'the unacknowledged session is too old; fetch a new bundle',
    );
  }
  const addresses = encodeAddresses(localAddress, address);
  const { message, state: next } = ratchetEncrypt(state, plaintext, addresses, ctx.rng);
  const body = encodePreKeySignalMessage({
    registrationId: state.localRegistrationId,
    preKeyId: pending.preKeyId,
    signedPreKeyId: pending.signedPreKeyId,
    kyberPreKeyId: pending.kyberPreKeyId,
    kyberCiphertext: pending.kyberCiphertext,
    baseKey: pending.baseKey.serialize(),
    identityKey: state.localIdentity.serialize(),
    message,
  });
  return { message: { type: 'prekey', body }, state: next };
}

export interface RecordDecryptResult {
  readonly plaintext: Uint8Array;
  /** The state after decryption. */
  readonly state: SessionState;
  /** -1 if the current state decrypted, else the index of the archived state that did. */
  readonly archivedIndex: number;
}

/**
 * Trial decryption over the record (current first, then archived newest first), without
 * modifying it. `currentOnly` is for the message inside a PreKey message. Apply the result with
 * `commitDecryption`.
 */
export function decryptWithRecord(
  record: SessionRecord,
  message: SignalMessage,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  rng: Rng,
  currentOnly = false,
): RecordDecryptResult {
  const ctx = { localAddress, remoteAddress: address, rng };
  let firstError: unknown;
  const current = record.current;
  if (current !== null) {
    try {
      const { plaintext, state } = ratchetDecrypt(current, message, ctx);
      return { plaintext, state, archivedIndex: -1 };
    } catch (err) {
      if (ProtocolError.is(err, 'DUPLICATE_MESSAGE') || currentOnly) throw err;
      firstError = err;
    }
  } else if (currentOnly) {
    throw new ProtocolError('NO_SESSION', 'no session to decrypt with');
  }
  const previous = record.previous;
  for (let i = 0; i < previous.length; i++) {
    try {
      const { plaintext, state } = ratchetDecrypt(previous[i]!, message, ctx);
      return { plaintext, state, archivedIndex: i };
    } catch (err) {
      if (ProtocolError.is(err, 'DUPLICATE_MESSAGE')) throw err;
      firstError ??= err;
    }
  }
  if (firstError instanceof Error) throw firstError;
  if (firstError !== undefined)
    throw new ProtocolError('INVALID_MESSAGE', 'decryption failed', { cause: firstError });
  throw new ProtocolError('NO_SESSION', 'no session to decrypt with');
}

/** A copy of `record` with a decryption result applied (promoting an archived state if needed). */
export function commitDecryption(
  record: SessionRecord,
  result: RecordDecryptResult,
): SessionRecord {
  const next = record.clone();
  if (result.archivedIndex < 0) next.setCurrentState(result.state);
  else next.promoteOldSession(result.archivedIndex, result.state);
  return next;
}

// ---------------------------------------------------------------------------------------------
// Store-based API (libsignal's signatures, stores grouped, rng and clock injected)

type Stores<K extends keyof ProtocolStores> = Pick<ProtocolStores, K>;

async function requireTrusted(
  stores: Stores<'identityStore'>,
  address: ProtocolAddress,
  identity: IdentityKey,
  direction: 'sending' | 'receiving',
): Promise<void> {
  if (!(await stores.identityStore.isTrustedIdentity(address, identity, direction))) {
    throw new ProtocolError(
      'UNTRUSTED_IDENTITY',
      'the identity key of this address is not trusted',
    );
  }
}

/**
 * Starts a session from a prekey bundle (PQXDH initiator) and stores it as the current session
 * for `address`; the next `signalEncrypt` produces a PreKeySignalMessage.
 */
export async function processPreKeyBundle(
  bundle: PreKeyBundle,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  stores: Stores<'sessionStore' | 'identityStore'>,
  ctx: SessionContext,
): Promise<void> {
  checkAddress(address, 'address');
  checkAddress(localAddress, 'localAddress');
  await requireTrusted(stores, address, bundle.identityKey, 'sending');
  const [ourIdentity, localRegistrationId, existing] = await Promise.all([
    stores.identityStore.getIdentityKeyPair(),
    stores.identityStore.getLocalRegistrationId(),
    stores.sessionStore.getSession(address),
  ]);
  const state = initiateSession(
    { bundle, ourIdentity, localRegistrationId, address, localAddress },
    ctx,
  );
  const record = existing === null ? SessionRecord.newFresh() : existing.clone();
  record.promoteState(state);
  await stores.identityStore.saveIdentity(address, bundle.identityKey);
  await stores.sessionStore.saveSession(address, record);
}

/** Encrypts for `address` with its current session: a PreKey message until the peer answered. */
export async function signalEncrypt(
  plaintext: Uint8Array,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  stores: Stores<'sessionStore' | 'identityStore'>,
  ctx: SessionContext,
): Promise<CiphertextMessage> {
  checkAddress(address, 'address');
  checkAddress(localAddress, 'localAddress');
  const record = await stores.sessionStore.getSession(address);
  if (record === null) throw new ProtocolError('NO_SESSION', 'no session with this address');
  const { message, state } = encryptWithRecord(record, plaintext, address, localAddress, ctx);
  await requireTrusted(stores, address, state.remoteIdentity, 'sending');
  await stores.identityStore.saveIdentity(address, state.remoteIdentity);
  const next = record.clone();
  next.setCurrentState(state);
  await stores.sessionStore.saveSession(address, next);
  return message;
}

/** Decrypts a SignalMessage (type 2) from `address`. */
export async function signalDecrypt(
  message: Uint8Array,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  stores: Stores<'sessionStore' | 'identityStore'>,
  ctx: Pick<SessionContext, 'rng'>,
): Promise<Uint8Array> {
  checkAddress(address, 'address');
  checkAddress(localAddress, 'localAddress');
  // A copy: the caller's buffer could change while we wait for the store.
  const parsed = parseSignalMessage(message.slice());
  const record = await stores.sessionStore.getSession(address);
  if (record === null) throw new ProtocolError('NO_SESSION', 'no session with this address');
  const result = decryptWithRecord(record, parsed, address, localAddress, ctx.rng);
  await requireTrusted(stores, address, result.state.remoteIdentity, 'receiving');
  await stores.identityStore.saveIdentity(address, result.state.remoteIdentity);
  await stores.sessionStore.saveSession(address, commitDecryption(record, result));
  return result.plaintext;
}

/**
 * Decrypts a PreKeySignalMessage (type 3) from `address`: sets up the session (PQXDH responder)
 * unless one with the same base key exists, decrypts, then deletes the one-time prekey and marks
 * the Kyber prekey used with (kyberId, signedPreKeyId, baseKey).
 */
export async function signalDecryptPreKey(
  message: Uint8Array,
  address: ProtocolAddress,
  localAddress: ProtocolAddress,
  stores: ProtocolStores,
  ctx: Pick<SessionContext, 'rng'>,
): Promise<Uint8Array> {
  checkAddress(address, 'address');
  checkAddress(localAddress, 'localAddress');
  const parsed = parsePreKeySignalMessage(message);
  const existing = await stores.sessionStore.getSession(address);
  const record = existing === null ? SessionRecord.newFresh() : existing.clone();
  await requireTrusted(stores, address, parsed.identityKey, 'receiving');

  let used: { preKeyId: number | null } | null = null;
  if (!record.promoteMatchingSession(parsed.version, parsed.baseKey.serialize())) {
    const [signedPreKey, kyberPreKey, oneTimePreKey, ourIdentity, localRegistrationId] =
      await Promise.all([
        stores.signedPreKeyStore.getSignedPreKey(parsed.signedPreKeyId),
        stores.kyberPreKeyStore.getKyberPreKey(parsed.kyberPreKeyId),
        parsed.preKeyId === null
          ? Promise.resolve(null)
          : stores.preKeyStore.getPreKey(parsed.preKeyId),
        stores.identityStore.getIdentityKeyPair(),
        stores.identityStore.getLocalRegistrationId(),
      ]);
    if (signedPreKey === null) {
      throw new ProtocolError(
        'INVALID_SIGNED_PREKEY_ID',
        `no signed prekey ${parsed.signedPreKeyId}`,
      );
    }
    if (kyberPreKey === null) {
      throw new ProtocolError('INVALID_KYBER_PREKEY_ID', `no Kyber prekey ${parsed.kyberPreKeyId}`);
    }
    if (parsed.preKeyId !== null && oneTimePreKey === null) {
      throw new ProtocolError('INVALID_PREKEY_ID', `no prekey ${parsed.preKeyId}`);
    }
    const state = acceptPreKeyMessage({
      message: parsed,
      ourIdentity,
      localRegistrationId,
      ourSignedPreKey: signedPreKey.keyPair,
      ourOneTimePreKey: oneTimePreKey === null ? null : oneTimePreKey.keyPair,
      ourKyberPreKey: kyberPreKey.keyPair,
      address,
      localAddress,
    });
    record.promoteState(state);
    used = { preKeyId: parsed.preKeyId };
  }

  const result = decryptWithRecord(record, parsed.message, address, localAddress, ctx.rng, true);
  record.setCurrentState(result.state);
  await stores.identityStore.saveIdentity(address, parsed.identityKey);
  if (used !== null) {
    await stores.kyberPreKeyStore.markKyberPreKeyUsed(
      parsed.kyberPreKeyId,
      parsed.signedPreKeyId,
      parsed.baseKey,
    );
    if (used.preKeyId !== null) await stores.preKeyStore.removePreKey(used.preKeyId);
  }
  await stores.sessionStore.saveSession(address, record);
  return result.plaintext;
}
