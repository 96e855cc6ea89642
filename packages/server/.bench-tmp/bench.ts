import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer, MemoryAttachmentStore } from '@sotto/server';
import { MemorySmsSender } from '@sotto/server/testing';
import { openSqliteStorage } from '/work/main/adapters/storage-sqlite/src/index.ts';
import * as await_api from '@sotto/api';
import {
  decodeServerFrame,
  encodeClientFrame,
  formatAuthorization,
  fromBase64Url,
  toBase64,
} from '@sotto/api';

const N = Number(process.env.N ?? 200);
const MSGS = Number(process.env.MSGS ?? 50);
const WINDOW = 10;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sb-'));
  const storage = await openSqliteStorage({
    filename: join(dir, 'db.sqlite'),
    synchronous: (process.env.SYNC ?? 'FULL') as 'FULL',
  });
  const sms = new MemorySmsSender();
  const stats = {
    sends: 0,
    sendItems: 0,
    sendMs: 0,
    dels: 0,
    delItems: 0,
    delMs: 0,
    getDevices: 0,
  };
  const origStore = storage.storeSends.bind(storage);
  storage.storeSends = async (b, m) => {
    const t = performance.now();
    const r = await origStore(b, m);
    stats.sends++;
    stats.sendItems += b.length;
    stats.sendMs += performance.now() - t;
    return r;
  };
  const origDel = storage.deleteEnvelopes.bind(storage);
  storage.deleteEnvelopes = async (b) => {
    const t = performance.now();
    const r = await origDel(b);
    stats.dels++;
    stats.delItems += b.length;
    stats.delMs += performance.now() - t;
    return r;
  };
  setInterval(() => console.log(JSON.stringify(stats)), 2000).unref();
  const server = await createServer({
    storage,
    sms,
    attachments: new MemoryAttachmentStore(),
    secret: randomBytes(32),
    httpRequestsPerMinute: 1e9,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  let port = (server.app.server.address() as { port: number }).port;
  if (process.env.FLOOR) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const byAcct = new Map<string, WebSocket>();
    wss.on('connection', (ws, req) => {
      const { decodeClientFrame, encodeServerFrame, parseAuthorization } = await_api;
      const acct = parseAuthorization(req.headers.authorization).accountId;
      byAcct.set(acct, ws);
      ws.send(encodeServerFrame({ type: 'queue-empty' }));
      ws.on('message', (data: Buffer) => {
        const f = decodeClientFrame(data);
        if (f.type === 'send') {
          const ts = Date.now();
          ws.send(
            encodeServerFrame({
              type: 'send-result',
              requestId: f.requestId,
              serverTimestamp: ts,
              duplicate: false,
            }),
          );
          for (const e of f.envelopes)
            byAcct.get(f.recipient)?.send(
              encodeServerFrame({
                type: 'envelope',
                guid: crypto.randomUUID(),
                serverTimestamp: ts,
                sourceAccountId: acct,
                sourceDeviceId: 1,
                envelopeType: e.type,
                content: e.content,
              }),
            );
        }
      });
    });
    await new Promise((r) => wss.on('listening', r));
    port = (wss.address() as { port: number }).port;
  }
  const base = `http://127.0.0.1:${port}`;
  const devices: { accountId: string; auth: string; reg: number }[] = [];
  for (let i = 0; i < N; i++) {
    const number = `+1415555${String(1000 + i)}`;
    const ip = `10.0.${i >> 8}.${i & 255}`;
    await server.app.inject({
      method: 'POST',
      url: '/v1/verification/code',
      payload: { number },
      remoteAddress: ip,
    });
    const reg = 1 + i;
    const key = randomBytes(33);
    key[0] = 5;
    const r = await server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      remoteAddress: ip,
      payload: {
        number,
        code: sms.codeFor(number),
        registrationId: reg,
        identityKey: toBase64(key),
      },
    });
    const b = r.json();
    devices.push({
      accountId: b.accountId,
      reg,
      auth: formatAuthorization({
        accountId: b.accountId,
        deviceId: 1,
        credential: fromBase64Url(b.credential),
      }),
    });
  }
  console.log('registered', N);
  const t0 = performance.now();
  let received = 0;
  let acked = 0;
  let t1 = 0;
  const total = N * MSGS;
  await new Promise<void>((resolve) => {
    let open = 0;
    const sockets = devices.map((d, i) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/websocket`, {
        headers: { authorization: d.auth },
      });
      let sent = 0;
      let inflight = 0;
      let rid = 1;
      const target = devices[(i + 1) % N]!;
      const pump = () => {
        while (inflight < WINDOW && sent < MSGS) {
          sent++;
          inflight++;
          ws.send(
            encodeClientFrame({
              type: 'send',
              requestId: rid++,
              clientMessageId: randomBytes(16),
              recipient: target.accountId,
              envelopes: [
                { deviceId: 1, registrationId: target.reg, type: 1, content: randomBytes(200) },
              ],
            }),
          );
        }
      };
      ws.on('message', (data: Buffer) => {
        const f = decodeServerFrame(new Uint8Array(data));
        if (f.type === 'send-result') {
          acked++;
          inflight--;
          pump();
        } else if (f.type === 'envelope') {
          received++;
          ws.send(encodeClientFrame({ type: 'ack', guids: [f.guid] }));
          if (received === total && acked === total) resolve();
        } else if (f.type === 'error') {
          console.log('error', f.code);
        } else if (f.type === 'queue-empty') {
          open++;
          if (open === N) {
            console.log('all open', (performance.now() - t0).toFixed(0));
            t1 = performance.now();
            sockets.forEach((s) => s.emit('go'));
          }
        }
        if (received === total && acked === total) resolve();
      });
      ws.on('go', pump);
      return ws;
    });
  });
  const ms = performance.now() - t1;
  console.log(
    `${process.env.FLOOR ? 'floor' : 'sqlite ' + (process.env.SYNC ?? 'FULL')}: ${total} msgs in ${ms.toFixed(0)} ms = ${((total / ms) * 1000).toFixed(0)} msg/s`,
  );
  process.exit(0);
}
main();
