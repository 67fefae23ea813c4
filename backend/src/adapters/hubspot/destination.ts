import type { DestinationErrorClass, DestinationTraits } from '../../domain/destinations/port';
import type { WriteResult } from '../../domain/sync/ports';
import type { CallHubSpot, PortalAuth } from './call';
import { MAX_BATCH_INPUTS } from './batch';
import { PermanentHubSpotError, RateBudgetTimeoutError, RetryableHubSpotError, asConnectionFailure, retryCategory, type RetryReason } from './errors';
import type { RateBudget } from './rate-budget';

/**
 * HubSpot as an adapter of the destination port (`domain/destinations/port.ts`): what it holds, how a customer is
 * found, its batching, its rate budget, the port's error classes of its failures, and the connection check. Its
 * records are written through HubSpot's own write surface (`domain/sync/ports.ts`, `gateway.ts`), by the HubSpot
 * pusher (`jobs/push-contacts.ts`), which decides what a failure does from the class answered here.
 */

/** The port's traits of HubSpot with this backend's rate budget (HUBSPOT_RATE_LIMIT_PER_10S, search per second). */
export function hubspotTraits(budget: Pick<RateBudget, 'limitPer10s' | 'searchPerSecond'>) {
  return {
    kind: 'hubspot',
    holds: {
      profile: 'contact (the unique stripe_customer_id property; several customers of one email rolled up on it)',
      properties: 'declared',
      events: 'timeline event, or a note on the contact without the timeline scope',
      // A customer deleted in Stripe loses its personal data here; its HubSpot contact is the merchant's CRM record.
      removal: [],
      records: ['company', 'deal', 'ticket', 'task'],
    },
    identity: ['stored_id', 'customer_id', 'email'],
    maxProfilesPerCall: MAX_BATCH_INPUTS,
    maxEventsPerCall: MAX_BATCH_INPUTS,
    rateBudget: [
      { bucket: 'crm', count: budget.limitPer10s, windowMs: 10_000, per: 'HubSpot portal' },
      { bucket: 'search', count: budget.searchPerSecond, windowMs: 1000, per: 'HubSpot portal' },
    ],
  } as const satisfies DestinationTraits;
}

/** HubSpot's traits at the defaults (100 requests per 10 s, 4 searches per second per portal). */
export const HUBSPOT_TRAITS = hubspotTraits({ limitPer10s: 100, searchPerSecond: 4 });

/** A whole call's retryable failures that are HubSpot asking us to slow down, not HubSpot failing. */
const SLOW_DOWN: ReadonlySet<RetryReason> = new Set<RetryReason>(['rate_limit', 'daily_limit', 'budget']);

/**
 * The port's class of a failed HubSpot call: `connection` (401/403, a refused refresh: the connection is paused,
 * every change kept), `rate_limited` (429 past our retries, the daily limit, our own rate budget: waited out, never a
 * dead letter), `retryable` (5xx, 423, network; anything unexpected) or `record` (a 4xx HubSpot answers the same way
 * again: a dead letter with HubSpot's message, replayable).
 */
export function hubspotErrorClass(err: unknown): DestinationErrorClass {
  if (asConnectionFailure(err)) return 'connection';
  if (err instanceof RetryableHubSpotError) return SLOW_DOWN.has(err.reason) ? 'rate_limited' : 'retryable';
  if (err instanceof RateBudgetTimeoutError) return 'rate_limited';
  if (err instanceof PermanentHubSpotError) return 'record';
  return 'retryable';
}

const SLOW_DOWN_CATEGORIES: ReadonlySet<string> = new Set([...SLOW_DOWN].map(retryCategory));

/**
 * The port's class of one contact write HubSpot did not take (from a batch's per-record results). No result at all
 * for a record that was sent is `record`: a dead letter, replayable, rather than a write retried without end.
 */
export function hubspotRecordClass(r: Extract<WriteResult, { ok: false }> | undefined): Exclude<DestinationErrorClass, 'connection'> {
  if (!r || r.permanent) return 'record';
  return r.category !== null && SLOW_DOWN_CATEGORIES.has(r.category) ? 'rate_limited' : 'retryable';
}

/**
 * The port's connection check: one cheap authenticated read (a page of one contact), one attempt. Answers the label
 * the merchant sees; throws the HubSpot error otherwise (`hubspotErrorClass` says `connection` for a refusal).
 */
export async function checkHubSpot(callHubSpot: CallHubSpot, auth: PortalAuth): Promise<{ label: string }> {
  await callHubSpot(auth, 'crm', (c, sdk) => c.crm.contacts.basicApi.getPage(1, undefined, ['email'], undefined, undefined, false, sdk), {
    operation: 'health.probe',
    maxAttempts: 1,
  });
  return { label: `HubSpot portal ${auth.portalId}` };
}
