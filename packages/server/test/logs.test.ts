// Logs never carry message bodies, codes, tokens, credentials, phone numbers or addresses, even at
// debug level and even when requests fail.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toBase64, toBase64Url } from '@sotto/api';
import { createRelayLogger } from '../src/index.js';
import {
  authed,
  b64,
  connect,
  freshIp,
  isEnvelope,
  isQueueEmpty,
  linkDevice,
  register,
  startHarness,
} from './support/harness.js';

describe('logs', () => {
  it('contain no secrets, numbers, addresses or content', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const h = await startHarness({ logger: createRelayLogger('trace', sink) });
    const secrets: string[] = [];
    try {
      const alice = await register(h);
      const bob = await register(h);
      secrets.push(
        alice.number,
        alice.number.slice(1),
        bob.number,
        h.sms.codeFor(alice.number),
        h.sms.codeFor(bob.number),
      );
      secrets.push(
        toBase64Url(alice.credential),
        toBase64Url(bob.credential),
        alice.authorization.slice(6),
      );
      const token = randomBytes(32);
      secrets.push(b64(token));
      await h.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/registration-lock',
        headers: authed(bob),
        payload: { token: b64(token) },
      });
      const code = await h.app.inject({
        method: 'POST',
        url: '/v1/devices/provisioning-code',
        headers: authed(bob),
      });
      secrets.push(code.json<{ code: string }>().code);
      await linkDevice(h, alice);
      const content = Buffer.from('the quick brown fox: plaintext never logged');
      secrets.push(
        content.toString('hex'),
        toBase64(content),
        content.toString('latin1').slice(0, 20),
      );
      const a = await connect(h, alice);
      const b = await connect(h, bob);
      await a.next(isQueueEmpty);
      await b.next(isQueueEmpty);
      await a.send(bob.accountId, [{ deviceId: 1, registrationId: bob.registrationId, content }]);
      await b.next(isEnvelope);
      b.sendRaw(Buffer.from([1, 99, 1, 2, 3])); // a malformed frame
      await b.next((f) => f.type === 'error');
      const ip = freshIp();
      secrets.push(ip);
      await h.app.inject({
        method: 'GET',
        url: '/v1/devices',
        headers: { authorization: 'Basic Zm9v' },
        remoteAddress: ip,
      });
      // A failing storage call is logged, without the request's data.
      h.storage.getDevices = () => Promise.reject(new Error('database is locked'));
      await h.app.inject({
        method: 'GET',
        url: '/v1/devices',
        headers: authed(alice),
        remoteAddress: ip,
      });
      a.close();
      b.close();
    } finally {
      await h.close();
    }
    expect(text).toContain('"route":"/v1/accounts"');
    expect(text).toContain('request failed');
    for (const s of secrets) expect(text, `log contains ${s}`).not.toContain(s);
  });
});
