// Bad input from the network is an expected event (CONVENTIONS.md "Errors"): fast-check generates
// malformed bodies and frames; every one is answered with a registered error code (never a 500 or a
// dropped connection), and the relay keeps delivering other users' messages meanwhile.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClientFrame, isApiErrorCode, routes, statusOf, type RouteSpec } from '@sotto/api';
import {
  connect,
  isEnvelope,
  isQueueEmpty,
  register,
  startHarness,
  type Harness,
  type TestDevice,
  type TestSocket,
} from './support/harness.js';

function expectRegisteredError(statusCode: number, body: string): void {
  expect(statusCode).toBeGreaterThanOrEqual(400);
  expect(statusCode).toBeLessThan(500);
  const parsed = JSON.parse(body) as { error: { code: string } };
  expect(isApiErrorCode(parsed.error.code)).toBe(true);
  expect(statusOf(parsed.error.code as Parameters<typeof statusOf>[0])).toBe(statusCode);
}

describe('bad input', () => {
  let h: Harness;
  let alice: TestDevice;
  let bob: TestDevice;
  beforeAll(async () => {
    h = await startHarness({ httpRequestsPerMinute: 1_000_000 });
    alice = await register(h);
    bob = await register(h);
  });
  afterAll(async () => {
    await h.close();
  });

  const jsonRoutes = (Object.entries(routes) as [string, RouteSpec][]).filter(
    ([, r]) => r.body !== undefined,
  );

  it('answers arbitrary JSON bodies on every route with a registered 4xx', async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(
        fc.constantFrom('number', 'code', 'token', 'preKeys', 'registrationId', 'x', '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...jsonRoutes), body, async ([, route], payload) => {
        const url = route.url.replace(':deviceId', '1').replace(':accountId', bob.accountId);
        const r = await h.app.inject({
          method: route.method,
          url,
          headers: {
            'content-type': 'application/json',
            ...(route.auth === 'none' ? {} : { authorization: alice.authorization }),
          },
          payload: JSON.stringify(payload),
        });
        // An arbitrary body may happen to be valid (e.g. `{}` for key upload): then it must succeed.
        if (r.statusCode < 300) return;
        expectRegisteredError(r.statusCode, r.body);
      }),
      { numRuns: 150 },
    );
  });

  it('answers arbitrary raw bytes as bodies with a registered 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...jsonRoutes),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/octet-stream',
          'application/json; charset=latin1',
        ),
        async ([, route], bytes, type) => {
          const r = await h.app.inject({
            method: route.method,
            url: route.url.replace(':deviceId', '1').replace(':accountId', bob.accountId),
            headers: {
              'content-type': type,
              ...(route.auth === 'none' ? {} : { authorization: alice.authorization }),
            },
            payload: Buffer.from(bytes),
          });
          expectRegisteredError(r.statusCode, r.body);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers malformed frames with ERROR frames and keeps relaying for everyone', async () => {
    const attacker = await register(h);
    const evil = await connect(h, attacker);
    await evil.next(isQueueEmpty);
    const a: TestSocket = await connect(h, alice);
    const b: TestSocket = await connect(h, bob);
    await a.next(isQueueEmpty);
    await b.next(isQueueEmpty);

    const valid = encodeClientFrame({
      type: 'send',
      requestId: 9,
      clientMessageId: randomBytes(16),
      recipient: bob.accountId,
      envelopes: [
        { deviceId: 1, registrationId: bob.registrationId, type: 1, content: randomBytes(20) },
      ],
    });
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
        const copy = Uint8Array.from(valid);
        copy[at]! ^= 1 << bit;
        return copy;
      }),
      fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
    );
    let delivered = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (bytes) => {
        const before = evil.frames.length;
        evil.sendRaw(bytes);
        // Interleave a legitimate message between alice and bob.
        const r = await a.send(bob.accountId, [
          { deviceId: 1, registrationId: bob.registrationId, content: randomBytes(16) },
        ]);
        expect(r.type).toBe('send-result');
        await b.next(isEnvelope);
        delivered++;
        // The attacker got exactly one answer: an ERROR with a registered code, or a SEND_RESULT
        // when a flipped bit still made a valid send (the server may accept valid frames).
        const answer = await evil.next((f) => f.type === 'error' || f.type === 'send-result');
        if (answer.type === 'error') expect(isApiErrorCode(answer.code)).toBe(true);
        expect(evil.frames.length).toBeLessThanOrEqual(before);
        expect(evil.closeCode).toBeUndefined();
      }),
      { numRuns: 150 },
    );
    evil.sendRaw('text frames are not part of the protocol');
    expect(await evil.next((f) => f.type === 'error')).toMatchObject({
      code: 'FRAME_INVALID',
      requestId: 0,
    });
    expect(delivered).toBe(150);
    evil.close();
    a.close();
    b.close();
  });
});
