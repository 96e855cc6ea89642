/**
 * A file-backed `ClientStore` for the process-crash test only: an in-memory store whose committed
 * transactions are appended to a log file (length ‖ SHA-256 prefix ‖ operations) before they
 * apply. Opening replays the log up to the first torn or corrupt record (what SIGKILL in the middle
 * of a write leaves) and cuts the file there. No encryption, no compaction: not for real devices.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ClientStore, ClientStoreTransaction } from '@sotto/client';
import { createMemoryClientStore } from '@sotto/client/testing';

type Op = readonly [ns: string, key: string, value: Uint8Array | null];

const enc = new TextEncoder();
const dec = new TextDecoder();

function encodeOps(ops: readonly Op[]): Buffer {
  const parts: Buffer[] = [];
  for (const [ns, key, value] of ops) {
    const n = Buffer.from(enc.encode(ns));
    const k = Buffer.from(enc.encode(key));
    const head = Buffer.alloc(1 + 2 + 2 + 4);
    head[0] = value === null ? 2 : 1;
    head.writeUInt16BE(n.length, 1);
    head.writeUInt16BE(k.length, 3);
    head.writeUInt32BE(value?.length ?? 0, 5);
    parts.push(head, n, k, Buffer.from(value ?? new Uint8Array(0)));
  }
  const body = Buffer.concat(parts);
  const frame = Buffer.alloc(4 + 8);
  frame.writeUInt32BE(body.length, 0);
  createHash('sha256').update(body).digest().copy(frame, 4, 0, 8);
  return Buffer.concat([frame, body]);
}

function decodeOps(body: Buffer): Op[] {
  const ops: Op[] = [];
  let o = 0;
  while (o < body.length) {
    const kind = body[o]!;
    const nl = body.readUInt16BE(o + 1);
    const kl = body.readUInt16BE(o + 3);
    const vl = body.readUInt32BE(o + 5);
    o += 9;
    const ns = dec.decode(body.subarray(o, o + nl));
    const key = dec.decode(body.subarray(o + nl, o + nl + kl));
    o += nl + kl;
    ops.push([ns, key, kind === 2 ? null : new Uint8Array(body.subarray(o, o + vl))]);
    o += vl;
  }
  return ops;
}

export async function openFileLogStore(path: string): Promise<ClientStore> {
  const memory = createMemoryClientStore();
  let good = 0;
  if (existsSync(path)) {
    const data = readFileSync(path);
    while (good + 12 <= data.length) {
      const len = data.readUInt32BE(good);
      if (good + 12 + len > data.length) break;
      const body = data.subarray(good + 12, good + 12 + len);
      const sum = createHash('sha256').update(body).digest().subarray(0, 8);
      if (!sum.equals(data.subarray(good + 4, good + 12))) break;
      const ops = decodeOps(body);
      await memory.transaction(async (tx) => {
        for (const [ns, key, value] of ops) {
          if (value === null) await tx.delete(ns, key);
          else await tx.put(ns, key, value);
        }
      });
      good += 12 + len;
    }
  }
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  ftruncateSync(fd, good);
  let position = good;

  const transaction = <T>(fn: (tx: ClientStoreTransaction) => Promise<T>): Promise<T> =>
    memory.transaction(async (tx) => {
      const ops: Op[] = [];
      const result = await fn({
        get: (ns, key) => tx.get(ns, key),
        list: (ns) => tx.list(ns),
        put: async (ns, key, value) => {
          ops.push([ns, key, value.slice()]);
          await tx.put(ns, key, value);
        },
        delete: async (ns, key) => {
          ops.push([ns, key, null]);
          await tx.delete(ns, key);
        },
      });
      if (ops.length > 0) {
        const record = encodeOps(ops);
        writeSync(fd, record, 0, record.length, position);
        position += record.length;
      }
      return result;
    });

  return {
    get: (ns, key) => memory.get(ns, key),
    list: (ns) => memory.list(ns),
    put: (ns, key, value) => transaction((tx) => tx.put(ns, key, value)),
    delete: (ns, key) => transaction((tx) => tx.delete(ns, key)),
    transaction,
    close: async () => {
      await memory.close();
      closeSync(fd);
    },
  };
}
