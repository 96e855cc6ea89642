/**
 * One interface over a Sotto endpoint and a libsignal endpoint, so every interop scenario runs in
 * all four pairings (Sotto→libsignal, libsignal→Sotto, and the two same-implementation controls)
 * and outcomes can be compared message by message.
 *
 * A `RawBundle` carries the bundle fields as bytes (`0x05‖32` EC keys, `0x08‖1568` KEM key), the
 * way a server would relay them; each side parses it with its own code.
 */
import { randomUUID } from 'node:crypto';
import * as signal from '@signalapp/libsignal-client';
import {
  IdentityKey,
  IdentityKeyPair,
  KemPublicKey,
  PreKeyBundle,
  PreKeyRecord,
  ProtocolError,
  PublicKey,
  SignedPreKeyRecord,
  KyberPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type ProtocolAddress,
  type Rng,
} from '@sotto/protocol';
import { InMemoryProtocolStores } from '@sotto/protocol/testing';
import { randomBytes } from '@sotto/crypto';
import {
  LibsignalIdentityStore,
  LibsignalKyberPreKeyStore,
  LibsignalPreKeyStore,
  LibsignalSessionStore,
  LibsignalSignedPreKeyStore,
} from './libsignal-stores.js';

/** A copy typed as `Uint8Array<ArrayBuffer>`, as libsignal's TypeScript API wants. */
export function ab(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

export interface RawBundle {
  readonly registrationId: number;
  readonly deviceId: number;
  readonly preKeyId: number | null;
  readonly preKey: Uint8Array | null;
  readonly signedPreKeyId: number;
  readonly signedPreKey: Uint8Array;
  readonly signedPreKeySignature: Uint8Array;
  readonly identityKey: Uint8Array;
  readonly kyberPreKeyId: number;
  readonly kyberPreKey: Uint8Array;
  readonly kyberPreKeySignature: Uint8Array;
}

/** A message on the wire: CiphertextMessageType 2 (Whisper) or 3 (PreKey). */
export interface Wire {
  readonly type: 2 | 3;
  readonly body: Uint8Array;
}

export type Kind = 'sotto' | 'libsignal';

export interface Peer {
  readonly kind: Kind;
  readonly address: ProtocolAddress;
  /** Generates and stores fresh prekeys; returns the bundle a server would hand out. */
  bundle(options?: { oneTime?: boolean }): Promise<RawBundle>;
  startSession(remote: ProtocolAddress, bundle: RawBundle): Promise<void>;
  encrypt(remote: ProtocolAddress, plaintext: Uint8Array): Promise<Wire>;
  /** Throws on any rejection. */
  decrypt(remote: ProtocolAddress, message: Wire): Promise<Uint8Array>;
  /** Like `decrypt`, but reports the outcome instead of throwing. */
  tryDecrypt(remote: ProtocolAddress, message: Wire): Promise<Outcome>;
}

export type Outcome = { ok: true; plaintext: Uint8Array } | { ok: false; error: string };

async function outcome(f: () => Promise<Uint8Array>): Promise<Outcome> {
  try {
    return { ok: true, plaintext: await f() };
  } catch (err) {
    if (ProtocolError.is(err)) return { ok: false, error: err.code };
    if (err instanceof signal.LibSignalErrorBase)
      return { ok: false, error: `libsignal:${err.code}:${err.message}` };
    return { ok: false, error: String(err) };
  }
}

/** A fresh ACI-style address (a UUID name), so the `addresses` field is always present. */
export function newAddress(deviceId = 1): ProtocolAddress {
  return { name: randomUUID(), deviceId };
}

// Ids and registration ids are kept within 128..16383 so their varints always take two bytes:
// messages of both implementations then have identical layouts, which the seeded corruption
// runs rely on (the same bit position hits the same field everywhere).
let nextId = 1_000;
const freshId = (): number => {
  nextId = nextId >= 16_000 ? 1_000 : nextId + 1;
  return nextId;
};
const freshRegistrationId = (): number => 128 + Math.floor(Math.random() * 16_000);

export class SottoPeer implements Peer {
  readonly kind = 'sotto' as const;
  readonly stores: InMemoryProtocolStores;
  readonly address: ProtocolAddress;
  /** Milliseconds since the epoch, as passed to the protocol (tests may move it). */
  now = Date.now();

  readonly rng: Rng;

  constructor(options: { rng?: Rng; address?: ProtocolAddress; identity?: IdentityKeyPair } = {}) {
    this.rng = options.rng ?? randomBytes;
    this.address = options.address ?? newAddress();
    this.stores = new InMemoryProtocolStores(
      options.identity ?? IdentityKeyPair.generate(this.rng),
      freshRegistrationId(),
    );
  }

  get ctx(): { rng: Rng; now: number } {
    return { rng: this.rng, now: this.now };
  }

  async bundle(options: { oneTime?: boolean } = {}): Promise<RawBundle> {
    const identity = this.stores.identity;
    const signedPreKey = SignedPreKeyRecord.generate(freshId(), identity, this.now, this.rng);
    const kyberPreKey = KyberPreKeyRecord.generate(freshId(), identity, this.now, this.rng);
    await this.stores.signedPreKeyStore.saveSignedPreKey(signedPreKey.id, signedPreKey);
    await this.stores.kyberPreKeyStore.saveKyberPreKey(kyberPreKey.id, kyberPreKey);
    let preKey: PreKeyRecord | null = null;
    if (options.oneTime !== false) {
      preKey = PreKeyRecord.generate(freshId(), this.rng);
      await this.stores.preKeyStore.savePreKey(preKey.id, preKey);
    }
    return {
      registrationId: this.stores.registrationId,
      deviceId: this.address.deviceId,
      preKeyId: preKey?.id ?? null,
      preKey: preKey?.publicKey.serialize() ?? null,
      signedPreKeyId: signedPreKey.id,
      signedPreKey: signedPreKey.publicKey.serialize(),
      signedPreKeySignature: signedPreKey.signature,
      identityKey: identity.publicKey.serialize(),
      kyberPreKeyId: kyberPreKey.id,
      kyberPreKey: kyberPreKey.publicKey.serialize(),
      kyberPreKeySignature: kyberPreKey.signature,
    };
  }

  async startSession(remote: ProtocolAddress, b: RawBundle): Promise<void> {
    const bundle = new PreKeyBundle({
      registrationId: b.registrationId,
      deviceId: b.deviceId,
      preKeyId: b.preKeyId,
      preKey: b.preKey === null ? null : PublicKey.deserialize(b.preKey),
      signedPreKeyId: b.signedPreKeyId,
      signedPreKey: PublicKey.deserialize(b.signedPreKey),
      signedPreKeySignature: b.signedPreKeySignature,
      identityKey: IdentityKey.deserialize(b.identityKey),
      kyberPreKeyId: b.kyberPreKeyId,
      kyberPreKey: KemPublicKey.deserialize(b.kyberPreKey),
      kyberPreKeySignature: b.kyberPreKeySignature,
    });
    await processPreKeyBundle(bundle, remote, this.address, this.stores, this.ctx);
  }

  async encrypt(remote: ProtocolAddress, plaintext: Uint8Array): Promise<Wire> {
    const m = await signalEncrypt(plaintext, remote, this.address, this.stores, this.ctx);
    return { type: m.type === 'prekey' ? 3 : 2, body: m.body };
  }

  decrypt(remote: ProtocolAddress, message: Wire): Promise<Uint8Array> {
    return message.type === 3
      ? signalDecryptPreKey(message.body, remote, this.address, this.stores, this.ctx)
      : signalDecrypt(message.body, remote, this.address, this.stores, this.ctx);
  }

  tryDecrypt(remote: ProtocolAddress, message: Wire): Promise<Outcome> {
    return outcome(() => this.decrypt(remote, message));
  }
}

export class LibsignalPeer implements Peer {
  readonly kind = 'libsignal' as const;
  readonly identity: signal.IdentityKeyPair;
  readonly registrationId = freshRegistrationId();
  readonly sessions = new LibsignalSessionStore();
  readonly identities: LibsignalIdentityStore;
  readonly preKeys = new LibsignalPreKeyStore();
  readonly signedPreKeys = new LibsignalSignedPreKeyStore();
  readonly kyberPreKeys = new LibsignalKyberPreKeyStore();
  readonly address: ProtocolAddress;
  readonly protocolAddress: signal.ProtocolAddress;
  now = new Date();

  constructor(options: { address?: ProtocolAddress; identity?: signal.IdentityKeyPair } = {}) {
    this.identity = options.identity ?? signal.IdentityKeyPair.generate();
    this.address = options.address ?? newAddress();
    this.protocolAddress = signal.ProtocolAddress.new(this.address.name, this.address.deviceId);
    this.identities = new LibsignalIdentityStore(this.identity, this.registrationId);
  }

  static address(a: ProtocolAddress): signal.ProtocolAddress {
    return signal.ProtocolAddress.new(a.name, a.deviceId);
  }

  bundle(options: { oneTime?: boolean } = {}): Promise<RawBundle> {
    const spk = signal.PrivateKey.generate();
    const kem = signal.KEMKeyPair.generate();
    const spkId = freshId();
    const kyberId = freshId();
    const spkSignature = this.identity.privateKey.sign(spk.getPublicKey().serialize());
    const kyberSignature = this.identity.privateKey.sign(kem.getPublicKey().serialize());
    this.signedPreKeys.keys.set(
      spkId,
      signal.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, spkSignature),
    );
    this.kyberPreKeys.keys.set(
      kyberId,
      signal.KyberPreKeyRecord.new(kyberId, Date.now(), kem, kyberSignature),
    );
    let preKeyId: number | null = null;
    let preKey: Uint8Array | null = null;
    if (options.oneTime !== false) {
      const pk = signal.PrivateKey.generate();
      preKeyId = freshId();
      preKey = pk.getPublicKey().serialize();
      this.preKeys.keys.set(preKeyId, signal.PreKeyRecord.new(preKeyId, pk.getPublicKey(), pk));
    }
    return Promise.resolve({
      registrationId: this.registrationId,
      deviceId: this.address.deviceId,
      preKeyId,
      preKey,
      signedPreKeyId: spkId,
      signedPreKey: spk.getPublicKey().serialize(),
      signedPreKeySignature: spkSignature,
      identityKey: this.identity.publicKey.serialize(),
      kyberPreKeyId: kyberId,
      kyberPreKey: kem.getPublicKey().serialize(),
      kyberPreKeySignature: kyberSignature,
    });
  }

  async startSession(remote: ProtocolAddress, b: RawBundle): Promise<void> {
    const bundle = signal.PreKeyBundle.new(
      b.registrationId,
      b.deviceId,
      b.preKeyId,
      b.preKey === null ? null : signal.PublicKey.deserialize(ab(b.preKey)),
      b.signedPreKeyId,
      signal.PublicKey.deserialize(ab(b.signedPreKey)),
      ab(b.signedPreKeySignature),
      signal.PublicKey.deserialize(ab(b.identityKey)),
      b.kyberPreKeyId,
      signal.KEMPublicKey.deserialize(ab(b.kyberPreKey)),
      ab(b.kyberPreKeySignature),
    );
    await signal.processPreKeyBundle(
      bundle,
      LibsignalPeer.address(remote),
      this.protocolAddress,
      this.sessions,
      this.identities,
      this.now,
    );
  }

  async encrypt(remote: ProtocolAddress, plaintext: Uint8Array): Promise<Wire> {
    const m = await signal.signalEncrypt(
      ab(plaintext),
      LibsignalPeer.address(remote),
      this.protocolAddress,
      this.sessions,
      this.identities,
      this.now,
    );
    // CiphertextMessageType: Whisper 2, PreKey 3 (signal-wire.md §2.4).
    const type: number = m.type();
    if (type !== 2 && type !== 3) throw new Error(`unexpected message type ${type}`);
    return { type, body: m.serialize() };
  }

  decrypt(remote: ProtocolAddress, message: Wire): Promise<Uint8Array> {
    const from = LibsignalPeer.address(remote);
    if (message.type === 3) {
      return signal.signalDecryptPreKey(
        signal.PreKeySignalMessage.deserialize(ab(message.body)),
        from,
        this.protocolAddress,
        this.sessions,
        this.identities,
        this.preKeys,
        this.signedPreKeys,
        this.kyberPreKeys,
      );
    }
    return signal.signalDecrypt(
      signal.SignalMessage.deserialize(ab(message.body)),
      from,
      this.protocolAddress,
      this.sessions,
      this.identities,
    );
  }

  tryDecrypt(remote: ProtocolAddress, message: Wire): Promise<Outcome> {
    return outcome(() => this.decrypt(remote, message));
  }
}

export function makePeer(kind: Kind, address: ProtocolAddress = newAddress()): Peer {
  return kind === 'sotto' ? new SottoPeer({ address }) : new LibsignalPeer({ address });
}

/** The four pairings (initiator, responder); the first two are the interop ones. */
export const PAIRINGS: readonly (readonly [Kind, Kind])[] = [
  ['sotto', 'libsignal'],
  ['libsignal', 'sotto'],
  ['libsignal', 'libsignal'],
  ['sotto', 'sotto'],
];

/** Sets up a session: `a` fetches `b`'s bundle and starts; returns both. */
export async function connect(
  aKind: Kind,
  bKind: Kind,
  options: { oneTime?: boolean } = {},
): Promise<{ a: Peer; b: Peer }> {
  const a = makePeer(aKind);
  const b = makePeer(bKind);
  await a.startSession(b.address, await b.bundle(options));
  return { a, b };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const text = (s: string): Uint8Array => encoder.encode(s);
export const str = (b: Uint8Array): string => decoder.decode(b);
