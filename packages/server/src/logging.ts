/**
 * Log settings for the relay. Logs say what happened (route pattern, status, duration, counts,
 * account ids for security events) and never carry what was sent: no message bodies, codes,
 * tokens, credentials, phone numbers, IP addresses or raw URLs (a URL can hold ids and codes).
 * The redaction list is a second fence for fields that must never appear even by mistake.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'number',
  '*.number',
  'token',
  '*.token',
  'credential',
  '*.credential',
  'registrationLockToken',
  '*.registrationLockToken',
  'provisioningCode',
  '*.provisioningCode',
  'content',
  '*.content',
];

export function relayLoggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'sotto-relay' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** A pino logger with the relay's settings, writing JSON lines to `destination` (stdout by default). */
export function createRelayLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return destination === undefined
    ? pino(relayLoggerOptions(level))
    : pino(relayLoggerOptions(level), destination);
}
