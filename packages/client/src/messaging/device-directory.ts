/**
 * Who to encrypt for: the device lists of contacts and of the own account, and sessions with
 * each of their devices (ARCHITECTURE.md "A message's way", step 2).
 *
 * - A contact's device list starts from the relay's prekey bundles (`GET /v1/keys/:id/*`) or from
 *   the devices that wrote to us; the relay corrects it on a send (409 missing/extra devices,
 *   410 stale registration ids), and `applyMismatch` / `applyStale` apply the correction.
 * - The own account's list (every device but this one) comes from `GET /v1/devices`, refreshed on
 *   connect, when an unknown own device writes, and after a link.
 * - `ensureSessions` fetches a bundle for each device without a usable session and runs PQXDH.
 *   A bundle whose identity key differs from the contact's trusted key is refused by the trust
 *   store; the change is recorded and reported (`identity-changed`) and `IdentityHeldError` stops
 *   sending to that contact until the user accepts.
 */
import { fromBase64, type ResponseBody } from '@sotto/api';
import {
  IdentityKey,
  KemPublicKey,
  PreKeyBundle,
  ProtocolError,
  PublicKey,
  type ProtocolAddress,
} from '@sotto/protocol';
import type { ClientCore } from '../core.js';
import { ClientError } from '../errors.js';
import { OWN_DEVICES_REFRESH_MS } from '../limits.js';
import type { IdentityChangeNotice, StateTransaction } from '../state/device-state.js';
import { fromJsonBytes, toJsonBytes } from '../state/json.js';
import { NS } from '../state/namespaces.js';

/** Sending to this contact waits until the user accepts its new identity key. */
export class IdentityHeldError extends Error {
  override readonly name = 'IdentityHeldError';
  constructor(readonly contact: string) {
    super('the contact has a new identity key that is not accepted yet');
  }
}

/** A transient reason not to send now (keys not uploaded yet, rate limited): retry later. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    readonly reason: string,
    readonly afterMs?: number,
  ) {
    super(reason);
  }
}

type FetchedBundles = NonNullable<ResponseBody<'fetchKeys'>>;

export function parseBundle(
  identityKey: string,
  d: FetchedBundles['devices'][number],
): PreKeyBundle {
  return new PreKeyBundle({
    registrationId: d.registrationId,
    deviceId: d.deviceId,
    preKeyId: d.preKey === undefined ? null : d.preKey.keyId,
    preKey: d.preKey === undefined ? null : PublicKey.deserialize(fromBase64(d.preKey.publicKey)),
    signedPreKeyId: d.signedPreKey.keyId,
    signedPreKey: PublicKey.deserialize(fromBase64(d.signedPreKey.publicKey)),
    signedPreKeySignature: fromBase64(d.signedPreKey.signature),
    identityKey: IdentityKey.deserialize(fromBase64(identityKey)),
    kyberPreKeyId: d.kyberPreKey.keyId,
    kyberPreKey: KemPublicKey.deserialize(fromBase64(d.kyberPreKey.publicKey)),
    kyberPreKeySignature: fromBase64(d.kyberPreKey.signature),
  });
}

export class DeviceDirectory<R> {
  readonly #lists = new Map<string, number[]>();
  #ownRefreshedAt = Number.NEGATIVE_INFINITY;
  #ownRefresh: Promise<void> | null = null;

  constructor(private readonly core: ClientCore<R>) {}

  /** The stored device list of an account (`null` if none is known). */
  async known(accountId: string): Promise<number[] | null> {
    const cached = this.#lists.get(accountId);
    if (cached !== undefined) return cached;
    const bytes = await this.core.store.get(NS.devices, accountId);
    if (bytes === undefined) return null;
    const list = fromJsonBytes<number[]>(bytes, 'device list');
    if (!this.#lists.has(accountId)) this.#lists.set(accountId, list);
    return this.#lists.get(accountId)!;
  }

  /** Stages a new device list in `tx` (applied to the cache after the commit). */
  stage(tx: StateTransaction<R>, accountId: string, ids: readonly number[]): void {
    const list = [...new Set(ids)].sort((a, b) => a - b);
    tx.put(NS.devices, accountId, toJsonBytes(list));
    tx.afterCommit(() => this.#lists.set(accountId, list));
  }

  /** Adds a device that wrote to us to its account's list (inside the inbox transaction). */
  async noteSender(tx: StateTransaction<R>, accountId: string, deviceId: number): Promise<boolean> {
    if (accountId === this.core.registration?.accountId) {
      const own = await this.known(accountId);
      if (own === null || !own.includes(deviceId)) this.scheduleOwnRefresh();
      return false;
    }
    const list = (await this.known(accountId)) ?? [];
    if (list.includes(deviceId)) return false;
    this.stage(tx, accountId, [...list, deviceId]);
    return true;
  }

  scheduleOwnRefresh(): void {
    this.#ownRefreshedAt = Number.NEGATIVE_INFINITY;
    this.refreshOwnDevices().catch((err: unknown) =>
      this.core.events.emit({ type: 'problem', kind: 'maintenance-failed', code: errorCode(err) }),
    );
  }

  /** Reloads the own account's other devices from the relay; drops sessions of removed ones. */
  refreshOwnDevices(): Promise<void> {
    this.#ownRefresh ??= this.#refreshOwn().finally(() => {
      this.#ownRefresh = null;
    });
    return this.#ownRefresh;
  }

  async #refreshOwn(): Promise<void> {
    const reg = this.core.registration;
    if (reg === null) return;
    const res = await this.core.http.call('listDevices', { credentials: this.core.credentials() });
    const ids = (res?.devices ?? []).map((d) => d.deviceId).filter((id) => id !== reg.deviceId);
    const before = (await this.known(reg.accountId)) ?? [];
    const removed = before.filter((old) => !ids.includes(old));
    await this.#deleteSessions(reg.accountId, removed, (tx) => this.stage(tx, reg.accountId, ids));
    this.#ownRefreshedAt = this.core.now();
  }

  /** The devices to encrypt a message for `recipient` to (never this device). */
  async devicesFor(recipient: string): Promise<number[]> {
    const reg = this.core.requireRegistered();
    if (recipient === reg.accountId) {
      const list = await this.known(recipient);
      if (
        (list === null || list.length === 0) &&
        this.core.now() - this.#ownRefreshedAt > OWN_DEVICES_REFRESH_MS
      ) {
        await this.refreshOwnDevices();
      }
      return (await this.known(recipient)) ?? [];
    }
    const list = await this.known(recipient);
    if (list !== null && list.length > 0) return list;
    // First contact: the relay's bundles name the devices (and start the sessions).
    await this.#startFromBundles(recipient, null);
    return (await this.known(recipient)) ?? [];
  }

  /** Makes sure each device has a session that can send; fetches bundles where needed. */
  async ensureSessions(recipient: string, deviceIds: readonly number[]): Promise<void> {
    const need: number[] = [];
    const probe = this.core.state.begin();
    const now = this.core.now();
    for (const deviceId of deviceIds) {
      const record = await probe.getSession({ name: recipient, deviceId });
      if (record === null || this.core.engine.remoteRegistrationId(record, now) === null) {
        need.push(deviceId);
      }
    }
    if (need.length > 0) await this.#startFromBundles(recipient, need);
  }

  /** `only === null`: fetch every device of the account and take them all as its device list. */
  async #startFromBundles(recipient: string, only: readonly number[] | null): Promise<void> {
    const credentials = this.core.credentials();
    let fetched: FetchedBundles;
    const bundles: FetchedBundles['devices'][number][] = [];
    const removed: number[] = [];
    let identityKey = '';
    if (only === null || only.length > 1) {
      try {
        fetched = await this.core.http.json('fetchKeys', {
          params: { accountId: recipient, deviceId: '*' },
          credentials,
        });
      } catch (err) {
        throw this.#mapFetchError(err, recipient);
      }
      identityKey = fetched.identityKey;
      for (const d of fetched.devices)
        if (only === null || only.includes(d.deviceId)) bundles.push(d);
      if (only !== null && bundles.length < only.length) {
        throw new RetryLaterError('some devices have not uploaded keys yet');
      }
    } else {
      const deviceId = only[0]!;
      try {
        fetched = await this.core.http.json('fetchKeys', {
          params: { accountId: recipient, deviceId: String(deviceId) },
          credentials,
        });
        identityKey = fetched.identityKey;
        bundles.push(...fetched.devices);
      } catch (err) {
        if (ClientError.isApi(err, 'DEVICE_NOT_FOUND')) removed.push(deviceId);
        else throw this.#mapFetchError(err, recipient);
      }
    }
    if (removed.length > 0) {
      await this.applyMismatch(recipient, [], removed);
      throw new RetryLaterError('a device of the recipient no longer exists', 0);
    }
    const local = this.core.state.localAddress;
    for (const d of bundles) {
      const address: ProtocolAddress = { name: recipient, deviceId: d.deviceId };
      const bundle = parseBundle(identityKey, d);
      await this.core.queue.run(this.core.addressKey(address), async () => {
        const tx = this.core.state.begin();
        const existing = await tx.getSession(address);
        if (
          existing !== null &&
          this.core.engine.remoteRegistrationId(existing, this.core.now()) !== null
        ) {
          return; // a session exists already (e.g. from an incoming PreKey message)
        }
        try {
          await this.core.engine.startSession(
            bundle,
            address,
            local,
            tx.engineStores(),
            this.core.ctx(),
          );
        } catch (err) {
          if (ProtocolError.is(err, 'UNTRUSTED_IDENTITY')) {
            await this.recordUntrusted(recipient, bundle.identityKey.serialize());
            throw new IdentityHeldError(recipient);
          }
          throw err;
        }
        await tx.commit();
        this.emitIdentityChanges(tx.identityChanges);
      });
    }
    if (only === null) {
      await this.core.records(async () => {
        const tx = this.core.state.begin();
        this.stage(
          tx,
          recipient,
          bundles.map((b) => b.deviceId),
        );
        await tx.commit();
      });
    }
  }

  #mapFetchError(err: unknown, recipient: string): Error {
    if (ClientError.isApi(err, 'KEYS_NOT_FOUND')) {
      return new RetryLaterError('the recipient has not uploaded keys yet');
    }
    if (ClientError.isApi(err, 'RATE_LIMITED')) {
      const d = err.details as { retryAfterMs?: number } | undefined;
      return new RetryLaterError('rate limited', d?.retryAfterMs);
    }
    if (ClientError.isApi(err, 'ACCOUNT_NOT_FOUND')) {
      return new ClientError('UNKNOWN_CONTACT', 'no account with this id', { cause: err });
    }
    void recipient;
    return err instanceof Error ? err : new Error(String(err));
  }

  /** Records a refused (changed) identity key of `contact` and reports it. */
  async recordUntrusted(contact: string, key: Uint8Array): Promise<void> {
    const tx = this.core.state.begin();
    await tx.recordChangedIdentity(contact, key);
    await tx.commit();
    this.emitIdentityChanges(tx.identityChanges);
  }

  emitIdentityChanges(changes: readonly IdentityChangeNotice[]): void {
    for (const c of changes) {
      this.core.events.emit({
        type: 'identity-changed',
        contact: c.contact,
        ...(c.previousKey === undefined ? {} : { previousKey: c.previousKey }),
        newKey: c.newKey,
        wasVerified: c.wasVerified,
      });
    }
  }

  /** 409: add the missing devices, drop the extra ones (and their sessions). */
  async applyMismatch(
    recipient: string,
    missing: readonly number[],
    extra: readonly number[],
  ): Promise<void> {
    await this.#deleteSessions(recipient, extra, async (tx) => {
      const list = (await this.known(recipient)) ?? [];
      this.stage(tx, recipient, [...list.filter((d) => !extra.includes(d)), ...missing]);
    });
  }

  /** 410: the devices re-registered; their sessions are useless now. */
  async applyStale(recipient: string, stale: readonly number[]): Promise<void> {
    await this.#deleteSessions(recipient, stale, () => undefined);
  }

  /** Deletes sessions holding their address locks, so no decryption interleaves. */
  async #deleteSessions(
    recipient: string,
    devices: readonly number[],
    more: (tx: StateTransaction<R>) => void | Promise<void>,
  ): Promise<void> {
    const addresses = devices.map((deviceId) => ({ name: recipient, deviceId }));
    await this.core.queue.runAll(
      addresses.map((a) => this.core.addressKey(a)),
      () =>
        this.core.records(async () => {
          const tx = this.core.state.begin();
          for (const a of addresses) tx.deleteSession(a);
          await more(tx);
          await tx.commit();
        }),
    );
  }
}

export function errorCode(err: unknown): string {
  if (err instanceof ClientError) return err.apiCode ?? err.code;
  if (err instanceof ProtocolError) return err.code;
  if (err instanceof Error) return err.name;
  return 'unknown';
}
