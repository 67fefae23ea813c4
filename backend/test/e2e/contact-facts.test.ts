import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * Issue 13, parts 5 and 6, end to end: signed webhooks of the added event types in, the fake HubSpot's contacts
 * and property definitions out — a failed one-off charge (and its payment intent, counted once), a failed
 * authentication, a trial, a pause, a voided invoice, products bought as a multi-select whose options follow the
 * products, and the refund issued date.
 */

const T0 = 1_750_000_000; // 2025-06-15
const day = 86_400;
const cus = 'cus_facts';

const midnight = (t: number) => String(Math.floor(t / day) * day * 1000);

function price(product: string) {
  return stripeObject('price', {
    id: `price_${product}`,
    product,
    nickname: 'Pro',
    unit_amount: 2000,
    currency: 'usd',
    transform_quantity: null,
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
}

function subscription(status: string, extra: Record<string, unknown> = {}) {
  const base = stripeObject('subscription', { id: 'sub_facts', customer: cus, status, pause_collection: null, cancel_at_period_end: false, currency: 'usd', created: T0 + 100 });
  const item = { ...(base.items as { data: Record<string, unknown>[] }).data[0], price: price('prod_pro'), quantity: 1, current_period_end: T0 + 30 * day };
  return { ...base, items: { object: 'list', data: [item], has_more: false }, ...extra };
}

function invoice(id: string, extra: Record<string, unknown>) {
  return stripeObject('invoice', {
    id,
    customer: cus,
    currency: 'usd',
    parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_facts', metadata: {} } },
    charge: null,
    payment_intent: null,
    lines: { object: 'list', data: [] },
    ...extra,
  });
}

function charge(id: string, extra: Record<string, unknown>) {
  return stripeObject('charge', { id, customer: cus, currency: 'usd', invoice: null, payment_intent: null, refunds: null, ...extra });
}

function checkout(id: string, customer: string, product: string, name: string, created: number) {
  const item = stripeObject('item', { description: name, price: price(product) });
  return stripeObject('checkout.session', {
    id, customer, mode: 'payment', payment_status: 'paid', status: 'complete', created, line_items: { object: 'list', data: [item], has_more: false },
  });
}

describe.each(dbKinds())('contact facts of the added events on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes failed payments, trial, pause, open amount, products bought and refund issued as they happen', async () => {
    const customer = stripeObject('customer', { id: cus, email: 'facts@example.com', name: 'Facts Buyer', created: T0, currency: 'usd', delinquent: false });
    const declined = charge('ch_declined', {
      status: 'failed', amount: 1500, amount_captured: 0, amount_refunded: 0, captured: false, paid: false, payment_intent: 'pi_declined',
      failure_code: 'card_declined', failure_message: 'Your card was declined.', created: T0 + 10,
    });
    const intent = (id: string, error: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      stripeObject('payment_intent', { id, customer: cus, amount: 1500, currency: 'usd', status: 'requires_payment_method', latest_charge: null, last_payment_error: error, ...extra });

    // A one-off card payment is declined: Stripe sends both charge.failed and payment_intent.payment_failed.
    await h.send(
      stripeEvent('customer.created', customer, { created: T0 }),
      stripeEvent('payment_intent.payment_failed', intent('pi_declined', { type: 'card_error', code: 'card_declined', message: 'Your card was declined.', charge: 'ch_declined' }, { latest_charge: 'ch_declined' }), { created: T0 + 10 }),
      stripeEvent('charge.failed', declined, { created: T0 + 10 }),
    );
    await h.idle();
    let p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({
      email: 'facts@example.com',
      stripe_failed_payment_count: '1',
      stripe_last_failure_reason: 'Your card was declined.',
      stripe_last_payment_status: 'failed',
      stripe_last_payment_amount: '15.00',
    });
    expect(p.stripe_products_bought ?? '').toBe('');

    // A second attempt fails authentication: no charge, only the payment intent says so.
    await h.send(
      stripeEvent('payment_intent.payment_failed', intent('pi_auth', { type: 'invalid_request_error', code: 'payment_intent_authentication_failure', message: 'The provided payment method has failed authentication.' }), { created: T0 + 20 }),
    );
    await h.idle();
    p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({ stripe_failed_payment_count: '2', stripe_last_failure_reason: 'The provided payment method has failed authentication.' });

    // A trial starts; it ends without a payment method and the subscription is paused.
    const trialEnd = T0 + 14 * day;
    await h.send(stripeEvent('customer.subscription.trial_will_end', subscription('trialing', { trial_end: trialEnd }), { created: T0 + 11 * day }));
    await h.idle();
    p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({ stripe_subscription_status: 'trialing', stripe_trial_end_date: midnight(trialEnd), stripe_mrr: '0.00' });
    expect(p.stripe_products_bought ?? '').toBe(''); // a trial bought nothing
    await h.send(stripeEvent('customer.subscription.paused', subscription('paused', { trial_end: trialEnd }), { created: trialEnd }));
    await h.idle();
    p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({ stripe_subscription_status: 'paused', stripe_mrr: '0.00' });
    expect(p.stripe_trial_end_date ?? '').toBe('');

    // An invoice is finalized, then voided: it leaves the open amount.
    const open = { status: 'open', amount_due: 3000, amount_paid: 0, amount_remaining: 3000, attempt_count: 0, created: trialEnd + 10 };
    await h.send(stripeEvent('invoice.finalized', invoice('in_void', open), { created: trialEnd + 10 }));
    await h.idle();
    expect(h.contactOf(cus)!.properties.stripe_open_amount_due).toBe('30.00');
    await h.send(stripeEvent('invoice.voided', invoice('in_void', { ...open, status: 'void' }), { created: trialEnd + 20 }));
    await h.idle();
    expect(h.contactOf(cus)!.properties.stripe_open_amount_due).toBe('0.00');

    // Resumed and paid; a T-shirt bought through Checkout; part of the payment refunded.
    const paidAt = trialEnd + 2 * day;
    const lines = { object: 'list', data: [{ id: 'il_1', object: 'line_item', amount: 2000, currency: 'usd', pricing: { type: 'price_details', price_details: { price: 'price_prod_pro', product: 'prod_pro' } } }] };
    const paid = invoice('in_paid', { status: 'paid', amount_due: 2000, amount_paid: 2000, amount_remaining: 0, attempt_count: 1, created: paidAt, status_transitions: { paid_at: paidAt, finalized_at: paidAt, marked_uncollectible_at: null, voided_at: null }, lines });
    const paidCharge = charge('ch_paid', { status: 'succeeded', paid: true, captured: true, amount: 2000, amount_captured: 2000, amount_refunded: 0, created: paidAt });
    await h.send(
      stripeEvent('customer.subscription.resumed', subscription('active'), { created: paidAt }),
      stripeEvent('invoice.paid', paid, { created: paidAt }),
      stripeEvent('charge.succeeded', paidCharge, { created: paidAt }),
      stripeEvent('checkout.session.completed', checkout('cs_shirt', cus, 'prod_shirt', 'T-shirt', paidAt + 60), { created: paidAt + 60 }),
      stripeEvent('charge.refunded', { ...paidCharge, amount_refunded: 500 }, { created: paidAt + 3 * day }),
    );
    await h.idle();
    p = h.contactOf(cus)!.properties;
    expect(p).toMatchObject({
      stripe_subscription_status: 'active',
      stripe_mrr: '20.00',
      stripe_products_bought: 'prod_pro;prod_shirt',
      stripe_refund_issued_date: midnight(paidAt + 3 * day),
      stripe_total_refunded: '5.00',
      stripe_failed_payment_count: '2',
    });
    const options = () => {
      const def = h.hubspot.portal(h.portalId).properties.get('stripe_products_bought') as { type: string; fieldType: string; options: { value: string; label: string }[] };
      expect(def).toMatchObject({ type: 'enumeration', fieldType: 'checkbox' });
      return def.options.map((o) => [o.value, o.label]);
    };
    expect(options()).toEqual(expect.arrayContaining([['prod_pro', 'prod_pro'], ['prod_shirt', 'T-shirt']]));

    // Another customer buys a new product: the property gains its option and keeps the others.
    const other = stripeObject('customer', { id: 'cus_facts_2', email: 'mug@example.com', name: 'Mug Buyer', created: T0, currency: 'usd', delinquent: false });
    await h.send(
      stripeEvent('customer.created', other, { created: paidAt + 4 * day }),
      stripeEvent('checkout.session.completed', checkout('cs_mug', 'cus_facts_2', 'prod_mug', 'Mug', paidAt + 4 * day), { created: paidAt + 4 * day }),
    );
    await h.idle();
    expect(h.contactOf('cus_facts_2')!.properties.stripe_products_bought).toBe('prod_mug');
    expect(options()).toEqual(expect.arrayContaining([['prod_pro', 'prod_pro'], ['prod_shirt', 'T-shirt'], ['prod_mug', 'Mug']]));

    const { rows } = await h.server.db.query<{ id: string; type: string; status: string; status_reason: string | null }>(
      // Every event synced; one batch may hold a charge.succeeded its charge.refunded supersedes.
      `SELECT id, type, status, status_reason FROM stripe_events
        WHERE status <> 'synced' AND NOT (status = 'skipped' AND status_reason LIKE 'Superseded%')`,
    );
    expect(rows).toEqual([]);
    const dead = await h.server.db.query('SELECT message FROM dead_letters');
    expect(dead.rows).toEqual([]);
  });
});
