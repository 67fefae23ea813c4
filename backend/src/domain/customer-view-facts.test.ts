import fc from 'fast-check';
import { stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import { deriveCustomerStatus } from './customer-view';
import { mapEvent } from './events';
import type { ObjectRecord } from './records';

/**
 * The customer view of the event types added with issue 13 (failed charges and payment intents, paused and
 * trialing subscriptions, voided / uncollectible / finalized invoices) and of the facts products bought, refund
 * issued and trial end. Events are built from Stripe's fixture objects and mapped by the real mappers.
 */

type Json = Record<string, unknown>;
const CUS = 'cus_F';
const META = { accountId: null, livemode: false, lastSyncedAt: null, updatedAt: '2026-01-01T00:00:00.000Z' };
let seq = 0;

function ev(type: string, resource: string, overrides: Json, created: number): Json {
  seq += 1;
  return stripeEvent(type, stripeObject(resource, { customer: CUS, ...overrides }), { id: `evt_${String(seq).padStart(4, '0')}`, created });
}

function records(events: Json[]): ObjectRecord[] {
  return events.flatMap((e) => {
    const m = mapEvent(e);
    if ('skip' in m) throw new Error(m.skip);
    return m.records.map((r) => ({ ...r, customerId: r.customerId ?? CUS }) as ObjectRecord);
  });
}

const status = (events: Json[]) => deriveCustomerStatus(records(events), META);

/** Every order of `items` (there are few). */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
}

const failedCharge = (id: string, extra: Json): Json => ({
  id, status: 'failed', amount: 1500, amount_captured: 0, amount_refunded: 0, captured: false, paid: false, currency: 'usd', invoice: null, payment_intent: null, ...extra,
});
const failedIntent = (id: string, extra: Json): Json => ({
  id, status: 'requires_payment_method', amount: 1500, currency: 'usd', latest_charge: null, ...extra,
});
const price = (product: unknown, unit_amount = 2000): Json =>
  stripeObject('price', { product, unit_amount, transform_quantity: null, nickname: null, recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null } });
const sub = (id: string, st: string, extra: Json = {}): Json => ({
  id, status: st, currency: 'usd', pause_collection: null, created: 100, cancel_at_period_end: false, current_period_end: 1_800_000_000,
  items: { object: 'list', data: [{ id: `si_${id}`, object: 'subscription_item', quantity: 1, price: price(`prod_${id}`) }] },
  ...extra,
});
const invoice = (id: string, extra: Json): Json => ({
  id, currency: 'usd', parent: null, subscription: null, charge: null, payment_intent: null, lines: { object: 'list', data: [] }, ...extra,
});

describe('customer view: failed payments from charges and payment intents', () => {
  it('counts a failed one-off charge as a failed payment, with its reason', () => {
    const s = status([ev('charge.failed', 'charge', failedCharge('ch_1', { failure_message: 'Your card was declined.', created: 100 }), 100)]);
    expect(s).toMatchObject({
      failedPaymentCount: 1,
      lastFailureReason: 'Your card was declined.',
      lastPayment: { amount: 1500, currency: 'usd', at: 100, status: 'failed' },
    });
  });

  it('counts a card decline once, whichever of charge.failed and payment_intent.payment_failed arrives, in any order', () => {
    const charge = ev('charge.failed', 'charge', failedCharge('ch_1', { failure_message: 'Your card was declined.', payment_intent: 'pi_1', created: 100 }), 100);
    const intent = ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_1', {
      latest_charge: 'ch_1', last_payment_error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined (intent).', charge: 'ch_1' },
    }), 101);
    expect(status([intent])).toMatchObject({ failedPaymentCount: 1, lastFailureReason: 'Your card was declined (intent).' });
    expect(status([charge])).toMatchObject({ failedPaymentCount: 1, lastFailureReason: 'Your card was declined.' });
    for (const order of permutations([charge, intent])) {
      expect(status(order)).toMatchObject({ failedPaymentCount: 1, lastFailureReason: 'Your card was declined.' });
    }
  });

  it('counts an attempt that made no charge (failed authentication) besides an earlier declined charge', () => {
    const s = status([
      ev('charge.failed', 'charge', failedCharge('ch_1', { failure_message: 'Declined', payment_intent: 'pi_1', created: 100 }), 100),
      ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_1', {
        last_payment_error: { type: 'invalid_request_error', code: 'payment_intent_authentication_failure', message: 'Authentication failed.' },
      }), 200),
    ]);
    expect(s).toMatchObject({ failedPaymentCount: 2, lastFailureReason: 'Authentication failed.', lastPayment: { at: 200, status: 'failed' } });
  });

  it('never counts an invoice’s failed attempt again for its payment intent', () => {
    const inv = ev('invoice.payment_failed', 'invoice', invoice('in_1', { status: 'open', attempt_count: 1, amount_due: 1500, amount_remaining: 1500, created: 90, payment_intent: 'pi_1' }), 100);
    const intent = ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_1', {
      last_payment_error: { code: 'payment_intent_authentication_failure', message: 'Authentication failed.' },
    }), 100);
    for (const order of permutations([inv, intent])) {
      expect(status(order)).toMatchObject({ failedPaymentCount: 1, lastFailureReason: 'Authentication failed.', openAmountDue: 1500 });
    }
    // API versions that name no link on either side: matched by amount, currency and time like a charge.
    const unlinked = ev('invoice.payment_failed', 'invoice', invoice('in_2', { status: 'open', attempt_count: 1, amount_due: 1500, amount_remaining: 1500, created: 90 }), 100);
    const bare = ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_2', { last_payment_error: { message: 'Declined' } }), 100);
    expect(status([unlinked, bare]).failedPaymentCount).toBe(1);
  });
});

describe('customer view: invoices that close without payment', () => {
  const open = (id: string, at: number) =>
    ev('invoice.finalized', 'invoice', invoice(id, { status: 'open', amount_due: 3000, amount_remaining: 3000, attempt_count: 0, created: 50 }), at);

  it('counts a finalized invoice as open, and no longer once it is voided or marked uncollectible', () => {
    expect(status([open('in_1', 100), open('in_2', 100)])).toMatchObject({ openInvoiceCount: 2, openAmountDue: 6000, failedPaymentCount: 0 });
    const voided = ev('invoice.voided', 'invoice', invoice('in_1', { status: 'void', amount_due: 3000, amount_remaining: 3000, attempt_count: 0, created: 50 }), 200);
    const uncollectible = ev('invoice.marked_uncollectible', 'invoice', invoice('in_2', { status: 'uncollectible', amount_due: 3000, amount_remaining: 3000, attempt_count: 0, created: 50 }), 200);
    for (const order of permutations([open('in_1', 100), open('in_2', 100), voided, uncollectible])) {
      expect(status(order)).toMatchObject({ openInvoiceCount: 0, openAmountDue: 0 });
    }
    expect(status([open('in_1', 100), open('in_2', 100), voided])).toMatchObject({ openInvoiceCount: 1, openAmountDue: 3000 });
  });
});

describe('customer view: paused and trialing subscriptions', () => {
  it('shows a paused subscription as paused, without MRR, and active again once resumed', () => {
    const created = ev('customer.subscription.created', 'subscription', sub('sub_1', 'trialing', { trial_end: 500 }), 100);
    const paused = ev('customer.subscription.paused', 'subscription', sub('sub_1', 'paused', { trial_end: 500 }), 500);
    expect(status([created, paused]).subscription).toMatchObject({ id: 'sub_1', status: 'paused', mrr: 0 });
    const resumed = ev('customer.subscription.resumed', 'subscription', sub('sub_1', 'active'), 700);
    expect(status([resumed, paused, created]).subscription).toMatchObject({ status: 'active', mrr: 2000 });
  });

  it('keeps a paused payment collection at Stripe’s status (active)', () => {
    const s = status([ev('customer.subscription.updated', 'subscription', sub('sub_1', 'active', { pause_collection: { behavior: 'void', resumes_at: null } }), 100)]);
    expect(s.subscription).toMatchObject({ status: 'active', mrr: 2000 });
  });

  it('knows when the trial ends while trialing, and no longer once it converted', () => {
    const willEnd = ev('customer.subscription.trial_will_end', 'subscription', sub('sub_1', 'trialing', { trial_end: 1_760_000_000 }), 100);
    expect(status([willEnd]).subscription).toMatchObject({ status: 'trialing', trialEnd: 1_760_000_000 });
    const converted = ev('customer.subscription.updated', 'subscription', sub('sub_1', 'active', { trial_end: 1_760_000_000 }), 200);
    expect(status([willEnd, converted]).subscription).not.toHaveProperty('trialEnd');
  });
});

describe('customer view: refund issued and products bought', () => {
  it('dates the most recent refund among the charges, in any currency', () => {
    const charge = (id: string, cur: string, created: number): Json => ({
      id, status: 'succeeded', amount: 1000, amount_captured: 1000, amount_refunded: 400, currency: cur, refunds: null, invoice: null, payment_intent: null, created,
    });
    const s = status([
      ev('customer.created', 'customer', { id: CUS, currency: 'usd' }, 1),
      ev('charge.refunded', 'charge', charge('ch_1', 'usd', 10), 300),
      ev('charge.refunded', 'charge', charge('ch_2', 'eur', 20), 400),
      ev('charge.succeeded', 'charge', { ...charge('ch_3', 'usd', 30), amount_refunded: 0 }, 500),
    ]);
    expect(s.refundIssuedAt).toBe(400);
    expect(status([ev('charge.succeeded', 'charge', { ...charge('ch_3', 'usd', 30), amount_refunded: 0 }, 500)]).refundIssuedAt).toBeNull();
  });

  it('lists what was paid for: paying subscriptions, paid invoices, paid Checkout sessions — not trials or zero invoices', () => {
    const lines = (...products: string[]) => ({ object: 'list', data: products.map((p, i) => ({ id: `il_${i}`, pricing: { type: 'price_details', price_details: { product: p } } })) });
    const s = status([
      ev('customer.subscription.created', 'subscription', sub('active', 'active'), 10),
      ev('customer.subscription.created', 'subscription', sub('trial', 'trialing'), 11),
      ev('customer.subscription.deleted', 'subscription', sub('churned', 'canceled'), 12),
      ev('customer.subscription.deleted', 'subscription', sub('never', 'canceled'), 13),
      ev('invoice.paid', 'invoice', invoice('in_churned', { status: 'paid', amount_paid: 2000, parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_churned' } }, lines: lines('prod_churned') }), 14),
      ev('invoice.paid', 'invoice', invoice('in_trial', { status: 'paid', amount_paid: 0, lines: lines('prod_trial') }), 15),
      ev('invoice.paid', 'invoice', invoice('in_oneoff', { status: 'paid', amount_paid: 900, lines: lines('prod_setup') }), 16),
      ev('invoice.payment_failed', 'invoice', invoice('in_open', { status: 'open', amount_paid: 0, lines: lines('prod_unpaid') }), 17),
      ev('checkout.session.completed', 'checkout.session', {
        id: 'cs_1', payment_status: 'paid', line_items: { object: 'list', data: [stripeObject('item', { description: 'T-shirt', price: price('prod_shirt') })] },
      }, 18),
      ev('checkout.session.completed', 'checkout.session', {
        id: 'cs_2', payment_status: 'unpaid', line_items: { object: 'list', data: [stripeObject('item', { description: 'Mug', price: price('prod_mug') })] },
      }, 19),
    ]);
    expect(s.productsBought).toEqual([
      { id: 'prod_active', name: null },
      { id: 'prod_churned', name: null },
      { id: 'prod_setup', name: null },
      { id: 'prod_shirt', name: 'T-shirt', namedAt: 18 },
    ]);
  });

  it('names a product as the most recent payload named it', () => {
    const checkout = (id: string, name: string, at: number) =>
      ev('checkout.session.completed', 'checkout.session', {
        id, payment_status: 'paid', line_items: { object: 'list', data: [stripeObject('item', { description: name, price: price('prod_x') })] },
      }, at);
    const events = [checkout('cs_1', 'Old name', 10), checkout('cs_2', 'New name', 20), ev('customer.subscription.created', 'subscription', sub('x', 'active'), 30)];
    for (const order of permutations(events)) {
      expect(status(order).productsBought).toEqual([{ id: 'prod_x', name: 'New name', namedAt: 20 }]);
    }
  });
});

describe('customer view of the added events: order does not matter', () => {
  it('gives the same status for any delivery order of a mixed history', () => {
    const lines = { object: 'list', data: [{ id: 'il_1', pricing: { type: 'price_details', price_details: { product: 'prod_sub_1' } } }] };
    const pool = [
      ev('customer.subscription.created', 'subscription', sub('sub_1', 'trialing', { trial_end: 300 }), 100),
      ev('customer.subscription.trial_will_end', 'subscription', sub('sub_1', 'trialing', { trial_end: 300 }), 200),
      ev('customer.subscription.paused', 'subscription', sub('sub_1', 'paused', { trial_end: 300 }), 300),
      ev('customer.subscription.resumed', 'subscription', sub('sub_1', 'active'), 400),
      ev('invoice.finalized', 'invoice', invoice('in_1', { status: 'open', amount_due: 2000, amount_remaining: 2000, created: 390 }), 400),
      ev('invoice.payment_failed', 'invoice', invoice('in_1', { status: 'open', amount_due: 2000, amount_remaining: 2000, attempt_count: 1, created: 390, payment_intent: 'pi_1' }), 410),
      ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_1', { amount: 2000, latest_charge: 'ch_1', last_payment_error: { message: 'Declined', charge: 'ch_1' } }), 410),
      ev('charge.failed', 'charge', failedCharge('ch_1', { amount: 2000, payment_intent: 'pi_1', failure_message: 'Declined', created: 405 }), 410),
      ev('invoice.paid', 'invoice', invoice('in_1', { status: 'paid', amount_due: 2000, amount_paid: 2000, amount_remaining: 0, attempt_count: 2, created: 390, status_transitions: { paid_at: 500 }, lines }), 500),
      ev('invoice.finalized', 'invoice', invoice('in_2', { status: 'open', amount_due: 700, amount_remaining: 700, created: 600 }), 600),
      ev('invoice.voided', 'invoice', invoice('in_2', { status: 'void', amount_due: 700, amount_remaining: 700, created: 600 }), 650),
      ev('invoice.finalized', 'invoice', invoice('in_3', { status: 'open', amount_due: 900, amount_remaining: 900, created: 610 }), 610),
      ev('invoice.marked_uncollectible', 'invoice', invoice('in_3', { status: 'uncollectible', amount_due: 900, amount_remaining: 900, created: 610 }), 660),
      ev('charge.failed', 'charge', failedCharge('ch_2', { failure_message: 'Expired card', created: 700 }), 700),
      ev('payment_intent.payment_failed', 'payment_intent', failedIntent('pi_3', { last_payment_error: { code: 'payment_intent_authentication_failure' } }), 710),
    ];
    const expected = status(pool);
    expect(expected).toMatchObject({
      subscription: { status: 'active', mrr: 2000 },
      failedPaymentCount: 3, // in_1's attempt (its charge and intent), ch_2, pi_3's authentication
      lastFailureReason: 'payment_intent_authentication_failure',
      openInvoiceCount: 0,
      openAmountDue: 0,
      productsBought: [{ id: 'prod_sub_1', name: null }],
    });
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), (order) => {
        expect(status(order)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
