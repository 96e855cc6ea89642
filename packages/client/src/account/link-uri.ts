/**
 * The link URI a new device shows (as text and as a QR code) for the primary to approve, shaped
 * like Signal's `sgnl://linkdevice?uuid=<address>&pub_key=<key>`:
 *
 *   sotto://link?uuid=<provisioning address>&pub_key=<base64(0x05 ‖ X25519 public key)>
 *
 * `uuid` is the relay's provisioning address (base64url of 16 random bytes; Signal keeps the name
 * `uuid` from when the address was one), `pub_key` the standard base64 of the new device's
 * ephemeral public key in Signal's serialisation, percent-encoded. Both are public: the URI is
 * what authenticates the new device's key to the primary, so it must travel out of band (read
 * off the new device's screen), never through the relay.
 */
import { fromBase64, isProvisioningAddress, toBase64 } from '@sotto/api';
import { ClientError } from '../errors.js';
import { DJB_TYPE } from './provisioning-cipher.js';

export const LINK_URI_SCHEME = 'sotto:';
export const LINK_URI_HOST = 'link';

export interface LinkUri {
  /** The relay's provisioning address of the waiting new device. */
  readonly address: string;
  /** The new device's public key, `0x05 ‖ 32`. */
  readonly publicKey: Uint8Array;
}

export function formatLinkUri(link: LinkUri): string {
  if (!isProvisioningAddress(link.address)) {
    throw new ClientError('INVALID_ARGUMENT', 'address is not a provisioning address');
  }
  if (link.publicKey.length !== 33 || link.publicKey[0] !== DJB_TYPE) {
    throw new ClientError('INVALID_ARGUMENT', 'publicKey must be a 33-byte DJB public key');
  }
  return (
    `${LINK_URI_SCHEME}//${LINK_URI_HOST}?uuid=${encodeURIComponent(link.address)}` +
    `&pub_key=${encodeURIComponent(toBase64(link.publicKey))}`
  );
}

export function parseLinkUri(text: string): LinkUri {
  const bad = (): ClientError =>
    new ClientError(
      'INVALID_ARGUMENT',
      'not a Sotto link URI (sotto://link?uuid=…&pub_key=…): copy it from the new device',
    );
  if (typeof text !== 'string') throw bad();
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad();
  }
  if (url.protocol !== LINK_URI_SCHEME || url.hostname !== LINK_URI_HOST) throw bad();
  const names = [...url.searchParams.keys()].sort();
  if (names.length !== 2 || names[0] !== 'pub_key' || names[1] !== 'uuid') throw bad();
  const address = url.searchParams.get('uuid') ?? '';
  // A '+' typed without percent-encoding reads as a space in a query string.
  const key = (url.searchParams.get('pub_key') ?? '').replace(/ /g, '+');
  if (!isProvisioningAddress(address)) throw bad();
  let publicKey: Uint8Array;
  try {
    publicKey = fromBase64(key, 'pub_key');
  } catch {
    throw bad();
  }
  if (publicKey.length !== 33 || publicKey[0] !== DJB_TYPE) throw bad();
  return { address, publicKey };
}
