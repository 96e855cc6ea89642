/**
 * Minimal in-memory libsignal stores for the group / sealed-sender / safety-number interop tests
 * (shared/specs/signal-wire.md §5–§7), plus converters between Sotto and libsignal key types.
 * Test-only: @signalapp/libsignal-client is a devDependency and never shipped.
 */
import * as signal from '@signalapp/libsignal-client';
import { KeyPair, PrivateKey, PublicKey } from '@sotto/protocol';
import {
  LibsignalKyberPreKeyStore,
  LibsignalPreKeyStore,
  LibsignalSessionStore,
  LibsignalSignedPreKeyStore,
} from '../harness/libsignal-stores.js';

// The 1:1 stores are shared with the session interop harness.
export {
  LibsignalKyberPreKeyStore,
  LibsignalPreKeyStore,
  LibsignalSessionStore,
  LibsignalSignedPreKeyStore,
};

/** A copy typed as `Uint8Array<ArrayBuffer>`, as libsignal's TypeScript API wants. */
export function ab(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

export const toLibsignalPublic = (key: PublicKey): signal.PublicKey =>
  signal.PublicKey.deserialize(ab(key.serialize()));
export const toLibsignalPrivate = (key: PrivateKey): signal.PrivateKey =>
  signal.PrivateKey.deserialize(ab(key.serialize()));
export const fromLibsignalPublic = (key: signal.PublicKey): PublicKey =>
  PublicKey.deserialize(key.serialize());
export const fromLibsignalPrivate = (key: signal.PrivateKey): KeyPair => {
  const privateKey = PrivateKey.deserialize(key.serialize());
  return new KeyPair(privateKey.publicKey, privateKey);
};

export class LibsignalSenderKeyStore extends signal.SenderKeyStore {
  readonly records = new Map<string, signal.SenderKeyRecord>();

  static key(sender: signal.ProtocolAddress, distributionId: string): string {
    return `${sender.name()}.${sender.deviceId()}/${distributionId.toLowerCase()}`;
  }

  saveSenderKey(
    sender: signal.ProtocolAddress,
    distributionId: signal.Uuid,
    record: signal.SenderKeyRecord,
  ): Promise<void> {
    this.records.set(LibsignalSenderKeyStore.key(sender, distributionId), record);
    return Promise.resolve();
  }

  getSenderKey(
    sender: signal.ProtocolAddress,
    distributionId: signal.Uuid,
  ): Promise<signal.SenderKeyRecord | null> {
    return Promise.resolve(
      this.records.get(LibsignalSenderKeyStore.key(sender, distributionId)) ?? null,
    );
  }
}

export class LibsignalIdentityStore extends signal.IdentityKeyStore {
  readonly identities = new Map<string, signal.PublicKey>();

  constructor(
    readonly identity: signal.PrivateKey,
    readonly registrationId: number,
  ) {
    super();
  }

  getIdentityKey(): Promise<signal.PrivateKey> {
    return Promise.resolve(this.identity);
  }

  getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.registrationId);
  }

  saveIdentity(
    name: signal.ProtocolAddress,
    key: signal.PublicKey,
  ): Promise<signal.IdentityChange> {
    const id = `${name.name()}.${name.deviceId()}`;
    const previous = this.identities.get(id);
    this.identities.set(id, key);
    return Promise.resolve(
      previous === undefined || previous.equals(key)
        ? signal.IdentityChange.NewOrUnchanged
        : signal.IdentityChange.ReplacedExisting,
    );
  }

  isTrustedIdentity(name: signal.ProtocolAddress, key: signal.PublicKey): Promise<boolean> {
    const known = this.identities.get(`${name.name()}.${name.deviceId()}`);
    return Promise.resolve(known === undefined || known.equals(key));
  }

  getIdentity(name: signal.ProtocolAddress): Promise<signal.PublicKey | null> {
    return Promise.resolve(this.identities.get(`${name.name()}.${name.deviceId()}`) ?? null);
  }
}

/** A libsignal client: identity, registration id, address and every store. */
export class LibsignalParty {
  readonly address: signal.ProtocolAddress;
  readonly identityStore: LibsignalIdentityStore;
  readonly sessionStore = new LibsignalSessionStore();
  readonly preKeyStore = new LibsignalPreKeyStore();
  readonly signedPreKeyStore = new LibsignalSignedPreKeyStore();
  readonly kyberPreKeyStore = new LibsignalKyberPreKeyStore();
  readonly senderKeyStore = new LibsignalSenderKeyStore();

  constructor(
    readonly uuid: string,
    readonly deviceId: number,
    readonly identity: signal.PrivateKey = signal.PrivateKey.generate(),
    readonly registrationId = 1 + Math.floor(Math.random() * 16_000),
  ) {
    this.address = signal.ProtocolAddress.new(uuid, deviceId);
    this.identityStore = new LibsignalIdentityStore(identity, registrationId);
  }

  /** A fresh PQXDH bundle (one-time prekey, signed prekey, Kyber prekey) with its records stored. */
  async bundle(): Promise<signal.PreKeyBundle> {
    const preKey = signal.PrivateKey.generate();
    const signedPreKey = signal.PrivateKey.generate();
    const kyber = signal.KEMKeyPair.generate();
    const signedSignature = this.identity.sign(signedPreKey.getPublicKey().serialize());
    const kyberSignature = this.identity.sign(kyber.getPublicKey().serialize());
    await this.preKeyStore.savePreKey(1, signal.PreKeyRecord.new(1, preKey.getPublicKey(), preKey));
    await this.signedPreKeyStore.saveSignedPreKey(
      2,
      signal.SignedPreKeyRecord.new(
        2,
        Date.now(),
        signedPreKey.getPublicKey(),
        signedPreKey,
        signedSignature,
      ),
    );
    await this.kyberPreKeyStore.saveKyberPreKey(
      3,
      signal.KyberPreKeyRecord.new(3, Date.now(), kyber, kyberSignature),
    );
    return signal.PreKeyBundle.new(
      this.registrationId,
      this.deviceId,
      1,
      preKey.getPublicKey(),
      2,
      signedPreKey.getPublicKey(),
      signedSignature,
      this.identity.getPublicKey(),
      3,
      kyber.getPublicKey(),
      kyberSignature,
    );
  }

  /** Starts a libsignal session to `other` (both sides libsignal). */
  async startSessionWith(other: LibsignalParty): Promise<void> {
    await signal.processPreKeyBundle(
      await other.bundle(),
      other.address,
      this.address,
      this.sessionStore,
      this.identityStore,
    );
  }
}

/** The libsignal error code of a rejection, or 'ok'. */
export async function libsignalOutcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (err) {
    if (err instanceof signal.LibSignalErrorBase) return `error:${String(err.code)}`;
    throw err;
  }
}
