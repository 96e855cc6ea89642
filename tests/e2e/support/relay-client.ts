/**
 * A small client of the real relay for end-to-end tests: registration over HTTP (verification
 * code from the development SMS lines, then `POST /v1/accounts`), JSON calls with a device
 * credential, and a WebSocket speaking the binary frames of `@sotto/api` frames.ts. It is a test
 * client, not the SDK: no retries, no outbox, no decryption — the tests do those themselves.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  decodeServerFrame,
  encodeClientFrame,
  formatAuthorization,
  fromBase64Url,
  toBase64,
  type ClientFrame,
  type EnvelopeFrame,
  type EnvelopeType,
  type ServerFrame,
} from '@sotto/api';

export interface RegisteredDevice {
  readonly number: string;
  readonly accountId: string;
  readonly deviceId: number;
  readonly registrationId: number;
  readonly authorization: string;
}

/** `+1 415 555 0100`–`+1 415 555 9999` are valid numbers (docs/server.md). */
export function testNumber(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i > 9899) throw new RangeError('number index 0..9899');
  return `+1415555${String(100 + i).padStart(4, '0')}`;
}

async function postJson(url: string, body: unknown, authorization?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify(body),
  });
}

/** Requests a code, reads it from the relay's development SMS line and registers the number. */
export async function registerAccount(
  url: string,
  number: string,
  codeFor: (number: string) => Promise<string>,
  options: { registrationId?: number; identityKey?: Uint8Array } = {},
): Promise<RegisteredDevice> {
  const sent = await postJson(`${url}/v1/verification/code`, { number });
  if (sent.status !== 202)
    throw new Error(`code request failed: ${sent.status} ${await sent.text()}`);
  let identityKey = options.identityKey;
  if (identityKey === undefined) {
    identityKey = randomBytes(33);
    identityKey[0] = 0x05;
  }
  const registrationId = options.registrationId ?? 1 + Math.floor(Math.random() * 16000);
  const res = await postJson(`${url}/v1/accounts`, {
    number,
    code: await codeFor(number),
    registrationId,
    identityKey: toBase64(identityKey),
  });
  if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accountId: string; deviceId: number; credential: string };
  return {
    number,
    accountId: body.accountId,
    deviceId: body.deviceId,
    registrationId,
    authorization: formatAuthorization({
      accountId: body.accountId,
      deviceId: body.deviceId,
      credential: fromBase64Url(body.credential),
    }),
  };
}

/** An authenticated JSON request; throws unless the status is `expect`. */
export async function callJson<T>(
  url: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  authorization: string,
  body?: unknown,
  expect = 200,
): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text.length === 0 ? undefined : JSON.parse(text)) as T;
}

type SendAnswer = Extract<ServerFrame, { type: 'send-result' | 'error' }>;

/**
 * One device's message socket. Envelopes go to `onEnvelope` (or are buffered in `envelopes`);
 * SEND_RESULT and ERROR frames settle the `send` promise with the same request id.
 */
export class RelaySocket {
  readonly envelopes: EnvelopeFrame[] = [];
  queueEmpty = false;
  closed = false;
  onEnvelope: ((e: EnvelopeFrame) => void) | null = null;
  private nextRequestId = 1;
  private readonly answers = new Map<number, (f: SendAnswer) => void>();
  private readonly pongs = new Map<number, () => void>();
  private readonly closeWaiters: (() => void)[] = [];
  private readonly queueEmptyWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onFrame(decodeServerFrame(new Uint8Array(data))));
    ws.on('close', () => this.onClosed());
    // A killed relay surfaces as ECONNRESET; the close event follows and is what tests watch.
    ws.on('error', () => undefined);
  }

  /**
   * Opens the socket. Pass `onEnvelope` here rather than setting it later: the relay starts
   * draining the mailbox the moment the socket opens.
   */
  static open(
    url: string,
    authorization: string,
    onEnvelope?: (e: EnvelopeFrame, socket: RelaySocket) => void,
  ): Promise<RelaySocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/websocket`, {
        headers: { authorization },
        perMessageDeflate: false,
      });
      const socket = new RelaySocket(ws);
      if (onEnvelope !== undefined) socket.onEnvelope = (e) => onEnvelope(e, socket);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'envelope':
        if (this.onEnvelope !== null) this.onEnvelope(f);
        else this.envelopes.push(f);
        return;
      case 'send-result':
      case 'error': {
        const settle = this.answers.get(f.requestId);
        this.answers.delete(f.requestId);
        settle?.(f);
        return;
      }
      case 'pong': {
        const done = this.pongs.get(f.requestId);
        this.pongs.delete(f.requestId);
        done?.();
        return;
      }
      case 'queue-empty':
        this.queueEmpty = true;
        for (const w of this.queueEmptyWaiters.splice(0)) w();
        return;
    }
  }

  private onClosed(): void {
    this.closed = true;
    // Sends still waiting will never be answered by this connection.
    for (const settle of this.answers.values()) {
      settle({
        type: 'error',
        requestId: 0,
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
        message: 'connection closed',
      });
    }
    this.answers.clear();
    for (const w of this.closeWaiters.splice(0)) w();
    for (const w of this.queueEmptyWaiters.splice(0)) w();
  }

  sendFrame(frame: ClientFrame): void {
    if (!this.closed) this.ws.send(encodeClientFrame(frame));
  }

  /** Sends one envelope per device; resolves with the SEND_RESULT or ERROR (503 if the socket closed). */
  send(
    recipient: string,
    envelopes: readonly {
      deviceId: number;
      registrationId: number;
      type: EnvelopeType;
      content: Uint8Array;
    }[],
    clientMessageId: Uint8Array = randomBytes(16),
  ): Promise<SendAnswer> {
    const requestId = this.nextRequestId++;
    return new Promise<SendAnswer>((resolve) => {
      if (this.closed) {
        resolve({
          type: 'error',
          requestId,
          code: 'SERVICE_UNAVAILABLE',
          status: 503,
          message: 'connection closed',
        });
        return;
      }
      this.answers.set(requestId, resolve);
      this.sendFrame({ type: 'send', requestId, clientMessageId, recipient, envelopes });
    });
  }

  ack(guids: readonly string[]): void {
    for (let i = 0; i < guids.length; i += 1024) {
      this.sendFrame({ type: 'ack', guids: guids.slice(i, i + 1024) });
    }
  }

  /** A PING round trip: every frame sent before it has been read by the relay. */
  ping(timeoutMs = 5000): Promise<void> {
    const requestId = this.nextRequestId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no pong')), timeoutMs);
      this.pongs.set(requestId, () => {
        clearTimeout(timer);
        resolve();
      });
      this.sendFrame({ type: 'ping', requestId });
    });
  }

  waitQueueEmpty(timeoutMs = 10_000): Promise<void> {
    if (this.queueEmpty) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no QUEUE_EMPTY')), timeoutMs);
      this.queueEmptyWaiters.push(() => {
        clearTimeout(timer);
        if (this.queueEmpty) resolve();
        else reject(new Error('socket closed before QUEUE_EMPTY'));
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    this.ws.close();
    return done;
  }
}

/** Polls `check` until it returns a value other than `undefined`. */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
