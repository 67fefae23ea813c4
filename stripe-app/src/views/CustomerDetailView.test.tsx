jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
}));

import { Badge, Banner, Box, Button, Link, PropertyListItem, Spinner } from '@stripe/ui-extension-sdk/ui';
import type { CustomerStatus } from '../data/contracts';
import { apiError, deferred, installFakeBackend, ok, type FakeBackend, type Reply } from '../../test/fakeBackend';
import { customerResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { CustomerDetailView } from './CustomerDetailView';

let backend: FakeBackend;
const props = () => viewProps({ objectId: 'cus_A' });

beforeEach(() => {
  backend = installFakeBackend({ 'GET /customers/cus_A': ok(customerResponse()) });
});

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function loaded(p = props()) {
  const view = renderView(<CustomerDetailView {...p} />);
  await view.settle();
  return view;
}

const STATUS: CustomerStatus = {
  accountId: 'acct_test_1',
  livemode: false,
  customerId: 'cus_A',
  email: 'jane@example.com',
  name: 'Jane',
  currency: 'usd',
  customerSince: 1714557600,
  subscription: null,
  lastPayment: null,
  lastFailureReason: null,
  failedPaymentCount: 0,
  openInvoiceCount: 0,
  openAmountDue: 0,
  lifetimeValue: 4900,
  totalRefunded: 0,
  disputedAmount: 0,
  nextInvoiceAmount: null,
  delinquent: false,
  deleted: false,
  dashboardUrl: 'https://dashboard.stripe.com/test/customers/cus_A',
  updatedAt: '2024-05-01T10:00:00.000Z',
  lastSyncedAt: '2024-05-01T10:00:05.000Z',
};

describe('CustomerDetailView', () => {
  it('shows a spinner while loading', () => {
    backend.route('GET /customers/cus_A', () => new Promise<Reply>(() => undefined));
    const { wrapper } = renderView(<CustomerDetailView {...props()} />);
    expect(wrapper).toContainComponent(Spinner);
  });

  it('shows the linked contact with a link, the sync state and the last synced facts', async () => {
    backend.route('GET /customers/cus_A', ok(customerResponse({ status: STATUS })));
    const { wrapper } = await loaded();
    expect(backend.calls('GET /customers/cus_A')[0].query).toEqual({ mode: 'test' });
    expect(hasText(wrapper, Badge, 'Synced')).toBe(true);
    expect(wrapper).toContainText('HubSpot contact 901 in portal 424242');
    expect(wrapper).toContainText('Last synced 2024-05-01 10:00 UTC');
    expect(byText(wrapper, Link, 'Open the contact in HubSpot')).toHaveProps({
      href: 'https://app.hubspot.com/contacts/424242/record/0-1/901',
    });
    expect(wrapper.find(PropertyListItem, { label: 'Subscription status' })).toHaveProps({ value: 'active' });
    expect(wrapper.find(PropertyListItem, { label: 'MRR' })).toHaveProps({ value: '49.00' });
  });

  it('links the HubSpot company and every subscription’s deal, and lists the latest revenue movements', async () => {
    const host = 'https://app-eu1.hubspot.com/contacts/424242/record';
    backend.route(
      'GET /customers/cus_A',
      ok(
        customerResponse({
          status: STATUS,
          company: { name: 'Analytical Engines', hubspotUrl: `${host}/0-2/7001` },
          subscriptions: [
            { id: 'sub_live', status: 'active', plan: 'Pro', mrr: 4900, currency: 'usd', currentPeriodEnd: 1717236000, cancelAtPeriodEnd: false, hubspotDealUrl: `${host}/0-3/9001` },
            { id: 'sub_trial', status: 'trialing', plan: 'Add-on', mrr: 0, currency: 'usd', currentPeriodEnd: 1715000000, cancelAtPeriodEnd: true, hubspotDealUrl: null },
            { id: 'sub_old', status: 'canceled', plan: null, mrr: 0, currency: 'usd', currentPeriodEnd: 1700000000, cancelAtPeriodEnd: false, hubspotDealUrl: `${host}/0-3/9000` },
          ],
          movements: [
            { id: 'sub_live:evt_2:upgrade', kind: 'upgrade', occurredAt: 1714557600, amount: 2900, currency: 'usd', mrrBefore: 2000, mrrAfter: 4900 },
            { id: 'in_1:failed:1', kind: 'payment_failed', occurredAt: 1714471200, amount: 4900, currency: 'usd', mrrBefore: null, mrrAfter: null },
            { id: 'sub_old:evt_1:churn', kind: 'churn', occurredAt: 1700000000, amount: -1000, currency: 'usd', mrrBefore: 3000, mrrAfter: 2000 },
          ],
        }),
      ),
    );
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('HubSpot company: Analytical Engines');
    expect(byText(wrapper, Link, 'Open the company in HubSpot')).toHaveProps({ href: `${host}/0-2/7001`, target: '_blank' });
    expect(wrapper).toContainText('Subscriptions and deals');
    const deals = wrapper.findAll(Link).filter((l) => l.text === 'Open the deal in HubSpot').map((l) => l.prop('href'));
    expect(deals).toEqual([`${host}/0-3/9001`, `${host}/0-3/9000`]);
    expect(wrapper).toContainText('sub_live · $49.00 MRR · renews 2024-06-01');
    expect(wrapper).toContainText('sub_trial · $0.00 MRR · ends 2024-05-06');
    expect(wrapper).toContainText('No HubSpot deal yet.');
    expect(hasText(wrapper, Badge, 'Trialing')).toBe(true);
    expect(hasText(wrapper, Badge, 'Canceled')).toBe(true);
    expect(wrapper).toContainText('Unnamed plan');
    expect(wrapper).toContainText('Latest revenue movements');
    const texts = wrapper.findAll(Box).map((b) => b.text);
    const upgrade = texts.indexOf('Upgrade +$29.00 · MRR $20.00 → $49.00');
    const failed = texts.indexOf('Payment failed $49.00');
    const churn = texts.indexOf('Churn −$10.00 · MRR $30.00 → $20.00');
    expect(upgrade).toBeGreaterThan(-1);
    expect(failed).toBeGreaterThan(upgrade);
    expect(churn).toBeGreaterThan(failed);
    expect(wrapper).toContainText('2024-05-01 10:00 UTC');
    // The contact and the last synced facts are still there.
    expect(byText(wrapper, Link, 'Open the contact in HubSpot')).toHaveProps({ href: 'https://app.hubspot.com/contacts/424242/record/0-1/901' });
    expect(wrapper.find(PropertyListItem, { label: 'MRR' })).toHaveProps({ value: '49.00' });
  });

  it('shows nothing of companies, deals or movements when there are none, or from a backend that does not send them', async () => {
    backend.route('GET /customers/cus_A', ok(customerResponse({ status: STATUS, subscriptions: [], company: null, movements: [] })));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainText('HubSpot company');
    expect(wrapper).not.toContainText('Subscriptions and deals');
    expect(wrapper).not.toContainText('Latest revenue movements');
    expect(wrapper.findAll(Link).map((l) => l.text)).toEqual(['Open the contact in HubSpot']);
    unmountAll();

    backend.route('GET /customers/cus_A', ok(customerResponse({ status: STATUS })));
    const older = await loaded();
    expect(older.wrapper).toContainText('HubSpot contact 901 in portal 424242');
    expect(older.wrapper.findAll(Link).map((l) => l.text)).toEqual(['Open the contact in HubSpot']);
  });

  it('shows a not-linked customer with the reason', async () => {
    backend.route(
      'GET /customers/cus_A',
      ok(customerResponse({ state: 'skipped', reason: 'The customer has no email address.', contact: null, syncedFields: [] })),
    );
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Skipped')).toBe(true);
    expect(wrapper).toContainText('The customer has no email address.');
    expect(wrapper).toContainText('Not linked to a HubSpot contact yet.');
    expect(wrapper).not.toContainComponent(Link);
  });

  it('shows a failed sync with HubSpot’s message', async () => {
    backend.route(
      'GET /customers/cus_A',
      ok(customerResponse({ state: 'failed', reason: 'HubSpot: Property "stripe_mrr" does not exist' })),
    );
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Sync failed')).toBe(true);
    expect(wrapper).toContainText('HubSpot: Property "stripe_mrr" does not exist');
  });

  it('syncs now: posts to the customer, shows it pending, then reloads', async () => {
    const answer = deferred();
    backend.route('POST /customers/cus_A/sync', () => answer.promise);
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Sync now').trigger('onPress'));
    await settle();
    expect(byText(wrapper, Button, 'Sync now').prop('pending')).toBe(true);
    const [post] = backend.calls('POST /customers/cus_A/sync');
    expect(post.body).toEqual({ mode: 'test' });
    expect(post.headers['stripe-signature']).toBe('t=1700000000,v1=fake-signature');

    backend.route('GET /customers/cus_A', ok(customerResponse({ state: 'pending' })));
    answer.resolve(ok({ queued: true }));
    await settle();
    expect(wrapper).toContainComponent(Banner, { title: 'Sync queued' });
    expect(backend.calls('GET /customers/cus_A')).toHaveLength(2);
    expect(hasText(wrapper, Badge, 'Sync pending')).toBe(true);
    expect(byText(wrapper, Button, 'Sync now').prop('pending')).toBe(false);
  });

  it('explains a sync that could not start', async () => {
    backend.route('POST /customers/cus_A/sync', apiError(502, 'hubspot_error', 'HubSpot is unavailable'));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Sync now').trigger('onPress'));
    await settle();
    expect(wrapper.find(Banner, { title: 'Sync not started' })!.prop('description')).toBe(
      'HubSpot did not answer the sync service. Try again in a moment.',
    );
  });

  it('explains a customer no event has reached yet, with no sync button (nothing to re-send)', async () => {
    backend.route(
      'GET /customers/cus_A',
      ok(
        customerResponse({
          state: 'not_synced',
          contact: null,
          status: null,
          syncedFields: [{ key: 'mrr', property: 'stripe_mrr', value: null }],
        }),
      ),
    );
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Not synced yet')).toBe(true);
    expect(wrapper).toContainText('No event about this customer has reached the sync yet');
    expect(hasText(wrapper, Button, 'Sync now')).toBe(false);
    expect(wrapper).not.toContainComponent(PropertyListItem);
  });

  it('treats a 404 for the customer the same way', async () => {
    backend.route('GET /customers/cus_A', apiError(404, 'not_found', 'Unknown customer'));
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('No event about this customer has reached the sync yet');
    expect(hasText(wrapper, Button, 'Sync now')).toBe(false);
    expect(wrapper).not.toContainComponent(Banner);
  });

  it('shows the not-connected state for the current mode', async () => {
    backend.route('GET /customers/cus_A', apiError(409, 'not_connected', 'No HubSpot connection'));
    const { wrapper } = await loaded(viewProps({ objectId: 'cus_A', mode: 'live' }));
    expect(backend.calls('GET /customers/cus_A')[0].query).toEqual({ mode: 'live' });
    expect(wrapper.find(Banner, { title: 'HubSpot is not connected' })!.prop('description')).toMatch(/live mode/);
    expect(hasText(wrapper, Button, 'Sync now')).toBe(false);
  });

  it('explains an unreachable backend and retries', async () => {
    backend.route('GET /customers/cus_A', 'network-error');
    const { wrapper, settle } = await loaded();
    expect(wrapper.find(Banner, { title: 'The HubSpot status could not be loaded' })!.prop('description')).toMatch(
      /can’t be reached/,
    );
    backend.route('GET /customers/cus_A', ok(customerResponse()));
    wrapper.act(() => byText(wrapper, Button, 'Try again').trigger('onPress'));
    await settle();
    expect(wrapper).toContainText('HubSpot contact 901');
  });
});
