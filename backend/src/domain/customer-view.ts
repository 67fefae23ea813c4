import type { CustomerStatus, PaymentSummary, SubscriptionSummary } from '@stripe-hubspot-sync/contracts';
import type { ObjectRecord, RecordKind, RecordOf } from './records';
import { foldRecords } from './ordering';
import { latest, paymentHistory } from './payment-history';
import { latestTime, productsBought } from './products-bought';

/**
 * A customer's payment status (the read model the HubSpot card and the Stripe App show, and the source of the
 * HubSpot properties), derived from the customer's records only. Pure and order-independent: the same set of
 * records, in any order, gives the same status.
 *
 * - Main subscription: one that is live (active, trialing, past_due, unpaid) before one that is not, then the
 *   most recently created. Its summary carries the customer's total MRR (CustomerStatus has no other MRR field):
 *   the sum over subscriptions that count (active, past_due; see mrr.ts) in the customer's currency.
 * - Currency: the customer's, else the main subscription's, else the most recent charge's, else the most recent
 *   invoice's. Sums (MRR, open amount, lifetime value, refunds, disputes) only add amounts in that currency.
 * - Last payment: the most recent of succeeded charges (status `refunded` once fully refunded), paid invoices
 *   not represented by a charge, failed invoice attempts and failed charges not tied to an invoice; a failed
 *   payment intent counts as the failed charge it stands for (payment-history.ts), never beside it.
 * - Last failure reason: of the most recent failure, including one an invoice later recovered from (the failed
 *   charge's message, else the invoice payload's, else "Payment of invoice … failed (attempt n)").
 * - Failed payment count: each invoice's failed attempts, plus failed charges not tied to an invoice.
 * - Open invoices: status `open`; the amount is the sum of `amount_remaining` (a voided or uncollectible invoice
 *   leaves it).
 * - Lifetime value: Σ (amount_captured − amount_refunded) of succeeded charges; total refunded: Σ amount_refunded.
 * - Disputed amount: disputes still open (warning_needs_response, warning_under_review, needs_response,
 *   under_review).
 * - Next invoice amount: the soonest upcoming invoice that is still current — not superseded by a real invoice
 *   created after the preview, and not of a subscription that has ended.
 * - Delinquent: the customer's flag, else whether the main subscription is past_due or unpaid.
 * - Trial end: the main subscription's `trial_end` while it is trialing.
 * - Refund issued: the latest refund time among the charges (any currency).
 * - Products bought: see products-bought.ts.
 */

export interface CustomerViewMeta {
  accountId: string | null;
  livemode: boolean;
  lastSyncedAt: string | null;
  updatedAt: string;
  /** The customer, when the records may not tell (e.g. no customer record yet). */
  customerId?: string;
}

const LIVE = new Set(['active', 'trialing', 'past_due', 'unpaid']);
const ENDED = new Set(['canceled', 'incomplete_expired']);
const OPEN_DISPUTE = new Set(['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review']);

type Sub = RecordOf<'subscription'>;

function ofKind<K extends RecordKind>(records: ObjectRecord[], kind: K): RecordOf<K>[] {
  return records.filter((r) => r.kind === kind) as unknown as RecordOf<K>[];
}

/** Later first: by `at`, then by object id (descending), so ties have one answer. */
function newestBy<T extends { objectId: string }>(items: T[], at: (t: T) => number): T | null {
  let best: T | null = null;
  for (const t of items) {
    if (!best || at(t) > at(best) || (at(t) === at(best) && t.objectId > best.objectId)) best = t;
  }
  return best;
}

/** The value `pick` gives on the most recently versioned record that has one. */
function newestValue(records: ObjectRecord[], pick: (r: ObjectRecord) => string | null): string | null {
  const best = newestBy(
    records.filter((r) => pick(r) !== null),
    (r) => r.version.created,
  );
  return best ? pick(best) : null;
}

function mainSubscription(subs: Sub[]): Sub | null {
  const live = subs.filter((s) => LIVE.has(s.data.status));
  return newestBy(live.length > 0 ? live : subs, (s) => s.data.created ?? s.version.created);
}

export function dashboardUrl(accountId: string | null, livemode: boolean, customerId: string): string {
  const account = accountId ? `${accountId}/` : '';
  return `https://dashboard.stripe.com/${account}${livemode ? '' : 'test/'}customers/${customerId}`;
}

function customerIdOf(records: ObjectRecord[], meta: CustomerViewMeta): string {
  const id =
    meta.customerId ??
    records.find((r) => r.kind === 'customer')?.objectId ??
    records.find((r) => r.customerId)?.customerId ??
    null;
  if (!id) throw new Error('deriveCustomerStatus: no customer id in the records or the meta');
  return id;
}

/** Derives the status of one customer from its records (any order; duplicates of a key fold to the newest). */
export function deriveCustomerStatus(input: ObjectRecord[], meta: CustomerViewMeta): CustomerStatus {
  const records = foldRecords(input);
  const customerId = customerIdOf(records, meta);
  const customer = ofKind(records, 'customer').find((c) => c.objectId === customerId) ?? null;
  const subs = ofKind(records, 'subscription');
  const invoices = ofKind(records, 'invoice');
  const charges = ofKind(records, 'charge');
  const main = mainSubscription(subs);

  const currency =
    customer?.data.currency ??
    main?.data.currency ??
    newestBy(charges.filter((c) => c.data.currency), (c) => c.data.created ?? c.version.created)?.data.currency ??
    newestBy(invoices.filter((i) => i.data.currency), (i) => i.data.created ?? i.version.created)?.data.currency ??
    null;
  const inCurrency = (c: string | null): boolean => currency === null || c === currency;
  const sum = <T>(items: T[], amount: (t: T) => number): number => items.reduce((s, t) => s + amount(t), 0);

  const mrr = sum(subs.filter((s) => inCurrency(s.data.currency)), (s) => s.data.mrr);
  const subscription: SubscriptionSummary | null = main && {
    id: main.objectId,
    status: main.data.status,
    plan: main.data.plan,
    mrr,
    currency: currency ?? main.data.currency ?? '',
    currentPeriodEnd: main.data.currentPeriodEnd,
    cancelAtPeriodEnd: main.data.cancelAtPeriodEnd,
    ...(main.data.status === 'trialing' ? { trialEnd: main.data.trialEnd } : {}),
  };

  const history = paymentHistory(charges, invoices, ofKind(records, 'payment_intent'));
  const last = latest(history.attempts);
  const lastPayment: PaymentSummary | null = last && {
    amount: last.amount,
    currency: last.currency ?? currency ?? '',
    at: last.at,
    status: last.status,
  };
  const lastFailure = latest(history.failures);

  const open = invoices.filter((i) => i.data.status === 'open');
  const succeeded = charges.filter((c) => c.data.status === 'succeeded' && inCurrency(c.data.currency));
  const disputes = ofKind(records, 'dispute').filter(
    (d) => d.data.status !== null && OPEN_DISPUTE.has(d.data.status) && inCurrency(d.data.currency),
  );

  const contacts: ObjectRecord[] = [...ofKind(records, 'checkout_session'), ...invoices, ...charges];
  const contactEmail = newestValue(contacts, (r) => ('email' in r.data ? r.data.email : null));
  const contactName = newestValue(contacts, (r) => ('name' in r.data ? r.data.name : null));

  return {
    accountId: meta.accountId ?? '',
    livemode: meta.livemode,
    customerId,
    email: customer?.data.email ?? contactEmail,
    name: customer?.data.name ?? contactName,
    currency,
    customerSince: customer?.data.created ?? null,
    subscription,
    lastPayment,
    lastFailureReason: lastFailure?.failureReason ?? null,
    failedPaymentCount: history.failedCount,
    openInvoiceCount: open.length,
    openAmountDue: sum(open.filter((i) => inCurrency(i.data.currency)), (i) => i.data.amountRemaining),
    lifetimeValue: sum(succeeded, (c) => c.data.amountCaptured - c.data.amountRefunded),
    totalRefunded: sum(charges.filter((c) => inCurrency(c.data.currency)), (c) => c.data.amountRefunded),
    disputedAmount: sum(disputes, (d) => d.data.amount),
    refundIssuedAt: latestTime(charges.filter((c) => c.data.amountRefunded > 0).map((c) => c.data.refundedAt)) ?? null,
    productsBought: productsBought(records),
    nextInvoiceAmount: nextInvoiceAmount(records, subs, currency),
    delinquent: customer?.data.delinquent ?? (main !== null && (main.data.status === 'past_due' || main.data.status === 'unpaid')),
    deleted: customer?.data.deleted ?? false,
    dashboardUrl: dashboardUrl(meta.accountId, meta.livemode, customerId),
    updatedAt: meta.updatedAt,
    lastSyncedAt: meta.lastSyncedAt,
  };
}

function nextInvoiceAmount(records: ObjectRecord[], subs: Sub[], currency: string | null): number | null {
  const invoices = ofKind(records, 'invoice');
  const current = ofKind(records, 'upcoming_invoice').filter((u) => {
    if (currency !== null && u.data.currency !== null && u.data.currency !== currency) return false;
    const sub = u.data.subscriptionId ? subs.find((s) => s.objectId === u.data.subscriptionId) : undefined;
    if (sub && ENDED.has(sub.data.status)) return false;
    // The real invoice, created after this preview was sent, supersedes it.
    return !invoices.some(
      (i) =>
        (u.data.subscriptionId === null || i.data.subscriptionId === u.data.subscriptionId) &&
        (i.data.created ?? i.version.created) >= u.version.created,
    );
  });
  let soonest: (typeof current)[number] | null = null;
  for (const u of current) {
    const at = u.data.nextPaymentAttempt ?? Number.MAX_SAFE_INTEGER;
    const best = soonest?.data.nextPaymentAttempt ?? Number.MAX_SAFE_INTEGER;
    if (!soonest || at < best || (at === best && u.objectId < soonest.objectId)) soonest = u;
  }
  return soonest ? soonest.data.amountDue : null;
}
