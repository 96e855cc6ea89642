/**
 * `vaultPlugin`: the key vault (`KeyVault` of @sotto/backup) as a Fastify plugin, over the routes
 * of @sotto/api vault-routes.ts. Encapsulated (ARCHITECTURE.md "HTTP"): it brings its own error
 * handler and rate limits, so the same plugin runs inside the relay (apps/server mounts it through
 * `createServer({ plugins })`) and standalone (`createVaultServer`, server.ts).
 *
 * Every request carries a vault credential (credentials.ts); the account id comes from it, never
 * from the body. Order of checks on each request, before its body is parsed: the per-address
 * limit, the credential (a bad one costs the address a token of a stricter bucket), the scope
 * (registration and deletion need a `full` credential), the per-account limit. The schemas are
 * strict (unknown fields rejected, sizes bounded by the named limits of vault-routes.ts); the host
 * Fastify instance must run Ajv without `removeAdditional` and `coerceTypes`, as the relay and
 * `createVaultServer` do.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
} from 'fastify';
import {
  ApiError,
  VAULT_MAX_BODY_BYTES,
  fromBase64,
  toBase64,
  validationSchema,
  vaultRoutes,
  type VaultRequestBody,
  type VaultRequestParams,
  type VaultResponseBody,
  type VaultRouteName,
} from '@sotto/api';
import type { KeyVault, VaultPurpose, VaultRecordKey } from '@sotto/backup';
import { VaultCredentials, type VerifiedVaultCredential } from './credentials.js';
import { toVaultApiError } from './errors.js';
import {
  VAULT_CREDENTIAL_FAILURES_PER_IP,
  VAULT_REQUESTS_PER_ACCOUNT,
  VAULT_REQUESTS_PER_IP,
  type VaultRateLimit,
} from './limits.js';

export interface VaultPluginOptions {
  readonly vault: KeyVault;
  /** The key shared with the relay that issues credentials (at least 32 bytes). */
  readonly credentialKey: Uint8Array;
  /** Default VAULT_CREDENTIAL_MAX_AGE_MS. */
  readonly credentialMaxAgeMs?: number;
  /** Clock for credential expiry; default `Date.now`. */
  readonly now?: () => number;
  readonly requestsPerIp?: VaultRateLimit;
  readonly requestsPerAccount?: VaultRateLimit;
  readonly credentialFailuresPerIp?: VaultRateLimit;
  /** Client addresses exempt from per-address limits (not from per-account ones). */
  readonly unlimitedAddresses?: readonly string[];
  /**
   * Security events for an audit log (a relay mounting the vault writes them to its own): records
   * registered and deleted; every guess, counted when a login starts (under OPAQUE the vault
   * cannot tell a wrong password: the client simply never finishes), with the guesses left if it
   * fails; a login that succeeded (the guess is given back) or whose proof did not verify. Never
   * carries a password, a key or an OPAQUE message. A hook that throws is logged; the request's
   * outcome stands.
   */
  readonly onSecurityEvent?: (event: VaultSecurityEvent) => Promise<void> | void;
}

export interface VaultSecurityEvent {
  readonly type:
    | 'vault-record-registered'
    | 'vault-guess-counted'
    | 'vault-login-succeeded'
    | 'vault-login-failed'
    | 'vault-record-deleted';
  readonly accountId: string;
  readonly purpose: VaultPurpose;
  /** `vault-guess-counted`, `vault-login-failed`: guesses left if this one fails (0: destroyed). */
  readonly attemptsRemaining?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    vaultCredential: VerifiedVaultCredential | null;
  }
}

type Limiter = (
  req: FastifyRequest,
) => Promise<
  | { readonly isAllowed: true }
  | { readonly isAllowed: false; readonly isExceeded: boolean; readonly ttl: number }
>;

function schemaOf(name: VaultRouteName): FastifySchema {
  return validationSchema(vaultRoutes[name]);
}

async function take(limiter: Limiter, req: FastifyRequest): Promise<void> {
  const decision = await limiter(req);
  if (!decision.isAllowed && decision.isExceeded) {
    throw new ApiError('RATE_LIMITED', undefined, {
      details: { retryAfterMs: Math.max(1, decision.ttl) },
    });
  }
}

export async function vaultPlugin(
  app: FastifyInstance,
  options: VaultPluginOptions,
): Promise<void> {
  const { vault } = options;
  const credentials = new VaultCredentials({
    key: options.credentialKey,
    ...(options.credentialMaxAgeMs === undefined ? {} : { maxAgeMs: options.credentialMaxAgeMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // Inside the relay the rate-limit plugin is already registered (its flood guard covers these
  // routes too); standalone, register it here without a global limit.
  if (!app.hasDecorator('createRateLimit')) await app.register(fastifyRateLimit, { global: false });
  const unlimited = new Set(options.unlimitedAddresses ?? []);
  const securityEvent = async (req: FastifyRequest, event: VaultSecurityEvent): Promise<void> => {
    if (options.onSecurityEvent === undefined) return;
    try {
      await options.onSecurityEvent(event);
    } catch (err) {
      req.log.error({ err: { message: (err as Error).message } }, 'vault security event lost');
    }
  };
  const limiter = (
    policy: VaultRateLimit,
    keyOf: (req: FastifyRequest) => string,
    exempt: boolean,
  ): Limiter =>
    app.createRateLimit({
      max: policy.max,
      timeWindow: policy.windowMs,
      keyGenerator: keyOf,
      allowList: exempt ? (req: FastifyRequest) => unlimited.has(req.ip) : () => false,
    });
  const perIp = limiter(options.requestsPerIp ?? VAULT_REQUESTS_PER_IP, (r) => `ip:${r.ip}`, true);
  const failuresPerIp = limiter(
    options.credentialFailuresPerIp ?? VAULT_CREDENTIAL_FAILURES_PER_IP,
    (r) => `fail:${r.ip}`,
    true,
  );
  const perAccount = limiter(
    options.requestsPerAccount ?? VAULT_REQUESTS_PER_ACCOUNT,
    (r) => `acct:${r.vaultCredential?.accountId ?? ''}`,
    false,
  );

  app.decorateRequest('vaultCredential', null);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const apiError = toVaultApiError(err);
    if (apiError.code === 'INTERNAL') {
      req.log.error({ err: { message: err.message, stack: err.stack } }, 'vault request failed');
    }
    if (apiError.code === 'RATE_LIMITED' && apiError.details !== undefined) {
      const ms = (apiError.details as { retryAfterMs?: number }).retryAfterMs ?? 1000;
      void reply.header('retry-after', Math.max(1, Math.ceil(ms / 1000)));
    }
    return reply.code(apiError.status).send(apiError.toBody());
  });
  // Answers of the vault are never cached anywhere (they carry login states and wrapped secrets).
  app.addHook('onSend', (_req, reply, payload, done) => {
    void reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  const define = <N extends Exclude<VaultRouteName, 'vaultCredential'>>(
    name: N,
    scope: 'full' | 'recover',
    handler: (
      key: VaultRecordKey,
      req: FastifyRequest<{ Body: VaultRequestBody<N>; Params: VaultRequestParams<N> }>,
      reply: FastifyReply,
    ) => Promise<unknown>,
  ): void => {
    const spec = vaultRoutes[name];
    app.route({
      method: spec.method,
      url: spec.url,
      schema: schemaOf(name),
      bodyLimit: VAULT_MAX_BODY_BYTES,
      onRequest: async (req) => {
        await take(perIp, req);
        let verified: VerifiedVaultCredential;
        try {
          verified = credentials.verify(req.headers.authorization);
        } catch (err) {
          await take(failuresPerIp, req);
          throw err;
        }
        if (scope === 'full' && verified.scope !== 'full') {
          throw new ApiError('FORBIDDEN', 'this vault credential allows recovery only');
        }
        req.vaultCredential = verified;
        await take(perAccount, req);
      },
      handler: async (req, reply) => {
        const typed = req as FastifyRequest<{
          Body: VaultRequestBody<N>;
          Params: VaultRequestParams<N>;
        }>;
        const params = typed.params as { purpose: VaultRecordKey['purpose'] };
        const key: VaultRecordKey = {
          accountId: req.vaultCredential!.accountId,
          purpose: params.purpose,
        };
        return handler(key, typed, reply);
      },
    });
  };

  define('vaultRegistrationStart', 'full', async (key, req) => {
    const res = await vault.registrationStart({
      ...key,
      registrationRequest: req.body.registrationRequest,
    });
    return res satisfies VaultResponseBody<'vaultRegistrationStart'>;
  });

  define('vaultRegistrationFinish', 'full', async (key, req, reply) => {
    const { body } = req;
    await vault.registrationFinish({
      ...key,
      registrationId: body.registrationId,
      registrationRecord: body.registrationRecord,
      wrappedSecret: fromBase64(body.wrappedSecret, 'wrappedSecret'),
      ...(body.clientParams === undefined ? {} : { clientParams: body.clientParams }),
    });
    req.log.info({ purpose: key.purpose }, 'vault record registered');
    await securityEvent(req, { type: 'vault-record-registered', ...key });
    return reply.code(204).send();
  });

  define('vaultLoginStart', 'recover', async (key, req) => {
    const res = await vault.loginStart({ ...key, startLoginRequest: req.body.startLoginRequest });
    await securityEvent(req, {
      type: 'vault-guess-counted',
      ...key,
      attemptsRemaining: res.attemptsRemaining,
    });
    return {
      loginResponse: res.loginResponse,
      loginState: res.loginState,
      attemptsRemaining: res.attemptsRemaining,
      clientParams: res.clientParams,
    } satisfies VaultResponseBody<'vaultLoginStart'>;
  });

  define('vaultLoginFinish', 'recover', async (key, req) => {
    try {
      const res = await vault.loginFinish({
        ...key,
        loginState: req.body.loginState,
        finishLoginRequest: req.body.finishLoginRequest,
      });
      await securityEvent(req, { type: 'vault-login-succeeded', ...key });
      return {
        wrappedSecret: toBase64(res.wrappedSecret),
      } satisfies VaultResponseBody<'vaultLoginFinish'>;
    } catch (err) {
      // A security event: logged without the account, the password or any OPAQUE message.
      const apiError = toVaultApiError(err);
      req.log.warn({ purpose: key.purpose, code: apiError.code }, 'vault login failed');
      const left = (apiError.details as { attemptsRemaining?: unknown } | undefined)
        ?.attemptsRemaining;
      await securityEvent(req, {
        type: 'vault-login-failed',
        ...key,
        ...(typeof left === 'number' ? { attemptsRemaining: left } : {}),
      });
      throw err;
    }
  });

  define('vaultStatus', 'recover', async (key) => {
    const status = await vault.status(key);
    return {
      state: status.state,
      attemptsRemaining: status.attemptsRemaining,
      retryAfterMs: status.retryAfterMs,
    } satisfies VaultResponseBody<'vaultStatus'>;
  });

  define('vaultDelete', 'full', async (key, req) => {
    const deleted = await vault.delete(key);
    req.log.info({ purpose: key.purpose, deleted }, 'vault record deleted');
    if (deleted) await securityEvent(req, { type: 'vault-record-deleted', ...key });
    return { deleted } satisfies VaultResponseBody<'vaultDelete'>;
  });
}
