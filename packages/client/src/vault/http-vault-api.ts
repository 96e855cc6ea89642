/**
 * `HttpVaultApi`: the key vault's `VaultApi` (@sotto/backup) over HTTP, on the routes of
 * @sotto/api vault-routes.ts — the vault inside the relay (the default URL is the relay's) or a
 * standalone one. Requests carry a vault credential (HTTP Basic, Signal's external service
 * credentials) that the relay issues: `SottoClient.vaultCredential()` for a registered device, or
 * the REGISTRATION_LOCKED answer for a new one. The vault takes the account from the credential;
 * the `accountId` of each request must match it (it is also bound into the wrapped secret).
 *
 * Errors: the vault's answers come back as the `BackupError` codes the vault client helpers
 * (`recoverVaultSecret`, ...) and their callers switch on — VAULT_WRONG_PASSWORD (with
 * `attemptsRemaining`), VAULT_RECORD_DESTROYED, VAULT_NOT_FOUND, VAULT_RATE_LIMITED (with
 * `retryAfterMs`), VAULT_LOGIN_EXPIRED, VAULT_BAD_REQUEST, VAULT_CONFLICT — with the relay's
 * error (a `ClientError` carrying `apiCode`) as `cause`. Anything else (no vault on this relay, a
 * refused credential, the network) is a `ClientError`. Nothing secret enters an error message.
 */
import {
  formatVaultAuthorization,
  toBase64,
  fromBase64,
  vaultRoutes,
  type VaultCredential,
  type VaultRequestBody,
  type VaultResponseBody,
  type VaultRouteName,
} from '@sotto/api';
import {
  BackupError,
  type VaultApi,
  type VaultLoginFinishRequest,
  type VaultLoginFinishResponse,
  type VaultLoginStartRequest,
  type VaultLoginStartResponse,
  type VaultPurpose,
  type VaultRegistrationFinishRequest,
  type VaultRegistrationStartRequest,
  type VaultRegistrationStartResponse,
  type VaultStatus,
} from '@sotto/backup';
import { ClientError } from '../errors.js';
import { VAULT_CREDENTIAL_REUSE_MS } from '../limits.js';
import { apiErrorFromBody, serverRejected, type FetchLike } from '../transport/http-api.js';

export interface HttpVaultApiOptions {
  /** The vault's base URL: the relay's (`https://chat.example.org`) unless it runs apart. */
  readonly url: string;
  /**
   * The vault credential, or a function that fetches one (called again once a fetched credential
   * is VAULT_CREDENTIAL_REUSE_MS old, or after the vault refused it). A secret: never logged.
   */
  readonly credential: VaultCredential | (() => Promise<VaultCredential>);
  /** Default: `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /** Default: `Date.now` (for the credential cache). */
  readonly now?: () => number;
}

type Call = {
  readonly name: VaultRouteName;
  readonly purpose: VaultPurpose;
  readonly body?: unknown;
};

const TO_BACKUP_CODE = {
  VAULT_LOGIN_FAILED: 'VAULT_WRONG_PASSWORD',
  VAULT_RECORD_DESTROYED: 'VAULT_RECORD_DESTROYED',
  VAULT_RECORD_NOT_FOUND: 'VAULT_NOT_FOUND',
  RATE_LIMITED: 'VAULT_RATE_LIMITED',
  VAULT_LOGIN_EXPIRED: 'VAULT_LOGIN_EXPIRED',
  INVALID_REQUEST: 'VAULT_BAD_REQUEST',
  VAULT_CONFLICT: 'VAULT_CONFLICT',
} as const;

export class HttpVaultApi implements VaultApi {
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #source: HttpVaultApiOptions['credential'];
  #cached: { credential: VaultCredential; at: number } | null = null;

  constructor(options: HttpVaultApiOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new ClientError('INVALID_ARGUMENT', 'url must be an http(s) URL');
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (fetchImpl === undefined) {
      throw new ClientError('INVALID_ARGUMENT', 'no fetch implementation: pass options.fetch');
    }
    this.#base = options.url.replace(/\/+$/, '');
    this.#fetch = fetchImpl;
    this.#now = options.now ?? Date.now;
    this.#source = options.credential;
  }

  /** The account the credential is for. */
  async accountId(): Promise<string> {
    return (await this.#credential()).username;
  }

  async registrationStart(
    request: VaultRegistrationStartRequest,
  ): Promise<VaultRegistrationStartResponse> {
    await this.#checkAccount(request.accountId);
    const body: VaultRequestBody<'vaultRegistrationStart'> = {
      registrationRequest: request.registrationRequest,
    };
    const res = await this.#json('vaultRegistrationStart', request.purpose, body);
    return { registrationId: res.registrationId, registrationResponse: res.registrationResponse };
  }

  async registrationFinish(request: VaultRegistrationFinishRequest): Promise<void> {
    await this.#checkAccount(request.accountId);
    const body: VaultRequestBody<'vaultRegistrationFinish'> = {
      registrationId: request.registrationId,
      registrationRecord: request.registrationRecord,
      wrappedSecret: toBase64(request.wrappedSecret),
      ...(request.clientParams === undefined ? {} : { clientParams: request.clientParams }),
    };
    await this.#send({ name: 'vaultRegistrationFinish', purpose: request.purpose, body });
  }

  async loginStart(request: VaultLoginStartRequest): Promise<VaultLoginStartResponse> {
    await this.#checkAccount(request.accountId);
    const body: VaultRequestBody<'vaultLoginStart'> = {
      startLoginRequest: request.startLoginRequest,
    };
    const res = await this.#json('vaultLoginStart', request.purpose, body);
    return {
      loginResponse: res.loginResponse,
      loginState: res.loginState,
      attemptsRemaining: res.attemptsRemaining,
      clientParams: res.clientParams,
    };
  }

  async loginFinish(request: VaultLoginFinishRequest): Promise<VaultLoginFinishResponse> {
    await this.#checkAccount(request.accountId);
    const body: VaultRequestBody<'vaultLoginFinish'> = {
      loginState: request.loginState,
      finishLoginRequest: request.finishLoginRequest,
    };
    const res = await this.#json('vaultLoginFinish', request.purpose, body);
    let wrappedSecret: Uint8Array;
    try {
      wrappedSecret = fromBase64(res.wrappedSecret, 'wrappedSecret');
    } catch (cause) {
      throw new ClientError('NETWORK', 'the vault sent a malformed wrapped secret', { cause });
    }
    return { wrappedSecret };
  }

  /** The record's state for the credential's account (does not cost a guess). */
  async status(purpose: VaultPurpose): Promise<VaultStatus> {
    const res = await this.#json('vaultStatus', purpose);
    return {
      state: res.state,
      attemptsRemaining: res.attemptsRemaining,
      retryAfterMs: res.retryAfterMs,
    };
  }

  /** Deletes the record; true if there was one. */
  async delete(purpose: VaultPurpose): Promise<boolean> {
    return (await this.#json('vaultDelete', purpose)).deleted;
  }

  async #checkAccount(accountId: string): Promise<void> {
    if ((await this.#credential()).username !== accountId) {
      throw new BackupError(
        'INVALID_ARGUMENT',
        'the vault request is for another account than its credential',
      );
    }
  }

  async #credential(): Promise<VaultCredential> {
    const source = this.#source;
    if (typeof source !== 'function') return source;
    const cached = this.#cached;
    if (cached !== null && this.#now() - cached.at < VAULT_CREDENTIAL_REUSE_MS) {
      return cached.credential;
    }
    const credential = await source();
    this.#cached = { credential, at: this.#now() };
    return credential;
  }

  async #json<N extends VaultRouteName>(
    name: N,
    purpose: VaultPurpose,
    body?: unknown,
  ): Promise<NonNullable<VaultResponseBody<N>>> {
    const text = await this.#send(body === undefined ? { name, purpose } : { name, purpose, body });
    try {
      return JSON.parse(text) as NonNullable<VaultResponseBody<N>>;
    } catch (cause) {
      throw new ClientError('NETWORK', `${name}: the vault answered with malformed JSON`, {
        cause,
      });
    }
  }

  async #send(call: Call): Promise<string> {
    const route = vaultRoutes[call.name];
    const url = this.#base + route.url.replace(':purpose', encodeURIComponent(call.purpose));
    const headers: Record<string, string> = {
      authorization: formatVaultAuthorization(await this.#credential()),
    };
    const init: { method: string; headers: Record<string, string>; body?: string } = {
      method: route.method,
      headers,
    };
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(call.body);
    }
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(url, init);
      status = response.status;
      text = await response.text();
    } catch (cause) {
      throw new ClientError('NETWORK', `${call.name}: the vault could not be reached`, { cause });
    }
    if (status >= 200 && status < 300) return text;
    const error = this.#errorFrom(call.name, status, text);
    if (ClientError.isApi(error, 'VAULT_CREDENTIAL_INVALID')) this.#cached = null;
    throw error;
  }

  #errorFrom(name: string, status: number, text: string): Error {
    const apiError = apiErrorFromBody(text);
    if (apiError === undefined) {
      return new ClientError('NETWORK', `${name}: unexpected HTTP ${status} from the vault`);
    }
    const { code, details } = apiError;
    const rejected = serverRejected(name, apiError);
    if (!Object.prototype.hasOwnProperty.call(TO_BACKUP_CODE, code)) return rejected;
    const backupCode = TO_BACKUP_CODE[code as keyof typeof TO_BACKUP_CODE];
    const numbers = (details ?? {}) as { attemptsRemaining?: unknown; retryAfterMs?: unknown };
    const attemptsRemaining =
      typeof numbers.attemptsRemaining === 'number' ? numbers.attemptsRemaining : undefined;
    const retryAfterMs =
      typeof numbers.retryAfterMs === 'number' ? numbers.retryAfterMs : undefined;
    return new BackupError(backupCode, apiError.message, {
      cause: rejected,
      details: {
        ...(attemptsRemaining === undefined ? {} : { attemptsRemaining }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    });
  }
}
