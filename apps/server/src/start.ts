/**
 * Starts the relay from a RelayConfig: the SQLite store under the data directory, file
 * attachments and backup blobs, the server secret (created once, 0600), the configured SMS sender and the pino
 * logger, then listens. Returns a handle whose `close()` shuts everything down in order (stop
 * accepting, close sockets, commit queued writes, close the database). No protocol or storage
 * logic lives here: this is wiring only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ConsoleSmsSender,
  createRelayLogger,
  createServer,
  FileAttachmentStore,
  SERVER_SECRET_BYTES,
  WebhookSmsSender,
  type SmsSender,
} from '@sotto/server';
import { openSqliteStorage } from '@sotto/storage-sqlite';
import type { VaultSecurityEvent } from '@sotto/vault';
import type { RelayConfig } from './config.js';
import {
  auditVaultEvent,
  embeddedVaultPlugin,
  eraseVaultRecords,
  externalVaultEraser,
  loadVaultCredentialKey,
  openVault,
} from './vault.js';

const DAY = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

export interface RunningRelay {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where JSON log lines go (stdout by default). */
  readonly logDestination?: NodeJS.WritableStream;
  /** Where the development SMS sender writes (stdout by default). */
  readonly consoleOut?: { write(line: string): unknown };
}

/** Reads the server secret, or creates it (32 random bytes, hex, mode 0600) on first start. */
export function loadOrCreateSecret(path: string): Buffer {
  if (existsSync(path)) {
    const hex = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]+$/.test(hex) || hex.length < SERVER_SECRET_BYTES * 2 || hex.length % 2 !== 0) {
      throw new Error(
        `the server secret in ${path} is malformed (expected at least 64 hex digits)`,
      );
    }
    if ((statSync(path).mode & 0o077) !== 0 && process.platform !== 'win32') {
      throw new Error(`the server secret ${path} is readable by other users; chmod 600 it`);
    }
    return Buffer.from(hex, 'hex');
  }
  const secret = randomBytes(SERVER_SECRET_BYTES);
  writeFileSync(path, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The certificate and key files of `config.tls`, for Node's HTTPS server; undefined: plain HTTP. */
export function readTlsFiles(config: RelayConfig): { cert: Buffer; key: Buffer } | undefined {
  return config.tls === null
    ? undefined
    : { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) };
}

/**
 * The URL a started server answers on, from the address it listens on (the port the system chose
 * when the configuration's is 0).
 */
export function listeningUrl(
  config: RelayConfig,
  address: string | AddressInfo | null,
): { url: string; port: number } {
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const hostText = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { url: `${config.tls === null ? 'http' : 'https'}://${hostText}:${port}`, port };
}

/** The handle of a started service: `close` runs `stop` once, however often it is called. */
export function runningService(url: string, port: number, stop: () => Promise<void>): RunningRelay {
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    close: () => (closing ??= stop()),
  };
}

export async function startRelay(
  config: RelayConfig,
  options: StartOptions = {},
): Promise<RunningRelay> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log = createRelayLogger(config.logLevel, options.logDestination);
  const secret = loadOrCreateSecret(config.secretFile ?? join(config.dataDir, 'server-secret'));

  let sms: SmsSender | null;
  switch (config.sms.mode) {
    case 'none':
      sms = null;
      log.warn('no SMS sender configured: new numbers cannot register (set SOTTO_SMS)');
      break;
    case 'console':
      sms = new ConsoleSmsSender(options.consoleOut);
      log.warn(
        'DEVELOPMENT SMS sender: verification codes are printed to stdout, never use in production',
      );
      break;
    case 'webhook':
      sms = new WebhookSmsSender({
        url: config.sms.url,
        ...(config.sms.token === null ? {} : { token: config.sms.token }),
      });
      break;
  }

  if (config.unlimitedAddresses.length > 0) {
    log.warn(
      { addresses: config.unlimitedAddresses.length },
      'per-address rate limits are off for the configured unlimited addresses',
    );
  }

  // The key vault: its own database and keys (vault.ts); inside the relay unless configured apart.
  const vaultCredentialKey = config.vault.mode === 'off' ? null : loadVaultCredentialKey(config);
  const vault = config.vault.mode === 'embedded' ? await openVault(config) : null;
  const storage = await openSqliteStorage({ filename: join(config.dataDir, 'sotto.sqlite') });
  try {
    const attachments = await FileAttachmentStore.open(join(config.dataDir, 'attachments'));
    // Backup archives: a blob directory of their own; a quota of 0 turns relay backups off.
    const backups =
      config.backupQuotaMiB === 0
        ? null
        : await FileAttachmentStore.open(join(config.dataDir, 'backups'));
    const https = readTlsFiles(config);
    let auditEmbeddedVault: ((event: VaultSecurityEvent) => Promise<void>) | null = null;
    const server = await createServer({
      storage,
      attachments,
      backups,
      backupRetentionCount: config.backupRetention,
      backupQuotaBytes: config.backupQuotaMiB * MIB,
      sms,
      secret,
      logger: log,
      hsts: config.hsts,
      trustProxy: config.trustProxy,
      messageRetentionMs: config.messageRetentionDays * DAY,
      attachmentRetentionMs: config.attachmentRetentionDays * DAY,
      auditRetentionMs: config.auditRetentionDays * DAY,
      groupCommitWindowMs: config.groupCommitWindowMs,
      unlimitedAddresses: config.unlimitedAddresses,
      ...(https === undefined ? {} : { https }),
      ...(vaultCredentialKey === null ? {} : { vaultCredentialKey }),
      ...(config.vault.mode === 'external' &&
      config.vault.url !== null &&
      vaultCredentialKey !== null
        ? { onAccountDeleted: externalVaultEraser(config.vault.url, vaultCredentialKey, log) }
        : {}),
      ...(vault === null || vaultCredentialKey === null
        ? {}
        : {
            plugins: [
              embeddedVaultPlugin(vault, vaultCredentialKey, config, (event) =>
                // Bound below, once the relay (and so its audit log) exists.
                auditEmbeddedVault === null ? Promise.resolve() : auditEmbeddedVault(event),
              ),
            ],
            // Erasure covers the vault: the account's PIN and backup records go with it.
            onAccountDeleted: (accountId: string) => eraseVaultRecords(vault, accountId),
          }),
    });
    secret.fill(0);
    vaultCredentialKey?.fill(0);
    auditEmbeddedVault = auditVaultEvent((event, accountId, deviceId, details) =>
      server.context.audit(event, accountId, deviceId, details),
    );
    await server.app.listen({ host: config.host, port: config.port });
    const { url, port } = listeningUrl(config, server.app.server.address());
    // The readiness line: tools wait for it. It names the address only — no secrets, no paths.
    log.info(
      { url, port, tls: config.tls !== null, sms: config.sms.mode, vault: config.vault.mode },
      'sotto relay ready',
    );

    return runningService(url, port, async () => {
      await server.close();
      await storage.close();
      vault?.store.close();
      log.info('sotto relay stopped');
      log.flush();
    });
  } catch (err) {
    await storage.close();
    vault?.store.close();
    throw err;
  }
}
