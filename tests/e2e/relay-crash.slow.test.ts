// The durability contract of ARCHITECTURE.md against a real relay process: "once the sender got an
// acknowledgement, the envelope survives a server crash (kill -9) until the recipient acknowledges
// it". Test clients registered over HTTP send over real WebSockets with a window of sends in
// flight; the relay is killed with SIGKILL at a random point, restarted on the same data directory,
// and the clients carry on as a real client would (resend what was not acknowledged with the same
// client message id, drain, acknowledge). After several kills and a clean final stop:
//   - every message is delivered, under exactly one GUID (nothing lost, nothing stored twice —
//     a resend after a crash is recognised as a duplicate);
//   - a GUID whose acknowledgement was committed (seen deleted by a reader of the database) is
//     never delivered again, and no connection delivers a GUID twice;
//   - every delivery carries the bytes, sender and recipient that were sent;
//   - after a clean stop nothing is left in any mailbox, and the audit chain verifies.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_TYPES } from '@sotto/api';
import { verifyAuditLog } from '@sotto/server';
import { openSqliteStorage } from '@sotto/storage-sqlite';
import {
  RelaySocket,
  registerAccount,
  testNumber,
  until,
  type RegisteredDevice,
} from './support/relay-client.js';
import { spawnRelay, type RelayProcess } from '@sotto/server-app/testing';

const ACCOUNTS = 6;
/** Sends in flight per sender, as a client with a small outbox window. */
const WINDOW = 8;
/** New messages per sender per relay lifetime: well inside the per-account send burst. */
const QUOTA = 200;
/** Kill points: after this many sends acknowledged in the lifetime (early, middle, late, random). */
const KILL_AFTER = [randomInt(1, 15), randomInt(60, 300), randomInt(500, 900), randomInt(1, 1000)];
const CONTENT_BYTES = 96;

interface Message {
  readonly id: number;
  readonly sender: number;
  readonly recipient: number;
  readonly clientMessageId: Uint8Array;
  readonly content: Uint8Array;
  acked: boolean;
  inFlight: boolean;
}

interface Delivery {
  readonly guid: string;
  readonly messageId: number;
  readonly lifetime: number;
}

describe('relay crash (SIGKILL while sends are in flight)', () => {
  let dataDir: string;
  let relay: RelayProcess | null = null;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sotto-crash-'));
  });
  afterAll(async () => {
    await relay?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`delivers every acknowledged message exactly once across kills after ${KILL_AFTER.join(', ')} acknowledged sends`, async () => {
    const env = {
      SOTTO_DATA_DIR: dataDir,
      SOTTO_SMS: 'console',
      SOTTO_UNLIMITED_ADDRESSES: '127.0.0.1',
    };
    const dbPath = join(dataDir, 'sotto.sqlite');
    const messages: Message[] = [];
    const deliveries: Delivery[] = [];
    /** GUID → the lifetime in which its deletion was seen committed. */
    const confirmedAck = new Map<string, number>();
    /** GUIDs the recipients acknowledged (sent an ACK for), in any lifetime. */
    const ackSent = new Set<string>();
    const failures: string[] = [];

    relay = await spawnRelay(env);
    const accounts: RegisteredDevice[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      accounts.push(await registerAccount(relay.url, testNumber(100 + i), relay.codeFor));
    }
    const indexOf = new Map(accounts.map((a, i) => [a.accountId, i]));

    /** Connects every account; recipients record deliveries and acknowledge in batches. */
    async function connectAll(r: RelayProcess, lifetime: number): Promise<RelaySocket[]> {
      return Promise.all(
        accounts.map((a, recipient) => {
          let pending: string[] = [];
          return RelaySocket.open(r.url, a.authorization, (e, socket) => {
            const messageId = new DataView(e.content.buffer, e.content.byteOffset).getUint32(0);
            const m = messages[messageId];
            if (m === undefined) {
              failures.push(`unknown message ${messageId} delivered`);
              return;
            }
            if (
              m.recipient !== recipient ||
              indexOf.get(e.sourceAccountId) !== m.sender ||
              e.sourceDeviceId !== 1 ||
              !Buffer.from(e.content).equals(m.content)
            ) {
              failures.push(`message ${messageId} arrived altered or misaddressed`);
            }
            deliveries.push({ guid: e.guid, messageId, lifetime });
            // Acknowledge in batches, as a client that stored the message would.
            if (pending.length === 0) {
              setImmediate(() => {
                const guids = pending;
                pending = [];
                for (const g of guids) ackSent.add(g);
                socket.ack(guids);
              });
            }
            pending.push(e.guid);
          });
        }),
      );
    }

    function newMessage(sender: number): Message {
      let recipient = randomInt(0, ACCOUNTS - 1);
      if (recipient >= sender) recipient++;
      const id = messages.length;
      const content = randomBytes(CONTENT_BYTES);
      new DataView(content.buffer, content.byteOffset).setUint32(0, id);
      const m: Message = {
        id,
        sender,
        recipient,
        clientMessageId: randomBytes(16),
        content,
        acked: false,
        inFlight: false,
      };
      messages.push(m);
      return m;
    }

    async function sendOnce(sockets: RelaySocket[], m: Message): Promise<void> {
      const to = accounts[m.recipient]!;
      m.inFlight = true;
      const answer = await sockets[m.sender]!.send(
        to.accountId,
        [
          {
            deviceId: 1,
            registrationId: to.registrationId,
            type: ENVELOPE_TYPES.ciphertext,
            content: m.content,
          },
        ],
        m.clientMessageId,
      );
      m.inFlight = false;
      if (answer.type === 'send-result') m.acked = true;
      else if (answer.code !== 'SERVICE_UNAVAILABLE') {
        failures.push(`send of message ${m.id} refused: ${answer.code}`);
      }
    }

    /** Reads, from outside the relay, which acknowledged GUIDs are committed as deleted. */
    function confirmAcks(lifetime: number): void {
      const candidates = [...ackSent].filter((g) => !confirmedAck.has(g));
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        const present = new Set<string>();
        for (let i = 0; i < candidates.length; i += 500) {
          const part = candidates.slice(i, i + 500);
          const rows = db
            .prepare(`select guid from envelopes where guid in (${part.map(() => '?').join(',')})`)
            .all(...part) as { guid: string }[];
          for (const r of rows) present.add(r.guid);
        }
        for (const g of candidates) if (!present.has(g)) confirmedAck.set(g, lifetime);
      } finally {
        db.close();
      }
    }

    // ---- lifetimes that end in SIGKILL ---------------------------------------------------------
    for (let lifetime = 0; lifetime < KILL_AFTER.length; lifetime++) {
      if (lifetime > 0) relay = await spawnRelay(env);
      const r = relay;
      const sockets = await connectAll(r, lifetime);
      let ackedHere = 0;
      let killed = false;
      let inFlightAtKill = 0;
      let resolveKillPoint!: () => void;
      const killPoint = new Promise<void>((resolve) => (resolveKillPoint = resolve));
      const target = KILL_AFTER[lifetime]!;

      const senders = accounts.map(async (_a, sender) => {
        // A real client first resends what it never saw acknowledged, with the same message id.
        const queue = messages.filter((m) => m.sender === sender && !m.acked);
        let fresh = 0;
        const next = (): Message | undefined => {
          if (killed) return undefined;
          const retry = queue.shift();
          if (retry !== undefined) return retry;
          if (fresh >= QUOTA) return undefined;
          fresh++;
          return newMessage(sender);
        };
        await Promise.all(
          Array.from({ length: WINDOW }, async () => {
            for (let m = next(); m !== undefined; m = next()) {
              await sendOnce(sockets, m);
              if (m.acked && ++ackedHere >= target) resolveKillPoint();
            }
          }),
        );
      });
      const allSent = Promise.all(senders).then(() => resolveKillPoint());
      await killPoint;
      // Snapshot what is known committed, then kill at once, mid-flight.
      confirmAcks(lifetime);
      inFlightAtKill = messages.filter((m) => m.inFlight).length;
      killed = true;
      expect(await r.stop('SIGKILL')).toBe('SIGKILL');
      await allSent;
      await until(() => (sockets.every((s) => s.closed) ? true : undefined), 'sockets to close');
      expect(inFlightAtKill, `sends in flight at kill ${lifetime}`).toBeGreaterThan(0);
    }

    // ---- the final lifetime: resend until everything is acknowledged, drain, stop cleanly -------
    const finalLifetime = KILL_AFTER.length;
    relay = await spawnRelay(env);
    const sockets = await connectAll(relay, finalLifetime);
    for (let attempt = 0; messages.some((m) => !m.acked); attempt++) {
      expect(attempt, 'resends needed').toBeLessThan(5);
      await Promise.all(messages.filter((m) => !m.acked).map((m) => sendOnce(sockets, m)));
    }
    const delivered = () => new Set(deliveries.map((d) => d.messageId)).size;
    // Wait until everything arrived, or nothing more arrived for a while (then the verdict below
    // names what was lost).
    let seen = -1;
    let quietSince = Date.now();
    await until(
      () => {
        const n = delivered();
        if (n === messages.length) return true;
        if (n !== seen) [seen, quietSince] = [n, Date.now()];
        return Date.now() - quietSince > 5000 ? true : undefined;
      },
      'deliveries to settle',
      60_000,
    );
    await new Promise((r) => setImmediate(r));
    // The PING answer proves the relay read every ACK; SIGTERM commits queued writes.
    await Promise.all(sockets.map((s) => s.ping()));
    expect(await relay.stop('SIGTERM')).toBe(0);

    // ---- a clean restart finds every mailbox empty ----------------------------------------------
    relay = await spawnRelay(env);
    const after = await Promise.all(
      accounts.map((a) => RelaySocket.open(relay!.url, a.authorization)),
    );
    await Promise.all(after.map((s) => s.waitQueueEmpty()));
    expect(after.flatMap((s) => s.envelopes).map((e) => e.guid)).toEqual([]);
    expect(await relay.stop('SIGTERM')).toBe(0);

    // ---- the verdict ----------------------------------------------------------------------------
    expect(failures).toEqual([]);
    expect(messages.length).toBeGreaterThan(KILL_AFTER.length);
    const guidsOf = new Map<number, Set<string>>();
    const perConnection = new Map<string, number>();
    for (const d of deliveries) {
      let set = guidsOf.get(d.messageId);
      if (set === undefined) guidsOf.set(d.messageId, (set = new Set()));
      set.add(d.guid);
      const key = `${d.lifetime}:${d.guid}`;
      perConnection.set(key, (perConnection.get(key) ?? 0) + 1);
    }
    const lost = messages.filter((m) => !guidsOf.has(m.id)).map((m) => m.id);
    expect(lost, 'messages never delivered').toEqual([]);
    const storedTwice = [...guidsOf].filter(([, g]) => g.size !== 1).map(([id]) => id);
    expect(storedTwice, 'messages delivered under two GUIDs').toEqual([]);
    const twiceOnOneConnection = [...perConnection].filter(([, n]) => n > 1).map(([k]) => k);
    expect(twiceOnOneConnection, 'GUIDs pushed twice on one connection').toEqual([]);
    const afterCommittedAck = deliveries.filter((d) => {
      const at = confirmedAck.get(d.guid);
      return at !== undefined && d.lifetime > at;
    });
    expect(afterCommittedAck, 'deliveries after a committed acknowledgement').toEqual([]);
    // Some acknowledgements were committed before kills, so the check above had work to do.
    expect(confirmedAck.size).toBeGreaterThan(0);

    const storage = await openSqliteStorage({ filename: dbPath });
    try {
      expect(await verifyAuditLog(storage)).toMatchObject({ ok: true, rows: ACCOUNTS });
      for (const a of accounts) expect(await storage.mailboxSize(a.accountId, 1)).toBe(0);
    } finally {
      await storage.close();
    }
  }, 240_000);
});
