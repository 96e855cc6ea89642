/**
 * Restoring a backup onto a fresh store (docs/backups.md "Restoring"; docs/client.md):
 *
 * 0. Archives on the relay, and a key vault on the relay, answer only a registered device. Then
 *    the restore first registers with the SMS code and a throwaway identity key, uploading NO
 *    prekeys (nobody can fetch a bundle, so no contact ever sees that key), downloads the archive
 *    and asks the vault with that device's credential, and in step 3 sets the restored identity
 *    key: one SMS code. A registration lock stops this first registration unless the PIN is given
 *    (the master key that would open it is inside the archive): docs/backups.md "Registration
 *    lock".
 * 1. The backup key: from the recovery key (through the archive's key slot) or from the key vault
 *    with the password (OPAQUE, one of the vault's 10 guesses).
 * 2. Pass 1 — verify: the archive streams from storage through the reader, which authenticates
 *    every chunk, the final-chunk flag and the record framing; only what later records refer to is
 *    kept (the account, contacts, conversation → contact, settings: `RecordImporter`) and the
 *    messages are counted. Truncation is only detectable at the end, so nothing is written before
 *    this pass completed; a wrong key fails at its start, a damaged archive at its end.
 * 3. The number gets the RESTORED identity key (safety numbers stay valid) and a new
 *    registration id: by registering with the SMS code — a registration lock is answered with the
 *    backup's master key (or the PIN through the PIN vault) — or, when step 0 registered already,
 *    by the primary-only `setIdentityKey`, which drops every prekey of the account with the old key.
 *    Re-registering replaces the account's devices, so the old device, if it still runs, is signed
 *    out.
 * 4. Pass 2 — write: the archive streams from storage again; messages go into the store in
 *    transactions of RESTORE_WRITES_PER_TRANSACTION writes, so memory stays flat for any size.
 *    It must be the archive of pass 1: the header's backup id is compared before the first record
 *    (every chunk's key and associated data derive from the header, so under the same backup id a
 *    chunk that authenticates is the chunk pass 1 verified: STREAM, docs/backup-format.md §5), and
 *    at the end the size, the final chunk's tag and the record count. Contacts and settings are
 *    written from what pass 1 kept; then the account records, last (a failure before leaves a
 *    store that still says "not registered", and the restore can run again), then new prekeys
 *    (signed by the restored identity). No session is restored: contacts get a 410 (stale device)
 *    on their next send and start a new session with the same identity, so no warning.
 *
 * The client store keeps a transaction's writes in memory until it commits (the SQLite adapter
 * does), so one transaction over the whole archive would not keep memory flat: hence two passes
 * over storage instead of one pass and a rollback.
 */
import {
  fromBase64Url,
  MAX_REGISTRATION_ID,
  toBase64,
  type DeviceCredentials,
  type ResponseBody,
} from '@sotto/api';
import { IdentityKeyPair } from '@sotto/protocol';
import {
  BackupError,
  RECOVERY_KEY_SLOT_TYPE,
  RecoveryKey,
  openBackup,
  openRecoveryKeySlot,
  recoverBackupKeyFromVault,
  type BackupReader,
  type BackupRecord,
  type BackupStorage,
  type KeySlot,
  type VaultApi,
  type VaultClientOptions,
} from '@sotto/backup';
import type { BackupKey } from '@sotto/backup';
import { constantTimeEqual } from '@sotto/crypto';
import { registrationLockToken } from '../account/account-manager.js';
import type { ClientCore, PinVaultContext } from '../core.js';
import { ClientError } from '../errors.js';
import { RESTORE_WRITES_PER_TRANSACTION } from '../limits.js';
import {
  ACCOUNT_KEYS,
  encodeRegistration,
  type RegistrationRecord,
} from '../state/account-records.js';
import { toJsonBytes } from '../state/json.js';
import { NS } from '../state/namespaces.js';
import { listBackups, type BackupProgress } from './backup-manager.js';
import { RecordImporter, SETTING, type StagedWrite } from './backup-records.js';
import { RelayBackupStorage } from './relay-storage.js';
import { lockedVaultCredential, registrationLockedError } from '../vault/relay-credential.js';
import { fetchOf, relayVault } from './relay-vault.js';
import { EMPTY_CONFIG, saveBackupKey, saveConfig, type BackupConfig } from './backup-state.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;

/** A key vault reached as the (provisionally) registered account, e.g. over the relay's HTTP. */
export type VaultFactory = (credentials: () => DeviceCredentials) => VaultApi;

export interface RestoreOptions {
  /**
   * Where the archive is: a storage readable without an account (a directory, S3, memory), or
   * 'relay' (the archive is read with a provisional registration: see the module header).
   */
  readonly storage: BackupStorage | 'relay';
  /** The archive's name; default the newest Sotto backup in `storage`. */
  readonly name?: string;
  /** The 64-character recovery key (spaces, dashes and case are ignored). */
  readonly recoveryKey?: string;
  /**
   * The backup password, checked by the key vault (`vault`, else `ClientOptions.backup.vault`,
   * else the relay's).
   */
  readonly password?: string;
  /**
   * The key vault (default `ClientOptions.backup.vault`, else the relay's). A factory is called
   * with the credentials of the provisional registration (see the module header).
   */
  readonly vault?: VaultApi | VaultFactory;
  readonly vaultOptions?: VaultClientOptions;
  /**
   * The account id the vault knows the backup key under, for a vault reached without
   * registering (a `VaultApi` object); a factory learns it from the provisional registration.
   */
  readonly accountId?: string;
  /** The number to register again (E.164): the backup's own number. */
  readonly number: string;
  /** Its 6-digit SMS code. */
  readonly code: string;
  /** The two-step PIN, if the backup's master key no longer matches the registration lock. */
  readonly pin?: string;
  /** App namespaces to restore from the backup (those the backup was made with). */
  readonly namespaces?: readonly string[];
  readonly onProgress?: (progress: BackupProgress) => void;
}

export interface RestoreResult {
  readonly name: string;
  readonly accountId: string;
  readonly deviceId: number;
  readonly number: string;
  /** When the backup was made (ms). */
  readonly backupCreatedAt: number;
  readonly contacts: number;
  readonly messages: number;
}

/** What a restore needs from the client that are not in `ClientCore`. */
export interface RestoreHooks {
  /** Uploads the new device keys (after the account records are stored). */
  createInitialKeys(): Promise<void>;
}

/** The configured vault, or else the relay's (a factory: it needs a registered account). */
function vaultOf(core: ClientCore<unknown>, options: RestoreOptions): VaultApi | VaultFactory {
  return options.vault ?? core.options.backup?.vault ?? ((device) => relayVault(core, device));
}

async function backupKeyFor(
  core: ClientCore<unknown>,
  options: RestoreOptions,
  provisional: DeviceCredentials | null,
): Promise<BackupKey | RecoveryKey> {
  if (options.recoveryKey !== undefined) return recoveryKeyOf(options.recoveryKey);
  const vault = vaultOf(core, options);
  const accountId = provisional?.accountId ?? options.accountId;
  if (accountId === undefined) {
    throw new ClientError('INVALID_ARGUMENT', 'restoring with a password needs the account id');
  }
  const api = typeof vault === 'function' ? vault(() => provisional!) : vault;
  return recoverBackupKeyFromVault(
    api,
    { accountId, password: options.password! },
    options.vaultOptions ?? core.options.backup?.vaultOptions,
  );
}

/** Parses the typed recovery key (BAD_RECOVERY_KEY names a typo before anything happens). */
function recoveryKeyOf(typed: string): RecoveryKey {
  return RecoveryKey.parse(typed);
}

function newRegistrationId(core: ClientCore<unknown>): number {
  const b = core.rng(2);
  return (((b[0]! << 8) | b[1]!) % MAX_REGISTRATION_ID) + 1;
}

/**
 * Registers `number` with `identity` (a new registration id), answering a registration lock with
 * the master key, or with the PIN through the PIN vault. Returns the relay's answer and the
 * master key that opened the lock (if one was needed).
 */
async function registerNumber(
  core: ClientCore<unknown>,
  request: {
    number: string;
    code: string;
    registrationId: number;
    identity: IdentityKeyPair;
    masterKey: Uint8Array | undefined;
    pin: string | undefined;
  },
): Promise<{ res: ResponseBody<'register'>; masterKey: Uint8Array | undefined; locked: boolean }> {
  let masterKey = request.masterKey;
  let token: Uint8Array | undefined;
  let triedPin = false;
  for (;;) {
    try {
      const res = await core.http.json('register', {
        body: {
          number: request.number,
          code: request.code,
          registrationId: request.registrationId,
          identityKey: toBase64(request.identity.publicKey.serialize()),
          ...(token === undefined ? {} : { registrationLockToken: toBase64(token) }),
        },
      });
      return { res, masterKey, locked: token !== undefined };
    } catch (err) {
      const locked =
        ClientError.isApi(err, 'REGISTRATION_LOCKED') ||
        ClientError.isApi(err, 'REGISTRATION_LOCK_MISMATCH');
      if (!locked) throw err;
      if (token === undefined && masterKey !== undefined) {
        token = registrationLockToken(masterKey);
        continue;
      }
      if (!triedPin && request.pin !== undefined && core.options.pinVault !== undefined) {
        triedPin = true;
        // The relay's 423 carries a recover-only vault credential once the SMS code was right.
        const vaultCredential = lockedVaultCredential(err.details);
        const context: PinVaultContext = {
          serverUrl: core.options.serverUrl,
          fetch: fetchOf(core),
          credential: () =>
            vaultCredential === undefined
              ? Promise.reject(
                  new ClientError('PIN_NOT_RECOVERABLE', 'the relay offers no key vault'),
                )
              : Promise.resolve(vaultCredential),
        };
        try {
          masterKey = await core.options.pinVault.recover(request.pin, context);
        } catch (cause) {
          throw new ClientError('PIN_NOT_RECOVERABLE', 'the PIN vault did not release the key', {
            cause,
          });
        }
        token = registrationLockToken(masterKey);
        continue;
      }
      throw registrationLockedError(
        err,
        'the number has a registration lock the backup cannot open: the PIN is needed',
      );
    }
  }
}

/** What pass 1 read, so that pass 2 can make sure it reads the same archive. */
interface ArchiveFingerprint {
  /** Hex of the header's random backup id. */
  readonly backupId: string;
  readonly bytes: number;
  /** The last 16 bytes: the final chunk's AES-GCM tag. */
  readonly tail: Uint8Array;
  readonly records: number;
}

const TAIL_BYTES = 16;

/** Passes a stream on, counting its bytes and keeping its last TAIL_BYTES. */
function observed(
  stream: ReadableStream<Uint8Array>,
  onBytes: (total: number) => void,
): { stream: ReadableStream<Uint8Array>; bytes: () => number; tail: () => Uint8Array } {
  let total = 0;
  let tail = new Uint8Array(0);
  const out = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length;
        if (chunk.length >= TAIL_BYTES) {
          tail = chunk.slice(chunk.length - TAIL_BYTES);
        } else {
          const joined = new Uint8Array(tail.length + chunk.length);
          joined.set(tail, 0);
          joined.set(chunk, tail.length);
          tail = joined.slice(Math.max(0, joined.length - TAIL_BYTES));
        }
        onBytes(total);
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream: out, bytes: () => total, tail: () => tail };
}

/** A changed archive between the passes: storage served other bytes the second time. */
function archiveChanged(): BackupError {
  return new BackupError(
    'STORAGE_IO',
    'the stored backup changed while it was being restored: run the restore again',
  );
}

/**
 * One pass over the archive `name`: streams it from storage through the reader (every chunk
 * authenticated, truncation and trailing data detected at the end), calling `onOpen` with the
 * header's facts before any record and `onBatch` with each batch of records.
 */
async function readArchive(
  storage: BackupStorage,
  name: string,
  key: BackupKey | RecoveryKey,
  onBytes: (total: number) => void,
  onOpen: (reader: BackupReader) => void,
  onBatch: (batch: BackupRecord[]) => Promise<void> | void,
): Promise<ArchiveFingerprint> {
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = await storage.get(name);
  } catch (err) {
    if (BackupError.is(err, 'STORAGE_NOT_FOUND')) {
      throw new ClientError('BACKUP_NOT_FOUND', 'there is no backup of that name', { cause: err });
    }
    throw err;
  }
  const source = observed(stream, onBytes);
  const reader = await openBackup(source.stream, key);
  try {
    onOpen(reader);
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
  let records = 0;
  for await (const batch of reader.batches()) {
    records += batch.length;
    await onBatch(batch);
  }
  return { backupId: reader.archive.backupId, bytes: source.bytes(), tail: source.tail(), records };
}

function sameArchive(a: ArchiveFingerprint, b: ArchiveFingerprint): boolean {
  return (
    a.backupId === b.backupId &&
    a.bytes === b.bytes &&
    a.records === b.records &&
    constantTimeEqual(a.tail, b.tail)
  );
}

export async function restoreFromBackup(
  core: ClientCore<unknown>,
  hooks: RestoreHooks,
  options: RestoreOptions,
): Promise<RestoreResult> {
  if (core.registration !== null) {
    throw new ClientError('ALREADY_REGISTERED', 'restore needs a fresh store');
  }
  if (!E164.test(options.number)) {
    throw new ClientError('INVALID_ARGUMENT', 'number must be in E.164 form');
  }
  if (!/^[0-9]{6}$/.test(options.code)) {
    throw new ClientError('INVALID_ARGUMENT', 'code must be 6 digits');
  }

  if ((options.recoveryKey === undefined) === (options.password === undefined)) {
    throw new ClientError('INVALID_ARGUMENT', 'give either recoveryKey or password');
  }
  const needsAccount =
    options.storage === 'relay' ||
    (options.password !== undefined && typeof vaultOf(core, options) === 'function');
  // A mistyped recovery key is refused before anything, the provisional registration included.
  if (options.recoveryKey !== undefined) recoveryKeyOf(options.recoveryKey);

  // 0. For the relay: a provisional registration (throwaway identity, no prekeys).
  let provisional: DeviceCredentials | null = null;
  let lockKey: Uint8Array | undefined;
  let lockOpened = false;
  const provisionalRegistrationId = newRegistrationId(core);
  if (needsAccount) {
    const first = await registerNumber(core, {
      number: options.number,
      code: options.code,
      registrationId: provisionalRegistrationId,
      identity: IdentityKeyPair.generate(core.rng),
      masterKey: undefined,
      pin: options.pin,
    });
    lockKey = first.masterKey;
    lockOpened = first.locked;
    provisional = {
      accountId: first.res.accountId,
      deviceId: first.res.deviceId,
      credential: fromBase64Url(first.res.credential),
    };
  }
  const credentials = (): DeviceCredentials => provisional!;
  const storage: BackupStorage =
    options.storage === 'relay'
      ? new RelayBackupStorage({ serverUrl: core.options.serverUrl, credentials })
      : options.storage;

  // 1. Which archive, and its size for the progress estimate.
  const listing = await listBackups(storage);
  const chosen =
    options.name === undefined
      ? listing[listing.length - 1]
      : (listing.find((b) => b.name === options.name) ?? {
          name: options.name,
          size: undefined,
          createdAt: 0,
        });
  if (chosen === undefined) {
    throw new ClientError('BACKUP_NOT_FOUND', 'there is no Sotto backup in this storage');
  }
  const key = await backupKeyFor(core, options, provisional);

  // Progress: both passes together, bytes against twice the stored size.
  const totalBytes = chosen.size === undefined ? {} : { totalBytes: 2 * chosen.size };
  const report = (progress: {
    pass: 'verify' | 'write';
    records: number;
    bytes: number;
    totalRecords?: number;
  }): void => options.onProgress?.({ phase: 'restore', ...progress, ...totalBytes });

  // 2. Pass 1: verify the whole archive, keeping only what later records refer to.
  const importer = new RecordImporter(core.now());
  let backupCreatedAt = chosen.createdAt;
  const opened: { backupKey: BackupKey | null; recoverySlot: KeySlot | null } = {
    backupKey: null,
    recoverySlot: null,
  };
  let read = 0;
  let verifiedBytes = 0;
  try {
    const first = await readArchive(
      storage,
      chosen.name,
      key,
      (n) => {
        verifiedBytes = n;
        report({ pass: 'verify', records: read, bytes: n });
      },
      (reader) => {
        // The backup key, for pass 2 and the restored device's next backups.
        opened.backupKey =
          key instanceof RecoveryKey ? openRecoveryKeySlot(reader.archive.keySlots, key) : key;
        opened.recoverySlot =
          reader.archive.keySlots.find((s) => s.type === RECOVERY_KEY_SLOT_TYPE) ?? null;
      },
      (batch) => {
        for (const r of batch) {
          if (r.type === 'backup-info') backupCreatedAt = r.createdAtMs;
          else importer.add(r);
        }
        read += batch.length;
        report({ pass: 'verify', records: read, bytes: verifiedBytes });
      },
    );
    const openedKey = opened.backupKey!;
    const recoverySlot = opened.recoverySlot;
    const { account, identity } = importer.account();
    if (account.phoneNumber !== '' && account.phoneNumber !== options.number) {
      throw new ClientError(
        'BACKUP_WRONG_ACCOUNT',
        'this backup belongs to another phone number: register that number to restore it',
      );
    }
    const backupMasterKey = account.masterKey.length > 0 ? account.masterKey : undefined;

    // 3. The restored identity and a new registration id on the relay.
    const registrationId = newRegistrationId(core);
    let accountId: string;
    let deviceId: number;
    let credential: Uint8Array;
    let masterKey: Uint8Array | undefined;
    let lockToken: boolean;
    if (provisional === null) {
      const registered = await registerNumber(core, {
        number: options.number,
        code: options.code,
        registrationId,
        identity,
        masterKey: backupMasterKey,
        pin: options.pin,
      });
      accountId = registered.res.accountId;
      deviceId = registered.res.deviceId;
      credential = fromBase64Url(registered.res.credential);
      masterKey = registered.masterKey ?? backupMasterKey;
      lockToken = registered.locked;
    } else {
      // The provisional device becomes the restored one: the identity key changes (and every
      // prekey with it; the provisional registration uploaded none), the registration id stays
      // the provisional one's, which contacts never saw.
      await core.http.call('setIdentityKey', {
        body: { identityKey: toBase64(identity.publicKey.serialize()) },
        credentials: provisional,
      });
      accountId = provisional.accountId;
      deviceId = provisional.deviceId;
      credential = provisional.credential;
      // The key that opened the lock is the one the PIN vault holds now.
      masterKey = lockKey ?? backupMasterKey;
      lockToken = lockOpened;
    }

    // 4. Pass 2: the same archive again, written as it streams.
    let pending: StagedWrite[] = importer.contactWrites();
    const flush = async (): Promise<void> => {
      const part = pending;
      pending = [];
      if (part.length === 0) return;
      await core.store.transaction(async (tx) => {
        for (const [ns, k, v] of part) await tx.put(ns, k, v);
      });
    };
    let written = 0;
    let writtenBytes = 0;
    const second = await readArchive(
      storage,
      chosen.name,
      openedKey,
      (n) => {
        writtenBytes = n;
        report({
          pass: 'write',
          records: written,
          totalRecords: first.records,
          bytes: first.bytes + n,
        });
      },
      (reader) => {
        if (reader.archive.backupId !== first.backupId) throw archiveChanged();
      },
      async (batch) => {
        for (const r of batch) {
          if (r.type === 'message') importer.messageWrites(r, accountId, pending);
        }
        written += batch.length;
        if (written > first.records) throw archiveChanged();
        report({
          pass: 'write',
          records: written,
          totalRecords: first.records,
          bytes: first.bytes + writtenBytes,
        });
        if (pending.length >= RESTORE_WRITES_PER_TRANSACTION) await flush();
      },
    );
    if (!sameArchive(first, second)) throw archiveChanged();
    pending.push(...importer.settingWrites(options.namespaces ?? []));
    await flush();

    // Then the account records, last.
    const settings = importer.settings;
    const keep = settings.get(SETTING.keep);
    const scheduleMs = settings.get(SETTING.schedule);
    const nameTag = settings.get(SETTING.nameTag);
    const config: BackupConfig = {
      ...EMPTY_CONFIG,
      recoverySlot,
      recoveryKeyCreatedAt: recoverySlot === null ? null : backupCreatedAt,
      password: settings.get(SETTING.password) === true,
      schedule:
        typeof scheduleMs === 'number' && scheduleMs > 0 ? { intervalMs: scheduleMs } : null,
      ...(typeof keep === 'number' && keep > 0 ? { keep } : {}),
      lastBackupAt: backupCreatedAt,
      lastBackupName: chosen.name,
      nameTag: typeof nameTag === 'string' && /^[a-z2-7]{8}$/.test(nameTag) ? nameTag : null,
    };
    const reg: RegistrationRecord = {
      accountId,
      deviceId,
      credential,
      registrationId: provisional === null ? registrationId : provisionalRegistrationId,
      number: options.number,
      status: 'registered',
    };
    const lockWasOn = settings.get(SETTING.lockEnabled) === true || lockToken;
    await core.store.transaction(async (tx) => {
      await saveBackupKey(tx, openedKey);
      await saveConfig(tx, config);
      if (masterKey !== undefined) await tx.put(NS.account, ACCOUNT_KEYS.masterKey, masterKey);
      await tx.put(NS.account, ACCOUNT_KEYS.identity, identity.serialize());
      await tx.put(
        NS.account,
        ACCOUNT_KEYS.registrationLock,
        toJsonBytes({ enabled: lockWasOn && masterKey !== undefined }),
      );
      await tx.put(NS.account, ACCOUNT_KEYS.registration, encodeRegistration(reg));
    });
    core.registration = reg;
    core.state.setLocal({
      accountId: reg.accountId,
      deviceId: reg.deviceId,
      identity,
      registrationId: reg.registrationId,
    });
    // New prekeys, signed by the restored identity.
    await hooks.createInitialKeys();
    // Re-registering clears the lock; keep the number locked as it was.
    if (lockWasOn && masterKey !== undefined) {
      await core.http.call('setRegistrationLock', {
        body: { token: toBase64(registrationLockToken(masterKey)) },
        credentials: core.credentials(),
      });
    }
    return {
      name: chosen.name,
      accountId: reg.accountId,
      deviceId: reg.deviceId,
      number: options.number,
      backupCreatedAt,
      contacts: importer.contactCount,
      messages: importer.messageCount,
    };
  } finally {
    opened.backupKey?.wipe();
  }
}
