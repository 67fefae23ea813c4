import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { ObjectRecord } from '../records';
import { customerLabel, failedInvoices, invoiceDashboardUrl, ticketProperties, ticketUpdate, UPDATED_TICKET_PROPERTIES, type InvoiceTicketFacts } from './tickets';

/** Tickets on failed payments from a customer's records: Stripe fixture events through the real mappers. */

type Json = Record<string, unknown>;
const CUS = 'cus_T';
let seq = 0;

function records(...events: [string, string, Json][]): ObjectRecord[] {
  return events.flatMap(([type, resource, overrides]) => {
    seq += 1;
    const m = mapEvent(stripeEvent(type, stripeObject(resource, { customer: CUS, ...overrides }), { id: `evt_t${seq}`, created: 1_000 + seq }));
    if ('skip' in m) throw new Error(m.skip);
    return m.records.map((r) => ({ ...r, customerId: r.customerId ?? CUS }) as ObjectRecord);
  });
}

const invoice = (id: string, status: string, extra: Json = {}): Json => ({
  id, status, number: `INV-${id}`, currency: 'usd', amount_due: 2500, amount_paid: 0, amount_remaining: 2500, attempt_count: 1, created: 500,
  charge: null, payment_intent: null, paid_out_of_band: false, parent: null, subscription: null,
  lines: { object: 'list', data: [], has_more: false }, ...extra,
});
const failedCharge = (id: string, invoiceId: string | null, message: string, created: number): Json => ({
  id, status: 'failed', amount: 2500, amount_captured: 0, amount_refunded: 0, captured: false, paid: false, currency: 'usd',
  invoice: invoiceId, payment_intent: null, failure_message: message, created,
});

describe('failedInvoices', () => {
  it('an unpaid invoice whose payment failed: an open ticket, with the newest failure message of its charges', () => {
    const facts = failedInvoices(
      records(
        ['invoice.payment_failed', 'invoice', invoice('in_1', 'open', { attempt_count: 2 })],
        ['charge.failed', 'charge', failedCharge('ch_a', 'in_1', 'Insufficient funds.', 600)],
        ['charge.failed', 'charge', failedCharge('ch_b', 'in_1', 'Your card was declined.', 700)],
      ),
    );
    expect(facts).toEqual<InvoiceTicketFacts[]>([
      {
        invoiceId: 'in_1',
        state: 'open',
        subscriptionId: null,
        number: 'INV-in_1',
        amountDue: 2500,
        currency: 'usd',
        failureReason: 'Your card was declined.',
        failedAttempts: 2,
      },
    ]);
  });

  it('paid or voided after failing: closed; uncollectible: still open; the reason falls back to the invoice’s own', () => {
    const facts = failedInvoices(
      records(
        ['invoice.paid', 'invoice', invoice('in_paid', 'paid', { attempt_count: 3, amount_paid: 2500, amount_remaining: 0, status_transitions: { paid_at: 900 } })],
        ['invoice.voided', 'invoice', invoice('in_void', 'void', { attempt_count: 1 })],
        ['invoice.marked_uncollectible', 'invoice', invoice('in_unc', 'uncollectible', { attempt_count: 4 })],
        ['invoice.payment_failed', 'invoice', invoice('in_why', 'open', { charge: { id: 'ch_x', object: 'charge', failure_message: 'Expired card.' } })],
      ),
    );
    expect(facts.map((f) => [f.invoiceId, f.state, f.failedAttempts, f.failureReason])).toEqual([
      ['in_paid', 'closed', 2, null],
      ['in_unc', 'open', 4, null],
      ['in_void', 'closed', 1, null],
      ['in_why', 'open', 1, 'Expired card.'],
    ]);
  });

  it('no ticket for an invoice that never failed, a draft, or a one-off charge without an invoice', () => {
    const facts = failedInvoices(
      records(
        ['invoice.paid', 'invoice', invoice('in_ok', 'paid', { attempt_count: 1, amount_paid: 2500, amount_remaining: 0 })],
        ['invoice.finalized', 'invoice', invoice('in_new', 'open', { attempt_count: 0 })],
        ['invoice.finalized', 'invoice', invoice('in_draft', 'draft', { attempt_count: 0 })],
        ['charge.failed', 'charge', failedCharge('ch_solo', null, 'Declined', 800)],
      ),
    );
    expect(facts).toEqual([]);
  });

  it('names the subscription the invoice bills', () => {
    const [f] = failedInvoices(
      records(['invoice.payment_failed', 'invoice', invoice('in_sub', 'open', { parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_9', metadata: {} } } })]),
    );
    expect(f?.subscriptionId).toBe('sub_9');
  });
});

describe('ticketProperties', () => {
  const facts: InvoiceTicketFacts = {
    invoiceId: 'in_1', state: 'open', subscriptionId: null, number: 'A-0001', amountDue: 2500, currency: 'usd', failureReason: 'Your card was declined.', failedAttempts: 1,
  };
  const ctx = { account: '', livemode: false, customerLabel: 'Ada', pipelineId: '0', stageId: '1', priority: 'HIGH' as const };

  it('subject, content with amount, reason, attempts and the invoice in the Dashboard; pipeline, stage, priority, key', () => {
    expect(ticketProperties(facts, ctx)).toEqual({
      subject: 'Payment failed: invoice A-0001 ($25.00)',
      content: [
        'Stripe could not collect invoice A-0001 from Ada: $25.00 due.',
        'Reason: Your card was declined.',
        '1 failed attempt so far.',
        'Invoice in Stripe: https://dashboard.stripe.com/test/invoices/in_1',
      ].join('\n'),
      hs_pipeline: '0',
      hs_pipeline_stage: '1',
      hs_ticket_priority: 'HIGH',
      stripe_invoice_id: 'in_1',
    });
  });

  it('without a number or a reason; zero-decimal currencies; several attempts', () => {
    const p = ticketProperties({ ...facts, number: null, failureReason: null, currency: 'jpy', amountDue: 500, failedAttempts: 3 }, ctx);
    expect(p.subject).toBe('Payment failed: invoice in_1 (¥500)');
    expect(p.content).toContain('Reason: Stripe gave no reason.');
    expect(p.content).toContain('3 failed attempts so far.');
  });

  it('links to the invoice in the right account and mode', () => {
    expect(invoiceDashboardUrl('', true, 'in_1')).toBe('https://dashboard.stripe.com/invoices/in_1');
    expect(invoiceDashboardUrl('acct_9', false, 'in_1')).toBe('https://dashboard.stripe.com/acct_9/test/invoices/in_1');
  });

  it('names the customer by name, else email, else id', () => {
    expect(customerLabel({ name: 'Ada', email: 'a@x.io', customerId: 'cus_1' })).toBe('Ada');
    expect(customerLabel({ name: null, email: 'a@x.io', customerId: 'cus_1' })).toBe('a@x.io');
    expect(customerLabel({ name: null, email: null, customerId: 'cus_1' })).toBe('cus_1');
  });
});

describe('ticketUpdate', () => {
  const desired = { subject: 's', content: 'c2', hs_pipeline: '0', hs_pipeline_stage: '4', hs_ticket_priority: 'LOW', stripe_invoice_id: 'in_1' };

  it('sends what changed among subject, content and stage only (pipeline and priority are set once)', () => {
    const written = { subject: 's', content: 'c1', hs_pipeline: '0', hs_pipeline_stage: '1', hs_ticket_priority: 'HIGH', stripe_invoice_id: 'in_1' };
    expect(ticketUpdate(desired, written)).toEqual({ content: 'c2', hs_pipeline_stage: '4' });
    expect(UPDATED_TICKET_PROPERTIES).not.toContain('hs_ticket_priority');
  });

  it('nothing when HubSpot holds it all; everything tracked when what it holds is unknown', () => {
    expect(ticketUpdate(desired, desired)).toEqual({});
    expect(ticketUpdate(desired, {})).toEqual({ subject: 's', content: 'c2', hs_pipeline_stage: '4' });
  });
});
