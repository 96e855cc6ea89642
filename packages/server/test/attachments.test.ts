// Attachments: streamed in, size-limited while streaming, fetched by an unguessable id, expired.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '@sotto/api';
import { FileAttachmentStore } from '../src/index.js';
import {
  authed,
  freshIp,
  register,
  startHarness,
  type ErrorBody,
  type Harness,
} from './support/harness.js';

const DAY = 24 * 60 * 60 * 1000;

describe('attachments', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ maxAttachmentBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await h.close();
  });

  async function upload(
    d: { authorization: string },
    body: Buffer | Readable,
    headers: Record<string, string> = {},
  ) {
    return h.app.inject({
      method: 'POST',
      url: '/v1/attachments',
      headers: {
        authorization: d.authorization,
        'content-type': 'application/octet-stream',
        ...headers,
      },
      payload: body,
    });
  }

  it('uploads and downloads a blob by its id', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const blob = randomBytes(50_000);
    const res = await upload(alice, blob);
    expect(res.statusCode).toBe(201);
    const { attachmentId, size, expiresAt } = res.json<{
      attachmentId: string;
      size: number;
      expiresAt: number;
    }>();
    expect(attachmentId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(size).toBe(blob.length);
    expect(expiresAt).toBe(h.clock.now() + 30 * DAY);
    const down = await h.app.inject({
      method: 'GET',
      url: `/v1/attachments/${attachmentId}`,
      headers: authed(bob),
    });
    expect(down.statusCode).toBe(200);
    expect(down.headers['content-type']).toBe('application/octet-stream');
    expect(down.rawPayload.equals(blob)).toBe(true);
  });

  it('cuts off oversized uploads, declared or streamed', async () => {
    const alice = await register(h);
    const declared = await upload(alice, randomBytes(64 * 1024 + 1));
    expect(declared.statusCode).toBe(413);
    expect(declared.json<ErrorBody>().error.code).toBe('PAYLOAD_TOO_LARGE');
    // No Content-Length: the stream is counted as it arrives.
    const chunks = Array.from({ length: 10 }, () => randomBytes(10_000));
    const streamed = await upload(alice, Readable.from(chunks));
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json<ErrorBody>().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(h.attachments.size).toBe(0);
    expect(h.database.prepare('select count(*) as n from attachments').get()).toEqual({ n: 0 });
  });

  it('accepts only application/octet-stream and authenticated devices', async () => {
    const alice = await register(h);
    const json = await h.app.inject({
      method: 'POST',
      url: '/v1/attachments',
      headers: { authorization: alice.authorization, 'content-type': 'application/json' },
      payload: { a: 1 },
    });
    expect(json.statusCode).toBe(415);
    expect(json.json<ErrorBody>().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const text = await upload(alice, Buffer.from('x'), { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    const anon = await h.app.inject({
      method: 'POST',
      url: '/v1/attachments',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from('x'),
      remoteAddress: freshIp(),
    });
    expect(anon.statusCode).toBe(401);
  });

  it('answers ATTACHMENT_NOT_FOUND for unknown and expired ids, and the sweeper deletes blobs', async () => {
    const alice = await register(h);
    const unknown = await h.app.inject({
      method: 'GET',
      url: `/v1/attachments/${'A'.repeat(22)}`,
      headers: authed(alice),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<ErrorBody>().error.code).toBe('ATTACHMENT_NOT_FOUND');
    const bad = await h.app.inject({
      method: 'GET',
      url: '/v1/attachments/..%2F..%2Fetc',
      headers: authed(alice),
    });
    expect(bad.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    const { attachmentId } = (await upload(alice, randomBytes(10))).json<{
      attachmentId: string;
    }>();
    h.clock.advance(30 * DAY);
    const expired = await h.app.inject({
      method: 'GET',
      url: `/v1/attachments/${attachmentId}`,
      headers: authed(alice),
    });
    expect(expired.json<ErrorBody>().error.code).toBe('ATTACHMENT_NOT_FOUND');
    h.clock.advance(1);
    const swept = await h.server.sweep();
    expect(swept.attachmentIds).toEqual([attachmentId]);
    expect(h.attachments.size).toBe(0);
  });
});

describe('file attachment store', () => {
  it('writes atomically, refuses oversized streams without leaving files, reads and deletes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sotto-att-'));
    try {
      const store = await FileAttachmentStore.open(dir);
      const blob = randomBytes(3000);
      expect(await store.write('abcdefghijklmnopqrstuv', Readable.from([blob]), 5000)).toBe(3000);
      const back = await store.read('abcdefghijklmnopqrstuv');
      const chunks: Buffer[] = [];
      for await (const c of back!) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(blob)).toBe(true);
      await expect(
        store.write('bbbbbbbbbbbbbbbbbbbbbb', Readable.from([randomBytes(6000)]), 5000),
      ).rejects.toSatisfy((e) => ApiError.is(e, 'PAYLOAD_TOO_LARGE'));
      expect(readdirSync(dir)).toEqual(['abcdefghijklmnopqrstuv']);
      // A half-written blob from a crash is not listed as a blob (and is removed at the next open).
      writeFileSync(join(dir, 'cccccccccccccccccccccc.part'), 'partial');
      const listed = [];
      for await (const b of store.list()) listed.push(b);
      expect(listed.map((b) => b.id)).toEqual(['abcdefghijklmnopqrstuv']);
      expect(Math.abs(listed[0]!.writtenAt - Date.now())).toBeLessThan(60_000);
      await FileAttachmentStore.open(dir);
      expect(readdirSync(dir)).toEqual(['abcdefghijklmnopqrstuv']);
      await expect(store.read('../../etc/passwd')).rejects.toThrow();
      await store.delete('abcdefghijklmnopqrstuv');
      expect(await store.read('abcdefghijklmnopqrstuv')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
