import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { CARD_ENV, CARD_SECRET, cardCall } from './card-client';
import { customerStory, T0 } from './card-seed';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { waitFor } from '../helpers/server';

/**
 * POST /api/card/v1/status through HTTP against the running product: the read model is built from signed Stripe
 * events, customers are linked to contacts by the pusher, and the card asks as HubSpot does.
 */

const SECOND_ACCOUNT = 'acct_cardsecond';
const SECOND_PORTAL = 5151;
const UNKNOWN_PORTAL = 919_191;

describe.each(dbKinds())('card status on %s', (kind) => {
  let h: SyncHarness;
  const contactIdOf = (customerId: string, portal = TEST_PORTAL_ID) =>
    h.hubspot.portal(portal).contactByProperty('stripe_customer_id', customerId)?.id ?? '';
  const status = (portalId: number, contactId: string) => cardCall(h.server.url, '/status', { portalId, contactId });

  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      hubspot: { clientSecret: CARD_SECRET },
      env: {
        ...CARD_ENV,
        STRIPE_APP_SECRET: TEST_APP_SECRET,
      },
    });
    // The second Stripe account connects its own portal through OAuth (test mode).
    await connectHubSpot(h.server.url, h.hubspot, { caller: { accountId: SECOND_ACCOUNT }, mode: 'test', portalId: SECOND_PORTAL });

    await h.send(
      ...customerStory('cus_cardlinked', 'linked@example.com', { failedRenewal: true, refunded: 1000 }),
      ...customerStory('cus_cardmulti1', 'multi@example.com', { unitAmount: 1000, quantity: 1 }),
      ...customerStory('cus_cardmulti2', 'multi@example.com', { unitAmount: 5000, quantity: 1, currency: 'eur' }),
      ...customerStory('cus_cardsecond', 'second@example.com', { account: SECOND_ACCOUNT }),
    );
    await h.idle();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers a linked contact with its customer and the facts of the read model', async () => {
    const contactId = contactIdOf('cus_cardlinked');
    expect(contactId).not.toBe('');
    const r = await status(TEST_PORTAL_ID, contactId);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('linked');
    expect(r.body.warning).toBeUndefined();
    expect(r.body.syncing).toBe(0);
    expect(r.body.customers).toHaveLength(1);
    const c = r.body.customers[0];
    expect(c).toMatchObject({
      accountId: '',
      livemode: false,
      customerId: 'cus_cardlinked',
      email: 'linked@example.com',
      name: 'Name of cus_cardlinked',
      currency: 'usd',
      customerSince: T0,
      subscription: { id: 'sub_cardlinked', status: 'past_due', plan: 'Pro', mrr: 4000, currency: 'usd', currentPeriodEnd: T0 + 30 * 86_400, cancelAtPeriodEnd: false },
      lastPayment: { amount: 4000, currency: 'usd', status: 'failed' },
      failedPaymentCount: 1,
      openInvoiceCount: 1,
      openAmountDue: 4000,
      lifetimeValue: 3000,
      totalRefunded: 1000,
      deleted: false,
      dashboardUrl: 'https://dashboard.stripe.com/test/customers/cus_cardlinked',
    });
    // HubSpot received this state: the card says when.
    expect(typeof c.lastSyncedAt).toBe('string');
    expect(Number.isNaN(Date.parse(c.lastSyncedAt))).toBe(false);
  });

  it('shows a change the moment it is applied, however often the contact was viewed before', async () => {
    const contactId = contactIdOf('cus_cardlinked');
    for (let i = 0; i < 3; i++) expect((await status(TEST_PORTAL_ID, contactId)).body.customers[0].name).toBe('Name of cus_cardlinked');
    const renamed = stripeObject('customer', { id: 'cus_cardlinked', email: 'linked@example.com', name: 'Renamed Ltd', created: T0, currency: 'usd', delinquent: false });
    await h.send(stripeEvent('customer.updated', renamed, { created: T0 + 40 * 86_400 }));
    await waitFor(async () => (await status(TEST_PORTAL_ID, contactId)).body.customers[0].name === 'Renamed Ltd', {
      what: 'the card to show the new name',
      timeoutMs: 10_000,
    });
    await h.idle();
  });

  it('answers every Stripe customer linked to one contact', async () => {
    const contactId = contactIdOf('cus_cardmulti1') || contactIdOf('cus_cardmulti2');
    const { rows } = await h.server.db.query<{ customer_id: string; contact_id: string }>(
      `SELECT customer_id, contact_id FROM contact_links WHERE customer_id IN ('cus_cardmulti1', 'cus_cardmulti2') ORDER BY customer_id`,
    );
    // Both customers share the email, so the pusher linked both to one contact.
    expect(rows.map((x) => x.contact_id)).toEqual([contactId, contactId]);
    const r = await status(TEST_PORTAL_ID, contactId);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('linked');
    const byId = Object.fromEntries((r.body.customers as { customerId: string }[]).map((c) => [c.customerId, c]));
    expect(Object.keys(byId).sort()).toEqual(['cus_cardmulti1', 'cus_cardmulti2']);
    expect(byId.cus_cardmulti1).toMatchObject({ currency: 'usd', subscription: { mrr: 1000, status: 'active' }, lifetimeValue: 1000 });
    expect(byId.cus_cardmulti2).toMatchObject({ currency: 'eur', subscription: { mrr: 5000, status: 'active', currency: 'eur' }, lifetimeValue: 5000 });
  });

  it('says no_customer for a contact of a connected portal that no customer is linked to', async () => {
    const stranger = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'nobody@example.com' });
    const r = await status(TEST_PORTAL_ID, stranger.id);
    expect(r.status).toBe(200);
    // No Stripe API key on this backend: the card does not offer to look the contact up in Stripe.
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', canCheckStripe: false });
    expect(r.body.message).toMatch(/no stripe customer/i);
    // The OAuth-connected portal too.
    const other = h.hubspot.portal(SECOND_PORTAL).addContact({ email: 'nobody2@example.com' });
    expect((await status(SECOND_PORTAL, other.id)).body).toMatchObject({ state: 'not_linked', reason: 'no_customer' });
  });

  it('says no_install for a portal no Stripe account is connected to', async () => {
    const r = await status(UNKNOWN_PORTAL, '12345');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_install' });
    expect(r.body.message).toMatch(/not connected/i);
  });

  it('never lets a portal read another portal’s data, even with a contact id that exists there', async () => {
    const firstContact = contactIdOf('cus_cardlinked');
    const secondContact = contactIdOf('cus_cardsecond', SECOND_PORTAL);
    expect(secondContact).not.toBe('');
    // Each portal sees its own customer.
    expect((await status(SECOND_PORTAL, secondContact)).body.customers.map((c: { customerId: string }) => c.customerId)).toEqual(['cus_cardsecond']);
    // The other portal's contact id reads nothing.
    const a = await status(SECOND_PORTAL, firstContact);
    expect(a.body).toMatchObject({ state: 'not_linked', reason: 'no_customer' });
    const b = await status(TEST_PORTAL_ID, secondContact);
    expect(b.body).toMatchObject({ state: 'not_linked', reason: 'no_customer' });
    const c = await status(UNKNOWN_PORTAL, firstContact);
    expect(c.body).toMatchObject({ state: 'not_linked', reason: 'no_install' });
    expect(JSON.stringify([a.body, b.body, c.body])).not.toMatch(/cus_card|@example\.com/);
    // Naming the other portal in the body while HubSpot's query names the caller is refused.
    const forged = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId: firstContact }, { queryPortalId: SECOND_PORTAL });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('forbidden');
  });

  it('stops answering a portal’s data once its Stripe account disconnects it', async () => {
    const secondContact = contactIdOf('cus_cardsecond', SECOND_PORTAL);
    const off = await appRequest(h.server.url, 'DELETE', '/hubspot/connection?mode=test', { accountId: SECOND_ACCOUNT });
    expect(off.body).toEqual({ disconnected: true });
    const r = await status(SECOND_PORTAL, secondContact);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_install' });
    expect(JSON.stringify(r.body)).not.toContain('cus_cardsecond');
  });
});
