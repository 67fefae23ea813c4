import fc from 'fast-check';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';

/**
 * Shuffled delivery with same-second ties, through HTTP: whatever order Stripe delivers a subscription's events in
 * (and with duplicates), HubSpot ends with the status of the newest event. Same-second neighbours in the
 * generated histories follow the documented precedence (a later state in the same second is the more final
 * one), which is what Stripe's lifecycle produces.
 */

const PRECEDENCE = ['incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'canceled'] as const;
type Status = (typeof PRECEDENCE)[number];
const NEXT: Record<Status, Status[]> = {
  incomplete: ['active', 'trialing'],
  trialing: ['active', 'past_due', 'canceled'],
  active: ['past_due', 'canceled'],
  past_due: ['active', 'unpaid', 'canceled'],
  unpaid: ['active', 'canceled'],
  canceled: [],
};

interface Step {
  status: Status;
  created: number;
}

/** A realistic history: statuses follow the lifecycle; a step may share the previous one's second only when it ranks higher. */
const history = fc
  .tuple(
    fc.constantFrom<Status>('incomplete', 'trialing', 'active'),
    fc.array(fc.tuple(fc.nat(1000), fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
  )
  .map(([first, moves]) => {
    const steps: Step[] = [{ status: first, created: 1_770_000_000 }];
    for (const [pick, gap, tie] of moves) {
      const prev = steps[steps.length - 1];
      const options = NEXT[prev.status];
      if (options.length === 0) break;
      const status = options[pick % options.length];
      const sameSecondAllowed = tie && PRECEDENCE.indexOf(status) > PRECEDENCE.indexOf(prev.status);
      steps.push({ status, created: prev.created + (sameSecondAllowed ? 0 : gap + 1) });
    }
    return steps;
  });

describe.each(dbKinds())('shuffled delivery on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ends at the newest state for any delivery order, ties and duplicates included', async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), fc.nat(5), async (steps, keys, dupOf) => {
        const cus = randomId('cus');
        const sub = randomId('sub');
        const customer = stripeEvent('customer.created', stripeObject('customer', { id: cus, email: `${cus}@example.com`, created: 1_769_999_000 }), { created: 1_769_999_000 });
        const events = steps.map((s, i) =>
          stripeEvent(
            i === 0 ? 'customer.subscription.created' : s.status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated',
            stripeObject('subscription', { id: sub, customer: cus, status: s.status, cancel_at_period_end: false }),
            { created: s.created, ...(i > 0 ? { previousAttributes: { status: steps[i - 1].status } } : {}) },
          ),
        );
        const delivery = [customer, ...events, events[dupOf % events.length]]
          .map((e, i) => ({ e, k: keys[i % keys.length] * 100 + i }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.e);
        // Two concurrent halves: the worker sees them in batches of any split.
        const half = Math.ceil(delivery.length / 2);
        await Promise.all([
          (async () => { for (const e of delivery.slice(0, half)) expect((await postWebhook(h.server.url, e)).status).toBe(200); })(),
          (async () => { for (const e of delivery.slice(half)) expect((await postWebhook(h.server.url, e)).status).toBe(200); })(),
        ]);
        await h.idle();
        const contact = h.contactOf(cus);
        expect(contact?.properties.stripe_subscription_status).toBe(steps[steps.length - 1].status);
        expect(h.contacts().filter((c) => c.properties.stripe_customer_id === cus)).toHaveLength(1);
      }),
      { numRuns: 15 },
    );
  });
});
