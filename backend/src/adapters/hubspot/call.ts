import type { Client } from '@hubspot/api-client';
import type { HubSpotClients, ResponseCapture, SdkOptions } from './client';
import {
  ConnectionHubSpotError,
  PermanentHubSpotError,
  RateBudgetTimeoutError,
  RetryableHubSpotError,
  parseErrorBody,
  type HubSpotErrorBody,
  type RetryReason,
} from './errors';
import type { HubSpotMetrics } from './metrics';
import type { CallKind, RateBudget } from './rate-budget';

/**
 * One HubSpot call made safe: take a slot of the portal's rate budget, run the SDK call, and classify what came
 * back. 429 (ten-secondly), 5xx, 423 and network errors are retried with exponential backoff and full jitter,
 * within a bounded number of attempts and a deadline; a 429 pauses every instance (a budget penalty); a 429 of
 * the DAILY policy is not retried now. 401 refreshes the token once; a 401 that stays, and any 403, refuse the
 * connection (`ConnectionHubSpotError`: pause it, never dead-letter its records). Other 4xx are permanent.
 */

/** Who we call as: the portal and its access token. */
export interface PortalAuth {
  readonly portalId: number;
  /** A valid access token (an OAuth install refreshes it ahead of expiry). */
  accessToken(): Promise<string>;
  /** HubSpot answered 401 to `rejected`: a fresh token, or null when there is none to get. */
  refreshAfterUnauthorized?(rejected: string): Promise<string | null>;
}

/** An SDK call: pass `sdk` as the SDK method's last argument (`_options`). */
export type SdkCall<T> = (client: Client, sdk: SdkOptions) => Promise<T>;

export interface RetryPolicy {
  /** HTTP attempts per call (a retry after a token refresh is not counted). Default 6. */
  maxAttempts: number;
  /** Backoff base for 5xx/network: attempt n waits random(0, base·2^(n-1)), capped. Default 250 ms. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** First wait after a 429 without Retry-After (doubles each time, with jitter). Default 1000 ms. */
  rateLimitDelayMs: number;
  /** Minimum wait after 423 Locked. Default 2000 ms. */
  lockedDelayMs: number;
  /** No retry starts later than this after the first attempt. Default 60 s. */
  deadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  rateLimitDelayMs: 1000,
  lockedDelayMs: 2000,
  deadlineMs: 60_000,
};

export interface CallerDeps {
  budget: RateBudget;
  clients: HubSpotClients;
  metrics?: HubSpotMetrics;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told after every call a portal answered with success (a portal that answers again wakes its waiting work). */
  onSuccess?: (portalId: number) => void;
}

export interface CallOptions {
  /** Names the call in errors and metrics, e.g. `contacts.batch.upsert`. */
  operation: string;
  /** Fraction of the rate budget this caller may use (backfill: 0.5). */
  share?: number;
  /** Longest wait for the rate budget per attempt. Default: as long as it takes. */
  maxBudgetWaitMs?: number;
  /** HTTP attempts of this call, when fewer than the policy's (a health probe makes one). */
  maxAttempts?: number;
}

export type CallHubSpot = <T>(auth: PortalAuth, kind: CallKind, fn: SdkCall<T>, options: CallOptions) => Promise<T>;

type Failure =
  | { type: 'http'; status: number; body: HubSpotErrorBody; headers: Record<string, string> }
  | { type: 'network'; message: string };

export function createCaller(deps: CallerDeps): CallHubSpot {
  const policy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  const m = deps.metrics;

  return async function callHubSpot<T>(auth: PortalAuth, kind: CallKind, fn: SdkCall<T>, options: CallOptions) {
    const { operation } = options;
    const started = Date.now();
    let attempt = 0;
    let refreshed = false;
    let token: string | null = null;
    const outcome = (o: string) => m?.outcomes.inc({ operation, outcome: o });
    const maxAttempts = Math.min(policy.maxAttempts, options.maxAttempts ?? policy.maxAttempts);

    for (;;) {
      attempt += 1;
      try {
        const { waitedMs } = await deps.budget.acquire(auth.portalId, kind, {
          share: options.share,
          maxWaitMs: options.maxBudgetWaitMs,
        });
        m?.budgetWait.observe({ kind }, waitedMs / 1000);
      } catch (err) {
        if (!(err instanceof RateBudgetTimeoutError)) throw err;
        outcome('budget_timeout');
        throw new RetryableHubSpotError({ reason: 'budget', message: err.message, operation, attempts: attempt - 1 });
      }
      token ??= await auth.accessToken();
      const capture: ResponseCapture = {};
      let failure: Failure;
      try {
        const result = await fn(deps.clients.forToken(token), deps.clients.sdkOptions(capture));
        m?.requests.inc({ operation, status: String(capture.status ?? 'unknown') });
        await deps.budget.observe(auth.portalId, capture.headers);
        outcome('ok');
        deps.onSuccess?.(auth.portalId);
        return result;
      } catch (err) {
        const f = classify(err, capture);
        if (!f) throw err; // not an HTTP or network failure: a bug to see, not to retry
        failure = f;
      }

      m?.requests.inc({ operation, status: failure.type === 'http' ? String(failure.status) : 'network' });
      if (failure.type === 'http') await deps.budget.observe(auth.portalId, failure.headers);

      let reason: RetryReason;
      let delay: number;
      if (failure.type === 'network') {
        reason = 'network';
        delay = backoff(attempt);
      } else if (failure.status === 401) {
        const fresh: string | null = !refreshed && auth.refreshAfterUnauthorized ? await auth.refreshAfterUnauthorized(token) : null;
        if (fresh) {
          refreshed = true;
          token = fresh;
          attempt -= 1;
          m?.retries.inc({ operation, reason: 'unauthorized' });
          continue;
        }
        outcome('connection');
        throw connectionRefused(failure, operation);
      } else if (failure.status === 403) {
        outcome('connection');
        throw connectionRefused(failure, operation);
      } else if (failure.status === 429) {
        if (failure.body.policyName === 'DAILY') {
          outcome('daily_limit');
          throw new RetryableHubSpotError({
            reason: 'daily_limit',
            status: 429,
            message: failure.body.message ?? 'HubSpot daily request limit reached',
            operation,
            attempts: attempt,
            retryAfterMs: msUntilNextUtcMidnight(),
          });
        }
        reason = 'rate_limit';
        delay =
          retryAfterMs(failure.headers) ??
          Math.min(policy.maxDelayMs, policy.rateLimitDelayMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
      } else if (failure.status === 423) {
        reason = 'locked';
        delay = Math.max(policy.lockedDelayMs, backoff(attempt));
      } else if (failure.status >= 500) {
        reason = 'server';
        delay = backoff(attempt);
      } else {
        outcome('permanent');
        throw permanent(failure, operation);
      }

      const status = failure.type === 'http' ? failure.status : undefined;
      if (attempt >= maxAttempts || Date.now() + delay - started > policy.deadlineMs) {
        outcome('retry_exhausted');
        throw new RetryableHubSpotError({
          reason,
          status,
          operation,
          attempts: attempt,
          message:
            failure.type === 'network'
              ? `HubSpot unreachable: ${failure.message}`
              : (failure.body.message ?? `HubSpot answered ${failure.status}`),
        });
      }
      m?.retries.inc({ operation, reason });
      if (reason === 'rate_limit') {
        // Every instance waits; our next acquire() sleeps through the penalty.
        await deps.budget.penalize(auth.portalId, delay, kind === 'search' ? 'search' : 'crm');
      } else {
        await sleep(delay);
      }
    }
  };

  function backoff(attempt: number): number {
    return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
  }
}

/** An HTTP answer (from our middleware's capture, or the SDK's ApiException), a network failure, or null. */
function classify(err: unknown, capture: ResponseCapture): Failure | null {
  if (capture.status !== undefined && capture.status >= 400) {
    return { type: 'http', status: capture.status, body: parseErrorBody(capture.errorBody), headers: capture.headers ?? {} };
  }
  const e = err as { code?: unknown; body?: unknown; headers?: unknown; name?: unknown; type?: unknown; message?: unknown };
  if (e && typeof e.code === 'number' && 'body' in e && 'headers' in e) {
    // An ApiException (each SDK module has its own class, so no instanceof).
    const headers = (e.headers && typeof e.headers === 'object' ? e.headers : {}) as Record<string, string>;
    if (e.code >= 400) return { type: 'http', status: e.code, body: parseErrorBody(e.body), headers };
    // A success status the SDK did not expect for this endpoint: nothing retrying can fix.
    return { type: 'http', status: 422, headers, body: { category: 'UNEXPECTED_RESPONSE', message: `HubSpot answered an unexpected ${e.code}` } };
  }
  if (e && (e.name === 'FetchError' || e.name === 'AbortError' || isSystemCode(e.code))) {
    return { type: 'network', message: typeof e.message === 'string' ? e.message.replace(/https?:\/\/\S+/g, '<url>') : 'network error' };
  }
  return null;
}

function isSystemCode(code: unknown): boolean {
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_\w+)$/.test(code);
}

function permanent(f: Extract<Failure, { type: 'http' }>, operation: string): PermanentHubSpotError {
  return new PermanentHubSpotError({
    status: f.status,
    category: f.body.category ?? `HTTP_${f.status}`,
    message: f.body.message ?? `HubSpot answered ${f.status}`,
    operation,
    body: f.body,
  });
}

function connectionRefused(f: Extract<Failure, { type: 'http' }>, operation: string): ConnectionHubSpotError {
  return new ConnectionHubSpotError({
    status: f.status,
    category: f.body.category ?? `HTTP_${f.status}`,
    message: f.body.message ?? `HubSpot answered ${f.status}`,
    operation,
    severity: 'paused',
  });
}

function retryAfterMs(headers: Record<string, string>): number | undefined {
  const raw = headers['retry-after'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function msUntilNextUtcMidnight(now = new Date()): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}
