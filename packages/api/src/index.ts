/**
 * @sotto/api — the client⇄server contract (ARCHITECTURE.md): HTTP routes with their schemas
 * (routes.ts), binary WebSocket frames split by direction (frames.ts), the error registry
 * (errors.ts, mirrored by docs/errors.md), the device credential header (credentials.ts) and the
 * limits both sides share (limits.ts). No crypto and no I/O: it runs in Node and in browsers.
 */
export * from './errors.js';
export * from './limits.js';
export {
  toBase64,
  fromBase64,
  toBase64Url,
  fromBase64Url,
  base64Length,
  base64UrlLength,
  uuidFromBytes,
  uuidToBytes,
  isUuid,
  UUID_PATTERN,
} from './encoding.js';
export {
  t,
  validationSchema,
  STRICT_VALIDATOR_OPTIONS,
  type Schema,
  type OptionalSchema,
  type Static,
  type ValidatedRoute,
} from './schema.js';
export {
  routes,
  signedPreKeySchema,
  kyberPreKeySchema,
  preKeySchema,
  storedBackupSchema,
  type StoredBackup,
  type SignedPreKey,
  type KyberPreKey,
  type PreKey,
  type HttpMethod,
  type RouteAuth,
  type RouteSpec,
  type RouteName,
  type RequestBody,
  type RequestParams,
  type ResponseBody,
} from './routes.js';
export { formatAuthorization, parseAuthorization, type DeviceCredentials } from './credentials.js';
export * from './vault-routes.js';
export {
  ENVELOPE_TYPES,
  FRAME_TYPES,
  isEnvelopeType,
  frameRequestId,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  errorFrameOf,
  encodeProvisioningFrame,
  decodeProvisioningFrame,
  isProvisioningAddress,
  type ProvisioningFrame,
  type ProvisioningAddressFrame,
  type ProvisionEnvelopeFrame,
  type EnvelopeType,
  type OutgoingEnvelope,
  type SendFrame,
  type AckFrame,
  type PingFrame,
  type ClientFrame,
  type EnvelopeFrame,
  type SendResultFrame,
  type ErrorFrame,
  type PongFrame,
  type QueueEmptyFrame,
  type ServerFrame,
} from './frames.js';
