/**
 * Phone verification, step 1: a 6-digit code by SMS. The code is stored only as an HMAC under the
 * server secret, keyed by the HMAC of the number (a number that never registers is never stored in
 * clear), valid VERIFICATION_CODE_TTL_MS. Sends are limited per number and per client address.
 * Step 2 (checking the code) is registration, routes/accounts.ts.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@sotto/api';
import type { ServerContext } from '../http/context.js';
import { defineRoute } from '../http/route.js';
import { CODE_SENDS_PER_IP, CODE_SENDS_PER_NUMBER, VERIFICATION_CODE_TTL_MS } from '../limits.js';
import { canonicalPhoneNumber } from '../phone-number.js';
import { newVerificationCode } from '../secrets.js';

/** The MAC input binds the code to its number, so a code hash is useless for any other number. */
export function codeMac(ctx: ServerContext, number: string, code: string): Buffer {
  return ctx.secret.mac('verification-code', `${number}\0${code}`);
}

export function verificationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  defineRoute(app, ctx, 'requestVerificationCode', async (req, reply) => {
    const sms = ctx.sms;
    if (sms === null) throw new ApiError('SMS_UNAVAILABLE');
    const number = canonicalPhoneNumber(req.body.number);
    await ctx.limitAddress(req, 'code-send', CODE_SENDS_PER_IP);
    const numberKey = ctx.secret.key('number-key', number);
    await ctx.limit(`num:${numberKey}:code-send`, CODE_SENDS_PER_NUMBER);
    const code = newVerificationCode();
    const codeHash = codeMac(ctx, number, code);
    await ctx.storage.putVerificationCode(
      numberKey,
      codeHash,
      ctx.clock.now() + VERIFICATION_CODE_TTL_MS,
    );
    try {
      await sms.send({ to: number, code, validMinutes: VERIFICATION_CODE_TTL_MS / 60_000 });
    } catch (err) {
      // Discard this code only: a newer one requested meanwhile stays valid.
      await ctx.storage.consumeVerificationCode(numberKey, codeHash);
      if (ApiError.is(err)) throw err;
      throw new ApiError('SMS_DELIVERY_FAILED', undefined, { cause: err });
    }
    return reply.code(202).send({ expiresInSeconds: VERIFICATION_CODE_TTL_MS / 1000 });
  });
}
