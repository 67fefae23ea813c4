import fc from 'fast-check';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { postWebhook } from '../helpers/server';
import { fixture, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { SYNC_EVENT_TYPES } from '@stripe-hubspot-sync/contracts';
import { FUZZ_RUNS, KNOWN_5XX } from './fuzz-support';

/**
 * Properly signed webhooks whose bodies are garbage: random JSON, and Stripe events of the types we handle whose
 * objects are Stripe's example objects with fields swapped for random values. The route answers 2xx or 4xx, never
 * 5xx; the worker settles every stored event (skipped with a reason when it cannot be mapped) without a retry loop,
 * and the server stays healthy.
 */

const RESOURCES: Record<string, string> = {
  customer: 'customer',
  'checkout.session': 'checkout.session',
  'customer.subscription': 'subscription',
  invoice: 'invoice',
  charge: 'charge',
  'charge.dispute': 'dispute',
};

const resourceOf = (type: string) => {
  const group = type.slice(0, type.lastIndexOf('.'));
  return Object.hasOwn(RESOURCES, group) ? RESOURCES[group] : 'customer';
};

/** Random JSON, with the odd Stripe-looking value (ids, unix times, amounts) mixed in. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('cus_fuzz1', 'sub_fuzz1', 'ch_fuzz1', 'in_fuzz1', '', 'usd', 'xxx', 'active', 'paid', 'canceled'),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.double(),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 63, 1.5, 253_402_300_800, 8.64e15),
  fc.constantFrom(null, true, false, [], {}),
  // Any code point (NUL and lone surrogates only once the inbox stores them: see KNOWN_5XX).
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => (KNOWN_5XX.webhookNulOrLoneSurrogate ? s.split('\u0000').join('').replace(/[\ud800-\udfff]/g, '') : s)),
);

/** `arb` one time in `oneIn`, undefined otherwise. */
const rarely = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });

const FUZZ_CUSTOMERS = ['cus_fuzz1', 'cus_fuzz2', 'cus_fuzz3'];

/**
 * A Stripe example object of `resource` about one of a few customers (so that mangled facts add up on customers
 * that have an email and get written to HubSpot), with a random subset of its fields replaced, removed or added.
 */
function mangled(resource: string): fc.Arbitrary<unknown> {
  const base = fixture(resource);
  const keys = Object.keys(base);
  return fc
    .record({
      who: fc.constantFrom(...FUZZ_CUSTOMERS),
      replace: fc.subarray(keys, { maxLength: 6 }),
      remove: fc.subarray(keys, { maxLength: 3 }),
      values: fc.array(jsonish, { minLength: 6, maxLength: 6 }),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), jsonish, { maxKeys: 3 }),
      customer: rarely(jsonish, 6),
      wholesale: rarely(jsonish, 10),
    })
    .map(({ who, replace, remove, values, extra, customer, wholesale }) => {
      if (wholesale !== undefined) return wholesale;
      const o: Record<string, unknown> = { ...structuredClone(base), ...extra };
      if (resource === 'customer') Object.assign(o, { id: who, email: `${who.slice(4)}@example.com` });
      else if ('customer' in base) o.customer = who;
      replace.forEach((k, i) => (o[k] = values[i]));
      for (const k of remove) delete o[k];
      if (customer !== undefined) o.customer = customer;
      return o;
    });
}

let seq = 0;
const eventBody = fc
  .record({
    type: fc.oneof(fc.constantFrom(...SYNC_EVENT_TYPES), fc.constantFrom('account.application.authorized', 'payment_intent.created'), fc.string({ maxLength: 30 })),
    created: fc.oneof(
      fc.integer({ min: 1_500_000_000, max: 1_900_000_000 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
      fc.constantFrom(0, 2 ** 53 - 1, -(2 ** 53) + 1, ...(KNOWN_5XX.webhookHugeCreated ? [] : [1e21, -1e21])),
    ),
    livemode: fc.oneof({ arbitrary: fc.boolean(), weight: 5 }, { arbitrary: jsonish, weight: 1 }),
    // Mostly the self-hosted merchant's own events (the harness's private-app portal writes them to HubSpot).
    account: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.oneof(fc.constant('acct_fuzz1'), jsonish), weight: 1 }),
    previous: rarely(jsonish, 3),
    idStyle: fc.constantFrom('normal', 'normal', 'normal', 'odd'),
    oddId: jsonish,
  })
  .chain((e) =>
    mangled(resourceOf(e.type)).map((object) => {
      const id = e.idStyle === 'normal' ? `evt_fuzz_${++seq}_${Date.now()}` : e.oddId;
      const event: Record<string, unknown> = { id, object: 'event', type: e.type, created: e.created, livemode: e.livemode, data: { object } };
      if (e.account !== undefined) event.account = e.account;
      if (e.previous !== undefined) (event.data as Record<string, unknown>).previous_attributes = e.previous;
      return event;
    }),
  );

describe.each(dbKinds())('signed garbage on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 2xx or 4xx to signed random JSON and signed events with garbage objects, never 5xx', async () => {
    const accepted: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: eventBody, weight: 4 }, { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 1 }), async (body) => {
        const r = await postWebhook(h.server.url, JSON.stringify(body) ?? 'null');
        if (r.status >= 500) throw new Error(`answered ${r.status} ${JSON.stringify(r.body)} to ${JSON.stringify(body).slice(0, 400)}`);
        expect(r.status === 200 || (r.status >= 400 && r.status < 500)).toBe(true);
        if (r.status === 200) accepted.push((body as { id: string }).id);
      }),
      { numRuns: FUZZ_RUNS },
    );
    // Enough of them pass verification to exercise the worker (a negative or unsafe `created` is refused with a 400).
    expect(accepted.length).toBeGreaterThan(FUZZ_RUNS / 8);

    // The worker settles all of it: nothing left waiting, nothing failed, no job retried.
    await h.idle(45_000);
    const { rows } = await h.server.db.query<{ id: string; type: string; status: string; status_reason: string | null }>(
      'SELECT id, type, status, status_reason FROM stripe_events WHERE id = ANY($1::text[])',
      [accepted],
    );
    expect(rows.length).toBe(new Set(accepted).size);
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed).toEqual([]);
    for (const r of rows) {
      expect(['skipped', 'synced', 'ignored', 'processed']).toContain(r.status);
      if (r.status === 'skipped' || r.status === 'ignored') expect(r.status_reason).toEqual(expect.any(String));
    }
    // Handled types with objects we cannot read end skipped, with the reason.
    expect(rows.some((r) => r.status === 'skipped' && (SYNC_EVENT_TYPES as readonly string[]).includes(r.type))).toBe(true);
    const retried = await h.server.db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM pgboss.job WHERE name = 'stripe-events' AND retry_count > 0)
            + (SELECT count(*) FROM pgboss.archive WHERE name = 'stripe-events' AND retry_count > 0) AS n`,
    );
    expect(Number(retried.rows[0].n)).toBe(0);
    // Whatever reached HubSpot was valid there (the fake checks every value: numbers, dates, emails, options).
    const dead = await h.server.db.query<{ message: string }>('SELECT message FROM dead_letters');
    expect(dead.rows).toEqual([]);
    const health = await fetch(`${h.server.url}/healthz`);
    expect(health.status).toBe(200);
    // And the pipeline still works: a clean event goes all the way to HubSpot.
    const clean = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_afterfuzz', email: 'after-fuzz@example.com' }));
    await h.send(clean);
    await h.idle();
    expect(await h.eventStatus(clean.id as string)).toEqual({ status: 'synced', status_reason: null });
    expect(h.contactOf('cus_afterfuzz')?.properties.email).toBe('after-fuzz@example.com');
  });
});
