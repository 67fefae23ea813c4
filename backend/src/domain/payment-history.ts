import type { PaymentStatusValue } from '@stripe-hubspot-sync/contracts';
import type { ChargeData, InvoiceData, PaymentIntentData, RecordOf } from './records';

/**
 * A customer's payment attempts, from its charge and invoice records, without counting one payment twice.
 *
 * A charge and an invoice are the same payment when the payloads say so (charge.invoice, invoice.charge, the
 * same payment intent, or the invoice's `payments` list) — API versions before 2025-03-31.basil name these
 * links. Newer versions name none of them, so when neither side names any link we match by facts: same
 * currency, same amount (the paid amount for a successful charge, the amount due for a failed one), the charge
 * not before the invoice was created, and a paid invoice's charge at most a day before or after `paid_at`. Each
 * invoice absorbs at most as many charges as it has attempts of that outcome; charges are matched oldest first.
 *
 * A failed PaymentIntent (payment_intent.payment_failed) and its charge are one failure. The intent names the
 * charge its failure belongs to (`last_payment_error.charge`, else `latest_charge`): when we have that charge, the
 * charge counts and the intent adds nothing; when we do not (charge.failed turned off, or not arrived yet), the
 * intent stands in for it under the charge's id, so the charge arriving later replaces it instead of adding to it.
 * An intent whose failure made no charge (a failed card authentication) stands in for a failed charge of its own.
 * Either way the stand-in is then treated exactly like a failed charge: linked to its invoice when it paid one
 * (named, or by the facts above), so an invoice's failed attempt is never counted a second time.
 */

type Charge = RecordOf<'charge'>;
type Invoice = RecordOf<'invoice'>;
type PaymentIntent = RecordOf<'payment_intent'>;

export interface PaymentAttempt {
  amount: number;
  currency: string | null;
  at: number;
  status: PaymentStatusValue;
  /** Why it failed (failed attempts only); null when the payload does not say. */
  failureReason: string | null;
  /** A stable key for ties: the object id. */
  key: string;
}

export interface PaymentHistory {
  /** One entry per payment: its latest outcome (what "last payment" chooses from). */
  attempts: PaymentAttempt[];
  /**
   * Every failure we know of, including those of invoices paid later (placed just before the payment that
   * recovered them): what "last failure reason" chooses from.
   */
  failures: PaymentAttempt[];
  failedCount: number;
}

/** Failed payment attempts of one invoice (the successful one excluded). */
export function failedAttempts(inv: InvoiceData): number {
  const n = inv.attemptCount;
  switch (inv.status) {
    case 'draft':
      return 0;
    case 'paid':
      return inv.paidOutOfBand ? n : Math.max(0, n - 1);
    case 'void':
    case 'uncollectible':
      return n;
    case 'open':
      // An open invoice's latest attempt may still be processing (bank debits) unless we saw it fail.
      return inv.lastAttemptFailed ? n : Math.max(0, n - 1);
    default:
      return inv.lastAttemptFailed ? n : 0;
  }
}

const DAY = 86_400;

function explicitlyLinked(c: ChargeData, cId: string, inv: InvoiceData, invId: string): boolean {
  if (c.invoiceId === invId || inv.chargeId === cId) return true;
  return c.paymentIntentId !== null && c.paymentIntentId === inv.paymentIntentId;
}

function namesNoLink(c: ChargeData, inv: InvoiceData): boolean {
  return c.invoiceId === null && inv.chargeId === null && (c.paymentIntentId === null || inv.paymentIntentId === null);
}

function factsMatch(c: ChargeData, inv: InvoiceData): boolean {
  if (c.currency !== inv.currency || c.created === null) return false;
  if (inv.created !== null && c.created < inv.created) return false;
  if (c.status === 'succeeded') {
    if (inv.status !== 'paid' || inv.amountPaid !== c.amount) return false;
    return inv.paidAt === null || Math.abs(c.created - inv.paidAt) <= DAY;
  }
  return c.status === 'failed' && inv.amountDue === c.amount && failedAttempts(inv) > 0;
}

const byCreatedThenId = <T extends { objectId: string; data: { created: number | null } }>(a: T, b: T): number =>
  (a.data.created ?? 0) - (b.data.created ?? 0) || (a.objectId < b.objectId ? -1 : a.objectId > b.objectId ? 1 : 0);

/** charge id → the invoice it paid (or failed to pay). */
export function linkChargesToInvoices(charges: Charge[], invoices: Invoice[]): Map<string, Invoice> {
  const links = new Map<string, Invoice>();
  const used = new Map<string, number>();
  const capacity = (inv: Invoice, c: ChargeData): number =>
    c.status === 'succeeded' ? (inv.data.status === 'paid' && !inv.data.paidOutOfBand ? 1 : 0) : failedAttempts(inv.data);
  const take = (c: Charge, inv: Invoice): void => {
    links.set(c.objectId, inv);
    const k = `${c.data.status}:${inv.objectId}`;
    used.set(k, (used.get(k) ?? 0) + 1);
  };
  const sortedCharges = [...charges].sort(byCreatedThenId);
  const sortedInvoices = [...invoices].sort(byCreatedThenId);
  for (const c of sortedCharges) {
    const inv = sortedInvoices.find((i) => explicitlyLinked(c.data, c.objectId, i.data, i.objectId));
    if (inv) take(c, inv);
  }
  for (const c of sortedCharges) {
    if (links.has(c.objectId) || (c.data.status !== 'succeeded' && c.data.status !== 'failed')) continue;
    const inv = sortedInvoices.find(
      (i) =>
        namesNoLink(c.data, i.data) &&
        factsMatch(c.data, i.data) &&
        (used.get(`${c.data.status}:${i.objectId}`) ?? 0) < capacity(i, c.data),
    );
    if (inv) take(c, inv);
  }
  return links;
}

function chargeStatus(c: ChargeData): PaymentStatusValue | null {
  if (c.status === 'failed') return 'failed';
  if (c.status !== 'succeeded') return null;
  const fully = c.refunded || (c.amount > 0 && c.amountRefunded >= c.amount);
  return fully ? 'refunded' : 'succeeded';
}

function invoiceFailureReason(inv: Invoice, linked: Charge[], attempt: number): string {
  const fromCharge = linked
    .filter((c) => c.data.status === 'failed' && c.data.failureMessage)
    .sort(byCreatedThenId)
    .pop()?.data.failureMessage;
  if (fromCharge) return fromCharge;
  if (inv.data.failureReason) return inv.data.failureReason;
  const which = inv.data.number ?? inv.objectId;
  return `Payment of invoice ${which} failed${attempt > 0 ? ` (attempt ${attempt})` : ''}`;
}

function standIn(pi: PaymentIntent, data: PaymentIntentData): Charge {
  return {
    kind: 'charge',
    objectId: data.chargeId ?? pi.objectId,
    customerId: pi.customerId,
    version: pi.version,
    data: {
      status: 'failed',
      amount: data.amount,
      currency: data.currency,
      amountCaptured: 0,
      amountRefunded: 0,
      refunded: false,
      created: data.failedAt,
      failureMessage: data.failureMessage,
      invoiceId: data.invoiceId,
      paymentIntentId: pi.objectId,
      email: null,
      disputed: false,
    },
  };
}

/**
 * Failed payment intents whose failure no known charge carries, as the failed charges they stand for (see the
 * header); one per charge id, the latest failure reported winning.
 */
export function paymentIntentStandIns(intents: readonly PaymentIntent[], charges: readonly Charge[]): Charge[] {
  const known = new Set(charges.map((c) => c.objectId));
  const byId = new Map<string, { charge: Charge; at: number }>();
  for (const pi of intents) {
    const c = standIn(pi, pi.data);
    if (known.has(c.objectId)) continue;
    const other = byId.get(c.objectId);
    if (!other || pi.data.failedAt > other.at || (pi.data.failedAt === other.at && pi.objectId > (other.charge.data.paymentIntentId ?? ''))) {
      byId.set(c.objectId, { charge: c, at: pi.data.failedAt });
    }
  }
  return [...byId.values()].map((v) => v.charge);
}

/**
 * Every payment attempt we know of (one per payment), and the number of failed attempts. `intents` are failed
 * payment intents: each counts only where no charge carries its failure.
 */
export function paymentHistory(knownCharges: Charge[], invoices: Invoice[], intents: readonly PaymentIntent[] = []): PaymentHistory {
  const charges = [...knownCharges, ...paymentIntentStandIns(intents, knownCharges)];
  const links = linkChargesToInvoices(charges, invoices);
  const chargesOf = new Map<string, Charge[]>();
  for (const c of charges) {
    const inv = links.get(c.objectId);
    if (inv) chargesOf.set(inv.objectId, [...(chargesOf.get(inv.objectId) ?? []), c]);
  }
  const attempts: PaymentAttempt[] = [];
  const failures: PaymentAttempt[] = [];
  let failedCount = 0;
  for (const c of charges) {
    const status = chargeStatus(c.data);
    if (!status) continue;
    const linked = links.has(c.objectId);
    // A failed charge of an invoice is one of the invoice's failed attempts: the invoice reports it.
    if (status === 'failed' && linked) continue;
    if (status === 'failed') failedCount += 1;
    attempts.push({
      amount: c.data.amount,
      currency: c.data.currency,
      at: c.data.created ?? c.version.created,
      status,
      failureReason: status === 'failed' ? (c.data.failureMessage ?? 'Payment failed') : null,
      key: c.objectId,
    });
  }
  for (const inv of invoices) {
    const linked = chargesOf.get(inv.objectId) ?? [];
    failedCount += failedAttempts(inv.data);
    if (inv.data.status === 'paid') {
      const paidAt = inv.data.paidAt ?? inv.version.created;
      if (failedAttempts(inv.data) > 0) {
        failures.push({
          amount: inv.data.amountDue,
          currency: inv.data.currency,
          at: Math.max(0, paidAt - 1),
          status: 'failed',
          failureReason: invoiceFailureReason(inv, linked, failedAttempts(inv.data)),
          key: inv.objectId,
        });
      }
      if (inv.data.amountPaid === 0 || linked.some((c) => c.data.status === 'succeeded')) continue;
      attempts.push({
        amount: inv.data.amountPaid,
        currency: inv.data.currency,
        at: paidAt,
        status: 'succeeded',
        failureReason: null,
        key: inv.objectId,
      });
    } else if (failedAttempts(inv.data) > 0 || inv.data.lastAttemptFailed) {
      attempts.push({
        amount: inv.data.amountDue,
        currency: inv.data.currency,
        at: inv.version.created,
        status: 'failed',
        failureReason: invoiceFailureReason(inv, linked, inv.data.attemptCount),
        key: inv.objectId,
      });
    }
  }
  failures.push(...attempts.filter((a) => a.status === 'failed'));
  return { attempts, failures, failedCount };
}

/** The most recent attempt (ties: the later object id), or null. */
export function latest(attempts: PaymentAttempt[]): PaymentAttempt | null {
  let best: PaymentAttempt | null = null;
  for (const a of attempts) {
    if (!best || a.at > best.at || (a.at === best.at && a.key > best.key)) best = a;
  }
  return best;
}
