import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { seededRandom } from '../helpers/seeded-random';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { customerStory, T0 } from '../card/card-seed';
import { contactProperties } from '../../src/domain/sync/contact-write';
import type { FakeContact } from '../fakes/hubspot/server';

/**
 * Two Stripe customers with one email (Checkout makes a customer per purchase): they share one contact, which
 * carries their roll-up (README, "Who is who") — the first-created customer's id in the unique property, both ids
 * listed, the best subscription, summed money. Whatever order their events arrive in, and however they are
 * batched, the contact ends the same; after every step it is exactly the roll-up of the customers linked to it.
 */

type Json = Record<string, unknown>;
const settings = defaultSettings();
const MAPPED = Object.values(settings.fields).filter((f) => f.enabled).map((f) => f.property);

/** The two customers' events: A (created first) has a past-due subscription with a failed renewal; B one active. */
function stories(run: string): { tag: string; a: string; b: string; email: string; events: Json[] } {
  const a = `cus_${run}first`;
  const b = `cus_${run}second`;
  const email = `buyer-${run}@example.com`;
  const later = customerStory(b, email, { unitAmount: 1000, quantity: 1 });
  const created = later[0]!.data as { object: Json };
  created.object.created = T0 + 100;
  return { tag: run, a, b, email, events: [...customerStory(a, email, { failedRenewal: true }), ...later] };
}

describe.each(dbKinds())('two customers with one email on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const linksOf = async (ids: string[]) =>
    (
      await h.server.db.query<{ customer_id: string; contact_id: string }>(
        'SELECT customer_id, contact_id FROM contact_links WHERE customer_id = ANY($1::text[]) ORDER BY customer_id',
        [ids],
      )
    ).rows;
  const statusesOf = async (ids: string[]) =>
    (await h.server.db.query<{ status: CustomerStatus }>('SELECT status FROM customers WHERE customer_id = ANY($1::text[])', [ids])).rows.map(
      (r) => r.status,
    );
  const contact = (id: string): FakeContact => h.hubspot.portal(h.portalId).contacts.get(id)!;

  /** Every contact of these customers is the roll-up of the customers linked to it, by their read models. */
  async function expectRolledUp(ids: string[], email: string): Promise<void> {
    expect(h.contacts().filter((c) => c.properties.email === email).length).toBeLessThanOrEqual(1);
    const byContact = new Map<string, string[]>();
    for (const l of await linksOf(ids)) byContact.set(l.contact_id, [...(byContact.get(l.contact_id) ?? []), l.customer_id]);
    for (const [contactId, linked] of byContact) {
      const expected = contactProperties(await statusesOf(linked), null, settings);
      const actual = contact(contactId).properties;
      for (const name of MAPPED) expect([name, actual[name] ?? '']).toEqual([name, expected[name]]);
    }
  }

  /** A contact's mapped properties with the run's ids and email replaced, to compare runs. */
  function normalised(c: FakeContact, run: { tag: string; a: string; b: string; email: string }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of [...MAPPED, 'email', 'lifecyclestage']) {
      const value = (c.properties[name] ?? '').split(run.a).join('<A>').split(run.b).join('<B>').split(run.email).join('<email>');
      out[name] = value.split(run.tag).join('<run>');
    }
    return out;
  }

  it('ends with the same contact whatever the delivery order, and never mixes the two customers’ facts', async () => {
    const finals: Record<string, string>[] = [];
    const firstSeen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const run = stories(`r${seed}x${Date.now().toString(36)}`);
      const order = run.events.map((e) => ({ e, k: random() })).sort((x, y) => x.k - y.k).map((x) => x.e);
      firstSeen.add(JSON.stringify(order[0]).includes(run.b) ? 'B' : 'A');
      // Delivered in chunks of 1–4 events; each chunk is processed and written before the next arrives.
      for (let i = 0; i < order.length; ) {
        const n = 1 + Math.floor(random() * 4);
        await h.send(...order.slice(i, i + n));
        i += n;
        await h.idle();
        await expectRolledUp([run.a, run.b], run.email);
      }
      const links = await linksOf([run.a, run.b]);
      expect(links.map((l) => l.contact_id)).toEqual([links[0]!.contact_id, links[0]!.contact_id]);
      const shared = contact(links[0]!.contact_id);
      finals.push(normalised(shared, run));
    }
    // The seeds cover both customers arriving first.
    expect([...firstSeen].sort()).toEqual(['A', 'B']);
    for (const f of finals) expect(f).toEqual(finals[0]);
    expect(finals[0]).toMatchObject({
      email: '<email>',
      stripe_customer_id: '<A>',
      stripe_customer_ids: '<A>;<B>',
      // B's active subscription is the better one; the MRR is both (40.00 + 10.00).
      stripe_subscription_status: 'active',
      stripe_mrr: '50.00',
      stripe_lifetime_value: '50.00',
      stripe_open_amount_due: '40.00',
      stripe_failed_payment_count: '1',
      // A's failed renewal is the latest payment attempt of the two.
      stripe_last_payment_status: 'failed',
      stripe_last_payment_amount: '40.00',
      stripe_last_failure_reason: 'Payment of invoice in_<run>first_2 failed (attempt 1)',
      stripe_dashboard_url: 'https://dashboard.stripe.com/test/customers/<A>',
      lifecyclestage: 'customer',
    });
  }, 120_000);
});
