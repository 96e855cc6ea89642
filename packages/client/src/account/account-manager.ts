/**
 * The device's account: registering a number with its SMS code, the two-step PIN (registration
 * lock), and linking further devices.
 *
 * Registration lock: the lock token is HMAC-SHA256(master key, "Registration Lock") — Signal's
 * derivation — where the master key is 256 random bits made and kept on the device. The PIN
 * itself is never sent and never stored: it only protects the master key in a `PinVault` (the
 * guess-limited key vault that comes with backups), from which a new installation recovers the key
 * to re-register a locked number. Without a vault, only this device store can prove the lock.
 *
 * Linking is Signal's device provisioning: the new device opens a provisioning socket on the relay
 * and shows a link URI (the socket's address and an ephemeral public key, link-uri.ts); the
 * primary, given that URI out of band, seals the identity key pair, account id, number and a
 * provisioning code to that key with Signal's ProvisioningCipher (provisioning-cipher.ts) and
 * sends it through the relay; the new device opens it, redeems the code and uploads its prekeys.
 */
import {
  fromBase64Url,
  isUuid,
  MAX_REGISTRATION_ID,
  PRIMARY_DEVICE_ID,
  toBase64,
  type ResponseBody,
  type VaultCredential,
} from '@sotto/api';
import {
  concatBytes,
  constantTimeEqual,
  hmacSha256,
  utf8,
  x25519GenerateKeyPair,
} from '@sotto/crypto';
import { IdentityKeyPair, PrivateKey } from '@sotto/protocol';
import type { ClientStoreTransaction } from '../client-store.js';
import type { ClientCore, PinVaultContext } from '../core.js';
import { ClientError } from '../errors.js';
import {
  LINK_POLL_INTERVAL_MS,
  MASTER_KEY_BYTES,
  MAX_PIN_LENGTH,
  MIN_PIN_LENGTH,
} from '../limits.js';
import type { DeviceDirectory } from '../messaging/device-directory.js';
import {
  ACCOUNT_KEYS,
  encodeRegistration,
  loadIdentity,
  loadRegistration,
  type RegistrationRecord,
} from '../state/account-records.js';
import { fromJsonBytes, toJsonBytes } from '../state/json.js';
import { NS } from '../state/namespaces.js';
import {
  openProvisioningSocket,
  type ProvisioningSocket,
} from '../transport/provisioning-socket.js';
import { pinFailureDetails, pinFailureMessage } from '../vault/pin-vault.js';
import {
  fetchVaultCredential,
  lockedVaultCredential,
  registrationLockedError,
} from '../vault/relay-credential.js';
import type { KeyManager } from './key-manager.js';
import { formatLinkUri, parseLinkUri } from './link-uri.js';
import { DJB_TYPE, decryptProvisioning, encryptProvisioning } from './provisioning-cipher.js';
import {
  decodeProvisionMessage,
  encodeProvisionMessage,
  type ProvisionMessage,
} from './provisioning-proto.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;
/** The relay's provisioning code as it travels in a ProvisionMessage: base64url of 16 bytes. */
const PROVISIONING_CODE = /^[A-Za-z0-9_-]{22}$/;
const REGISTRATION_LOCK_INFO = utf8('Registration Lock');

export interface AccountInfo {
  readonly accountId: string;
  readonly deviceId: number;
  readonly number: string | null;
  readonly primary: boolean;
  /**
   * Always `registered` for accounts made by this version; `linking` marks a store where an
   * earlier version's link never finished (it holds no identity: discard it).
   */
  readonly status: 'registered' | 'linking';
}

export interface RegisterOptions {
  readonly number: string;
  /** The 6-digit SMS code. */
  readonly code: string;
  /** For a number with a registration lock: recovers the master key through the PIN vault. */
  readonly pin?: string;
}

/** A link in progress on a new device (`beginLink`). */
export interface PendingLink {
  /** `sotto://link?uuid=…&pub_key=…`: show it to the primary (as text and as a QR code). */
  readonly uri: string;
  /** Resolves with the account once linked (keys uploaded); rejects on expiry or failure. */
  readonly done: Promise<AccountInfo>;
  /**
   * Gives up: `done` rejects with `CLOSED`. Resolves once the relay has seen the socket close, so
   * a primary approving the URI afterwards hears PROVISIONING_ADDRESS_NOT_FOUND.
   */
  cancel(): Promise<void>;
}

/** Signal's lock token: HMAC-SHA256(masterKey, "Registration Lock"). */
export function registrationLockToken(masterKey: Uint8Array): Uint8Array {
  return hmacSha256(masterKey, REGISTRATION_LOCK_INFO);
}

function checkPin(pin: string): void {
  if (
    typeof pin !== 'string' ||
    pin.trim().length < MIN_PIN_LENGTH ||
    pin.length > MAX_PIN_LENGTH
  ) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      `pin must have ${MIN_PIN_LENGTH} to ${MAX_PIN_LENGTH} characters`,
    );
  }
}

export class AccountManager<R> {
  #linking: ProvisioningSocket | null = null;

  constructor(
    private readonly core: ClientCore<R>,
    private readonly keys: KeyManager<R>,
    private readonly directory: DeviceDirectory<R>,
  ) {}

  /** Loads the registration and identity from the store (at start). */
  async load(): Promise<void> {
    const registration = await loadRegistration(this.core.store);
    this.core.registration = registration;
    if (registration === null || registration.status !== 'registered') return;
    const identity = await loadIdentity(this.core.store);
    if (identity === null)
      throw new ClientError('STORE_CORRUPT', 'registered, but the identity key is missing');
    this.core.state.setLocal({
      accountId: registration.accountId,
      deviceId: registration.deviceId,
      identity,
      registrationId: registration.registrationId,
    });
  }

  info(): AccountInfo | null {
    const r = this.core.registration;
    if (r === null) return null;
    return {
      accountId: r.accountId,
      deviceId: r.deviceId,
      number: r.number,
      primary: r.deviceId === PRIMARY_DEVICE_ID,
      status: r.status,
    };
  }

  #newRegistrationId(): number {
    const b = this.core.rng(2);
    return (((b[0]! << 8) | b[1]!) % MAX_REGISTRATION_ID) + 1;
  }

  async #masterKey(): Promise<Uint8Array | undefined> {
    return this.core.store.get(NS.account, ACCOUNT_KEYS.masterKey);
  }

  async lockEnabled(): Promise<boolean> {
    const bytes = await this.core.store.get(NS.account, ACCOUNT_KEYS.registrationLock);
    return (
      bytes !== undefined && fromJsonBytes<{ enabled: boolean }>(bytes, 'registration lock').enabled
    );
  }

  async requestCode(number: string): Promise<{ expiresInSeconds: number }> {
    if (!E164.test(number))
      throw new ClientError('INVALID_ARGUMENT', 'number must be in E.164 form');
    const res = await this.core.http.call('requestVerificationCode', { body: { number } });
    return { expiresInSeconds: res?.expiresInSeconds ?? 0 };
  }

  async register(options: RegisterOptions): Promise<AccountInfo> {
    const core = this.core;
    if (core.registration !== null)
      throw new ClientError('ALREADY_REGISTERED', 'this store already holds an account');
    if (!E164.test(options.number))
      throw new ClientError('INVALID_ARGUMENT', 'number must be in E.164 form');
    if (!/^[0-9]{6}$/.test(options.code))
      throw new ClientError('INVALID_ARGUMENT', 'code must be 6 digits');
    if (options.pin !== undefined) checkPin(options.pin);
    const identity = IdentityKeyPair.generate(core.rng);
    const registrationId = this.#newRegistrationId();
    let masterKey = await this.#masterKey();
    let recovered = false;
    let askedForCredential = false;
    let token =
      masterKey !== undefined && (await this.lockEnabled())
        ? registrationLockToken(masterKey)
        : undefined;
    let res: ResponseBody<'register'>;
    for (;;) {
      try {
        res = await core.http.json('register', {
          body: {
            number: options.number,
            code: options.code,
            registrationId,
            identityKey: toBase64(identity.publicKey.serialize()),
            ...(token === undefined ? {} : { registrationLockToken: toBase64(token) }),
          },
        });
        break;
      } catch (err) {
        const locked =
          ClientError.isApi(err, 'REGISTRATION_LOCKED') ||
          ClientError.isApi(err, 'REGISTRATION_LOCK_MISMATCH');
        if (!locked) throw err;
        if (token === undefined && masterKey !== undefined && !askedForCredential) {
          token = registrationLockToken(masterKey);
          continue;
        }
        if (
          !recovered &&
          options.pin !== undefined &&
          token !== undefined &&
          !askedForCredential &&
          lockedVaultCredential(err.details) === undefined
        ) {
          // A stale local master key's token was refused (REGISTRATION_LOCK_MISMATCH carries no
          // vault credential): ask once more without a token, which the relay answers with 423
          // and a recover-only credential, so the PIN can be tried at the vault.
          askedForCredential = true;
          token = undefined;
          continue;
        }
        if (!recovered && options.pin !== undefined) {
          const vault = core.options.pinVault;
          if (vault === undefined) {
            throw new ClientError(
              'PIN_NOT_RECOVERABLE',
              'no PIN vault is configured to recover the master key',
              { cause: err },
            );
          }
          // The relay's 423 carries a recover-only vault credential once the SMS code was right.
          const vaultCredential = lockedVaultCredential(err.details);
          try {
            masterKey = await vault.recover(options.pin, this.#pinContext(vaultCredential ?? null));
          } catch (cause) {
            const details = pinFailureDetails(cause);
            throw new ClientError('PIN_NOT_RECOVERABLE', pinFailureMessage(details), {
              cause,
              details,
            });
          }
          recovered = true;
          token = registrationLockToken(masterKey);
          continue;
        }
        throw registrationLockedError(err, 'the number has a registration lock: the PIN is needed');
      }
    }
    await this.#becomeRegistered(res, options.number, identity, registrationId, async (tx) => {
      if (masterKey !== undefined) await tx.put(NS.account, ACCOUNT_KEYS.masterKey, masterKey);
      await tx.put(
        NS.account,
        ACCOUNT_KEYS.registrationLock,
        toJsonBytes({ enabled: token !== undefined }),
      );
    });
    // A re-registration through the lock keeps the number locked.
    if (token !== undefined) {
      await core.http.call('setRegistrationLock', {
        body: { token: toBase64(token) },
        credentials: core.credentials(),
      });
    }
    return this.info()!;
  }

  /**
   * The context of a PinVault call: the relay's URL and fetch, and the vault credential — the
   * one given (from a REGISTRATION_LOCKED answer; `null`: the relay sent none), or one fetched
   * from the relay with this device's credential.
   */
  #pinContext(given?: VaultCredential | null): PinVaultContext {
    const core = this.core;
    const fetchImpl = core.options.fetch ?? globalThis.fetch;
    return {
      serverUrl: core.options.serverUrl,
      fetch: fetchImpl,
      credential: () => {
        if (given === null) {
          return Promise.reject(
            new ClientError('PIN_NOT_RECOVERABLE', 'the relay offers no key vault for this number'),
          );
        }
        if (given !== undefined) return Promise.resolve(given);
        return fetchVaultCredential(core.options.serverUrl, fetchImpl, core.credentials());
      },
    };
  }

  #requirePrimary(): void {
    this.core.requireRegistered();
    if (!this.core.isPrimary)
      throw new ClientError('NOT_PRIMARY', 'only the primary device may do this');
  }

  /** Turns the registration lock on (or re-keys it under a new PIN). */
  async setPin(pin: string): Promise<void> {
    this.#requirePrimary();
    checkPin(pin);
    const core = this.core;
    let masterKey = await this.#masterKey();
    if (masterKey === undefined) {
      masterKey = core.rng(MASTER_KEY_BYTES);
      // Kept before the relay sees a token derived from it: a crash cannot lock us out.
      await core.store.put(NS.account, ACCOUNT_KEYS.masterKey, masterKey);
    }
    await core.options.pinVault?.store(pin, masterKey, this.#pinContext());
    await core.http.call('setRegistrationLock', {
      body: { token: toBase64(registrationLockToken(masterKey)) },
      credentials: core.credentials(),
    });
    await core.store.put(NS.account, ACCOUNT_KEYS.registrationLock, toJsonBytes({ enabled: true }));
  }

  /** A new PIN for the same master key (the token the relay holds does not change). */
  async changePin(pin: string): Promise<void> {
    this.#requirePrimary();
    if (!(await this.lockEnabled())) throw new ClientError('INVALID_ARGUMENT', 'no PIN is set');
    await this.setPin(pin);
  }

  /** Turns the registration lock off. The master key stays on the device. */
  async removePin(): Promise<void> {
    this.#requirePrimary();
    await this.core.http.call('removeRegistrationLock', { credentials: this.core.credentials() });
    await this.core.store.put(
      NS.account,
      ACCOUNT_KEYS.registrationLock,
      toJsonBytes({ enabled: false }),
    );
    await this.core.options.pinVault?.remove?.(this.#pinContext());
  }

  // ---- linking (Signal's device provisioning: link-uri.ts, provisioning-cipher.ts) ---------

  /**
   * On a new device (empty store): opens the relay's provisioning socket and returns the link
   * URI to show (text and QR code) as soon as the relay named the socket's address. `done`
   * resolves once the primary's ProvisionMessage arrived, the provisioning code was redeemed and
   * this device's keys are uploaded.
   */
  async beginLink(timeoutMs: number): Promise<PendingLink> {
    const core = this.core;
    if (core.registration !== null)
      throw new ClientError('ALREADY_REGISTERED', 'this store already holds an account');
    if (this.#linking !== null)
      throw new ClientError('INVALID_ARGUMENT', 'a link is already in progress on this client');
    const keyPair = x25519GenerateKeyPair(core.rng);
    const socket = openProvisioningSocket(
      core.http.provisioningSocketUrl,
      core.options.webSocketFactory,
    );
    this.#linking = socket;
    const timer = setTimeout(
      () =>
        void socket.close(
          new ClientError('TIMEOUT', 'the primary did not approve the link in time'),
        ),
      timeoutMs,
    );
    let address: string;
    try {
      address = await socket.address;
    } catch (err) {
      clearTimeout(timer);
      keyPair.privateKey.fill(0);
      this.#linking = null;
      throw err;
    }
    const uri = formatLinkUri({
      address,
      publicKey: concatBytes(Uint8Array.of(DJB_TYPE), keyPair.publicKey),
    });
    const done = (async (): Promise<AccountInfo> => {
      try {
        const envelope = await socket.envelope;
        clearTimeout(timer);
        const message = decryptProvisioning(keyPair.privateKey, envelope);
        return await this.#completeLink(message);
      } finally {
        clearTimeout(timer);
        keyPair.privateKey.fill(0);
        this.#linking = null;
      }
    })();
    done.catch(() => undefined); // the caller may attach its handler later
    return { uri, done, cancel: () => socket.close() };
  }

  /** Stops a link in progress (on `close`). */
  cancelLink(): void {
    void this.#linking?.close(new ClientError('CLOSED', 'the client was closed'));
  }

  /** The new device's side after the envelope opened: redeem the code, store, upload keys. */
  async #completeLink(plaintext: Uint8Array): Promise<AccountInfo> {
    const core = this.core;
    let message: ProvisionMessage;
    let identity: IdentityKeyPair;
    try {
      message = decodeProvisionMessage(plaintext);
      identity = IdentityKeyPair.fromPrivateKey(
        PrivateKey.deserialize(message.aciIdentityKeyPrivate),
      );
    } catch (cause) {
      throw ClientError.is(cause)
        ? cause
        : new ClientError('LINK_FAILED', 'the provisioning message is malformed', { cause });
    } finally {
      plaintext.fill(0);
    }
    if (
      !constantTimeEqual(identity.publicKey.serialize(), message.aciIdentityKeyPublic) ||
      !isUuid(message.aci) ||
      !PROVISIONING_CODE.test(message.provisioningCode) ||
      (message.number !== null && !E164.test(message.number))
    ) {
      throw new ClientError('LINK_FAILED', 'the provisioning message is inconsistent');
    }
    message.aciIdentityKeyPrivate.fill(0);
    const registrationId = this.#newRegistrationId();
    let res: ResponseBody<'linkDevice'>;
    try {
      res = await core.http.json('linkDevice', {
        body: { provisioningCode: message.provisioningCode, registrationId },
      });
    } catch (err) {
      if (ClientError.isApi(err, 'PROVISIONING_CODE_INVALID')) {
        throw new ClientError('LINK_FAILED', 'the provisioning code is wrong, used or expired', {
          cause: err,
        });
      }
      if (ClientError.isApi(err, 'DEVICE_LIMIT_REACHED')) {
        throw new ClientError('LINK_FAILED', 'the account already has the most devices it may', {
          cause: err,
        });
      }
      throw err;
    }
    if (res.accountId !== message.aci) {
      throw new ClientError('LINK_FAILED', 'the provisioning code belongs to another account');
    }
    await this.#becomeRegistered(res, message.number, identity, registrationId);
    return this.info()!;
  }

  /**
   * After the relay accepted a registration or link: stores the device's registration and
   * identity (with `moreWrites`, in the same transaction), makes them current and uploads the
   * first prekeys.
   */
  async #becomeRegistered(
    res: { readonly accountId: string; readonly deviceId: number; readonly credential: string },
    number: string | null,
    identity: IdentityKeyPair,
    registrationId: number,
    moreWrites?: (tx: ClientStoreTransaction) => Promise<void>,
  ): Promise<void> {
    const core = this.core;
    const reg: RegistrationRecord = {
      accountId: res.accountId,
      deviceId: res.deviceId,
      credential: fromBase64Url(res.credential),
      registrationId,
      number,
      status: 'registered',
    };
    await core.store.transaction(async (tx) => {
      await tx.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(reg));
      await tx.put(NS.account, ACCOUNT_KEYS.identity, identity.serialize());
      await moreWrites?.(tx);
    });
    core.registration = reg;
    core.state.setLocal({
      accountId: reg.accountId,
      deviceId: reg.deviceId,
      identity,
      registrationId,
    });
    await this.keys.createInitialKeys();
  }

  /**
   * On the primary: sends the account's identity to the new device of `uri` (read off its
   * screen), sealed with Signal's ProvisioningCipher to the key in the URI, then waits until the
   * new device joined the account and returns its device id.
   */
  async approveLink(uri: string, timeoutMs: number): Promise<{ deviceId: number }> {
    this.#requirePrimary();
    const core = this.core;
    const me = core.requireRegistered();
    const link = parseLinkUri(uri);
    const listIds = async (): Promise<Set<number>> => {
      const list = await core.http.json('listDevices', { credentials: core.credentials() });
      return new Set(list.devices.map((d) => d.deviceId));
    };
    const before = await listIds();
    const code = await core.http.json('createProvisioningCode', {
      credentials: core.credentials(),
    });
    const identity = core.state.local.identity;
    const privateKey = identity.privateKey.serialize();
    const plaintext = encodeProvisionMessage({
      aciIdentityKeyPublic: identity.publicKey.serialize(),
      aciIdentityKeyPrivate: privateKey,
      number: me.number,
      provisioningCode: code.code,
      aci: me.accountId,
    });
    privateKey.fill(0);
    const envelope = encryptProvisioning(link.publicKey, plaintext, core.rng);
    plaintext.fill(0);
    try {
      await core.http.call('sendProvisioningMessage', {
        params: { address: link.address },
        body: { body: toBase64(envelope) },
        credentials: core.credentials(),
      });
    } catch (err) {
      if (ClientError.isApi(err, 'PROVISIONING_ADDRESS_NOT_FOUND')) {
        throw new ClientError(
          'LINK_FAILED',
          'the new device is no longer waiting (the link expired or was used): start again on it',
          { cause: err },
        );
      }
      throw err;
    }
    // A timer, not the injected clock: tests may freeze `now`, and this waits on real time.
    let expired = false;
    const timer = setTimeout(() => (expired = true), timeoutMs);
    try {
      for (;;) {
        const added = [...(await listIds())].filter((id) => !before.has(id));
        if (added.length > 0) {
          const deviceId = Math.min(...added);
          await this.directory.refreshOwnDevices();
          core.events.emit({ type: 'device-linked', deviceId });
          return { deviceId };
        }
        if (expired || core.closed) {
          throw new ClientError('TIMEOUT', 'the new device did not join the account in time');
        }
        await new Promise((resolve) => setTimeout(resolve, LINK_POLL_INTERVAL_MS));
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
