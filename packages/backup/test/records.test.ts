// The record layer (docs/backup-format.md §6): protobuf encoding checked against hand-computed
// bytes, round trips of arbitrary records split at arbitrary points, forward compatibility
// (unknown fields and frames skipped), and rejection of malformed input with clear codes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupError, type BackupRecord, type ContentRecord } from '../src/index.js';
import { RecordBatcher, RecordDecoder } from '../src/format/record-stream.js';
import { MAX_RECORD_LENGTH } from '../src/limits.js';
import { encodeRecords } from '../src/testing/index.js';
import { history } from './arbitraries.js';

const INFO: BackupRecord = {
  type: 'backup-info',
  schemaVersion: 1,
  createdAtMs: 1_700_000_000_000,
  app: 'test',
};

/** An independent protobuf writer for hand-built test input (BigInt varints). */
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const field = (n: number, wire: number) => varint((n << 3) | wire);
const len = (n: number, body: number[]) => [...field(n, 2), ...varint(body.length), ...body];
const str = (s: string) => [...new TextEncoder().encode(s)];
const delimited = (frame: number[]) => Uint8Array.from([...varint(frame.length), ...frame]);
const infoFrame = () => delimited(len(1, [...field(1, 0), 1]));

function decodeAll(pieces: readonly Uint8Array[]): BackupRecord[] {
  const decoder = new RecordDecoder();
  const out: BackupRecord[] = [];
  for (const p of pieces) decoder.push(p, out);
  decoder.finish();
  return out;
}

function encode(records: readonly BackupRecord[]): Uint8Array {
  const batcher = new RecordBatcher();
  for (const r of records) batcher.add(r);
  return batcher.take().slice();
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

const errorCode = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (BackupError.is(err)) return err.code;
    throw err;
  }
  return undefined;
};

describe('record encoding', () => {
  it('matches hand-computed protobuf bytes', () => {
    const setting: ContentRecord = { type: 'setting', key: 'a', value: false };
    // Frame{ setting(6): Setting{ key(1) = "a", bool_value(2) = false } }, delimited.
    expect([...encodeRecords([setting])]).toEqual([7, 0x32, 5, 0x0a, 1, 0x61, 0x10, 0]);

    const message: ContentRecord = {
      type: 'message',
      messageId: 300,
      conversationId: 1,
      authorRecipientId: 0,
      sentAtMs: Number.MAX_SAFE_INTEGER,
      receivedAtMs: 2 ** 31,
      body: 'hé',
      attachments: [],
      receipts: [{ recipientId: 2, status: 'read', updatedAtMs: 0 }],
      read: false,
      expiresInMs: 0,
      expireStartedAtMs: 0,
    };
    const inner = [
      ...field(1, 0),
      ...varint(300),
      ...field(2, 0),
      1,
      ...field(4, 0),
      ...varint(2n ** 53n - 1n),
      ...field(5, 0),
      ...varint(2n ** 31n),
      ...len(6, str('hé')),
      ...len(8, [...field(1, 0), 2, ...field(2, 0), 3]),
    ];
    expect([...encodeRecords([message])]).toEqual([...delimited(len(5, inner))]);
  });

  it("writes and reads a message's author id, author device and server time (fields 12-14)", () => {
    const base = {
      type: 'message',
      messageId: 1,
      conversationId: 1,
      authorRecipientId: 1,
      sentAtMs: 0,
      receivedAtMs: 0,
      body: '',
      attachments: [],
      receipts: [],
      read: false,
      expiresInMs: 0,
      expireStartedAtMs: 0,
    } as const;
    const message: ContentRecord = {
      ...base,
      authorMessageId: 'AbC-_9',
      authorDeviceId: 3,
      serverTimestampMs: 300,
    };
    const inner = [
      ...field(1, 0),
      1,
      ...field(2, 0),
      1,
      ...field(3, 0),
      1,
      ...len(12, str('AbC-_9')),
      ...field(13, 0),
      3,
      ...field(14, 0),
      ...varint(300),
    ];
    const bytes = encodeRecords([message]);
    expect([...bytes]).toEqual([...delimited(len(5, inner))]);
    expect(decodeAll([infoFrame(), bytes])[1]).toEqual(message);
    // Absent (older writers): the fields stay absent when read.
    const plain = decodeAll([infoFrame(), encodeRecords([base])])[1]!;
    expect(plain).toEqual(base);
    expect('authorMessageId' in plain || 'serverTimestampMs' in plain).toBe(false);
  });

  it('zigzag-encodes setting integers up to ±(2^53 − 1) exactly', () => {
    const zigzag = (v: bigint) => (v >= 0n ? 2n * v : -2n * v - 1n);
    for (const value of [
      0,
      1,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 52 + 1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]) {
      const setting: ContentRecord = { type: 'setting', key: 'n', value };
      const inner = [...len(1, str('n')), ...field(3, 0), ...varint(zigzag(BigInt(value)))];
      expect([...encodeRecords([setting])]).toEqual([...delimited(len(6, inner))]);
      expect(decodeAll([encode([INFO, setting])])[1]).toEqual(setting);
    }
  });

  it('round-trips arbitrary histories split at arbitrary points', () => {
    fc.assert(
      fc.property(history, fc.array(fc.nat(), { maxLength: 20 }), (records, cuts) => {
        const bytes = encode([INFO, ...records]);
        expect(decodeAll(splitAt(bytes, cuts))).toEqual([INFO, ...records]);
      }),
      { numRuns: 150 },
    );
  });

  it('decodes a stream fed one byte at a time', () => {
    const records: BackupRecord[] = [
      INFO,
      { type: 'setting', key: 'x', value: 'y'.repeat(300) },
      { type: 'setting', key: 'n', value: -5 },
    ];
    const bytes = encode(records);
    const pieces = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(decodeAll(pieces)).toEqual(records);
  });

  it('skips unknown fields, unknown wire types 1 and 5, and unknown frame kinds', () => {
    const setting = [
      ...len(1, str('k')),
      ...field(99, 0),
      ...varint(12345),
      ...field(98, 1),
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      ...len(97, [1, 2, 3]),
      ...field(96, 5),
      1,
      2,
      3,
      4,
      ...len(4, str('v')),
    ];
    const unknownFrame = delimited(len(15, [...field(1, 0), 7]));
    const bytes = Uint8Array.from([...infoFrame(), ...unknownFrame, ...delimited(len(6, setting))]);
    expect(decodeAll([bytes])).toEqual([
      { type: 'backup-info', schemaVersion: 1, createdAtMs: 0, app: '' },
      { type: 'setting', key: 'k', value: 'v' },
    ]);
  });

  it('reads an unknown enum value as the default', () => {
    const contact = [...field(1, 0), 1, ...field(8, 0), 9];
    const out = decodeAll([Uint8Array.from([...infoFrame(), ...delimited(len(3, contact))])]);
    expect(out[1]).toMatchObject({ type: 'contact', recipientId: 1, verification: 'default' });
  });
});

describe('record decoding rejects malformed bodies', () => {
  const body = (...frames: Uint8Array[]) => Uint8Array.from(frames.flatMap((f) => [...f]));

  it('CORRUPT_RECORD for integers above 2^53 - 1, bad UTF-8, groups and overruns', () => {
    const big = delimited(len(6, [...len(1, str('k')), ...field(3, 0), ...varint(2n ** 54n)]));
    const badUtf8 = delimited(len(6, [...len(1, [0xc3, 0x28]), ...field(2, 0), 1]));
    const group = delimited(len(6, [...field(1, 3)]));
    const overrun = delimited(len(6, [...field(1, 2), 50, 1, 2]));
    for (const frame of [big, badUtf8, group, overrun]) {
      expect(errorCode(() => decodeAll([body(infoFrame(), frame)]))).toBe('CORRUPT_RECORD');
    }
  });

  it('CORRUPT_RECORD unless BackupInfo comes first and only once', () => {
    const setting = delimited(len(6, [...len(1, str('k')), ...field(2, 0), 1]));
    expect(errorCode(() => decodeAll([setting]))).toBe('CORRUPT_RECORD');
    expect(errorCode(() => decodeAll([body(infoFrame(), infoFrame())]))).toBe('CORRUPT_RECORD');
    expect(errorCode(() => decodeAll([]))).toBe('CORRUPT_RECORD');
  });

  it('CORRUPT_RECORD when the body ends inside a record', () => {
    const bytes = encode([INFO, { type: 'setting', key: 'k', value: 1 }]);
    expect(errorCode(() => decodeAll([bytes.subarray(0, bytes.length - 1)]))).toBe(
      'CORRUPT_RECORD',
    );
  });

  it('RECORD_TOO_LARGE for a frame length above the limit, without buffering it', () => {
    const header = Uint8Array.from(varint(MAX_RECORD_LENGTH + 1));
    expect(errorCode(() => decodeAll([body(infoFrame(), header)]))).toBe('RECORD_TOO_LARGE');
    expect(
      errorCode(() => decodeAll([infoFrame(), header.subarray(0, 1), header.subarray(1)])),
    ).toBe('RECORD_TOO_LARGE');
    expect(
      errorCode(() => decodeAll([body(infoFrame(), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01))])),
    ).toBe('RECORD_TOO_LARGE');
  });

  it('throws only BackupErrors on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (junk, cuts) => {
          const bytes = body(infoFrame(), junk);
          try {
            decodeAll(splitAt(bytes, cuts));
          } catch (err) {
            expect(BackupError.is(err)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('record writing rejects bad records', () => {
  const base: ContentRecord = { type: 'setting', key: 'k', value: 1 };
  it('INVALID_ARGUMENT for bad numbers, enums, shapes and values', () => {
    const bad: unknown[] = [
      { ...base, value: 1.5 },
      { ...base, value: undefined },
      { type: 'contact', recipientId: -1 },
      { type: 'message', messageId: 1.5 },
      {
        type: 'conversation',
        conversationId: 1,
        kind: 'direct',
        recipientId: 0,
        groupId: new Uint8Array(0),
        title: '',
        archived: false,
        pinned: false,
        mutedUntilMs: 0,
        expireTimerSeconds: 0,
      },
      { type: 'nonsense' },
    ];
    for (const record of bad) {
      expect(errorCode(() => encode([record as ContentRecord]))).toBe('INVALID_ARGUMENT');
    }
  });

  it('RECORD_TOO_LARGE above MAX_RECORD_LENGTH, leaving the batch intact', () => {
    const batcher = new RecordBatcher();
    batcher.add(INFO);
    const before = batcher.size;
    const huge: ContentRecord = {
      type: 'setting',
      key: 'k',
      value: new Uint8Array(MAX_RECORD_LENGTH),
    };
    expect(errorCode(() => batcher.add(huge))).toBe('RECORD_TOO_LARGE');
    expect(batcher.size).toBe(before);
  });
});
