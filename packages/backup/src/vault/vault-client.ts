/**
 * The client side of the key vault (docs/backups.md "The key vault"): the OPAQUE client steps
 * (RFC 9807: registration and login) and the wrapping of a secret (the backup key, or the client's master key
 * behind the PIN) under a key derived from the OPAQUE export key:
 *
 *     wrapKey = HKDF-SHA256(exportKey, "", "sotto-vault-v1/wrap/" ‖ purpose)
 *     wrapped = 0x01 ‖ nonce(12) ‖ AES-256-GCM(wrapKey, nonce, secret,
 *               aad = "sotto-vault-v1/wrap" ‖ 0x00 ‖ purpose ‖ 0x00 ‖ accountId)
 *
 * The export key is known only to someone who knows the password and got the vault's OPRF
 * evaluation, so the vault stores a secret it cannot open. The AAD binds the wrapped secret to its
 * account and purpose: a vault cannot hand one account's (or purpose's) secret to another.
 *
 * Transport-free: it talks to a `VaultApi` (a `KeyVault` in-process, or the client SDK's HTTP
 * binding later).
 */
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  concatBytes,
  hkdfSha256,
  randomBytes,
  utf8,
} from '@sotto/crypto';
import { BackupError } from '../errors.js';
import { fromBase64url } from '../encoding.js';
import { BackupKey, backupKeyMaterial } from '../keys/backup-key.js';
import { VAULT_MAX_SECRET_LENGTH } from '../limits.js';
import type { VaultApi } from './key-vault.js';
import { opaque, opaqueReady, type KeyStretching } from './opaque.js';
import type { VaultPurpose, VaultRecordKey } from './vault-store.js';

const WRAP_LABEL = 'sotto-vault-v1/wrap';
const WRAP_VERSION = 1;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** Key stretching when neither the caller nor the vault record says otherwise. */
export const DEFAULT_KEY_STRETCHING: KeyStretching = 'memory-constrained';
/** Bounds on Argon2id settings a vault may ask for (it could otherwise exhaust the client). */
const MAX_MEMORY_KIB = (1 << 21) - 1;
const MAX_ITERATIONS = 16;
const MAX_PARALLELISM = 16;

export interface VaultClientOptions {
  /** Key stretching for a new registration; logins use what the record says. */
  readonly keyStretching?: KeyStretching;
  /** The vault's OPAQUE public key (`KeyVault.serverPublicKey`): refuse any other server. */
  readonly serverPublicKey?: string;
  readonly random?: (length: number) => Uint8Array;
}

function aad(key: VaultRecordKey): Uint8Array {
  return concatBytes(
    utf8(WRAP_LABEL),
    new Uint8Array(1),
    utf8(key.purpose),
    new Uint8Array(1),
    utf8(key.accountId),
  );
}

function wrapKey(exportKey: string, purpose: VaultPurpose): Uint8Array {
  const ikm = fromBase64url(exportKey, 'exportKey');
  const key = hkdfSha256(ikm, new Uint8Array(0), utf8(`${WRAP_LABEL}/${purpose}`), 32);
  ikm.fill(0);
  return key;
}

/** Wraps `secret` under the export key of a registration (exported for tests and tools). */
export function wrapVaultSecret(
  exportKey: string,
  key: VaultRecordKey,
  secret: Uint8Array,
  random: (length: number) => Uint8Array = randomBytes,
): Uint8Array {
  if (
    !(secret instanceof Uint8Array) ||
    secret.length === 0 ||
    secret.length > VAULT_MAX_SECRET_LENGTH
  ) {
    throw new BackupError(
      'INVALID_ARGUMENT',
      `a vault secret is 1..${VAULT_MAX_SECRET_LENGTH} bytes`,
    );
  }
  const k = wrapKey(exportKey, key.purpose);
  const nonce = random(NONCE_LENGTH);
  const sealed = aes256GcmEncrypt(k, nonce, secret, aad(key));
  k.fill(0);
  return concatBytes(Uint8Array.of(WRAP_VERSION), nonce, sealed);
}

/** Opens a wrapped secret; BAD_WRAPPED_KEY if it is not for this export key, account or purpose. */
export function unwrapVaultSecret(
  exportKey: string,
  key: VaultRecordKey,
  wrapped: Uint8Array,
): Uint8Array {
  if (
    !(wrapped instanceof Uint8Array) ||
    wrapped.length < 1 + NONCE_LENGTH + TAG_LENGTH + 1 ||
    wrapped[0] !== WRAP_VERSION
  ) {
    throw new BackupError('BAD_WRAPPED_KEY', 'the wrapped secret is malformed');
  }
  const k = wrapKey(exportKey, key.purpose);
  try {
    return aes256GcmDecrypt(
      k,
      wrapped.subarray(1, 1 + NONCE_LENGTH),
      wrapped.subarray(1 + NONCE_LENGTH),
      aad(key),
    );
  } catch (cause) {
    throw new BackupError('BAD_WRAPPED_KEY', 'the wrapped secret does not open', { cause });
  } finally {
    k.fill(0);
  }
}

function encodeClientParams(keyStretching: KeyStretching): string {
  return JSON.stringify({ v: 1, keyStretching });
}

/** The key stretching a record asks for; refuses settings that could exhaust the client. */
function decodeClientParams(params: string): KeyStretching {
  if (params === '') return DEFAULT_KEY_STRETCHING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(params);
  } catch (cause) {
    throw new BackupError('VAULT_BAD_REQUEST', 'the vault record has malformed client parameters', {
      cause,
    });
  }
  const ks = (parsed as { keyStretching?: unknown } | null)?.keyStretching;
  if (ks === 'memory-constrained' || ks === 'rfc-recommended') return ks;
  const custom = (ks as { 'argon2id-custom'?: unknown } | undefined)?.['argon2id-custom'] as
    { iterations?: unknown; memory?: unknown; parallelism?: unknown } | undefined;
  const within = (v: unknown, max: number) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  if (
    custom !== undefined &&
    within(custom.iterations, MAX_ITERATIONS) &&
    within(custom.memory, MAX_MEMORY_KIB) &&
    within(custom.parallelism, MAX_PARALLELISM)
  ) {
    return {
      'argon2id-custom': {
        iterations: custom.iterations as number,
        memory: custom.memory as number,
        parallelism: custom.parallelism as number,
      },
    };
  }
  throw new BackupError(
    'VAULT_BAD_REQUEST',
    'the vault record asks for unsupported key stretching',
  );
}

function checkServer(serverStaticPublicKey: string, options: VaultClientOptions): void {
  if (options.serverPublicKey !== undefined && serverStaticPublicKey !== options.serverPublicKey) {
    throw new BackupError('VAULT_SERVER_MISMATCH', 'the vault is not the one this client pinned');
  }
}

/**
 * Registers `password` for (accountId, purpose) and stores `secret` wrapped under its export key,
 * replacing any earlier registration. The password never leaves this function.
 */
export async function storeVaultSecret(
  vault: VaultApi,
  request: VaultRecordKey & { readonly password: string; readonly secret: Uint8Array },
  options: VaultClientOptions = {},
): Promise<void> {
  await opaqueReady();
  const key: VaultRecordKey = { accountId: request.accountId, purpose: request.purpose };
  const { password } = request;
  if (typeof password !== 'string' || password.length === 0) {
    throw new BackupError('INVALID_ARGUMENT', 'password must be a non-empty string');
  }
  const keyStretching = options.keyStretching ?? DEFAULT_KEY_STRETCHING;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
    password,
  });
  const { registrationId, registrationResponse } = await vault.registrationStart({
    ...key,
    registrationRequest,
  });
  let finished: { registrationRecord: string; exportKey: string; serverStaticPublicKey: string };
  try {
    finished = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password,
      keyStretching,
    });
  } catch (cause) {
    throw new BackupError('VAULT_BAD_REQUEST', 'the vault sent an invalid registration response', {
      cause,
    });
  }
  checkServer(finished.serverStaticPublicKey, options);
  const wrappedSecret = wrapVaultSecret(finished.exportKey, key, request.secret, options.random);
  await vault.registrationFinish({
    ...key,
    registrationId,
    registrationRecord: finished.registrationRecord,
    wrappedSecret,
    clientParams: encodeClientParams(keyStretching),
  });
}

/**
 * Logs in with `password` and returns the stored secret. Throws VAULT_WRONG_PASSWORD (with
 * `details.attemptsRemaining`), VAULT_RATE_LIMITED, VAULT_RECORD_DESTROYED or VAULT_NOT_FOUND.
 */
export async function recoverVaultSecret(
  vault: VaultApi,
  request: VaultRecordKey & { readonly password: string },
  options: VaultClientOptions = {},
): Promise<Uint8Array> {
  await opaqueReady();
  const key: VaultRecordKey = { accountId: request.accountId, purpose: request.purpose };
  const { password } = request;
  if (typeof password !== 'string' || password.length === 0) {
    throw new BackupError('INVALID_ARGUMENT', 'password must be a non-empty string');
  }
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const started = await vault.loginStart({ ...key, startLoginRequest });
  const keyStretching = decodeClientParams(started.clientParams);
  let finished: ReturnType<typeof opaque.client.finishLogin>;
  try {
    finished = opaque.client.finishLogin({
      clientLoginState,
      loginResponse: started.loginResponse,
      password,
      keyStretching,
    });
  } catch (cause) {
    throw new BackupError('VAULT_BAD_REQUEST', 'the vault sent an invalid login response', {
      cause,
    });
  }
  if (finished === undefined) {
    // The envelope did not open: a wrong password. Nothing more is sent; the vault counted it.
    throw new BackupError(
      'VAULT_WRONG_PASSWORD',
      `wrong password; ${started.attemptsRemaining} attempts left`,
      { details: { attemptsRemaining: started.attemptsRemaining } },
    );
  }
  checkServer(finished.serverStaticPublicKey, options);
  const { wrappedSecret } = await vault.loginFinish({
    ...key,
    loginState: started.loginState,
    finishLoginRequest: finished.finishLoginRequest,
  });
  return unwrapVaultSecret(finished.exportKey, key, wrappedSecret);
}

/** `storeVaultSecret` for a backup key (purpose 'backup'). */
export function storeBackupKeyInVault(
  vault: VaultApi,
  request: { readonly accountId: string; readonly password: string; readonly backupKey: BackupKey },
  options?: VaultClientOptions,
): Promise<void> {
  return storeVaultSecret(
    vault,
    {
      accountId: request.accountId,
      purpose: 'backup',
      password: request.password,
      secret: backupKeyMaterial(request.backupKey),
    },
    options,
  );
}

/** `recoverVaultSecret` for a backup key (purpose 'backup'). */
export async function recoverBackupKeyFromVault(
  vault: VaultApi,
  request: { readonly accountId: string; readonly password: string },
  options?: VaultClientOptions,
): Promise<BackupKey> {
  const bytes = await recoverVaultSecret(
    vault,
    { accountId: request.accountId, purpose: 'backup', password: request.password },
    options,
  );
  try {
    return BackupKey.fromBytes(bytes);
  } catch (cause) {
    throw new BackupError('BAD_WRAPPED_KEY', 'the vault secret is not a backup key', { cause });
  } finally {
    bytes.fill(0);
  }
}
