import Stripe from 'stripe';
import { startFakeStripe, type FakeStripe } from '.';

/** The fake's protocol through the real stripe SDK: keys, modes, accounts, errors, rate limit, outages. */

let fake: FakeStripe;
const sdk = (key = 'sk_test_fake') => new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });

async function failure(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  fake = await startFakeStripe();
});
afterAll(() => fake.close());

describe('fake Stripe protocol', () => {
  it('retrieves an object shaped like Stripe\'s example, with the request-id header', async () => {
    const acc = fake.account('acct_platform', false);
    const c = acc.addCustomer({ email: 'ret@example.com', name: 'Ret Rieve' });
    const got = await sdk().customers.retrieve(c.id as string);
    expect(got).toMatchObject({ id: c.id, object: 'customer', email: 'ret@example.com', name: 'Ret Rieve', livemode: false });
    expect(got.lastResponse.requestId).toMatch(/^req_/);
    expect((got as Stripe.Customer).invoice_settings).toBeDefined();
  });

  it('answers an unknown id with 404 resource_missing in Stripe\'s error shape', async () => {
    const err = await failure(sdk().customers.retrieve('cus_missing'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', rawType: 'invalid_request_error', message: "No such customer: 'cus_missing'" });
    expect(err.doc_url).toBe('https://stripe.com/docs/error-codes/resource-missing');
    expect(err.requestId).toMatch(/^req_/);
    for (const [call, name] of [
      [sdk().subscriptions.retrieve('sub_x'), 'subscription'],
      [sdk().invoices.retrieve('in_x'), 'invoice'],
      [sdk().charges.retrieve('ch_x'), 'charge'],
      [sdk().events.retrieve('evt_x'), 'event'],
    ] as const) {
      expect((await failure(call)).message).toBe(`No such ${name}: '${name === 'subscription' ? 'sub' : name === 'invoice' ? 'in' : name === 'charge' ? 'ch' : 'evt'}_x'`);
    }
  });

  it('answers a deleted customer with Stripe\'s deleted shape and leaves it out of lists', async () => {
    const acc = fake.account('acct_deleted', false);
    const gone = acc.addCustomer({ email: 'gone@example.com' });
    const kept = acc.addCustomer({ email: 'kept@example.com' });
    const sub = acc.addSubscription(gone.id as string);
    acc.deleteCustomer(gone.id as string);
    const opts = { stripeAccount: 'acct_deleted' };
    expect(await sdk().customers.retrieve(gone.id as string, {}, opts)).toMatchObject({ id: gone.id, object: 'customer', deleted: true });
    expect((await sdk().customers.list({}, opts)).data.map((c) => c.id)).toEqual([kept.id]);
    expect((await sdk().subscriptions.retrieve(sub.id as string, {}, opts)).status).toBe('canceled');
  });

  it('rejects a missing or unknown key with 401 (StripeAuthenticationError) and a masked key', async () => {
    const bad = await failure(sdk('sk_test_wrong9876').customers.list());
    expect(bad).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(bad.statusCode).toBe(401);
    expect(bad.message).toBe('Invalid API Key provided: sk_test_*****9876');
    const res = await fetch(`${fake.url}/v1/customers`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^You did not provide an API key/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
  });

  it('rejects a bad limit with 400 parameter_invalid_integer and unknown parameters with parameter_unknown', async () => {
    for (const limit of [0, 101]) {
      const err = await failure(sdk().customers.list({ limit }));
      expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(err).toMatchObject({ statusCode: 400, code: 'parameter_invalid_integer', param: 'limit' });
    }
    const res = await fetch(`${fake.url}/v1/customers?limit=ten`, { headers: { authorization: 'Bearer sk_test_fake' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'parameter_invalid_integer', param: 'limit', message: 'Invalid integer: ten' } });
    // stripe 23 takes request options only as the third argument: as the second they are parameters.
    const err = await failure(sdk().customers.retrieve('cus_x', { stripeAccount: 'acct_x' } as Stripe.CustomerRetrieveParams));
    expect(err).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'stripeAccount' });
    expect((await failure(sdk().subscriptions.list({ status: 'nope' as 'active' }))).param).toBe('status');
  });

  it('answers paths and methods it does not serve with 404 invalid_request_error', async () => {
    const err = await failure(sdk().products.list());
    expect(err).toMatchObject({ statusCode: 404, rawType: 'invalid_request_error' });
    expect(err.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/products\)/);
    expect((await failure(sdk().customers.create({ email: 'x@example.com' }))).message).toMatch(/POST: \/v1\/customers/);
  });

  it('keeps accounts (Stripe-Account) and modes (test/live key) apart', async () => {
    const a = fake.account('acct_iso_a', false).addCustomer({ email: 'a@example.com' });
    const b = fake.account('acct_iso_b', false).addCustomer({ email: 'b@example.com' });
    const live = fake.account('acct_iso_a', true).addCustomer({ email: 'live@example.com' });
    const p = fake.account('acct_platform', true).addCustomer({ email: 'platform-live@example.com' });
    expect((await sdk().customers.list({}, { stripeAccount: 'acct_iso_a' })).data.map((c) => c.id)).toEqual([a.id]);
    expect((await sdk().customers.list({}, { stripeAccount: 'acct_iso_b' })).data.map((c) => c.id)).toEqual([b.id]);
    expect((await sdk('sk_live_fake').customers.list({}, { stripeAccount: 'acct_iso_a' })).data.map((c) => c.id)).toEqual([live.id]);
    expect((await sdk('sk_live_fake').customers.list()).data.map((c) => c.id)).toEqual([p.id]);
    expect((await failure(sdk().customers.retrieve(a.id as string, {}, { stripeAccount: 'acct_iso_b' }))).statusCode).toBe(404);
    expect((await failure(sdk().customers.retrieve(live.id as string, {}, { stripeAccount: 'acct_iso_a' }))).statusCode).toBe(404);
    expect(live).toMatchObject({ livemode: true });
    const logged = fake.requests.filter((r) => r.account === 'acct_iso_a');
    expect(logged.map((r) => r.livemode)).toEqual([false, true, false]);
    expect(fake.requestCount({ account: 'acct_iso_b', pathPrefix: '/v1/customers' })).toBe(2);
    expect(fake.requestCount({ account: 'acct_iso_b', pathPrefix: '/v1/charges' })).toBe(0);
  });

  it('answers 429 rate_limit beyond the rate per rolling second per account+mode, and reports the peak', async () => {
    const other = await startFakeStripe({ ratePerSecond: 5, apiKeys: ['sk_test_rl', 'sk_live_rl'] });
    try {
      const client = (key: string) => new Stripe(key, { host: '127.0.0.1', port: other.port, protocol: 'http', maxNetworkRetries: 0 });
      const burst = (key: string, account: string) =>
        Promise.allSettled(Array.from({ length: 8 }, () => client(key).customers.list({}, { stripeAccount: account })));
      const results = await burst('sk_test_rl', 'acct_rl');
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Stripe.errors.StripeError);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect(rejected).toHaveLength(3);
      for (const err of rejected) {
        expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
        expect(err).toMatchObject({ statusCode: 429, code: 'rate_limit' });
      }
      // Another account, and the same account in live mode, have their own budget.
      expect((await burst('sk_test_rl', 'acct_rl_other')).filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect((await burst('sk_live_rl', 'acct_rl')).filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect(other.peakRequestsPerSecond('acct_rl', false)).toBe(8);
      expect(other.peakRequestsPerSecond('acct_nobody', false)).toBe(0);
      expect(other.requests.filter((r) => r.status === 429)).toHaveLength(9);
      await new Promise((r) => setTimeout(r, 1050));
      other.setRatePerSecond(20);
      expect((await burst('sk_test_rl', 'acct_rl')).every((r) => r.status === 'fulfilled')).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('defaults to 25 requests per second in test mode and 100 in live mode', async () => {
    const other = await startFakeStripe();
    try {
      const client = (key: string) => new Stripe(key, { host: '127.0.0.1', port: other.port, protocol: 'http', maxNetworkRetries: 0 });
      const ok = async (key: string, n: number) =>
        (await Promise.allSettled(Array.from({ length: n }, () => client(key).customers.list()))).filter((r) => r.status === 'fulfilled').length;
      expect(await ok('sk_test_fake', 30)).toBe(25);
      expect(await ok('sk_live_fake', 30)).toBe(30);
    } finally {
      await other.close();
    }
  });

  it('answers 500 api_error (StripeAPIError) while down, and recovers', async () => {
    fake.setDown(true);
    try {
      const err = await failure(sdk().customers.list());
      expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(err).toMatchObject({ statusCode: 500, rawType: 'api_error' });
      expect(err.requestId).toMatch(/^req_/);
    } finally {
      fake.setDown(false);
    }
    expect((await sdk().customers.list()).object).toBe('list');
  });

  it('delays answers by the configured latency', async () => {
    fake.setLatency(150);
    try {
      const t = Date.now();
      await sdk().customers.list();
      expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    } finally {
      fake.setLatency(0);
    }
  });
});
