import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * Who is who (README): a Stripe email is unverified, so a contact matched only by email never has its email
 * overwritten — a customer whose email changes leaves it and is matched afresh — while a contact we created, or
 * found by our unique customer-id property, follows its customer's email. Each link records how it was made.
 */

let clock = 1_765_000_000;
const at = () => ({ created: ++clock });

describe.each(dbKinds())('email takeover on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const customer = (id: string, email: string | null, created = 1_760_000_000) => stripeObject('customer', { id, email, name: null, created });
  const linkOf = async (customerId: string) =>
    (
      await h.server.db.query<{ contact_id: string; matched_by: string; matched_email: string | null }>(
        'SELECT contact_id, matched_by, matched_email FROM contact_links WHERE customer_id = $1',
        [customerId],
      )
    ).rows[0];
  const contact = (id: string) => h.hubspot.portal(h.portalId).contacts.get(id)!;
  const byEmail = (email: string) => h.contacts().filter((c) => c.properties.email === email);
  /** Every contact update we sent to one contact, as the properties it carried. */
  const updatesTo = (contactId: string) =>
    h.hubspot.requests
      .filter((r) => r.path === '/crm/v3/objects/contacts/batch/update' && r.status === 200)
      .flatMap((r) => (r.body as { inputs: { id: string; properties: Record<string, string> }[] }).inputs)
      .filter((i) => i.id === contactId)
      .map((i) => i.properties);

  it('a contact we created follows its customer’s email change', async () => {
    await h.send(stripeEvent('customer.created', customer('cus_own', 'own-old@example.com'), at()));
    await h.idle();
    const created = h.contactOf('cus_own')!;
    expect(await linkOf('cus_own')).toEqual({ contact_id: created.id, matched_by: 'created', matched_email: null });

    await h.send(stripeEvent('customer.updated', customer('cus_own', 'own-new@example.com'), at()));
    await h.idle();
    expect(contact(created.id).properties.email).toBe('own-new@example.com');
    expect(h.contactOf('cus_own')?.id).toBe(created.id);
    expect(byEmail('own-old@example.com')).toHaveLength(0);
  });

  it('a contact found by our customer-id property follows its customer’s email change', async () => {
    const mine = h.hubspot.portal(h.portalId).addContact({ email: 'byid-old@example.com', stripe_customer_id: 'cus_byid2' });
    await h.send(stripeEvent('customer.created', customer('cus_byid2', 'byid-old@example.com'), at()));
    await h.idle();
    expect(await linkOf('cus_byid2')).toEqual({ contact_id: mine.id, matched_by: 'customer_id', matched_email: null });
    await h.send(stripeEvent('customer.updated', customer('cus_byid2', 'byid-new@example.com'), at()));
    await h.idle();
    expect(contact(mine.id).properties.email).toBe('byid-new@example.com');
  });

  it('a contact matched only by email is never given another email: the customer moves to a contact of its own', async () => {
    const victim = h.hubspot.portal(h.portalId).addContact({ email: 'victim@example.com', firstname: 'Victoria' });
    // Someone checks out with the victim's address.
    await h.send(stripeEvent('customer.created', customer('cus_taker', 'Victim@Example.com'), at()));
    await h.idle();
    expect(await linkOf('cus_taker')).toEqual({ contact_id: victim.id, matched_by: 'email', matched_email: 'victim@example.com' });
    expect(contact(victim.id).properties.stripe_customer_id).toBe('cus_taker');

    // ...then changes the Stripe email to their own.
    const change = stripeEvent('customer.updated', customer('cus_taker', 'taker@example.com'), at());
    await h.send(change);
    await h.idle();
    const after = contact(victim.id).properties;
    expect(after.email).toBe('victim@example.com');
    expect(after.firstname).toBe('Victoria');
    // Our properties on the victim's contact were cleared: it is no longer any customer's.
    expect(after.stripe_customer_id).toBeUndefined();
    expect(after.stripe_customer_ids).toBeUndefined();
    for (const sent of updatesTo(victim.id)) expect(sent).not.toHaveProperty('email');

    const own = h.contactOf('cus_taker')!;
    expect(own.id).not.toBe(victim.id);
    expect(own.properties.email).toBe('taker@example.com');
    expect(await linkOf('cus_taker')).toEqual({ contact_id: own.id, matched_by: 'created', matched_email: null });
    expect(await h.eventStatus(change.id as string)).toEqual({ status: 'synced', status_reason: null });
  });

  it('an email-matched customer whose new email another contact has moves to that contact, still never writing an email', async () => {
    const first = h.hubspot.portal(h.portalId).addContact({ email: 'first-home@example.com' });
    const second = h.hubspot.portal(h.portalId).addContact({ email: 'second-home@example.com' });
    await h.send(stripeEvent('customer.created', customer('cus_mover', 'first-home@example.com'), at()));
    await h.idle();
    await h.send(stripeEvent('customer.updated', customer('cus_mover', 'second-home@example.com'), at()));
    await h.idle();
    expect(await linkOf('cus_mover')).toEqual({ contact_id: second.id, matched_by: 'email', matched_email: 'second-home@example.com' });
    expect(contact(second.id).properties.stripe_customer_id).toBe('cus_mover');
    expect(contact(first.id).properties).toMatchObject({ email: 'first-home@example.com' });
    expect(contact(first.id).properties.stripe_customer_id).toBeUndefined();
    expect([...updatesTo(first.id), ...updatesTo(second.id)].some((p) => 'email' in p)).toBe(false);
  });

  it('when the owner’s email changes, a customer matched by the old email moves to a contact of its own', async () => {
    await h.send(stripeEvent('customer.created', customer('cus_owner', 'shared-home@example.com', 1_760_000_000), at()));
    await h.idle();
    const home = h.contactOf('cus_owner')!;
    await h.send(stripeEvent('customer.created', customer('cus_guest', 'shared-home@example.com', 1_760_000_500), at()));
    await h.idle();
    expect(await linkOf('cus_guest')).toEqual({ contact_id: home.id, matched_by: 'email', matched_email: 'shared-home@example.com' });
    expect(contact(home.id).properties.stripe_customer_ids).toBe('cus_owner;cus_guest');

    await h.send(stripeEvent('customer.updated', customer('cus_owner', 'owner-moved@example.com', 1_760_000_000), at()));
    await h.idle();
    expect(contact(home.id).properties).toMatchObject({ email: 'owner-moved@example.com', stripe_customer_id: 'cus_owner', stripe_customer_ids: 'cus_owner' });
    const guest = h.contactOf('cus_guest')!;
    expect(guest.id).not.toBe(home.id);
    expect(guest.properties).toMatchObject({ email: 'shared-home@example.com', stripe_customer_ids: 'cus_guest' });
  });
});
