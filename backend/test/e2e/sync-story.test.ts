import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/** Every default event type of a customer's life, signed and delivered; HubSpot must end up with every field right. */

const T0 = 1_750_000_000; // 2025-06-15
const day = 86_400;
const cus = 'cus_story';

function price(amount: number, interval: 'month' | 'year' = 'month') {
  return stripeObject('price', {
    id: 'price_pro',
    nickname: 'Pro',
    unit_amount: amount,
    currency: 'usd',
    transform_quantity: null,
    recurring: { interval, interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
}

function subscription(status: string, extra: Record<string, unknown> = {}) {
  const base = stripeObject('subscription', { id: 'sub_story', customer: cus, status, cancel_at_period_end: false, currency: 'usd', created: T0 + 10 });
  const item = { ...(base.items as { data: Record<string, unknown>[] }).data[0], price: price(2000), quantity: 2, current_period_end: T0 + 30 * day };
  return { ...base, items: { object: 'list', data: [item], has_more: false }, ...extra };
}

function invoice(id: string, extra: Record<string, unknown>) {
  return stripeObject('invoice', {
    id,
    customer: cus,
    currency: 'usd',
    parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_story', metadata: {} } },
    ...extra,
  });
}

function charge(id: string, extra: Record<string, unknown>) {
  return stripeObject('charge', { id, customer: cus, currency: 'usd', status: 'succeeded', paid: true, captured: true, ...extra });
}

describe.each(dbKinds())('a customer story on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes every default field as the story unfolds', async () => {
    const customer = stripeObject('customer', { id: cus, email: 'story@example.com', name: 'Story Buyer', created: T0, currency: 'usd', delinquent: false });
    await h.send(
      stripeEvent('customer.created', customer, { created: T0 }),
      stripeEvent('checkout.session.completed', stripeObject('checkout.session', { id: 'cs_story', customer: cus, mode: 'subscription', payment_status: 'paid', customer_details: { email: 'story@example.com' } }), { created: T0 + 5 }),
      stripeEvent('customer.subscription.created', subscription('active'), { created: T0 + 10 }),
      stripeEvent('invoice.paid', invoice('in_story1', { status: 'paid', amount_due: 4000, amount_paid: 4000, amount_remaining: 0, attempt_count: 1, status_transitions: { paid_at: T0 + 11, finalized_at: T0 + 10, marked_uncollectible_at: null, voided_at: null }, created: T0 + 10 }), { created: T0 + 11 }),
      stripeEvent('charge.succeeded', charge('ch_story1', { amount: 4000, amount_captured: 4000, amount_refunded: 0, created: T0 + 11 }), { created: T0 + 11 }),
    );
    await h.idle();
    let p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({
      email: 'story@example.com',
      stripe_customer_id: cus,
      stripe_customer_since: String(Date.UTC(2025, 5, 15)),
      stripe_subscription_status: 'active',
      stripe_plan: 'Pro',
      stripe_mrr: '40.00',
      stripe_currency: 'USD',
      stripe_next_renewal_date: String(Date.UTC(2025, 6, 15)),
      stripe_cancel_at_period_end: 'false',
      stripe_last_payment_amount: '40.00',
      stripe_last_payment_date: String((T0 + 11) * 1000),
      stripe_last_payment_status: 'succeeded',
      stripe_failed_payment_count: '0',
      stripe_open_amount_due: '0.00',
      stripe_lifetime_value: '40.00',
      stripe_total_refunded: '0.00',
      stripe_delinquent: 'false',
      stripe_dashboard_url: `https://dashboard.stripe.com/test/customers/${cus}`,
      lifecyclestage: 'customer',
    });

    // Renewal fails, the subscription goes past due, a refund and a dispute come in, the email changes.
    await h.send(
      stripeEvent('invoice.upcoming', { ...invoice('in_upcoming', { amount_due: 4000, amount_remaining: 4000, status: 'draft', next_payment_attempt: T0 + 30 * day }), id: undefined }, { created: T0 + 27 * day }),
      stripeEvent('invoice.payment_failed', invoice('in_story2', { status: 'open', amount_due: 4000, amount_paid: 0, amount_remaining: 4000, attempt_count: 1, created: T0 + 30 * day }), { created: T0 + 30 * day }),
      stripeEvent('customer.subscription.updated', subscription('past_due'), { created: T0 + 30 * day + 1, previousAttributes: { status: 'active' } }),
      stripeEvent('charge.refunded', charge('ch_story1', { amount: 4000, amount_captured: 4000, amount_refunded: 1000, refunded: false, created: T0 + 11 }), { created: T0 + 31 * day }),
      stripeEvent('charge.dispute.created', stripeObject('dispute', { id: 'dp_story', charge: 'ch_story1', amount: 500, currency: 'usd', status: 'needs_response' }), { created: T0 + 32 * day }),
      stripeEvent('customer.updated', { ...customer, email: 'new-story@example.com', delinquent: true }, { created: T0 + 33 * day, previousAttributes: { email: 'story@example.com', delinquent: false } }),
    );
    await h.idle();
    expect(h.contacts().filter((c) => c.properties.stripe_customer_id === cus)).toHaveLength(1);
    p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({
      email: 'new-story@example.com',
      stripe_subscription_status: 'past_due',
      stripe_last_payment_status: 'failed',
      stripe_failed_payment_count: '1',
      stripe_open_amount_due: '40.00',
      stripe_lifetime_value: '30.00',
      stripe_total_refunded: '10.00',
      stripe_disputed_amount: '5.00',
      stripe_delinquent: 'true',
    });
    expect(p.stripe_last_failure_reason).toBeTruthy();
    expect(h.contacts().some((c) => c.properties.email === 'story@example.com')).toBe(false);

    // The subscription is canceled, then the customer deleted.
    await h.send(
      stripeEvent('customer.subscription.deleted', subscription('canceled', { canceled_at: T0 + 40 * day, ended_at: T0 + 40 * day }), { created: T0 + 40 * day }),
    );
    await h.idle();
    p = h.contactOf(cus)!.properties;
    expect(p.stripe_subscription_status).toBe('canceled');
    expect(p.stripe_mrr).toBe('0.00');
    await h.send(stripeEvent('customer.deleted', { id: cus, object: 'customer', deleted: true }, { created: T0 + 41 * day }));
    await h.idle();
    const { rows } = await h.server.db.query<{ status: string }>(`SELECT status FROM stripe_events WHERE status NOT IN ('synced')`);
    expect(rows).toEqual([]);
  });
});
