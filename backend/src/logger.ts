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

/** How often buffered stdout lines are written out at the latest. */
const FLUSH_INTERVAL_MS = 250;

/**
 * pino JSON lines with secrets redacted. Stdout is written in chunks (one write per few KB, at least every
 * 250 ms, and at exit) rather than one write per line: a line per event at thousands of events/s otherwise
 * costs a system call each.
 */
export function createLogger(opts: LoggerOptions): Logger {
  let destination = opts.destination;
  if (!destination) {
    const stdout = pino.destination({ dest: 1, minLength: 4096, sync: false });
    setInterval(() => stdout.flush(), FLUSH_INTERVAL_MS).unref();
    destination = stdout;
  }
  return pino(
    {
      level: opts.level,
      base: { service: 'stripe-hubspot-sync' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
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
