/**
 * Restoring a backup onto a fresh store (docs/backups.md "Restoring"; docs/client.md):
 *
 * 1. The backup key: from the recovery key (through the archive's key slot) or from the key vault
 *    with the password (OPAQUE, one of the vault's 10 guesses).
 * 2. The archive is opened — a wrong key fails here, before anything is read or written — and
 *    read to the end into memory (`RecordImporter`): truncation is only detectable at the end,
 *    so nothing is written before the whole archive authenticated.
 * 3. The number is registered again with the SMS code: the relay keeps the account id; the
 *    request carries the RESTORED identity key (safety numbers stay valid) and a new
 *    registration id; a registration lock is answered with the backup's master key (or, if that
 *    does not match, the PIN through the PIN vault). Re-registering replaces the account's devices,
 *    so the old device, if it still runs, is signed out.
 * 4. Contacts, trust and verification, messages and settings are written, then the account
 *    records (so a crash before the end leaves a store that still says "not registered", and the
 *    restore can run again). New prekeys are uploaded. No session is restored: contacts get a 410
 *    (stale device) on their next send and start a new session; the identity is the same, so
 *    they see no identity-change warning.
 *
 * Archives on the relay, and a key vault on the relay, answer only a registered device. Then the
 * restore registers twice: first with a throwaway identity key and NO prekeys (nobody can start
 * a session with it, so no contact ever sees that key), only to download the archive and ask the
 * vault; then, with a second SMS code (`nextCode`), with the restored identity as above. A
 * registration lock stops the first registration unless the PIN is given (the master key that
 * would open it is inside the archive): docs/backups.md "Registration lock".
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
  type BackupStorage,
  type VaultApi,
  type VaultClientOptions,
} from '@sotto/backup';
import type { BackupKey } from '@sotto/backup';
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
import { countBytes, listBackups, type BackupProgress } from './backup-manager.js';
import { RecordImporter, SETTING } from './backup-records.js';
import { RelayBackupStorage } from './relay-storage.js';
import { lockedVaultCredential, withoutVaultCredential } from '../vault/relay-credential.js';
import { fetchOf, relayVault } from './relay-vault.js';
import { EMPTY_CONFIG, saveBackupKey, saveConfig, type BackupConfig } from './backup-state.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;

/** A key vault reached as the (provisionally) registered account, e.g. over the relay's HTTP. */
export type VaultFactory = (credentials: () => DeviceCredentials) => VaultApi;

export interface RestoreOptions {
  /**
   * Where the archive is: a storage readable without an account (a directory, S3, memory), or
   * 'relay' (needs `nextCode`: see the module header).
   */
  readonly storage: BackupStorage | 'relay';
  /** The archive's name; default the newest Sotto backup in `storage`. */
  readonly name?: string;
  /** The 64-character recovery key (spaces, dashes and case are ignored). */
  readonly recoveryKey?: string;
  /** The backup password, checked by the key vault. Needs `vault` and `accountId`. */
  readonly password?: string;
  /**
   * The key vault (default `ClientOptions.backup.vault`). A factory is called with the
   * credentials of the first, provisional registration (needs `nextCode`).
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
  /**
   * For archives on the relay or a vault factory: asked for the second SMS code (already
   * requested by the SDK) after the archive was read.
   */
  readonly nextCode?: () => Promise<string>;
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
      throw new ClientError(
        'REGISTRATION_LOCKED',
        'the number has a registration lock the backup cannot open: the PIN is needed',
        {
          cause: err,
          ...(err.apiCode === undefined ? {} : { apiCode: err.apiCode }),
          ...(err.details === undefined ? {} : { details: withoutVaultCredential(err.details) }),
        },
      );
    }
  }
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
  if (needsAccount && options.nextCode === undefined) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      'restoring from the relay (or with its vault) registers twice: give nextCode',
    );
  }

  // 0. For the relay: a provisional registration (throwaway identity, no prekeys).
  let provisional: DeviceCredentials | null = null;
  let lockKey: Uint8Array | undefined;
  if (needsAccount) {
    const first = await registerNumber(core, {
      number: options.number,
      code: options.code,
      registrationId: newRegistrationId(core),
      identity: IdentityKeyPair.generate(core.rng),
      masterKey: undefined,
      pin: options.pin,
    });
    lockKey = first.masterKey;
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

  // 2. Open (a wrong key fails here) and read everything before writing anything.
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = await storage.get(chosen.name);
  } catch (err) {
    if (BackupError.is(err, 'STORAGE_NOT_FOUND')) {
      throw new ClientError('BACKUP_NOT_FOUND', 'there is no backup of that name', { cause: err });
    }
    throw err;
  }
  let bytes = 0;
  let records = 0;
  const report = (): void =>
    options.onProgress?.({
      phase: 'restore',
      records,
      bytes,
      ...(chosen.size === undefined ? {} : { totalBytes: chosen.size }),
    });
  const reader = await openBackup(
    countBytes(stream, (n) => {
      bytes = n;
      report();
    }),
    key,
  );
  // The backup key, for the restored device's next backups.
  const backupKey =
    key instanceof RecoveryKey ? openRecoveryKeySlot(reader.archive.keySlots, key) : key;
  const recoverySlot =
    reader.archive.keySlots.find((s) => s.type === RECOVERY_KEY_SLOT_TYPE) ?? null;
  const importer = new RecordImporter(core.now());
  let backupCreatedAt = chosen.createdAt;
  for await (const batch of reader.batches()) {
    for (const r of batch) {
      if (r.type === 'backup-info') backupCreatedAt = r.createdAtMs;
      else importer.add(r);
    }
    records += batch.length;
    report();
  }
  const { account, identity } = importer.account();
  if (account.phoneNumber !== '' && account.phoneNumber !== options.number) {
    backupKey.wipe();
    throw new ClientError(
      'BACKUP_WRONG_ACCOUNT',
      'this backup belongs to another phone number: register that number to restore it',
    );
  }

  // 3. Register again with the restored identity and a new registration id.
  let code = options.code;
  if (needsAccount) {
    await core.http.call('requestVerificationCode', { body: { number: options.number } });
    code = await options.nextCode!();
  }
  const registrationId = newRegistrationId(core);
  const registered = await registerNumber(core, {
    number: options.number,
    code,
    registrationId,
    identity,
    masterKey: account.masterKey.length > 0 ? account.masterKey : lockKey,
    pin: options.pin,
  });
  const res = registered.res;
  const masterKey =
    registered.masterKey ?? (account.masterKey.length > 0 ? account.masterKey : undefined);
  const token = registered.locked ? masterKey : undefined;

  // 4. Write: contacts, trust, messages, settings; then the account records.
  const writes = importer.writes(res.accountId, options.namespaces ?? []);
  for (let i = 0; i < writes.length; i += RESTORE_WRITES_PER_TRANSACTION) {
    const part = writes.slice(i, i + RESTORE_WRITES_PER_TRANSACTION);
    await core.store.transaction(async (tx) => {
      for (const [ns, k, v] of part) await tx.put(ns, k, v);
    });
  }
  const settings = importer.settings;
  const keep = settings.get(SETTING.keep);
  const scheduleMs = settings.get(SETTING.schedule);
  const nameTag = settings.get(SETTING.nameTag);
  const config: BackupConfig = {
    ...EMPTY_CONFIG,
    recoverySlot,
    recoveryKeyCreatedAt: recoverySlot === null ? null : backupCreatedAt,
    password: settings.get(SETTING.password) === true,
    schedule: typeof scheduleMs === 'number' && scheduleMs > 0 ? { intervalMs: scheduleMs } : null,
    ...(typeof keep === 'number' && keep > 0 ? { keep } : {}),
    lastBackupAt: backupCreatedAt,
    lastBackupName: chosen.name,
    nameTag: typeof nameTag === 'string' && /^[a-z2-7]{8}$/.test(nameTag) ? nameTag : null,
  };
  const reg: RegistrationRecord = {
    accountId: res.accountId,
    deviceId: res.deviceId,
    credential: fromBase64Url(res.credential),
    registrationId,
    number: options.number,
    status: 'registered',
  };
  const lockWasOn = settings.get(SETTING.lockEnabled) === true || token !== undefined;
  await core.store.transaction(async (tx) => {
    await saveBackupKey(tx, backupKey);
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
  backupKey.wipe();
  core.registration = reg;
  core.state.setLocal({
    accountId: reg.accountId,
    deviceId: reg.deviceId,
    identity,
    registrationId,
  });
  await hooks.createInitialKeys();
  // Re-registering keeps the account; keep the number locked as it was.
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
}
