/**
 * Sealed Sender v1 (shared/specs/signal-wire.md §6, libsignal `sealed_sender.rs`
 * `sealed_sender_encrypt_from_usmc` / `sealed_sender_decrypt_to_usmc` / `sealed_sender_decrypt`):
 *
 *   0x11 ‖ pb{1: ephemeralPublic(33), 2: encryptedStatic, 3: encryptedMessage}
 *   chainKey ‖ cipherKey ‖ macKey = HKDF(salt = "UnidentifiedDelivery" ‖ R_pub ‖ E_pub,
 *                                        ikm = DH(E, R), info = "", 96)
 *   encryptedStatic  = AES-256-CTR(cipherKey, S_pub) ‖ HMAC(macKey, ct)[0..10]
 *   _ ‖ cipher ‖ mac = HKDF(salt = chainKey ‖ encryptedStatic, ikm = DH(S, R), info = "", 96)
 *   encryptedMessage = AES-256-CTR(cipher, USMC) ‖ HMAC(mac, ct)[0..10]
 * (CTR with a zero initial counter block; MACs compared in constant time.)
 *
 * The receiver checks that the decrypted static key equals the sender certificate's identity
 * key, so only the holder of that identity key could have sealed the message.
 * `sealedSenderDecrypt` additionally validates the certificate against the trust root(s) at
 * `now` and refuses a message sealed by our own device. The inner message is left to the
 * session cipher. Left out: Sealed Sender v2 (0x22/0x23, multi-recipient); it is refused with
 * `UNSUPPORTED_VERSION`.
 */
import {
  aes256Ctr,
  concatBytes,
  constantTimeEqual,
  hkdfSha256,
  hmacSha256,
  utf8,
} from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import { KeyPair, PublicKey, type PrivateKey } from '../keys/curve.js';
import type { Rng } from '../rng.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { UnidentifiedSenderMessageContent } from './unidentified-sender-message-content.js';

/** The version byte of Sealed Sender v1: major 1, current 1. */
export const SEALED_SENDER_V1_VERSION_BYTE = 0x11;
const SEALED_SENDER_V1_MAJOR = 1;
const SEALED_SENDER_V2_MAJOR = 2;
const MAC_LENGTH = 10;
const SALT_PREFIX = utf8('UnidentifiedDelivery');
const EMPTY = new Uint8Array(0);
const ZERO_COUNTER = new Uint8Array(16);

/** An identity key pair: a curve `KeyPair` or the sessions' `IdentityKeyPair` both fit. */
export interface IdentityKeyPairLike {
  readonly publicKey: PublicKey;
  readonly privateKey: PrivateKey;
}

interface CipherAndMacKeys {
  readonly cipherKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/** HKDF over the ephemeral agreement: chain ‖ cipher ‖ mac keys. */
function ephemeralKeys(
  sharedSecret: Uint8Array,
  recipientPublic: PublicKey,
  ephemeralPublic: PublicKey,
): CipherAndMacKeys & { readonly chainKey: Uint8Array } {
  const salt = concatBytes(SALT_PREFIX, recipientPublic.serialize(), ephemeralPublic.serialize());
  const derived = hkdfSha256(sharedSecret, salt, EMPTY, 96);
  return {
    chainKey: derived.subarray(0, 32),
    cipherKey: derived.subarray(32, 64),
    macKey: derived.subarray(64, 96),
  };
}

/** HKDF over the static agreement; the first 32 bytes are unused (as in libsignal). */
function staticKeys(
  sharedSecret: Uint8Array,
  chainKey: Uint8Array,
  encryptedStatic: Uint8Array,
): CipherAndMacKeys {
  const derived = hkdfSha256(sharedSecret, concatBytes(chainKey, encryptedStatic), EMPTY, 96);
  return { cipherKey: derived.subarray(32, 64), macKey: derived.subarray(64, 96) };
}

function ctrHmacEncrypt(plaintext: Uint8Array, keys: CipherAndMacKeys): Uint8Array {
  const ciphertext = aes256Ctr(keys.cipherKey, ZERO_COUNTER, plaintext);
  const out = new Uint8Array(ciphertext.length + MAC_LENGTH);
  out.set(ciphertext);
  out.set(hmacSha256(keys.macKey, ciphertext).subarray(0, MAC_LENGTH), ciphertext.length);
  return out;
}

function ctrHmacDecrypt(sealed: Uint8Array, keys: CipherAndMacKeys, what: string): Uint8Array {
  if (sealed.length < MAC_LENGTH) {
    throw new ProtocolError('INVALID_MESSAGE', `sealed sender ${what} is truncated`);
  }
  const ciphertext = sealed.subarray(0, sealed.length - MAC_LENGTH);
  const mac = hmacSha256(keys.macKey, ciphertext).subarray(0, MAC_LENGTH);
  if (!constantTimeEqual(mac, sealed.subarray(sealed.length - MAC_LENGTH))) {
    throw new ProtocolError('INVALID_MAC', `sealed sender ${what} MAC does not verify`);
  }
  return aes256Ctr(keys.cipherKey, ZERO_COUNTER, ciphertext);
}

/**
 * Seals `content` for the holder of `recipientIdentityKey`, from `senderIdentity` (whose public
 * key must be the one in the content's sender certificate for the recipient to accept it).
 */
export function sealedSenderEncrypt(
  content: UnidentifiedSenderMessageContent,
  recipientIdentityKey: PublicKey,
  senderIdentity: IdentityKeyPairLike,
  rng: Rng,
): Uint8Array {
  const ephemeral = KeyPair.generate(rng);
  const eph = ephemeralKeys(
    ephemeral.privateKey.agree(recipientIdentityKey),
    recipientIdentityKey,
    ephemeral.publicKey,
  );
  const encryptedStatic = ctrHmacEncrypt(senderIdentity.publicKey.serialize(), eph);
  const keys = staticKeys(
    senderIdentity.privateKey.agree(recipientIdentityKey),
    eph.chainKey,
    encryptedStatic,
  );
  const encryptedMessage = ctrHmacEncrypt(content.serialized, keys);
  return new ProtoWriter(encryptedMessage.length + encryptedStatic.length + 48)
    .raw(new Uint8Array([SEALED_SENDER_V1_VERSION_BYTE]))
    .bytes(1, ephemeral.publicKey.serialize())
    .bytes(2, encryptedStatic)
    .bytes(3, encryptedMessage)
    .finish();
}

function parseV1(ciphertext: Uint8Array): {
  ephemeralPublic: PublicKey;
  encryptedStatic: Uint8Array;
  encryptedMessage: Uint8Array;
} {
  const first = ciphertext[0];
  if (first === undefined)
    throw new ProtocolError('INVALID_MESSAGE', 'empty sealed sender message');
  const major = first >> 4;
  // libsignal also reads major version 0 as v1.
  if (major === SEALED_SENDER_V2_MAJOR) {
    throw new ProtocolError('UNSUPPORTED_VERSION', 'sealed sender v2 is not supported');
  }
  if (major !== 0 && major !== SEALED_SENDER_V1_MAJOR) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `sealed sender version ${major}`);
  }
  let ephemeral: Uint8Array | undefined;
  let encryptedStatic: Uint8Array | undefined;
  let encryptedMessage: Uint8Array | undefined;
  for (const f of readFields(ciphertext.subarray(1))) {
    if (f.field >= 1 && f.field <= 3 && f.wire !== 2) {
      throw new ProtocolError('INVALID_MESSAGE', 'wrong protobuf wire type');
    }
    if (f.field === 1) ephemeral = f.bytes;
    else if (f.field === 2) encryptedStatic = f.bytes;
    else if (f.field === 3) encryptedMessage = f.bytes;
  }
  if (ephemeral === undefined || encryptedStatic === undefined || encryptedMessage === undefined) {
    throw new ProtocolError('INVALID_MESSAGE', 'sealed sender message misses a field');
  }
  return { ephemeralPublic: PublicKey.deserialize(ephemeral), encryptedStatic, encryptedMessage };
}

/**
 * Opens a sealed-sender v1 message addressed to `recipientIdentity` and returns its content,
 * after checking that the sealing key is the certificate's identity key. The certificate itself
 * is NOT validated here: use {@link sealedSenderDecrypt}, or `senderCertificate.assertValid`.
 */
export function sealedSenderDecryptToUsmc(
  ciphertext: Uint8Array,
  recipientIdentity: IdentityKeyPairLike,
): UnidentifiedSenderMessageContent {
  const { ephemeralPublic, encryptedStatic, encryptedMessage } = parseV1(ciphertext);
  const eph = ephemeralKeys(
    recipientIdentity.privateKey.agree(ephemeralPublic),
    recipientIdentity.publicKey,
    ephemeralPublic,
  );
  const staticKeyBytes = ctrHmacDecrypt(encryptedStatic, eph, 'sender key');
  const staticKey = PublicKey.deserialize(staticKeyBytes);
  const keys = staticKeys(
    recipientIdentity.privateKey.agree(staticKey),
    eph.chainKey,
    encryptedStatic,
  );
  const content = UnidentifiedSenderMessageContent.deserialize(
    ctrHmacDecrypt(encryptedMessage, keys, 'content'),
  );
  if (!constantTimeEqual(staticKeyBytes, content.senderCertificate.identityKey.serialize())) {
    throw new ProtocolError(
      'INVALID_CERTIFICATE',
      'sender certificate key does not match the key that sealed the message',
    );
  }
  return content;
}

/** Our own address, to refuse messages sealed by this very device. */
export interface SealedSenderLocalAddress {
  readonly uuid: string;
  readonly e164?: string;
  readonly deviceId: number;
}

/**
 * Opens a sealed-sender v1 message, then validates its sender certificate against `trustRoots`
 * at `now` (ms): `INVALID_CERTIFICATE` or `CERTIFICATE_EXPIRED` if it fails. With `local`, a
 * message whose certificate names our own uuid (or e164) and device is refused
 * (`INVALID_MESSAGE`), as libsignal refuses a sealed-sender self-send.
 */
export function sealedSenderDecrypt(
  ciphertext: Uint8Array,
  recipientIdentity: IdentityKeyPairLike,
  trustRoots: PublicKey | readonly PublicKey[],
  now: number,
  local?: SealedSenderLocalAddress,
): UnidentifiedSenderMessageContent {
  const content = sealedSenderDecryptToUsmc(ciphertext, recipientIdentity);
  const certificate = content.senderCertificate;
  certificate.assertValid(trustRoots, now);
  if (local !== undefined) {
    const sameUuid = local.uuid === certificate.senderUuid;
    const sameE164 =
      local.e164 !== undefined &&
      certificate.senderE164 !== undefined &&
      local.e164 === certificate.senderE164;
    if ((sameUuid || sameE164) && certificate.senderDeviceId === local.deviceId) {
      throw new ProtocolError('INVALID_MESSAGE', 'sealed sender message from our own device');
    }
  }
  return content;
}
