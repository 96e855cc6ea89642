/**
 * `VaultPinVault`: the two-step PIN's `PinVault` on the key vault (docs/backups.md "The key
 * vault"), purpose 'pin-master-key'. The master key (whose HMAC is the registration-lock token) is
 * stored wrapped under the OPAQUE export key of the PIN; the vault never sees the PIN or the key,
 * and allows 10 guesses before it destroys the record. The PIN is stretched on the device with
 * Argon2id (`DEFAULT_KEY_STRETCHING`, "memory-constrained", unless the options say otherwise; the
 * record remembers the setting so every device uses it).
 *
 * The account manager passes a `PinVaultContext`: the relay's URL (the vault's default), the
 * client's fetch, and the vault credential — fetched from the relay for a registered device, or
 * the one the relay put into its REGISTRATION_LOCKED answer for a new device.
 */
import type { VaultCredential } from '@sotto/api';
import {
  BackupError,
  recoverVaultSecret,
  storeVaultSecret,
  type KeyStretching,
  type VaultClientOptions,
} from '@sotto/backup';
import type { PinVault, PinVaultContext } from '../core.js';
import { ClientError } from '../errors.js';
import type { FetchLike } from '../transport/http-api.js';
import { HttpVaultApi } from './http-vault-api.js';

const PURPOSE = 'pin-master-key';

export interface VaultPinVaultOptions {
  /** The vault's URL when it does not run inside the relay. */
  readonly url?: string;
  /** Argon2id settings for a new PIN (default: the vault client's "memory-constrained"). */
  readonly keyStretching?: KeyStretching;
  /** The vault's OPAQUE public key, to refuse any other vault (VAULT_SERVER_MISMATCH). */
  readonly serverPublicKey?: string;
  /** Default: the client's fetch. */
  readonly fetch?: FetchLike;
}

export class VaultPinVault implements PinVault {
  readonly #options: VaultPinVaultOptions;

  constructor(options: VaultPinVaultOptions = {}) {
    this.#options = options;
  }

  #api(context: PinVaultContext, credential: VaultCredential): HttpVaultApi {
    return new HttpVaultApi({
      url: this.#options.url ?? context.serverUrl,
      credential,
      fetch: this.#options.fetch ?? context.fetch,
    });
  }

  #clientOptions(): VaultClientOptions {
    return {
      ...(this.#options.keyStretching === undefined
        ? {}
        : { keyStretching: this.#options.keyStretching }),
      ...(this.#options.serverPublicKey === undefined
        ? {}
        : { serverPublicKey: this.#options.serverPublicKey }),
    };
  }

  async store(pin: string, masterKey: Uint8Array, context: PinVaultContext): Promise<void> {
    const credential = await context.credential();
    await storeVaultSecret(
      this.#api(context, credential),
      { accountId: credential.username, purpose: PURPOSE, password: pin, secret: masterKey },
      this.#clientOptions(),
    );
  }

  async recover(pin: string, context: PinVaultContext): Promise<Uint8Array> {
    const credential = await context.credential();
    return recoverVaultSecret(
      this.#api(context, credential),
      { accountId: credential.username, purpose: PURPOSE, password: pin },
      this.#clientOptions(),
    );
  }

  async remove(context: PinVaultContext): Promise<void> {
    const credential = await context.credential();
    await this.#api(context, credential).delete(PURPOSE);
  }

  /** The record's state (attempts left, destroyed) without spending a guess. */
  async status(context: PinVaultContext): Promise<Awaited<ReturnType<HttpVaultApi['status']>>> {
    const credential = await context.credential();
    return this.#api(context, credential).status(PURPOSE);
  }
}

/** Why a PIN did not recover the master key, for `ClientError('PIN_NOT_RECOVERABLE').details`. */
export type PinFailureReason =
  'wrong-pin' | 'destroyed' | 'not-found' | 'rate-limited' | 'no-vault' | 'vault-error';

/** The details of a PIN_NOT_RECOVERABLE error: numbers and a reason, never the PIN. */
export function pinFailureDetails(cause: unknown): {
  readonly reason: PinFailureReason;
  readonly attemptsRemaining?: number;
  readonly retryAfterMs?: number;
} {
  if (cause instanceof BackupError) {
    const { attemptsRemaining, retryAfterMs } = cause.details;
    if (cause.code === 'VAULT_WRONG_PASSWORD') {
      return {
        reason: 'wrong-pin',
        ...(attemptsRemaining === undefined ? {} : { attemptsRemaining }),
      };
    }
    if (cause.code === 'VAULT_RECORD_DESTROYED')
      return { reason: 'destroyed', attemptsRemaining: 0 };
    if (cause.code === 'VAULT_NOT_FOUND') return { reason: 'not-found' };
    if (cause.code === 'VAULT_RATE_LIMITED') {
      return { reason: 'rate-limited', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    // Another vault error (a malformed answer, a replaced registration, a pinned-key mismatch).
    return { reason: 'vault-error' };
  }
  if (
    ClientError.isApi(cause, 'VAULT_UNAVAILABLE') ||
    ClientError.is(cause, 'PIN_NOT_RECOVERABLE')
  ) {
    return { reason: 'no-vault' };
  }
  return { reason: 'vault-error' };
}

/** A sentence for a PIN_NOT_RECOVERABLE error (no PIN, no account, no number in it). */
export function pinFailureMessage(details: ReturnType<typeof pinFailureDetails>): string {
  switch (details.reason) {
    case 'wrong-pin':
      return details.attemptsRemaining === undefined
        ? 'wrong PIN'
        : `wrong PIN; ${details.attemptsRemaining} attempts left before the key vault destroys the master key`;
    case 'destroyed':
      return 'too many wrong PINs: the key vault destroyed the master key; wait for the registration lock to lapse';
    case 'not-found':
      return 'the key vault holds no master key for this account';
    case 'rate-limited':
      return details.retryAfterMs === undefined
        ? 'too many PIN attempts in a row: wait before the next one'
        : `too many PIN attempts in a row: try again in ${Math.ceil(details.retryAfterMs / 1000)} s`;
    case 'no-vault':
      return 'the relay offers no key vault to recover the master key';
    case 'vault-error':
      return 'the PIN vault did not release the master key';
  }
}
