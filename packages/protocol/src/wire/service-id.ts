/**
 * Service IDs as libsignal parses them from protocol-address names (shared/specs/signal-wire.md
 * §2.3, "addresses"): an ACI is a bare hyphenated UUID, a PNI is `PNI:<uuid>`; the UUID is
 * case-insensitive and only the 36-character hyphenated form is accepted (libsignal
 * `ServiceId::parse_from_service_id_string`). The fixed-width binary form is a kind byte
 * (0 = ACI, 1 = PNI) followed by the 16 UUID bytes.
 *
 * Left out on purpose: the variable-width binary form (ACI without its kind byte), which the
 * session layer never puts on the wire.
 */

export type ServiceIdKind = 'aci' | 'pni';

/** Length of `ServiceIdFixedWidthBinary`: kind byte + 16 UUID bytes. */
export const SERVICE_ID_FIXED_LENGTH = 17;

const PNI_PREFIX = 'PNI:';
const HYPHENS = [8, 13, 18, 23];

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses a hyphenated UUID into `out[offset..offset+16]`; returns false if it is not one. */
function parseUuidInto(text: string, out: Uint8Array, offset: number): boolean {
  if (text.length !== 36) return false;
  let j = offset;
  for (let i = 0; i < 36;) {
    if (HYPHENS.includes(i)) {
      if (text.charCodeAt(i) !== 45) return false;
      i += 1;
      continue;
    }
    const hi = hexValue(text.charCodeAt(i));
    const lo = hexValue(text.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    out[j++] = (hi << 4) | lo;
    i += 2;
  }
  return true;
}

/**
 * The 17-byte fixed-width binary form of a service-ID string, or `null` when the string is not a
 * service ID (libsignal then omits the `addresses` field when sending and rejects a message that
 * carries one when receiving).
 */
export function serviceIdFixedFromString(name: string): Uint8Array | null {
  const out = new Uint8Array(SERVICE_ID_FIXED_LENGTH);
  if (name.startsWith(PNI_PREFIX)) {
    out[0] = 1;
    return parseUuidInto(name.slice(PNI_PREFIX.length), out, 1) ? out : null;
  }
  out[0] = 0;
  return parseUuidInto(name, out, 1) ? out : null;
}

/** The canonical string form (lower-case UUID, `PNI:` prefix for PNIs) of a fixed-width ID. */
export function serviceIdFixedToString(fixed: Uint8Array): string {
  if (fixed.length !== SERVICE_ID_FIXED_LENGTH || (fixed[0] !== 0 && fixed[0] !== 1)) {
    throw new RangeError('not a fixed-width service ID');
  }
  let hex = '';
  for (let i = 1; i < SERVICE_ID_FIXED_LENGTH; i++) hex += fixed[i]!.toString(16).padStart(2, '0');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return fixed[0] === 1 ? PNI_PREFIX + uuid : uuid;
}

/** Whether two names denote the same service ID (case-insensitive UUID comparison). */
export function sameServiceId(a: string, b: string): boolean {
  const x = serviceIdFixedFromString(a);
  const y = serviceIdFixedFromString(b);
  if (x === null || y === null) return false;
  for (let i = 0; i < SERVICE_ID_FIXED_LENGTH; i++) if (x[i] !== y[i]) return false;
  return true;
}
