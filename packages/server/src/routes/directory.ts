/**
 * Number → account id lookup, for starting a conversation. Authenticated and rate limited per
 * account so the number space cannot be enumerated cheaply. The server learns who looked up whom;
 * docs/server.md lists this in the threat model (private contact discovery is future work).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@sotto/api';
import { deviceOf } from '../http/auth.js';
import { accountBucket, type ServerContext } from '../http/context.js';
import { defineRoute } from '../http/route.js';
import { DIRECTORY_LOOKUPS_PER_ACCOUNT } from '../limits.js';
import { canonicalPhoneNumber } from '../phone-number.js';

export function directoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  defineRoute(app, ctx, 'lookupAccount', async (req) => {
    const { accountId } = deviceOf(req);
    await ctx.limit(accountBucket(accountId, 'lookup'), DIRECTORY_LOOKUPS_PER_ACCOUNT);
    const number = canonicalPhoneNumber(req.body.number);
    const account = await ctx.storage.getAccountByNumber(number);
    if (account === undefined) throw new ApiError('ACCOUNT_NOT_FOUND');
    return { accountId: account.accountId };
  });
}
