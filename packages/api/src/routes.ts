/**
 * The HTTP half of the client⇄server contract: every route with its method, path, who may call it
 * and the schemas of its parameters, body and responses. The server registers exactly these
 * schemas with Fastify (strict: unknown fields are rejected), and the request/response types below
 * are derived from them. Bytes travel as standard base64 inside JSON; ids and credentials that
 * appear in paths or headers use base64url. Errors are `ApiErrorBody` (errors.ts) on any route.
 *
 * Authentication (`auth: 'device' | 'primary'`): `Authorization: Basic base64(user:password)`
 * with user `<accountId>.<deviceId>` and password the device credential in base64url
 * (credentials.ts). `primary` routes accept only device 1.
 */
import {
  ATTACHMENT_ID_BYTES,
  BACKUP_NAME_PATTERN,
  CLIENT_MESSAGE_ID_BYTES,
  CREDENTIAL_BYTES,
  EC_PUBLIC_KEY_BYTES,
  KYBER_PUBLIC_KEY_BYTES,
  MAX_BACKUP_NAME_LENGTH,
  MAX_BACKUPS_PER_ACCOUNT,
  MAX_DEVICE_ID,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_PHONE_NUMBER_LENGTH,
  MAX_PREKEY_ID,
  MAX_PREKEYS_PER_UPLOAD,
  MAX_PROVISION_ENVELOPE_BYTES,
  MAX_REGISTRATION_ID,
  PROVISIONING_ADDRESS_BYTES,
  PROVISIONING_CODE_BYTES,
  REGISTRATION_LOCK_TOKEN_BYTES,
  SIGNATURE_BYTES,
  VERIFICATION_CODE_DIGITS,
} from './limits.js';
import { t, type Schema, type Static } from './schema.js';

// ---- shared pieces -------------------------------------------------------------------------

/** E.164: '+' and up to 15 digits; the server additionally checks the number is a real one. */
const phoneNumber = t.string({
  minLength: 3,
  maxLength: MAX_PHONE_NUMBER_LENGTH,
  pattern: '^\\+[1-9][0-9]{1,14}$',
});
const deviceId = t.integer({ minimum: 1, maximum: MAX_DEVICE_ID });
const registrationId = t.integer({ minimum: 1, maximum: MAX_REGISTRATION_ID });
const keyId = t.integer({ minimum: 0, maximum: MAX_PREKEY_ID });
const timestamp = t.integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const count = t.integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ecPublicKey = t.bytes(EC_PUBLIC_KEY_BYTES, EC_PUBLIC_KEY_BYTES);
const kyberPublicKey = t.bytes(KYBER_PUBLIC_KEY_BYTES, KYBER_PUBLIC_KEY_BYTES);
const signature = t.bytes(SIGNATURE_BYTES, SIGNATURE_BYTES);
const deviceName = t.bytes(1, MAX_DEVICE_NAME_BYTES);
const credential = t.base64Url(CREDENTIAL_BYTES);
/** Path parameter: a device id as text (path parameters are strings; no type coercion). */
const deviceIdParam = t.string({ minLength: 1, maxLength: 3, pattern: '^[1-9][0-9]{0,2}$' });

export const signedPreKeySchema = t.object({ keyId, publicKey: ecPublicKey, signature });
export const kyberPreKeySchema = t.object({ keyId, publicKey: kyberPublicKey, signature });
export const preKeySchema = t.object({ keyId, publicKey: ecPublicKey });
export type SignedPreKey = Static<typeof signedPreKeySchema>;
export type KyberPreKey = Static<typeof kyberPreKeySchema>;
export type PreKey = Static<typeof preKeySchema>;

const newDeviceCredentials = t.object({ accountId: t.uuid(), deviceId, credential });

/** A backup object name (path parameter): the rule of @sotto/backup's storage port. */
const backupName = t.string({
  minLength: 1,
  maxLength: MAX_BACKUP_NAME_LENGTH,
  pattern: BACKUP_NAME_PATTERN,
});
/** What the relay tells about a stored backup: never more than its name, size and time. */
export const storedBackupSchema = t.object({ name: backupName, size: count, createdAt: timestamp });
export type StoredBackup = Static<typeof storedBackupSchema>;

// ---- route table ---------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type RouteAuth = 'none' | 'device' | 'primary';

export interface RouteSpec {
  readonly method: HttpMethod;
  readonly url: string;
  readonly auth: RouteAuth;
  readonly params?: Schema<unknown>;
  readonly body?: Schema<unknown>;
  /** status → schema of the JSON body; `null` for an empty body (204) or raw bytes. */
  readonly response: Readonly<Record<number, Schema<unknown> | null>>;
  /** `application/octet-stream` instead of JSON (attachments). */
  readonly raw?: 'request' | 'response';
}

function route<const R extends RouteSpec>(spec: R): R {
  return spec;
}

export const routes = {
  health: route({
    method: 'GET',
    url: '/v1/health',
    auth: 'none',
    response: { 200: t.object({ status: t.literal('ok') }) },
  }),

  /** Sends a 6-digit code by SMS. Limited per number and per IP. */
  requestVerificationCode: route({
    method: 'POST',
    url: '/v1/verification/code',
    auth: 'none',
    body: t.object({ number: phoneNumber }),
    response: { 202: t.object({ expiresInSeconds: count }) },
  }),

  /**
   * Registers (or re-registers) a number with its SMS code. Re-registering replaces every device
   * and key of the account; a registration lock requires its token until it lapses.
   */
  register: route({
    method: 'POST',
    url: '/v1/accounts',
    auth: 'none',
    body: t.object({
      number: phoneNumber,
      code: t.string({
        minLength: VERIFICATION_CODE_DIGITS,
        maxLength: VERIFICATION_CODE_DIGITS,
        pattern: `^[0-9]{${VERIFICATION_CODE_DIGITS}}$`,
      }),
      registrationId,
      identityKey: ecPublicKey,
      registrationLockToken: t.optional(
        t.bytes(REGISTRATION_LOCK_TOKEN_BYTES, REGISTRATION_LOCK_TOKEN_BYTES),
      ),
      name: t.optional(deviceName),
    }),
    response: {
      200: t.object({
        accountId: t.uuid(),
        deviceId,
        credential,
        reregistered: t.boolean(),
      }),
    },
  }),

  whoAmI: route({
    method: 'GET',
    url: '/v1/accounts/me',
    auth: 'device',
    response: {
      200: t.object({
        accountId: t.uuid(),
        deviceId,
        number: phoneNumber,
        registrationLock: t.boolean(),
      }),
    },
  }),

  /** Erases everything the server holds about the account (primary only). */
  deleteAccount: route({
    method: 'DELETE',
    url: '/v1/accounts/me',
    auth: 'primary',
    response: { 204: null },
  }),

  /** Everything the server holds about the account, as JSON (GDPR access right). */
  exportAccount: route({
    method: 'GET',
    url: '/v1/accounts/me/export',
    auth: 'device',
    response: {
      200: t.object({
        exportedAt: timestamp,
        account: t.object({
          accountId: t.uuid(),
          number: phoneNumber,
          createdAt: timestamp,
          identityKey: ecPublicKey,
          registrationLock: t.object({ enabled: t.boolean(), setAt: t.optional(timestamp) }),
        }),
        devices: t.array(
          t.object({
            deviceId,
            registrationId,
            name: t.optional(deviceName),
            createdAt: timestamp,
            lastSeenAt: timestamp,
            signedPreKey: t.optional(signedPreKeySchema),
            lastResortKyberPreKey: t.optional(kyberPreKeySchema),
            oneTimePreKeys: t.array(preKeySchema, { maxItems: 100_000 }),
            oneTimeKyberPreKeys: t.array(kyberPreKeySchema, { maxItems: 100_000 }),
          }),
          { maxItems: MAX_DEVICES_PER_ACCOUNT },
        ),
        pendingEnvelopes: t.array(
          t.object({
            deviceId,
            guid: t.uuid(),
            serverTimestamp: timestamp,
            sourceAccountId: t.uuid(),
            sourceDeviceId: deviceId,
            type: t.integer({ minimum: 0, maximum: 255 }),
            size: count,
          }),
          { maxItems: 10_000_000 },
        ),
        sentMessageIds: t.array(
          t.object({
            deviceId,
            clientMessageId: t.base64Url(CLIENT_MESSAGE_ID_BYTES),
            createdAt: timestamp,
          }),
          { maxItems: 10_000_000 },
        ),
        attachments: t.array(
          t.object({
            attachmentId: t.base64Url(ATTACHMENT_ID_BYTES),
            size: count,
            createdAt: timestamp,
          }),
          { maxItems: 10_000_000 },
        ),
        /** Backups stored on the relay: names, sizes and times, never their content. */
        backups: t.array(storedBackupSchema, { maxItems: MAX_BACKUPS_PER_ACCOUNT }),
        auditEvents: t.array(
          t.object({
            seq: count,
            at: timestamp,
            event: t.string({ maxLength: 64 }),
            deviceId: t.optional(deviceId),
          }),
          { maxItems: 10_000_000 },
        ),
      }),
    },
  }),

  /** Sets the registration lock (primary only). The token is derived on the device from its PIN. */
  setRegistrationLock: route({
    method: 'PUT',
    url: '/v1/accounts/me/registration-lock',
    auth: 'primary',
    body: t.object({
      token: t.bytes(REGISTRATION_LOCK_TOKEN_BYTES, REGISTRATION_LOCK_TOKEN_BYTES),
    }),
    response: { 204: null },
  }),

  removeRegistrationLock: route({
    method: 'DELETE',
    url: '/v1/accounts/me/registration-lock',
    auth: 'primary',
    response: { 204: null },
  }),

  /**
   * Replaces the account's identity key (primary only; Signal-Server's keys upload accepts an
   * identity key change from the primary only). Every prekey of the account is dropped in the
   * same transaction, since their signatures were made with the old identity: upload new ones
   * signed by the new key next (`uploadKeys`). Refused with LINKED_DEVICES_PRESENT while linked
   * devices exist (they hold the old identity). A restore registers with a throwaway identity,
   * reads the backup, then sets the restored identity here: one SMS code (docs/backups.md).
   */
  setIdentityKey: route({
    method: 'PUT',
    url: '/v1/accounts/me/identity-key',
    auth: 'primary',
    body: t.object({ identityKey: ecPublicKey }),
    response: { 204: null },
  }),

  /** Finds the account id registered to a number (numbers travel in bodies, never in paths). */
  lookupAccount: route({
    method: 'POST',
    url: '/v1/directory/lookup',
    auth: 'device',
    body: t.object({ number: phoneNumber }),
    response: { 200: t.object({ accountId: t.uuid() }) },
  }),

  listDevices: route({
    method: 'GET',
    url: '/v1/devices',
    auth: 'device',
    response: {
      200: t.object({
        devices: t.array(
          t.object({
            deviceId,
            registrationId,
            name: t.optional(deviceName),
            createdAt: timestamp,
            lastSeenAt: timestamp,
          }),
          { maxItems: MAX_DEVICES_PER_ACCOUNT },
        ),
      }),
    },
  }),

  /** The primary removes any linked device; a linked device may remove itself. */
  removeDevice: route({
    method: 'DELETE',
    url: '/v1/devices/:deviceId',
    auth: 'device',
    params: t.object({ deviceId: deviceIdParam }),
    response: { 204: null },
  }),

  /** A single-use code (10 minutes) the primary shows to a new device, e.g. as a QR code. */
  createProvisioningCode: route({
    method: 'POST',
    url: '/v1/devices/provisioning-code',
    auth: 'primary',
    response: {
      200: t.object({ code: t.base64Url(PROVISIONING_CODE_BYTES), expiresInSeconds: count }),
    },
  }),

  /** A new device joins the account of the primary that issued the provisioning code. */
  linkDevice: route({
    method: 'POST',
    url: '/v1/devices/link',
    auth: 'none',
    body: t.object({
      provisioningCode: t.base64Url(PROVISIONING_CODE_BYTES),
      registrationId,
      name: t.optional(deviceName),
    }),
    response: { 200: newDeviceCredentials },
  }),

  /**
   * Device linking, Signal's way: the new device opens this unauthenticated socket; the relay
   * sends it a PROVISIONING_ADDRESS frame, then at most one PROVISION_ENVELOPE frame (frames.ts),
   * then closes it. The socket expires after a few minutes; it never carries anything the new
   * device sends.
   */
  provisioningSocket: route({
    method: 'GET',
    url: '/v1/websocket/provisioning',
    auth: 'none',
    response: { 101: null },
  }),

  /**
   * The primary hands a provisioning socket its ProvisionEnvelope (Signal's
   * `PUT /v1/provisioning/{destination}`): opaque bytes, end-to-end encrypted to the new device's
   * key from the link URI. Answered once the envelope went down the socket; the address is then
   * used up. PROVISIONING_ADDRESS_NOT_FOUND when no socket waits there.
   */
  sendProvisioningMessage: route({
    method: 'PUT',
    url: '/v1/provisioning/:address',
    auth: 'primary',
    params: t.object({ address: t.base64Url(PROVISIONING_ADDRESS_BYTES) }),
    body: t.object({ body: t.bytes(1, MAX_PROVISION_ENVELOPE_BYTES) }),
    response: { 204: null },
  }),

  /**
   * Uploads keys of the calling device. The signed prekey and the last-resort Kyber prekey replace
   * the stored ones; one-time prekeys are added (an existing id is overwritten).
   */
  uploadKeys: route({
    method: 'PUT',
    url: '/v1/keys',
    auth: 'device',
    body: t.object({
      signedPreKey: t.optional(signedPreKeySchema),
      lastResortKyberPreKey: t.optional(kyberPreKeySchema),
      preKeys: t.optional(t.array(preKeySchema, { maxItems: MAX_PREKEYS_PER_UPLOAD })),
      kyberPreKeys: t.optional(t.array(kyberPreKeySchema, { maxItems: MAX_PREKEYS_PER_UPLOAD })),
    }),
    response: { 204: null },
  }),

  /** How many one-time prekeys of each kind the server still holds for the calling device. */
  keyCounts: route({
    method: 'GET',
    url: '/v1/keys/count',
    auth: 'device',
    response: { 200: t.object({ ecCount: count, kyberCount: count }) },
  }),

  /**
   * A prekey bundle for one device (`:deviceId` a number) or every device (`*`) of an account.
   * Each one-time key handed out is deleted in the same transaction: no two fetchers share one.
   */
  fetchKeys: route({
    method: 'GET',
    url: '/v1/keys/:accountId/:deviceId',
    auth: 'device',
    params: t.object({
      accountId: t.uuid(),
      deviceId: t.string({ minLength: 1, maxLength: 3, pattern: '^(\\*|[1-9][0-9]{0,2})$' }),
    }),
    response: {
      200: t.object({
        identityKey: ecPublicKey,
        devices: t.array(
          t.object({
            deviceId,
            registrationId,
            signedPreKey: signedPreKeySchema,
            preKey: t.optional(preKeySchema),
            kyberPreKey: kyberPreKeySchema,
          }),
          { maxItems: MAX_DEVICES_PER_ACCOUNT },
        ),
      }),
    },
  }),

  /** Streams one client-encrypted blob (`application/octet-stream`, Content-Length required). */
  uploadAttachment: route({
    method: 'POST',
    url: '/v1/attachments',
    auth: 'device',
    raw: 'request',
    response: {
      201: t.object({
        attachmentId: t.base64Url(ATTACHMENT_ID_BYTES),
        size: count,
        expiresAt: timestamp,
      }),
    },
  }),

  downloadAttachment: route({
    method: 'GET',
    url: '/v1/attachments/:attachmentId',
    auth: 'device',
    raw: 'response',
    params: t.object({ attachmentId: t.base64Url(ATTACHMENT_ID_BYTES) }),
    response: { 200: null },
  }),

  /**
   * Stores one client-encrypted backup archive under `:name` (`application/octet-stream`,
   * streamed; Content-Length optional). It replaces a backup of that name only once every byte
   * arrived; the relay then keeps the account's newest backups up to its retention count.
   */
  uploadBackup: route({
    method: 'PUT',
    url: '/v1/backups/:name',
    auth: 'device',
    raw: 'request',
    params: t.object({ name: backupName }),
    response: { 200: storedBackupSchema },
  }),

  /** The backup's bytes (`application/octet-stream`, streamed). */
  downloadBackup: route({
    method: 'GET',
    url: '/v1/backups/:name',
    auth: 'device',
    raw: 'response',
    params: t.object({ name: backupName }),
    response: { 200: null },
  }),

  /** The account's backups, sorted by name. */
  listBackups: route({
    method: 'GET',
    url: '/v1/backups',
    auth: 'device',
    response: {
      200: t.object({
        backups: t.array(storedBackupSchema, { maxItems: MAX_BACKUPS_PER_ACCOUNT }),
      }),
    },
  }),

  deleteBackup: route({
    method: 'DELETE',
    url: '/v1/backups/:name',
    auth: 'device',
    params: t.object({ name: backupName }),
    response: { 204: null },
  }),

  /** The device's message socket: binary frames of frames.ts in both directions. */
  websocket: route({
    method: 'GET',
    url: '/v1/websocket',
    auth: 'device',
    response: { 101: null },
  }),
} as const;

export type RouteName = keyof typeof routes;

type BodyOf<R> = R extends { body: Schema<infer B> } ? B : undefined;
type ParamsOf<R> = R extends { params: Schema<infer P> } ? P : undefined;
type OkResponseOf<R> = R extends { response: infer Res }
  ? {
      [S in keyof Res]: S extends 200 | 201 | 202
        ? Res[S] extends Schema<infer B>
          ? B
          : never
        : never;
    }[keyof Res]
  : never;

/** The request body type of a route (`undefined` if it has none). */
export type RequestBody<N extends RouteName> = BodyOf<(typeof routes)[N]>;
/** The path parameter type of a route. */
export type RequestParams<N extends RouteName> = ParamsOf<(typeof routes)[N]>;
/** The success body type of a route (`never` for routes answering 204 or raw bytes). */
export type ResponseBody<N extends RouteName> = OkResponseOf<(typeof routes)[N]>;
