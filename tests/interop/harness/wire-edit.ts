/**
 * Test-only editing of 1:1 wire messages (shared/specs/signal-wire.md §2.3, §2.4): split a
 * message into its version byte, top-level protobuf fields and MAC; drop or replace fields;
 * re-encode. Used to build the negative cases (no `pq_ratchet`, missing Kyber fields, version 3,
 * a foreign KEM ciphertext) that both implementations must reject.
 */
export interface Field {
  readonly field: number;
  /** 0 = varint, 2 = length-delimited (the only wire types these messages use). */
  readonly wire: 0 | 2;
  readonly value: number | Uint8Array;
}

function readVarint(data: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (pos >= data.length) throw new Error('truncated varint');
    const b = data[pos++]!;
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [result, pos];
    scale *= 0x80;
  }
}

function writeVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

export function decodeFields(pb: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < pb.length) {
    const [key, p1] = readVarint(pb, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const [value, p2] = readVarint(pb, p1);
      fields.push({ field, wire, value });
      pos = p2;
    } else if (wire === 2) {
      const [length, p2] = readVarint(pb, p1);
      fields.push({ field, wire, value: pb.slice(p2, p2 + length) });
      pos = p2 + length;
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return fields;
}

export function encodeFields(fields: readonly Field[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    writeVarint(out, f.field * 8 + f.wire);
    if (f.wire === 0) writeVarint(out, f.value as number);
    else {
      const v = f.value as Uint8Array;
      writeVarint(out, v.length);
      for (const b of v) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** `version ‖ pb ‖ mac(8)` → parts. */
export function splitSignalMessage(body: Uint8Array): {
  version: number;
  fields: Field[];
  mac: Uint8Array;
} {
  return {
    version: body[0]!,
    fields: decodeFields(body.subarray(1, body.length - 8)),
    mac: body.slice(body.length - 8),
  };
}

export function joinSignalMessage(
  version: number,
  fields: readonly Field[],
  mac: Uint8Array,
): Uint8Array {
  const pb = encodeFields(fields);
  const out = new Uint8Array(1 + pb.length + mac.length);
  out[0] = version;
  out.set(pb, 1);
  out.set(mac, 1 + pb.length);
  return out;
}

/** `version ‖ pb` (PreKeySignalMessage has no MAC of its own) → parts. */
export function splitPreKeyMessage(body: Uint8Array): { version: number; fields: Field[] } {
  return { version: body[0]!, fields: decodeFields(body.subarray(1)) };
}

export function joinPreKeyMessage(version: number, fields: readonly Field[]): Uint8Array {
  const pb = encodeFields(fields);
  const out = new Uint8Array(1 + pb.length);
  out[0] = version;
  out.set(pb, 1);
  return out;
}

export function getBytes(fields: readonly Field[], field: number): Uint8Array | undefined {
  const f = fields.find((x) => x.field === field);
  return f === undefined ? undefined : (f.value as Uint8Array);
}

export function withBytes(fields: readonly Field[], field: number, value: Uint8Array): Field[] {
  return fields.map((f) => (f.field === field ? { field, wire: 2, value } : f));
}

export function without(fields: readonly Field[], ...numbers: number[]): Field[] {
  return fields.filter((f) => !numbers.includes(f.field));
}

/** The SignalMessage inside a wire message (type 3 unwraps the PreKey envelope). */
export function innerSignalMessage(message: { type: 2 | 3; body: Uint8Array }): Uint8Array {
  if (message.type === 2) return message.body;
  const inner = getBytes(splitPreKeyMessage(message.body).fields, 4);
  if (inner === undefined) throw new Error('PreKey message without a message');
  return inner;
}

/** SPQR header of a message: `0x01 ‖ varint(epoch) ‖ varint(index) ‖ type …` (§3.4). */
export function spqrHeader(message: { type: 2 | 3; body: Uint8Array }): {
  epoch: number;
  index: number;
  type: number;
} {
  const pq = getBytes(splitSignalMessage(innerSignalMessage(message)).fields, 5);
  if (pq === undefined) throw new Error('message without pq_ratchet');
  const [epoch, p1] = readVarint(pq, 1);
  const [index, p2] = readVarint(pq, p1);
  return { epoch, index, type: pq[p2]! };
}

/** The `counter` of a message. */
export function counterOf(message: { type: 2 | 3; body: Uint8Array }): number {
  const f = splitSignalMessage(innerSignalMessage(message)).fields.find((x) => x.field === 2);
  return (f?.value as number | undefined) ?? 0;
}
