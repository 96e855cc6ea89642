/** Content encoding and Signal-style padding (messaging/content.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientError,
  decodeContent,
  encodeContent,
  pad,
  unpad,
  type Content,
} from '../src/index.js';

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const UUID = '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d';
const enc = new TextEncoder();

describe('padding', () => {
  it('pads to the next multiple of 160 bytes with 0x80 then zeros', () => {
    for (const [n, padded] of [
      [0, 160],
      [1, 160],
      [158, 160],
      [159, 160],
      [160, 320],
      [319, 320],
      [320, 480],
    ] as const) {
      const input = new Uint8Array(n).fill(0x41);
      const out = pad(input);
      expect(out.length).toBe(padded);
      expect(out[n]).toBe(0x80);
      expect(out.subarray(n + 1).every((b) => b === 0)).toBe(true);
      expect(out.subarray(0, n)).toEqual(input);
    }
  });

  it('unpads anything it padded, including content ending in zero bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        expect(unpad(pad(bytes))).toEqual(bytes);
      }),
    );
  });

  it('refuses padding without the 0x80 marker', () => {
    expect(unpad(new Uint8Array(160))).toBeNull();
    expect(unpad(Uint8Array.of(1, 2, 3, 0, 0))).toBeNull();
    expect(unpad(new Uint8Array(0))).toBeNull();
  });
});

describe('content', () => {
  const samples: Content[] = [
    { type: 'text', id: ID, sentAt: 1_750_000_000_000, body: 'hello 👋 «quoted»' },
    { type: 'text', id: ID, sentAt: 0, body: '' },
    { type: 'receipt', kind: 'delivery', ids: [ID] },
    { type: 'receipt', kind: 'read', ids: [ID, 'BBBBBBBBBBBBBBBBBBBBBB'] },
    { type: 'sync-sent', destination: UUID, id: ID, sentAt: 5, body: 'copy' },
    { type: 'sync-read', author: UUID, ids: [ID] },
  ];

  it('round-trips every kind, padded to 160-byte blocks', () => {
    for (const c of samples) {
      const bytes = encodeContent(c);
      expect(bytes.length % 160).toBe(0);
      expect(decodeContent(bytes)).toEqual(c);
    }
  });

  it('round-trips arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.nat(), (body, sentAt) => {
        const c: Content = { type: 'text', id: ID, sentAt, body };
        expect(decodeContent(encodeContent(c))).toEqual(c);
      }),
    );
  });

  it('ignores newer versions and unknown kinds instead of failing', () => {
    expect(
      decodeContent(
        pad(enc.encode(JSON.stringify({ v: 2, type: 'text', id: ID, sentAt: 1, body: 'x' }))),
      ),
    ).toBeNull();
    expect(
      decodeContent(pad(enc.encode(JSON.stringify({ v: 1, type: 'reaction', emoji: '👍' })))),
    ).toBeNull();
  });

  it('rejects malformed content with INVALID_ARGUMENT', () => {
    const bad = [
      Uint8Array.of(0x7b, 0x00), // no 0x80 marker
      pad(Uint8Array.of(0xff, 0xfe)), // not UTF-8
      pad(enc.encode('not json')),
      pad(enc.encode('[1,2]')),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'text', id: 'short', sentAt: 1, body: 'x' }))),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'text', id: ID, sentAt: -1, body: 'x' }))),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'text', id: ID, sentAt: 1.5, body: 'x' }))),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'text', id: ID, sentAt: 1, body: 7 }))),
      pad(
        enc.encode(
          JSON.stringify({
            v: 1,
            type: 'text',
            id: ID,
            sentAt: 1,
            body: 'x'.repeat(64 * 1024 + 1),
          }),
        ),
      ),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'receipt', kind: 'seen', ids: [ID] }))),
      pad(enc.encode(JSON.stringify({ v: 1, type: 'receipt', kind: 'read', ids: [] }))),
      pad(
        enc.encode(
          JSON.stringify({ v: 1, type: 'receipt', kind: 'read', ids: Array(501).fill(ID) }),
        ),
      ),
      pad(
        enc.encode(
          JSON.stringify({
            v: 1,
            type: 'sync-sent',
            destination: 'NOT-A-UUID',
            id: ID,
            sentAt: 1,
            body: 'x',
          }),
        ),
      ),
      pad(
        enc.encode(
          JSON.stringify({ v: 1, type: 'sync-read', author: UUID.toUpperCase(), ids: [ID] }),
        ),
      ),
    ];
    for (const b of bad) {
      let caught: unknown;
      try {
        decodeContent(b);
      } catch (err) {
        caught = err;
      }
      expect(ClientError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
