/**
 * Backup archive throughput (docs/backups.md "Performance"). Creates and restores a synthetic
 * chat history of BACKUP_BENCH_MIB (default 256) MiB of encoded records, compression off and on,
 * next to raw AES-256-GCM of node:crypto over the same plaintext bytes in 1 MiB pieces, measured
 * in the same run. MB = 10^6 bytes of encoded records (the archive body before compression).
 *
 * The history (`syntheticHistory`, seed 7): an account, 50 contacts, 55 conversations, then
 * messages of mostly short text (some accented words, emoji, Cyrillic, CJK), receipts on
 * outgoing messages and 10% attachment pointers: about 200 bytes per record. A 16 MiB pool of
 * messages is replayed until the size is reached, so the benchmark's heap stays small, like a
 * client streaming from its database. Two diagnostic runs follow (not in the final line): the
 * same history with ASCII-only text, and "archive layer only" (60 KiB records, so per-record
 * costs vanish and what remains is chunking, padding, AES-GCM and streaming). Each round also
 * times "UTF-8 alone": TextEncoder/TextDecoder over the same records' strings, one call per string,
 * the work no JavaScript record codec can skip, so the ratio can be read against that ceiling.
 *
 *   node --conditions=sotto-source --import tsx tests/bench/backup.bench.ts
 *
 * Last line: `bench:backup create_mbps=<n> restore_mbps=<n> aes_limit_ratio=<x>`: the rates are
 * compression off, best of BACKUP_BENCH_ROUNDS (default 3) wall-clock runs; the ratio is the
 * slower of the two ÷ raw AES-GCM. Rates per CPU-second are printed too (the machine may be
 * shared with other work).
 */
import * as nodeCrypto from 'node:crypto';
import { BackupKey, createBackup, openBackup, type ContentRecord } from '@sotto/backup';
import { encodeRecords, syntheticHistory } from '@sotto/backup/testing';

const MIB = 2 ** 20;
const TOTAL = Number(process.env.BACKUP_BENCH_MIB ?? 256) * MIB;
const POOL = Math.min(16 * MIB, TOTAL);
const ROUNDS = Number(process.env.BACKUP_BENCH_ROUNDS ?? 3);
const PIECE = MIB;

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}
const mb = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const show = (r: Rate) => `${r.wall.toFixed(0)} MB/s (${r.cpu.toFixed(0)} per CPU-s)`;
const better = (a: Rate, b: Rate): Rate => ({
  wall: Math.max(a.wall, b.wall),
  cpu: Math.max(a.cpu, b.cpu),
});
const NONE: Rate = { wall: 0, cpu: 0 };

/** Wall-clock and CPU time (this process, all threads: GC helpers, zlib) of one measurement. */
function startTiming(bytes: number): () => Rate {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return {
      wall: mb(bytes, performance.now() - wall),
      cpu: mb(bytes, (used.user + used.system) / 1000),
    };
  };
}

/** A history: records emitted once, then a pool replayed `cycles` times. */
class History {
  readonly bytes: number;
  readonly records: number;
  readonly #head: readonly ContentRecord[];
  readonly #pool: readonly ContentRecord[];
  readonly #cycles: number;
  /** The encoded body pieces (for the AES baseline over the same bytes). */
  readonly #headBody: Uint8Array;
  readonly #poolBody: Uint8Array;

  constructor(head: readonly ContentRecord[], pool: readonly ContentRecord[], total: number) {
    this.#head = head;
    this.#pool = pool;
    this.#headBody = encodeRecords(head);
    this.#poolBody = encodeRecords(pool);
    this.#cycles = Math.max(1, Math.round((total - this.#headBody.length) / this.#poolBody.length));
    this.bytes = this.#headBody.length + this.#cycles * this.#poolBody.length;
    this.records = head.length + this.#cycles * pool.length;
  }

  static synthetic(asciiOnly: boolean): History {
    const generated = [...syntheticHistory({ targetBytes: POOL, seed: 7, asciiOnly })];
    return new History(
      generated.filter((r) => r.type !== 'message'),
      generated.filter((r) => r.type === 'message'),
      TOTAL,
    );
  }

  /**
   * UTF-8 alone: the message strings of one pool pass encoded with `TextEncoder.encodeInto` and
   * decoded with a fatal `TextDecoder`, one call per string as any record codec makes, as MB/s
   * of history. No codec that hands out JavaScript strings can beat these rates on this runtime.
   */
  utf8Alone(): { encode: Rate; decode: Rate } {
    const strings: string[] = [];
    for (const r of this.#pool) {
      if (r.type !== 'message') continue;
      strings.push(r.body);
      for (const a of r.attachments) strings.push(a.cdnKey, a.contentType, a.fileName);
    }
    if (strings.length === 0) return { encode: NONE, decode: NONE };
    const encoder = new TextEncoder();
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const packed = new Uint8Array(this.#poolBody.length);
    const ends = new Uint32Array(strings.length);
    let stop = startTiming(this.#poolBody.length);
    let pos = 0;
    for (let i = 0; i < strings.length; i++) {
      pos += encoder.encodeInto(strings[i]!, packed.subarray(pos)).written;
      ends[i] = pos;
    }
    const encode = stop();
    stop = startTiming(this.#poolBody.length);
    let chars = 0;
    let start = 0;
    for (let i = 0; i < strings.length; i++) {
      chars += decoder.decode(packed.subarray(start, ends[i])).length;
      start = ends[i]!;
    }
    const decode = stop();
    void chars;
    return { encode, decode };
  }

  *iterate(): Generator<ContentRecord> {
    yield* this.#head;
    for (let c = 0; c < this.#cycles; c++) yield* this.#pool;
  }

  /** node:crypto AES-256-GCM over the same plaintext bytes, 1 MiB per call. */
  rawAesGcm(): Rate {
    const key = nodeCrypto.randomBytes(32);
    const nonce = Buffer.alloc(12);
    let index = 0;
    const seal = (bytes: Uint8Array) => {
      for (let o = 0; o < bytes.length; o += PIECE) {
        nonce.writeUInt32BE(index++, 8);
        const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce);
        cipher.update(bytes.subarray(o, o + PIECE));
        cipher.final();
        cipher.getAuthTag();
      }
    };
    const stop = startTiming(this.bytes);
    seal(this.#headBody);
    for (let c = 0; c < this.#cycles; c++) seal(this.#poolBody);
    return stop();
  }
}

/**
 * The archive goes into one preallocated buffer (a stand-in for a file: chunks are copied and
 * dropped, as a writer to disk would), so retained chunks do not distort the GC.
 */
let archiveBuffer = new Uint8Array(0);

async function create(
  history: History,
  key: BackupKey,
  compression: 'none' | 'deflate-raw',
): Promise<{ rate: Rate; size: number }> {
  const needed = Math.ceil(history.bytes * 1.25) + 16 * MIB;
  if (archiveBuffer.length < needed) archiveBuffer = new Uint8Array(needed);
  let size = 0;
  const stop = startTiming(history.bytes);
  const reader = createBackup(history.iterate(), { backupKey: key, compression }).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    archiveBuffer.set(value, size);
    size += value.length;
  }
  return { rate: stop(), size };
}

/** Restores from the buffer in 1 MiB pieces (as from a file) and touches every message body. */
async function restore(history: History, key: BackupKey, size: number): Promise<Rate> {
  function* pieces(): Generator<Uint8Array> {
    for (let o = 0; o < size; o += PIECE)
      yield archiveBuffer.subarray(o, Math.min(o + PIECE, size));
  }
  const stop = startTiming(history.bytes);
  const reader = await openBackup(pieces(), key);
  let records = 0;
  let chars = 0;
  for await (const batch of reader.batches()) {
    records += batch.length;
    for (const r of batch) if (r.type === 'message') chars += r.body.length;
  }
  const rate = stop();
  if (records !== history.records + 1) {
    throw new Error(`restore produced ${records} records, expected ${history.records + 1}`);
  }
  void chars;
  return rate;
}

async function measure(name: string, history: History, rounds: number) {
  const key = BackupKey.generate();
  let aes = NONE;
  let created = NONE;
  let restored = NONE;
  let utf8Encode = NONE;
  let utf8Decode = NONE;
  let size = 0;
  for (let round = 1; round <= rounds; round++) {
    const a = history.rawAesGcm();
    const c = await create(history, key, 'none');
    const r = await restore(history, key, c.size);
    const u = history.utf8Alone();
    size = c.size;
    aes = better(aes, a);
    created = better(created, c.rate);
    restored = better(restored, r);
    utf8Encode = better(utf8Encode, u.encode);
    utf8Decode = better(utf8Decode, u.decode);
    console.log(
      `${name}, round ${round}: raw AES-256-GCM ${show(a)} | create ${show(c.rate)} | restore ${show(r)}` +
        (u.encode.wall > 0
          ? ` | UTF-8 alone: encode ${show(u.encode)}, decode ${show(u.decode)}`
          : ''),
    );
  }
  return { aes, created, restored, utf8Encode, utf8Decode, size };
}

const mixed = History.synthetic(false);
console.log(
  `history: ${(mixed.bytes / MIB).toFixed(1)} MiB, ${mixed.records} records ` +
    `(${(mixed.bytes / mixed.records).toFixed(0)} B each on average)`,
);
const main = await measure('compression off', mixed, ROUNDS);
console.log(
  `archive size, compression off: ${(main.size / MIB).toFixed(1)} MiB ` +
    `(+${((main.size / mixed.bytes - 1) * 100).toFixed(1)}%: BackupInfo, Padmé padding, tags, header)`,
);
if (process.env.BACKUP_BENCH_SKIP_DEFLATE === undefined) {
  const key = BackupKey.generate();
  const c = await create(mixed, key, 'deflate-raw');
  const r = await restore(mixed, key, c.size);
  console.log(
    `compression on: create ${show(c.rate)} | restore ${show(r)} | archive ` +
      `${(c.size / MIB).toFixed(1)} MiB (${((c.size / mixed.bytes) * 100).toFixed(0)}% of the history)`,
  );
}
if (process.env.BACKUP_BENCH_SKIP_DIAGNOSTICS === undefined) {
  const ascii = await measure('diagnostic: ASCII-only text', History.synthetic(true), 1);
  const blob = (i: number): ContentRecord => ({
    type: 'setting',
    key: `blob-${i}`,
    value: nodeCrypto.randomBytes(60 * 1024),
  });
  const large = await measure(
    'diagnostic: archive layer only (60 KiB records)',
    new History(
      [],
      Array.from({ length: 64 }, (_, i) => blob(i)),
      TOTAL,
    ),
    1,
  );
  for (const [name, m] of [
    ['ASCII-only text', ascii],
    ['archive layer only', large],
  ] as const) {
    const ratio = Math.min(m.created.wall, m.restored.wall) / m.aes.wall;
    console.log(`diagnostic ratio (${name}): ${ratio.toFixed(2)} of raw AES-GCM`);
  }
}
const ratio = Math.min(main.created.wall, main.restored.wall) / main.aes.wall;
const utf8Ratio = Math.min(main.utf8Encode.wall, main.utf8Decode.wall) / main.aes.wall;
console.log(
  `compression off, best of ${ROUNDS}: UTF-8 alone reaches ${utf8Ratio.toFixed(2)} of raw AES-GCM ` +
    `(the ceiling for any JS codec of these strings); create is ` +
    `${((main.created.wall / main.utf8Encode.wall) * 100).toFixed(0)}% of UTF-8 encoding alone, restore ` +
    `${((main.restored.wall / main.utf8Decode.wall) * 100).toFixed(0)}% of UTF-8 decoding alone`,
);
const cpuRatio = Math.min(main.created.cpu, main.restored.cpu) / main.aes.cpu;
console.log(`compression off, best of ${ROUNDS}: CPU-time ratio ${cpuRatio.toFixed(2)}`);
console.log(
  `bench:backup create_mbps=${main.created.wall.toFixed(0)} restore_mbps=${main.restored.wall.toFixed(0)} ` +
    `aes_limit_ratio=${ratio.toFixed(2)}`,
);
