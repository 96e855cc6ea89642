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
 * Linking follows link-protocol.ts: the primary makes a link code, the new device redeems it and
 * receives the identity key pair end-to-end encrypted through its mailbox, then uploads its own
 * prekeys.
 */
import {
  ENVELOPE_TYPES,
  fromBase64,
  fromBase64Url,
  MAX_REGISTRATION_ID,
  PRIMARY_DEVICE_ID,
  toBase64,
  type EnvelopeFrame,
  type ResponseBody,
} from '@sotto/api';
import { hmacSha256, toHex, sha256, utf8 } from '@sotto/crypto';
import { IdentityKeyPair } from '@sotto/protocol';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import { LINK_CODE_TTL_MS, MASTER_KEY_BYTES, MAX_PIN_LENGTH, MIN_PIN_LENGTH } from '../limits.js';
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
import type { KeyManager } from './key-manager.js';
import {
  checkHello,
  formatLinkCode,
  isHello,
  isProvision,
  makeHello,
  makeProvision,
  newEphemeralKey,
  newLinkSecret,
  openProvision,
  parseLinkCode,
} from './link-protocol.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;
const REGISTRATION_LOCK_INFO = utf8('Registration Lock');

export interface AccountInfo {
  readonly accountId: string;
  readonly deviceId: number;
  readonly number: string | null;
  readonly primary: boolean;
  /** `linking`: the device waits for its identity from the primary. */
  readonly status: 'registered' | 'linking';
}

export interface RegisterOptions {
  readonly number: string;
  /** The 6-digit SMS code. */
  readonly code: string;
  /** For a number with a registration lock: recovers the master key through the PIN vault. */
  readonly pin?: string;
}

interface PendingLink {
  secret: string;
  expiresAt: number;
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
  #linkWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

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
        if (token === undefined && masterKey !== undefined) {
          token = registrationLockToken(masterKey);
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
          try {
            masterKey = await vault.recover(options.pin);
          } catch (cause) {
            throw new ClientError(
              'PIN_NOT_RECOVERABLE',
              'the PIN vault did not release the master key',
              { cause },
            );
          }
          recovered = true;
          token = registrationLockToken(masterKey);
          continue;
        }
        const e = err;
        throw new ClientError(
          'REGISTRATION_LOCKED',
          'the number has a registration lock: the PIN is needed',
          {
            cause: err,
            ...(e.apiCode === undefined ? {} : { apiCode: e.apiCode }),
            ...(e.details === undefined ? {} : { details: e.details }),
          },
        );
      }
    }
    const reg: RegistrationRecord = {
      accountId: res.accountId,
      deviceId: res.deviceId,
      credential: fromBase64Url(res.credential),
      registrationId,
      number: options.number,
      status: 'registered',
    };
    await core.store.transaction(async (tx) => {
      await tx.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(reg));
      await tx.put(NS.account, ACCOUNT_KEYS.identity, identity.serialize());
      if (masterKey !== undefined) await tx.put(NS.account, ACCOUNT_KEYS.masterKey, masterKey);
      await tx.put(
        NS.account,
        ACCOUNT_KEYS.registrationLock,
        toJsonBytes({ enabled: token !== undefined }),
      );
    });
    core.registration = reg;
    core.state.setLocal({
      accountId: reg.accountId,
      deviceId: reg.deviceId,
      identity,
      registrationId,
    });
    await this.keys.createInitialKeys();
    // A re-registration through the lock keeps the number locked.
    if (token !== undefined) {
      await core.http.call('setRegistrationLock', {
        body: { token: toBase64(token) },
        credentials: core.credentials(),
      });
    }
    return this.info()!;
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
    await core.options.pinVault?.store(pin, masterKey);
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
    await this.core.options.pinVault?.remove?.();
  }

  // ---- linking -------------------------------------------------------------------------------

  /** On the primary: a single-use code (10 minutes) for a new device, e.g. shown as a QR code. */
  async createLinkCode(): Promise<string> {
    this.#requirePrimary();
    const core = this.core;
    const res = await core.http.json('createProvisioningCode', {
      credentials: core.credentials(),
    });
    const secret = newLinkSecret(core.rng);
    const id = toHex(sha256(secret)).slice(0, 32);
    const ttl = Math.min(LINK_CODE_TTL_MS, res.expiresInSeconds * 1000);
    const pending: PendingLink = { secret: toBase64(secret), expiresAt: core.now() + ttl };
    await core.store.put(NS.pendingLinks, id, toJsonBytes(pending));
    return formatLinkCode(fromBase64Url(res.code), secret);
  }

  /**
   * On a new device (empty store): redeems a link code, then waits for the identity from the
   * primary (which must be online) and uploads this device's keys. Connects the socket.
   */
  async linkDevice(linkCode: string, timeoutMs: number): Promise<AccountInfo> {
    const core = this.core;
    if (core.registration !== null)
      throw new ClientError('ALREADY_REGISTERED', 'this store already holds an account');
    const { provisioningCode, secret } = parseLinkCode(linkCode);
    const registrationId = this.#newRegistrationId();
    let res: ResponseBody<'linkDevice'>;
    try {
      res = await core.http.json('linkDevice', { body: { provisioningCode, registrationId } });
    } catch (err) {
      if (ClientError.isApi(err, 'PROVISIONING_CODE_INVALID')) {
        throw new ClientError('LINK_FAILED', 'the link code is wrong, used or expired', {
          cause: err,
        });
      }
      throw err;
    }
    const reg: RegistrationRecord = {
      accountId: res.accountId,
      deviceId: res.deviceId,
      credential: fromBase64Url(res.credential),
      registrationId,
      number: null,
      status: 'linking',
      linking: { secret, ephemeralPrivateKey: newEphemeralKey(core.rng), helloSent: false },
    };
    await core.store.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(reg));
    core.registration = reg;
    const linked = this.whenLinked(timeoutMs);
    core.socket.start();
    await linked;
    return this.info()!;
  }

  /** Resolves once a linking device received its identity. */
  whenLinked(timeoutMs: number): Promise<void> {
    if (this.core.registration?.status === 'registered') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#linkWaiters = this.#linkWaiters.filter((w) => w.resolve !== done);
        reject(new ClientError('TIMEOUT', 'the primary did not provision this device in time'));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#linkWaiters.push({
        resolve: done,
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** Called when the socket opens on a linking device: sends the HELLO once. */
  async onLinkingConnected(): Promise<void> {
    const reg = this.core.registration;
    if (reg?.status !== 'linking' || reg.linking === undefined || reg.linking.helloSent) return;
    const hello = makeHello(
      reg.linking.secret,
      reg.accountId,
      reg.deviceId,
      reg.linking.ephemeralPrivateKey,
    );
    await this.#sendToOwnDevices(hello);
    const updated: RegistrationRecord = { ...reg, linking: { ...reg.linking, helloSent: true } };
    await this.core.store.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(updated));
    if (this.core.registration === reg) this.core.registration = updated;
  }

  /** Sends a plaintext-content envelope to every other device of the own account. */
  async #sendToOwnDevices(content: Uint8Array): Promise<void> {
    const core = this.core;
    const me = core.registration!;
    for (let attempt = 0; ; attempt++) {
      const list = await core.http.json('listDevices', { credentials: core.credentials() });
      const envelopes = list.devices
        .filter((d) => d.deviceId !== me.deviceId)
        .map((d) => ({
          deviceId: d.deviceId,
          registrationId: d.registrationId,
          type: ENVELOPE_TYPES.plaintextContent,
          content,
        }));
      if (envelopes.length === 0) return;
      try {
        await core.socket.send({
          clientMessageId: core.rng(16),
          recipient: me.accountId,
          envelopes,
        });
        return;
      } catch (err) {
        const retry =
          ClientError.isApi(err, 'MISMATCHED_DEVICES') || ClientError.isApi(err, 'STALE_DEVICES');
        if (!retry || attempt >= 2) throw err;
      }
    }
  }

  /**
   * A plaintext-content envelope from the own account: a HELLO for a pending link (primary) or
   * the PROVISION this linking device waits for. True when it may be acknowledged.
   */
  async onPlaintextContent(envelope: EnvelopeFrame): Promise<boolean> {
    const reg = this.core.registration;
    if (reg === null) return false;
    const content = envelope.content;
    if (isHello(content) && reg.status === 'registered') {
      await this.#answerHello(content, envelope.sourceDeviceId);
      return true;
    }
    if (isProvision(content) && reg.status === 'linking' && reg.linking !== undefined) {
      const payload = openProvision(
        content,
        reg.linking.secret,
        reg.linking.ephemeralPrivateKey,
        reg.deviceId,
      );
      if (payload === null || payload.accountId !== reg.accountId) return true;
      await this.#completeLink(reg, payload.identity, payload.number);
    }
    return true;
  }

  async #answerHello(hello: Uint8Array, deviceId: number): Promise<void> {
    const core = this.core;
    const me = core.requireRegistered();
    const now = core.now();
    for (const [id, bytes] of await core.store.list(NS.pendingLinks)) {
      const pending = fromJsonBytes<PendingLink>(bytes, 'pending link');
      if (pending.expiresAt < now) {
        await core.store.delete(NS.pendingLinks, id);
        continue;
      }
      const secret = fromBase64(pending.secret);
      const eph = checkHello(hello, secret, me.accountId, deviceId);
      if (eph === null) continue;
      const provision = makeProvision(
        { identity: core.state.local.identity, accountId: me.accountId, number: me.number },
        secret,
        eph,
        deviceId,
        core.rng,
      );
      await this.#sendToOwnDevices(provision);
      await core.store.delete(NS.pendingLinks, id);
      await this.directory.refreshOwnDevices();
      core.events.emit({ type: 'device-linked', deviceId });
      return;
    }
  }

  async #completeLink(
    reg: RegistrationRecord,
    identity: IdentityKeyPair,
    number: string | null,
  ): Promise<void> {
    const core = this.core;
    const done: RegistrationRecord = {
      accountId: reg.accountId,
      deviceId: reg.deviceId,
      credential: reg.credential,
      registrationId: reg.registrationId,
      number,
      status: 'registered',
    };
    await core.store.transaction(async (tx) => {
      await tx.put(NS.account, ACCOUNT_KEYS.identity, identity.serialize());
      await tx.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(done));
    });
    core.registration = done;
    core.state.setLocal({
      accountId: done.accountId,
      deviceId: done.deviceId,
      identity,
      registrationId: done.registrationId,
    });
    await this.keys.createInitialKeys();
    this.directory.scheduleOwnRefresh();
    const waiters = this.#linkWaiters;
    this.#linkWaiters = [];
    for (const w of waiters) w.resolve();
  }
}
