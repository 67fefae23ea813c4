import { MRR_MOVEMENT_KINDS as CONTRACT_MRR_MOVEMENT_KINDS, REVENUE_MOVEMENT_KINDS, type RevenueMovementKind } from '@stripe-hubspot-sync/contracts';
import type { SubscriptionStatus, Version } from './records';
import { compareVersions } from './ordering';
import { countsTowardMrr } from './mrr';
import type { HistoryEntry, SubscriptionFacts } from './movements-history';
import { paymentMovements } from './movements-payments';

/**
 * REVENUE MOVEMENTS — what happened to a customer's revenue, derived (pure, no I/O) from its history of object
 * versions (movements-history.ts), never from a single event:
 *
 *   new             a subscription's first live version (live = counts toward MRR: active, past_due)
 *   upgrade         a live subscription's monthly amount went up          (amount = MRR change, > 0)
 *   downgrade       … went down                                           (amount = MRR change, < 0)
 *   churn           live → not live (canceled, unpaid, paused, incomplete_expired)    (amount < 0)
 *   reactivation    not live after having ended → live again, or a new subscription's first live version while
 *                   none is live and another one was live before (a customer coming back)
 *   trial_started   a subscription starts trialing (amount = what it will bill per month; MRR unchanged)
 *   trial_converted trialing → live                                       (amount = MRR change)
 *   payment_failed  one failed attempt of an invoice                      (amount = amount due)
 *   payment_recovered  an invoice paid after a failed attempt             (amount = amount paid)
 *   refund          money refunded on a charge                            (amount = this refund)
 *   dispute         a dispute opened on a charge                          (amount = disputed)
 *
 * Subscription movements carry the customer's total MRR just before and after, in the movement's currency
 * (subscriptions in other currencies do not add up); the others carry null. Amounts are minor units.
 *
 * STABILITY. Each movement has a deterministic id (`sub_x:evt_y:upgrade`, `in_x:failed:2`, `in_x:recovered`,
 * `ch_x:refund:<refunded total>`, `dp_x`) and is derived at one SOURCE version from versions at or before it
 * only, so an event created later never changes an earlier movement. A version's "before" is the event's own
 * (`previous_attributes`) whenever the event says, so an earlier-created event arriving late inserts its own
 * movement without touching the others: upgrade A→B (e1) and downgrade B→C (e2) give exactly {upgrade(e1),
 * downgrade(e2)} in any arrival order, with nothing else derived in between. Only where Stripe sends no
 * "before" (a `customer.subscription.deleted`, a refund event without `previous_attributes`) does the previous
 * version stand in, and a late intermediate version can then change what is derived at a later source (see the
 * ledger's retraction in movements-store.ts). The same set of versions in any order gives the same movements.
 */

/** The kinds of movement, as the contracts name them for the card and the Stripe App. */
export type MovementKind = RevenueMovementKind;
export const MOVEMENT_KINDS: readonly MovementKind[] = REVENUE_MOVEMENT_KINDS;

/** The kinds that change MRR (what "last MRR change" chooses from). */
export const MRR_MOVEMENT_KINDS: readonly MovementKind[] = CONTRACT_MRR_MOVEMENT_KINDS;

export type MovementDetails = Record<string, string | number | boolean | null>;

export interface Movement {
  /** Deterministic: the same facts always give the same id (see the header). */
  id: string;
  customerId: string;
  kind: MovementKind;
  /** Unix seconds. */
  occurredAt: number;
  currency: string | null;
  /** Minor units (see each kind above). */
  amount: number;
  /** The customer's total MRR in `currency` just before / after (subscription movements), else null. */
  mrrBefore: number | null;
  mrrAfter: number | null;
  /** The subscription, invoice, charge or dispute it is about. */
  subjectId: string;
  /** The version it is derived at: it depends on versions up to this one only. */
  source: Version;
  details: MovementDetails;
}

/** Stable order of history entries: by version, then kind and object (two objects of one event). */
export function compareEntries(a: HistoryEntry, b: HistoryEntry): number {
  return compareVersions(a.version, b.version) || cmp(a.kind, b.kind) || cmp(a.objectId, b.objectId);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, each (kind, object, version) once. */
export function sortedHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  const seen = new Map<string, HistoryEntry>();
  for (const e of history) seen.set(`${e.kind}\u0000${e.objectId}\u0000${e.version.eventId}`, e);
  return [...seen.values()].sort(compareEntries);
}

const ENDED = new Set<SubscriptionStatus>(['canceled', 'incomplete_expired', 'unpaid', 'paused']);

interface SubState {
  status: SubscriptionStatus;
  currency: string | null;
  monthlyAmount: number;
  plan: string | null;
}

const mrrOf = (s: SubState | null): number => (s && countsTowardMrr(s.status) ? s.monthlyAmount : 0);

/** What a subscription was just before version `v`: the event's own word, else the previous version's status. */
function beforeOf(data: SubscriptionFacts, previous: SubState | undefined): SubState | null | undefined {
  if (data.before === null) return null;
  if (data.before) return { ...data.before, currency: data.currency };
  // Events without previous_attributes (deleted, trial_will_end) do not change the items: only the status.
  if (previous) return { status: previous.status, currency: data.currency, monthlyAmount: data.monthlyAmount, plan: data.plan };
  return undefined;
}

interface Context {
  /** Another subscription of the customer is live (counts toward MRR) right now. */
  otherLive: boolean;
  /** Another subscription of the customer was live at some earlier version. */
  otherWasLive: boolean;
  /** This subscription was live at some earlier version. */
  selfWasLive: boolean;
}

function classify(before: SubState | null, after: SubState, ctx: Context): MovementKind | null {
  const wasLive = before !== null && countsTowardMrr(before.status);
  const isLive = countsTowardMrr(after.status);
  const from = before?.status ?? null;
  if (!wasLive && isLive) {
    if (from === 'trialing') return 'trial_converted';
    if ((from !== null && ENDED.has(from)) || ctx.selfWasLive) return 'reactivation';
    return !ctx.otherLive && ctx.otherWasLive ? 'reactivation' : 'new';
  }
  if (wasLive && !isLive) return 'churn';
  if (wasLive && isLive) {
    if (after.monthlyAmount > (before as SubState).monthlyAmount) return 'upgrade';
    if (after.monthlyAmount < (before as SubState).monthlyAmount) return 'downgrade';
    return null;
  }
  if (after.status === 'trialing' && (from === null || from === 'incomplete')) return 'trial_started';
  return null;
}

/** Subscription movements, walking every subscription version of the customer in version order. */
function subscriptionMovements(customerId: string, history: readonly HistoryEntry[]): Movement[] {
  const out: Movement[] = [];
  const state = new Map<string, SubState>();
  const everLive = new Set<string>();
  for (const e of history) {
    if (e.kind !== 'subscription') continue;
    const d = e.data;
    const after: SubState = { status: d.status, currency: d.currency, monthlyAmount: d.monthlyAmount, plan: d.plan };
    const before = beforeOf(d, state.get(e.objectId));
    if (e.fromEvent && before !== undefined) {
      let others = 0;
      let otherLive = false;
      for (const [id, s] of state) {
        if (id === e.objectId || !countsTowardMrr(s.status)) continue;
        otherLive = true;
        if (s.currency === after.currency) others += s.monthlyAmount;
      }
      const ctx: Context = {
        otherLive,
        otherWasLive: [...everLive].some((id) => id !== e.objectId),
        selfWasLive: everLive.has(e.objectId),
      };
      const kind = classify(before, after, ctx);
      if (kind) {
        const mrrBefore = others + (before && before.currency === after.currency ? mrrOf(before) : 0);
        const mrrAfter = others + mrrOf(after);
        out.push({
          id: `${e.objectId}:${e.version.eventId}:${kind}`,
          customerId,
          kind,
          occurredAt: e.version.created,
          currency: after.currency,
          amount: kind === 'trial_started' ? after.monthlyAmount : mrrAfter - mrrBefore,
          mrrBefore,
          mrrAfter,
          subjectId: e.objectId,
          source: e.version,
          details: {
            status: after.status,
            previousStatus: before?.status ?? null,
            plan: after.plan,
            previousPlan: before?.plan ?? null,
            ...(kind === 'trial_started' ? { trialEnd: d.trialEnd } : {}),
          },
        });
      }
    }
    state.set(e.objectId, after);
    if (countsTowardMrr(after.status)) everLive.add(e.objectId);
  }
  return out;
}

/** Newest first: by when it occurred, then by source version, then id. */
export function compareMovements(a: Movement, b: Movement): number {
  return a.occurredAt - b.occurredAt || compareVersions(a.source, b.source) || cmp(a.id, b.id);
}

/**
 * Every movement of one customer, from the versions of its history (any order, duplicates allowed), sorted by
 * when they occurred. Deterministic: the same set of versions gives the same movements.
 */
export function deriveMovements(customerId: string, history: readonly HistoryEntry[]): Movement[] {
  const sorted = sortedHistory(history.filter((e) => e.customerId === customerId));
  return [...subscriptionMovements(customerId, sorted), ...paymentMovements(customerId, sorted)].sort(compareMovements);
}

export interface LastMrrChange {
  /** When, unix seconds (exact). */
  at: number;
  /** The same as ISO 8601 (a time beyond what a date can hold, ±8.64e15 ms, is clamped to it). */
  date: string;
  /** The MRR change, minor units of `currency` (negative for a downgrade or churn). */
  amount: number;
  currency: string | null;
  kind: MovementKind;
}

/**
 * The latest movement that changed MRR (new, upgrade, downgrade, churn, reactivation, trial converted), for
 * "last MRR change" properties; null when there is none.
 */
export function lastMrrChange(movements: readonly Movement[]): LastMrrChange | null {
  let last: Movement | null = null;
  for (const m of movements) {
    if (!MRR_MOVEMENT_KINDS.includes(m.kind)) continue;
    if (!last || compareMovements(m, last) > 0) last = m;
  }
  if (!last) return null;
  return { at: last.occurredAt, date: isoDate(last.occurredAt), amount: last.amount, currency: last.currency, kind: last.kind };
}

/** The last instant with a four-digit year: HubSpot refuses ISO 8601 dates beyond it (`+275760-…`). */
const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Unix seconds as ISO 8601, never throwing: clamped to 1970 … 9999 (a date HubSpot accepts). */
export function isoDate(seconds: number): string {
  const ms = Number.isFinite(seconds) ? Math.max(0, Math.min(MAX_DATE_MS, seconds * 1000)) : 0;
  return new Date(ms).toISOString();
}
