/**
 * The key vault's wiring (docs/server.md "Key vault"): its SQLite database, the credential key it
 * shares with the relay (32 random bytes, hex, 0600, like the server secret), and the OPAQUE
 * server setup in a 0600 file of its own, kept out of the database so that a copy of the database
 * alone allows no offline PIN guessing. `startRelay` mounts the vault inside the relay
 * (`vault.mode = embedded`); `startVaultService` runs it alone (vault-main.ts). Wiring only: the
 * vault itself is @sotto/vault over @sotto/backup's KeyVault.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatVaultAuthorization } from '@sotto/api';
import { KeyVault, VAULT_PURPOSES } from '@sotto/backup';
import {
  createRelayLogger,
  systemClock,
  VaultCredentialIssuer,
  type ServerContext,
} from '@sotto/server';
import {
  createVaultServer,
  createVaultServerSetup,
  vaultPlugin,
  type VaultSecurityEvent,
} from '@sotto/vault';
import { openSqliteVaultStore, type SqliteVaultStore } from '@sotto/vault-store-sqlite';
import type { RelayConfig } from './config.js';
import {
  listeningUrl,
  loadOrCreateSecret,
  readTlsFiles,
  runningService,
  type RunningRelay,
  type StartOptions,
} from './start.js';

const SETUP = /^[A-Za-z0-9_-]{64,4096}$/;

/** Reads the OPAQUE server setup, or creates it (mode 0600) on first start. */
export async function loadOrCreateVaultSetup(path: string): Promise<string> {
  if (existsSync(path)) {
    const setup = readFileSync(path, 'utf8').trim();
    if (!SETUP.test(setup)) throw new Error(`the vault server setup in ${path} is malformed`);
    if ((statSync(path).mode & 0o077) !== 0 && process.platform !== 'win32') {
      throw new Error(`the vault server setup ${path} is readable by other users; chmod 600 it`);
    }
    return setup;
  }
  const setup = await createVaultServerSetup();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${setup}\n`, { mode: 0o600, flag: 'wx' });
  return setup;
}

/** The credential key shared by relay and vault (created on first start, like the server secret). */
export function loadVaultCredentialKey(config: RelayConfig): Buffer {
  mkdirSync(dirname(config.vault.credentialKeyFile), { recursive: true, mode: 0o700 });
  return loadOrCreateSecret(config.vault.credentialKeyFile);
}

export interface OpenedVault {
  readonly store: SqliteVaultStore;
  readonly vault: KeyVault;
}

/** Opens the vault's database and the KeyVault over it with the setup from its file. */
export async function openVault(config: RelayConfig): Promise<OpenedVault> {
  const serverSetup = await loadOrCreateVaultSetup(config.vault.serverSetupFile);
  const store = openSqliteVaultStore({ filename: config.vault.databaseFile });
  try {
    return { store, vault: await KeyVault.open({ store, serverSetup }) };
  } catch (err) {
    store.close();
    throw err;
  }
}

/** Deletes every record of an account (each purpose), when the relay erases the account. */
export async function eraseVaultRecords(opened: OpenedVault, accountId: string): Promise<void> {
  for (const purpose of VAULT_PURPOSES) await opened.vault.delete({ accountId, purpose });
}

/** How long the relay waits for an external vault to erase one record. */
export const EXTERNAL_VAULT_ERASE_TIMEOUT_MS = 10_000;

/**
 * `external` mode with `vault.url`: erases a deleted account's records at the vault over HTTP,
 * with a full credential the relay signs itself. The account is already gone when this runs, so
 * a vault that is down or refuses is logged as an error for the operator (the record stays
 * unreachable: no credential can name the deleted account again) and the deletion still succeeds.
 * Copies what it needs of `credentialKey`, which the caller may wipe.
 */
export function externalVaultEraser(
  url: string,
  credentialKey: Uint8Array,
  log: { error(obj: object, msg: string): void },
): (accountId: string) => Promise<void> {
  const issuer = new VaultCredentialIssuer(credentialKey, systemClock);
  return async (accountId) => {
    const authorization = formatVaultAuthorization(issuer.issue(accountId, 'full'));
    for (const purpose of VAULT_PURPOSES) {
      let status: number | string;
      try {
        const res = await fetch(`${url}/v1/vault/records/${purpose}`, {
          method: 'DELETE',
          headers: { authorization },
          signal: AbortSignal.timeout(EXTERNAL_VAULT_ERASE_TIMEOUT_MS),
        });
        await res.body?.cancel();
        status = res.status;
      } catch (err) {
        status = err instanceof Error ? err.name : 'error';
      }
      if (status !== 200) {
        log.error(
          { purpose, status },
          "the external key vault did not erase a deleted account's record",
        );
      }
    }
  };
}

/** The vault plugin as the relay mounts it (`createServer({ plugins })`). */
export function embeddedVaultPlugin(
  opened: OpenedVault,
  credentialKey: Uint8Array,
  config: RelayConfig,
  onSecurityEvent?: (event: VaultSecurityEvent) => Promise<void>,
): { plugin: typeof vaultPlugin; options: Parameters<typeof vaultPlugin>[1] } {
  return {
    plugin: vaultPlugin,
    options: {
      vault: opened.vault,
      credentialKey,
      unlimitedAddresses: config.unlimitedAddresses,
      ...(onSecurityEvent === undefined ? {} : { onSecurityEvent }),
    },
  };
}

/**
 * The embedded vault's security events as rows of the relay's audit log (a failed PIN or
 * backup-password guess, a record registered or deleted): the purpose and the guesses left, never
 * more. `audit` is the relay's `context.audit`.
 */
export function auditVaultEvent(
  audit: ServerContext['audit'],
): (event: VaultSecurityEvent) => Promise<void> {
  return (event) =>
    audit(event.type, event.accountId, null, {
      purpose: event.purpose,
      ...(event.attemptsRemaining === undefined
        ? {}
        : { attemptsRemaining: event.attemptsRemaining }),
    });
}

/** Runs only the key vault, on `host:port` of the configuration, with its own database. */
export async function startVaultService(
  config: RelayConfig,
  options: Pick<StartOptions, 'logDestination'> = {},
): Promise<RunningRelay> {
  const log = createRelayLogger(config.logLevel, options.logDestination);
  const credentialKey = loadVaultCredentialKey(config);
  const serverSetup = await loadOrCreateVaultSetup(config.vault.serverSetupFile);
  const store = openSqliteVaultStore({ filename: config.vault.databaseFile });
  try {
    const https = readTlsFiles(config);
    const server = await createVaultServer({
      store,
      serverSetup,
      credentialKey,
      logger: log,
      trustProxy: config.trustProxy,
      unlimitedAddresses: config.unlimitedAddresses,
      ...(https === undefined ? {} : { https }),
    });
    credentialKey.fill(0);
    await server.app.listen({ host: config.host, port: config.port });
    const { url, port } = listeningUrl(config, server.app.server.address());
    log.info({ url, port, tls: config.tls !== null }, 'sotto vault ready');
    return runningService(url, port, async () => {
      await server.close();
      store.close();
      log.info('sotto vault stopped');
      log.flush();
    });
  } catch (err) {
    store.close();
    throw err;
  }
}
