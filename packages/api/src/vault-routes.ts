/**
 * The key vault's HTTP contract (docs/backups.md "The key vault"): the OPAQUE registration and
 * login steps of `@sotto/backup`'s `VaultApi`, the record status and deletion, all under
 * `/v1/vault/records/:purpose`, plus the relay route that issues vault credentials. The vault runs
 * inside the relay or as its own process; either way these are its routes and schemas (strict:
 * unknown fields are rejected). Errors are `ApiErrorBody` (errors.ts).
 *
 * Authentication follows Signal-Server's "external service credentials"
 * (`ExternalServiceCredentialsGenerator`): the relay, which knows the account, signs
 * `username = accountId` and `password = <unix seconds>:<hex of HMAC-SHA256(key, username ":"
 * seconds) truncated to 10 bytes>` with a key it shares with the vault; the client sends them as
 * HTTP Basic (RFC 7617). The vault takes the account id from the credential, never from a body.
 * The signing and checking (HMAC, constant-time comparison, expiry) live in the server and vault
 * packages; this file only formats and parses, without crypto.
 */
import { basicAuthorizationParts } from './credentials.js';
import { toBase64 } from './encoding.js';
import { ApiError, type ApiErrorCode, type VaultCredentialBody } from './errors.js';
import { t, type Schema, type Static } from './schema.js';

// ---- limits (each matches the vault core's bound in @sotto/backup limits.ts; a test checks) ---

/** OPAQUE messages (base64url text); real ones are under 400 characters. */
export const VAULT_MAX_OPAQUE_MESSAGE_CHARS = 4096;
/** The sealed login state the vault hands out between the two login steps (base64url text). */
export const VAULT_MAX_LOGIN_STATE_CHARS = 4096;
/** A wrapped secret: a 32-byte key wraps to 61 bytes. */
export const VAULT_MAX_WRAPPED_SECRET_BYTES = 256;
/** Client parameters (key-stretching settings, JSON text) stored with a record. */
export const VAULT_MAX_CLIENT_PARAMS_CHARS = 256;
/** Registration ids are 16 random bytes, base64url. */
export const VAULT_REGISTRATION_ID_BYTES = 16;
/** Account ids in vault credentials (the relay's are UUIDs; a standalone vault may use others). */
export const VAULT_MAX_USERNAME_CHARS = 128;
/** Signal's truncation of the credential HMAC (`ExternalServiceCredentialsGenerator`). */
export const VAULT_CREDENTIAL_SIGNATURE_BYTES = 10;
/** Every vault request body; the largest (registration finish) is under 2 KiB. */
export const VAULT_MAX_BODY_BYTES = 16 * 1024;

// ---- credentials ------------------------------------------------------------------------------

/** The vault credential header's parts. `password` is a secret: never log it. */
export type VaultCredential = VaultCredentialBody;

/** A parsed credential, before its signature and age are checked. */
export interface ParsedVaultCredential {
  readonly username: string;
  readonly timestampSeconds: number;
  /** Lower-case hex of the truncated HMAC. */
  readonly signatureHex: string;
}

const USERNAME = /^[A-Za-z0-9._+-]+$/;
const PASSWORD = new RegExp(`^([0-9]{1,12}):([0-9a-f]{${2 * VAULT_CREDENTIAL_SIGNATURE_BYTES}})$`);
const encoder = new TextEncoder();

/** True if `username` may be a vault credential's username (an account id, no ':'). */
export function isVaultUsername(username: unknown): username is string {
  return (
    typeof username === 'string' &&
    username.length > 0 &&
    username.length <= VAULT_MAX_USERNAME_CHARS &&
    USERNAME.test(username)
  );
}

/** The `Authorization` header for a vault credential (HTTP Basic). */
export function formatVaultAuthorization(credential: VaultCredential): string {
  return `Basic ${toBase64(encoder.encode(`${credential.username}:${credential.password}`))}`;
}

/** Splits a vault credential's password; undefined if it is malformed. */
export function parseVaultPassword(
  password: string,
): { readonly timestampSeconds: number; readonly signatureHex: string } | undefined {
  const m = PASSWORD.exec(password);
  if (m === null) return undefined;
  return { timestampSeconds: Number(m[1]), signatureHex: m[2]! };
}

/**
 * Parses an `Authorization` header carrying a vault credential; throws VAULT_CREDENTIAL_INVALID on
 * anything malformed, without echoing the header (it holds the credential).
 */
export function parseVaultAuthorization(header: string | undefined): ParsedVaultCredential {
  const fail = () => new ApiError('VAULT_CREDENTIAL_INVALID');
  // 'Basic ' + base64 of '<≤128>:<≤12>:<20>'.
  const parts = basicAuthorizationParts(header, 256);
  if (parts === undefined) throw fail();
  const username = parts.user;
  const password = parseVaultPassword(parts.password);
  if (!isVaultUsername(username) || password === undefined) throw fail();
  return { username, ...password };
}

// ---- routes -----------------------------------------------------------------------------------

const opaqueMessage = t.string({
  minLength: 1,
  maxLength: VAULT_MAX_OPAQUE_MESSAGE_CHARS,
  pattern: '^[A-Za-z0-9_-]+$',
});
const registrationId = t.base64Url(VAULT_REGISTRATION_ID_BYTES);
const attempts = t.integer({ minimum: 0, maximum: 1000 });
const milliseconds = t.integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const purposeParams = t.object({ purpose: t.enum(['backup', 'pin-master-key'] as const) });
function vaultCredentialFields() {
  return {
    username: t.string({
      minLength: 1,
      maxLength: VAULT_MAX_USERNAME_CHARS,
      pattern: USERNAME.source,
    }),
    password: t.string({ minLength: 3, maxLength: 64, pattern: PASSWORD.source }),
  };
}
/** A vault credential as JSON (the relay's answer, and REGISTRATION_LOCKED details). */
export const vaultCredentialSchema = t.object(vaultCredentialFields());

/** `vault`: a vault credential (HTTP Basic); `device`: the relay's device credential. */
export type VaultRouteAuth = 'vault' | 'device';

export interface VaultRouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly auth: VaultRouteAuth;
  readonly params?: Schema<unknown>;
  readonly body?: Schema<unknown>;
  readonly response: Readonly<Record<number, Schema<unknown> | null>>;
}

function route<const R extends VaultRouteSpec>(spec: R): R {
  return spec;
}

export const vaultRoutes = {
  /** OPAQUE registration, first message. Needs a full (not recover-only) credential. */
  vaultRegistrationStart: route({
    method: 'POST',
    url: '/v1/vault/records/:purpose/registration/start',
    auth: 'vault',
    params: purposeParams,
    body: t.object({ registrationRequest: opaqueMessage }),
    response: { 200: t.object({ registrationId, registrationResponse: opaqueMessage }) },
  }),

  /** Stores the registration record and the wrapped secret, replacing any earlier record. */
  vaultRegistrationFinish: route({
    method: 'POST',
    url: '/v1/vault/records/:purpose/registration/finish',
    auth: 'vault',
    params: purposeParams,
    body: t.object({
      registrationId,
      registrationRecord: opaqueMessage,
      wrappedSecret: t.bytes(1, VAULT_MAX_WRAPPED_SECRET_BYTES),
      clientParams: t.optional(t.string({ maxLength: VAULT_MAX_CLIENT_PARAMS_CHARS })),
    }),
    response: { 204: null },
  }),

  /** OPAQUE login, first message: the vault charges one attempt before it answers. */
  vaultLoginStart: route({
    method: 'POST',
    url: '/v1/vault/records/:purpose/login/start',
    auth: 'vault',
    params: purposeParams,
    body: t.object({ startLoginRequest: opaqueMessage }),
    response: {
      200: t.object({
        loginResponse: opaqueMessage,
        loginState: t.string({
          minLength: 1,
          maxLength: VAULT_MAX_LOGIN_STATE_CHARS,
          pattern: '^[A-Za-z0-9_-]+$',
        }),
        attemptsRemaining: attempts,
        clientParams: t.string({ maxLength: VAULT_MAX_CLIENT_PARAMS_CHARS }),
      }),
    },
  }),

  /** OPAQUE login, last message: a verified login resets the counter and releases the secret. */
  vaultLoginFinish: route({
    method: 'POST',
    url: '/v1/vault/records/:purpose/login/finish',
    auth: 'vault',
    params: purposeParams,
    body: t.object({
      loginState: t.string({
        minLength: 1,
        maxLength: VAULT_MAX_LOGIN_STATE_CHARS,
        pattern: '^[A-Za-z0-9_-]+$',
      }),
      finishLoginRequest: opaqueMessage,
    }),
    response: { 200: t.object({ wrappedSecret: t.bytes(1, VAULT_MAX_WRAPPED_SECRET_BYTES) }) },
  }),

  /** The record's state: absent, active (attempts left, wait before the next) or destroyed. */
  vaultStatus: route({
    method: 'GET',
    url: '/v1/vault/records/:purpose',
    auth: 'vault',
    params: purposeParams,
    response: {
      200: t.object({
        state: t.enum(['absent', 'active', 'destroyed'] as const),
        attemptsRemaining: attempts,
        retryAfterMs: milliseconds,
      }),
    },
  }),

  /** Deletes the record (or its tombstone). Needs a full credential. */
  vaultDelete: route({
    method: 'DELETE',
    url: '/v1/vault/records/:purpose',
    auth: 'vault',
    params: purposeParams,
    response: { 200: t.object({ deleted: t.boolean() }) },
  }),

  /** On the relay: a fresh full vault credential for the calling device's account. */
  vaultCredential: route({
    method: 'GET',
    url: '/v1/vault/credential',
    auth: 'device',
    response: { 200: t.object({ ...vaultCredentialFields(), expiresInSeconds: milliseconds }) },
  }),
} as const;

export type VaultRouteName = keyof typeof vaultRoutes;

type BodyOf<R> = R extends { body: Schema<infer B> } ? B : undefined;
type ParamsOf<R> = R extends { params: Schema<infer P> } ? P : undefined;
type OkOf<R> = R extends { response: { 200: Schema<infer B> } } ? B : undefined;

export type VaultRequestBody<N extends VaultRouteName> = BodyOf<(typeof vaultRoutes)[N]>;
export type VaultRequestParams<N extends VaultRouteName> = ParamsOf<(typeof vaultRoutes)[N]>;
/** The 200 body of a vault route (`undefined` for routes answering 204). */
export type VaultResponseBody<N extends VaultRouteName> = OkOf<(typeof vaultRoutes)[N]>;
export type VaultCredentialResponse = Static<
  (typeof vaultRoutes)['vaultCredential']['response'][200]
>;

/**
 * Registry codes only the key vault answers with (its routes run in the vault plugin, inside the
 * relay or standalone); the relay's own routes never do. packages/vault/test covers each of them.
 */
export const VAULT_SERVICE_ERROR_CODES = [
  'VAULT_CREDENTIAL_INVALID',
  'VAULT_LOGIN_FAILED',
  'VAULT_LOGIN_EXPIRED',
  'VAULT_RECORD_NOT_FOUND',
  'VAULT_CONFLICT',
  'VAULT_RECORD_DESTROYED',
] as const satisfies readonly ApiErrorCode[];
export type VaultServiceErrorCode = (typeof VAULT_SERVICE_ERROR_CODES)[number];
