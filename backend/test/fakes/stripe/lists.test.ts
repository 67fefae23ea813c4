import Stripe from 'stripe';
import { startFakeStripe, type FakeStripe } from '.';

/** Lists through the real stripe SDK: order, cursors, auto-pagination, filters, events, expand. */

let fake: FakeStripe;
let stripe: Stripe;
const on = (stripeAccount: string) => ({ stripeAccount });
const ids = (list: { data: { id: string }[] }) => list.data.map((o) => o.id);

beforeAll(async () => {
  fake = await startFakeStripe({ ratePerSecond: 10_000 });
  stripe = new Stripe('sk_test_fake', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
});
afterAll(() => fake.close());

describe('fake Stripe lists', () => {
  it('auto-paginates 250 customers newest first in 3 pages of 100, with has_more and url', async () => {
    const acc = fake.account('acct_pages', false);
    const made = Array.from({ length: 250 }, (_, i) => acc.addCustomer({ email: `p${i}@example.com` }).id as string);
    const newestFirst = [...made].reverse();
    const before = fake.requestCount({ account: 'acct_pages' });
    const seen: string[] = [];
    for await (const c of stripe.customers.list({ limit: 100 }, on('acct_pages'))) seen.push(c.id);
    expect(seen).toEqual(newestFirst);
    expect(fake.requestCount({ account: 'acct_pages' }) - before).toBe(3);
    const pages = fake.requests.filter((r) => r.account === 'acct_pages').slice(-3);
    expect(pages.map((r) => r.query.starting_after)).toEqual([undefined, newestFirst[99], newestFirst[199]]);

    const first = await stripe.customers.list({ limit: 100 }, on('acct_pages'));
    expect(first).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    const last = await stripe.customers.list({ limit: 100, starting_after: newestFirst[199] }, on('acct_pages'));
    expect(last.has_more).toBe(false);
    expect(ids(last)).toEqual(newestFirst.slice(200));
    expect((await stripe.customers.list({}, on('acct_pages'))).data).toHaveLength(10);
  });

  it('pages backwards with ending_before and rejects an unknown cursor', async () => {
    const acc = fake.account('acct_back', false);
    const newestFirst = Array.from({ length: 30 }, () => acc.addCustomer().id as string).reverse();
    const page = await stripe.customers.list({ limit: 10, ending_before: newestFirst[20] }, on('acct_back'));
    expect(ids(page)).toEqual(newestFirst.slice(10, 20));
    expect(page.has_more).toBe(true);
    const top = await stripe.customers.list({ limit: 10, ending_before: newestFirst[5] }, on('acct_back'));
    expect(ids(top)).toEqual(newestFirst.slice(0, 5));
    expect(top.has_more).toBe(false);
    const back: string[] = [];
    for await (const c of stripe.customers.list({ limit: 7, ending_before: newestFirst[25] }, on('acct_back'))) back.push(c.id);
    expect(back).toEqual(newestFirst.slice(0, 25).reverse());
    await expect(stripe.customers.list({ starting_after: 'cus_nope' }, on('acct_back'))).rejects.toMatchObject({
      statusCode: 404, code: 'resource_missing', param: 'starting_after',
    });
  });

  it('orders by created, then by most recently added within the same second', async () => {
    const acc = fake.account('acct_order', false);
    const a = acc.addCustomer({ created: 2_000 }).id;
    const b = acc.addCustomer({ created: 1_000 }).id;
    const c = acc.addCustomer({ created: 2_000 }).id;
    expect(ids(await stripe.customers.list({}, on('acct_order')))).toEqual([c, a, b]);
  });

  it('filters customers by email and created range', async () => {
    const acc = fake.account('acct_cf', false);
    const x = acc.addCustomer({ email: 'x@example.com', created: 100 }).id;
    const y = acc.addCustomer({ email: 'y@example.com', created: 200 }).id;
    const z = acc.addCustomer({ email: 'x@example.com', created: 300 }).id;
    expect(ids(await stripe.customers.list({ email: 'x@example.com' }, on('acct_cf')))).toEqual([z, x]);
    expect(ids(await stripe.customers.list({ email: 'X@example.com' }, on('acct_cf')))).toEqual([]);
    expect(ids(await stripe.customers.list({ created: { gte: 200 } }, on('acct_cf')))).toEqual([z, y]);
    expect(ids(await stripe.customers.list({ created: { gt: 100, lt: 300 } }, on('acct_cf')))).toEqual([y]);
    expect(ids(await stripe.customers.list({ created: 100 }, on('acct_cf')))).toEqual([x]);
  });

  it('filters subscriptions by customer, status (default excludes canceled; all; ended) and price', async () => {
    const acc = fake.account('acct_sf', false);
    const c1 = acc.addCustomer().id as string;
    const c2 = acc.addCustomer().id as string;
    const active = acc.addSubscription(c1, { status: 'active' });
    const canceled = acc.addSubscription(c1, { status: 'canceled' }).id;
    const expired = acc.addSubscription(c2, { status: 'incomplete_expired' }).id;
    const pastDue = acc.addSubscription(c2, { status: 'past_due', currency: 'jpy' });
    const list = (p: Stripe.SubscriptionListParams) => stripe.subscriptions.list(p, on('acct_sf')).then(ids);
    expect(await list({})).toEqual([pastDue.id, expired, active.id]);
    expect(await list({ status: 'all' })).toEqual([pastDue.id, expired, canceled, active.id]);
    expect(await list({ status: 'canceled' })).toEqual([canceled]);
    expect(await list({ status: 'ended' })).toEqual([expired, canceled]);
    expect(await list({ customer: c1 })).toEqual([active.id]);
    expect(await list({ customer: c2, status: 'past_due' })).toEqual([pastDue.id]);
    const price = (pastDue.items as { data: { price: { id: string } }[] }).data[0]?.price.id as string;
    expect(await list({ price })).toEqual([pastDue.id]);
  });

  it('serves subscriptions in the current shape: periods on items, recurring price, quantity', async () => {
    const acc = fake.account('acct_shape', false);
    const c = acc.addCustomer().id as string;
    const sub = acc.addSubscription(c, { currency: 'jpy', created: 1_767_225_600 });
    const got = await stripe.subscriptions.retrieve(sub.id as string, {}, on('acct_shape'));
    const item = got.items.data[0] as Stripe.SubscriptionItem;
    expect(item).toMatchObject({ quantity: 1, current_period_start: 1_767_225_600, current_period_end: 1_769_904_000 });
    expect(item.price).toMatchObject({ currency: 'jpy', unit_amount: 1500, recurring: { interval: 'month', interval_count: 1 } });
    expect(got).toMatchObject({ customer: c, status: 'active', currency: 'jpy' });
  });

  it('filters invoices by customer, status and subscription (parent.subscription_details)', async () => {
    const acc = fake.account('acct_if', false);
    const c1 = acc.addCustomer().id as string;
    const c2 = acc.addCustomer().id as string;
    const sub = acc.addSubscription(c1).id as string;
    const paid = acc.addInvoice(c1, { subscription: sub });
    const open = acc.addInvoice(c1, { subscription: sub, status: 'open', attempt_count: 2 });
    const oneOff = acc.addInvoice(c2, { status: 'void', amount_due: 700 });
    const list = (p: Stripe.InvoiceListParams) => stripe.invoices.list(p, on('acct_if')).then(ids);
    expect(await list({})).toEqual([oneOff.id, open.id, paid.id]);
    expect(await list({ customer: c1 })).toEqual([open.id, paid.id]);
    expect(await list({ status: 'open' })).toEqual([open.id]);
    expect(await list({ subscription: sub })).toEqual([open.id, paid.id]);
    expect(paid).toMatchObject({ status: 'paid', amount_due: 2000, amount_paid: 2000, amount_remaining: 0, attempt_count: 1, parent: { subscription_details: { subscription: sub } } });
    expect((paid.status_transitions as { paid_at: number }).paid_at).toBeGreaterThan(paid.created as number);
    expect(open).toMatchObject({ amount_paid: 0, amount_remaining: 2000, attempt_count: 2, status_transitions: { paid_at: null } });
    expect(oneOff).toMatchObject({ parent: null, amount_remaining: 0 });
    expect('subscription' in paid).toBe(false);
    expect((await stripe.subscriptions.retrieve(sub, {}, on('acct_if'))).latest_invoice).toBe(open.id);
  });

  it('filters charges by customer and keeps refunds consistent', async () => {
    const acc = fake.account('acct_chf', false);
    const c1 = acc.addCustomer().id as string;
    const c2 = acc.addCustomer().id as string;
    const full = acc.addCharge(c1, { amount: 1000, amount_refunded: 1000 });
    const part = acc.addCharge(c1, { amount: 1000, amount_refunded: 300 });
    const failed = acc.addCharge(c2, { status: 'failed' });
    expect(ids(await stripe.charges.list({ customer: c1 }, on('acct_chf')))).toEqual([part.id, full.id]);
    expect(full).toMatchObject({ refunded: true, amount_refunded: 1000, refunds: { data: [{ amount: 1000, charge: full.id }] } });
    expect(part).toMatchObject({ refunded: false, amount_refunded: 300 });
    expect(failed).toMatchObject({ paid: false, captured: false, failure_code: 'card_declined', amount_captured: 0 });
  });

  it('lists events by type, wildcard, types[], created and delivery_success', async () => {
    const acc = fake.account('acct_ev', false);
    const c = acc.addCustomer();
    const now = Math.floor(Date.now() / 1000);
    const e1 = acc.addEvent('customer.created', c, { created: now - 300 }).id;
    const e2 = acc.addEvent('customer.updated', c, { created: now - 200, delivered: false }).id;
    const e3 = acc.addEvent('invoice.paid', acc.addInvoice(c.id as string), { created: now - 100 }).id as string;
    const list = (p: Stripe.EventListParams) => stripe.events.list(p, on('acct_ev')).then(ids);
    expect(await list({})).toEqual([e3, e2, e1]);
    expect(await list({ type: 'customer.created' })).toEqual([e1]);
    expect(await list({ type: 'customer.*' })).toEqual([e2, e1]);
    expect(await list({ types: ['invoice.paid', 'customer.created'] })).toEqual([e3, e1]);
    expect(await list({ created: { gte: now - 200 } })).toEqual([e3, e2]);
    expect(await list({ delivery_success: false })).toEqual([e2]);
    expect(await list({ delivery_success: true })).toEqual([e3, e1]);
    acc.markUndelivered(e3);
    acc.markDelivered(e2 as string);
    expect(await list({ delivery_success: false })).toEqual([e3]);
    expect((await stripe.events.retrieve(e3, {}, on('acct_ev'))).pending_webhooks).toBe(1);
    const ev = await stripe.events.retrieve(e1 as string, {}, on('acct_ev'));
    expect(ev).toMatchObject({ type: 'customer.created', account: 'acct_ev', livemode: false, data: { object: { id: c.id } } });
  });

  it('forgets events older than 30 days, as Stripe does', async () => {
    const acc = fake.account('acct_old', false);
    const old = acc.addEvent('customer.created', acc.addCustomer(), { created: Math.floor(Date.now() / 1000) - 31 * 86_400 }).id as string;
    expect(ids(await stripe.events.list({}, on('acct_old')))).toEqual([]);
    await expect(stripe.events.retrieve(old, {}, on('acct_old'))).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('expands stored objects by path and leaves other ids (prices, products) as ids', async () => {
    const acc = fake.account('acct_exp', false);
    const c = acc.addCustomer({ email: 'exp@example.com' });
    const sub = acc.addSubscription(c.id as string);
    const inv = acc.addInvoice(c.id as string, { subscription: sub.id });
    const list = await stripe.subscriptions.list({ expand: ['data.customer', 'data.latest_invoice', 'data.items.data.price.product'] }, on('acct_exp'));
    const got = list.data[0] as Stripe.Subscription;
    expect(got.customer).toMatchObject({ id: c.id, email: 'exp@example.com' });
    expect(got.latest_invoice).toMatchObject({ id: inv.id, object: 'invoice' });
    expect(typeof got.items.data[0]?.price.product).toBe('string');
    const one = await stripe.invoices.retrieve(inv.id as string, { expand: ['customer'] }, on('acct_exp'));
    expect(one.customer).toMatchObject({ email: 'exp@example.com' });
    expect(typeof acc.subscriptions.get(sub.id as string)?.customer).toBe('string');
  });
});
