/**
 * Signal's ProvisioningCipher: how the primary seals a ProvisionMessage to the key a new device
 * showed in its link URI (Signal-Android `PrimaryProvisioningCipher.encrypt`, Signal-Desktop
 * `ts/textsecure/ProvisioningCipher.ts` for the decrypting side):
 *
 *   e            = a fresh X25519 key pair of the primary (one per message)
 *   secret       = X25519(e.private, newDevicePublic)
 *   okm (64)     = HKDF-SHA256(ikm = secret, salt = 32 zero bytes,
 *                              info = "TextSecure Provisioning Message")
 *   cipherKey    = okm[0..32),  macKey = okm[32..64)
 *   body         = 0x01 ‖ iv(16) ‖ AES-256-CBC/PKCS#7(cipherKey, iv, message)
 *                  ‖ HMAC-SHA256(macKey, 0x01 ‖ iv ‖ ciphertext)   (all 32 bytes of it)
 *   envelope     = ProvisionEnvelope { publicKey = 0x05 ‖ e.public, body }
 *
 * Opening checks the version byte, then the MAC in constant time, and only then decrypts. The
 * construction has no associated data and no sender authentication: whoever knows the new
 * device's public key (it is in the link URI) can make an envelope it accepts. The URI travels
 * out of band (QR code, typed) from the new device to the primary; the relay never sees the key.
 */
import {
  aes256CbcDecrypt,
  aes256CbcEncrypt,
  concatBytes,
  constantTimeEqual,
  hkdfSha256,
  hmacSha256,
  utf8,
  x25519,
  x25519GenerateKeyPair,
} from '@sotto/crypto';
import type { Rng } from '@sotto/protocol';
import { ClientError } from '../errors.js';
import {
  decodeProvisionEnvelope,
  encodeProvisionEnvelope,
  type ProvisionEnvelope,
} from './provisioning-proto.js';

/** HKDF info of Signal's provisioning cipher. */
export const PROVISIONING_INFO = 'TextSecure Provisioning Message';
/** The version byte of a provisioning body (Signal's ProvisioningVersion for device links). */
export const PROVISIONING_BODY_VERSION = 0x01;
/** Signal's serialised EC public key: the type byte 0x05, then the 32-byte u-coordinate. */
export const DJB_TYPE = 0x05;
const KEY_BYTES = 32;
const IV_BYTES = 16;
const MAC_BYTES = 32;
const BLOCK_BYTES = 16;

export interface ProvisioningKeys {
  readonly cipherKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/** `0x05 ‖ u` → `u`, refusing anything but a 33-byte DJB key. */
export function djbKeyBytes(serialized: Uint8Array, what: string): Uint8Array {
  if (serialized.length !== KEY_BYTES + 1 || serialized[0] !== DJB_TYPE) {
    throw new ClientError('LINK_FAILED', `the ${what} is not a Curve25519 public key`);
  }
  return serialized.subarray(1);
}

/** The cipher and MAC keys of one provisioning message from the X25519 shared secret. */
export function provisioningKeys(sharedSecret: Uint8Array): ProvisioningKeys {
  const okm = hkdfSha256(sharedSecret, new Uint8Array(KEY_BYTES), utf8(PROVISIONING_INFO), 64);
  return { cipherKey: okm.slice(0, KEY_BYTES), macKey: okm.slice(KEY_BYTES) };
}

/**
 * Seals `message` (an encoded ProvisionMessage) for the new device whose serialised public key
 * (`0x05 ‖ 32`) is `theirPublicKey`; returns the encoded ProvisionEnvelope.
 */
export function encryptProvisioning(
  theirPublicKey: Uint8Array,
  message: Uint8Array,
  rng: Rng,
): Uint8Array {
  const their = djbKeyBytes(theirPublicKey, 'new device key');
  const mine = x25519GenerateKeyPair(rng);
  const shared = x25519(mine.privateKey, their);
  mine.privateKey.fill(0);
  const { cipherKey, macKey } = provisioningKeys(shared);
  shared.fill(0);
  const iv = rng(IV_BYTES).slice(0, IV_BYTES);
  const signed = concatBytes(
    Uint8Array.of(PROVISIONING_BODY_VERSION),
    iv,
    aes256CbcEncrypt(cipherKey, iv, message),
  );
  const body = concatBytes(signed, hmacSha256(macKey, signed));
  cipherKey.fill(0);
  macKey.fill(0);
  return encodeProvisionEnvelope({
    publicKey: concatBytes(Uint8Array.of(DJB_TYPE), mine.publicKey),
    body,
  });
}

/**
 * Opens an encoded ProvisionEnvelope with the new device's X25519 private key; returns the
 * encoded ProvisionMessage. Throws `LINK_FAILED` for anything that is not a message sealed to
 * this key.
 */
export function decryptProvisioning(
  ourPrivateKey: Uint8Array,
  envelopeBytes: Uint8Array,
): Uint8Array {
  const envelope: ProvisionEnvelope = decodeProvisionEnvelope(envelopeBytes);
  const theirs = djbKeyBytes(envelope.publicKey, 'primary key');
  // X25519 ignores the top bit of u (RFC 7748 §5), so a flipped top bit would still open the
  // envelope; no honest primary sets it (a public key is below 2^255 - 19): refuse it.
  if ((theirs[KEY_BYTES - 1]! & 0x80) !== 0) {
    throw new ClientError('LINK_FAILED', 'the primary key is not canonical');
  }
  const body = envelope.body;
  const ciphertextLength = body.length - 1 - IV_BYTES - MAC_BYTES;
  if (ciphertextLength < BLOCK_BYTES || ciphertextLength % BLOCK_BYTES !== 0) {
    throw new ClientError('LINK_FAILED', 'the provisioning message has a bad length');
  }
  if (body[0] !== PROVISIONING_BODY_VERSION) {
    throw new ClientError('LINK_FAILED', 'the provisioning message has an unknown version');
  }
  let shared: Uint8Array;
  try {
    shared = x25519(ourPrivateKey, theirs);
  } catch (cause) {
    throw new ClientError('LINK_FAILED', 'the primary key is not usable', { cause });
  }
  const { cipherKey, macKey } = provisioningKeys(shared);
  shared.fill(0);
  const signed = body.subarray(0, body.length - MAC_BYTES);
  const mac = body.subarray(body.length - MAC_BYTES);
  const expected = hmacSha256(macKey, signed);
  macKey.fill(0);
  if (!constantTimeEqual(mac, expected)) {
    cipherKey.fill(0);
    throw new ClientError(
      'LINK_FAILED',
      'the provisioning message was not made for this device (MAC mismatch)',
    );
  }
  try {
    return aes256CbcDecrypt(
      cipherKey,
      body.subarray(1, 1 + IV_BYTES),
      signed.subarray(1 + IV_BYTES),
    );
  } catch (cause) {
    throw new ClientError('LINK_FAILED', 'the provisioning message does not decrypt', { cause });
  } finally {
    cipherKey.fill(0);
  }
}
