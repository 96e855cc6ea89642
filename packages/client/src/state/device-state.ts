/**
 * The device's protocol state (identity, trust records, sessions, prekeys) over the `ClientStore`,
 * with an in-memory cache of live objects, and `StateTransaction`: the unit of work every
 * operation runs in.
 *
 * A transaction reads through its own pending writes, then the cache, then the store; its writes
 * stay pending until `commit`, which writes all of them — protocol state and whatever the caller
 * added (a message, an outbox entry, a processed GUID) — in ONE store transaction, and only then
 * updates the cache. So "session state saved before the ciphertext leaves" and "message and
 * session stored together before the acknowledgement" are one `await tx.commit()` each, and a
 * failure (a refused MAC, a crash) leaves storage and cache as they were.
 *
 * Concurrency: transactions on different addresses may run at the same time (their writes touch
 * different keys); the caller serialises operations on one address (client keyed-queue).
 *
 * Trust (identity keys): trust on first use. A contact's key is recorded the first time it is
 * seen and is `accepted`. A different key arriving in a message is recorded as the contact's key
 * but not accepted (the message is still decrypted: nothing is lost); a different key in a
 * prekey bundle is refused (`UNTRUSTED_IDENTITY`) and recorded the same way. Sending needs the
 * recorded key to be accepted, so messages wait until the user accepts the change. The change is
 * reported once per new key (`identityChanges`, turned into `identity-changed` events).
 */
import { fromBase64, toBase64 } from '@sotto/api';
import { constantTimeEqual, toHex } from '@sotto/crypto';
import {
  addressToString,
  IdentityKey,
  KyberPreKeyRecord,
  PreKeyRecord,
  ProtocolError,
  SignedPreKeyRecord,
  type Direction,
  type IdentityChange,
  type IdentityKeyPair,
  type IdentityKeyStore,
  type KyberPreKeyStore,
  type PreKeyStore,
  type ProtocolAddress,
  type PublicKey,
  type SignedPreKeyStore,
} from '@sotto/protocol';
import type { ClientStore } from '../client-store.js';
import { ClientError } from '../errors.js';
import type { EngineStores, SessionEngine } from '../session-engine.js';
import { fromJsonBytes, toJsonBytes } from './json.js';
import { NS, padNumber } from './namespaces.js';

export interface TrustRecord {
  /** The contact's identity key (33 bytes, `0x05 ‖ u`). */
  readonly key: Uint8Array;
  /** The user accepted this key (implicitly on first use, explicitly after a change). */
  readonly accepted: boolean;
  /** The user compared safety numbers for this key. */
  readonly verified: boolean;
  readonly firstSeenAt: number;
  /** When set: the key that was trusted before the current one. */
  readonly previousKey?: Uint8Array;
  readonly previousVerified?: boolean;
  readonly changedAt?: number;
}

interface TrustJson {
  key: string;
  accepted: boolean;
  verified: boolean;
  firstSeenAt: number;
  previousKey?: string;
  previousVerified?: boolean;
  changedAt?: number;
}

export function encodeTrust(r: TrustRecord): Uint8Array {
  const j: TrustJson = {
    key: toBase64(r.key),
    accepted: r.accepted,
    verified: r.verified,
    firstSeenAt: r.firstSeenAt,
  };
  if (r.previousKey !== undefined) j.previousKey = toBase64(r.previousKey);
  if (r.previousVerified !== undefined) j.previousVerified = r.previousVerified;
  if (r.changedAt !== undefined) j.changedAt = r.changedAt;
  return toJsonBytes(j);
}

export function decodeTrust(bytes: Uint8Array): TrustRecord {
  const j = fromJsonBytes<TrustJson>(bytes, 'trust record');
  try {
    return {
      key: fromBase64(j.key),
      accepted: j.accepted === true,
      verified: j.verified === true,
      firstSeenAt: j.firstSeenAt,
      ...(j.previousKey === undefined ? {} : { previousKey: fromBase64(j.previousKey) }),
      ...(j.previousVerified === undefined ? {} : { previousVerified: j.previousVerified }),
      ...(j.changedAt === undefined ? {} : { changedAt: j.changedAt }),
    };
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', 'stored trust record is malformed', { cause });
  }
}

/** A change of a contact's identity key, reported after the transaction that recorded it. */
export interface IdentityChangeNotice {
  readonly contact: string;
  readonly previousKey: Uint8Array | undefined;
  readonly newKey: Uint8Array;
  readonly wasVerified: boolean;
}

export interface LocalIdentity {
  readonly accountId: string;
  readonly deviceId: number;
  readonly identity: IdentityKeyPair;
  readonly registrationId: number;
}

type Pending<T> = { readonly value: T | null };

/** Read-through caches of live objects (`null`: known to be absent). */
class Caches<R> {
  readonly sessions = new Map<string, R | null>();
  readonly trust = new Map<string, TrustRecord | null>();
  readonly preKeys = new Map<number, PreKeyRecord | null>();
  readonly signedPreKeys = new Map<number, SignedPreKeyRecord | null>();
  readonly kyberPreKeys = new Map<number, KyberPreKeyRecord | null>();
}

export class DeviceState<R> {
  readonly caches = new Caches<R>();
  #local: LocalIdentity | null = null;

  constructor(
    readonly store: ClientStore,
    readonly engine: SessionEngine<R>,
    readonly now: () => number,
  ) {}

  get local(): LocalIdentity {
    if (this.#local === null)
      throw new ClientError('NOT_REGISTERED', 'this device has no identity yet');
    return this.#local;
  }

  get hasLocal(): boolean {
    return this.#local !== null;
  }

  setLocal(local: LocalIdentity | null): void {
    this.#local = local;
  }

  get localAddress(): ProtocolAddress {
    const l = this.local;
    return { name: l.accountId, deviceId: l.deviceId };
  }

  begin(): StateTransaction<R> {
    return new StateTransaction(this);
  }

  /** Loads through the cache; a concurrent commit's value wins over a slower load. */
  async load<K, V>(
    cache: Map<K, V | null>,
    key: K,
    ns: string,
    storeKey: string,
    decode: (bytes: Uint8Array) => V,
  ): Promise<V | null> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const bytes = await this.store.get(ns, storeKey);
    let value: V | null = null;
    if (bytes !== undefined) {
      try {
        value = decode(bytes);
      } catch (cause) {
        if (ClientError.is(cause)) throw cause;
        throw new ClientError('STORE_CORRUPT', `a record in ${ns} does not parse`, { cause });
      }
    }
    if (!cache.has(key)) cache.set(key, value);
    return cache.get(key) ?? null;
  }

  /** Forgets cached sessions of an account (after an identity change or re-registration). */
  forgetSessionsOf(accountId: string): void {
    for (const k of this.caches.sessions.keys()) {
      if (k.startsWith(`${accountId}.`)) this.caches.sessions.delete(k);
    }
  }
}

export class StateTransaction<R> {
  readonly #state: DeviceState<R>;
  readonly #raw = new Map<string, Map<string, Uint8Array | null>>();
  readonly #sessions = new Map<string, Pending<R>>();
  readonly #trust = new Map<string, Pending<TrustRecord>>();
  readonly #preKeys = new Map<number, Pending<PreKeyRecord>>();
  readonly #signedPreKeys = new Map<number, Pending<SignedPreKeyRecord>>();
  readonly #kyberPreKeys = new Map<number, Pending<KyberPreKeyRecord>>();
  readonly #afterCommit: Array<() => void> = [];
  readonly identityChanges: IdentityChangeNotice[] = [];
  #stores: EngineStores<R> | null = null;
  #done = false;

  constructor(state: DeviceState<R>) {
    this.#state = state;
  }

  get state(): DeviceState<R> {
    return this.#state;
  }

  // ---- raw records ---------------------------------------------------------------------------

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    const pending = this.#raw.get(ns)?.get(key);
    if (pending !== undefined) return pending ?? undefined;
    return this.#state.store.get(ns, key);
  }

  put(ns: string, key: string, value: Uint8Array): void {
    let m = this.#raw.get(ns);
    if (m === undefined) this.#raw.set(ns, (m = new Map<string, Uint8Array | null>()));
    m.set(key, value);
  }

  delete(ns: string, key: string): void {
    let m = this.#raw.get(ns);
    if (m === undefined) this.#raw.set(ns, (m = new Map<string, Uint8Array | null>()));
    m.set(key, null);
  }

  /** Runs after a successful commit (cache updates, events). */
  afterCommit(fn: () => void): void {
    this.#afterCommit.push(fn);
  }

  // ---- sessions ------------------------------------------------------------------------------

  async getSession(address: ProtocolAddress): Promise<R | null> {
    const key = addressToString(address);
    const pending = this.#sessions.get(key);
    if (pending !== undefined) return pending.value;
    const engine = this.#state.engine;
    return this.#state.load(this.#state.caches.sessions, key, NS.sessions, key, (b) =>
      engine.deserializeSession(b),
    );
  }

  putSession(address: ProtocolAddress, record: R): void {
    this.#sessions.set(addressToString(address), { value: record });
  }

  deleteSession(address: ProtocolAddress): void {
    this.#sessions.set(addressToString(address), { value: null });
  }

  // ---- trust ---------------------------------------------------------------------------------

  async getTrust(accountId: string): Promise<TrustRecord | null> {
    const pending = this.#trust.get(accountId);
    if (pending !== undefined) return pending.value;
    return this.#state.load(
      this.#state.caches.trust,
      accountId,
      NS.identities,
      accountId,
      decodeTrust,
    );
  }

  putTrust(accountId: string, record: TrustRecord): void {
    this.#trust.set(accountId, { value: record });
  }

  /**
   * Records `key` as the contact's new, not yet accepted identity (unless it is already the
   * recorded key) and reports the change once.
   */
  async recordChangedIdentity(accountId: string, key: Uint8Array): Promise<void> {
    const current = await this.getTrust(accountId);
    const now = this.#state.now();
    if (current === null) {
      this.putTrust(accountId, { key, accepted: true, verified: false, firstSeenAt: now });
      return;
    }
    if (constantTimeEqual(current.key, key)) return;
    // When the current key was itself an unaccepted change, keep the last accepted one as "previous".
    const previousKey = current.accepted ? current.key : (current.previousKey ?? current.key);
    const previousVerified = current.accepted
      ? current.verified
      : (current.previousVerified ?? false);
    this.putTrust(accountId, {
      key,
      accepted: false,
      verified: false,
      firstSeenAt: current.firstSeenAt,
      previousKey,
      previousVerified,
      changedAt: now,
    });
    this.identityChanges.push({
      contact: accountId,
      previousKey,
      newKey: key,
      wasVerified: previousVerified,
    });
  }

  // ---- prekeys -------------------------------------------------------------------------------

  async getPreKey(id: number): Promise<PreKeyRecord | null> {
    const p = this.#preKeys.get(id);
    if (p !== undefined) return p.value;
    return this.#state.load(this.#state.caches.preKeys, id, NS.preKeys, padNumber(id, 10), (b) =>
      PreKeyRecord.deserialize(b),
    );
  }

  putPreKey(record: PreKeyRecord): void {
    this.#preKeys.set(record.id, { value: record });
  }

  removePreKey(id: number): void {
    this.#preKeys.set(id, { value: null });
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord | null> {
    const p = this.#signedPreKeys.get(id);
    if (p !== undefined) return p.value;
    return this.#state.load(
      this.#state.caches.signedPreKeys,
      id,
      NS.signedPreKeys,
      padNumber(id, 10),
      (b) => SignedPreKeyRecord.deserialize(b),
    );
  }

  putSignedPreKey(record: SignedPreKeyRecord): void {
    this.#signedPreKeys.set(record.id, { value: record });
  }

  removeSignedPreKey(id: number): void {
    this.#signedPreKeys.set(id, { value: null });
  }

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord | null> {
    const p = this.#kyberPreKeys.get(id);
    if (p !== undefined) return p.value;
    return this.#state.load(
      this.#state.caches.kyberPreKeys,
      id,
      NS.kyberPreKeys,
      padNumber(id, 10),
      (b) => KyberPreKeyRecord.deserialize(b),
    );
  }

  putKyberPreKey(record: KyberPreKeyRecord): void {
    this.#kyberPreKeys.set(record.id, { value: record });
  }

  removeKyberPreKey(id: number): void {
    this.#kyberPreKeys.set(id, { value: null });
  }

  // ---- the stores the session engine sees ------------------------------------------------------

  engineStores(): EngineStores<R> {
    if (this.#stores !== null) return this.#stores;
    const tx = this as StateTransaction<R>;
    const state = this.#state;
    const identity: IdentityKeyStore = {
      getIdentityKeyPair: () => Promise.resolve(state.local.identity),
      getLocalRegistrationId: () => Promise.resolve(state.local.registrationId),
      async saveIdentity(address: ProtocolAddress, key: IdentityKey): Promise<IdentityChange> {
        const name = address.name;
        const bytes = key.serialize();
        if (name === state.local.accountId) return 'new-or-unchanged';
        const current = await tx.getTrust(name);
        if (current !== null && constantTimeEqual(current.key, bytes)) return 'new-or-unchanged';
        await tx.recordChangedIdentity(name, bytes);
        return current === null ? 'new-or-unchanged' : 'replaced-existing';
      },
      async isTrustedIdentity(address: ProtocolAddress, key: IdentityKey, direction: Direction) {
        const bytes = key.serialize();
        // Our own other devices share our identity key; anything else there is an impostor.
        if (address.name === state.local.accountId) {
          return constantTimeEqual(bytes, state.local.identity.identityKey.serialize());
        }
        const current = await tx.getTrust(address.name);
        if (current === null) return true; // trust on first use
        // Receiving never fails on a changed key (nothing is lost); saveIdentity records it.
        if (direction === 'receiving') return true;
        return current.accepted && constantTimeEqual(current.key, bytes);
      },
      async getIdentity(address: ProtocolAddress): Promise<IdentityKey | null> {
        if (address.name === state.local.accountId) return state.local.identity.identityKey;
        const current = await tx.getTrust(address.name);
        return current === null ? null : IdentityKey.deserialize(current.key);
      },
    };
    const preKeys: PreKeyStore = {
      getPreKey: (id) => tx.getPreKey(id),
      savePreKey: (_id, record) => Promise.resolve(tx.putPreKey(record)),
      removePreKey: (id) => Promise.resolve(tx.removePreKey(id)),
    };
    const signedPreKeys: SignedPreKeyStore = {
      getSignedPreKey: (id) => tx.getSignedPreKey(id),
      saveSignedPreKey: (_id, record) => Promise.resolve(tx.putSignedPreKey(record)),
    };
    const kyberPreKeys: KyberPreKeyStore = {
      getKyberPreKey: (id) => tx.getKyberPreKey(id),
      saveKyberPreKey: (_id, record) => Promise.resolve(tx.putKyberPreKey(record)),
      async markKyberPreKeyUsed(kyberId: number, signedId: number, baseKey: PublicKey) {
        const record = await tx.getKyberPreKey(kyberId);
        if (record === null) return;
        if (!record.lastResort) {
          tx.removeKyberPreKey(kyberId);
          return;
        }
        const use = `${padNumber(kyberId, 10)}.${padNumber(signedId, 10)}.${toHex(baseKey.serialize())}`;
        if ((await tx.get(NS.kyberUsed, use)) !== undefined) {
          throw new ProtocolError(
            'KYBER_PREKEY_REUSED',
            'last-resort Kyber prekey reused with the same base key',
          );
        }
        tx.put(NS.kyberUsed, use, new Uint8Array(0));
      },
    };
    this.#stores = {
      sessions: {
        get: (address) => tx.getSession(address),
        put: (address, record) => Promise.resolve(tx.putSession(address, record)),
      },
      identity,
      preKeys,
      signedPreKeys,
      kyberPreKeys,
    };
    return this.#stores;
  }

  // ---- commit --------------------------------------------------------------------------------

  /** Writes everything in one store transaction, then updates the caches and runs callbacks. */
  async commit(): Promise<void> {
    if (this.#done) throw new Error('StateTransaction: already committed');
    this.#done = true;
    const state = this.#state;
    const engine = state.engine;
    // Serialise before entering the store transaction: transactions are serialised store-wide.
    const writes: Array<readonly [string, string, Uint8Array | null]> = [];
    for (const [ns, m] of this.#raw) for (const [k, v] of m) writes.push([ns, k, v]);
    for (const [k, p] of this.#sessions) {
      writes.push([NS.sessions, k, p.value === null ? null : engine.serializeSession(p.value)]);
    }
    for (const [k, p] of this.#trust) {
      writes.push([NS.identities, k, p.value === null ? null : encodeTrust(p.value)]);
    }
    for (const [id, p] of this.#preKeys) {
      writes.push([NS.preKeys, padNumber(id, 10), p.value?.serialize() ?? null]);
    }
    for (const [id, p] of this.#signedPreKeys) {
      writes.push([NS.signedPreKeys, padNumber(id, 10), p.value?.serialize() ?? null]);
    }
    for (const [id, p] of this.#kyberPreKeys) {
      writes.push([NS.kyberPreKeys, padNumber(id, 10), p.value?.serialize() ?? null]);
    }
    if (writes.length > 0) {
      await state.store.transaction(async (tx) => {
        for (const [ns, k, v] of writes) {
          if (v === null) await tx.delete(ns, k);
          else await tx.put(ns, k, v);
        }
      });
    }
    const c = state.caches;
    for (const [k, p] of this.#sessions) c.sessions.set(k, p.value);
    for (const [k, p] of this.#trust) c.trust.set(k, p.value);
    for (const [k, p] of this.#preKeys) c.preKeys.set(k, p.value);
    for (const [k, p] of this.#signedPreKeys) c.signedPreKeys.set(k, p.value);
    for (const [k, p] of this.#kyberPreKeys) c.kyberPreKeys.set(k, p.value);
    for (const fn of this.#afterCommit) fn();
  }
}
