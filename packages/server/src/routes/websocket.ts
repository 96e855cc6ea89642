/**
 * The message socket: `GET /v1/websocket` upgraded after device authentication (the onRequest
 * hook runs before the upgrade, so a bad credential gets a plain 401 and no socket). A plain
 * HTTP GET without the upgrade is an INVALID_REQUEST.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, routes } from '@sotto/api';
import { authenticate, deviceOf } from '../http/auth.js';
import type { ServerContext } from '../http/context.js';
import { DeviceConnection } from '../messages/device-connection.js';
import type { MessageService } from '../messages/message-service.js';

export function websocketRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  messages: MessageService,
  connections: Set<DeviceConnection>,
): void {
  app.route({
    method: 'GET',
    url: routes.websocket.url,
    onRequest: authenticate(ctx, 'device'),
    handler: () => {
      throw new ApiError('INVALID_REQUEST', 'this route needs a WebSocket upgrade');
    },
    wsHandler: (socket, req) => {
      const { accountId, deviceId } = deviceOf(req);
      const connection = new DeviceConnection(
        socket,
        accountId,
        deviceId,
        { storage: ctx.storage, fanOut: ctx.fanOut, messages, clock: ctx.clock, log: ctx.log },
        (c) => connections.delete(c),
      );
      connections.add(connection);
      connection.start();
      // Connecting is what keeps a registration lock alive: record it now.
      ctx.storage.touchDevice(accountId, deviceId, ctx.clock.now()).catch(() => undefined);
    },
  });
}
