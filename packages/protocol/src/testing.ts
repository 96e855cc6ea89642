/**
 * @sotto/protocol/testing — in-memory implementations of the session stores (`session/stores.ts`)
 * for tests, benchmarks and examples. They keep live objects: nothing is serialised per message
 * (the session functions never modify a record they loaded, so sharing is safe).
 *
 * Identity trust is trust-on-first-use, like libsignal's `InMemIdentityKeyStore`: an unknown
 * address is trusted, a known one only with the same key; `saveIdentity` replaces the key and
 * reports `replaced-existing`. Kyber prekeys: a one-time record is deleted when used; a
 * last-resort record is kept and a repeated (signed prekey, base key) combination is refused with
 * `KYBER_PREKEY_REUSED`.
 */
import { sha256, toHex } from '@sotto/crypto';
import { addressToString, type ProtocolAddress } from './address.js';
import { ProtocolError } from './errors.js';
import type { PublicKey } from './keys/curve.js';
import { IdentityKeyPair, type IdentityKey } from './keys/identity-key.js';
import { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from './keys/prekeys.js';
import { PreKeyBundle } from './keys/prekey-bundle.js';
import type { Rng } from './rng.js';
import type { SessionRecord } from './session/session-record.js';
import type {
  Direction,
  IdentityChange,
  IdentityKeyStore,
  KyberPreKeyStore,
  PreKeyStore,
  ProtocolStores,
  SessionStore,
  SignedPreKeyStore,
} from './session/stores.js';

export class InMemoryIdentityKeyStore implements IdentityKeyStore {
  readonly #known = new Map<string, IdentityKey>();

  constructor(
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
  ) {}

  getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return Promise.resolve(this.identity);
  }

  getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.registrationId);
  }

  saveIdentity(address: ProtocolAddress, identityKey: IdentityKey): Promise<IdentityChange> {
    const id = addressToString(address);
    const known = this.#known.get(id);
    if (known !== undefined && known.equals(identityKey))
      return Promise.resolve('new-or-unchanged');
    this.#known.set(id, identityKey);
    return Promise.resolve(known === undefined ? 'new-or-unchanged' : 'replaced-existing');
  }

  isTrustedIdentity(
    address: ProtocolAddress,
    identityKey: IdentityKey,
    _direction: Direction,
  ): Promise<boolean> {
    const known = this.#known.get(addressToString(address));
    return Promise.resolve(known === undefined || known.equals(identityKey));
  }

  getIdentity(address: ProtocolAddress): Promise<IdentityKey | null> {
    return Promise.resolve(this.#known.get(addressToString(address)) ?? null);
  }
}

export class InMemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();

  getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    return Promise.resolve(this.#sessions.get(addressToString(address)) ?? null);
  }

  saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#sessions.set(addressToString(address), record);
    return Promise.resolve();
  }
}

export class InMemoryPreKeyStore implements PreKeyStore {
  readonly #keys = new Map<number, PreKeyRecord>();

  getPreKey(id: number): Promise<PreKeyRecord | null> {
    return Promise.resolve(this.#keys.get(id) ?? null);
  }

  savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#keys.set(id, record);
    return Promise.resolve();
  }

  removePreKey(id: number): Promise<void> {
    this.#keys.delete(id);
    return Promise.resolve();
  }

  /** Ids currently held (for tests). */
  ids(): number[] {
    return [...this.#keys.keys()];
  }
}

export class InMemorySignedPreKeyStore implements SignedPreKeyStore {
  readonly #keys = new Map<number, SignedPreKeyRecord>();

  getSignedPreKey(id: number): Promise<SignedPreKeyRecord | null> {
    return Promise.resolve(this.#keys.get(id) ?? null);
  }

  saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#keys.set(id, record);
    return Promise.resolve();
  }
}

export class InMemoryKyberPreKeyStore implements KyberPreKeyStore {
  readonly #keys = new Map<number, KyberPreKeyRecord>();
  readonly #usedLastResort = new Set<string>();

  getKyberPreKey(id: number): Promise<KyberPreKeyRecord | null> {
    return Promise.resolve(this.#keys.get(id) ?? null);
  }

  saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.#keys.set(id, record);
    return Promise.resolve();
  }

  markKyberPreKeyUsed(
    kyberPreKeyId: number,
    signedPreKeyId: number,
    baseKey: PublicKey,
  ): Promise<void> {
    const record = this.#keys.get(kyberPreKeyId);
    if (record === undefined) return Promise.resolve();
    if (!record.lastResort) {
      this.#keys.delete(kyberPreKeyId);
      return Promise.resolve();
    }
    const use = `${kyberPreKeyId}:${signedPreKeyId}:${toHex(baseKey.serialize())}`;
    if (this.#usedLastResort.has(use)) {
      return Promise.reject(
        new ProtocolError(
          'KYBER_PREKEY_REUSED',
          'last-resort Kyber prekey reused with the same base key',
        ),
      );
    }
    this.#usedLastResort.add(use);
    return Promise.resolve();
  }

  /** Ids currently held (for tests). */
  ids(): number[] {
    return [...this.#keys.keys()];
  }
}

/** All five in-memory stores for one local identity. */
export class InMemoryProtocolStores implements ProtocolStores {
  readonly sessionStore = new InMemorySessionStore();
  readonly identityStore: InMemoryIdentityKeyStore;
  readonly preKeyStore = new InMemoryPreKeyStore();
  readonly signedPreKeyStore = new InMemorySignedPreKeyStore();
  readonly kyberPreKeyStore = new InMemoryKyberPreKeyStore();

  constructor(
    readonly identity: IdentityKeyPair,
    readonly registrationId: number,
  ) {
    this.identityStore = new InMemoryIdentityKeyStore(identity, registrationId);
  }

  /** A new identity with a random registration id (14 bits, as Signal clients use). */
  static generate(rng: Rng): InMemoryProtocolStores {
    const reg = rng(2);
    return new InMemoryProtocolStores(
      IdentityKeyPair.generate(rng),
      (((reg[0]! << 8) | reg[1]!) & 0x3fff) + 1,
    );
  }
}

export interface GeneratedPreKeys {
  readonly preKey: PreKeyRecord | null;
  readonly signedPreKey: SignedPreKeyRecord;
  readonly kyberPreKey: KyberPreKeyRecord;
}

/**
 * Generates and saves one signed prekey, one Kyber prekey and (unless `oneTime: false`) one
 * one-time prekey into `stores`, with the given ids.
 */
export async function generatePreKeys(
  stores: InMemoryProtocolStores,
  ids: { preKeyId?: number; signedPreKeyId: number; kyberPreKeyId: number },
  rng: Rng,
  options: { oneTime?: boolean; lastResortKyber?: boolean; timestamp?: number } = {},
): Promise<GeneratedPreKeys> {
  const timestamp = options.timestamp ?? 0;
  const signedPreKey = SignedPreKeyRecord.generate(
    ids.signedPreKeyId,
    stores.identity,
    timestamp,
    rng,
  );
  const kyberPreKey = KyberPreKeyRecord.generate(
    ids.kyberPreKeyId,
    stores.identity,
    timestamp,
    rng,
    {
      lastResort: options.lastResortKyber ?? false,
    },
  );
  await stores.signedPreKeyStore.saveSignedPreKey(signedPreKey.id, signedPreKey);
  await stores.kyberPreKeyStore.saveKyberPreKey(kyberPreKey.id, kyberPreKey);
  let preKey: PreKeyRecord | null = null;
  if (options.oneTime !== false) {
    preKey = PreKeyRecord.generate(ids.preKeyId ?? 1, rng);
    await stores.preKeyStore.savePreKey(preKey.id, preKey);
  }
  return { preKey, signedPreKey, kyberPreKey };
}

/** The bundle a server would hand out for `stores` and the prekeys `generatePreKeys` made. */
export function bundleFor(
  stores: InMemoryProtocolStores,
  deviceId: number,
  keys: GeneratedPreKeys,
): PreKeyBundle {
  return new PreKeyBundle({
    registrationId: stores.registrationId,
    deviceId,
    preKeyId: keys.preKey === null ? null : keys.preKey.id,
    preKey: keys.preKey === null ? null : keys.preKey.publicKey,
    signedPreKeyId: keys.signedPreKey.id,
    signedPreKey: keys.signedPreKey.publicKey,
    signedPreKeySignature: keys.signedPreKey.signature,
    identityKey: stores.identity.identityKey,
    kyberPreKeyId: keys.kyberPreKey.id,
    kyberPreKey: keys.kyberPreKey.publicKey,
    kyberPreKeySignature: keys.kyberPreKey.signature,
  });
}

/**
 * A deterministic RNG for reproducible tests: SHA-256 in counter mode over `seed`. NOT a CSPRNG
 * for production use (the seed is the whole secret).
 */
export function seededRng(seed: string | number): Rng {
  const prefix = new TextEncoder().encode(`sotto-test-rng:${String(seed)}:`);
  const block = new Uint8Array(prefix.length + 8);
  block.set(prefix, 0);
  const view = new DataView(block.buffer);
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  let offset = 0;
  return (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (offset >= pool.length) {
        view.setUint32(prefix.length, Math.floor(counter / 0x1_0000_0000));
        view.setUint32(prefix.length + 4, counter >>> 0);
        counter++;
        pool = sha256(block);
        offset = 0;
      }
      const n = Math.min(length - filled, pool.length - offset);
      out.set(pool.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
    }
    return out;
  };
}
export { InMemorySenderKeyStore } from './group/in-memory-sender-key-store.js';
