/**
 * The message socket (transport/message-socket.ts) against a fake WebSocket: frames both ways,
 * SEND answered by SEND_RESULT or ERROR, a dropped socket failing sends, reconnect backoff,
 * keep-alive, and the deregistered end states.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  decodeClientFrame,
  encodeServerFrame,
  parseAuthorization,
  type ClientFrame,
  type EnvelopeFrame,
  type ServerFrame,
} from '@sotto/api';
import { ClientError, limits, type ConnectionState, type WebSocketLike } from '../src/index.js';
import { MessageSocket, type RelayProbe } from '../src/transport/message-socket.js';

class FakeSocket implements WebSocketLike {
  binaryType = 'blob';
  readyState = 0;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  readonly sent: ClientFrame[] = [];
  closed: { code?: number } | null = null;
  constructor(readonly headers: Readonly<Record<string, string>>) {}
  send(data: Uint8Array): void {
    this.sent.push(decodeClientFrame(data));
  }
  close(code?: number): void {
    this.closed = code === undefined ? {} : { code };
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(frame: ServerFrame): void {
    const bytes = encodeServerFrame(frame);
    this.onmessage?.({
      data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const CREDS = {
  accountId: '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d',
  deviceId: 2,
  credential: new Uint8Array(32).fill(7),
};
const RECIPIENT = '11111111-2222-4333-8444-555555555555';

function setup(options: { probe?: RelayProbe } = {}) {
  const sockets: FakeSocket[] = [];
  const states: ConnectionState[] = [];
  const envelopes: EnvelopeFrame[] = [];
  let queueEmpty = 0;
  const socket = new MessageSocket(
    'ws://relay.test/v1/websocket',
    () => CREDS,
    (_url, o) => {
      const s = new FakeSocket(o.headers);
      sockets.push(s);
      return s;
    },
    {
      onEnvelope: (e) => envelopes.push(e),
      onQueueEmpty: () => queueEmpty++,
      onState: (s) => states.push(s),
      probe: () => Promise.resolve(options.probe ?? 'retry'),
    },
    () => 0.5, // no jitter
  );
  return { socket, sockets, states, envelopes, queueEmpty: () => queueEmpty };
}

const sendArgs = {
  clientMessageId: new Uint8Array(16).fill(1),
  recipient: RECIPIENT,
  envelopes: [{ deviceId: 1, registrationId: 5, type: 1 as const, content: Uint8Array.of(9) }],
};

describe('MessageSocket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('authenticates the upgrade, reports states, delivers envelopes and QUEUE_EMPTY', async () => {
    const t = setup();
    t.socket.start();
    expect(t.states).toEqual(['connecting']);
    const s = t.sockets[0]!;
    expect(parseAuthorization(s.headers.authorization)).toEqual(CREDS);
    const opened = t.socket.whenOpen();
    s.open();
    await opened;
    expect(s.binaryType).toBe('arraybuffer');
    expect(t.states).toEqual(['connecting', 'open']);
    const env: EnvelopeFrame = {
      type: 'envelope',
      guid: '00000000-0000-4000-8000-000000000001',
      serverTimestamp: 1234,
      sourceAccountId: RECIPIENT,
      sourceDeviceId: 3,
      envelopeType: 1,
      content: Uint8Array.of(1, 2, 3),
    };
    s.push(env);
    s.push({ type: 'queue-empty' });
    expect(t.envelopes).toHaveLength(1);
    expect(t.envelopes[0]).toMatchObject({
      guid: env.guid,
      sourceDeviceId: 3,
      serverTimestamp: 1234,
    });
    expect(t.queueEmpty()).toBe(1);
    // A malformed frame from the relay is ignored; the socket keeps working.
    s.onmessage?.({ data: Uint8Array.of(1, 0x42, 9).buffer });
    s.onmessage?.({ data: 'text frame' });
    s.push({ type: 'queue-empty' });
    expect(t.queueEmpty()).toBe(2);
    t.socket.stop();
  });

  it('matches SEND_RESULT and ERROR frames to their sends by request id', async () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    const first = t.socket.send(sendArgs);
    const second = t.socket.send(sendArgs);
    const s = t.sockets[0]!;
    const [f1, f2] = s.sent as Array<Extract<ClientFrame, { type: 'send' }>>;
    expect(f1!.requestId).not.toBe(f2!.requestId);
    expect(f1!.recipient).toBe(RECIPIENT);
    s.push({
      type: 'error',
      requestId: f2!.requestId,
      code: 'MISMATCHED_DEVICES',
      status: 409,
      message: 'x',
      details: { missingDevices: [2], extraDevices: [] },
    });
    s.push({ type: 'send-result', requestId: f1!.requestId, serverTimestamp: 99, duplicate: true });
    await expect(first).resolves.toEqual({ serverTimestamp: 99, duplicate: true });
    const err = await second.catch((e: unknown) => e);
    expect(ClientError.isApi(err, 'MISMATCHED_DEVICES')).toBe(true);
    expect((err as ClientError).details).toEqual({ missingDevices: [2], extraDevices: [] });
    t.socket.stop();
  });

  it('fails sends in flight when the socket drops, refuses sends while closed, drops acks', async () => {
    const t = setup();
    t.socket.start();
    const s = t.sockets[0]!;
    s.open();
    const pending = t.socket.send(sendArgs);
    s.drop();
    await expect(pending).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(t.socket.send(sendArgs)).rejects.toMatchObject({ code: 'NETWORK' });
    t.socket.ack(['00000000-0000-4000-8000-000000000001']);
    expect(s.sent.filter((f) => f.type === 'ack')).toEqual([]);
    t.socket.stop();
  });

  it('acknowledges in frames of at most MAX_ACKS_PER_FRAME', () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    const guids = Array.from(
      { length: 1500 },
      (_, i) => `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    );
    t.socket.ack(guids);
    const acks = t.sockets[0]!.sent.filter(
      (f): f is Extract<ClientFrame, { type: 'ack' }> => f.type === 'ack',
    );
    expect(acks.map((a) => a.guids.length)).toEqual([1024, 476]);
    expect(acks.flatMap((a) => a.guids)).toEqual(guids);
    t.socket.stop();
  });

  it('reconnects with exponential backoff up to the ceiling, and resets after a success', async () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    t.sockets[0]!.drop();
    expect(t.states.at(-1)).toBe('reconnecting');
    const delays: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = t.sockets.length;
      let waited = 0;
      while (t.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
      }
      delays.push(waited);
      // fails before opening: the client asks whether it is deregistered (no), then waits longer
      t.sockets.at(-1)!.drop();
    }
    const expected = delays.map((_, i) =>
      Math.min(limits.RECONNECT_MAX_DELAY_MS, limits.RECONNECT_INITIAL_DELAY_MS * 2 ** i),
    );
    for (let i = 0; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThanOrEqual(expected[i]!);
      expect(delays[i]).toBeLessThanOrEqual(expected[i]! + 50);
    }
    // A successful open resets the backoff.
    await vi.advanceTimersByTimeAsync(limits.RECONNECT_MAX_DELAY_MS + 100);
    const s = t.sockets.at(-1)!;
    s.open();
    s.drop();
    const before = t.sockets.length;
    await vi.advanceTimersByTimeAsync(limits.RECONNECT_INITIAL_DELAY_MS + 50);
    expect(t.sockets.length).toBe(before + 1);
    t.socket.stop();
  });

  it('stops for good on close code 4401 (device removed)', async () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    t.sockets[0]!.drop(4401);
    expect(t.socket.state).toBe('deregistered');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('stops for good when a refused upgrade turns out to be a refused credential', async () => {
    const t = setup({ probe: 'deregistered' });
    t.socket.start();
    t.sockets[0]!.drop(1006);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.socket.state).toBe('deregistered');
    expect(t.socket.failure?.code).toBe('DEREGISTERED');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('stops for good when the relay speaks another frame version', async () => {
    const t = setup();
    t.socket.start();
    const s = t.sockets[0]!;
    s.open();
    const pending = t.socket.send(sendArgs);
    // A frame of version 2: this client cannot talk to that relay, retrying will not help.
    s.onmessage?.({ data: Uint8Array.of(2, 0x85).buffer });
    expect(t.socket.state).toBe('unsupported');
    expect(t.socket.failure?.code).toBe('SERVER_UNSUPPORTED');
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets).toHaveLength(1);

    // The same when the relay answers with FRAME_VERSION_UNSUPPORTED, or the HTTP probe says so.
    const u = setup();
    u.socket.start();
    u.sockets[0]!.open();
    u.sockets[0]!.push({
      type: 'error',
      requestId: 0,
      code: 'FRAME_VERSION_UNSUPPORTED',
      status: 400,
      message: 'x',
    });
    expect(u.socket.state).toBe('unsupported');
    const v = setup({ probe: 'unsupported' });
    v.socket.start();
    v.sockets[0]!.drop(1006);
    await vi.advanceTimersByTimeAsync(1);
    expect(v.socket.state).toBe('unsupported');
  });

  it('gives up the first connection after maxAttempts failed attempts, never after an open', async () => {
    const t = setup();
    t.socket.start({ maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(limits.RECONNECT_MAX_DELAY_MS + 1000);
      t.sockets.at(-1)!.drop(1006);
    }
    await vi.advanceTimersByTimeAsync(limits.RECONNECT_MAX_DELAY_MS + 1000);
    expect(t.sockets).toHaveLength(3);
    expect(t.socket.state).toBe('offline');
    expect(t.socket.failure?.code).toBe('NETWORK');

    // Once a connection opened, drops are retried whatever the limit was.
    const u = setup();
    u.socket.start({ maxAttempts: 1 });
    u.sockets[0]!.open();
    for (let i = 0; i < 4; i++) {
      u.sockets.at(-1)!.drop(1006);
      await vi.advanceTimersByTimeAsync(limits.RECONNECT_MAX_DELAY_MS + 1000);
    }
    expect(u.sockets.length).toBe(5);
    expect(u.socket.state).not.toBe('offline');
    u.socket.stop();
  });

  it('pings a silent socket and reconnects when no PONG comes back', async () => {
    const t = setup();
    t.socket.start();
    const s = t.sockets[0]!;
    s.open();
    await vi.advanceTimersByTimeAsync(limits.KEEPALIVE_INTERVAL_MS + 1);
    const ping = s.sent.find((f) => f.type === 'ping');
    expect(ping).toBeDefined();
    s.push({ type: 'pong', requestId: 0 });
    await vi.advanceTimersByTimeAsync(limits.KEEPALIVE_TIMEOUT_MS + 1);
    expect(s.closed).toBeNull(); // answered: still connected
    await vi.advanceTimersByTimeAsync(
      limits.KEEPALIVE_INTERVAL_MS + limits.KEEPALIVE_TIMEOUT_MS + 2,
    );
    expect(s.closed).not.toBeNull(); // no answer this time: dropped
    expect(t.states.at(-1)).toBe('reconnecting');
    t.socket.stop();
  });

  it('treats a send without an answer as lost and reconnects', async () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    const p = t.socket.send(sendArgs).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(limits.SEND_TIMEOUT_MS + 1);
    expect(ClientError.is(await p, 'NETWORK')).toBe(true);
    expect(t.states.at(-1)).toBe('reconnecting');
    t.socket.stop();
  });
});
