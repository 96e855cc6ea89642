// docs/backup-format.md is enough to read and write archives: an independent reader and writer,
// written here from the document with node:crypto and node:zlib only, interoperate with the
// library in both directions. If the code and the document drift apart, this test fails.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BackupKey, createBackup, type ContentRecord } from '../src/index.js';
import { syntheticHistory } from '../src/testing/index.js';
import { collect, restoreAll } from './helpers.js';

const hkdf = (key: Buffer, salt: Buffer, info: string, length: number) =>
  Buffer.from(hkdfSync('sha256', key, salt, info, length));

function keys(backupKey: Buffer, backupId: Buffer) {
  return {
    keyCheck: hkdf(backupKey, backupId, 'sotto-backup-v1/key-check', 16),
    headerMac: hkdf(backupKey, backupId, 'sotto-backup-v1/header-mac', 32),
    chunk: hkdf(backupKey, backupId, 'sotto-backup-v1/chunk-key', 32),
    noncePrefix: hkdf(backupKey, backupId, 'sotto-backup-v1/nonce-prefix', 4),
  };
}

function nonceAndAad(noncePrefix: Buffer, mac: Buffer, index: number, final: boolean) {
  const nonce = Buffer.alloc(12);
  noncePrefix.copy(nonce, 0);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  const aad = Buffer.alloc(41);
  mac.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), 32);
  aad[40] = final ? 1 : 0;
  return { nonce, aad };
}

/** Reads an archive per the document; returns the decompressed body (delimited frames). */
function independentRead(archive: Buffer, backupKey: Buffer): Buffer {
  expect(archive.subarray(0, 8).toString('latin1')).toBe('SOTTOBAK');
  expect(archive.readUInt16BE(8)).toBe(1);
  const headerLength = archive.readUInt16BE(10);
  const backupId = archive.subarray(12, 28);
  expect([archive[28], archive[29], archive[31]]).toEqual([1, 1, 1]);
  const compression = archive[30];
  const chunkSize = archive.readUInt32BE(32);
  const k = keys(backupKey, backupId);
  expect(archive.subarray(36, 52).equals(k.keyCheck)).toBe(true);
  const mac = archive.subarray(headerLength - 32, headerLength);
  const expectedMac = createHmac('sha256', k.headerMac)
    .update(archive.subarray(0, headerLength - 32))
    .digest();
  expect(mac.equals(expectedMac)).toBe(true);
  const data: Buffer[] = [];
  let index = 0;
  for (let o = headerLength; o < archive.length; o += chunkSize + 16, index++) {
    const sealed = archive.subarray(o, Math.min(o + chunkSize + 16, archive.length));
    const final = o + chunkSize + 16 >= archive.length;
    const { nonce, aad } = nonceAndAad(k.noncePrefix, mac, index, final);
    const decipher = createDecipheriv('aes-256-gcm', k.chunk, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final(),
    ]);
    const length = plain.readUInt32BE(0);
    data.push(plain.subarray(4, 4 + length));
    expect(plain.subarray(4 + length).every((b) => b === 0)).toBe(true);
  }
  const body = Buffer.concat(data);
  return compression === 1 ? inflateRawSync(body) : body;
}

function readVarint(bytes: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  let o = offset;
  for (;;) {
    const b = bytes[o++]!;
    value += (b & 127) * 2 ** shift;
    shift += 7;
    if (b < 128) return [value, o];
  }
}

/** The frames of a body: [outer field number, inner message bytes]. */
function frames(body: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let o = 0;
  while (o < body.length) {
    const [length, start] = readVarint(body, o);
    const frame = body.subarray(start, start + length);
    const [tag, p] = readVarint(frame, 0);
    const [innerLength, q] = readVarint(frame, p);
    expect(tag & 7).toBe(2);
    out.push([tag >>> 3, frame.subarray(q, q + innerLength)]);
    expect(q + innerLength).toBe(frame.length);
    o = start + length;
  }
  return out;
}

/** Writes an archive per the document (compression optional, Padmé padding, final flag). */
function independentWrite(
  body: Buffer,
  backupKey: Buffer,
  chunkSize: number,
  compress: boolean,
): Buffer {
  const backupId = randomBytes(16);
  const k = keys(backupKey, backupId);
  const header = Buffer.alloc(53 + 32);
  header.write('SOTTOBAK', 0, 'latin1');
  header.writeUInt16BE(1, 8);
  header.writeUInt16BE(header.length, 10);
  backupId.copy(header, 12);
  header[28] = 1;
  header[29] = 1;
  header[30] = compress ? 1 : 0;
  header[31] = 1;
  header.writeUInt32BE(chunkSize, 32);
  k.keyCheck.copy(header, 36);
  header[52] = 0;
  const mac = createHmac('sha256', k.headerMac).update(header.subarray(0, 53)).digest();
  mac.copy(header, 53);
  const data = compress ? deflateRawSync(body) : body;
  // Chunks of chunkSize - 4 data bytes; total plaintext padded to Padmé(max(T0, 4096)).
  const capacity = chunkSize - 4;
  const dataChunks = Math.max(1, Math.ceil(data.length / capacity));
  const t0 = (dataChunks - 1) * chunkSize + 4 + (data.length - (dataChunks - 1) * capacity);
  const L = Math.max(t0, 4096);
  const e = Math.floor(Math.log2(L));
  const unit = 2 ** (e - (Math.floor(Math.log2(e)) + 1));
  let total = Math.ceil(L / unit) * unit;
  if (total % chunkSize !== 0 && total % chunkSize < 4) total += 4 - (total % chunkSize);
  const plain = Buffer.alloc(total);
  for (let i = 0, d = 0; i * chunkSize < total; i++) {
    const n = Math.min(capacity, data.length - d, Math.max(0, total - i * chunkSize - 4));
    plain.writeUInt32BE(Math.max(0, n), i * chunkSize);
    if (n > 0) data.copy(plain, i * chunkSize + 4, d, d + n);
    d += Math.max(0, n);
  }
  const out: Buffer[] = [header];
  const count = Math.ceil(total / chunkSize);
  for (let i = 0; i < count; i++) {
    const { nonce, aad } = nonceAndAad(k.noncePrefix, mac, i, i === count - 1);
    const cipher = createCipheriv('aes-256-gcm', k.chunk, nonce);
    cipher.setAAD(aad);
    out.push(
      cipher.update(plain.subarray(i * chunkSize, Math.min((i + 1) * chunkSize, total))),
      cipher.final(),
      cipher.getAuthTag(),
    );
  }
  return Buffer.concat(out);
}

describe('docs/backup-format.md, implemented independently', () => {
  const records: ContentRecord[] = [...syntheticHistory({ targetBytes: 300_000, seed: 11 })];

  for (const compression of ['none', 'deflate-raw'] as const) {
    it(`reads what the library writes (compression ${compression})`, async () => {
      const key = BackupKey.generate();
      const archive = Buffer.from(
        await collect(
          createBackup(records, { backupKey: key, compression, chunkSize: 4096, createdAtMs: 5 }),
        ),
      );
      const body = independentRead(archive, Buffer.from(key.exportBytes()));
      const fs = frames(body);
      expect(fs).toHaveLength(records.length + 1);
      // Frame 1 = BackupInfo{ schema_version(1) = 1, created_at_ms(2) = 5 }.
      expect(fs[0]).toEqual([1, Buffer.from([0x08, 1, 0x10, 5])]);
      const kinds: Record<string, number> = {
        account: 2,
        contact: 3,
        conversation: 4,
        message: 5,
        setting: 6,
      };
      expect(fs.slice(1).map(([n]) => n)).toEqual(records.map((r) => kinds[r.type]));
    });
  }

  for (const compress of [false, true]) {
    it(`writes what the library reads (compression ${compress ? 'deflate-raw' : 'none'})`, async () => {
      const key = BackupKey.generate();
      // Take the body bytes from an archive read independently, then re-encrypt them independently.
      const reference = Buffer.from(
        await collect(
          createBackup(records, { backupKey: key, compression: 'none', createdAtMs: 5 }),
        ),
      );
      const body = independentRead(reference, Buffer.from(key.exportBytes()));
      for (const chunkSize of [1024, 5000, 65_536]) {
        const archive = independentWrite(body, Buffer.from(key.exportBytes()), chunkSize, compress);
        const restored = await restoreAll([archive], key);
        expect(restored.slice(1)).toEqual(records);
      }
    });
  }
});
