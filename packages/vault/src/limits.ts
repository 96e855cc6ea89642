/**
 * Every limit of the key vault service, each with the reason it exists. Wire limits (body and
 * message sizes) are in @sotto/api vault-routes.ts; the guess limit itself (10 attempts, backoff)
 * is the vault core's, in @sotto/backup limits.ts.
 */

const MINUTE = 60_000;

/**
 * A vault credential is accepted for one hour after the relay signed it: enough to type a PIN a
 * few times through the backoff (about two minutes for all ten guesses), short enough that a
 * leaked one is soon useless. Signal's SVR credentials live 30 days because clients cache them;
 * Sotto clients ask for a fresh one each time.
 */
export const VAULT_CREDENTIAL_MAX_AGE_MS = 60 * MINUTE;
/** Clock skew tolerated between the relay that signs and the vault that checks. */
export const VAULT_CREDENTIAL_MAX_SKEW_MS = 5 * MINUTE;

/** A fixed-window rate limit: `max` requests per `windowMs`. */
export interface VaultRateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Vault requests per client address (any account): each costs the vault an OPAQUE step
 * (ristretto255 scalar multiplications) and a database write; a login is two requests.
 */
export const VAULT_REQUESTS_PER_IP: VaultRateLimit = { max: 120, windowMs: MINUTE };
/**
 * Vault requests per account (all addresses together). Guesses are limited by the vault core
 * (VAULT_MAX_ATTEMPTS and its backoff); this bounds the work one account's credential can cause.
 */
export const VAULT_REQUESTS_PER_ACCOUNT: VaultRateLimit = { max: 30, windowMs: MINUTE };
/** Requests with a missing or bad credential per client address: forging is pointless, probing slow. */
export const VAULT_CREDENTIAL_FAILURES_PER_IP: VaultRateLimit = { max: 20, windowMs: MINUTE };
/** The standalone vault's flood guard: every request per client address per minute. */
export const VAULT_HTTP_REQUESTS_PER_IP_PER_MINUTE = 600;
/** On shutdown, in-flight requests get this long before the process exits. */
export const VAULT_SHUTDOWN_GRACE_MS = 10_000;
