/**
 * The relay adapter of @sotto/backup's storage port (docs/backups.md "Storage"): backup archives
 * kept by the account's own relay under `/v1/backups/:name` (packages/api routes.ts), with the
 * device credential. Archives stream both ways — the upload is a `fetch` with a `ReadableStream`
 * body (`duplex: 'half'`, chunked transfer encoding), the download is the response body — so a
 * 1 GiB archive never sits in memory. The relay replaces an object only once every byte arrived
 * (a failed source aborts the request, and the relay discards what it got), keeps the newest
 * backups up to its retention count, and sees only ciphertext, sizes and times.
 *
 * Errors are `BackupError`s as the port requires: STORAGE_NOT_FOUND for a missing object,
 * STORAGE_FULL when the relay refuses the size or the account's quota, STORAGE_IO otherwise, with
 * a `ClientError` (and the relay's registry code in `apiCode`) as the cause.
 *
 * Streaming request bodies need a fetch that supports them: Node ≥ 18's global fetch does;
 * browsers do only over HTTP/2 (Chromium ≥ 105). The `fetch` option defaults to the global one.
 * Requests use `redirect: 'error'`; with redirects followed, Node 20's fetch would keep the whole
 * uploaded body in memory (see `#request`; `tests/e2e/relay-backup-storage.slow.test.ts`).
 */
import { formatAuthorization, routes, type DeviceCredentials, type ResponseBody } from '@sotto/api';
import {
  BackupError,
  checkObjectName,
  type BackupObjectInfo,
  type BackupStorage,
  type ByteSource,
} from '@sotto/backup';
import { ClientError } from '../errors.js';
import { apiErrorFromBody, serverRejected } from '../transport/http-api.js';

/** The part of WHATWG `fetch` this adapter uses (the global `fetch` of Node ≥ 18 fits). */
export type BackupFetch = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: ReadableStream<Uint8Array>;
    duplex?: 'half';
    redirect?: 'error';
  },
) => Promise<Response>;

export interface RelayBackupStorageOptions {
  /** The relay, e.g. `https://chat.example.org` (the client's `serverUrl`). */
  readonly serverUrl: string;
  /** This device's credentials, read for every request (inside the SDK: `core.credentials()`). */
  readonly credentials: () => DeviceCredentials;
  /** A fetch that streams request bodies; default `globalThis.fetch`. */
  readonly fetch?: BackupFetch;
}

/** Upload pieces are gathered to about this size: tiny source pieces would cost a chunk each. */
const UPLOAD_PIECE_BYTES = 256 * 1024;

export class RelayBackupStorage implements BackupStorage {
  readonly #base: string;
  readonly #credentials: () => DeviceCredentials;
  readonly #fetch: BackupFetch;

  constructor(options: RelayBackupStorageOptions) {
    const fetchImpl: BackupFetch | undefined =
      options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch : undefined);
    if (fetchImpl === undefined) {
      throw new BackupError('INVALID_ARGUMENT', 'no fetch implementation: pass options.fetch');
    }
    this.#base = options.serverUrl.replace(/\/+$/, '');
    this.#credentials = options.credentials;
    this.#fetch = fetchImpl;
  }

  async put(name: string, data: ByteSource): Promise<BackupObjectInfo> {
    checkObjectName(name);
    const counted = countingStream(data);
    const response = await this.#request('uploadBackup', name, {
      body: counted.stream,
      headers: { 'content-type': 'application/octet-stream' },
    });
    const info = (await readJson(response, 'uploadBackup')) as ResponseBody<'uploadBackup'>;
    if (info.name !== name || info.size !== counted.bytes()) {
      throw new BackupError(
        'STORAGE_IO',
        `relay: the stored backup ${name} does not match what was sent (size ${info.size}, sent ${counted.bytes()})`,
      );
    }
    return { name, size: info.size };
  }

  async get(name: string): Promise<ReadableStream<Uint8Array>> {
    checkObjectName(name);
    const response = await this.#request('downloadBackup', name);
    if (response.body === null) return new ReadableStream({ start: (c) => c.close() });
    return response.body as ReadableStream<Uint8Array>;
  }

  async list(): Promise<readonly BackupObjectInfo[]> {
    const response = await this.#request('listBackups', null);
    const body = (await readJson(response, 'listBackups')) as ResponseBody<'listBackups'>;
    return body.backups
      .map((b) => ({ name: b.name, size: b.size }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(name: string): Promise<boolean> {
    checkObjectName(name);
    try {
      const response = await this.#request('deleteBackup', name);
      await response.body?.cancel();
      return true;
    } catch (err) {
      if (BackupError.is(err, 'STORAGE_NOT_FOUND')) return false;
      throw err;
    }
  }

  /** Sends one request; any answer but 2xx becomes a BackupError (the body is consumed). */
  async #request(
    route: 'uploadBackup' | 'downloadBackup' | 'listBackups' | 'deleteBackup',
    name: string | null,
    extra: { body?: ReadableStream<Uint8Array>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const spec = routes[route];
    const path = name === null ? spec.url : spec.url.replace(':name', encodeURIComponent(name));
    let headers: Record<string, string>;
    try {
      headers = { ...extra.headers, authorization: formatAuthorization(this.#credentials()) };
    } catch (cause) {
      throw new BackupError('STORAGE_IO', 'relay: this device is not registered', { cause });
    }
    let response: Response;
    try {
      response = await this.#fetch(this.#base + path, {
        method: spec.method,
        headers,
        // Not only right (a streamed body cannot be sent again after a redirect): with the default
        // 'follow', Node's fetch (undici 6) tees the request body for a possible redirect and keeps
        // every chunk of the unread branch until the response is gone (nodejs/undici#4058).
        redirect: 'error',
        ...(extra.body === undefined ? {} : { body: extra.body, duplex: 'half' as const }),
      });
    } catch (cause) {
      // A failed source lands here too: fetch aborts the upload, the relay keeps nothing of it.
      if (BackupError.is(cause)) throw cause;
      const source = sourceError(cause);
      if (source instanceof Error) throw source;
      if (source !== undefined) {
        throw new BackupError('STORAGE_IO', 'the backup source failed', { cause: source });
      }
      throw new BackupError('STORAGE_IO', `relay: ${route} failed`, {
        cause: new ClientError('NETWORK', `${route}: the relay could not be reached`, { cause }),
      });
    }
    if (response.status >= 200 && response.status < 300) return response;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the status alone decides below
    }
    throw relayError(route, response.status, text);
  }
}

async function readJson(response: Response, route: string): Promise<unknown> {
  try {
    return JSON.parse(await response.text());
  } catch (cause) {
    throw new BackupError('STORAGE_IO', `relay: ${route} answered with malformed JSON`, {
      cause,
    });
  }
}

function relayError(route: string, status: number, text: string): BackupError {
  const apiError = apiErrorFromBody(text);
  if (apiError === undefined) {
    return new BackupError('STORAGE_IO', `relay: unexpected HTTP ${status} on ${route}`, {
      cause: new ClientError('NETWORK', `${route}: unexpected HTTP ${status} from the relay`),
    });
  }
  const code = apiError.code;
  const cause = serverRejected(route, apiError);
  if (code === 'BACKUP_NOT_FOUND') {
    return new BackupError('STORAGE_NOT_FOUND', 'no backup object of this name on the relay', {
      cause,
    });
  }
  if (code === 'BACKUP_TOO_LARGE') {
    return new BackupError('STORAGE_FULL', 'the relay does not store backups this large', {
      cause,
    });
  }
  if (code === 'BACKUP_QUOTA_EXCEEDED') {
    return new BackupError(
      'STORAGE_FULL',
      "the relay's backup quota for this account is full: delete old backups or store elsewhere",
      { cause },
    );
  }
  return new BackupError('STORAGE_IO', `relay: ${route} refused (${code})`, { cause });
}

/** Marks errors thrown by the caller's byte source, so `put` rethrows them as they were. */
const SOURCE_ERROR = Symbol('sotto.backup.sourceError');

function sourceError(err: unknown): unknown {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const marked = (e as { [SOURCE_ERROR]?: unknown })[SOURCE_ERROR];
    if (marked !== undefined) return marked;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The source as a web stream of non-empty pieces of about UPLOAD_PIECE_BYTES, counting the bytes.
 * An error of the source errors the stream (fetch then aborts the request).
 */
function countingStream(source: ByteSource): {
  stream: ReadableStream<Uint8Array>;
  bytes: () => number;
} {
  let total = 0;
  let next: () => Promise<Uint8Array | undefined>;
  let close: () => Promise<void>;
  if (source instanceof ReadableStream) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    next = async () => {
      const r = await reader.read();
      return r.done ? undefined : r.value;
    };
    close = () => reader.cancel();
  } else if (Symbol.asyncIterator in source) {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    next = async () => {
      const r = await it.next();
      return r.done === true ? undefined : r.value;
    };
    close = async () => {
      await it.return?.();
    };
  } else {
    const it = (source as Iterable<Uint8Array>)[Symbol.iterator]();
    next = () => {
      const r = it.next();
      return Promise.resolve(r.done === true ? undefined : r.value);
    };
    close = () => {
      it.return?.();
      return Promise.resolve();
    };
  }
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const parts: Uint8Array[] = [];
      let size = 0;
      let done = false;
      try {
        while (size < UPLOAD_PIECE_BYTES) {
          const piece = await next();
          if (piece === undefined) {
            done = true;
            break;
          }
          if (!(piece instanceof Uint8Array)) {
            throw new BackupError('INVALID_ARGUMENT', 'backup source pieces must be Uint8Array');
          }
          if (piece.length === 0) continue;
          parts.push(piece);
          size += piece.length;
        }
      } catch (err) {
        const wrapped = new Error('the backup source failed');
        (wrapped as unknown as { [SOURCE_ERROR]: unknown })[SOURCE_ERROR] = err;
        controller.error(wrapped);
        return;
      }
      if (size > 0) {
        let out: Uint8Array;
        if (parts.length === 1) {
          out = parts[0]!;
        } else {
          out = new Uint8Array(size);
          let offset = 0;
          for (const p of parts) {
            out.set(p, offset);
            offset += p.length;
          }
        }
        total += size;
        controller.enqueue(out);
      }
      if (done) controller.close();
    },
    async cancel() {
      await close();
    },
  });
  return { stream, bytes: () => total };
}
