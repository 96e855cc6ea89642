/**
 * JSON documents in the client store: UTF-8 bytes in, parsed values out. A record that does not
 * parse is `STORE_CORRUPT` (never silently replaced).
 */
import { ClientError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function toJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function fromJsonBytes<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (cause) {
    throw new ClientError('STORE_CORRUPT', `stored ${what} does not parse`, { cause });
  }
}
