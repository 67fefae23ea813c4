import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach the logs: authorization and signature headers, tokens, secrets, keys.
 * `*` matches one level, so these cover a secret at the top of a log object and one level down.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["stripe-signature"]',
  'headers["x-hubspot-signature-v3"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  ...[
    'token',
    'accessToken',
    'access_token',
    'refreshToken',
    'refresh_token',
    'secret',
    'clientSecret',
    'client_secret',
    'apiKey',
    'password',
    'webhookSecrets',
    'appSecret',
    'tokenEncryptionKey',
  ].flatMap((k) => [k, `*.${k}`]),
];

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default (tests pass a stream to read them). */
  destination?: DestinationStream;
}

/** pino JSON lines with secrets redacted. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'stripe-hubspot-sync' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination,
  );
}

/** The fields every log line about one Stripe event carries. */
export function eventFields(e: { id: string; type: string; accountId?: string | null; account?: string | null }): {
  eventId: string;
  eventType: string;
  account: string | null;
} {
  return { eventId: e.id, eventType: e.type, account: e.accountId ?? e.account ?? null };
}
