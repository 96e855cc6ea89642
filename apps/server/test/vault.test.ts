// The key vault in the server app: mounted inside the relay by default with its own database and
// 0600 key files, `vault.*` configuration, `external` and `off` modes, and the standalone vault
// service (vault-main.ts's wiring) accepting credentials the relay signed with the shared key.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatVaultAuthorization, type VaultCredential } from '@sotto/api';
import { storeVaultSecret, type VaultApi } from '@sotto/backup';
import { loadConfig, startRelay, startVaultService } from '../src/index.js';

const silent = { write: () => true } as unknown as NodeJS.WritableStream;

async function registerDevice(url: string, number: string, codes: string[]) {
  await fetch(`${url}/v1/verification/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ number }),
  });
  const code = /code=([0-9]{6})/.exec(codes.at(-1)!)![1]!;
  const identityKey = Buffer.concat([Buffer.from([5]), Buffer.alloc(32, 7)]).toString('base64');
  const res = await fetch(`${url}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ number, code, registrationId: 9, identityKey }),
  });
  const body = (await res.json()) as { accountId: string; deviceId: number; credential: string };
  const basic = Buffer.from(`${body.accountId}.${body.deviceId}:${body.credential}`).toString(
    'base64',
  );
  return { accountId: body.accountId, authorization: `Basic ${basic}` };
}

/** The registration half of a VaultApi over HTTP at `base`, for storing a record in tests. */
function vaultApiAt(base: string, vaultAuth: string): VaultApi {
  const post = async (path: string, body: object) => {
    const r = await fetch(`${base}/v1/vault/records/${path}`, {
      method: 'POST',
      headers: { authorization: vaultAuth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return r.status === 204 ? undefined : await r.json();
  };
  return {
    registrationStart: (r) =>
      post(`${r.purpose}/registration/start`, {
        registrationRequest: r.registrationRequest,
      }) as ReturnType<VaultApi['registrationStart']>,
    registrationFinish: async (r) => {
      await post(`${r.purpose}/registration/finish`, {
        registrationId: r.registrationId,
        registrationRecord: r.registrationRecord,
        wrappedSecret: Buffer.from(r.wrappedSecret).toString('base64'),
        ...(r.clientParams === undefined ? {} : { clientParams: r.clientParams }),
      });
    },
    loginStart: () => Promise.reject(new Error('unused')),
    loginFinish: () => Promise.reject(new Error('unused')),
  };
}

/** A fresh full vault credential from the relay for a registered device. */
async function vaultCredential(
  relayUrl: string,
  device: { authorization: string },
): Promise<VaultCredential> {
  const res = await fetch(`${relayUrl}/v1/vault/credential`, {
    headers: { authorization: device.authorization },
  });
  return (await res.json()) as VaultCredential;
}

/** The vault alone (vault-main.ts's wiring) on its own data directory. */
function startStandaloneVault(dataDir: string, keyFile: string) {
  return startVaultService(
    loadConfig(
      [],
      { SOTTO_PORT: '0', SOTTO_DATA_DIR: dataDir, SOTTO_VAULT_CREDENTIAL_KEY_FILE: keyFile },
      '/',
    ),
    { logDestination: silent },
  );
}

/** A relay in `external` vault mode, signing credentials with the key in `keyFile`. */
function startExternalRelay(
  dataDir: string,
  keyFile: string,
  codes: string[],
  env: Record<string, string> = {},
) {
  return startRelay(
    loadConfig(
      [],
      {
        SOTTO_PORT: '0',
        SOTTO_DATA_DIR: dataDir,
        SOTTO_SMS: 'console',
        SOTTO_VAULT: 'external',
        SOTTO_VAULT_CREDENTIAL_KEY_FILE: keyFile,
        ...env,
      },
      '/',
    ),
    { logDestination: silent, consoleOut: { write: (l: string) => codes.push(l) } },
  );
}

describe('the key vault in the server app', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sotto-vault-app-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads vault.* from the file and the environment, and refuses unknown modes', () => {
    expect(loadConfig([], { SOTTO_DATA_DIR: dir }, '/').vault).toEqual({
      mode: 'embedded',
      credentialKeyFile: join(dir, 'vault-credential-key'),
      databaseFile: join(dir, 'vault.db'),
      serverSetupFile: join(dir, 'vault-opaque-setup'),
      url: null,
    });
    expect(
      loadConfig([], { SOTTO_VAULT: 'external', SOTTO_VAULT_CREDENTIAL_KEY_FILE: 'k' }, dir).vault,
    ).toMatchObject({ mode: 'external', credentialKeyFile: join(dir, 'k') });
    expect(() => loadConfig([], { SOTTO_VAULT: 'remote' }, '/')).toThrow(/vault\.mode/);
    expect(loadConfig([], { SOTTO_VAULT_URL: 'https://vault.example:8443/' }, '/').vault.url).toBe(
      'https://vault.example:8443',
    );
    expect(() => loadConfig([], { SOTTO_VAULT_URL: 'ftp://vault.example' }, '/')).toThrow(
      /vault\.url/,
    );
    expect(() => loadConfig([], { SOTTO_VAULT_URL: 'https://u:p@vault.example' }, '/')).toThrow(
      /vault\.url/,
    );
  });

  it('mounts the vault in the relay by default, on its own database and 0600 key files', async () => {
    const codes: string[] = [];
    const config = loadConfig(
      [],
      { SOTTO_PORT: '0', SOTTO_DATA_DIR: dir, SOTTO_SMS: 'console' },
      '/',
    );
    const relay = await startRelay(config, {
      logDestination: silent,
      consoleOut: { write: (l: string) => codes.push(l) },
    });
    try {
      const anonymous = await fetch(`${relay.url}/v1/vault/records/pin-master-key`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
        'VAULT_CREDENTIAL_INVALID',
      );
      const device = await registerDevice(relay.url, '+14155550123', codes);
      const credential = await vaultCredential(relay.url, device);
      expect(credential.username).toBe(device.accountId);
      const status = await fetch(`${relay.url}/v1/vault/records/pin-master-key`, {
        headers: {
          authorization: formatVaultAuthorization(credential),
        },
      });
      expect(await status.json()).toEqual({
        state: 'absent',
        attemptsRemaining: 0,
        retryAfterMs: 0,
      });
      expect(statSync(join(dir, 'vault.db')).isFile()).toBe(true);
      expect(statSync(join(dir, 'vault-credential-key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'vault-opaque-setup')).mode & 0o777).toBe(0o600);
    } finally {
      await relay.close();
    }
  });

  it('erases the vault records of an account when the account is deleted', async () => {
    const codes: string[] = [];
    const config = loadConfig(
      [],
      { SOTTO_PORT: '0', SOTTO_DATA_DIR: dir, SOTTO_SMS: 'console' },
      '/',
    );
    const relay = await startRelay(config, {
      logDestination: silent,
      consoleOut: { write: (l: string) => codes.push(l) },
    });
    try {
      const device = await registerDevice(relay.url, '+14155550126', codes);
      const credential = await vaultCredential(relay.url, device);
      const vaultAuth = formatVaultAuthorization(credential);
      const api = vaultApiAt(relay.url, vaultAuth);
      await storeVaultSecret(
        api,
        {
          accountId: device.accountId,
          purpose: 'pin-master-key',
          password: '2468',
          secret: new Uint8Array(32).fill(1),
        },
        { keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } } },
      );
      const status = () =>
        fetch(`${relay.url}/v1/vault/records/pin-master-key`, {
          headers: { authorization: vaultAuth },
        }).then((r) => r.json() as Promise<{ state: string }>);
      expect((await status()).state).toBe('active');
      // The embedded vault's security events are rows of the relay's audit log, without secrets.
      const db = new Database(join(dir, 'sotto.sqlite'), { readonly: true });
      try {
        const rows = db
          .prepare("SELECT event, account_id, details FROM audit_log WHERE event LIKE 'vault-%'")
          .all() as { event: string; account_id: string; details: string }[];
        expect(rows).toEqual([
          {
            event: 'vault-record-registered',
            account_id: device.accountId,
            details: JSON.stringify({ purpose: 'pin-master-key' }),
          },
        ]);
      } finally {
        db.close();
      }
      const deleted = await fetch(`${relay.url}/v1/accounts/me`, {
        method: 'DELETE',
        headers: { authorization: device.authorization },
      });
      expect(deleted.status).toBe(204);
      expect((await status()).state).toBe('absent');
    } finally {
      await relay.close();
    }
  });

  it('with vault.mode=off serves no vault and issues no credentials', async () => {
    const config = loadConfig(
      [],
      { SOTTO_PORT: '0', SOTTO_DATA_DIR: dir, SOTTO_SMS: 'console', SOTTO_VAULT: 'off' },
      '/',
    );
    const codes: string[] = [];
    const relay = await startRelay(config, {
      logDestination: silent,
      consoleOut: { write: (l: string) => codes.push(l) },
    });
    try {
      expect((await fetch(`${relay.url}/v1/vault/records/backup`)).status).toBe(404);
      const device = await registerDevice(relay.url, '+14155550124', codes);
      const r = await fetch(`${relay.url}/v1/vault/credential`, {
        headers: { authorization: device.authorization },
      });
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
        'VAULT_UNAVAILABLE',
      );
    } finally {
      await relay.close();
    }
  });

  it('runs the vault alone, accepting credentials the relay signs with the shared key', async () => {
    const keyFile = join(dir, 'shared-key');
    const codes: string[] = [];
    const relay = await startExternalRelay(join(dir, 'relay'), keyFile, codes);
    const vault = await startStandaloneVault(join(dir, 'vault'), keyFile);
    try {
      expect((await fetch(`${relay.url}/v1/vault/records/backup`)).status).toBe(404);
      expect(await (await fetch(`${vault.url}/v1/health`)).json()).toEqual({ status: 'ok' });
      const device = await registerDevice(relay.url, '+14155550125', codes);
      const credential = await vaultCredential(relay.url, device);
      const status = await fetch(`${vault.url}/v1/vault/records/backup`, {
        headers: {
          authorization: formatVaultAuthorization(credential),
        },
      });
      expect(status.status).toBe(200);
      expect(statSync(join(dir, 'vault', 'vault.db')).isFile()).toBe(true);
    } finally {
      await vault.close();
      await relay.close();
    }
  });

  it('in external mode with vault.url, erases the records at the separate vault on deletion', async () => {
    const keyFile = join(dir, 'shared-key');
    const codes: string[] = [];
    const vault = await startStandaloneVault(join(dir, 'vault'), keyFile);
    const relay = await startExternalRelay(join(dir, 'relay'), keyFile, codes, {
      SOTTO_VAULT_URL: vault.url,
    });
    try {
      const device = await registerDevice(relay.url, '+14155550127', codes);
      const credential = await vaultCredential(relay.url, device);
      const vaultAuth = formatVaultAuthorization(credential);
      await storeVaultSecret(
        vaultApiAt(vault.url, vaultAuth),
        {
          accountId: device.accountId,
          purpose: 'backup',
          password: 'correct horse battery staple',
          secret: new Uint8Array(32).fill(2),
        },
        { keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } } },
      );
      const status = () =>
        fetch(`${vault.url}/v1/vault/records/backup`, {
          headers: { authorization: vaultAuth },
        }).then((r) => r.json() as Promise<{ state: string }>);
      expect((await status()).state).toBe('active');
      const deleted = await fetch(`${relay.url}/v1/accounts/me`, {
        method: 'DELETE',
        headers: { authorization: device.authorization },
      });
      expect(deleted.status).toBe(204);
      expect((await status()).state).toBe('absent');
    } finally {
      await relay.close();
      await vault.close();
    }
  });
});
