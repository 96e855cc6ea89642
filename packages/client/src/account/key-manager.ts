/**
 * This device's prekeys (shared/specs/signal-wire.md §1.3): generating and uploading them at
 * registration, refilling one-time prekeys when the relay's count runs low, and rotating the
 * signed prekey and the last-resort Kyber prekey on a schedule (SIGNED_PREKEY_ROTATION_MS).
 *
 * Keys are stored before they are uploaded, so a PreKey message made from any published key
 * finds it. Replaced signed and last-resort keys stay for OLD_SIGNED_PREKEY_RETENTION_MS (longer
 * than the relay keeps a message) and are then deleted with their reuse markers. Ids run through
 * 1..0xFFFFFF from a random start, as Signal clients do, and wrap.
 */
import { toBase64 } from '@sotto/api';
import { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from '@sotto/protocol';
import type { ClientCore } from '../core.js';
import {
  OLD_SIGNED_PREKEY_RETENTION_MS,
  PREKEY_BATCH_SIZE,
  PREKEY_LOW_WATER_MARK,
  SIGNED_PREKEY_ROTATION_MS,
} from '../limits.js';
import {
  ACCOUNT_KEYS,
  decodeKeyState,
  encodeKeyState,
  type KeyState,
} from '../state/account-records.js';
import { NS, padNumber } from '../state/namespaces.js';
import type { StateTransaction } from '../state/device-state.js';

const MAX_KEY_ID = 0xff_ffff;

function nextId(id: number): number {
  return (id % MAX_KEY_ID) + 1;
}

interface Upload {
  signedPreKey?: { keyId: number; publicKey: string; signature: string };
  lastResortKyberPreKey?: { keyId: number; publicKey: string; signature: string };
  preKeys?: Array<{ keyId: number; publicKey: string }>;
  kyberPreKeys?: Array<{ keyId: number; publicKey: string; signature: string }>;
}

export interface KeyStatus {
  /** One-time EC prekeys the relay still holds for this device. */
  readonly ecCount: number;
  /** One-time Kyber prekeys the relay still holds for this device. */
  readonly kyberCount: number;
  readonly signedPreKeyId: number;
  readonly lastResortKyberPreKeyId: number;
  /** When the signed prekey was last replaced (ms). */
  readonly rotatedAt: number;
}

export class KeyManager<R> {
  readonly #batch: number;
  #running: Promise<void> | null = null;

  constructor(private readonly core: ClientCore<R>) {
    this.#batch = Math.min(
      PREKEY_BATCH_SIZE,
      Math.max(1, core.options.preKeyBatchSize ?? PREKEY_BATCH_SIZE),
    );
  }

  #randomStart(): number {
    const b = this.core.rng(3);
    return (((b[0]! << 16) | (b[1]! << 8) | b[2]!) % (MAX_KEY_ID - 1)) + 1;
  }

  async #loadState(): Promise<KeyState | null> {
    const bytes = await this.core.store.get(NS.account, ACCOUNT_KEYS.keyState);
    return bytes === undefined ? null : decodeKeyState(bytes);
  }

  /** New signed + last-resort prekeys and a batch of one-time keys; stored, then uploaded. */
  async createInitialKeys(): Promise<void> {
    const now = this.core.now();
    const base: KeyState = {
      nextPreKeyId: this.#randomStart(),
      nextKyberPreKeyId: this.#randomStart(),
      nextSignedPreKeyId: this.#randomStart(),
      currentSignedPreKeyId: 0,
      currentLastResortKyberId: 0,
      rotatedAt: now,
      retired: [],
      published: false,
    };
    const tx = this.core.state.begin();
    const upload: Upload = {};
    let state = this.#rotate(tx, base, upload, now, false);
    state = this.#oneTimeEc(tx, state, upload);
    state = this.#oneTimeKyber(tx, state, upload);
    tx.put(NS.account, ACCOUNT_KEYS.keyState, encodeKeyState({ ...state, published: false }));
    await tx.commit();
    await this.#upload(upload);
    await this.#markPublished();
  }

  async #markPublished(): Promise<void> {
    const state = await this.#loadState();
    if (state === null || state.published) return;
    await this.core.store.put(
      NS.account,
      ACCOUNT_KEYS.keyState,
      encodeKeyState({ ...state, published: true }),
    );
  }

  /** Uploads the current signed and last-resort prekeys again (after a crash before the upload). */
  async #republish(state: KeyState): Promise<void> {
    const tx = this.core.state.begin();
    const signed = await tx.getSignedPreKey(state.currentSignedPreKeyId);
    const kyber = await tx.getKyberPreKey(state.currentLastResortKyberId);
    if (signed === null || kyber === null) {
      await this.createInitialKeys();
      return;
    }
    await this.#upload({
      signedPreKey: {
        keyId: signed.id,
        publicKey: toBase64(signed.publicKey.serialize()),
        signature: toBase64(signed.signature),
      },
      lastResortKyberPreKey: {
        keyId: kyber.id,
        publicKey: toBase64(kyber.publicKey.serialize()),
        signature: toBase64(kyber.signature),
      },
    });
    await this.#markPublished();
  }

  /** What the relay holds for this device and which signed keys are current. */
  async status(): Promise<KeyStatus> {
    this.core.requireRegistered();
    const state = await this.#loadState();
    const counts = await this.core.http.json('keyCounts', { credentials: this.core.credentials() });
    return {
      ecCount: counts.ecCount,
      kyberCount: counts.kyberCount,
      signedPreKeyId: state?.currentSignedPreKeyId ?? 0,
      lastResortKyberPreKeyId: state?.currentLastResortKyberId ?? 0,
      rotatedAt: state?.rotatedAt ?? 0,
    };
  }

  /** Refill and rotation, at most one run at a time. */
  maintain(): Promise<void> {
    this.#running ??= this.#maintain().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #maintain(): Promise<void> {
    this.core.requireRegistered();
    const state0 = await this.#loadState();
    if (state0 === null) {
      await this.createInitialKeys();
      return;
    }
    if (!state0.published) await this.#republish(state0);
    const counts = await this.core.http.json('keyCounts', { credentials: this.core.credentials() });
    const now = this.core.now();
    const tx = this.core.state.begin();
    const upload: Upload = {};
    let state = state0;
    if (now - state.rotatedAt >= SIGNED_PREKEY_ROTATION_MS)
      state = this.#rotate(tx, state, upload, now, true);
    state = await this.#pruneRetired(tx, state, now);
    if (counts.ecCount < PREKEY_LOW_WATER_MARK) state = this.#oneTimeEc(tx, state, upload);
    if (counts.kyberCount < PREKEY_LOW_WATER_MARK) {
      state = this.#oneTimeKyber(tx, state, upload);
    }
    if (state === state0) return;
    const rotated = upload.signedPreKey !== undefined;
    tx.put(
      NS.account,
      ACCOUNT_KEYS.keyState,
      encodeKeyState(rotated ? { ...state, published: false } : state),
    );
    await tx.commit();
    if (Object.keys(upload).length > 0) await this.#upload(upload);
    if (rotated) await this.#markPublished();
  }

  #rotate(
    tx: StateTransaction<R>,
    state: KeyState,
    upload: Upload,
    now: number,
    retireOld: boolean,
  ): KeyState {
    const identity = this.core.state.local.identity;
    const rng = this.core.rng;
    const signed = SignedPreKeyRecord.generate(state.nextSignedPreKeyId, identity, now, rng);
    const kyber = KyberPreKeyRecord.generate(state.nextKyberPreKeyId, identity, now, rng, {
      lastResort: true,
    });
    tx.putSignedPreKey(signed);
    tx.putKyberPreKey(kyber);
    upload.signedPreKey = {
      keyId: signed.id,
      publicKey: toBase64(signed.publicKey.serialize()),
      signature: toBase64(signed.signature),
    };
    upload.lastResortKyberPreKey = {
      keyId: kyber.id,
      publicKey: toBase64(kyber.publicKey.serialize()),
      signature: toBase64(kyber.signature),
    };
    return {
      ...state,
      nextSignedPreKeyId: nextId(signed.id),
      nextKyberPreKeyId: nextId(kyber.id),
      currentSignedPreKeyId: signed.id,
      currentLastResortKyberId: kyber.id,
      rotatedAt: now,
      retired: retireOld
        ? [
            ...state.retired,
            {
              signedId: state.currentSignedPreKeyId,
              kyberId: state.currentLastResortKyberId,
              at: now,
            },
          ]
        : state.retired,
    };
  }

  async #pruneRetired(tx: StateTransaction<R>, state: KeyState, now: number): Promise<KeyState> {
    const keep = state.retired.filter((r) => r.at + OLD_SIGNED_PREKEY_RETENTION_MS > now);
    if (keep.length === state.retired.length) return state;
    const gone = state.retired.filter((r) => !keep.includes(r));
    const markers = await this.core.store.list(NS.kyberUsed);
    for (const r of gone) {
      tx.removeSignedPreKey(r.signedId);
      tx.removeKyberPreKey(r.kyberId);
      const prefix = `${padNumber(r.kyberId, 10)}.`;
      for (const [key] of markers) if (key.startsWith(prefix)) tx.delete(NS.kyberUsed, key);
    }
    return { ...state, retired: keep };
  }

  #oneTimeEc(tx: StateTransaction<R>, state: KeyState, upload: Upload): KeyState {
    const keys: Array<{ keyId: number; publicKey: string }> = [];
    let id = state.nextPreKeyId;
    for (let i = 0; i < this.#batch; i++) {
      const record = PreKeyRecord.generate(id, this.core.rng);
      tx.putPreKey(record);
      keys.push({ keyId: id, publicKey: toBase64(record.publicKey.serialize()) });
      id = nextId(id);
    }
    upload.preKeys = keys;
    return { ...state, nextPreKeyId: id };
  }

  #oneTimeKyber(tx: StateTransaction<R>, state: KeyState, upload: Upload): KeyState {
    const identity = this.core.state.local.identity;
    const keys: Array<{ keyId: number; publicKey: string; signature: string }> = [];
    let id = state.nextKyberPreKeyId;
    const now = this.core.now();
    for (let i = 0; i < this.#batch; i++) {
      const record = KyberPreKeyRecord.generate(id, identity, now, this.core.rng);
      tx.putKyberPreKey(record);
      keys.push({
        keyId: id,
        publicKey: toBase64(record.publicKey.serialize()),
        signature: toBase64(record.signature),
      });
      id = nextId(id);
    }
    upload.kyberPreKeys = keys;
    return { ...state, nextKyberPreKeyId: id };
  }

  async #upload(upload: Upload): Promise<void> {
    await this.core.http.call('uploadKeys', { body: upload, credentials: this.core.credentials() });
  }
}
