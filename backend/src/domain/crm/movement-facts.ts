import { createHash } from 'node:crypto';
import type { CustomerStatus, MrrChangeSummary } from '@stripe-hubspot-sync/contracts';
import { lastMrrChange, type Movement } from '../movements';

/**
 * What a customer's revenue movements add to its status (pure), set by the apply step when it records them:
 *
 * - `lastMrrChange`: the latest movement that changed MRR (new, upgrade, downgrade, churn, reactivation, trial
 *   converted), for the "last MRR change" contact properties (lists and reports);
 * - `movementsKey`: a digest of the set of movement ids. A movement can appear without any other fact changing (an
 *   upgrade delivered after the downgrade that followed it: its subscription version is superseded, the status
 *   derived from the records is the same), and a customer is only written when its status changes: the key changes
 *   with the set, so the customer is written and its new movement reaches HubSpot.
 *
 * Both are left out when the customer has no movement, so statuses without movements are what they were before.
 */

export function movementsKey(movements: readonly Movement[]): string | undefined {
  if (movements.length === 0) return undefined;
  const ids = [...new Set(movements.map((m) => m.id))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 24);
}

export function mrrChangeOf(movements: readonly Movement[]): MrrChangeSummary | undefined {
  const last = lastMrrChange(movements);
  if (!last) return undefined;
  return { at: last.at, amount: last.amount, currency: last.currency, kind: last.kind };
}

/**
 * The status with its movement facts: from `movements` (every movement the customer's history derives now) when
 * they are known, else carried over from the status the customer had (a batch that did not touch its history).
 */
export function withMovementFacts(status: CustomerStatus, movements: readonly Movement[] | undefined, previous: CustomerStatus | null): CustomerStatus {
  const { lastMrrChange: _l, movementsKey: _k, ...rest } = status;
  const lastChange = movements ? mrrChangeOf(movements) : (previous?.lastMrrChange ?? undefined);
  const key = movements ? movementsKey(movements) : previous?.movementsKey;
  return { ...rest, ...(lastChange ? { lastMrrChange: lastChange } : {}), ...(key ? { movementsKey: key } : {}) };
}

/** The latest MRR change of several customers sharing a contact (by time, then the larger absolute change). */
export function latestMrrChange(statuses: readonly CustomerStatus[]): MrrChangeSummary | undefined {
  let best: MrrChangeSummary | undefined;
  for (const s of statuses) {
    const c = s.lastMrrChange;
    if (!c) continue;
    if (!best || c.at > best.at || (c.at === best.at && Math.abs(c.amount) > Math.abs(best.amount))) best = c;
  }
  return best;
}
