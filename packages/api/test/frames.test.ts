// Frame layouts are checked against bytes assembled independently with Buffer writes (the layout
// documented in frames.ts), then by round-trip properties, then by malformed input: truncations,
// bit flips, trailing bytes, wrong direction, wrong version and random bytes must all be refused
// with an ApiError, never another exception.
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ENVELOPE_TYPES,
  MAX_ACKS_PER_FRAME,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_ENVELOPE_CONTENT_BYTES,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  errorFrameOf,
  frameRequestId,
  type ClientFrame,
  type EnvelopeType,
  type ServerFrame,
} from '../src/index.js';

const hex = (u: string) => Buffer.from(u.replaceAll('-', ''), 'hex');
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const f64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

describe('frame layout', () => {
  it('SEND matches the documented layout', () => {
    const recipient = randomUUID();
    const cmid = randomBytes(16);
    const c1 = new Uint8Array(randomBytes(5));
    const c2 = new Uint8Array(randomBytes(300));
    const expected = Buffer.concat([
      Buffer.from([1, 0x01]),
      u32(0xdeadbeef),
      cmid,
      hex(recipient),
      Buffer.from([2]),
      u16(1),
      u32(4000),
      Buffer.from([3]),
      u32(5),
      c1,
      u16(2),
      u32(16000),
      Buffer.from([1]),
      u32(300),
      c2,
    ]);
    const frame: ClientFrame = {
      type: 'send',
      requestId: 0xdeadbeef,
      clientMessageId: cmid,
      recipient,
      envelopes: [
        { deviceId: 1, registrationId: 4000, type: 3, content: c1 },
        { deviceId: 2, registrationId: 16000, type: 1, content: c2 },
      ],
    };
    expect(Buffer.from(encodeClientFrame(frame)).equals(expected)).toBe(true);
    const back = decodeClientFrame(new Uint8Array(expected));
    expect(back).toEqual({ ...frame, clientMessageId: new Uint8Array(cmid) });
    expect(frameRequestId(expected)).toBe(0xdeadbeef);
  });

  it('ENVELOPE, SEND_RESULT, ERROR, PONG and QUEUE_EMPTY match the documented layout', () => {
    const guid = randomUUID();
    const source = randomUUID();
    const content = new Uint8Array(randomBytes(40));
    const ts = 1_750_000_000_123;
    const env = Buffer.concat([
      Buffer.from([1, 0x81]),
      hex(guid),
      f64(ts),
      hex(source),
      u16(7),
      Buffer.from([6]),
      u32(40),
      content,
    ]);
    const frame: ServerFrame = {
      type: 'envelope',
      guid,
      serverTimestamp: ts,
      sourceAccountId: source,
      sourceDeviceId: 7,
      envelopeType: 6,
      content,
    };
    expect(Buffer.from(encodeServerFrame(frame)).equals(env)).toBe(true);
    expect(decodeServerFrame(new Uint8Array(env))).toEqual(frame);

    const result = Buffer.concat([Buffer.from([1, 0x82]), u32(9), f64(ts), Buffer.from([1])]);
    expect(
      Buffer.from(
        encodeServerFrame({
          type: 'send-result',
          requestId: 9,
          serverTimestamp: ts,
          duplicate: true,
        }),
      ).equals(result),
    ).toBe(true);

    const details = Buffer.from(JSON.stringify({ staleDevices: [2, 3] }));
    const msg = Buffer.from('stale');
    const code = Buffer.from('STALE_DEVICES');
    const error = Buffer.concat([
      Buffer.from([1, 0x83]),
      u32(5),
      u16(410),
      Buffer.from([code.length]),
      code,
      u16(msg.length),
      msg,
      u16(details.length),
      details,
    ]);
    const errFrame = errorFrameOf(
      5,
      new ApiError('STALE_DEVICES', 'stale', { details: { staleDevices: [2, 3] } }),
    );
    expect(Buffer.from(encodeServerFrame(errFrame)).equals(error)).toBe(true);
    expect(decodeServerFrame(error)).toEqual(errFrame);

    expect(Buffer.from(encodeServerFrame({ type: 'pong', requestId: 1 }))).toEqual(
      Buffer.concat([Buffer.from([1, 0x84]), u32(1)]),
    );
    expect(Buffer.from(encodeServerFrame({ type: 'queue-empty' }))).toEqual(Buffer.from([1, 0x85]));
    expect(Buffer.from(encodeClientFrame({ type: 'ping', requestId: 77 }))).toEqual(
      Buffer.concat([Buffer.from([1, 0x03]), u32(77)]),
    );
  });

  it('ACK carries a count and 16-byte GUIDs', () => {
    const guids = [randomUUID(), randomUUID()];
    const expected = Buffer.concat([
      Buffer.from([1, 0x02]),
      u16(2),
      hex(guids[0]!),
      hex(guids[1]!),
    ]);
    expect(Buffer.from(encodeClientFrame({ type: 'ack', guids }))).toEqual(expected);
    expect(decodeClientFrame(expected)).toEqual({ type: 'ack', guids });
  });
});

// ---- properties ----------------------------------------------------------------------------

const envelopeType = fc.constantFrom(...(Object.values(ENVELOPE_TYPES) as EnvelopeType[]));
const uuid = fc.uuid().map((u) => u.toLowerCase());
const sendFrame = fc
  .record({
    requestId: fc.integer({ min: 0, max: 0xffff_ffff }),
    clientMessageId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    recipient: uuid,
    devices: fc.uniqueArray(fc.integer({ min: 1, max: 127 }), {
      minLength: 1,
      maxLength: MAX_DEVICES_PER_ACCOUNT,
    }),
    regs: fc.array(fc.integer({ min: 1, max: 0x3fff }), { minLength: 6, maxLength: 6 }),
    types: fc.array(envelopeType, { minLength: 6, maxLength: 6 }),
    contents: fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), {
      minLength: 6,
      maxLength: 6,
    }),
  })
  .map((r): ClientFrame => ({
    type: 'send',
    requestId: r.requestId,
    clientMessageId: r.clientMessageId,
    recipient: r.recipient,
    envelopes: r.devices.map((deviceId, i) => ({
      deviceId,
      registrationId: r.regs[i]!,
      type: r.types[i]!,
      content: r.contents[i]!,
    })),
  }));
const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  sendFrame,
  fc
    .array(uuid, { minLength: 1, maxLength: 20 })
    .map((guids): ClientFrame => ({ type: 'ack', guids })),
  fc
    .integer({ min: 0, max: 0xffff_ffff })
    .map((requestId): ClientFrame => ({ type: 'ping', requestId })),
);
const timestamp = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant('envelope' as const),
    guid: uuid,
    serverTimestamp: timestamp,
    sourceAccountId: uuid,
    sourceDeviceId: fc.integer({ min: 1, max: 127 }),
    envelopeType,
    content: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({
    type: fc.constant('send-result' as const),
    requestId: fc.integer({ min: 0, max: 0xffff_ffff }),
    serverTimestamp: timestamp,
    duplicate: fc.boolean(),
  }),
  fc
    .record({
      requestId: fc.integer({ min: 0, max: 0xffff_ffff }),
      devices: fc.array(fc.integer({ min: 1, max: 127 }), { maxLength: 6 }),
    })
    .map(({ requestId, devices }) =>
      errorFrameOf(
        requestId,
        new ApiError('MISMATCHED_DEVICES', undefined, {
          details: { missingDevices: devices, extraDevices: [] },
        }),
      ),
    ),
  fc.record({
    type: fc.constant('pong' as const),
    requestId: fc.integer({ min: 0, max: 0xffff_ffff }),
  }),
  fc.constant<ServerFrame>({ type: 'queue-empty' }),
);

function refusedWithApiError(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return true;
  }
}

describe('frame properties', () => {
  it('client frames round-trip', () => {
    fc.assert(
      fc.property(clientFrame, (f) => {
        expect(decodeClientFrame(encodeClientFrame(f))).toEqual(f);
      }),
    );
  });

  it('server frames round-trip', () => {
    fc.assert(
      fc.property(serverFrame, (f) => {
        expect(decodeServerFrame(encodeServerFrame(f))).toEqual(f);
      }),
    );
  });

  it('every strict prefix and every extension of a frame is refused', () => {
    fc.assert(
      fc.property(clientFrame, fc.uint8Array({ minLength: 1, maxLength: 8 }), (f, extra) => {
        const bytes = encodeClientFrame(f);
        for (let n = 0; n < bytes.length; n++) {
          expect(refusedWithApiError(() => decodeClientFrame(bytes.subarray(0, n)))).toBe(true);
        }
        const longer = new Uint8Array(bytes.length + extra.length);
        longer.set(bytes);
        longer.set(extra, bytes.length);
        expect(refusedWithApiError(() => decodeClientFrame(longer))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('frames go one way only', () => {
    fc.assert(
      fc.property(clientFrame, serverFrame, (c, s) => {
        expect(refusedWithApiError(() => decodeServerFrame(encodeClientFrame(c)))).toBe(true);
        expect(refusedWithApiError(() => decodeClientFrame(encodeServerFrame(s)))).toBe(true);
      }),
    );
  });

  it('random bytes and bit flips never throw anything but ApiError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        for (const decode of [decodeClientFrame, decodeServerFrame]) {
          try {
            decode(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(ApiError);
          }
        }
      }),
    );
    fc.assert(
      fc.property(clientFrame, fc.nat(), fc.integer({ min: 0, max: 7 }), (f, at, bit) => {
        const bytes = encodeClientFrame(f);
        bytes[at % bytes.length]! ^= 1 << bit;
        try {
          decodeClientFrame(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
        }
      }),
    );
  });
});

describe('frame limits', () => {
  const base = (
    over: Partial<{ count: number; len: number; type: number; device: number; reg: number }>,
  ) => {
    const count = over.count ?? 1;
    const len = over.len ?? 1;
    const parts = [
      Buffer.from([1, 1]),
      u32(1),
      randomBytes(16),
      hex(randomUUID()),
      Buffer.from([count]),
    ];
    for (let i = 0; i < count; i++) {
      parts.push(
        u16(over.device ?? i + 1),
        u32(over.reg ?? 1),
        Buffer.from([over.type ?? 1]),
        u32(len),
      );
      parts.push(Buffer.alloc(len));
    }
    return Buffer.concat(parts);
  };
  const code = (b: Uint8Array) => {
    try {
      decodeClientFrame(b);
      return 'ok';
    } catch (e) {
      return (e as ApiError).code;
    }
  };

  it('refuses out-of-range fields with the matching code', () => {
    expect(code(base({}))).toBe('ok');
    expect(code(base({ count: 0 }))).toBe('FRAME_INVALID');
    expect(code(base({ count: MAX_DEVICES_PER_ACCOUNT + 1 }))).toBe('FRAME_INVALID');
    expect(code(base({ len: 0 }))).toBe('FRAME_INVALID');
    expect(code(base({ len: MAX_ENVELOPE_CONTENT_BYTES }))).toBe('ok');
    expect(code(base({ len: MAX_ENVELOPE_CONTENT_BYTES + 1 }))).toBe('PAYLOAD_TOO_LARGE');
    expect(code(base({ type: 2 }))).toBe('FRAME_INVALID');
    expect(code(base({ device: 0 }))).toBe('FRAME_INVALID');
    expect(code(base({ device: 128 }))).toBe('FRAME_INVALID');
    expect(code(base({ count: 2, device: 5 }))).toBe('FRAME_INVALID');
    expect(code(base({ reg: 0 }))).toBe('FRAME_INVALID');
    expect(code(base({ reg: 0x4000 }))).toBe('FRAME_INVALID');
    const v2 = base({});
    v2[0] = 2;
    expect(code(v2)).toBe('FRAME_VERSION_UNSUPPORTED');
    expect(code(Buffer.concat([Buffer.from([1, 2]), u16(0)]))).toBe('FRAME_INVALID');
    expect(code(Buffer.concat([Buffer.from([1, 2]), u16(MAX_ACKS_PER_FRAME + 1)]))).toBe(
      'FRAME_INVALID',
    );
    expect(code(Buffer.from([1, 0x7f]))).toBe('FRAME_INVALID');
  });

  it('encoders refuse what decoders would refuse', () => {
    expect(() =>
      encodeClientFrame({
        type: 'send',
        requestId: -1,
        clientMessageId: new Uint8Array(16),
        recipient: randomUUID(),
        envelopes: [],
      }),
    ).toThrow(RangeError);
    expect(() => encodeClientFrame({ type: 'ack', guids: [] })).toThrow(RangeError);
  });
});
