/**
 * Device authentication (packages/api credentials.ts): every non-public route and the WebSocket
 * upgrade run this hook before the body is parsed. The credential is hashed with SHA-256 and
 * compared in constant time with the stored hash; failures cost the client address a token from
 * AUTH_FAILURES_PER_IP. The hook also keeps `lastSeenAt` fresh (it gates the registration lock).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, PRIMARY_DEVICE_ID, parseAuthorization } from '@sotto/api';
import { AUTH_FAILURES_PER_IP, LAST_SEEN_UPDATE_INTERVAL_MS } from '../limits.js';
import type { DeviceRecord } from '../ports/storage.js';
import { constantTimeEqual, sha256 } from '../secrets.js';
import type { ServerContext } from './context.js';

export interface AuthenticatedDevice {
  readonly accountId: string;
  readonly deviceId: number;
  readonly record: DeviceRecord;
}

declare module 'fastify' {
  interface FastifyRequest {
    device: AuthenticatedDevice | null;
  }
}

/** The authenticated device of a request on an authenticated route. */
export function deviceOf(req: FastifyRequest): AuthenticatedDevice {
  if (req.device === null) throw new ApiError('UNAUTHENTICATED');
  return req.device;
}

export function authenticate(ctx: ServerContext, mode: 'device' | 'primary') {
  return async function onRequest(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    let accountId: string;
    let deviceId: number;
    let hash: Buffer;
    try {
      const c = parseAuthorization(req.headers.authorization);
      accountId = c.accountId;
      deviceId = c.deviceId;
      hash = sha256(c.credential);
      c.credential.fill(0);
    } catch {
      await ctx.limitAddress(req, 'auth-fail', AUTH_FAILURES_PER_IP);
      throw new ApiError('UNAUTHENTICATED');
    }
    const record = await ctx.storage.getDevice(accountId, deviceId);
    if (record === undefined || !constantTimeEqual(hash, record.credentialHash)) {
      await ctx.limitAddress(req, 'auth-fail', AUTH_FAILURES_PER_IP);
      throw new ApiError('UNAUTHENTICATED');
    }
    if (mode === 'primary' && deviceId !== PRIMARY_DEVICE_ID) {
      throw new ApiError('FORBIDDEN', 'only the primary device may do this');
    }
    const now = ctx.clock.now();
    if (now - record.lastSeenAt >= LAST_SEEN_UPDATE_INTERVAL_MS) {
      await ctx.storage.touchDevice(accountId, deviceId, now);
    }
    req.device = { accountId, deviceId, record };
  };
}
