/**
 * In-memory implementations of libsignal's abstract store classes (`SessionStore`,
 * `IdentityKeyStore`, `PreKeyStore`, `SignedPreKeyStore`, `KyberPreKeyStore`) for the 1:1 session
 * interop suites (shared/specs/signal-wire.md "What an interop test suite should cover").
 * Identity trust is trust-on-first-use, like libsignal's own `InMemIdentityKeyStore`.
 * Test-only: @signalapp/libsignal-client is a devDependency and never shipped.
 */
import * as signal from '@signalapp/libsignal-client';

const addressKey = (a: signal.ProtocolAddress): string => `${a.name()}.${a.deviceId()}`;

export class LibsignalSessionStore extends signal.SessionStore {
  readonly sessions = new Map<string, signal.SessionRecord>();

  saveSession(name: signal.ProtocolAddress, record: signal.SessionRecord): Promise<void> {
    this.sessions.set(addressKey(name), record);
    return Promise.resolve();
  }

  getSession(name: signal.ProtocolAddress): Promise<signal.SessionRecord | null> {
    return Promise.resolve(this.sessions.get(addressKey(name)) ?? null);
  }

  getExistingSessions(addresses: signal.ProtocolAddress[]): Promise<signal.SessionRecord[]> {
    return Promise.resolve(
      addresses.map((a) => {
        const record = this.sessions.get(addressKey(a));
        if (record === undefined) throw new Error(`no session for ${addressKey(a)}`);
        return record;
      }),
    );
  }
}

export class LibsignalIdentityStore extends signal.IdentityKeyStore {
  readonly known = new Map<string, signal.PublicKey>();

  constructor(
    readonly identity: signal.IdentityKeyPair,
    readonly registrationId: number,
  ) {
    super();
  }

  getIdentityKey(): Promise<signal.PrivateKey> {
    return Promise.resolve(this.identity.privateKey);
  }

  getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.registrationId);
  }

  saveIdentity(
    name: signal.ProtocolAddress,
    key: signal.PublicKey,
  ): Promise<signal.IdentityChange> {
    const known = this.known.get(addressKey(name));
    this.known.set(addressKey(name), key);
    return Promise.resolve(
      known !== undefined && !known.equals(key)
        ? signal.IdentityChange.ReplacedExisting
        : signal.IdentityChange.NewOrUnchanged,
    );
  }

  isTrustedIdentity(name: signal.ProtocolAddress, key: signal.PublicKey): Promise<boolean> {
    const known = this.known.get(addressKey(name));
    return Promise.resolve(known === undefined || known.equals(key));
  }

  getIdentity(name: signal.ProtocolAddress): Promise<signal.PublicKey | null> {
    return Promise.resolve(this.known.get(addressKey(name)) ?? null);
  }
}

export class LibsignalPreKeyStore extends signal.PreKeyStore {
  readonly keys = new Map<number, signal.PreKeyRecord>();

  savePreKey(id: number, record: signal.PreKeyRecord): Promise<void> {
    this.keys.set(id, record);
    return Promise.resolve();
  }

  getPreKey(id: number): Promise<signal.PreKeyRecord> {
    const record = this.keys.get(id);
    return record === undefined
      ? Promise.reject(new Error(`no prekey ${id}`))
      : Promise.resolve(record);
  }

  removePreKey(id: number): Promise<void> {
    this.keys.delete(id);
    return Promise.resolve();
  }
}

export class LibsignalSignedPreKeyStore extends signal.SignedPreKeyStore {
  readonly keys = new Map<number, signal.SignedPreKeyRecord>();

  saveSignedPreKey(id: number, record: signal.SignedPreKeyRecord): Promise<void> {
    this.keys.set(id, record);
    return Promise.resolve();
  }

  getSignedPreKey(id: number): Promise<signal.SignedPreKeyRecord> {
    const record = this.keys.get(id);
    return record === undefined
      ? Promise.reject(new Error(`no signed prekey ${id}`))
      : Promise.resolve(record);
  }
}

export class LibsignalKyberPreKeyStore extends signal.KyberPreKeyStore {
  readonly keys = new Map<number, signal.KyberPreKeyRecord>();
  /** Every `markKyberPreKeyUsed` call, as `[kyberId, signedPreKeyId, baseKeyHex]`. */
  readonly used: [number, number, string][] = [];

  saveKyberPreKey(id: number, record: signal.KyberPreKeyRecord): Promise<void> {
    this.keys.set(id, record);
    return Promise.resolve();
  }

  getKyberPreKey(id: number): Promise<signal.KyberPreKeyRecord> {
    const record = this.keys.get(id);
    return record === undefined
      ? Promise.reject(new Error(`no Kyber prekey ${id}`))
      : Promise.resolve(record);
  }

  markKyberPreKeyUsed(
    kyberPreKeyId: number,
    signedPreKeyId: number,
    baseKey: signal.PublicKey,
  ): Promise<void> {
    this.used.push([
      kyberPreKeyId,
      signedPreKeyId,
      Buffer.from(baseKey.serialize()).toString('hex'),
    ]);
    this.keys.delete(kyberPreKeyId);
    return Promise.resolve();
  }
}
