// Both SMS senders: the console sender (development only) and the webhook sender, the latter
// against a real local HTTP server.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '@sotto/api';
import { CONSOLE_SMS_PREFIX, ConsoleSmsSender, WebhookSmsSender } from '../src/index.js';

describe('console SMS sender', () => {
  it('writes one clearly marked development line with the number and the code', async () => {
    const lines: string[] = [];
    const sender = new ConsoleSmsSender({ write: (l: string) => lines.push(l) });
    await sender.send({ to: '+14155550100', code: '123456', validMinutes: 10 });
    expect(lines).toEqual([`${CONSOLE_SMS_PREFIX} to=+14155550100 code=123456\n`]);
    expect(CONSOLE_SMS_PREFIX).toMatch(/dev-only/);
  });
});

describe('webhook SMS sender', () => {
  let server: Server;
  let url: string;
  let received: { headers: IncomingMessage['headers']; body: string }[];
  let status: number;

  beforeEach(async () => {
    received = [];
    status = 204;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = status;
        res.end(status >= 400 ? 'gateway says no: +14155550100 123456' : '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  it('POSTs the number and code as JSON with the bearer token', async () => {
    const sender = new WebhookSmsSender({ url, token: 'op-token' });
    await sender.send({ to: '+14155550100', code: '654321', validMinutes: 10 });
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers.authorization).toBe('Bearer op-token');
    expect(JSON.parse(received[0]!.body)).toEqual({
      to: '+14155550100',
      code: '654321',
      validMinutes: 10,
      text: 'Your Sotto code is 654321. It expires in 10 minutes.',
    });
  });

  it('fails with SMS_DELIVERY_FAILED on a non-2xx answer, without echoing secrets', async () => {
    status = 500;
    const sender = new WebhookSmsSender({ url });
    const err = await sender
      .send({ to: '+14155550100', code: '123456', validMinutes: 10 })
      .catch((e: unknown) => e);
    expect(ApiError.is(err, 'SMS_DELIVERY_FAILED')).toBe(true);
    expect((err as Error).message).toBe('the SMS gateway answered 500');
    expect(received[0]!.headers.authorization).toBeUndefined();
  });

  it('fails with SMS_DELIVERY_FAILED when the gateway is unreachable or slow', async () => {
    await new Promise((r) => server.close(r));
    const down = new WebhookSmsSender({ url });
    await expect(down.send({ to: '+14155550100', code: '1', validMinutes: 10 })).rejects.toSatisfy(
      (e) => ApiError.is(e, 'SMS_DELIVERY_FAILED'),
    );
    server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const slow = new WebhookSmsSender({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      timeoutMs: 100,
    });
    await expect(slow.send({ to: '+14155550100', code: '1', validMinutes: 10 })).rejects.toSatisfy(
      (e) => ApiError.is(e, 'SMS_DELIVERY_FAILED'),
    );
    server.closeAllConnections();
  });

  it('requires https off loopback', () => {
    expect(() => new WebhookSmsSender({ url: 'http://sms.example.com/hook' })).toThrow(/https/);
    expect(() => new WebhookSmsSender({ url: 'https://sms.example.com/hook' })).not.toThrow();
  });
});
