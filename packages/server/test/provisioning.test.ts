// The provisioning socket and PUT /v1/provisioning/:address (routes/provisioning.ts): the address
// frame, one envelope passed through untouched and the socket closed (single use), unknown
// addresses, primary-only sending, size limits, per-IP limits on sockets, expiry, and that the
// relay keeps nothing of the envelope.
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_PROVISION_ENVELOPE_BYTES,
  decodeProvisioningFrame,
  isProvisioningAddress,
  type ProvisioningFrame,
} from '@sotto/api';
import { MemoryFanOut } from '../src/index.js';
import {
  authed,
  b64,
  freshIp,
  linkDevice,
  register,
  startHarness,
  type Harness,
} from './support/harness.js';

class ProvisioningSocket {
  readonly frames: ProvisioningFrame[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeProvisioningFrame(new Uint8Array(data)));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  async address(): Promise<string> {
    await this.until(() => this.frames.length > 0);
    const f = this.frames[0]!;
    if (f.type !== 'provisioning-address') throw new Error('expected the address first');
    return f.address;
  }
}

async function openProvisioning(h: Harness, ip = freshIp()): Promise<ProvisioningSocket> {
  let socket: ProvisioningSocket | undefined;
  await h.app.injectWS('/v1/websocket/provisioning', { remoteAddress: ip } as never, {
    onInit: (ws) => (socket = new ProvisioningSocket(ws)),
  });
  return socket!;
}

describe('provisioning sockets', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('sends an address, passes one envelope through unchanged, then closes (single use)', async () => {
    const fanOut = new MemoryFanOut();
    h = await startHarness({ fanOut });
    const primary = await register(h);
    const socket = await openProvisioning(h);
    const address = await socket.address();
    expect(isProvisioningAddress(address)).toBe(true);

    const envelope = randomBytes(300);
    const put = await h.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${address}`,
      headers: authed(primary),
      payload: { body: b64(envelope) },
    });
    expect(put.statusCode).toBe(204);
    await socket.until(() => socket.closeCode !== undefined);
    expect(socket.closeCode).toBe(1000);
    expect(socket.frames).toHaveLength(2);
    const pushed = socket.frames[1]!;
    expect(pushed.type).toBe('provision-envelope');
    if (pushed.type === 'provision-envelope') {
      expect(Buffer.from(pushed.envelope)).toEqual(envelope);
    }

    // Used up: a second envelope finds nobody.
    const again = await h.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${address}`,
      headers: authed(primary),
      payload: { body: b64(envelope) },
    });
    expect(again.statusCode).toBe(404);
    expect(again.json<{ error: { code: string } }>().error.code).toBe(
      'PROVISIONING_ADDRESS_NOT_FOUND',
    );

    // Nothing of the envelope was stored: no table holds its bytes.
    const needle = Buffer.from(envelope).toString('hex');
    const tables = h.database
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all() as { name: string }[];
    for (const { name } of tables) {
      const rows = h.database.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      for (const row of rows) {
        for (const value of Object.values(row)) {
          if (value instanceof Uint8Array) {
            expect(Buffer.from(value).toString('hex')).not.toContain(needle.slice(0, 64));
          }
        }
      }
    }
  });

  it('each socket gets its own random address', async () => {
    h = await startHarness();
    const a = await openProvisioning(h);
    const b = await openProvisioning(h);
    expect(await a.address()).not.toBe(await b.address());
    a.ws.close();
    b.ws.close();
  });

  it('only a primary may send, within the size limit, to a well-formed address', async () => {
    h = await startHarness();
    const primary = await register(h);
    const linked = await linkDevice(h, primary);
    const socket = await openProvisioning(h);
    const address = await socket.address();
    const put = (headers: Record<string, string>, body: string, to = address) =>
      h.app.inject({
        method: 'PUT',
        url: `/v1/provisioning/${to}`,
        headers,
        payload: { body },
      });
    expect((await put({}, b64(randomBytes(10)))).statusCode).toBe(401);
    expect((await put(authed(linked), b64(randomBytes(10)))).statusCode).toBe(403);
    const tooBig = await put(authed(primary), b64(randomBytes(MAX_PROVISION_ENVELOPE_BYTES + 1)));
    expect(tooBig.statusCode).toBe(400);
    expect((await put(authed(primary), b64(randomBytes(10)), 'not-an-address')).statusCode).toBe(
      400,
    );
    // None of these reached the socket.
    expect(socket.frames).toHaveLength(1);
    expect(socket.closeCode).toBeUndefined();
    socket.ws.close();
  });

  it('closes a socket that got nothing after its lifetime, and one that talks', async () => {
    h = await startHarness({ provisioningSocketTtlMs: 100 });
    const primary = await register(h);
    const idle = await openProvisioning(h);
    const address = await idle.address();
    await idle.until(() => idle.closeCode !== undefined);
    expect(idle.closeCode).toBe(4408);
    const late = await h.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${address}`,
      headers: authed(primary),
      payload: { body: b64(randomBytes(10)) },
    });
    expect(late.statusCode).toBe(404);

    const chatty = await openProvisioning(h);
    await chatty.address();
    chatty.ws.send(new Uint8Array([1, 2, 3]));
    await chatty.until(() => chatty.closeCode !== undefined);
    expect(chatty.closeCode).toBe(1008);
  });

  it('limits provisioning sockets per client address', async () => {
    h = await startHarness();
    const ip = freshIp();
    const opened: ProvisioningSocket[] = [];
    for (let i = 0; i < 10; i++) opened.push(await openProvisioning(h, ip));
    await expect(openProvisioning(h, ip)).rejects.toThrow();
    for (const s of opened) s.ws.close();
  });
});
