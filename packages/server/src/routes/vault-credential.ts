/**
 * Vault credentials, the relay's side (docs/backups.md "The key vault"): the relay knows the
 * account, the key vault (@sotto/vault, inside this process or another) does not, so the relay
 * signs a short-lived credential the vault checks. The construction is Signal-Server's "external
 * service credentials" (`ExternalServiceCredentialsGenerator`):
 *
 *     username = accountId
 *     password = <unix seconds> ":" hex(HMAC-SHA256(K_scope, username ":" <unix seconds>)[0..10])
 *
 * with `K_scope = HKDF-SHA256(ikm = vaultCredentialKey, salt = "", info =
 * "sotto-vault-credential-v1/" scope, 32)` (RFC 5869), the same derivation as packages/vault
 * credentials.ts, which checks them (tests/e2e proves the two agree). Scopes:
 * - `full`, from `GET /v1/vault/credential` for an authenticated device of the account: store,
 *   replace, recover, delete.
 * - `recover`, in the REGISTRATION_LOCKED answer (accounts.ts) once the SMS code was right: login
 *   and status only, so a holder of the SMS code can try the PIN (10 guesses, as in Signal, which
 *   returns its SVR credentials in the same answer) but cannot replace or delete the record.
 *
 * Uses node:crypto only (the relay never imports the crypto or protocol packages).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  ApiError,
  VAULT_CREDENTIAL_SIGNATURE_BYTES,
  vaultRoutes,
  type VaultCredential,
  type VaultResponseBody,
} from '@sotto/api';
import { authenticate, deviceOf } from '../http/auth.js';
import type { ServerContext } from '../http/context.js';
import { MAX_JSON_BODY_BYTES } from '../limits.js';
import type { Clock } from '../ports/clock.js';

/** The shared key's minimum length: a full HMAC-SHA256 key. */
export const VAULT_CREDENTIAL_KEY_BYTES = 32;
/** How long the vault accepts a credential (packages/vault limits.ts VAULT_CREDENTIAL_MAX_AGE_MS). */
export const VAULT_CREDENTIAL_LIFETIME_SECONDS = 60 * 60;

export type VaultCredentialScope = 'full' | 'recover';

/** Signs vault credentials under the key shared with the vault. Never prints the key. */
export class VaultCredentialIssuer {
  readonly #keys: Readonly<Record<VaultCredentialScope, Buffer>>;

  constructor(
    key: Uint8Array,
    private readonly clock: Clock,
  ) {
    if (key.length < VAULT_CREDENTIAL_KEY_BYTES) {
      throw new RangeError(
        `the vault credential key must be at least ${VAULT_CREDENTIAL_KEY_BYTES} bytes`,
      );
    }
    const derive = (scope: VaultCredentialScope) =>
      Buffer.from(
        hkdfSync('sha256', key, new Uint8Array(0), `sotto-vault-credential-v1/${scope}`, 32),
      );
    this.#keys = { full: derive('full'), recover: derive('recover') };
  }

  issue(accountId: string, scope: VaultCredentialScope): VaultCredential {
    const seconds = Math.floor(this.clock.now() / 1000);
    const signature = createHmac('sha256', this.#keys[scope])
      .update(`${accountId}:${seconds}`)
      .digest()
      .subarray(0, VAULT_CREDENTIAL_SIGNATURE_BYTES)
      .toString('hex');
    return { username: accountId, password: `${seconds}:${signature}` };
  }

  toJSON(): string {
    return '[VaultCredentialIssuer]';
  }
  toString(): string {
    return '[VaultCredentialIssuer]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[VaultCredentialIssuer]';
  }
}

/** `GET /v1/vault/credential`: a full credential for the calling device's account. */
export function vaultCredentialRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  issuer: VaultCredentialIssuer | null,
): void {
  const spec = vaultRoutes.vaultCredential;
  app.route({
    method: spec.method,
    url: spec.url,
    schema: { response: spec.response },
    bodyLimit: MAX_JSON_BODY_BYTES,
    onRequest: authenticate(ctx, 'device'),
    handler: async (req, reply) => {
      if (issuer === null) throw new ApiError('VAULT_UNAVAILABLE');
      const { accountId } = deviceOf(req);
      void reply.header('cache-control', 'no-store');
      return {
        ...issuer.issue(accountId, 'full'),
        expiresInSeconds: VAULT_CREDENTIAL_LIFETIME_SECONDS,
      } satisfies VaultResponseBody<'vaultCredential'>;
    },
  });
}
