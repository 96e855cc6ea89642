// Shared set-up for the vault service tests: a standalone vault server on a memory store, a
// manual clock, credentials signed like the relay signs them, and a `VaultApi` that speaks to the
// server through inject() (no sockets), so the real OPAQUE client helpers of @sotto/backup drive
// the routes.
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  ApiError,
  formatVaultAuthorization,
  fromBase64,
  isApiErrorCode,
  toBase64,
  type VaultCredential,
} from '@sotto/api';
import {
  MemoryVaultStore,
  type VaultApi,
  type VaultClientOptions,
  type VaultLoginStartResponse,
  type VaultPurpose,
  type VaultStore,
} from '@sotto/backup';
import {
  createVaultServer,
  VaultCredentials,
  type VaultCredentialScope,
  type VaultServer,
  type VaultServerOptions,
} from '../src/index.js';

/** Cheap Argon2id so tests run fast; production uses the vault client's default. */
export const FAST: VaultClientOptions = {
  keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } },
};

export class ManualClock {
  ms = 1_760_000_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Harness {
  readonly server: VaultServer;
  readonly store: VaultStore;
  readonly clock: ManualClock;
  readonly key: Buffer;
  readonly credentials: VaultCredentials;
  credential(accountId: string, scope?: VaultCredentialScope): VaultCredential;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A fresh account id (UUID-like, as the relay's). */
export function newAccountId(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

export async function startVault(
  overrides: Partial<Omit<VaultServerOptions, 'credentialKey'>> = {},
): Promise<Harness> {
  const clock = new ManualClock();
  const key = randomBytes(32);
  const store = overrides.store ?? new MemoryVaultStore();
  const server = await createVaultServer({
    store,
    credentialKey: key,
    now: clock.now,
    attemptDelayMs: () => 0,
    ...overrides,
  });
  const credentials = new VaultCredentials({ key, now: clock.now });
  return {
    server,
    store,
    clock,
    key,
    credentials,
    credential: (accountId, scope = 'full') => credentials.issue(accountId, scope),
    inject: (options) => server.app.inject(options),
    close: () => server.close(),
  };
}

export function auth(credential: VaultCredential): Record<string, string> {
  return { authorization: formatVaultAuthorization(credential) };
}

export function errorOf(r: LightMyRequestResponse): {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
} {
  const body = r.json<{
    error: { code: string; message: string; details?: Record<string, unknown> };
  }>();
  return {
    status: r.statusCode,
    code: body.error.code,
    message: body.error.message,
    ...(body.error.details === undefined ? {} : { details: body.error.details }),
  };
}

/**
 * A VaultApi over inject(): what an HTTP client does, minus the socket. Errors become ApiErrors
 * with the vault's code and details; the last login start is kept for tests that tamper with it.
 */
export class InjectedVaultApi implements VaultApi {
  lastLoginStart: VaultLoginStartResponse | null = null;
  lastStartLoginRequest: string | null = null;

  constructor(
    private readonly h: Harness,
    private readonly credential: VaultCredential,
  ) {}

  async #call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object): Promise<unknown> {
    const r = await this.h.inject({
      method,
      url,
      headers: auth(this.credential),
      ...(payload === undefined ? {} : { payload }),
    });
    if (r.statusCode >= 200 && r.statusCode < 300) {
      return r.body.length === 0 ? undefined : r.json();
    }
    const e = errorOf(r);
    if (!isApiErrorCode(e.code)) throw new Error(`unknown code ${e.code}`);
    throw new ApiError(e.code, e.message, e.details === undefined ? {} : { details: e.details });
  }

  registrationStart(r: { purpose: VaultPurpose; registrationRequest: string }) {
    return this.#call('POST', `/v1/vault/records/${r.purpose}/registration/start`, {
      registrationRequest: r.registrationRequest,
    }) as Promise<{ registrationId: string; registrationResponse: string }>;
  }

  async registrationFinish(r: {
    purpose: VaultPurpose;
    registrationId: string;
    registrationRecord: string;
    wrappedSecret: Uint8Array;
    clientParams?: string;
  }): Promise<void> {
    await this.#call('POST', `/v1/vault/records/${r.purpose}/registration/finish`, {
      registrationId: r.registrationId,
      registrationRecord: r.registrationRecord,
      wrappedSecret: toBase64(r.wrappedSecret),
      ...(r.clientParams === undefined ? {} : { clientParams: r.clientParams }),
    });
  }

  async loginStart(r: { purpose: VaultPurpose; startLoginRequest: string }) {
    this.lastStartLoginRequest = r.startLoginRequest;
    const res = (await this.#call('POST', `/v1/vault/records/${r.purpose}/login/start`, {
      startLoginRequest: r.startLoginRequest,
    })) as VaultLoginStartResponse;
    this.lastLoginStart = res;
    return res;
  }

  async loginFinish(r: { purpose: VaultPurpose; loginState: string; finishLoginRequest: string }) {
    const res = (await this.#call('POST', `/v1/vault/records/${r.purpose}/login/finish`, {
      loginState: r.loginState,
      finishLoginRequest: r.finishLoginRequest,
    })) as { wrappedSecret: string };
    return { wrappedSecret: fromBase64(res.wrappedSecret) };
  }
}

export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
