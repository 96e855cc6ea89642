/**
 * The key vault core (docs/backups.md "The key vault"): transport-free, over a `VaultStore`.
 * Per account and purpose ('backup' | 'pin-master-key') it keeps an OPAQUE registration record
 * (RFC 9807), a secret wrapped by the client under its OPAQUE export key, and a counter of
 * attempts. It never sees the password or the secret.
 *
 * Guess limiting, "charge first, refund on success": `loginStart` is where a guess happens (the
 * server's OPRF evaluation lets the client test one password against the envelope, offline, with
 * no further message), so the attempt is charged by a committed compare-and-set BEFORE the OPAQUE
 * step runs; nothing is released otherwise. A verified `loginFinish` resets the counter. With
 * VAULT_MAX_ATTEMPTS attempts charged, the last one may still finish within the login TTL; after
 * that the record is destroyed (registration record and wrapped secret erased, a tombstone says
 * so). A failed `loginFinish` destroys at once when no attempt is left. Attempts beyond the first
 * VAULT_FREE_ATTEMPTS wait an exponential backoff.
 *
 * Registrations use a fresh random registration id in the OPAQUE credential identifier, so
 * `registrationStart` (an OPRF evaluation the vault does not count) never evaluates the OPRF key
 * of an existing record.
 */
import { randomBytes } from '@sotto/crypto';
import { BackupError } from '../errors.js';
import { fromBase64url, toBase64url } from '../encoding.js';
import {
  VAULT_BACKOFF_BASE_MS,
  VAULT_BACKOFF_MAX_MS,
  VAULT_FREE_ATTEMPTS,
  VAULT_LOGIN_STATE_TTL_MS,
  VAULT_MAX_ACCOUNT_ID_LENGTH,
  VAULT_MAX_ATTEMPTS,
  VAULT_MAX_CAS_RETRIES,
  VAULT_MAX_CLIENT_PARAMS_LENGTH,
  VAULT_MAX_OPAQUE_MESSAGE_LENGTH,
  VAULT_MAX_WRAPPED_SECRET_LENGTH,
} from '../limits.js';
import { loginStateKey, openLoginState, sealLoginState } from './login-state.js';
import { opaque, opaqueReady } from './opaque.js';
import {
  VAULT_PURPOSES,
  type StoredVaultRecord,
  type VaultPurpose,
  type VaultRecord,
  type VaultRecordKey,
  type VaultStore,
} from './vault-store.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const ACCOUNT_ID = /^[A-Za-z0-9._:+-]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const REGISTRATION_ID_BYTES = 16;

/** The default backoff: none for the first VAULT_FREE_ATTEMPTS failures, then 1 s, 2 s, 4 s, ... */
export function defaultAttemptDelayMs(failures: number): number {
  if (failures < VAULT_FREE_ATTEMPTS) return 0;
  return Math.min(
    VAULT_BACKOFF_BASE_MS * 2 ** (failures - VAULT_FREE_ATTEMPTS),
    VAULT_BACKOFF_MAX_MS,
  );
}

export interface KeyVaultOptions {
  readonly store: VaultStore;
  /**
   * The OPAQUE server setup (`opaque.server.createSetup()`), best kept outside the database (a
   * secret manager): then a stolen database alone does not allow offline guessing. Without it,
   * the vault creates one and saves it in the store.
   */
  readonly serverSetup?: string;
  /** Clock (ms since the epoch); default `Date.now`. */
  readonly now?: () => number;
  /** Delay required before the next attempt after `failures` unrefunded ones. */
  readonly attemptDelayMs?: (failures: number) => number;
  /** Randomness for registration ids, revisions and nonces; default the CSPRNG. */
  readonly random?: (length: number) => Uint8Array;
}

export interface VaultRegistrationStartRequest extends VaultRecordKey {
  /** OPAQUE RegistrationRequest, base64url. */
  readonly registrationRequest: string;
}
export interface VaultRegistrationStartResponse {
  /** Hand back in `registrationFinish`. */
  readonly registrationId: string;
  /** OPAQUE RegistrationResponse, base64url. */
  readonly registrationResponse: string;
}
export interface VaultRegistrationFinishRequest extends VaultRecordKey {
  readonly registrationId: string;
  /** OPAQUE RegistrationRecord, base64url. */
  readonly registrationRecord: string;
  /** The secret wrapped under the export key (`vault-client.ts`). */
  readonly wrappedSecret: Uint8Array;
  /** Client parameters returned at login (key-stretching settings); opaque to the vault. */
  readonly clientParams?: string;
}
export interface VaultLoginStartRequest extends VaultRecordKey {
  /** OPAQUE KE1 (`startLoginRequest`), base64url. */
  readonly startLoginRequest: string;
}
export interface VaultLoginStartResponse {
  /** OPAQUE KE2, base64url. */
  readonly loginResponse: string;
  /** Sealed server state: hand back in `loginFinish` within VAULT_LOGIN_STATE_TTL_MS. */
  readonly loginState: string;
  /** Attempts left after this one, if this one fails. */
  readonly attemptsRemaining: number;
  readonly clientParams: string;
}
export interface VaultLoginFinishRequest extends VaultRecordKey {
  readonly loginState: string;
  /** OPAQUE KE3 (`finishLoginRequest`), base64url. */
  readonly finishLoginRequest: string;
}
export interface VaultLoginFinishResponse {
  readonly wrappedSecret: Uint8Array;
}

export interface VaultStatus {
  readonly state: 'absent' | 'active' | 'destroyed';
  readonly attemptsRemaining: number;
  /** Milliseconds until an attempt is accepted (0: now). */
  readonly retryAfterMs: number;
}

/** The vault's operations as a client sees them (in-process or over a transport). */
export interface VaultApi {
  registrationStart(
    request: VaultRegistrationStartRequest,
  ): Promise<VaultRegistrationStartResponse>;
  registrationFinish(request: VaultRegistrationFinishRequest): Promise<void>;
  loginStart(request: VaultLoginStartRequest): Promise<VaultLoginStartResponse>;
  loginFinish(request: VaultLoginFinishRequest): Promise<VaultLoginFinishResponse>;
}

function badRequest(message: string): BackupError {
  return new BackupError('VAULT_BAD_REQUEST', message);
}

function checkKey(key: VaultRecordKey): VaultRecordKey {
  const { accountId, purpose } = key;
  if (
    typeof accountId !== 'string' ||
    accountId.length === 0 ||
    accountId.length > VAULT_MAX_ACCOUNT_ID_LENGTH ||
    !ACCOUNT_ID.test(accountId)
  ) {
    throw badRequest('accountId is malformed');
  }
  if (!VAULT_PURPOSES.includes(purpose)) throw badRequest('purpose is unknown');
  return { accountId, purpose };
}

function checkMessage(value: unknown, name: string): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > VAULT_MAX_OPAQUE_MESSAGE_LENGTH ||
    !BASE64URL.test(value)
  ) {
    throw badRequest(`${name} is malformed`);
  }
  return value;
}

function credentialIdentifier(key: VaultRecordKey, registrationId: string): string {
  return `sotto-vault-v1|${key.purpose}|${key.accountId}|${registrationId}`;
}

const tombstone = (record: VaultRecord, now: number): VaultRecord => ({
  status: 'destroyed',
  registrationId: '',
  registrationRecord: '',
  wrappedSecret: new Uint8Array(0),
  clientParams: '',
  failedAttempts: record.failedAttempts,
  lastAttemptAtMs: record.lastAttemptAtMs,
  updatedAtMs: now,
});

export class KeyVault implements VaultApi {
  readonly #store: VaultStore;
  readonly #serverSetup: string;
  readonly #sealingKey: Uint8Array;
  readonly #now: () => number;
  readonly #attemptDelayMs: (failures: number) => number;
  readonly #random: (length: number) => Uint8Array;
  /** The vault's OPAQUE public key: clients may pin it (`VaultClientOptions.serverPublicKey`). */
  readonly serverPublicKey: string;

  private constructor(options: KeyVaultOptions, serverSetup: string) {
    this.#store = options.store;
    this.#serverSetup = serverSetup;
    this.#sealingKey = loginStateKey(serverSetup);
    this.#now = options.now ?? Date.now;
    this.#attemptDelayMs = options.attemptDelayMs ?? defaultAttemptDelayMs;
    this.#random = options.random ?? randomBytes;
    this.serverPublicKey = opaque.server.getPublicKey(serverSetup);
  }

  /** Loads (or creates and saves) the OPAQUE server setup and returns a ready vault. */
  static async open(options: KeyVaultOptions): Promise<KeyVault> {
    await opaqueReady();
    let setup = options.serverSetup;
    if (setup === undefined) {
      setup = await options.store.loadServerSetup();
      setup ??= await options.store.saveServerSetupIfAbsent(opaque.server.createSetup());
    }
    try {
      opaque.server.getPublicKey(setup);
    } catch (cause) {
      throw new BackupError('INVALID_ARGUMENT', 'the OPAQUE server setup is malformed', { cause });
    }
    return new KeyVault(options, setup);
  }

  #token(bytes: number): string {
    return toBase64url(this.#random(bytes));
  }

  registrationStart(
    request: VaultRegistrationStartRequest,
  ): Promise<VaultRegistrationStartResponse> {
    // The Promise constructor turns a synchronous throw into a rejection.
    return new Promise((resolve) => resolve(this.#registrationStart(request)));
  }

  #registrationStart(request: VaultRegistrationStartRequest): VaultRegistrationStartResponse {
    const key = checkKey(request);
    const registrationRequest = checkMessage(request.registrationRequest, 'registrationRequest');
    const registrationId = this.#token(REGISTRATION_ID_BYTES);
    let registrationResponse: string;
    try {
      ({ registrationResponse } = opaque.server.createRegistrationResponse({
        serverSetup: this.#serverSetup,
        userIdentifier: credentialIdentifier(key, registrationId),
        registrationRequest,
      }));
    } catch (cause) {
      throw new BackupError('VAULT_BAD_REQUEST', 'registrationRequest is invalid', { cause });
    }
    return { registrationId, registrationResponse };
  }

  /** Stores a registration, replacing any earlier one (and its counter) for this key. */
  async registrationFinish(request: VaultRegistrationFinishRequest): Promise<void> {
    const key = checkKey(request);
    const registrationRecord = checkMessage(request.registrationRecord, 'registrationRecord');
    const registrationId = checkMessage(request.registrationId, 'registrationId');
    if (fromBase64urlOrUndefined(registrationId)?.length !== REGISTRATION_ID_BYTES) {
      throw badRequest('registrationId is malformed');
    }
    const { wrappedSecret } = request;
    if (
      !(wrappedSecret instanceof Uint8Array) ||
      wrappedSecret.length === 0 ||
      wrappedSecret.length > VAULT_MAX_WRAPPED_SECRET_LENGTH
    ) {
      throw badRequest('wrappedSecret is malformed');
    }
    const clientParams = request.clientParams ?? '';
    if (typeof clientParams !== 'string' || clientParams.length > VAULT_MAX_CLIENT_PARAMS_LENGTH) {
      throw badRequest('clientParams is malformed');
    }
    const now = this.#now();
    const record: VaultRecord = {
      status: 'active',
      registrationId,
      registrationRecord,
      wrappedSecret: Uint8Array.from(wrappedSecret),
      clientParams,
      failedAttempts: 0,
      lastAttemptAtMs: 0,
      updatedAtMs: now,
    };
    await this.#update(key, () => ({ write: record, result: undefined }));
  }

  async loginStart(request: VaultLoginStartRequest): Promise<VaultLoginStartResponse> {
    const key = checkKey(request);
    const startLoginRequest = checkMessage(request.startLoginRequest, 'startLoginRequest');
    // 1. Charge the attempt (a committed write) or refuse.
    type Charge =
      | 'destroyed'
      | { readonly retryAfterMs: number }
      | { readonly record: VaultRecord; readonly now: number };
    const charged = await this.#update<Charge>(key, (stored, now) => {
      const record = this.#usable(stored, now);
      if (record === 'destroy')
        return { write: tombstone(stored!.record, now), result: 'destroyed' as const };
      const retryAt = record.lastAttemptAtMs + this.#attemptDelayMs(record.failedAttempts);
      if (now < retryAt) return { result: { retryAfterMs: retryAt - now } };
      return {
        write: {
          ...record,
          failedAttempts: record.failedAttempts + 1,
          lastAttemptAtMs: now,
          updatedAtMs: now,
        },
        result: { record, now },
      };
    });
    if (charged === 'destroyed') throw destroyed();
    if ('retryAfterMs' in charged) throw rateLimited(charged.retryAfterMs);
    const { record, now } = charged;
    // 2. Only now the OPAQUE step that lets the client test one guess.
    let loginResponse: string;
    let serverLoginState: string;
    try {
      ({ loginResponse, serverLoginState } = opaque.server.startLogin({
        serverSetup: this.#serverSetup,
        userIdentifier: credentialIdentifier(key, record.registrationId),
        registrationRecord: record.registrationRecord,
        startLoginRequest,
      }));
    } catch (cause) {
      // A malformed KE1 gives the client no guess: refund the charge.
      await this.#refund(key, record.registrationId);
      throw new BackupError('VAULT_BAD_REQUEST', 'startLoginRequest is invalid', { cause });
    }
    const loginState = sealLoginState(
      this.#sealingKey,
      key,
      { issuedAtMs: now, registrationId: record.registrationId, serverLoginState },
      this.#random(12),
    );
    return {
      loginResponse,
      loginState,
      attemptsRemaining: VAULT_MAX_ATTEMPTS - (record.failedAttempts + 1),
      clientParams: record.clientParams,
    };
  }

  async loginFinish(request: VaultLoginFinishRequest): Promise<VaultLoginFinishResponse> {
    const key = checkKey(request);
    const finishLoginRequest = checkMessage(request.finishLoginRequest, 'finishLoginRequest');
    if (typeof request.loginState !== 'string') throw badRequest('loginState is malformed');
    const state = openLoginState(this.#sealingKey, key, request.loginState);
    const now = this.#now();
    if (
      state === undefined ||
      now > state.issuedAtMs + VAULT_LOGIN_STATE_TTL_MS ||
      now < state.issuedAtMs
    ) {
      throw new BackupError('VAULT_LOGIN_EXPIRED', 'the login state is invalid or expired');
    }
    let verified: boolean;
    try {
      opaque.server.finishLogin({ finishLoginRequest, serverLoginState: state.serverLoginState });
      verified = true;
    } catch {
      verified = false;
    }
    type Outcome =
      | 'absent'
      | 'destroyed'
      | 'replaced'
      | { readonly wrappedSecret: Uint8Array }
      | { readonly attemptsRemaining: number };
    const outcome = await this.#update<Outcome>(key, (stored, at) => {
      if (stored === undefined) return { result: 'absent' as const };
      const { record } = stored;
      if (record.status === 'destroyed') return { result: 'destroyed' as const };
      if (record.registrationId !== state.registrationId) return { result: 'replaced' as const };
      if (verified) {
        return {
          write: { ...record, failedAttempts: 0, updatedAtMs: at },
          result: { wrappedSecret: record.wrappedSecret },
        };
      }
      if (record.failedAttempts >= VAULT_MAX_ATTEMPTS) {
        return { write: tombstone(record, at), result: 'destroyed' as const };
      }
      return { result: { attemptsRemaining: VAULT_MAX_ATTEMPTS - record.failedAttempts } };
    });
    switch (outcome) {
      case 'absent':
        throw notFound();
      case 'destroyed':
        throw destroyed();
      case 'replaced':
        throw new BackupError('VAULT_LOGIN_EXPIRED', 'the registration was replaced during login');
      default:
        if ('wrappedSecret' in outcome) return { wrappedSecret: outcome.wrappedSecret };
        throw wrongPassword(outcome.attemptsRemaining);
    }
  }

  /** The record's state, destroying an exhausted record whose last attempt has expired. */
  async status(request: VaultRecordKey): Promise<VaultStatus> {
    const key = checkKey(request);
    return this.#update<VaultStatus>(key, (stored, now) => {
      if (stored === undefined) {
        return { result: { state: 'absent' as const, attemptsRemaining: 0, retryAfterMs: 0 } };
      }
      const record = this.#usable(stored, now);
      if (record === 'destroy') {
        return {
          write: tombstone(stored.record, now),
          result: { state: 'destroyed' as const, attemptsRemaining: 0, retryAfterMs: 0 },
        };
      }
      const retryAt = record.lastAttemptAtMs + this.#attemptDelayMs(record.failedAttempts);
      return {
        result: {
          state: 'active' as const,
          attemptsRemaining: VAULT_MAX_ATTEMPTS - record.failedAttempts,
          retryAfterMs: Math.max(0, retryAt - now),
        },
      };
    }).catch((err: unknown) => {
      if (BackupError.is(err, 'VAULT_RECORD_DESTROYED')) {
        return { state: 'destroyed' as const, attemptsRemaining: 0, retryAfterMs: 0 };
      }
      if (BackupError.is(err, 'VAULT_RATE_LIMITED')) {
        return {
          state: 'active' as const,
          attemptsRemaining: 0,
          retryAfterMs: err.details.retryAfterMs ?? 0,
        };
      }
      throw err;
    });
  }

  /** Deletes the record (or its tombstone). True if there was one. */
  async delete(request: VaultRecordKey): Promise<boolean> {
    const key = checkKey(request);
    for (let i = 0; i < VAULT_MAX_CAS_RETRIES; i++) {
      const stored = await this.#store.get(key);
      if (stored === undefined) return false;
      if (await this.#store.compareAndDelete(key, stored.revision)) return true;
    }
    throw conflict();
  }

  /**
   * The active record if an attempt may be charged on it; 'destroy' if it is exhausted and its
   * last attempt expired. Throws for a missing or destroyed record, or an in-flight last attempt.
   */
  #usable(stored: StoredVaultRecord | undefined, now: number): VaultRecord | 'destroy' {
    if (stored === undefined) throw notFound();
    const { record } = stored;
    if (record.status === 'destroyed') throw destroyed();
    if (record.failedAttempts >= VAULT_MAX_ATTEMPTS) {
      const until = record.lastAttemptAtMs + VAULT_LOGIN_STATE_TTL_MS;
      if (now < until) throw rateLimited(until - now);
      return 'destroy';
    }
    return record;
  }

  /** Gives back one charged attempt (a KE1 that could not be processed). */
  async #refund(key: VaultRecordKey, registrationId: string): Promise<void> {
    await this.#update(key, (stored, now) => {
      const record = stored?.record;
      if (
        record?.status !== 'active' ||
        record.registrationId !== registrationId ||
        record.failedAttempts === 0
      ) {
        return { result: undefined };
      }
      return {
        write: { ...record, failedAttempts: record.failedAttempts - 1, updatedAtMs: now },
        result: undefined,
      };
    });
  }

  /**
   * Reads the record, lets `decide` compute the next record (or none) and a result, and commits
   * by compare-and-set, re-reading on conflict. Only a committed write lets the result out.
   */
  async #update<T>(
    key: VaultRecordKey,
    decide: (
      stored: StoredVaultRecord | undefined,
      now: number,
    ) => { readonly write?: VaultRecord; readonly result: T },
  ): Promise<T> {
    for (let i = 0; i < VAULT_MAX_CAS_RETRIES; i++) {
      const stored = await this.#store.get(key);
      const { write, result } = decide(stored, this.#now());
      if (write === undefined) return result;
      if (await this.#store.compareAndSet(key, stored?.revision, this.#token(16), write)) {
        return result;
      }
    }
    throw conflict();
  }

  toJSON(): string {
    return `KeyVault(${this.serverPublicKey})`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}

function fromBase64urlOrUndefined(text: string): Uint8Array | undefined {
  try {
    return fromBase64url(text, 'registrationId');
  } catch {
    return undefined;
  }
}

function notFound(): BackupError {
  return new BackupError('VAULT_NOT_FOUND', 'no vault record for this account and purpose');
}
function destroyed(): BackupError {
  return new BackupError(
    'VAULT_RECORD_DESTROYED',
    `the vault record was destroyed after ${VAULT_MAX_ATTEMPTS} wrong guesses; the secret it held is gone`,
  );
}
function rateLimited(retryAfterMs: number): BackupError {
  return new BackupError('VAULT_RATE_LIMITED', `try again in ${Math.ceil(retryAfterMs / 1000)} s`, {
    details: { retryAfterMs },
  });
}
function wrongPassword(attemptsRemaining: number): BackupError {
  return new BackupError(
    'VAULT_WRONG_PASSWORD',
    `wrong password; ${attemptsRemaining} attempts left`,
    {
      details: { attemptsRemaining },
    },
  );
}
function conflict(): BackupError {
  return new BackupError('VAULT_CONFLICT', 'the vault record kept changing; try again');
}

export type { VaultPurpose };
