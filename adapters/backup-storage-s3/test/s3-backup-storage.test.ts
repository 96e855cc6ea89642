// S3BackupStorage against s3rver (a local S3-compatible server from the npm registry, started on a
// random port over a temporary directory): the storage port's conformance suite, with and without
// a key prefix; a multipart upload of 20 MiB; a failure in the middle of a multipart upload; list
// pagination; error mapping; and that the adapter never prints its credentials.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError } from '@sotto/backup';
import { describeBackupStorageConformance } from '@sotto/backup/testing';
import { S3BackupStorage, type S3BackupStorageOptions } from '../src/index.js';

const MIB = 1024 * 1024;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

let server: S3rver;
let directory: string;
let endpoint: string;
let client: S3Client;
let buckets = 0;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sotto-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
  client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
});
afterAll(async () => {
  client.destroy();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

async function newBucket(): Promise<string> {
  const bucket = `sotto-backups-${++buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

function storage(bucket: string, extra: Partial<S3BackupStorageOptions> = {}): S3BackupStorage {
  return new S3BackupStorage({
    bucket,
    endpoint,
    forcePathStyle: true,
    credentials,
    partSize: 5 * MIB,
    ...extra,
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

describeBackupStorageConformance('s3 (s3rver), whole bucket', async () =>
  storage(await newBucket()),
);

let prefixes = 0;
let shared: string | undefined;
describeBackupStorageConformance('s3 (s3rver), key prefix', async () => {
  shared ??= await newBucket();
  return storage(shared, { prefix: `users/${++prefixes}/` });
});

describe('S3BackupStorage', () => {
  it('streams a 20 MiB archive as a multipart upload and reads it back', async () => {
    const bucket = await newBucket();
    // A client of our own that records every command the adapter sends.
    const recording = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    const commands: string[] = [];
    recording.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    const s = storage(bucket, { prefix: 'mp/', client: recording });
    const data = randomBytes(20 * MIB + 12_345);
    async function* pieces() {
      for (let offset = 0; offset < data.length; offset += 1_000_000) {
        yield await Promise.resolve(data.subarray(offset, offset + 1_000_000));
      }
    }
    expect(await s.put('big.sbk', pieces())).toEqual({ name: 'big.sbk', size: data.length });
    // Five parts of at most 5 MiB, and the object appears only with the completion.
    expect(commands).toEqual([
      'CreateMultipartUploadCommand',
      ...Array<string>(5).fill('UploadPartCommand'),
      'CompleteMultipartUploadCommand',
    ]);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp/big.sbk' }));
    expect(head.ContentLength).toBe(data.length);
    expect((await readAll(await s.get('big.sbk'))).equals(data)).toBe(true);
    recording.destroy();
  });

  it('keeps the old object when the source fails after parts were uploaded', async () => {
    const s = storage(await newBucket());
    const old = randomBytes(1000);
    await s.put('nightly', [old]);
    const failure = new Error('source failed');
    async function* failing() {
      for (let i = 0; i < 12; i++) yield await Promise.resolve(randomBytes(MIB));
      throw failure;
    }
    await expect(s.put('nightly', failing())).rejects.toBe(failure);
    expect((await readAll(await s.get('nightly'))).equals(old)).toBe(true);
    expect(await s.list()).toEqual([{ name: 'nightly', size: 1000 }]);
  });

  it('lists only keys under the prefix that are object names', async () => {
    const bucket = await newBucket();
    const s = storage(bucket, { prefix: 'p/' });
    for (const name of ['e', 'a', 'c']) await s.put(name, [randomBytes(3)]);
    for (const key of ['p/nested/x', 'p/.hidden', 'other/z', 'p-sibling']) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    }
    expect(await s.list()).toEqual([
      { name: 'a', size: 3 },
      { name: 'c', size: 3 },
      { name: 'e', size: 3 },
    ]);
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    // s3rver 3.7.1 cannot answer a truncated ListObjectsV2 page on Node >= 17 (its continuation
    // token uses DES, which OpenSSL 3 disables), so paging is checked against a scripted client.
    const keys = ['q/e', 'q/a', 'q/d', 'q/c', 'q/b'];
    const requests: { MaxKeys?: number; ContinuationToken?: string; Prefix?: string }[] = [];
    const scripted = {
      send(command: { input: { MaxKeys?: number; ContinuationToken?: string; Prefix?: string } }) {
        const input = command.input;
        requests.push(input);
        const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
        const end = start + input.MaxKeys!;
        return Promise.resolve({
          Contents: keys.slice(start, end).map((Key) => ({ Key, Size: 1 })),
          IsTruncated: end < keys.length,
          ...(end < keys.length ? { NextContinuationToken: String(end) } : {}),
        });
      },
    } as unknown as S3Client;
    const s = storage('any', { prefix: 'q/', listPageSize: 2, client: scripted });
    expect((await s.list()).map((o) => o.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(requests.map((r) => [r.Prefix, r.MaxKeys, r.ContinuationToken])).toEqual([
      ['q/', 2, undefined],
      ['q/', 2, '2'],
      ['q/', 2, '4'],
    ]);
  });

  it('maps a missing bucket and wrong credentials to STORAGE_IO without revealing secrets', async () => {
    const missing = storage('no-such-bucket-here');
    const err = await missing.list().catch((e: unknown) => e);
    expect(BackupError.is(err, 'STORAGE_IO')).toBe(true);
    expect((err as Error).message).toMatch(/bucket does not exist/);
    const secretAccessKey = 'wrong-secret-never-printed';
    const denied = storage(await newBucket(), {
      credentials: { accessKeyId: 'someone', secretAccessKey },
    });
    const refused = await denied.put('x', [randomBytes(10)]).catch((e: unknown) => e);
    expect(BackupError.is(refused, 'STORAGE_IO')).toBe(true);
    expect((refused as Error).message).not.toContain(secretAccessKey);
    expect(JSON.stringify(denied)).not.toContain(secretAccessKey);
    expect(inspect(denied, { depth: 10 })).not.toContain(secretAccessKey);
    expect(inspect(denied)).toMatch(/^S3BackupStorage\(/);
  });

  it('refuses bad options', () => {
    expect(() => storage('')).toThrow(BackupError);
    expect(() => storage('b', { partSize: 1024 })).toThrow(/partSize/);
    expect(() => storage('b', { queueSize: 0 })).toThrow(/queueSize/);
  });
});
