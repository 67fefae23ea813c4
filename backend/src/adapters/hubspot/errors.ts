/**
 * What a HubSpot call can end with, besides success. Every error says whether trying again later can help:
 * `PermanentHubSpotError` (a 4xx HubSpot will answer the same way again: dead-letter it with HubSpot's message)
 * and `RetryableHubSpotError` (rate limits, 5xx, 423, network: retries were exhausted or must wait longer).
 */

export type RetryReason = 'rate_limit' | 'daily_limit' | 'server' | 'locked' | 'network' | 'budget';

export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  subCategory?: string;
  correlationId?: string;
  context?: Record<string, string[]>;
  errors?: { message: string; code?: string; in?: string; context?: Record<string, string[]> }[];
  errorType?: string;
  policyName?: string;
}

export abstract class HubSpotError extends Error {
  abstract readonly retryable: boolean;
  /** The SDK call that failed (e.g. `contacts.batch.upsert`). */
  readonly operation: string;
  constructor(message: string, operation: string) {
    super(message);
    this.operation = operation;
  }
}

export class PermanentHubSpotError extends HubSpotError {
  readonly retryable = false;
  override readonly name = 'PermanentHubSpotError';
  readonly status: number;
  /** HubSpot's error category, e.g. VALIDATION_ERROR, CONFLICT, OBJECT_NOT_FOUND, MISSING_SCOPES. */
  readonly category: string;
  readonly subCategory?: string;
  readonly correlationId?: string;
  /** HubSpot's `context` (e.g. `{ids: [...]}`, `{propertyName: [...]}`). */
  readonly context: Record<string, string[]>;
  readonly details: { message: string; code?: string; in?: string; context?: Record<string, string[]> }[];

  constructor(args: { status: number; category: string; message: string; operation: string; body?: HubSpotErrorBody }) {
    super(args.message, args.operation);
    this.status = args.status;
    this.category = args.category;
    this.subCategory = args.body?.subCategory;
    this.correlationId = args.body?.correlationId;
    this.context = args.body?.context ?? {};
    this.details = args.body?.errors ?? [];
  }
}

export class RetryableHubSpotError extends HubSpotError {
  readonly retryable = true;
  override readonly name = 'RetryableHubSpotError';
  readonly reason: RetryReason;
  readonly status?: number;
  /** How many HTTP attempts were made. */
  readonly attempts: number;
  /** When known, how long to wait before trying again (e.g. until the daily limit resets). */
  readonly retryAfterMs?: number;

  constructor(args: {
    reason: RetryReason;
    message: string;
    operation: string;
    status?: number;
    attempts: number;
    retryAfterMs?: number;
  }) {
    super(args.message, args.operation);
    this.reason = args.reason;
    this.status = args.status;
    this.attempts = args.attempts;
    this.retryAfterMs = args.retryAfterMs;
  }
}

/** The rate budget would make a caller wait longer than it allows. */
export class RateBudgetTimeoutError extends Error {
  override readonly name = 'RateBudgetTimeoutError';
  constructor(
    readonly portalId: number,
    readonly waitMs: number,
  ) {
    super(`HubSpot rate budget of portal ${portalId} has no room for ${waitMs} ms`);
  }
}

export function isHubSpotError(err: unknown): err is HubSpotError {
  return err instanceof HubSpotError;
}

/** Parses a HubSpot error body (JSON text or an already parsed object); anything else gives `{}`. */
export function parseErrorBody(raw: unknown): HubSpotErrorBody {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return {};
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const v = value as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return {
    status: str(v.status),
    message: str(v.message),
    category: str(v.category),
    subCategory: str(v.subCategory),
    correlationId: str(v.correlationId),
    context: isStringArrayRecord(v.context) ? v.context : undefined,
    errors: Array.isArray(v.errors)
      ? v.errors
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
          .map((e) => ({
            message: str(e.message) ?? '',
            code: str(e.code),
            in: str(e.in),
            context: isStringArrayRecord(e.context) ? e.context : undefined,
          }))
      : undefined,
    errorType: str(v.errorType),
    policyName: str(v.policyName),
  };
}

function isStringArrayRecord(x: unknown): x is Record<string, string[]> {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  return Object.values(x).every((a) => Array.isArray(a) && a.every((s) => typeof s === 'string'));
}
