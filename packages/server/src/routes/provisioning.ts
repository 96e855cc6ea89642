/**
 * Device linking the way Signal-Server does it (ProvisioningController and the provisioning
 * WebSocket): the relay is a mailbox of one message between a new device and the primary, and
 * never sees what it carries.
 *
 * 1. The new device opens `GET /v1/websocket/provisioning` (no credential; rate limited per IP).
 *    The relay draws a random 128-bit address, subscribes to it on the fan-out port (so any node
 *    may receive the primary's request) and sends it in a PROVISIONING_ADDRESS frame. The new
 *    device shows the address together with its own public key in its link URI (a QR code).
 * 2. The primary, which read that URI from the new device's screen, sends
 *    `PUT /v1/provisioning/:address` with the ProvisionEnvelope it encrypted to that key. The
 *    relay publishes it on the fan-out port; the node holding the socket pushes it in a
 *    PROVISION_ENVELOPE frame and closes the socket: an address is used once. No socket there →
 *    PROVISIONING_ADDRESS_NOT_FOUND.
 * 3. A socket that got nothing closes after PROVISIONING_SOCKET_TTL_MS.
 *
 * Nothing of this is stored; the envelope exists only in memory on its way. The new device's
 * public key never reaches the relay (it travels in the URI), so the relay cannot substitute an
 * envelope of its own making. Left out on purpose: keep-alive requests from the new device (the
 * socket lives minutes, not days) — any frame the new device sends closes the socket.
 */
import type { FastifyInstance } from 'fastify';
import {
  ApiError,
  MAX_PROVISION_ENVELOPE_BYTES,
  PROVISIONING_ADDRESS_BYTES,
  encodeProvisioningFrame,
  routes,
  toBase64Url,
} from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { decodeBytes } from '../http/decode.js';
import { defineRoute } from '../http/route.js';
import {
  MAX_PROVISIONING_SOCKETS,
  PROVISIONING_MESSAGES_PER_ACCOUNT,
  PROVISIONING_SOCKETS_PER_IP,
  PROVISIONING_SOCKET_TTL_MS,
} from '../limits.js';
import { randomSecret } from '../secrets.js';

/** Close codes of the provisioning socket. */
export const CLOSE_PROVISIONED = 1000;
export const CLOSE_PROVISIONING_EXPIRED = 4408;
export const CLOSE_PROVISIONING_BUSY = 1013;
const CLOSE_POLICY = 1008;

export function provisioningRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  ttlMs = PROVISIONING_SOCKET_TTL_MS,
): void {
  let open = 0;

  app.route({
    method: 'GET',
    url: routes.provisioningSocket.url,
    onRequest: async (req) => {
      await ctx.limitAddress(req, 'provisioning-socket', PROVISIONING_SOCKETS_PER_IP);
    },
    handler: () => {
      throw new ApiError('INVALID_REQUEST', 'this route needs a WebSocket upgrade');
    },
    wsHandler: (socket) => {
      if (open >= MAX_PROVISIONING_SOCKETS) {
        socket.close(CLOSE_PROVISIONING_BUSY, 'too many waiting devices; try again');
        return;
      }
      open++;
      const address = toBase64Url(randomSecret(PROVISIONING_ADDRESS_BYTES));
      let used = false;
      const finish = (code: number, reason: string): void => {
        if (used) return;
        used = true;
        unsubscribe();
        clearTimeout(expiry);
        socket.close(code, reason);
      };
      const unsubscribe = ctx.fanOut.subscribeProvisioning(address, (envelope) => {
        // A socket whose device already closed it (a cancelled link) takes nothing: the primary
        // then hears PROVISIONING_ADDRESS_NOT_FOUND rather than waiting for a device that left.
        if (used || socket.readyState !== socket.OPEN) return false;
        try {
          socket.send(encodeProvisioningFrame({ type: 'provision-envelope', envelope }));
        } catch {
          finish(CLOSE_PROVISIONED, 'provisioned');
          return false;
        }
        finish(CLOSE_PROVISIONED, 'provisioned');
        return true;
      });
      const expiry = setTimeout(() => finish(CLOSE_PROVISIONING_EXPIRED, 'expired'), ttlMs);
      expiry.unref();
      socket.on('message', () => finish(CLOSE_POLICY, 'this socket only receives'));
      socket.on('close', () => {
        open--;
        used = true;
        unsubscribe();
        clearTimeout(expiry);
      });
      socket.send(encodeProvisioningFrame({ type: 'provisioning-address', address }));
    },
  });

  defineRoute(app, ctx, 'sendProvisioningMessage', async (req, reply) => {
    const { accountId } = deviceOf(req);
    await ctx.limit(
      accountBucket(accountId, 'provisioning-message'),
      PROVISIONING_MESSAGES_PER_ACCOUNT,
    );
    const envelope = decodeBytes(req.body.body, [1, MAX_PROVISION_ENVELOPE_BYTES], 'body');
    const delivered = await ctx.fanOut.publishProvisioning(req.params.address, envelope);
    if (!delivered) throw new ApiError('PROVISIONING_ADDRESS_NOT_FOUND');
    return reply.code(204).send();
  });
}
