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

/**
 * The `user:password` text of an HTTP Basic `Authorization` header of at most `maxLength`
 * characters (bounded so a huge header costs nothing), split at the first colon; undefined if the
 * header is absent or malformed. Callers turn that into their own error, never echoing the header.
 */
export function basicAuthorizationParts(
  header: string | undefined,
  maxLength: number,
): { readonly user: string; readonly password: string } | undefined {
  if (header === undefined || header.length > maxLength || !header.startsWith('Basic ')) {
    return undefined;
  }
  let text: string;
  try {
    text = decoder.decode(fromBase64(header.slice(6)));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Parses an `Authorization` header; throws `UNAUTHENTICATED` on anything malformed. */
export function parseAuthorization(header: string | undefined): DeviceCredentials {
  const fail = () => new ApiError('UNAUTHENTICATED');
  // 'Basic ' + base64 of '<36>.<1-3>:<43>'.
  const parts = basicAuthorizationParts(header, 160);
  if (parts === undefined) throw fail();
  const dot = parts.user.indexOf('.');
  if (dot < 0) throw fail();
  const accountId = parts.user.slice(0, dot);
  const deviceText = parts.user.slice(dot + 1);
  if (!isUuid(accountId) || !/^[1-9][0-9]{0,2}$/.test(deviceText)) throw fail();
  const deviceId = Number(deviceText);
  if (deviceId > MAX_DEVICE_ID) throw fail();
  let credential: Uint8Array;
  try {
    credential = fromBase64Url(parts.password);
  } catch {
    throw fail();
  }
  if (credential.length !== CREDENTIAL_BYTES) throw fail();
  return { accountId, deviceId, credential };
}
