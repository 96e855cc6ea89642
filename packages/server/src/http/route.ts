/**
 * Registers a route of the @sotto/api table with exactly its schemas, its auth hook and its body
 * limit, so the server cannot drift from the contract clients are built against.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import {
  routes,
  validationSchema,
  type RequestBody,
  type RequestParams,
  type RouteName,
} from '@sotto/api';
import { MAX_JSON_BODY_BYTES } from '../limits.js';
import { authenticate } from './auth.js';
import type { ServerContext } from './context.js';

export type RouteRequest<N extends RouteName> = FastifyRequest<{
  Body: RequestBody<N>;
  Params: RequestParams<N>;
}>;

export function schemaOf(name: RouteName): FastifySchema {
  return validationSchema(routes[name]);
}

export function defineRoute<N extends RouteName>(
  app: FastifyInstance,
  ctx: ServerContext,
  name: N,
  handler: (req: RouteRequest<N>, reply: FastifyReply) => Promise<unknown>,
  options: { bodyLimit?: number } = {},
): void {
  const spec = routes[name];
  app.route({
    method: spec.method,
    url: spec.url,
    schema: schemaOf(name),
    bodyLimit: options.bodyLimit ?? MAX_JSON_BODY_BYTES,
    ...(spec.auth === 'none' ? {} : { onRequest: authenticate(ctx, spec.auth) }),
    handler: handler as (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  });
}
