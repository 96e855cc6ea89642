/**
 * The session engine: the one place the client calls the Signal session layer. The default
 * engine is Sotto's own `@sotto/protocol`; the port exists so a benchmark (or a future
 * implementation) can run the same client with another library doing the session crypto, e.g.
 * libsignal-client (tests/bench/client.bench.ts). Everything else — keys, trust, prekeys, the
 * outbox and inbox — stays the client's.
 *
 * An engine keeps its session records in its own encoding (`serializeSession`), reads and writes
 * them through `stores.sessions`, and uses the identity and prekey stores of `@sotto/protocol`
 * (whose records use libsignal's storage encodings, so another engine can load them).
 */
import {
  processPreKeyBundle,
  SessionRecord,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type CiphertextMessage,
  type CiphertextMessageKind,
  type IdentityKeyStore,
  type KyberPreKeyStore,
  type PreKeyBundle,
  type PreKeyStore,
  type ProtocolAddress,
  type ProtocolStores,
  type SessionContext,
  type SignedPreKeyStore,
} from '@sotto/protocol';

export interface EngineSessionStore<R> {
  get(address: ProtocolAddress): Promise<R | null>;
  put(address: ProtocolAddress, record: R): Promise<void>;
}

export interface EngineStores<R> {
  readonly sessions: EngineSessionStore<R>;
  readonly identity: IdentityKeyStore;
  readonly preKeys: PreKeyStore;
  readonly signedPreKeys: SignedPreKeyStore;
  readonly kyberPreKeys: KyberPreKeyStore;
}

export interface SessionEngine<R> {
  readonly name: string;
  serializeSession(record: R): Uint8Array;
  deserializeSession(bytes: Uint8Array): R;
  /** The registration id of the peer for sending, or `null` if the record cannot send at `now`. */
  remoteRegistrationId(record: R, now: number): number | null;
  /** PQXDH as initiator; stores the new session (trust is checked through `stores.identity`). */
  startSession(
    bundle: PreKeyBundle,
    address: ProtocolAddress,
    local: ProtocolAddress,
    stores: EngineStores<R>,
    ctx: SessionContext,
  ): Promise<void>;
  encrypt(
    plaintext: Uint8Array,
    address: ProtocolAddress,
    local: ProtocolAddress,
    stores: EngineStores<R>,
    ctx: SessionContext,
  ): Promise<CiphertextMessage>;
  decrypt(
    kind: CiphertextMessageKind,
    body: Uint8Array,
    address: ProtocolAddress,
    local: ProtocolAddress,
    stores: EngineStores<R>,
    ctx: SessionContext,
  ): Promise<Uint8Array>;
}

function protocolStores(stores: EngineStores<SessionRecord>): ProtocolStores {
  return {
    sessionStore: {
      getSession: (address) => stores.sessions.get(address),
      saveSession: (address, record) => stores.sessions.put(address, record),
    },
    identityStore: stores.identity,
    preKeyStore: stores.preKeys,
    signedPreKeyStore: stores.signedPreKeys,
    kyberPreKeyStore: stores.kyberPreKeys,
  };
}

/** The default engine: `@sotto/protocol` (PQXDH, Double Ratchet + SPQR). */
export const sottoSessionEngine: SessionEngine<SessionRecord> = {
  name: 'sotto',
  serializeSession: (record) => record.serialize(),
  deserializeSession: (bytes) => SessionRecord.deserialize(bytes),
  remoteRegistrationId: (record, now) =>
    record.hasCurrentState(now) ? record.remoteRegistrationId() : null,
  startSession: (bundle, address, local, stores, ctx) =>
    processPreKeyBundle(bundle, address, local, protocolStores(stores), ctx),
  encrypt: (plaintext, address, local, stores, ctx) =>
    signalEncrypt(plaintext, address, local, protocolStores(stores), ctx),
  decrypt: (kind, body, address, local, stores, ctx) =>
    kind === 'prekey'
      ? signalDecryptPreKey(body, address, local, protocolStores(stores), ctx)
      : signalDecrypt(body, address, local, protocolStores(stores), ctx),
};
