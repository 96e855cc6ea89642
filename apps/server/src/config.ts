/**
 * The relay's configuration: a JSON file (`--config <path>` or SOTTO_CONFIG) overlaid by
 * environment variables (SOTTO_*), validated strictly (unknown keys and bad values are refused
 * with a message naming the key, never its value). docs/server.md lists every key.
 *
 * The TLS rule (ARCHITECTURE.md "Secure by default"): plain HTTP only on a loopback address; any
 * other address needs a certificate and a key. Behind a reverse proxy, bind to loopback and let
 * the proxy terminate TLS.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export type SmsMode = 'none' | 'console' | 'webhook';

export interface RelayConfig {
  readonly host: string;
  readonly port: number;
  /** Database, attachments and the server secret live here. */
  readonly dataDir: string;
  readonly tls: { readonly certPath: string; readonly keyPath: string } | null;
  /** Send HSTS even without `tls` (the relay sits behind a TLS-terminating proxy). */
  readonly hsts: boolean;
  /** Fastify `trustProxy`: false, true, or a comma-separated list of proxy addresses. */
  readonly trustProxy: boolean | string;
  readonly sms:
    | { readonly mode: 'none' }
    | { readonly mode: 'console' }
    | { readonly mode: 'webhook'; readonly url: string; readonly token: string | null };
  readonly messageRetentionDays: number;
  readonly attachmentRetentionDays: number;
  readonly auditRetentionDays: number;
  /** Backups kept per account (the newest); see docs/backups.md "Storage". */
  readonly backupRetention: number;
  /** Bytes (in MiB) the kept backups of one account may take; 0 turns relay backups off. */
  readonly backupQuotaMiB: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly groupCommitWindowMs: number;
  /** Optional path of the server secret (default `<dataDir>/server-secret`). */
  readonly secretFile: string | null;
  /** Client addresses exempt from per-address rate limits (load tests, monitoring). */
  readonly unlimitedAddresses: readonly string[];
  /** The key vault (docs/backups.md "The key vault", docs/server.md "Key vault"). */
  readonly vault: VaultConfig;
}

/**
 * `embedded` (default): the vault runs inside the relay, on its own database. `external`: the
 * relay only signs credentials; the vault runs as its own process (`vault-main.ts`) with the same
 * credential key. `off`: no vault, no credentials (PIN recovery and backup passwords unavailable).
 */
export type VaultMode = 'embedded' | 'external' | 'off';

export interface VaultConfig {
  readonly mode: VaultMode;
  /** Key shared by the relay and the vault to sign credentials (default `<dataDir>/vault-credential-key`). */
  readonly credentialKeyFile: string;
  /** The vault's SQLite database (default `<dataDir>/vault.db`). */
  readonly databaseFile: string;
  /** The OPAQUE server setup, kept out of the database (default `<dataDir>/vault-opaque-setup`). */
  readonly serverSetupFile: string;
  /**
   * `external` mode: the vault's base URL, so that deleting an account erases its vault records
   * there too (null: not configured; the relay then cannot erase them).
   */
  readonly url: string | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const FILE_KEYS = [
  'host',
  'port',
  'dataDir',
  'tls',
  'hsts',
  'trustProxy',
  'sms',
  'messageRetentionDays',
  'attachmentRetentionDays',
  'auditRetentionDays',
  'backupRetention',
  'backupQuotaMiB',
  'logLevel',
  'groupCommitWindowMs',
  'secretFile',
  'unlimitedAddresses',
  'vault',
] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Raw = Record<string, unknown>;

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function readFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`config file ${path} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(FILE_KEYS as readonly string[]).includes(key))
      throw new ConfigError(`unknown config key "${key}"`);
  }
  return parsed as Raw;
}

function integer(value: unknown, key: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}`);
  }
  return n;
}

function bool(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${key} must be true or false`);
}

function text(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigError(`${key} must be a non-empty string`);
  return value;
}

function object(value: unknown, key: string, keys: readonly string[]): Raw {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${key} must be an object`);
  }
  for (const k of Object.keys(value)) {
    if (!keys.includes(k)) throw new ConfigError(`unknown config key "${key}.${k}"`);
  }
  return value as Raw;
}

/**
 * Builds the configuration from `argv` (only `--config <path>` is understood) and `env`.
 * Relative paths resolve against `cwd`.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): RelayConfig {
  let configPath = env['SOTTO_CONFIG'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') {
      configPath = argv[++i];
      if (configPath === undefined) throw new ConfigError('--config needs a path');
    } else if (arg.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
    } else {
      throw new ConfigError(`unknown argument ${arg}`);
    }
  }
  const file = configPath === undefined ? {} : readFile(resolve(cwd, configPath));
  const fileDir = configPath === undefined ? cwd : resolve(cwd, configPath, '..');
  const pick = (envKey: string, fileKey: string): unknown => env[envKey] ?? file[fileKey];

  const host = text(pick('SOTTO_HOST', 'host') ?? '127.0.0.1', 'host');
  const port = integer(pick('SOTTO_PORT', 'port') ?? 8080, 'port', 0, 65535);
  // Paths from the file are relative to the file; paths from the environment to the cwd.
  const path = (envKey: string, fileKey: string, fallback: string | null): string | null => {
    const fromEnv = env[envKey];
    if (fromEnv !== undefined) return resolve(cwd, text(fromEnv, fileKey));
    const fromFile = file[fileKey];
    if (fromFile !== undefined) return resolve(fileDir, text(fromFile, fileKey));
    return fallback === null ? null : resolve(cwd, fallback);
  };
  const dataDir = path('SOTTO_DATA_DIR', 'dataDir', './data')!;

  const fileTls =
    file['tls'] === undefined ? undefined : object(file['tls'], 'tls', ['cert', 'key']);
  const certPath =
    env['SOTTO_TLS_CERT'] !== undefined
      ? resolve(cwd, text(env['SOTTO_TLS_CERT'], 'tls.cert'))
      : fileTls?.['cert'] !== undefined
        ? resolve(fileDir, text(fileTls['cert'], 'tls.cert'))
        : null;
  const keyPath =
    env['SOTTO_TLS_KEY'] !== undefined
      ? resolve(cwd, text(env['SOTTO_TLS_KEY'], 'tls.key'))
      : fileTls?.['key'] !== undefined
        ? resolve(fileDir, text(fileTls['key'], 'tls.key'))
        : null;
  if ((certPath === null) !== (keyPath === null)) {
    throw new ConfigError('TLS needs both a certificate and a key');
  }
  const tls = certPath !== null && keyPath !== null ? { certPath, keyPath } : null;
  if (tls === null && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to serve plain HTTP on ${host}: off loopback the relay needs TLS (SOTTO_TLS_CERT and SOTTO_TLS_KEY), or bind to 127.0.0.1 behind a TLS proxy`,
    );
  }

  const fileSms =
    file['sms'] === undefined
      ? {}
      : object(file['sms'], 'sms', ['sender', 'webhookUrl', 'webhookToken']);
  const smsMode = text(env['SOTTO_SMS'] ?? fileSms['sender'] ?? 'none', 'sms.sender');
  let sms: RelayConfig['sms'];
  switch (smsMode) {
    case 'none':
    case 'console':
      sms = { mode: smsMode };
      break;
    case 'webhook': {
      const url = text(env['SOTTO_SMS_WEBHOOK_URL'] ?? fileSms['webhookUrl'], 'sms.webhookUrl');
      const token = env['SOTTO_SMS_WEBHOOK_TOKEN'] ?? fileSms['webhookToken'];
      sms = {
        mode: 'webhook',
        url,
        token: token === undefined ? null : text(token, 'sms.webhookToken'),
      };
      break;
    }
    default:
      throw new ConfigError('sms.sender must be none, console or webhook');
  }

  const logLevel = text(pick('SOTTO_LOG_LEVEL', 'logLevel') ?? 'info', 'logLevel');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const trustRaw = pick('SOTTO_TRUST_PROXY', 'trustProxy') ?? false;
  const trustProxy =
    trustRaw === true || trustRaw === false || trustRaw === 'true' || trustRaw === 'false'
      ? bool(trustRaw, 'trustProxy')
      : text(trustRaw, 'trustProxy');

  const unlimitedRaw = env['SOTTO_UNLIMITED_ADDRESSES'] ?? file['unlimitedAddresses'] ?? [];
  const unlimitedList =
    typeof unlimitedRaw === 'string'
      ? unlimitedRaw
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a.length > 0)
      : unlimitedRaw;
  if (
    !Array.isArray(unlimitedList) ||
    !unlimitedList.every((a) => typeof a === 'string' && isIP(a) !== 0)
  ) {
    throw new ConfigError('unlimitedAddresses must be a list of IP addresses');
  }

  return {
    host,
    port,
    dataDir,
    tls,
    hsts: bool(pick('SOTTO_HSTS', 'hsts') ?? tls !== null, 'hsts'),
    trustProxy,
    sms,
    messageRetentionDays: integer(
      pick('SOTTO_MESSAGE_RETENTION_DAYS', 'messageRetentionDays') ?? 30,
      'messageRetentionDays',
      1,
      3650,
    ),
    attachmentRetentionDays: integer(
      pick('SOTTO_ATTACHMENT_RETENTION_DAYS', 'attachmentRetentionDays') ?? 30,
      'attachmentRetentionDays',
      1,
      3650,
    ),
    auditRetentionDays: integer(
      pick('SOTTO_AUDIT_RETENTION_DAYS', 'auditRetentionDays') ?? 365,
      'auditRetentionDays',
      1,
      36500,
    ),
    backupRetention: integer(
      pick('SOTTO_BACKUP_RETENTION', 'backupRetention') ?? 5,
      'backupRetention',
      1,
      100,
    ),
    backupQuotaMiB: integer(
      pick('SOTTO_BACKUP_QUOTA_MIB', 'backupQuotaMiB') ?? 4096,
      'backupQuotaMiB',
      0,
      1024 * 1024,
    ),
    logLevel: logLevel as RelayConfig['logLevel'],
    groupCommitWindowMs: integer(
      pick('SOTTO_GROUP_COMMIT_WINDOW_MS', 'groupCommitWindowMs') ?? 0,
      'groupCommitWindowMs',
      0,
      1000,
    ),
    secretFile: path('SOTTO_SECRET_FILE', 'secretFile', null),
    unlimitedAddresses: unlimitedList as string[],
    vault: vaultConfig(file, fileDir, env, cwd, dataDir),
  };
}

const VAULT_MODES: readonly VaultMode[] = ['embedded', 'external', 'off'];

function vaultConfig(
  file: Raw,
  fileDir: string,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  dataDir: string,
): VaultConfig {
  const fileVault =
    file['vault'] === undefined
      ? {}
      : object(file['vault'], 'vault', [
          'mode',
          'credentialKeyFile',
          'databaseFile',
          'serverSetupFile',
          'url',
        ]);
  const mode = text(env['SOTTO_VAULT'] ?? fileVault['mode'] ?? 'embedded', 'vault.mode');
  if (!(VAULT_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`vault.mode must be one of ${VAULT_MODES.join(', ')}`);
  }
  const path = (envKey: string, key: string, fallback: string): string => {
    const fromEnv = env[envKey];
    if (fromEnv !== undefined) return resolve(cwd, text(fromEnv, `vault.${key}`));
    const fromFile = fileVault[key];
    if (fromFile !== undefined) return resolve(fileDir, text(fromFile, `vault.${key}`));
    return resolve(dataDir, fallback);
  };
  return {
    mode: mode as VaultMode,
    credentialKeyFile: path(
      'SOTTO_VAULT_CREDENTIAL_KEY_FILE',
      'credentialKeyFile',
      'vault-credential-key',
    ),
    databaseFile: path('SOTTO_VAULT_DATABASE', 'databaseFile', 'vault.db'),
    serverSetupFile: path('SOTTO_VAULT_SERVER_SETUP_FILE', 'serverSetupFile', 'vault-opaque-setup'),
    url: vaultUrl(env['SOTTO_VAULT_URL'] ?? fileVault['url']),
  };
}

/** `vault.url`: an http(s) URL without credentials, or null when absent. */
function vaultUrl(value: unknown): string | null {
  if (value === undefined) return null;
  const raw = text(value, 'vault.url');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('vault.url must be an http:// or https:// URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
    throw new ConfigError('vault.url must be an http:// or https:// URL without credentials');
  return url.origin + url.pathname.replace(/\/+$/, '');
}
