/**
 * A pass-through stream that fails with PAYLOAD_TOO_LARGE as soon as more than `maxBytes` pass,
 * so an oversized upload is cut off while streaming, not after it was buffered.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ApiError } from '@sotto/api';

export class SizeLimit extends Transform {
  bytes = 0;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new ApiError('PAYLOAD_TOO_LARGE', 'attachment too large'));
      return;
    }
    done(null, chunk);
  }
}

const BLOB_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** Whether `id` has the form of a blob id (base64url from the server's RNG). */
export function isBlobId(id: string): boolean {
  return BLOB_ID.test(id);
}

/** Ids come from the server's RNG as base64url; anything else never touches a path. */
export function assertBlobId(id: string): void {
  if (!isBlobId(id)) throw new Error('invalid blob id');
}
