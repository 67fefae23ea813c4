import type { CustomerStatus, SubscriptionSummary } from '@stripe-hubspot-sync/contracts';
import type { ContactFacts } from '../properties';
import { latestTime, mergeProducts } from '../products-bought';
import { latestMrrChange } from '../crm/movement-facts';

/**
 * One HubSpot contact, several Stripe customers (Checkout makes a customer per purchase, all with one email): the
 * contact carries the roll-up of all of them, computed from their read models, so whatever order their events
 * arrive in, the contact ends the same and never shows one customer's id beside another customer's status.
 *
 * - The primary customer is the one created first in Stripe (then the smaller id): its id goes in the unique
 *   customer-id property, its dashboard link is the contact's; every customer's id is listed, primary first.
 * - The contact has one currency: the primary's, else that of the first customer (in primary order) that has one.
 *   Customers in another currency are listed but add nothing else (money in two currencies does not add up; the
 *   HubSpot card shows each customer in its own currency).
 * - Of the customers counted: the subscription shown is the best one (active, trialing, past due, unpaid, paused,
 *   incomplete, canceled, expired; then the later period end), with the MRR of all of them; the last payment and
 *   its failure reason are those of the customer who paid last; money, counts and open invoices are sums;
 *   delinquent when any is; customer since the earliest; the last MRR change the latest of theirs.
 */

const SUBSCRIPTION_RANK = ['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete', 'canceled', 'incomplete_expired'];

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Primary first: created first in Stripe (unknown creation last), then the smaller id. */
export function byPrimary(a: CustomerStatus, b: CustomerStatus): number {
  const x = a.customerSince ?? Number.POSITIVE_INFINITY;
  const y = b.customerSince ?? Number.POSITIVE_INFINITY;
  return x !== y ? (x < y ? -1 : 1) : compareIds(a.customerId, b.customerId);
}

function subscriptionRank(s: SubscriptionSummary): number {
  const i = SUBSCRIPTION_RANK.indexOf(s.status);
  return i < 0 ? SUBSCRIPTION_RANK.length : i;
}

/** The better of two subscriptions (`a` wins ties: callers go in primary order). */
function better(a: SubscriptionSummary, b: SubscriptionSummary): SubscriptionSummary {
  const ra = subscriptionRank(a);
  const rb = subscriptionRank(b);
  if (ra !== rb) return ra < rb ? a : b;
  return (b.currentPeriodEnd ?? -Infinity) > (a.currentPeriodEnd ?? -Infinity) ? b : a;
}

const sum = (items: readonly CustomerStatus[], amount: (s: CustomerStatus) => number): number =>
  items.reduce((total, s) => total + amount(s), 0);

/** The facts a contact carries for the customers linked to it (at least one). A single customer is itself. */
export function rollUp(statuses: readonly CustomerStatus[]): ContactFacts {
  if (statuses.length === 0) throw new Error('rollUp: no customer');
  const ordered = [...statuses].sort(byPrimary);
  const primary = ordered[0]!;
  const currency = ordered.find((s) => s.currency)?.currency ?? null;
  const counted = ordered.filter((s) => s.currency === null || s.currency === currency);

  let subscription: SubscriptionSummary | null = null;
  for (const s of counted) if (s.subscription) subscription = subscription ? better(subscription, s.subscription) : s.subscription;
  if (subscription) subscription = { ...subscription, mrr: sum(counted, (s) => s.subscription?.mrr ?? 0) };

  let payer: CustomerStatus | null = null;
  for (const s of counted) if (s.lastPayment && (!payer || s.lastPayment.at > payer.lastPayment!.at)) payer = s;
  const upcoming = counted.filter((s) => s.nextInvoiceAmount !== null);
  const since = ordered.map((s) => s.customerSince).filter((t): t is number => t !== null);

  return {
    ...primary,
    currency,
    customerSince: since.length > 0 ? Math.min(...since) : null,
    subscription,
    lastPayment: payer?.lastPayment ?? null,
    lastFailureReason: payer ? payer.lastFailureReason : (counted.find((s) => s.lastFailureReason)?.lastFailureReason ?? null),
    failedPaymentCount: sum(counted, (s) => s.failedPaymentCount),
    openInvoiceCount: sum(counted, (s) => s.openInvoiceCount),
    openAmountDue: sum(counted, (s) => s.openAmountDue),
    lifetimeValue: sum(counted, (s) => s.lifetimeValue),
    totalRefunded: sum(counted, (s) => s.totalRefunded),
    disputedAmount: sum(counted, (s) => s.disputedAmount),
    // Not money: every customer's purchases and refunds count, whatever its currency.
    productsBought: mergeProducts(ordered.map((s) => s.productsBought)),
    refundIssuedAt: latestTime(ordered.map((s) => s.refundIssuedAt)),
    lastMrrChange: latestMrrChange(counted),
    nextInvoiceAmount: upcoming.length > 0 ? sum(upcoming, (s) => s.nextInvoiceAmount ?? 0) : null,
    delinquent: counted.some((s) => s.delinquent),
    deleted: ordered.every((s) => s.deleted),
    customerIds: ordered.map((s) => s.customerId),
  };
}
