/**
 * The S3-compatible adapter of @sotto/backup's storage port (docs/backups.md "Storage"): one
 * object per archive in a bucket, under an optional key prefix, through `@aws-sdk/client-s3`.
 *
 * - `put` streams with a multipart upload (`@aws-sdk/lib-storage` `Upload`): parts of `partSize`
 *   bytes, `queueSize` in flight, so memory stays near `partSize × queueSize` for any archive.
 *   S3 makes an object visible only when its upload completes (CompleteMultipartUpload, or the
 *   single PutObject lib-storage uses for an archive smaller than one part), so a failed source
 *   leaves the old object, or none; the incomplete multipart upload is aborted. An empty archive
 *   is one empty PutObject.
 * - `get` streams the object's body; `list` pages through ListObjectsV2 under the prefix and
 *   returns only keys that are valid object names; `delete` checks with HeadObject first, since
 *   S3's DeleteObject does not say whether there was an object (a race between the two can only
 *   make it report `true` for an object deleted meanwhile).
 *
 * Errors: STORAGE_NOT_FOUND for a missing object, STORAGE_FULL when S3 refuses the size
 * (EntityTooLarge), STORAGE_IO otherwise with the SDK's error as `cause`. Credentials never appear
 * in messages, `toJSON` or `inspect` (which show the bucket and prefix only). S3 checks neither
 * secrecy nor integrity here: the archive authenticates itself.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import {
  BackupError,
  checkObjectName,
  type BackupObjectInfo,
  type BackupStorage,
  type ByteSource,
} from '@sotto/backup';
import {
  DEFAULT_PART_SIZE,
  DEFAULT_QUEUE_SIZE,
  LIST_PAGE_SIZE,
  MAX_PART_SIZE,
  MAX_QUEUE_SIZE,
  MIN_PART_SIZE,
} from './limits.js';

export interface S3BackupStorageOptions {
  readonly bucket: string;
  /** Prepended to every object name as is (end it with `/` for a folder); default none. */
  readonly prefix?: string;
  /** Default `us-east-1` (most S3-compatible services ignore it). */
  readonly region?: string;
  /** An S3-compatible service, e.g. `https://minio.example.org:9000`; default AWS. */
  readonly endpoint?: string;
  /** `bucket` in the path instead of the host name (most S3-compatible services need it). */
  readonly forcePathStyle?: boolean;
  /** Default: the SDK's credential chain (environment, shared files, instance roles). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /**
   * `when-supported` (the SDK's default) adds CRC checksums to every upload; `when-required`
   * sends them only where S3 requires them, for services that do not know the newer checksums.
   */
  readonly checksums?: 'when-supported' | 'when-required';
  /** Bytes per uploaded part (default DEFAULT_PART_SIZE, at least MIN_PART_SIZE). */
  readonly partSize?: number;
  /** Parts uploaded at once (default DEFAULT_QUEUE_SIZE). */
  readonly queueSize?: number;
  /** Keys per ListObjectsV2 page (default and maximum LIST_PAGE_SIZE). */
  readonly listPageSize?: number;
  /** Use this client instead of building one (region, endpoint, credentials are then ignored). */
  readonly client?: S3Client;
}

function describeError(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    status:
      typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined,
  };
}

function isNotFound(err: unknown): boolean {
  const { name, status } = describeError(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}

function storageError(action: string, err: unknown): BackupError {
  if (BackupError.is(err)) return err;
  const { name, status } = describeError(err);
  if (name === 'EntityTooLarge') {
    return new BackupError('STORAGE_FULL', `s3: ${action}: the object is larger than S3 accepts`, {
      cause: err,
    });
  }
  const hint =
    name === 'NoSuchBucket'
      ? ': the bucket does not exist'
      : name === 'AccessDenied' || name === 'InvalidAccessKeyId' || status === 403
        ? ': access denied (check the credentials and the bucket policy)'
        : '';
  return new BackupError('STORAGE_IO', `s3: ${action} failed (${name})${hint}`, { cause: err });
}

function integerOption(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BackupError(
      'INVALID_ARGUMENT',
      `${what} must be an integer between ${min} and ${max}`,
    );
  }
  return n;
}

/** Reads a byte source piece by piece, skipping empty pieces. */
function piecesOf(source: ByteSource): {
  next: () => Promise<Uint8Array | undefined>;
  close: () => Promise<void>;
} {
  if (source instanceof ReadableStream) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      next: async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) return undefined;
          if (r.value.length > 0) return r.value;
        }
      },
      close: () => reader.cancel(),
    };
  }
  const it =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  return {
    next: async () => {
      for (;;) {
        const r = await it.next();
        if (r.done === true) return undefined;
        if (!(r.value instanceof Uint8Array)) {
          throw new BackupError('INVALID_ARGUMENT', 'backup source pieces must be Uint8Array');
        }
        if (r.value.length > 0) return r.value;
      }
    },
    close: async () => {
      await it.return?.();
    },
  };
}

export class S3BackupStorage implements BackupStorage {
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #listPageSize: number;

  constructor(options: S3BackupStorageOptions) {
    if (typeof options.bucket !== 'string' || options.bucket.length === 0) {
      throw new BackupError('INVALID_ARGUMENT', 'bucket must be a non-empty string');
    }
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.#partSize = integerOption(
      options.partSize,
      DEFAULT_PART_SIZE,
      MIN_PART_SIZE,
      MAX_PART_SIZE,
      'partSize',
    );
    this.#queueSize = integerOption(
      options.queueSize,
      DEFAULT_QUEUE_SIZE,
      1,
      MAX_QUEUE_SIZE,
      'queueSize',
    );
    this.#listPageSize = integerOption(
      options.listPageSize,
      LIST_PAGE_SIZE,
      1,
      LIST_PAGE_SIZE,
      'listPageSize',
    );
    this.#ownsClient = options.client === undefined;
    if (options.client !== undefined) {
      this.#client = options.client;
    } else {
      const checksums = options.checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
      const config: S3ClientConfig = {
        region: options.region ?? 'us-east-1',
        requestChecksumCalculation: checksums,
        responseChecksumValidation: checksums,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
      };
      this.#client = new S3Client(config);
    }
  }

  #key(name: string): string {
    return this.prefix + checkObjectName(name);
  }

  async put(name: string, data: ByteSource): Promise<BackupObjectInfo> {
    const key = this.#key(name);
    const source = piecesOf(data);
    let size = 0;
    let sourceFailure: { error: unknown } | undefined;
    // A source failing before its first byte fails the put before anything is sent.
    const first = await source.next();
    try {
      if (first === undefined) {
        // lib-storage cannot upload an empty stream; an empty archive is one empty PutObject.
        await this.#client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: new Uint8Array(0) }),
        );
        return { name, size: 0 };
      }
      async function* body(head: Uint8Array): AsyncGenerator<Uint8Array> {
        try {
          size += head.length;
          yield head;
          for (;;) {
            const piece = await source.next();
            if (piece === undefined) return;
            size += piece.length;
            yield piece;
          }
        } catch (error) {
          sourceFailure = { error };
          throw error;
        }
      }
      const upload = new Upload({
        client: this.#client,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: Readable.from(body(first), { objectMode: false }),
          ContentType: 'application/octet-stream',
        },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
      return { name, size };
    } catch (err) {
      await source.close().catch(() => undefined);
      if (sourceFailure !== undefined) throw sourceFailure.error;
      throw storageError(`writing ${name}`, err);
    }
  }

  async get(name: string): Promise<ReadableStream<Uint8Array>> {
    const key = this.#key(name);
    let body: { transformToWebStream(): ReadableStream<Uint8Array> } | undefined;
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = out.Body as typeof body;
    } catch (err) {
      if (isNotFound(err)) throw new BackupError('STORAGE_NOT_FOUND', `no backup object ${name}`);
      throw storageError(`reading ${name}`, err);
    }
    if (body === undefined) return new ReadableStream({ start: (c) => c.close() });
    const reader = body.transformToWebStream().getReader();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const r = await reader.read();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(storageError(`reading ${name}`, err));
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    });
  }

  async list(): Promise<readonly BackupObjectInfo[]> {
    const out: BackupObjectInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            ...(this.prefix === '' ? {} : { Prefix: this.prefix }),
            MaxKeys: this.#listPageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (err) {
        throw storageError('listing', err);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.prefix)) continue;
        const name = o.Key.slice(this.prefix.length);
        if (!isObjectName(name)) continue;
        out.push({ name, size: o.Size ?? 0 });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(name: string): Promise<boolean> {
    const key = this.#key(name);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storageError(`deleting ${name}`, err);
    }
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw storageError(`deleting ${name}`, err);
    }
    return true;
  }

  /** Closes the client's connections (only when this adapter built the client). */
  destroy(): void {
    if (this.#ownsClient) this.#client.destroy();
  }

  toJSON(): { bucket: string; prefix: string } {
    return { bucket: this.bucket, prefix: this.prefix };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `S3BackupStorage(${JSON.stringify(this.toJSON())})`;
  }
}

function isObjectName(name: string): boolean {
  try {
    checkObjectName(name);
    return true;
  } catch {
    return false;
  }
}
