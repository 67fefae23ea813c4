import { formatMoney, type TicketPriority } from '@stripe-hubspot-sync/contracts';
import { failedAttempts, linkChargesToInvoices, paymentIntentStandIns } from '../payment-history';
import type { ObjectRecord, RecordOf } from '../records';

/**
 * Tickets on failed payments, from a customer's records (pure). One ticket per invoice whose payment failed:
 * open while the invoice is unpaid (open, or marked uncollectible), closed once it is paid or voided. A paid or
 * voided invoice that never had a ticket gets none (the writer only closes tickets it opened: a history imported
 * later, or a failure recovered before the pass that would have opened its ticket, leaves nothing to close).
 * Records only move forward (ordering.ts), so the state derived here never moves back whatever the delivery order.
 *
 * Subject: the invoice number and the amount due. Content: who, how much, why it failed (the newest failure
 * message of the invoice's failed charges or payment intents, else the invoice's own, else "Stripe gave no
 * reason"), how many attempts failed, and the invoice in the Stripe Dashboard.
 */

/** The unique ticket property a ticket is found by: the Stripe invoice id. */
export const TICKET_KEY_PROPERTY = 'stripe_invoice_id';

export type TicketState = 'open' | 'closed';

export interface InvoiceTicketFacts {
  invoiceId: string;
  state: TicketState;
  /** The subscription the invoice bills (its deal is associated), or null. */
  subscriptionId: string | null;
  number: string | null;
  amountDue: number;
  currency: string | null;
  failureReason: string | null;
  failedAttempts: number;
}

/** Every invoice of the customer whose payment failed, with the state its ticket should be in; by invoice id. */
export function failedInvoices(records: readonly ObjectRecord[]): InvoiceTicketFacts[] {
  const invoices = records.filter((r): r is RecordOf<'invoice'> => r.kind === 'invoice');
  const known = records.filter((r): r is RecordOf<'charge'> => r.kind === 'charge');
  const intents = records.filter((r): r is RecordOf<'payment_intent'> => r.kind === 'payment_intent');
  const charges = [...known, ...paymentIntentStandIns(intents, known)];
  const links = linkChargesToInvoices(charges, invoices);
  const out: InvoiceTicketFacts[] = [];
  for (const inv of invoices) {
    const failed = failedAttempts(inv.data);
    if (failed === 0 && !inv.data.lastAttemptFailed) continue;
    const state = ticketState(inv.data.status);
    if (!state) continue;
    const reasons = charges
      .filter((c) => links.get(c.objectId)?.objectId === inv.objectId && c.data.status === 'failed' && c.data.failureMessage)
      .sort((a, b) => (a.data.created ?? 0) - (b.data.created ?? 0) || (a.objectId < b.objectId ? -1 : 1));
    out.push({
      invoiceId: inv.objectId,
      state,
      subscriptionId: inv.data.subscriptionId,
      number: inv.data.number,
      amountDue: inv.data.amountDue,
      currency: inv.data.currency,
      failureReason: reasons.pop()?.data.failureMessage ?? inv.data.failureReason ?? null,
      failedAttempts: Math.max(failed, inv.data.lastAttemptFailed ? 1 : 0),
    });
  }
  return out.sort((a, b) => (a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0));
}

function ticketState(status: string | null): TicketState | null {
  switch (status) {
    case 'paid':
    case 'void':
      return 'closed';
    case 'open':
    case 'uncollectible':
    case null:
      return 'open';
    default:
      return null; // draft: nothing was attempted
  }
}

export interface TicketContext {
  account: string;
  livemode: boolean;
  /** Who the customer is, for people reading the ticket (name, else email, else the customer id). */
  customerLabel: string;
  pipelineId: string;
  stageId: string;
  priority: TicketPriority;
}

/** The ticket's HubSpot properties (`stripe_invoice_id`, pipeline and stage included). */
export function ticketProperties(f: InvoiceTicketFacts, ctx: TicketContext): Record<string, string> {
  const which = f.number ?? f.invoiceId;
  const amount = f.currency ? formatMoney(f.amountDue, f.currency) : String(f.amountDue);
  const attempts = f.failedAttempts === 1 ? '1 failed attempt' : `${f.failedAttempts} failed attempts`;
  return {
    subject: `Payment failed: invoice ${which} (${amount})`,
    content: [
      `Stripe could not collect invoice ${which} from ${ctx.customerLabel}: ${amount} due.`,
      `Reason: ${f.failureReason ?? 'Stripe gave no reason'}.`.replace(/\.\.$/, '.'),
      `${attempts} so far.`,
      `Invoice in Stripe: ${invoiceDashboardUrl(ctx.account, ctx.livemode, f.invoiceId)}`,
    ].join('\n'),
    hs_pipeline: ctx.pipelineId,
    hs_pipeline_stage: ctx.stageId,
    hs_ticket_priority: ctx.priority,
    [TICKET_KEY_PROPERTY]: f.invoiceId,
  };
}

/**
 * What a ticket HubSpot holds is kept in step with; its pipeline and priority are set once, when it is created
 * (an agent may move or reprioritise it, and a pipeline chosen later applies to new tickets).
 */
export const UPDATED_TICKET_PROPERTIES = ['subject', 'content', 'hs_pipeline_stage'] as const;

/** What to send to a ticket HubSpot already holds: what changed since it last got it from us (empty: nothing). */
export function ticketUpdate(desired: Record<string, string>, written: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of UPDATED_TICKET_PROPERTIES) {
    if (desired[k] !== undefined && written[k] !== desired[k]) out[k] = desired[k];
  }
  return out;
}

export function invoiceDashboardUrl(account: string, livemode: boolean, invoiceId: string): string {
  return `https://dashboard.stripe.com/${account ? `${account}/` : ''}${livemode ? '' : 'test/'}invoices/${invoiceId}`;
}

/** The customer as named on its tickets. */
export function customerLabel(status: { name: string | null; email: string | null; customerId: string }): string {
  return status.name ?? status.email ?? status.customerId;
}
