/**
 * The receiver process of client-crash.slow.test.ts: opens the client over a file-backed store,
 * connects, and prints `MSG <author>/<id>` for every message event. With DROP_ACKS=1 its
 * acknowledgements never reach the relay. It runs until it is killed.
 */
import WebSocket from 'ws';
import { createClient } from '@sotto/client';
import { openFileLogStore } from './client-file-store.js';

const store = await openFileLogStore(process.env.STORE_PATH!);
const dropAcks = process.env.DROP_ACKS === '1';
const client = await createClient({
  serverUrl: process.env.SERVER_URL!,
  store,
  webSocketFactory: (url, o) => {
    const ws = new WebSocket(url, { headers: { ...o.headers } });
    if (dropAcks) {
      const send = ws.send.bind(ws);
      ws.send = ((data: Uint8Array, ...rest: unknown[]) => {
        if (data[1] === 0x02) return; // ACK frames
        (send as (...a: unknown[]) => void)(data, ...rest);
      }) as typeof ws.send;
    }
    return ws;
  },
});
client.on('message', (e) => process.stdout.write(`MSG ${e.message.author}/${e.message.id}\n`));
await client.connect();
process.stdout.write('READY\n');
setInterval(() => undefined, 1 << 30);
