/**
 * The two protobuf messages of device provisioning, as Signal defines them in
 * `Provisioning.proto` (Signal-Android libsignal-service/src/main/protowire, Signal-Desktop
 * protos/DeviceMessages.proto), with the field numbers Signal uses:
 *
 *   message ProvisionEnvelope {
 *     optional bytes publicKey = 1;   // the primary's ephemeral key, 0x05 ‖ 32
 *     optional bytes body      = 2;   // ProvisioningCipher output (provisioning-cipher.ts)
 *   }
 *   message ProvisionMessage {
 *     optional bytes  aciIdentityKeyPublic  = 1;   // 0x05 ‖ 32
 *     optional bytes  aciIdentityKeyPrivate = 2;   // 32
 *     optional string number                = 3;   // E.164
 *     optional string provisioningCode      = 4;   // the relay's code, base64url
 *     optional string aci                   = 8;   // account id (UUID)
 *   }
 *
 * Only the fields Sotto uses are written (in field-number order, as prost and protobuf-java do);
 * unknown fields are skipped when reading, so a message with Signal's other fields (PNI keys,
 * profile key, …) still parses. Left out on purpose: PNI identity, profile key, read-receipt
 * setting, user agent, master key and backup keys — Sotto has no use for them yet.
 */
import { ClientError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface ProvisionEnvelope {
  readonly publicKey: Uint8Array;
  readonly body: Uint8Array;
}

export interface ProvisionMessage {
  readonly aciIdentityKeyPublic: Uint8Array;
  readonly aciIdentityKeyPrivate: Uint8Array;
  readonly number: string | null;
  readonly provisioningCode: string;
  readonly aci: string;
}

function malformed(what: string): ClientError {
  return new ClientError('LINK_FAILED', `the ${what} is malformed`);
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** Length-delimited fields (wire type 2) in the order given. */
function writeFields(fields: ReadonlyArray<readonly [number, Uint8Array]>): Uint8Array {
  const parts: number[][] = [];
  let size = 0;
  for (const [field, value] of fields) {
    const head = [...varint((field << 3) | 2), ...varint(value.length)];
    parts.push(head);
    size += head.length + value.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  fields.forEach(([, value], i) => {
    out.set(parts[i]!, at);
    at += parts[i]!.length;
    out.set(value, at);
    at += value.length;
  });
  return out;
}

function readVarint(bytes: Uint8Array, start: number, what: string): [number, number] {
  let value = 0;
  let shift = 0;
  let at = start;
  for (;;) {
    if (at >= bytes.length || shift > 49) throw malformed(what);
    const b = bytes[at++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

/** The last value of each length-delimited field; other wire types are skipped. */
function readFields(bytes: Uint8Array, what: string): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let at = 0;
  while (at < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, at, what);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw malformed(what);
    at = afterTag;
    switch (wire) {
      case 0:
        at = readVarint(bytes, at, what)[1];
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const [len, afterLen] = readVarint(bytes, at, what);
        if (afterLen + len > bytes.length) throw malformed(what);
        out.set(field, bytes.subarray(afterLen, afterLen + len));
        at = afterLen + len;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw malformed(what); // groups (3, 4) and reserved types
    }
    if (at > bytes.length) throw malformed(what);
  }
  return out;
}

function text(bytes: Uint8Array | undefined, what: string): string | null {
  if (bytes === undefined) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    throw malformed(what);
  }
}

export function encodeProvisionEnvelope(e: ProvisionEnvelope): Uint8Array {
  return writeFields([
    [1, e.publicKey],
    [2, e.body],
  ]);
}

export function decodeProvisionEnvelope(bytes: Uint8Array): ProvisionEnvelope {
  const f = readFields(bytes, 'provision envelope');
  const publicKey = f.get(1);
  const body = f.get(2);
  if (publicKey === undefined || body === undefined) throw malformed('provision envelope');
  return { publicKey, body };
}

export function encodeProvisionMessage(m: ProvisionMessage): Uint8Array {
  const fields: Array<readonly [number, Uint8Array]> = [
    [1, m.aciIdentityKeyPublic],
    [2, m.aciIdentityKeyPrivate],
  ];
  if (m.number !== null) fields.push([3, encoder.encode(m.number)]);
  fields.push([4, encoder.encode(m.provisioningCode)], [8, encoder.encode(m.aci)]);
  return writeFields(fields);
}

export function decodeProvisionMessage(bytes: Uint8Array): ProvisionMessage {
  const what = 'provision message';
  const f = readFields(bytes, what);
  const aciIdentityKeyPublic = f.get(1);
  const aciIdentityKeyPrivate = f.get(2);
  const provisioningCode = text(f.get(4), what);
  const aci = text(f.get(8), what);
  if (
    aciIdentityKeyPublic === undefined ||
    aciIdentityKeyPrivate === undefined ||
    provisioningCode === null ||
    aci === null
  ) {
    throw malformed(what);
  }
  return {
    aciIdentityKeyPublic: new Uint8Array(aciIdentityKeyPublic),
    aciIdentityKeyPrivate: new Uint8Array(aciIdentityKeyPrivate),
    number: text(f.get(3), what),
    provisioningCode,
    aci,
  };
}
