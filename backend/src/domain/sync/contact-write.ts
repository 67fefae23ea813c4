import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import { lifecycleStageUpdate, propertyDefinitions, toHubSpotProperties } from '../properties';
import { rollUp } from './contact-rollup';
import { normalEmail } from './identity';

/**
 * The full property set a contact should carry for a customer it belongs to alone: the mapped fields, the email
 * (the contact's identity in HubSpot) and, once the customer has paid, the `customer` lifecycle stage when the
 * merchant wants it.
 */
export function desiredProperties(status: CustomerStatus, settings: SyncSettings): Record<string, string> {
  return contactProperties([status], normalEmail(status.email), settings);
}

/**
 * The property set of a contact shared by these customers (see `contact-rollup.ts`): their roll-up, the email when
 * given (its owner's; null leaves the contact's email alone), the lifecycle stage once any of them has paid.
 * Without customers: every mapped property cleared (the contact is no longer any customer's).
 */
export function contactProperties(
  statuses: readonly CustomerStatus[],
  email: string | null,
  settings: SyncSettings,
): Record<string, string> {
  if (statuses.length === 0) return clearedProperties(settings);
  const facts = rollUp(statuses);
  const props: Record<string, string> = { ...toHubSpotProperties(facts, settings) };
  if (email) props.email = email;
  if (settings.options.setLifecycleCustomer) Object.assign(props, lifecycleStageUpdate(facts) ?? {});
  return props;
}

/** Every mapped property empty (HubSpot clears it); the email and the lifecycle stage are left alone. */
export function clearedProperties(settings: SyncSettings): Record<string, string> {
  return Object.fromEntries(propertyDefinitions(settings).map((d) => [d.name, '']));
}

/**
 * What to send to an existing contact: only what differs from what HubSpot last received from us (everything
 * when we never wrote it). The lifecycle stage is only ever set once: we never push it back.
 */
export function changedProperties(
  desired: Record<string, string>,
  lastWritten: Record<string, string> | null,
): Record<string, string> {
  if (!lastWritten) return { ...desired };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) {
    if (k === 'lifecyclestage' && lastWritten[k] !== undefined) continue;
    if (lastWritten[k] !== v) out[k] = v;
  }
  return out;
}

/**
 * A failed-payment task is due when the count of failed payments grew since HubSpot last heard from us. `key` names
 * the failure it is for — the customer's n-th failed payment, n derived from all its records, so the same whatever
 * the delivery order — and there is at most one task per key, ever (jobs/failed-payment-tasks.ts).
 */
export function failedPaymentTask(
  status: CustomerStatus,
  previous: CustomerStatus | null,
  settings: SyncSettings,
): { key: string; subject: string; body: string } | null {
  if (!settings.options.createTaskOnFailure) return null;
  if (status.failedPaymentCount <= (previous?.failedPaymentCount ?? 0)) return null;
  const who = status.name ?? status.email ?? status.customerId;
  const reason = status.lastFailureReason ? ` Reason: ${status.lastFailureReason}.` : '';
  return {
    key: `failed-payment:${status.failedPaymentCount}`,
    subject: `Stripe payment failed for ${who}`,
    body: `A payment by ${who} failed (${status.failedPaymentCount} failed so far).${reason} Stripe: ${status.dashboardUrl}`,
  };
}
