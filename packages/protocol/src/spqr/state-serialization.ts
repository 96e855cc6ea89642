/**
 * Sotto's storage format for an SPQR state (not libsignal's: session records are never
 * exchanged). `0x01 ‖ protobuf`, with field numbers fixed below; unknown fields are skipped so
 * later versions can add some. Every length, state kind and invariant is checked on the way in:
 * bad input is `ProtocolError('INVALID_STATE')`, never a half-built state.
 *
 *   State  { 1 direction (0 A2B, 1 B2A), 2 received (bool), 3 braid: Braid, 4 chain: Chain }
 *   Braid  { 1 kind (1..11, see KINDS), 2 epoch, 3 auth root, 4 auth mac, 5 ek, 6 dk, 7 hdr,
 *            8 encaps randomness, 9 ct1, 10 ct2‖mac, 11 encoder: Encoder, 12 decoder: Decoder }
 *   Encoder { 1 payload, 2 next }      Decoder { 1 length, 2 points ×16 (be16 x ‖ be16 y)* }
 *   Chain  { 1 direction, 2 current epoch, 3 send epoch, 4 next root, 5 max jump,
 *            6 max ooo keys, 7 link: Link (repeated, oldest first) }
 *   Link   { 1 send: Dir, 2 recv: Dir }   Dir { 1 ctr, 2 next (absent once erased),
 *            3 skipped keys (be32 index ‖ key32)* in increasing index order }
 */
import {
  ML_KEM_768_CT1_LENGTH,
  ML_KEM_768_DECAPSULATION_KEY_LENGTH,
  ML_KEM_768_ENCAPSULATION_KEY_LENGTH,
  ML_KEM_768_HEADER_LENGTH,
} from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import {
  CT1_PAYLOAD_LENGTH,
  CT2_PAYLOAD_LENGTH,
  EK_PAYLOAD_LENGTH,
  HEADER_PAYLOAD_LENGTH,
  type BraidState,
  type BraidStateKind,
} from './braid.js';
import type { Chain, ChainEpoch, DirectionChain, SpqrDirection } from './chain.js';
import {
  createEncoder,
  decoderPoints,
  restoreDecoder,
  type ErasureDecoder,
  type ErasureEncoder,
} from './erasure-code.js';
import { NO_SKIPPED_KEYS, appendSkippedKeys, listSkippedKeys } from './skipped-keys.js';
import { SpqrState, type SpqrStateData } from './state.js';

export const SPQR_STATE_FORMAT_VERSION = 1;

const KINDS: readonly BraidStateKind[] = [
  'KeysUnsampled',
  'KeysSampled',
  'HeaderSent',
  'Ct1Received',
  'EkSentCt1Received',
  'NoHeaderReceived',
  'HeaderReceived',
  'Ct1Sampled',
  'EkReceivedCt1Sampled',
  'Ct1Acknowledged',
  'Ct2Sampled',
];

function invalid(message: string): never {
  throw new ProtocolError('INVALID_STATE', `SPQR state: ${message}`);
}

// --- writing ---------------------------------------------------------------------------------

function writeEncoder(e: ErasureEncoder): Uint8Array {
  return new ProtoWriter(e.payload.length + 16).bytes(1, e.payload).uint32(2, e.next).finish();
}

function writeDecoder(d: ErasureDecoder): Uint8Array {
  const w = new ProtoWriter().uint32(1, d.length);
  for (const list of decoderPoints(d)) {
    const bytes = new Uint8Array(list.length * 4);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < list.length; k++) view.setUint32(4 * k, list[k]!);
    w.bytes(2, bytes);
  }
  return w.finish();
}

function writeBraid(b: BraidState): Uint8Array {
  const w = new ProtoWriter(4096)
    .uint32(1, KINDS.indexOf(b.kind) + 1)
    .uint64(2, b.epoch)
    .bytes(3, b.auth.rootKey)
    .bytes(4, b.auth.macKey);
  switch (b.kind) {
    case 'KeysUnsampled':
      break;
    case 'KeysSampled':
      w.bytes(5, b.ek).bytes(6, b.dk).bytes(11, writeEncoder(b.sendingHdr));
      break;
    case 'HeaderSent':
      w.bytes(6, b.dk).bytes(11, writeEncoder(b.sendingEk)).bytes(12, writeDecoder(b.receivingCt1));
      break;
    case 'Ct1Received':
      w.bytes(6, b.dk).bytes(9, b.ct1).bytes(11, writeEncoder(b.sendingEk));
      break;
    case 'EkSentCt1Received':
      w.bytes(6, b.dk).bytes(9, b.ct1).bytes(12, writeDecoder(b.receivingCt2));
      break;
    case 'NoHeaderReceived':
      w.bytes(12, writeDecoder(b.receivingHdr));
      break;
    case 'HeaderReceived':
      w.bytes(7, b.hdr);
      break;
    case 'Ct1Sampled':
      w.bytes(7, b.hdr)
        .bytes(8, b.encapsRandomness)
        .bytes(9, b.ct1)
        .bytes(11, writeEncoder(b.sendingCt1))
        .bytes(12, writeDecoder(b.receivingEk));
      break;
    case 'EkReceivedCt1Sampled':
      w.bytes(10, b.ct2WithMac).bytes(11, writeEncoder(b.sendingCt1));
      break;
    case 'Ct1Acknowledged':
      w.bytes(7, b.hdr)
        .bytes(8, b.encapsRandomness)
        .bytes(9, b.ct1)
        .bytes(12, writeDecoder(b.receivingEk));
      break;
    case 'Ct2Sampled':
      w.bytes(11, writeEncoder(b.sendingCt2));
      break;
  }
  return w.finish();
}

function writeDirection(d: DirectionChain, horizon: number): Uint8Array {
  const w = new ProtoWriter().uint32(1, d.ctr);
  if (d.next !== null) w.bytes(2, d.next);
  const keys = listSkippedKeys(d.skipped, horizon);
  if (keys.length > 0) {
    const bytes = new Uint8Array(keys.length * 36);
    const view = new DataView(bytes.buffer);
    keys.forEach(({ index, key }, k) => {
      view.setUint32(36 * k, index);
      bytes.set(key, 36 * k + 4);
    });
    w.bytes(3, bytes);
  }
  return w.finish();
}

function directionCode(d: SpqrDirection): number {
  return d === 'A2B' ? 0 : 1;
}

function writeChain(c: Chain): Uint8Array {
  const w = new ProtoWriter(1024)
    .uint32(1, directionCode(c.direction))
    .uint64(2, c.currentEpoch)
    .uint64(3, c.sendEpoch)
    .bytes(4, c.nextRoot)
    .uint32(5, c.maxJump)
    .uint32(6, c.maxOooKeys);
  for (const link of c.links) {
    const lw = new ProtoWriter()
      .bytes(1, writeDirection(link.send, 0))
      .bytes(2, writeDirection(link.recv, Math.max(0, link.recv.ctr - c.maxOooKeys)));
    w.bytes(7, lw.finish());
  }
  return w.finish();
}

/** Serializes a state (format version byte first). */
export function serializeState(state: SpqrState): Uint8Array {
  const { direction, received, braid, chain } = state.data;
  const body = new ProtoWriter(8192)
    .uint32(1, directionCode(direction))
    .bool(2, received)
    .bytes(3, writeBraid(braid))
    .bytes(4, writeChain(chain))
    .finish();
  const out = new Uint8Array(1 + body.length);
  out[0] = SPQR_STATE_FORMAT_VERSION;
  out.set(body, 1);
  return out;
}

// --- reading ---------------------------------------------------------------------------------

type FieldMap = Map<number, { int: number; bytes: Uint8Array; repeated: Uint8Array[] }>;

function fieldsOf(data: Uint8Array): FieldMap {
  const map: FieldMap = new Map();
  for (const f of readFields(data)) {
    const entry = map.get(f.field);
    if (entry === undefined) {
      map.set(f.field, { int: f.int, bytes: f.bytes, repeated: [f.bytes] });
    } else {
      entry.int = f.int;
      entry.bytes = f.bytes;
      entry.repeated.push(f.bytes);
    }
  }
  return map;
}

function int(map: FieldMap, field: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = map.get(field)?.int ?? 0;
  if (v > max) invalid(`${name} out of range`);
  return v;
}

function bytes(map: FieldMap, field: number, length: number, name: string): Uint8Array {
  const v = map.get(field)?.bytes;
  if (v === undefined || v.length !== length) invalid(`${name} must be ${length} bytes`);
  return v.slice();
}

function direction(code: number): SpqrDirection {
  if (code === 0) return 'A2B';
  if (code === 1) return 'B2A';
  return invalid('bad direction');
}

function readEncoder(map: FieldMap, payloadLength: number, name: string): ErasureEncoder {
  const raw = map.get(11)?.bytes;
  if (raw === undefined) return invalid(`${name} encoder missing`);
  const f = fieldsOf(raw);
  const payload = bytes(f, 1, payloadLength, `${name} payload`);
  return createEncoder(payload, int(f, 2, `${name} counter`, 0xffff_ffff));
}

function readDecoder(map: FieldMap, length: number, name: string): ErasureDecoder {
  const raw = map.get(12)?.bytes;
  if (raw === undefined) return invalid(`${name} decoder missing`);
  const f = fieldsOf(raw);
  if (int(f, 1, `${name} length`) !== length) invalid(`${name} decoder length`);
  const lists = f.get(2)?.repeated ?? [];
  if (lists.length !== 16) invalid(`${name} decoder needs 16 point lists`);
  const points = lists.map((b) => {
    if (b.length % 4 !== 0) invalid(`${name} decoder points`);
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    return Uint32Array.from({ length: b.length / 4 }, (_, k) => view.getUint32(4 * k));
  });
  return restoreDecoder(length, points);
}

function readBraid(raw: Uint8Array): BraidState {
  const f = fieldsOf(raw);
  const kind = KINDS[int(f, 1, 'braid kind') - 1];
  if (kind === undefined) return invalid('unknown braid state');
  const epoch = int(f, 2, 'epoch');
  if (epoch < 1) invalid('epoch must be at least 1');
  const auth = { rootKey: bytes(f, 3, 32, 'auth root'), macKey: bytes(f, 4, 32, 'auth mac') };
  const base = { epoch, auth };
  const dk = (): Uint8Array => bytes(f, 6, ML_KEM_768_DECAPSULATION_KEY_LENGTH, 'dk');
  const ct1 = (): Uint8Array => bytes(f, 9, ML_KEM_768_CT1_LENGTH, 'ct1');
  const hdr = (): Uint8Array => bytes(f, 7, ML_KEM_768_HEADER_LENGTH, 'hdr');
  const m = (): Uint8Array => bytes(f, 8, 32, 'encaps randomness');
  switch (kind) {
    case 'KeysUnsampled':
      return { kind, ...base };
    case 'KeysSampled':
      return {
        kind,
        ...base,
        ek: bytes(f, 5, ML_KEM_768_ENCAPSULATION_KEY_LENGTH, 'ek'),
        dk: dk(),
        sendingHdr: readEncoder(f, HEADER_PAYLOAD_LENGTH, 'hdr'),
      };
    case 'HeaderSent':
      return {
        kind,
        ...base,
        dk: dk(),
        sendingEk: readEncoder(f, EK_PAYLOAD_LENGTH, 'ek'),
        receivingCt1: readDecoder(f, CT1_PAYLOAD_LENGTH, 'ct1'),
      };
    case 'Ct1Received':
      return {
        kind,
        ...base,
        dk: dk(),
        ct1: ct1(),
        sendingEk: readEncoder(f, EK_PAYLOAD_LENGTH, 'ek'),
      };
    case 'EkSentCt1Received':
      return {
        kind,
        ...base,
        dk: dk(),
        ct1: ct1(),
        receivingCt2: readDecoder(f, CT2_PAYLOAD_LENGTH, 'ct2'),
      };
    case 'NoHeaderReceived':
      return { kind, ...base, receivingHdr: readDecoder(f, HEADER_PAYLOAD_LENGTH, 'hdr') };
    case 'HeaderReceived':
      return { kind, ...base, hdr: hdr() };
    case 'Ct1Sampled':
      return {
        kind,
        ...base,
        hdr: hdr(),
        encapsRandomness: m(),
        ct1: ct1(),
        sendingCt1: readEncoder(f, CT1_PAYLOAD_LENGTH, 'ct1'),
        receivingEk: readDecoder(f, EK_PAYLOAD_LENGTH, 'ek'),
      };
    case 'EkReceivedCt1Sampled':
      return {
        kind,
        ...base,
        ct2WithMac: bytes(f, 10, CT2_PAYLOAD_LENGTH, 'ct2'),
        sendingCt1: readEncoder(f, CT1_PAYLOAD_LENGTH, 'ct1'),
      };
    case 'Ct1Acknowledged':
      return {
        kind,
        ...base,
        hdr: hdr(),
        encapsRandomness: m(),
        ct1: ct1(),
        receivingEk: readDecoder(f, EK_PAYLOAD_LENGTH, 'ek'),
      };
    case 'Ct2Sampled':
      return { kind, ...base, sendingCt2: readEncoder(f, CT2_PAYLOAD_LENGTH, 'ct2') };
  }
}

function readDirection(raw: Uint8Array, maxOoo: number): DirectionChain {
  const f = fieldsOf(raw);
  const ctr = int(f, 1, 'chain counter', 0xffff_ffff);
  const nextRaw = f.get(2)?.bytes;
  if (nextRaw !== undefined && nextRaw.length !== 32) invalid('chain key must be 32 bytes');
  const keysRaw = f.get(3)?.bytes ?? new Uint8Array(0);
  if (keysRaw.length % 36 !== 0) invalid('skipped keys');
  const count = keysRaw.length / 36;
  if (count > maxOoo + 1) invalid('too many skipped keys');
  const view = new DataView(keysRaw.buffer, keysRaw.byteOffset, keysRaw.length);
  let skipped = NO_SKIPPED_KEYS;
  let previous = -1;
  for (let k = 0; k < count; k++) {
    const index = view.getUint32(36 * k);
    if (index <= previous || index >= ctr) invalid('skipped key indices');
    previous = index;
    skipped = appendSkippedKeys(skipped, index, keysRaw.slice(36 * k + 4, 36 * k + 36));
  }
  return { ctr, next: nextRaw === undefined ? null : nextRaw.slice(), skipped };
}

function readChain(raw: Uint8Array, expected: SpqrDirection): Chain {
  const f = fieldsOf(raw);
  if (direction(int(f, 1, 'chain direction')) !== expected) invalid('chain direction');
  const currentEpoch = int(f, 2, 'current epoch');
  const sendEpoch = int(f, 3, 'send epoch');
  if (sendEpoch > currentEpoch) invalid('send epoch after current epoch');
  const maxJump = int(f, 5, 'max jump', 0xffff_ffff);
  const maxOooKeys = int(f, 6, 'max ooo keys', 0xffff_ffff);
  if (maxJump < 1 || maxOooKeys < 1) invalid('chain limits');
  const links: ChainEpoch[] = (f.get(7)?.repeated ?? []).map((linkRaw) => {
    const lf = fieldsOf(linkRaw);
    const send = lf.get(1)?.bytes;
    const recv = lf.get(2)?.bytes;
    if (send === undefined || recv === undefined) return invalid('chain link');
    return { send: readDirection(send, maxOooKeys), recv: readDirection(recv, maxOooKeys) };
  });
  if (links.length < 1 || links.length > currentEpoch + 1) invalid('chain links');
  if (currentEpoch - sendEpoch >= links.length) invalid('send epoch dropped');
  return {
    direction: expected,
    currentEpoch,
    sendEpoch,
    links,
    nextRoot: bytes(f, 4, 32, 'next root'),
    maxJump,
    maxOooKeys,
  };
}

/** Parses a serialized state; throws `ProtocolError('INVALID_STATE')` on any defect. */
export function deserializeState(data: Uint8Array): SpqrState {
  if (!(data instanceof Uint8Array) || data.length < 1) invalid('empty');
  if (data[0] !== SPQR_STATE_FORMAT_VERSION) invalid(`unknown format version ${data[0]}`);
  try {
    const f = fieldsOf(data.subarray(1));
    const dir = direction(int(f, 1, 'direction'));
    const braidRaw = f.get(3)?.bytes;
    const chainRaw = f.get(4)?.bytes;
    if (braidRaw === undefined || chainRaw === undefined) return invalid('missing braid or chain');
    const stateData: SpqrStateData = {
      direction: dir,
      received: int(f, 2, 'received', 1) === 1,
      braid: readBraid(braidRaw),
      chain: readChain(chainRaw, dir),
    };
    return new SpqrState(stateData);
  } catch (err) {
    if (ProtocolError.is(err, 'INVALID_STATE')) throw err;
    throw new ProtocolError('INVALID_STATE', 'SPQR state does not parse', { cause: err });
  }
}
