import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { PLATFORM_ACCOUNT, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { CARD_ENV, CARD_SECRET, cardCall } from './card-client';
import { customerStory } from './card-seed';

/**
 * The card tells the truth, through HTTP against the running product with the fake Stripe and the fake HubSpot:
 * "Check Stripe again" on an unlinked contact really looks its email up in Stripe (and the pusher links what it
 * finds); a linked contact whose data has not arrived is syncing, not "no customer"; what could not be done is said
 * in words for HubSpot users, never with the operator's configuration names.
 */

const OPERATOR_NAMES = /HUBSPOT_|STRIPE_|TOKEN_ENCRYPTION|DATABASE_URL|sk_test|sk_live/;

describe.each(dbKinds())('card lookups and states on %s', (kind) => {
  let stripe: FakeStripe;
  let h: SyncHarness;
  const status = (contactId: string) => cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId });
  const refresh = (contactId: string) => cardCall(h.server.url, '/refresh', { portalId: TEST_PORTAL_ID, contactId });
  const emailLookups = () => stripe.requests.filter((r) => r.path === '/v1/customers' && r.query.email !== undefined);

  beforeAll(async () => {
    stripe = await startFakeStripe();
    h = await startSyncHarness({
      kind,
      hubspot: { clientSecret: CARD_SECRET },
      env: { ...CARD_ENV, STRIPE_API_KEY: 'sk_test_fake', STRIPE_API_BASE_URL: stripe.url },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await stripe?.close();
  });

  it('"Check Stripe again" finds the customer of the contact’s email in Stripe, and the contact gets linked to it', async () => {
    // A customer Stripe has but no webhook told us about, and the contact of its email in HubSpot.
    const customer = stripe.account(PLATFORM_ACCOUNT, false).addCustomer({ email: 'found-later@example.com', name: 'Found Later' });
    const contact = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'found-later@example.com' });

    const before = await status(contact.id);
    expect(before.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', canCheckStripe: true });
    expect(emailLookups()).toHaveLength(0);

    const r = await refresh(contact.id);
    expect(r.status).toBe(200);
    expect(emailLookups().map((x) => x.query.email)).toEqual(['found-later@example.com']);
    expect(r.body.warning).toBeUndefined();
    // The refresh waits a few seconds for the pusher to link what it found; on a slow machine it says it is on its way.
    if (r.body.state === 'linked') {
      expect(r.body).toMatchObject({ syncing: 0, customers: [{ customerId: customer.id, name: 'Found Later' }] });
    } else {
      expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', message: expect.stringContaining('is being linked to this contact') });
    }
    await h.idle();
    expect(h.hubspot.portal(TEST_PORTAL_ID).contacts.get(contact.id)?.properties.stripe_customer_id).toBe(customer.id);
    expect((await status(contact.id)).body).toMatchObject({ state: 'linked', customers: [{ customerId: customer.id }] });
  });

  it('says when Stripe has no customer with the contact’s email', async () => {
    const contact = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'nobody-in-stripe@example.com' });
    const r = await refresh(contact.id);
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', canCheckStripe: true });
    expect(r.body.message).toBe('Stripe has no test-mode customer with the email nobody-in-stripe@example.com.');
    expect(r.body.warning).toBeUndefined();
  });

  it('says when the contact has no email to look up', async () => {
    const contact = h.hubspot.portal(TEST_PORTAL_ID).addContact({ firstname: 'No Email' });
    const before = emailLookups().length;
    const r = await refresh(contact.id);
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', message: 'This contact has no email to look up in Stripe.' });
    expect(emailLookups()).toHaveLength(before);
  });

  it('says Stripe could not be asked when it is down, and links nothing', async () => {
    stripe.account(PLATFORM_ACCOUNT, false).addCustomer({ email: 'while-down@example.com' });
    const contact = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'while-down@example.com' });
    stripe.setDown(true);
    try {
      const r = await refresh(contact.id);
      expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', canCheckStripe: true });
      expect(r.body.warning).toMatch(/could not be reached/);
      expect(JSON.stringify(r.body)).not.toMatch(OPERATOR_NAMES);
    } finally {
      stripe.setDown(false);
    }
    expect((await status(contact.id)).body.state).toBe('not_linked');
  });

  it('shows a linked customer whose data has not arrived as syncing, not as "no customer"', async () => {
    const contact = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'syncing@example.com' });
    await h.server.db.query(
      `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by) VALUES ('', false, 'cus_notyet', $1, $2, 'customer_id')`,
      [TEST_PORTAL_ID, contact.id],
    );
    expect((await status(contact.id)).body).toEqual({ state: 'linked', customers: [], syncing: 1 });
  });

  it('never names the operator’s configuration in a warning: a live customer with a test key', async () => {
    const live = customerStory('cus_livecard', 'live-card@example.com', { livemode: true });
    await h.send(...live);
    await h.idle();
    const contactId = h.contactOf('cus_livecard')!.id;
    const r = await refresh(contactId);
    expect(r.body).toMatchObject({ state: 'linked', customers: [{ customerId: 'cus_livecard', livemode: true }] });
    expect(r.body.warning).toMatch(/live/);
    expect(r.body.warning).toMatch(/last synced state/);
    expect(r.body.warning).not.toMatch(OPERATOR_NAMES);
  });
});
