/**
 * The device credential header shared by client and server: HTTP Basic (RFC 7617) with user
 * `<accountId>.<deviceId>` and password the 32-byte credential in base64url. Basic works for
 * `fetch` and for Node WebSocket clients alike. The parser is strict and never echoes the input
 * in its errors (it contains the credential).
 */
import { fromBase64, fromBase64Url, isUuid, toBase64, toBase64Url } from './encoding.js';
import { ApiError } from './errors.js';
import { CREDENTIAL_BYTES, MAX_DEVICE_ID } from './limits.js';

export interface DeviceCredentials {
  readonly accountId: string;
  readonly deviceId: number;
  /** 32 bytes; a secret. */
  readonly credential: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The `Authorization` header value for a device. */
export function formatAuthorization(c: DeviceCredentials): string {
  const user = `${c.accountId}.${c.deviceId}`;
  return `Basic ${toBase64(encoder.encode(`${user}:${toBase64Url(c.credential)}`))}`;
}

/** Parses an `Authorization` header; throws `UNAUTHENTICATED` on anything malformed. */
export function parseAuthorization(header: string | undefined): DeviceCredentials {
  const fail = () => new ApiError('UNAUTHENTICATED');
  // 'Basic ' + base64 of '<36>.<1-3>:<43>' — bounded so a huge header costs nothing.
  if (header === undefined || header.length > 160 || !header.startsWith('Basic ')) throw fail();
  let text: string;
  try {
    text = decoder.decode(fromBase64(header.slice(6)));
  } catch {
    throw fail();
  }
  const colon = text.indexOf(':');
  const dot = text.indexOf('.');
  if (colon < 0 || dot < 0 || dot > colon) throw fail();
  const accountId = text.slice(0, dot);
  const deviceText = text.slice(dot + 1, colon);
  if (!isUuid(accountId) || !/^[1-9][0-9]{0,2}$/.test(deviceText)) throw fail();
  const deviceId = Number(deviceText);
  if (deviceId > MAX_DEVICE_ID) throw fail();
  let credential: Uint8Array;
  try {
    credential = fromBase64Url(text.slice(colon + 1));
  } catch {
    throw fail();
  }
  if (credential.length !== CREDENTIAL_BYTES) throw fail();
  return { accountId, deviceId, credential };
}
