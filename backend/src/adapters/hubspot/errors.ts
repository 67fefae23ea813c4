/**
 * What a HubSpot call can end with, besides success. Every error says whether trying again later can help:
 * `PermanentHubSpotError` (a 4xx HubSpot will answer the same way again: dead-letter it with HubSpot's message),
 * `RetryableHubSpotError` (rate limits, 5xx, 423, network: retries were exhausted or must wait longer) and
 * `ConnectionHubSpotError` (401/403 or a refused OAuth refresh: the connection is refused, never the record).
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

/**
 * HubSpot refuses the connection itself, not a record: 401 (token unknown, revoked, expired past a refresh), 403
 * (MISSING_SCOPES and other authorization refusals), or an OAuth refresh HubSpot refuses (BAD_REFRESH_TOKEN: the app
 * was uninstalled). Nothing about the records is wrong: keep every change, pause the connection, resume once a call
 * succeeds again. `severity` says what it takes: `paused` (checked periodically, resumes by itself) or `broken` (the
 * grant is gone: the merchant reconnects).
 */
export class ConnectionHubSpotError extends HubSpotError {
  readonly retryable = true;
  override readonly name = 'ConnectionHubSpotError';
  readonly status: number;
  /** HubSpot's category or OAuth code, e.g. INVALID_AUTHENTICATION, MISSING_SCOPES, BAD_REFRESH_TOKEN. */
  readonly category: string;
  readonly severity: 'paused' | 'broken';

  constructor(args: { status: number; category: string; message: string; operation: string; severity: 'paused' | 'broken' }) {
    super(args.message, args.operation);
    this.status = args.status;
    this.category = args.category;
    this.severity = args.severity;
  }
}

/** A connection-level refusal in `err`, if it is one (a 401/403 that reached us as a permanent error counts). */
export function asConnectionFailure(err: unknown): ConnectionHubSpotError | null {
  if (err instanceof ConnectionHubSpotError) return err;
  if (err instanceof PermanentHubSpotError && (err.status === 401 || err.status === 403)) {
    return new ConnectionHubSpotError({
      status: err.status,
      category: err.category,
      message: err.message,
      operation: err.operation,
      severity: err.category === 'INSTALL_DISCONNECTED' ? 'broken' : 'paused',
    });
  }
  return null;
}

/** The category a whole call's retryable failure gives each record of a batch (e.g. SERVER, NETWORK). */
export function retryCategory(reason: RetryReason): string {
  return reason.toUpperCase();
}

/** Whether a record failed because the whole portal did not answer (outage, limits), not because of the record. */
export function isPortalWideCategory(category: string | null | undefined): boolean {
  return category != null && PORTAL_WIDE.has(category);
}
const PORTAL_WIDE = new Set<string>(
  (['rate_limit', 'daily_limit', 'server', 'locked', 'network', 'budget'] satisfies RetryReason[]).map(retryCategory),
);

/** The category a write gets when HubSpot says a property it names does not exist. */
export const MISSING_PROPERTY = 'PROPERTY_DOESNT_EXIST';

/**
 * Whether a refusal is HubSpot's PROPERTY_DOESNT_EXIST (a 400 VALIDATION_ERROR naming a property that is not
 * defined), and which properties it names: from `errors[].code` with `context.propertyName`, from the JSON list
 * inside "Property values were not valid: [...]", or from the text `Property "x" does not exist`.
 */
export function missingProperties(err: { message: string; details?: PermanentHubSpotError['details'] }): { missing: boolean; names: string[] } {
  const details = err.details ?? [];
  const missing = err.message.includes(MISSING_PROPERTY) || details.some((d) => d.code === MISSING_PROPERTY);
  if (!missing) return { missing: false, names: [] };
  const names = new Set<string>();
  for (const d of details) if (d.code === MISSING_PROPERTY) (d.context?.propertyName ?? []).forEach((n) => names.add(n));
  const list = /Property values were not valid: (\[.*\])\s*$/s.exec(err.message)?.[1];
  if (list) {
    try {
      for (const p of JSON.parse(list) as { error?: unknown; name?: unknown }[]) {
        if (p && p.error === MISSING_PROPERTY && typeof p.name === 'string') names.add(p.name);
      }
    } catch {
      // not JSON after all: the plain-text form below still applies
    }
  }
  for (const text of [err.message, ...details.map((d) => d.message)]) {
    for (const m of text.matchAll(/Property \\?"([^"\\]+)\\?" does not exist/g)) names.add(m[1]!);
  }
  return { missing: true, names: [...names] };
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
