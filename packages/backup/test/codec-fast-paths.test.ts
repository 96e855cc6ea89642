// The record codec's fast paths (docs/backup-format.md §6), each checked against an independent
// encoding: the JS UTF-8 loop against TextEncoder (lone surrogates included), the one-move frame
// closing at every length-prefix boundary, batched decoding against decoding whole pieces, and
// the writer's reference check for small (byte map) and large (Set) ids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  BackupKey,
  createBackup,
  type BackupRecord,
  type ContentRecord,
  type MessageRecord,
} from '../src/index.js';
import { RecordDecoder } from '../src/format/record-stream.js';
import { encodeRecords, syntheticHistory } from '../src/testing/index.js';
import { collect } from './helpers.js';

/** An independent protobuf writer for expected bytes (BigInt varints, TextEncoder strings). */
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
const utf8 = (s: string) => [...new TextEncoder().encode(s)];
const delimited = (frame: number[]) => [...varint(frame.length), ...frame];

/** Frame{ setting(6): Setting{ key(1) = "k", string_value(4) = value } }, delimited. */
const settingBytes = (value: string) =>
  delimited(len(6, [...len(1, utf8('k')), ...len(4, utf8(value))]));

function decodeAll(bytes: Uint8Array, limit = Infinity): BackupRecord[] {
  const info = Uint8Array.from(delimited(len(1, [...field(1, 0), 1])));
  const decoder = new RecordDecoder();
  const out: BackupRecord[] = [];
  for (const piece of [info, bytes]) {
    decoder.start(piece);
    while (decoder.next(out, limit));
  }
  decoder.finish();
  return out.slice(1);
}

const message = (body: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  type: 'message',
  messageId: 1,
  conversationId: 1,
  authorRecipientId: 0,
  sentAtMs: 0,
  receivedAtMs: 0,
  body,
  attachments: [],
  receipts: [],
  read: false,
  expiresInMs: 0,
  expireStartedAtMs: 0,
  ...extra,
});

describe('string fields', () => {
  // Units around every UTF-8 width boundary, both surrogate halves alone and paired.
  const units = ['a', '\u007f', '\u0080', 'é', '\u07ff', '\u0800', '€', '\uffff', '😀'];
  const tricky = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00'];

  it('encodes like TextEncoder at every length around the short-string loop and prefixes', () => {
    for (const unit of [...units, ...tricky]) {
      for (let n = 1; n <= 140; n++) {
        const value = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
        const record: ContentRecord = { type: 'setting', key: 'k', value };
        expect([...encodeRecords([record])]).toEqual(settingBytes(value));
      }
    }
    // Long strings (the TextEncoder path) whose UTF-8 length crosses 127 and 16383 bytes.
    for (const value of [
      'a'.repeat(16_383),
      'a'.repeat(16_384),
      'é'.repeat(8_192),
      '€'.repeat(60),
    ]) {
      const record: ContentRecord = { type: 'setting', key: 'k', value };
      expect([...encodeRecords([record])]).toEqual(settingBytes(value));
    }
  });

  it('encodes any string like TextEncoder (lone surrogates become U+FFFD)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (value) => {
        const record: ContentRecord = { type: 'setting', key: 'k', value };
        expect([...encodeRecords([record])]).toEqual(settingBytes(value));
      }),
    );
  });

  it('round-trips every well-formed string whatever its length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (body) => {
        const [decoded] = decodeAll(encodeRecords([message(body)]));
        expect((decoded as MessageRecord).body).toBe(body);
      }),
    );
  });
});

describe('frame lengths', () => {
  it('writes both length prefixes at every boundary (127/128 and 16383/16384 bytes)', () => {
    for (const bodyLength of [
      ...Array.from({ length: 12 }, (_, i) => 118 + i),
      ...Array.from({ length: 12 }, (_, i) => 16_370 + i),
    ]) {
      const body = 'x'.repeat(bodyLength);
      const record = message(body, { messageId: 300, receipts: [] });
      const inner = [...field(1, 0), ...varint(300), ...field(2, 0), 1, ...len(6, utf8(body))];
      const encoded = encodeRecords([record]);
      expect([...encoded]).toEqual(delimited(len(5, inner)));
      expect(decodeAll(encoded)).toEqual([record]);
    }
  });
});

describe('batched decoding', () => {
  const records = [...syntheticHistory({ targetBytes: 200_000, seed: 5 })];
  const bytes = encodeRecords(records);

  it('yields the same records in the same order whatever the batch limit', () => {
    const whole = decodeAll(bytes);
    expect(whole).toEqual(records);
    for (const limit of [1, 100, 4096]) expect(decodeAll(bytes, limit)).toEqual(whole);
  });

  it('stops after about `limit` bytes and refuses a new piece before the last is used up', () => {
    const decoder = new RecordDecoder();
    const out: BackupRecord[] = [];
    decoder.start(Uint8Array.from(delimited(len(1, [...field(1, 0), 1]))));
    expect(decoder.next(out, Infinity)).toBe(false);
    decoder.start(bytes);
    expect(decoder.next(out, 1000)).toBe(true);
    const first = out.length;
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThan(records.length);
    expect(() => decoder.start(bytes)).toThrow();
    while (decoder.next(out, 1000));
    decoder.finish();
    expect(out.slice(1)).toEqual(records);
  });
});

describe("the writer's reference check", () => {
  const contact = (recipientId: number): ContentRecord => ({
    type: 'contact',
    recipientId,
    serviceId: '',
    phoneNumber: '',
    name: '',
    profileName: '',
    profileKey: new Uint8Array(0),
    identityKey: new Uint8Array(0),
    verification: 'default',
    blocked: false,
  });
  const direct = (conversationId: number, recipientId: number): ContentRecord => ({
    type: 'conversation',
    conversationId,
    kind: 'direct',
    recipientId,
    groupId: new Uint8Array(0),
    title: '',
    archived: false,
    pinned: false,
    mutedUntilMs: 0,
    expireTimerSeconds: 0,
  });
  const write = (records: readonly ContentRecord[]) =>
    collect(createBackup(records, { backupKey: BackupKey.generate(), compression: 'none' })).then(
      () => 'ok',
      (err: unknown) => (BackupError.is(err) ? err.code : err),
    );

  // Ids below 2^16 live in a byte map, larger ones in a Set: both paths, and their border.
  for (const [a, b] of [
    [1, 2],
    [65_535, 65_536],
    [2 ** 40, Number.MAX_SAFE_INTEGER],
  ] as const) {
    it(`accepts references to earlier records and rejects any other (ids ${a}, ${b})`, async () => {
      const ok = message('hi', {
        conversationId: b,
        authorRecipientId: a,
        receipts: [{ recipientId: a, status: 'read', updatedAtMs: 1 }],
      });
      expect(await write([contact(a), direct(b, a), ok])).toBe('ok');
      for (const bad of [
        { ...ok, conversationId: a },
        { ...ok, authorRecipientId: b },
        { ...ok, receipts: [{ recipientId: b, status: 'read' as const, updatedAtMs: 1 }] },
      ]) {
        expect(await write([contact(a), direct(b, a), bad])).toBe('INVALID_ARGUMENT');
      }
      expect(await write([contact(a), contact(a)])).toBe('INVALID_ARGUMENT');
      expect(await write([contact(a), direct(b, b)])).toBe('INVALID_ARGUMENT');
      expect(await write([contact(a), direct(b, a), direct(b, a)])).toBe('INVALID_ARGUMENT');
    });
  }
});
