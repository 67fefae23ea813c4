import type { Request, Response } from 'express';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Logger } from '../logger';

/**
 * A per-IP limit on failed signature checks, for the routes anyone can call (the Stripe webhook, the Stripe App
 * API). Only requests whose signature was refused are counted, and only those are refused with 429 once an IP
 * is over the limit: a correctly signed request is never counted nor limited, so Stripe's own deliveries never
 * slow down however many bad attempts share their address. The counts live in this process (each instance limits
 * what reaches it), in a one-minute window.
 */
export interface SignatureFailureLimit {
  /**
   * Counts the refused signature of `req`'s IP, then answers 429 when the IP is over the limit (through `limited`
   * when given, else the default answer), or calls `refuse` (the route's own 400/401) when it is not.
   */
  refuse(req: Request, res: Response, refuse: () => void, limited?: (retryAfterSeconds: number) => void): Promise<void>;
}

export interface SignatureFailureLimitOptions {
  /** Failed signatures allowed per IP per minute; 0 turns the limit off. */
  perMinute: number;
  /** Answers the 429 (the route's error format); `retryAfterSeconds` is also sent as `Retry-After`. */
  tooMany(req: Request, res: Response, retryAfterSeconds: number): void;
  logger?: Logger;
}

const WINDOW_MS = 60_000;
/** Where `refuse` leaves the route's own 429 answer for the limiter's handler. */
const LIMITED = Symbol('signature-limit.limited');

export function signatureFailureLimit(opts: SignatureFailureLimitOptions): SignatureFailureLimit {
  if (opts.perMinute <= 0) {
    return {
      refuse: (_req, _res, refuse) => {
        refuse();
        return Promise.resolve();
      },
    };
  }
  const logger = opts.logger;
  const limiter: RateLimitRequestHandler = rateLimit({
    windowMs: WINDOW_MS,
    limit: opts.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Express's `req.ip` honours the app's `trust proxy` setting (the load balancer's X-Forwarded-For).
    handler: (req, res) => {
      const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      res.setHeader('Retry-After', String(seconds));
      logger?.warn({ ip: req.ip, path: req.path }, 'too many failed signatures from this address');
      const limited = (res.locals as Record<symbol, ((s: number) => void) | undefined>)[LIMITED];
      if (limited) limited(seconds);
      else opts.tooMany(req, res, seconds);
    },
    ...(logger
      ? {
          logger: {
            warn: (err: unknown, message?: string) => logger.warn({ err }, message ?? 'signature failure limit'),
            error: (err: unknown, message?: string) => logger.error({ err }, message ?? 'signature failure limit'),
          },
        }
      : {}),
  });
  return {
    async refuse(req, res, refuse, limited) {
      if (limited) (res.locals as Record<symbol, unknown>)[LIMITED] = limited;
      try {
        await limiter(req, res, () => refuse());
      } catch (err) {
        // The limit is a courtesy: if it cannot count (no address, say), the request gets its ordinary refusal.
        logger?.warn({ err }, 'signature failure limit could not count this request');
        if (!res.headersSent) refuse();
      }
    },
  };
}
