// Cross-cutting HTTP behaviour: strict schemas, size limits, security headers, the error body,
// the flood guard and shutdown.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_ERRORS } from '@sotto/api';
import {
  authed,
  freshIp,
  freshNumber,
  register,
  requestCode as requestCodeFrom,
  startHarness,
  type Harness,
  type ErrorBody,
} from './support/harness.js';

describe('http', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers health checks', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/health' });
    expect(r.json()).toEqual({ status: 'ok' });
  });

  it('sends security headers and no HSTS over plain HTTP on loopback', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/health' });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['strict-transport-security']).toBeUndefined();
    expect(r.headers['x-powered-by']).toBeUndefined();
  });

  it('sends HSTS when serving TLS (or told it sits behind a TLS proxy)', async () => {
    const tls = await startHarness({ hsts: true });
    try {
      const r = await tls.app.inject({ method: 'GET', url: '/v1/health' });
      expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await tls.close();
    }
  });

  it('answers unknown routes with NOT_FOUND in the error body format', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'NOT_FOUND', message: API_ERRORS.NOT_FOUND[1] } });
  });

  it('rejects unknown fields, wrong types and coercible values instead of fixing them', async () => {
    const number = freshNumber();
    const bodies = [{ number, extra: 1 }, { number: 14155550100 }, {}, [number], 'number'];
    for (const payload of bodies) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/v1/verification/code',
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
        remoteAddress: freshIp(),
      });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    }
    const d = await register(h);
    const stringId = await h.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { provisioningCode: 'A'.repeat(22), registrationId: '5' },
      remoteAddress: freshIp(),
    });
    expect(stringId.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/devices', headers: authed(d) })).statusCode,
    ).toBe(200);
  });

  it('refuses malformed JSON and oversized bodies with registry codes', async () => {
    const bad = await h.app.inject({
      method: 'POST',
      url: '/v1/verification/code',
      payload: '{"number":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<ErrorBody>().error.code).toBe('INVALID_REQUEST');
    const big = await h.app.inject({
      method: 'POST',
      url: '/v1/verification/code',
      payload: JSON.stringify({ number: '+1'.padEnd(20_000, '1') }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json<ErrorBody>().error.code).toBe('PAYLOAD_TOO_LARGE');
    const xml = await h.app.inject({
      method: 'POST',
      url: '/v1/verification/code',
      payload: '<number/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json<ErrorBody>().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('limits every route per address (in-memory flood guard)', async () => {
    const small = await startHarness({ httpRequestsPerMinute: 5 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push((await small.app.inject({ method: 'GET', url: '/v1/health' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
      const r = await small.app.inject({ method: 'GET', url: '/v1/health' });
      expect(r.json<ErrorBody>().error.code).toBe('RATE_LIMITED');
      expect(r.json<ErrorBody>().error.details.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  });

  it('exempts the operator’s unlimited addresses from per-address limits only', async () => {
    const open = await startHarness({
      unlimitedAddresses: ['10.9.9.9'],
      httpRequestsPerMinute: 10,
    });
    try {
      for (let i = 0; i < 30; i++) {
        const r = await requestCodeFrom(open, freshNumber(), '10.9.9.9');
        expect(r.statusCode).toBe(202);
      }
      // Per-number limits still hold for exempt addresses.
      const number = freshNumber();
      const codes = [];
      for (let i = 0; i < 4; i++)
        codes.push((await requestCodeFrom(open, number, '10.9.9.9')).statusCode);
      expect(codes).toEqual([202, 202, 202, 429]);
      // Other addresses are limited as usual (10 requests per minute here).
      const other = [];
      for (let i = 0; i < 11; i++)
        other.push(
          (await open.app.inject({ method: 'GET', url: '/v1/health', remoteAddress: '10.1.1.1' }))
            .statusCode,
        );
      expect(other.at(-1)).toBe(429);
    } finally {
      await open.close();
    }
  });

  it('hides internal errors behind INTERNAL', async () => {
    const d = await register(h);
    h.storage.getDevices = () => Promise.reject(new Error('disk on fire: SELECT secret'));
    const r = await h.app.inject({ method: 'GET', url: '/v1/devices', headers: authed(d) });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'INTERNAL', message: API_ERRORS.INTERNAL[1] } });
  });
});
