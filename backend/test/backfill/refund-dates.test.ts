import { PLATFORM_ACCOUNT, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { readCustomerSnapshot, stripeClient } from '../../src/adapters/stripe/client';
import { readPage } from '../../src/jobs/backfill/stripe-pages';
import { SlidingWindowLimiter } from '../../src/jobs/backfill/rate-limiter';
import { mapStripeObject } from '../../src/domain/events';
import type { ChargeData } from '../../src/domain/records';

/**
 * Charges read from the API (the card's refresh, the backfill) ask for their refunds (`expand[]=data.refunds`:
 * Stripe leaves them out since API 2022-11-15), so a read charge keeps the date its latest refund was issued
 * instead of replacing a known date with an unknown one.
 */

let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe();
});
afterAll(async () => {
  await fake?.close();
});

function refundedAtOf(charge: Record<string, unknown>, type: string): number | null | undefined {
  const out = mapStripeObject(charge, { id: 'read_1', type, created: 2_000_000_000, livemode: false });
  if ('skip' in out) throw new Error(out.skip);
  return (out.records[0]!.data as ChargeData).refundedAt;
}

describe('charges read from the Stripe API', () => {
  it('come with their refunds and keep the latest refund’s date, in a refresh and in a backfill page', async () => {
    const acc = fake.account(PLATFORM_ACCOUNT, false);
    const customerId = acc.addCustomer({ email: 'refunded@example.com' }).id as string;
    const charge = acc.addCharge(customerId, { status: 'succeeded', amount: 2000, amount_refunded: 500 });
    const refundCreated = (charge.refunds as { data: { created: number }[] }).data[0]!.created;
    const stripe = stripeClient('sk_test_fake', fake.url, { maxNetworkRetries: 0 });

    const snapshot = await readCustomerSnapshot(stripe, '', customerId);
    const listed = fake.requests.filter((r) => r.path === '/v1/charges');
    expect(listed.at(-1)!.query).toMatchObject({ expand: ['data.refunds'] });
    expect(refundedAtOf(snapshot.charges[0] as unknown as Record<string, unknown>, 'charge.refresh')).toBe(refundCreated);

    const page = await readPage(stripe, { phase: 'charges', account: '', cursor: null, createdLte: null, limit: 10 }, new SlidingWindowLimiter(100), new AbortController().signal);
    expect(fake.requests.filter((r) => r.path === '/v1/charges').at(-1)!.query).toMatchObject({ expand: ['data.refunds'] });
    const read = page.objects.find((o) => o.id === charge.id)!;
    expect(refundedAtOf(read, 'charge.backfill')).toBe(refundCreated);
  });
});
