/**
 * SPQR's authenticator (shared/specs/signal-wire.md §3.4 "Authenticator"; spqr
 * `authenticator.rs`): a small KDF chain, seeded from the PQXDH `PQR` key, whose MAC key
 * authenticates each epoch's ML-KEM header and ciphertext. It absorbs every epoch secret, so a
 * later epoch's MACs depend on all earlier KEM outputs.
 *
 * - `update(ep, k)`: `o = HKDF(salt 0³², ikm = root ‖ k, info = "…Authenticator Update" ‖
 *   be64(ep), 64)`; `root = o[0..32]`, `mac = o[32..64]`. Construction is `update(1, PQR)`
 *   from `root = 0³²`.
 * - `macHdr(ep, hdr) = HMAC-SHA256(mac, "…ekheader" ‖ be64(ep) ‖ hdr)`;
 *   `macCt(ep, ct) = HMAC-SHA256(mac, "…ciphertext" ‖ be64(ep) ‖ ct)`. Checked in constant time.
 */
import { constantTimeEqual, hkdfSha256, hmacSha256Parts } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';

export const AUTHENTICATOR_MAC_LENGTH = 32;

const encoder = new TextEncoder();
const UPDATE_LABEL = encoder.encode('Signal_PQCKA_V1_MLKEM768:Authenticator Update');
const HEADER_LABEL = encoder.encode('Signal_PQCKA_V1_MLKEM768:ekheader');
const CIPHERTEXT_LABEL = encoder.encode('Signal_PQCKA_V1_MLKEM768:ciphertext');
const ZERO_SALT = new Uint8Array(32);

export interface Authenticator {
  readonly rootKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/** Big-endian u64 of a non-negative safe integer. */
export function be64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(value / 0x1_0000_0000));
  view.setUint32(4, value >>> 0);
  return out;
}

function withSuffix(label: Uint8Array, suffix: Uint8Array): Uint8Array {
  const out = new Uint8Array(label.length + suffix.length);
  out.set(label, 0);
  out.set(suffix, label.length);
  return out;
}

/** `update(epoch, key)` applied to the all-zero authenticator (spqr `Authenticator::new`). */
export function createAuthenticator(rootKey: Uint8Array, epoch: number): Authenticator {
  return updateAuthenticator(
    { rootKey: new Uint8Array(32), macKey: new Uint8Array(32) },
    epoch,
    rootKey,
  );
}

/** Absorbs `key` for `epoch`; returns the new authenticator. */
export function updateAuthenticator(
  auth: Authenticator,
  epoch: number,
  key: Uint8Array,
): Authenticator {
  const ikm = new Uint8Array(auth.rootKey.length + key.length);
  ikm.set(auth.rootKey, 0);
  ikm.set(key, auth.rootKey.length);
  const out = hkdfSha256(ikm, ZERO_SALT, withSuffix(UPDATE_LABEL, be64(epoch)), 64);
  ikm.fill(0);
  return { rootKey: out.slice(0, 32), macKey: out.slice(32, 64) };
}

/** MAC over an ML-KEM header for `epoch`. */
export function macHeader(auth: Authenticator, epoch: number, header: Uint8Array): Uint8Array {
  return hmacSha256Parts(auth.macKey, [HEADER_LABEL, be64(epoch), header]);
}

/** MAC over an ML-KEM ciphertext `ct1 ‖ ct2` for `epoch`. */
export function macCiphertext(
  auth: Authenticator,
  epoch: number,
  ciphertext: Uint8Array,
): Uint8Array {
  return hmacSha256Parts(auth.macKey, [CIPHERTEXT_LABEL, be64(epoch), ciphertext]);
}

/** Throws `ProtocolError('PQ_RATCHET')` unless `mac` is the header MAC. */
export function verifyHeaderMac(
  auth: Authenticator,
  epoch: number,
  header: Uint8Array,
  mac: Uint8Array,
): void {
  if (!constantTimeEqual(macHeader(auth, epoch, header), mac)) {
    throw new ProtocolError(
      'PQ_RATCHET',
      `encapsulation key header MAC is invalid (epoch ${epoch})`,
    );
  }
}

/** Throws `ProtocolError('PQ_RATCHET')` unless `mac` is the ciphertext MAC. */
export function verifyCiphertextMac(
  auth: Authenticator,
  epoch: number,
  ciphertext: Uint8Array,
  mac: Uint8Array,
): void {
  if (!constantTimeEqual(macCiphertext(auth, epoch, ciphertext), mac)) {
    throw new ProtocolError('PQ_RATCHET', `ciphertext MAC is invalid (epoch ${epoch})`);
  }
}
