// The relay started in process from a configuration: real sockets, the data directory, the
// secret file, TLS with HSTS, and clean shutdown.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadOrCreateSecret, startRelay } from '../src/index.js';

describe('startRelay', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sotto-app-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves on loopback with SQLite under the data directory and a 0600 secret', async () => {
    const logs: string[] = [];
    const config = loadConfig(
      [],
      { SOTTO_PORT: '0', SOTTO_DATA_DIR: dir, SOTTO_SMS: 'console' },
      '/',
    );
    const sms: string[] = [];
    const relay = await startRelay(config, {
      logDestination: { write: (l: string) => logs.push(l) } as unknown as NodeJS.WritableStream,
      consoleOut: { write: (l: string) => sms.push(l) },
    });
    try {
      expect(relay.url).toBe(`http://127.0.0.1:${relay.port}`);
      const health = await fetch(`${relay.url}/v1/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const code = await fetch(`${relay.url}/v1/verification/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number: '+14155550100' }),
      });
      expect(code.status).toBe(202);
      expect(sms[0]).toMatch(/^\[sotto dev-only sms\] to=\+14155550100 code=[0-9]{6}\n$/);
      expect(statSync(join(dir, 'sotto.sqlite')).isFile()).toBe(true);
      expect(statSync(join(dir, 'server-secret')).mode & 0o777).toBe(0o600);
      const ready = logs
        .map((l) => JSON.parse(l) as { msg: string; url?: string })
        .find((l) => l.msg === 'sotto relay ready');
      expect(ready?.url).toBe(relay.url);
      expect(logs.join('')).not.toContain(sms[0]!.slice(-7, -1));
    } finally {
      await relay.close();
    }
    expect(logs.at(-1)).toContain('sotto relay stopped');
  });

  it('keeps the secret across restarts and refuses a world-readable one', () => {
    const path = join(dir, 'secret');
    const first = loadOrCreateSecret(path);
    expect(first.length).toBe(32);
    expect(loadOrCreateSecret(path).equals(first)).toBe(true);
    const loose = join(dir, 'loose');
    writeFileSync(loose, randomBytes(32).toString('hex'), { mode: 0o644 });
    expect(() => loadOrCreateSecret(loose)).toThrow(/chmod 600/);
    const short = join(dir, 'short');
    writeFileSync(short, 'abcd', { mode: 0o600 });
    expect(() => loadOrCreateSecret(short)).toThrow(/malformed/);
  });

  it('serves HTTPS with HSTS off loopback when given a certificate', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    const config = loadConfig(
      [],
      {
        SOTTO_HOST: '0.0.0.0',
        SOTTO_PORT: '0',
        SOTTO_DATA_DIR: join(dir, 'data'),
        SOTTO_TLS_CERT: cert,
        SOTTO_TLS_KEY: key,
        SOTTO_LOG_LEVEL: 'silent',
      },
      '/',
    );
    const relay = await startRelay(config);
    try {
      expect(relay.url.startsWith('https://0.0.0.0:')).toBe(true);
      const res = await new Promise<{ status: number; hsts: string | undefined; body: string }>(
        (resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port: relay.port, path: '/v1/health', rejectUnauthorized: false },
            (r) => {
              let body = '';
              r.on('data', (c: Buffer) => (body += c.toString()));
              r.on('end', () =>
                resolve({
                  status: r.statusCode ?? 0,
                  hsts: r.headers['strict-transport-security'],
                  body,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
      expect(res).toEqual({
        status: 200,
        hsts: 'max-age=31536000; includeSubDomains',
        body: '{"status":"ok"}',
      });
    } finally {
      await relay.close();
    }
  });
});
