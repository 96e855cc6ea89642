/**
 * The prekey bundle a server hands out for one device (shared/specs/signal-wire.md §1.1, §1.3):
 * the same fields, in the same order, as libsignal's `PreKeyBundle.new`. The Kyber prekey is
 * mandatory; the one-time EC prekey is optional (id and key together or neither). Signatures are
 * verified when a session is started from the bundle, not here.
 */
import { ProtocolError } from '../errors.js';
import type { PublicKey } from './curve.js';
import type { IdentityKey } from './identity-key.js';
import type { KemPublicKey } from './kem.js';

export interface PreKeyBundleFields {
  readonly registrationId: number;
  readonly deviceId: number;
  readonly preKeyId: number | null;
  readonly preKey: PublicKey | null;
  readonly signedPreKeyId: number;
  readonly signedPreKey: PublicKey;
  readonly signedPreKeySignature: Uint8Array;
  readonly identityKey: IdentityKey;
  readonly kyberPreKeyId: number;
  readonly kyberPreKey: KemPublicKey;
  readonly kyberPreKeySignature: Uint8Array;
}

function uint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new ProtocolError('INVALID_STATE', `${what} must be a uint32`);
  }
  return value;
}

export class PreKeyBundle implements PreKeyBundleFields {
  readonly registrationId: number;
  readonly deviceId: number;
  readonly preKeyId: number | null;
  readonly preKey: PublicKey | null;
  readonly signedPreKeyId: number;
  readonly signedPreKey: PublicKey;
  readonly signedPreKeySignature: Uint8Array;
  readonly identityKey: IdentityKey;
  readonly kyberPreKeyId: number;
  readonly kyberPreKey: KemPublicKey;
  readonly kyberPreKeySignature: Uint8Array;

  constructor(fields: PreKeyBundleFields) {
    if ((fields.preKeyId === null) !== (fields.preKey === null)) {
      throw new ProtocolError('INVALID_STATE', 'one-time prekey id and key must come together');
    }
    this.registrationId = uint32(fields.registrationId, 'registration id');
    this.deviceId = uint32(fields.deviceId, 'device id');
    this.preKeyId = fields.preKeyId === null ? null : uint32(fields.preKeyId, 'prekey id');
    this.preKey = fields.preKey;
    this.signedPreKeyId = uint32(fields.signedPreKeyId, 'signed prekey id');
    this.signedPreKey = fields.signedPreKey;
    this.signedPreKeySignature = fields.signedPreKeySignature;
    this.identityKey = fields.identityKey;
    this.kyberPreKeyId = uint32(fields.kyberPreKeyId, 'Kyber prekey id');
    this.kyberPreKey = fields.kyberPreKey;
    this.kyberPreKeySignature = fields.kyberPreKeySignature;
  }

  /** Positional form with libsignal's argument order (`PreKeyBundle.new`). */
  static new(
    registrationId: number,
    deviceId: number,
    preKeyId: number | null,
    preKey: PublicKey | null,
    signedPreKeyId: number,
    signedPreKey: PublicKey,
    signedPreKeySignature: Uint8Array,
    identityKey: IdentityKey,
    kyberPreKeyId: number,
    kyberPreKey: KemPublicKey,
    kyberPreKeySignature: Uint8Array,
  ): PreKeyBundle {
    return new PreKeyBundle({
      registrationId,
      deviceId,
      preKeyId,
      preKey,
      signedPreKeyId,
      signedPreKey,
      signedPreKeySignature,
      identityKey,
      kyberPreKeyId,
      kyberPreKey,
      kyberPreKeySignature,
    });
  }
}
