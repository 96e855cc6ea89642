/**
 * The storage ports of the session layer, mirroring libsignal's store interfaces
 * (`rust/protocol/src/storage/traits.rs`, the `*Store` abstract classes of the Node binding).
 * All methods are asynchronous so an implementation can sit on a database. In-memory
 * implementations for tests live in `@sotto/protocol/testing`.
 *
 * Contract for implementers:
 * - The session functions never modify a `SessionRecord` they loaded; they build a new one and
 *   save it. A store may therefore keep and return live objects.
 * - One message per address at a time: `signalEncrypt`, `signalDecrypt*` and
 *   `processPreKeyBundle` each load a record, compute, then save it. Two concurrent calls for the
 *   same address would lose one update. Serialise them per address (a queue or a lock); the
 *   session layer does not do it for you.
 * - `isTrustedIdentity` decides trust; the usual policy is trust on first use: an unknown address
 *   is trusted, a known one only with the same key. A `false` answer makes the operation fail with
 *   `UNTRUSTED_IDENTITY` without changing anything. `saveIdentity` records a key as trusted.
 */
import type { ProtocolAddress } from '../address.js';
import type { PublicKey } from '../keys/curve.js';
import type { IdentityKey, IdentityKeyPair } from '../keys/identity-key.js';
import type { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from '../keys/prekeys.js';
import type { SessionRecord } from './session-record.js';

/** The role an identity is checked for. */
export type Direction = 'sending' | 'receiving';

/** What `saveIdentity` did. */
export type IdentityChange = 'new-or-unchanged' | 'replaced-existing';

export interface IdentityKeyStore {
  getIdentityKeyPair(): Promise<IdentityKeyPair>;
  getLocalRegistrationId(): Promise<number>;
  saveIdentity(address: ProtocolAddress, identityKey: IdentityKey): Promise<IdentityChange>;
  isTrustedIdentity(
    address: ProtocolAddress,
    identityKey: IdentityKey,
    direction: Direction,
  ): Promise<boolean>;
  getIdentity(address: ProtocolAddress): Promise<IdentityKey | null>;
}

export interface SessionStore {
  getSession(address: ProtocolAddress): Promise<SessionRecord | null>;
  saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void>;
}

export interface PreKeyStore {
  /** `null` if there is no such prekey (the decryption then fails with INVALID_PREKEY_ID). */
  getPreKey(id: number): Promise<PreKeyRecord | null>;
  savePreKey(id: number, record: PreKeyRecord): Promise<void>;
  removePreKey(id: number): Promise<void>;
}

export interface SignedPreKeyStore {
  getSignedPreKey(id: number): Promise<SignedPreKeyRecord | null>;
  saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void>;
}

export interface KyberPreKeyStore {
  getKyberPreKey(id: number): Promise<KyberPreKeyRecord | null>;
  saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void>;
  /**
   * Called once a PreKey message that used this Kyber prekey has decrypted. A one-time prekey
   * should be deleted; a last-resort prekey is kept, but the same (signed prekey, base key)
   * combination must then be refused (throw `KYBER_PREKEY_REUSED`).
   */
  markKyberPreKeyUsed(
    kyberPreKeyId: number,
    signedPreKeyId: number,
    baseKey: PublicKey,
  ): Promise<void>;
}

/** Every store the session layer uses. */
export interface ProtocolStores {
  readonly sessionStore: SessionStore;
  readonly identityStore: IdentityKeyStore;
  readonly preKeyStore: PreKeyStore;
  readonly signedPreKeyStore: SignedPreKeyStore;
  readonly kyberPreKeyStore: KyberPreKeyStore;
}
