/**
 * The floor of the relay benchmark (tests/bench/relay.bench.ts): the least a WebSocket relay can do
 * with the same frames (@sotto/api frames.ts, the same codec the real relay uses) — no
 * authentication, no storage, no device-list checks, no rate limits. A socket names its account
 * in the `x-sotto-account` header; a SEND is answered at once and each envelope is pushed to its
 * recipient (or kept in memory until the recipient connects); an ACK forgets envelopes. Mailboxes
 * live in memory only: this process loses everything on a crash, which is exactly what the real
 * relay is measured against.
 *
 * Run: `node --conditions=sotto-source --import tsx tests/bench/floor-relay.ts` (FLOOR_PORT, default
 * 0). Prints `{"msg":"floor relay ready","port":<port>}` once listening; stops on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ApiError,
  decodeClientFrame,
  encodeServerFrame,
  errorFrameOf,
  frameRequestId,
  isUuid,
  MAX_FRAME_BYTES,
} from '@sotto/api';

interface Mailbox {
  socket: WebSocket | null;
  /** guid → encoded ENVELOPE frame, in arrival order. */
  readonly pending: Map<string, Uint8Array>;
}

const mailboxes = new Map<string, Mailbox>();
function mailbox(accountId: string): Mailbox {
  let m = mailboxes.get(accountId);
  if (m === undefined) mailboxes.set(accountId, (m = { socket: null, pending: new Map() }));
  return m;
}

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  server: http,
  path: '/v1/websocket',
  maxPayload: MAX_FRAME_BYTES,
  perMessageDeflate: false,
});

wss.on('connection', (socket, req) => {
  const accountId = req.headers['x-sotto-account'];
  if (typeof accountId !== 'string' || !isUuid(accountId)) {
    socket.close(4400, 'x-sotto-account header needed');
    return;
  }
  const own = mailbox(accountId);
  own.socket?.close(4409, 'displaced');
  own.socket = socket;
  for (const frame of own.pending.values()) socket.send(frame);
  socket.send(encodeServerFrame({ type: 'queue-empty' }));

  socket.on('message', (data: Buffer) => {
    let frame;
    try {
      frame = decodeClientFrame(data);
    } catch (err) {
      const e = ApiError.is(err) ? err : new ApiError('INTERNAL');
      socket.send(encodeServerFrame(errorFrameOf(frameRequestId(data), e)));
      return;
    }
    switch (frame.type) {
      case 'send': {
        const serverTimestamp = Date.now();
        const to = mailbox(frame.recipient);
        for (const e of frame.envelopes) {
          const guid = randomUUID();
          const bytes = encodeServerFrame({
            type: 'envelope',
            guid,
            serverTimestamp,
            sourceAccountId: accountId,
            sourceDeviceId: 1,
            envelopeType: e.type,
            content: e.content,
          });
          to.pending.set(guid, bytes);
          to.socket?.send(bytes);
        }
        socket.send(
          encodeServerFrame({
            type: 'send-result',
            requestId: frame.requestId,
            serverTimestamp,
            duplicate: false,
          }),
        );
        return;
      }
      case 'ack':
        for (const g of frame.guids) own.pending.delete(g);
        return;
      case 'ping':
        socket.send(encodeServerFrame({ type: 'pong', requestId: frame.requestId }));
        return;
    }
  });
  socket.on('close', () => {
    if (own.socket === socket) own.socket = null;
  });
});

http.listen(Number(process.env['FLOOR_PORT'] ?? 0), '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'floor relay ready', port })}\n`);
});

process.on('SIGTERM', () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  http.close(() => process.exit(0));
});
