/**
 * The floor of the relay benchmark (tests/bench/relay.bench.ts): the least a WebSocket relay can do
 * with the same frames (@sotto/api frames.ts, the same codec the real relay uses) — no
 * authentication, no storage, no device-list checks, no rate limits. A socket names its account
 * in the `x-sotto-account` header; a SEND is answered at once and each envelope is pushed to its
 * recipient (or kept in memory until the recipient connects); an ACK forgets envelopes. Mailboxes
 * live in memory only: this process loses everything on a crash, which is exactly what the real
 * relay is measured against. Like the real relay, it corks each TCP socket for the rest of the
 * current tick when it writes, so frames written together leave in one system call: the floor
 * is as lean as a relay can be, not handicapped by one write per frame.
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

/** The TCP socket under a ws WebSocket (`_socket`; not part of ws's typed API). */
type Corkable = { cork(): void; uncork(): void };
const corked = new WeakSet<Corkable>();
function send(ws: WebSocket, bytes: Uint8Array): void {
  const tcp = (ws as unknown as { _socket?: Corkable })._socket;
  if (tcp !== undefined && !corked.has(tcp)) {
    corked.add(tcp);
    tcp.cork();
    process.nextTick(() => {
      corked.delete(tcp);
      tcp.uncork();
    });
  }
  ws.send(bytes);
}
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
  for (const frame of own.pending.values()) send(socket, frame);
  send(socket, encodeServerFrame({ type: 'queue-empty' }));

  socket.on('message', (data: Buffer) => {
    let frame;
    try {
      frame = decodeClientFrame(data);
    } catch (err) {
      const e = ApiError.is(err) ? err : new ApiError('INTERNAL');
      send(socket, encodeServerFrame(errorFrameOf(frameRequestId(data), e)));
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
          if (to.socket !== null) send(to.socket, bytes);
        }
        send(
          socket,
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
        send(socket, encodeServerFrame({ type: 'pong', requestId: frame.requestId }));
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
