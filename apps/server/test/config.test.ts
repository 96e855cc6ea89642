import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, isLoopback, loadConfig } from '../src/index.js';

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sotto-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('configures relay backups: retention count and quota, 0 turning them off', () => {
    expect(loadConfig([], {}, '/')).toMatchObject({ backupRetention: 5, backupQuotaMiB: 4096 });
    const file = join(dir, 'relay.json');
    writeFileSync(file, JSON.stringify({ backupRetention: 3, backupQuotaMiB: 0 }));
    expect(loadConfig(['--config', file], {}, '/')).toMatchObject({
      backupRetention: 3,
      backupQuotaMiB: 0,
    });
    expect(
      loadConfig([], { SOTTO_BACKUP_RETENTION: '7', SOTTO_BACKUP_QUOTA_MIB: '100' }, '/'),
    ).toMatchObject({ backupRetention: 7, backupQuotaMiB: 100 });
    expect(() => loadConfig([], { SOTTO_BACKUP_RETENTION: '0' }, '/')).toThrow(/backupRetention/);
    expect(() => loadConfig([], { SOTTO_BACKUP_RETENTION: '101' }, '/')).toThrow(/backupRetention/);
    expect(() => loadConfig([], { SOTTO_BACKUP_QUOTA_MIB: '-1' }, '/')).toThrow(/backupQuotaMiB/);
  });

  it('defaults to loopback, port 8080, ./data, no SMS, 30-day retention', () => {
    const c = loadConfig([], {}, '/srv');
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: '/srv/data',
      tls: null,
      hsts: false,
      sms: { mode: 'none' },
      messageRetentionDays: 30,
      attachmentRetentionDays: 30,
      auditRetentionDays: 365,
      logLevel: 'info',
      groupCommitWindowMs: 0,
      unlimitedAddresses: [],
    });
    expect(
      loadConfig([], { SOTTO_UNLIMITED_ADDRESSES: '127.0.0.1, ::1' }, '/').unlimitedAddresses,
    ).toEqual(['127.0.0.1', '::1']);
    expect(() => loadConfig([], { SOTTO_UNLIMITED_ADDRESSES: 'everyone' }, '/')).toThrow(
      /unlimitedAddresses/,
    );
  });

  it('reads a file and lets the environment override it; file paths are relative to the file', () => {
    const file = join(dir, 'relay.json');
    writeFileSync(
      file,
      JSON.stringify({
        host: '0.0.0.0',
        port: 443,
        dataDir: 'state',
        tls: { cert: 'tls/cert.pem', key: 'tls/key.pem' },
        sms: { sender: 'webhook', webhookUrl: 'https://sms.example/hook', webhookToken: 't' },
        messageRetentionDays: 7,
      }),
    );
    const c = loadConfig(
      ['--config', file],
      { SOTTO_PORT: '8443', SOTTO_LOG_LEVEL: 'warn' },
      '/elsewhere',
    );
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 8443,
      dataDir: join(dir, 'state'),
      tls: { certPath: join(dir, 'tls/cert.pem'), keyPath: join(dir, 'tls/key.pem') },
      hsts: true,
      sms: { mode: 'webhook', url: 'https://sms.example/hook', token: 't' },
      messageRetentionDays: 7,
      logLevel: 'warn',
    });
    expect(loadConfig([`--config=${file}`], { SOTTO_DATA_DIR: 'x' }, '/cwd').dataDir).toBe(
      '/cwd/x',
    );
  });

  it('refuses plain HTTP off loopback', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'example.com']) {
      expect(() => loadConfig([], { SOTTO_HOST: host }, '/srv'), host).toThrow(/TLS/);
    }
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', 'localhost']) {
      expect(isLoopback(host), host).toBe(true);
      expect(() => loadConfig([], { SOTTO_HOST: host }, '/srv')).not.toThrow();
    }
    expect(() =>
      loadConfig(
        [],
        { SOTTO_HOST: '0.0.0.0', SOTTO_TLS_CERT: 'c.pem', SOTTO_TLS_KEY: 'k.pem' },
        '/srv',
      ),
    ).not.toThrow();
    expect(() =>
      loadConfig([], { SOTTO_HOST: '0.0.0.0', SOTTO_TLS_CERT: 'c.pem' }, '/srv'),
    ).toThrow(/both/);
  });

  it('refuses unknown keys, bad values and unknown arguments without echoing values', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ hots: 'x' }));
    expect(() => loadConfig(['--config', file], {}, '/')).toThrow(/unknown config key "hots"/);
    writeFileSync(file, JSON.stringify({ sms: { sender: 'console', pin: 1 } }));
    expect(() => loadConfig(['--config', file], {}, '/')).toThrow(/sms.pin/);
    writeFileSync(file, '{');
    expect(() => loadConfig(['--config', file], {}, '/')).toThrow(ConfigError);
    expect(() => loadConfig([], { SOTTO_PORT: '70000' }, '/')).toThrow(/port/);
    expect(() => loadConfig([], { SOTTO_PORT: '80a' }, '/')).toThrow(/port/);
    expect(() => loadConfig([], { SOTTO_SMS: 'carrier-pigeon' }, '/')).toThrow(/sms.sender/);
    expect(() => loadConfig([], { SOTTO_SMS: 'webhook' }, '/')).toThrow(/webhookUrl/);
    expect(() => loadConfig([], { SOTTO_MESSAGE_RETENTION_DAYS: '0' }, '/')).toThrow(
      /messageRetentionDays/,
    );
    expect(() => loadConfig([], { SOTTO_LOG_LEVEL: 'loud' }, '/')).toThrow(/logLevel/);
    expect(() => loadConfig(['--verbose'], {}, '/')).toThrow(/unknown argument/);
    try {
      loadConfig([], { SOTTO_SMS_WEBHOOK_TOKEN: 'sekrit', SOTTO_SMS: 'webhook' }, '/');
    } catch (e) {
      expect((e as Error).message).not.toContain('sekrit');
    }
  });

  it('parses the development config shipped with the repo', () => {
    const c = loadConfig(
      ['--config', join(import.meta.dirname, '../config/development.json')],
      {},
      '/',
    );
    expect(c.host).toBe('127.0.0.1');
    expect(c.sms).toEqual({ mode: 'console' });
    expect(c.dataDir).toBe(join(import.meta.dirname, '../../../data'));
  });
});
