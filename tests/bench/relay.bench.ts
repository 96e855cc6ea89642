/**
 * `npm run bench:relay` — the real relay process (apps/server, SQLite in WAL mode with
 * synchronous=FULL and group commit: the durability it ships with) against a floor measured in the
 * same run: tests/bench/floor-relay.ts, an in-memory WebSocket relay with the same frames and no
 * authentication, storage or checks.
 *
 * Load: BENCH_CLIENTS connected accounts (default 200), registered over HTTP, each sending
 * BENCH_MESSAGES envelopes (default 50) of 256 bytes to random other accounts with at most
 * BENCH_WINDOW sends in flight (default 8), all over loopback WebSockets. Recipients acknowledge
 * every envelope, batched per event-loop turn as a client storing its inbox would. This process is
 * the load generator; the relay runs in its own process, so its CPU is its own (the generator is
 * kept lean: hand-rolled frame parsing on the receive path, no per-message crypto).
 *
 * Measured per relay: delivered messages per second (first send → last delivery), latency from
 * send to delivery at the recipient (p50, p99), lost (acknowledged to the sender, never delivered:
 * must be 0), duplicate deliveries, CPU time of the relay process per message (/proc/<pid>/stat)
 * and of this generator, and the relay's memory (VmHWM peak and VmRSS from /proc).
 * A short unmeasured warm-up runs first on each, then BENCH_ROUNDS (default 3) measured rounds
 * alternate between the two relays, so load from elsewhere on the machine hits both alike; the
 * median round of each is reported. Ends with
 * `bench:relay msgs_per_s=<n> p99_ms=<n> floor_ratio=<x> lost=<n>` (Sotto's figures; the ratio is
 * Sotto's msgs/s ÷ the floor's). BENCH_PROFILE=1 runs the relay with `--cpu-prof` (profile written
 * to the data directory's parent on exit, path printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  ENVELOPE_TYPES,
  FRAME_TYPES,
  FRAME_VERSION,
  MAX_ACKS_PER_FRAME,
  encodeClientFrame,
} from '@sotto/api';
import { registerAccount, testNumber } from '../e2e/support/relay-client.js';
import { processCpuMs, processMemoryKb, spawnRelay } from '@sotto/server-app/testing';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 200);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 50);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 8);
/** Measured rounds per relay, alternating Sotto and the floor; medians are reported. */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const PROFILE = process.env['BENCH_PROFILE'] === '1';
const WARMUP_MESSAGES = Math.min(25, MESSAGES);
const CONTENT_BYTES = 256;
/** ENVELOPE frame: version, type, guid 16, timestamp 8, source 16, device 2, type 1, length 4. */
const ENVELOPE_CONTENT_OFFSET = 2 + 16 + 8 + 16 + 2 + 1 + 4;
/** Stop waiting for deliveries after this long without one. */
const QUIET_MS = 10_000;
const FLOOR_MAIN = fileURLToPath(new URL('./floor-relay.ts', import.meta.url));

interface Account {
  readonly accountId: string;
  readonly registrationId: number;
  readonly authorization: string;
}

interface Target {
  readonly name: string;
  readonly wsUrl: string;
  headers(a: Account): Record<string, string>;
}

interface LoadResult {
  readonly sent: number;
  readonly acked: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly msgsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time the relay process used per delivered message (µs), NaN if unknown. */
  readonly relayCpuUsPerMsg: number;
  /** CPU time this load generator used per delivered message (µs). */
  readonly generatorCpuUsPerMsg: number;
}

/** A 16-byte client message id prefix for this run; the rest is sender and sequence. */
const RUN_ID = randomBytes(8);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One bench client: a socket, a send window, and batched acknowledgements. */
class Client {
  ws!: WebSocket;
  next = 0;
  inFlight = 0;
  private readonly content = new Uint8Array(CONTENT_BYTES);
  private readonly contentView = new DataView(this.content.buffer);
  private readonly cmid = new Uint8Array(16);
  private readonly cmidView = new DataView(this.cmid.buffer);
  private readonly ackFrame = new Uint8Array(4 + 16 * MAX_ACKS_PER_FRAME);
  private acks = 0;
  private ackScheduled = false;
  private readonly flushAcks = () => this.sendAcks();

  constructor(
    readonly index: number,
    readonly account: Account,
  ) {
    randomBytes(CONTENT_BYTES).copy(this.content);
    this.cmid.set(RUN_ID, 0);
    this.ackFrame[0] = FRAME_VERSION;
    this.ackFrame[1] = FRAME_TYPES.ack;
  }

  /** Sends message `seq` to `recipient`, stamped with the send time. */
  send(seq: number, recipient: Account, base: number): void {
    const v = this.contentView;
    v.setUint32(0, this.index);
    v.setUint32(4, base + seq);
    v.setFloat64(8, performance.now());
    this.cmidView.setUint32(8, this.index);
    this.cmidView.setUint32(12, base + seq);
    this.inFlight++;
    this.ws.send(
      encodeClientFrame({
        type: 'send',
        requestId: base + seq + 1,
        clientMessageId: this.cmid,
        recipient: recipient.accountId,
        envelopes: [
          {
            deviceId: 1,
            registrationId: recipient.registrationId,
            type: ENVELOPE_TYPES.ciphertext,
            content: this.content,
          },
        ],
      }),
    );
  }

  /** Queues a delivered envelope's GUID (16 bytes at `offset`) for the next ACK frame. */
  ack(frame: Buffer): void {
    frame.copy(this.ackFrame, 4 + 16 * this.acks, 2, 18);
    if (++this.acks === MAX_ACKS_PER_FRAME) this.sendAcks();
    else if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(this.flushAcks);
    }
  }

  private sendAcks(): void {
    this.ackScheduled = false;
    if (this.acks === 0 || this.ws.readyState !== WebSocket.OPEN) return;
    this.ackFrame[2] = this.acks >> 8;
    this.ackFrame[3] = this.acks & 0xff;
    this.ws.send(this.ackFrame.slice(0, 4 + 16 * this.acks));
    this.acks = 0;
  }
}

/** Opens every client's socket and waits for its QUEUE_EMPTY. */
async function connect(target: Target, accounts: readonly Account[]): Promise<Client[]> {
  const clients = accounts.map((a, i) => new Client(i, a));
  const opening = 25;
  for (let i = 0; i < clients.length; i += opening) {
    await Promise.all(
      clients.slice(i, i + opening).map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(target.wsUrl, {
              headers: target.headers(c.account),
              perMessageDeflate: false,
            });
            c.ws = ws;
            const onFirst = (data: Buffer) => {
              if (data[1] === FRAME_TYPES.queueEmpty) {
                ws.off('message', onFirst);
                resolve();
              }
            };
            ws.on('message', onFirst);
            ws.once('error', reject);
            ws.once('unexpected-response', (_req, res) =>
              reject(new Error(`${target.name}: upgrade refused (${res.statusCode})`)),
            );
          }),
      ),
    );
  }
  return clients;
}

/** Runs `perClient` messages from every client; `base` keeps sequence numbers unique per run. */
async function runLoad(
  clients: readonly Client[],
  perClient: number,
  base: number,
  relayPid?: number,
): Promise<LoadResult> {
  const n = clients.length;
  const total = n * perClient;
  const acked = new Uint8Array(total);
  const delivered = new Uint8Array(total);
  const latencies = new Float64Array(total);
  let latencyCount = 0;
  let ackedCount = 0;
  let deliveredCount = 0;
  let duplicates = 0;
  let sent = 0;
  let lastDelivery = performance.now();
  const errors: Record<string, number> = {};
  let finishedSenders = 0;
  let resolveSent!: () => void;
  const allSent = new Promise<void>((r) => (resolveSent = r));

  const pump = (c: Client) => {
    while (c.inFlight < WINDOW && c.next < perClient) {
      let to = Math.floor(Math.random() * (n - 1));
      if (to >= c.index) to++;
      c.send(c.next++, clients[to]!.account, base);
      sent++;
    }
    if (c.next >= perClient && c.inFlight === 0 && ++finishedSenders === n) resolveSent();
  };

  for (const c of clients) {
    c.next = 0;
    c.inFlight = 0;
    c.ws.removeAllListeners('message');
    c.ws.on('message', (data: Buffer) => {
      const type = data[1];
      if (type === FRAME_TYPES.envelope) {
        const sender = data.readUInt32BE(ENVELOPE_CONTENT_OFFSET);
        const seq = data.readUInt32BE(ENVELOPE_CONTENT_OFFSET + 4) - base;
        const at = data.readDoubleBE(ENVELOPE_CONTENT_OFFSET + 8);
        c.ack(data);
        if (seq < 0 || seq >= perClient) return; // a leftover of an earlier phase
        const k = sender * perClient + seq;
        if (delivered[k] === 1) {
          duplicates++;
          return;
        }
        delivered[k] = 1;
        deliveredCount++;
        lastDelivery = performance.now();
        latencies[latencyCount++] = lastDelivery - at;
      } else if (type === FRAME_TYPES.sendResult || type === FRAME_TYPES.error) {
        const seq = data.readUInt32BE(2) - 1 - base;
        if (type === FRAME_TYPES.sendResult) {
          acked[c.index * perClient + seq] = 1;
          ackedCount++;
        } else {
          const code = data.subarray(9, 9 + data[8]!).toString('latin1');
          errors[code] = (errors[code] ?? 0) + 1;
        }
        c.inFlight--;
        pump(c);
      }
    });
  }

  const cpuBefore = relayPid === undefined ? undefined : await processCpuMs(relayPid);
  const generatorCpu = process.cpuUsage();
  const start = performance.now();
  for (const c of clients) pump(c);
  await allSent;
  // Wait for every acknowledged message, or for QUIET_MS without a delivery.
  await new Promise<void>((resolve) => {
    const check = () => {
      if (deliveredCount >= ackedCount || performance.now() - lastDelivery > QUIET_MS) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  const generatorUs = process.cpuUsage(generatorCpu);
  const cpuAfter = relayPid === undefined ? undefined : await processCpuMs(relayPid);
  let lost = 0;
  for (let k = 0; k < total; k++) if (acked[k] === 1 && delivered[k] === 0) lost++;
  const seconds = (lastDelivery - start) / 1000;
  const sorted = latencies.slice(0, latencyCount).sort();
  return {
    sent,
    acked: ackedCount,
    delivered: deliveredCount,
    lost,
    duplicates,
    errors,
    seconds,
    msgsPerSecond: deliveredCount / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    relayCpuUsPerMsg:
      cpuBefore === undefined || cpuAfter === undefined
        ? NaN
        : ((cpuAfter - cpuBefore) * 1000) / deliveredCount,
    generatorCpuUsPerMsg: (generatorUs.user + generatorUs.system) / deliveredCount,
  };
}

async function closeAll(clients: readonly Client[]): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close();
        }),
    ),
  );
}

/** Registers `count` accounts over HTTP, a few at a time. */
async function registerAll(
  url: string,
  codeFor: (n: string) => Promise<string>,
  count: number,
): Promise<Account[]> {
  const accounts: Account[] = new Array<Account>(count);
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = nextIndex++; i < count; i = nextIndex++) {
        accounts[i] = await registerAccount(url, testNumber(i), codeFor);
      }
    }),
  );
  return accounts;
}

function mb(kb: number | undefined): string {
  return kb === undefined || Number.isNaN(kb) ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`;
}

function describe(name: string, r: LoadResult, mem: { hwmKb: number; rssKb: number } | undefined) {
  const errs = Object.entries(r.errors)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  console.log(
    `  ${name.padEnd(38)} ${r.msgsPerSecond.toFixed(0).padStart(7)} msgs/s  ` +
      `p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  p99 ${r.p99Ms.toFixed(1).padStart(7)} ms  ` +
      `delivered ${r.delivered}/${r.acked} acked (${r.sent} sent) in ${r.seconds.toFixed(2)} s  ` +
      `lost ${r.lost}  dup ${r.duplicates}  relay CPU ${r.relayCpuUsPerMsg.toFixed(0)} µs/msg  ` +
      `generator CPU ${r.generatorCpuUsPerMsg.toFixed(0)} µs/msg  ` +
      `rss ${mb(mem?.rssKb)} (peak ${mb(mem?.hwmKb)})${errs.length > 0 ? `  errors ${errs}` : ''}`,
  );
}

/** Starts the floor relay process and waits for its readiness line. */
function spawnFloor(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--conditions=sotto-source', '--import', 'tsx', FLOOR_MAIN],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('floor relay ready'));
      if (line !== undefined) resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`floor relay exited (${code})`)));
  });
}

function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median round (by msgs/s) with the losses, duplicates and errors of all rounds. */
function summarise(rounds: readonly LoadResult[]): LoadResult {
  const m = median(rounds.map((r) => r.msgsPerSecond));
  const mid = rounds.find((r) => r.msgsPerSecond === m) ?? rounds[0]!;
  const errors: Record<string, number> = {};
  for (const r of rounds)
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    ...mid,
    msgsPerSecond: m,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    relayCpuUsPerMsg: median(rounds.map((r) => r.relayCpuUsPerMsg)),
    generatorCpuUsPerMsg: median(rounds.map((r) => r.generatorCpuUsPerMsg)),
    lost: rounds.reduce((n, r) => n + r.lost, 0),
    duplicates: rounds.reduce((n, r) => n + r.duplicates, 0),
    errors,
  };
}

async function main(): Promise<void> {
  if (CLIENTS < 2 || MESSAGES < 1 || WINDOW < 1 || ROUNDS < 1) {
    throw new Error('need ≥2 clients, ≥1 message, a window and a round');
  }
  console.log(
    `bench:relay — ${CLIENTS} clients × ${MESSAGES} messages of ${CONTENT_BYTES} bytes, ` +
      `window ${WINDOW}, ${ROUNDS} rounds each (alternating, medians), loopback WebSockets, ` +
      `load generator in its own process`,
  );

  const workDir = mkdtempSync(join(tmpdir(), 'sotto-bench-'));
  const relay = await spawnRelay(
    {
      SOTTO_DATA_DIR: join(workDir, 'data'),
      SOTTO_SMS: 'console',
      SOTTO_UNLIMITED_ADDRESSES: '127.0.0.1',
    },
    PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${workDir}`] } : {},
  );
  const floor = await spawnFloor();
  try {
    const t = performance.now();
    const accounts = await registerAll(relay.url, relay.codeFor, CLIENTS);
    console.log(
      `  registered ${CLIENTS} accounts in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const sottoClients = await connect(
      {
        name: 'sotto',
        wsUrl: `${relay.url.replace(/^http/, 'ws')}/v1/websocket`,
        headers: (a) => ({ authorization: a.authorization }),
      },
      accounts,
    );
    const floorClients = await connect(
      {
        name: 'floor',
        wsUrl: `ws://127.0.0.1:${floor.port}/v1/websocket`,
        headers: (a) => ({ 'x-sotto-account': a.accountId }),
      },
      accounts,
    );
    await runLoad(sottoClients, WARMUP_MESSAGES, 0);
    await runLoad(floorClients, WARMUP_MESSAGES, 0);
    const sottoRounds: LoadResult[] = [];
    const floorRounds: LoadResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const base = round * 1_000_000;
      sottoRounds.push(await runLoad(sottoClients, MESSAGES, base, relay.pid));
      floorRounds.push(await runLoad(floorClients, MESSAGES, base, floor.child.pid));
    }
    const sottoMem = await processMemoryKb(relay.pid);
    const floorMem = await processMemoryKb(floor.child.pid!);
    await closeAll(sottoClients);
    await closeAll(floorClients);
    const exit = await relay.stop('SIGTERM');
    if (exit !== 0) throw new Error(`relay exited with ${String(exit)}: ${relay.stderr()}`);
    if (PROFILE) console.log(`  cpu profile written under ${workDir}`);

    for (const [i, r] of sottoRounds.entries()) {
      console.log(
        `  round ${i + 1}: sotto ${r.msgsPerSecond.toFixed(0)} msgs/s ` +
          `(${r.relayCpuUsPerMsg.toFixed(0)} µs relay CPU/msg), ` +
          `floor ${floorRounds[i]!.msgsPerSecond.toFixed(0)} msgs/s ` +
          `(${floorRounds[i]!.relayCpuUsPerMsg.toFixed(0)} µs relay CPU/msg)`,
      );
    }
    const sotto = summarise(sottoRounds);
    const floorResult = summarise(floorRounds);
    describe('sotto (SQLite WAL, synchronous=FULL)', sotto, sottoMem);
    describe('floor (in-memory ws relay)', floorResult, floorMem);
    const ratio = sotto.msgsPerSecond / floorResult.msgsPerSecond;
    console.log(
      `bench:relay msgs_per_s=${sotto.msgsPerSecond.toFixed(0)} p99_ms=${sotto.p99Ms.toFixed(1)} ` +
        `floor_ratio=${ratio.toFixed(2)} lost=${sotto.lost}`,
    );
    if (sotto.lost > 0 || floorResult.lost > 0) process.exitCode = 1;
  } finally {
    floor.child.kill('SIGTERM');
    await relay.stop('SIGKILL');
    if (!PROFILE) rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
