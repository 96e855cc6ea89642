/**
 * Linking a new device to an account (the relay's provisioning-code route, packages/api
 * routes.ts `createProvisioningCode` / `linkDevice`), and carrying the account's identity key
 * pair to it end-to-end encrypted.
 *
 * 1. The primary asks the relay for a provisioning code and draws a 32-byte link secret; the link
 *    code `sotto-link:1:<code>.<secret>` (base64url) is shown to the new device, e.g. as a QR code.
 * 2. The new device redeems the code (`POST /v1/devices/link`), gets its credential, and sends a
 *    HELLO to its own account (a plaintext-content envelope, type 8):
 *      "SLH1" ‖ ephemeral X25519 public key (32) ‖ HMAC-SHA256(K_hello, "SLH1" ‖ eph ‖ account ‖ device)
 *    with K_hello = HKDF(secret, info "sotto link hello"): only a holder of the link code can
 *    make one.
 * 3. The primary checks the MAC against its pending link secrets and answers with PROVISION:
 *      "SLP1" ‖ primary ephemeral (32) ‖ nonce (12) ‖ AES-256-GCM(K, payload, aad)
 *    K = HKDF(ikm X25519(e_primary, e_new), salt secret, info "sotto link provision" ‖ e_new ‖ e_primary),
 *    aad = "SLP1" ‖ e_new ‖ e_primary ‖ device(2). The payload (JSON) holds the identity key pair,
 *    the account id and number. The relay only ever sees ciphertext; someone who saw the link
 *    code but not the ephemeral secrets cannot decrypt it either.
 *
 * Left out on purpose: history transfer, contacts and verification states (they follow with
 * backups). An attacker who steals the link code and redeems it first gets the device slot; the
 * primary reports every link (`device-linked`) so the user sees it.
 */
import { fromBase64, fromBase64Url, isUuid, toBase64, toBase64Url } from '@sotto/api';
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  concatBytes,
  constantTimeEqual,
  hkdfSha256,
  hmacSha256,
  utf8,
  x25519,
  x25519GenerateKeyPair,
  x25519PublicKey,
} from '@sotto/crypto';
import { IdentityKeyPair, type Rng } from '@sotto/protocol';
import { ClientError } from '../errors.js';

export const LINK_CODE_PREFIX = 'sotto-link:1:';
const HELLO_MAGIC = utf8('SLH1');
const PROVISION_MAGIC = utf8('SLP1');
const SECRET_BYTES = 32;
const CODE_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const HELLO_BYTES = 4 + 32 + 32;

export interface LinkCode {
  readonly provisioningCode: string;
  readonly secret: Uint8Array;
}

export function formatLinkCode(provisioningCode: Uint8Array, secret: Uint8Array): string {
  return `${LINK_CODE_PREFIX}${toBase64Url(provisioningCode)}.${toBase64Url(secret)}`;
}

export function parseLinkCode(text: string): LinkCode {
  const bad = () => new ClientError('LINK_FAILED', 'the link code is malformed');
  const trimmed = text.trim();
  if (!trimmed.startsWith(LINK_CODE_PREFIX)) throw bad();
  const [code, secret, ...rest] = trimmed.slice(LINK_CODE_PREFIX.length).split('.');
  if (code === undefined || secret === undefined || rest.length > 0) throw bad();
  let codeBytes: Uint8Array;
  let secretBytes: Uint8Array;
  try {
    codeBytes = fromBase64Url(code);
    secretBytes = fromBase64Url(secret);
  } catch {
    throw bad();
  }
  if (codeBytes.length !== CODE_BYTES || secretBytes.length !== SECRET_BYTES) throw bad();
  return { provisioningCode: code, secret: secretBytes };
}

function be16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function helloKey(secret: Uint8Array): Uint8Array {
  return hkdfSha256(secret, new Uint8Array(0), utf8('sotto link hello'), KEY_BYTES);
}

function helloMac(
  secret: Uint8Array,
  eph: Uint8Array,
  accountId: string,
  deviceId: number,
): Uint8Array {
  return hmacSha256(
    helloKey(secret),
    concatBytes(HELLO_MAGIC, eph, utf8(accountId), be16(deviceId)),
  );
}

export function newLinkSecret(rng: Rng): Uint8Array {
  return rng(SECRET_BYTES);
}

/** A fresh ephemeral X25519 private key for a HELLO (kept until the PROVISION arrives). */
export function newEphemeralKey(rng: Rng): Uint8Array {
  return x25519GenerateKeyPair(rng).privateKey;
}

/** The new device's HELLO for its ephemeral key. */
export function makeHello(
  secret: Uint8Array,
  accountId: string,
  deviceId: number,
  ephemeralPrivateKey: Uint8Array,
): Uint8Array {
  const pub = x25519PublicKey(ephemeralPrivateKey);
  return concatBytes(HELLO_MAGIC, pub, helloMac(secret, pub, accountId, deviceId));
}

/** The HELLO's ephemeral key if `hello` was made with `secret` by (`accountId`, `deviceId`). */
export function checkHello(
  hello: Uint8Array,
  secret: Uint8Array,
  accountId: string,
  deviceId: number,
): Uint8Array | null {
  if (hello.length !== HELLO_BYTES || !constantTimeEqual(hello.subarray(0, 4), HELLO_MAGIC))
    return null;
  const eph = hello.slice(4, 36);
  const mac = hello.subarray(36);
  return constantTimeEqual(mac, helloMac(secret, eph, accountId, deviceId)) ? eph : null;
}

export function isHello(content: Uint8Array): boolean {
  return content.length === HELLO_BYTES && constantTimeEqual(content.subarray(0, 4), HELLO_MAGIC);
}

export function isProvision(content: Uint8Array): boolean {
  return (
    content.length > 4 + 32 + NONCE_BYTES &&
    constantTimeEqual(content.subarray(0, 4), PROVISION_MAGIC)
  );
}

export interface ProvisionPayload {
  readonly identity: IdentityKeyPair;
  readonly accountId: string;
  readonly number: string | null;
}

function provisionKey(
  shared: Uint8Array,
  secret: Uint8Array,
  newEph: Uint8Array,
  primaryEph: Uint8Array,
): Uint8Array {
  return hkdfSha256(
    shared,
    secret,
    concatBytes(utf8('sotto link provision'), newEph, primaryEph),
    KEY_BYTES,
  );
}

/** The primary's PROVISION message for the device whose HELLO carried `newEph`. */
export function makeProvision(
  payload: ProvisionPayload,
  secret: Uint8Array,
  newEph: Uint8Array,
  deviceId: number,
  rng: Rng,
): Uint8Array {
  const mine = x25519GenerateKeyPair(rng);
  const shared = x25519(mine.privateKey, newEph);
  const key = provisionKey(shared, secret, newEph, mine.publicKey);
  shared.fill(0);
  mine.privateKey.fill(0);
  const nonce = rng(NONCE_BYTES);
  const identityBytes = payload.identity.serialize();
  const plaintext = utf8(
    JSON.stringify({
      identity: toBase64(identityBytes),
      accountId: payload.accountId,
      number: payload.number,
    }),
  );
  identityBytes.fill(0);
  const aad = concatBytes(PROVISION_MAGIC, newEph, mine.publicKey, be16(deviceId));
  const sealed = aes256GcmEncrypt(key, nonce, plaintext, aad);
  key.fill(0);
  plaintext.fill(0);
  return concatBytes(PROVISION_MAGIC, mine.publicKey, nonce, sealed);
}

/** Opens a PROVISION message; `null` if it was not made for this device's HELLO. */
export function openProvision(
  message: Uint8Array,
  secret: Uint8Array,
  ephemeralPrivateKey: Uint8Array,
  deviceId: number,
): ProvisionPayload | null {
  if (!isProvision(message)) return null;
  const ephemeralPublicKey = x25519PublicKey(ephemeralPrivateKey);
  const primaryEph = message.subarray(4, 36);
  const nonce = message.subarray(36, 36 + NONCE_BYTES);
  const sealed = message.subarray(36 + NONCE_BYTES);
  let plaintext: Uint8Array;
  try {
    const shared = x25519(ephemeralPrivateKey, primaryEph);
    const key = provisionKey(shared, secret, ephemeralPublicKey, primaryEph);
    shared.fill(0);
    plaintext = aes256GcmDecrypt(
      key,
      nonce,
      sealed,
      concatBytes(PROVISION_MAGIC, ephemeralPublicKey, primaryEph, be16(deviceId)),
    );
    key.fill(0);
  } catch {
    return null;
  }
  try {
    const j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext)) as {
      identity?: unknown;
      accountId?: unknown;
      number?: unknown;
    };
    plaintext.fill(0);
    if (typeof j.identity !== 'string' || typeof j.accountId !== 'string' || !isUuid(j.accountId)) {
      return null;
    }
    const identityBytes = fromBase64(j.identity);
    const identity = IdentityKeyPair.deserialize(identityBytes);
    identityBytes.fill(0);
    return {
      identity,
      accountId: j.accountId,
      number: typeof j.number === 'string' ? j.number : null,
    };
  } catch {
    return null;
  }
}
