/**
 * In-process test harness: a relay on an in-memory SQLite database (through the same Kysely
 * storage the SQLite adapter ships; the adapter itself is tested in adapters/storage-sqlite),
 * a manual clock, an SMS sender that records codes, and small clients for HTTP (`inject()`) and
 * the WebSocket (`injectWS()`).
 *
 * better-sqlite3 is opened here directly because the adapter package depends on this one (a
 * project reference back would be circular); test code only, never shipped.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { WebSocket } from 'ws';
import {
  decodeServerFrame,
  encodeClientFrame,
  formatAuthorization,
  fromBase64Url,
  toBase64,
  type ClientFrame,
  type EnvelopeType,
  type ServerFrame,
} from '@sotto/api';
import {
  createServer,
  KyselyStorage,
  MemoryAttachmentStore,
  migrateToLatest,
  type ServerOptions,
  type SottoServer,
  type StorageDatabase,
} from '../../src/index.js';
import { ManualClock, MemorySmsSender } from '../../src/testing/index.js';

export interface Harness {
  readonly server: SottoServer;
  readonly app: SottoServer['app'];
  readonly storage: KyselyStorage;
  readonly database: Database.Database;
  readonly sms: MemorySmsSender;
  readonly clock: ManualClock;
  readonly attachments: MemoryAttachmentStore;
  close(): Promise<void>;
}

export async function openTestStorage(): Promise<{
  storage: KyselyStorage;
  database: Database.Database;
}> {
  const database = new Database(':memory:');
  const db = new Kysely<StorageDatabase>({ dialect: new SqliteDialect({ database }) });
  await migrateToLatest(db, 'sqlite');
  return { storage: new KyselyStorage(db, { flavour: 'sqlite' }), database };
}

export async function startHarness(overrides: Partial<ServerOptions> = {}): Promise<Harness> {
  const { storage, database } = await openTestStorage();
  const sms = new MemorySmsSender();
  const clock = new ManualClock();
  const attachments = new MemoryAttachmentStore(() => clock.now());
  const server = await createServer({
    storage,
    sms,
    clock,
    attachments,
    secret: randomBytes(32),
    sweepIntervalMs: 0,
    heartbeatIntervalMs: 0,
    ...overrides,
  });
  return {
    server,
    app: server.app,
    storage,
    database,
    sms,
    clock,
    attachments,
    async close() {
      await server.close();
      await storage.close();
    },
  };
}

// ---- HTTP client helpers ---------------------------------------------------------------------

export interface TestDevice {
  readonly accountId: string;
  readonly deviceId: number;
  readonly credential: Uint8Array;
  readonly registrationId: number;
  readonly authorization: string;
  readonly number: string;
  readonly identityKey: Uint8Array;
}

let numberCounter = 0;
/** A fresh valid number in the +1 415 555 01xx..99xx range. */
export function freshNumber(): string {
  numberCounter++;
  return `+1415555${String(1000 + (numberCounter % 9000)).padStart(4, '0')}`;
}

export function ecKey(): Uint8Array {
  const k = randomBytes(33);
  k[0] = 0x05;
  return k;
}
export function kyberKey(): Uint8Array {
  const k = randomBytes(1569);
  k[0] = 0x08;
  return k;
}
export function b64(bytes: Uint8Array): string {
  return toBase64(bytes);
}

let ipCounter = 0;
/** A distinct client address per call, so per-IP limits do not couple unrelated tests. */
export function freshIp(): string {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export async function requestCode(h: Harness, number: string, ip = freshIp()) {
  return h.app.inject({
    method: 'POST',
    url: '/v1/verification/code',
    payload: { number },
    remoteAddress: ip,
  });
}

export async function register(
  h: Harness,
  options: { number?: string; registrationId?: number; registrationLockToken?: Uint8Array } = {},
): Promise<TestDevice> {
  const number = options.number ?? freshNumber();
  const ip = freshIp();
  const sent = await requestCode(h, number, ip);
  if (sent.statusCode !== 202) throw new Error(`code request failed: ${sent.body}`);
  const registrationId = options.registrationId ?? 1 + Math.floor(Math.random() * 16000);
  const identityKey = ecKey();
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    remoteAddress: ip,
    payload: {
      number,
      code: h.sms.codeFor(number),
      registrationId,
      identityKey: b64(identityKey),
      ...(options.registrationLockToken === undefined
        ? {}
        : { registrationLockToken: b64(options.registrationLockToken) }),
    },
  });
  if (res.statusCode !== 200) throw new Error(`registration failed: ${res.body}`);
  const body = res.json<{ accountId: string; deviceId: number; credential: string }>();
  const credential = fromBase64Url(body.credential);
  return {
    accountId: body.accountId,
    deviceId: body.deviceId,
    credential,
    registrationId,
    number,
    identityKey,
    authorization: formatAuthorization({
      accountId: body.accountId,
      deviceId: body.deviceId,
      credential,
    }),
  };
}

export async function linkDevice(
  h: Harness,
  primary: TestDevice,
  registrationId = 4321,
): Promise<TestDevice> {
  const codeRes = await h.app.inject({
    method: 'POST',
    url: '/v1/devices/provisioning-code',
    headers: { authorization: primary.authorization },
  });
  if (codeRes.statusCode !== 200) throw new Error(`provisioning failed: ${codeRes.body}`);
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/devices/link',
    remoteAddress: freshIp(),
    payload: { provisioningCode: codeRes.json<{ code: string }>().code, registrationId },
  });
  if (res.statusCode !== 200) throw new Error(`link failed: ${res.body}`);
  const body = res.json<{ accountId: string; deviceId: number; credential: string }>();
  const credential = fromBase64Url(body.credential);
  return {
    ...primary,
    deviceId: body.deviceId,
    credential,
    registrationId,
    authorization: formatAuthorization({
      accountId: body.accountId,
      deviceId: body.deviceId,
      credential,
    }),
  };
}

export function authed(device: TestDevice, extra: Record<string, string> = {}) {
  return { authorization: device.authorization, ...extra };
}

export async function uploadKeys(h: Harness, d: TestDevice, ec = 2, kyber = 2): Promise<void> {
  const res = await h.app.inject({
    method: 'PUT',
    url: '/v1/keys',
    headers: authed(d),
    payload: {
      signedPreKey: { keyId: 1, publicKey: b64(ecKey()), signature: b64(randomBytes(64)) },
      lastResortKyberPreKey: {
        keyId: 2,
        publicKey: b64(kyberKey()),
        signature: b64(randomBytes(64)),
      },
      preKeys: Array.from({ length: ec }, (_, i) => ({ keyId: 10 + i, publicKey: b64(ecKey()) })),
      kyberPreKeys: Array.from({ length: kyber }, (_, i) => ({
        keyId: 20 + i,
        publicKey: b64(kyberKey()),
        signature: b64(randomBytes(64)),
      })),
    },
  });
  if (res.statusCode !== 204) throw new Error(`key upload failed: ${res.body}`);
}

// ---- WebSocket client ------------------------------------------------------------------------

export class TestSocket {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];
  private nextRequestId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeServerFrame(new Uint8Array(data)));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  requestId(): number {
    return this.nextRequestId++;
  }

  sendFrame(frame: ClientFrame): void {
    this.ws.send(encodeClientFrame(frame));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Waits until a frame matching `pred` arrived (and removes it from the buffer). */
  async next<T extends ServerFrame>(
    pred: (f: ServerFrame) => f is T,
    timeoutMs?: number,
  ): Promise<T>;
  async next(pred?: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  async next(
    pred: (f: ServerFrame) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async closed(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closeCode;
  }

  /** Sends one envelope per device; resolves with the SEND_RESULT or ERROR answering it. */
  async send(
    recipient: string,
    envelopes: {
      deviceId: number;
      registrationId: number;
      content: Uint8Array;
      type?: EnvelopeType;
    }[],
    clientMessageId: Uint8Array = randomBytes(16),
  ): Promise<Extract<ServerFrame, { type: 'send-result' | 'error' }>> {
    const requestId = this.requestId();
    this.sendFrame({
      type: 'send',
      requestId,
      clientMessageId,
      recipient,
      envelopes: envelopes.map((e) => ({ ...e, type: e.type ?? 1 })),
    });
    return this.next(
      (f): f is Extract<ServerFrame, { type: 'send-result' | 'error' }> =>
        (f.type === 'send-result' || f.type === 'error') && f.requestId === requestId,
    );
  }

  close(): void {
    this.ws.close();
  }
}

export async function connect(h: Harness, d: TestDevice): Promise<TestSocket> {
  let socket: TestSocket | undefined;
  await h.app.injectWS(
    '/v1/websocket',
    { headers: { authorization: d.authorization } },
    { onInit: (ws) => (socket = new TestSocket(ws)) },
  );
  return socket!;
}

export function isEnvelope(f: ServerFrame): f is Extract<ServerFrame, { type: 'envelope' }> {
  return f.type === 'envelope';
}
export function isQueueEmpty(f: ServerFrame): f is Extract<ServerFrame, { type: 'queue-empty' }> {
  return f.type === 'queue-empty';
}

/** The error body of every refused request, as tests read it. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Readonly<Record<string, number>>;
  };
}
