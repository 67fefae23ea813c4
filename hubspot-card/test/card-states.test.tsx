import {
  Alert,
  Button,
  DescriptionListItem,
  EmptyState,
  ErrorState,
  Flex,
  Link,
  LoadingButton,
  LoadingSpinner,
  StatusTag,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import type { RenderedParentNode } from '@hubspot/ui-extensions/testing';
import type { SubscriptionStatusValue } from '../src/app/cards/lib/contracts';
import { customerStatus, DAY, deferred, fakeHubSpotFetch, linked, notLinked, T0, type FakeAnswer } from './fixtures';
import { allText, renderCard, TEST_BACKEND_URL, type CardRenderer } from './render';

afterEach(() => jest.restoreAllMocks());

/** The text of the description item with this label, inside `scope` (the whole card by default). */
function item(scope: RenderedParentNode, label: string): string {
  return allText(scope.find(DescriptionListItem, { label }));
}

/** Lets effects and pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function renderLinked(...customers: Parameters<typeof linked>): Promise<CardRenderer> {
  fakeHubSpotFetch(() => ({ status: 200, body: linked(...customers) }));
  const card = renderCard();
  await card.waitFor(() => expect(card.maybeFind(LoadingSpinner)).toBeNull());
  return card;
}

describe('loading', () => {
  it('shows a labelled spinner while /status is on its way, and asks for this portal and contact', async () => {
    const answer = deferred<FakeAnswer>();
    const { calls } = fakeHubSpotFetch(() => answer.promise);
    const card = renderCard();
    await settle();

    expect(card.find(LoadingSpinner).props.label).toBe('Loading Stripe payment status');
    expect(calls).toEqual([
      { url: `${TEST_BACKEND_URL}/api/card/v1/status`, method: 'POST', body: { portalId: 123, contactId: '123' }, timeout: expect.any(Number) },
    ]);
    expect(calls[0]?.timeout).toBeLessThan(15_000);

    answer.resolve({ status: 200, body: linked(customerStatus()) });
    await card.waitFor(() => expect(card.maybeFind(LoadingSpinner)).toBeNull());
  });
});

describe('a linked customer', () => {
  it('shows an active subscription with plan, MRR, payments, totals, link and sync time', async () => {
    const card = await renderLinked(customerStatus());
    const root = card.getRootNode();

    const status = card.findByTestId(StatusTag, 'subscription-status-cus_Active1');
    expect(status.text).toBe('Active');
    expect(status.props.variant).toBe('success');
    expect(allText(card.find(Flex, { testId: 'customer-cus_Active1' }))).toContain('Ada Lovelace');
    expect(item(root, 'Plan')).toBe('Pro (monthly)');
    expect(item(root, 'MRR')).toBe('$49.00');
    expect(item(root, 'Next renewal')).toBe('Mar 23, 2026');
    expect(item(root, 'Cancels at period end')).toBe('No');
    expect(item(root, 'Last payment')).toBe('$49.00 on Feb 21, 2026 Succeeded');
    expect(card.findByTestId(StatusTag, 'payment-status-cus_Active1').props.variant).toBe('success');
    expect(item(root, 'Failed payments')).toBe('0');
    expect(item(root, 'Open invoices')).toBe('None');
    expect(item(root, 'Next invoice')).toBe('$49.00');
    expect(item(root, 'Refunds')).toBe('$0.00');
    expect(item(root, 'Lifetime value')).toBe('$588.00');
    expect(item(root, 'Customer since')).toBe('Jan 27, 2025');
    expect(card.maybeFind(DescriptionListItem, { label: 'Disputed' })).toBeNull();

    const link = card.findByTestId(Link, 'dashboard-link-cus_Active1');
    expect(link.props.href).toEqual({ url: 'https://dashboard.stripe.com/acct_1Merchant/customers/cus_Active1', external: true });
    expect(link.text).toBe('Open in Stripe Dashboard');
    expect(card.maybeFind(Tag)).toBeNull();
    // 15:00 UTC in the portal's zone (the mock portal is in America/New_York).
    expect(card.findByTestId(Text, 'last-synced-cus_Active1').text).toBe('Last synced to HubSpot Mar 3, 2026, 10:00 AM');
    expect(card.maybeFind(Alert)).toBeNull();
  });

  it('flags a past_due subscription with its failed payments, failure reason and open invoices', async () => {
    const card = await renderLinked(
      customerStatus({
        subscription: { ...customerStatus().subscription!, status: 'past_due' },
        lastPayment: { amount: 4900, currency: 'usd', at: T0 - DAY, status: 'failed' },
        lastFailureReason: 'Your card was declined.',
        failedPaymentCount: 3,
        openInvoiceCount: 2,
        openAmountDue: 9800,
        delinquent: true,
      }),
    );
    const root = card.getRootNode();

    const status = card.findByTestId(StatusTag, 'subscription-status-cus_Active1');
    expect(status.text).toBe('Past due');
    expect(status.props.variant).toBe('warning');
    const alert = card.find(Alert);
    expect(alert.props.title).toBe('Payment problem');
    expect(alert.props.variant).toBe('danger');
    expect(allText(alert)).toBe('3 failed payments. Your card was declined.');
    expect(item(root, 'Failed payments')).toBe('3');
    expect(item(root, 'Open invoices')).toBe('2 · $98.00 due');
    expect(item(root, 'Last payment')).toBe('$49.00 on Mar 2, 2026 Failed');
    expect(card.findByTestId(StatusTag, 'payment-status-cus_Active1').props.variant).toBe('danger');
  });

  it('shows a canceled subscription without a renewal, and refunds and disputes when there are some', async () => {
    const card = await renderLinked(
      customerStatus({
        subscription: { ...customerStatus().subscription!, status: 'canceled', mrr: 0 },
        lastPayment: { amount: 4900, currency: 'usd', at: T0 - 5 * DAY, status: 'refunded' },
        totalRefunded: 4900,
        disputedAmount: 1500,
        lifetimeValue: 53_900,
        nextInvoiceAmount: null,
      }),
    );
    const root = card.getRootNode();

    const status = card.findByTestId(StatusTag, 'subscription-status-cus_Active1');
    expect(status.text).toBe('Canceled');
    expect(status.props.variant).toBe('default');
    expect(item(root, 'MRR')).toBe('$0.00');
    expect(item(root, 'Next renewal')).toBe('—');
    expect(item(root, 'Refunds')).toBe('$49.00');
    expect(item(root, 'Disputed')).toBe('$15.00');
    expect(item(root, 'Lifetime value')).toBe('$539.00');
    expect(item(root, 'Last payment')).toBe('$49.00 on Feb 26, 2026 Refunded');
    expect(card.maybeFind(DescriptionListItem, { label: 'Next invoice' })).toBeNull();
    expect(card.maybeFind(Alert)).toBeNull();
  });

  it('says when a subscription cancels at the end of its period', async () => {
    const card = await renderLinked(customerStatus({ subscription: { ...customerStatus().subscription!, cancelAtPeriodEnd: true } }));
    expect(item(card.getRootNode(), 'Cancels at period end')).toBe('Yes');
    expect(item(card.getRootNode(), 'Next renewal')).toBe('Ends Mar 23, 2026');
  });

  it.each<[SubscriptionStatusValue, string, string]>([
    ['trialing', 'Trialing', 'info'],
    ['unpaid', 'Unpaid', 'danger'],
    ['incomplete', 'Incomplete', 'warning'],
    ['paused', 'Paused', 'default'],
  ])('tags a %s subscription as "%s" (%s)', async (value, label, variant) => {
    const card = await renderLinked(customerStatus({ subscription: { ...customerStatus().subscription!, status: value } }));
    const status = card.findByTestId(StatusTag, 'subscription-status-cus_Active1');
    expect([status.text, status.props.variant]).toEqual([label, variant]);
  });

  it('shows a customer without subscription or payments', async () => {
    const card = await renderLinked(
      customerStatus({ subscription: null, lastPayment: null, lifetimeValue: 0, nextInvoiceAmount: null, lastSyncedAt: null }),
    );
    const root = card.getRootNode();
    const status = card.findByTestId(StatusTag, 'subscription-status-cus_Active1');
    expect([status.text, status.props.variant]).toEqual(['No subscription', 'default']);
    expect(item(root, 'Plan')).toBe('No subscription');
    expect(item(root, 'MRR')).toBe('$0.00');
    expect(item(root, 'Last payment')).toBe('No payments yet');
    expect(item(root, 'Cancels at period end')).toBe('—');
    expect(card.findByTestId(Text, 'last-synced-cus_Active1').text).toBe('Not synced to HubSpot yet');
  });

  it('warns when the customer was deleted in Stripe', async () => {
    const card = await renderLinked(customerStatus({ deleted: true }));
    expect(card.find(Alert).props.title).toBe('Deleted in Stripe');
  });

  it('links to the test-mode Dashboard and marks a test-mode customer', async () => {
    const card = await renderLinked(
      customerStatus({ livemode: false, dashboardUrl: 'https://dashboard.stripe.com/acct_1Merchant/test/customers/cus_Active1' }),
    );
    const link = card.findByTestId(Link, 'dashboard-link-cus_Active1');
    expect(link.props.href).toEqual({ url: 'https://dashboard.stripe.com/acct_1Merchant/test/customers/cus_Active1', external: true });
    expect(link.text).toBe('Open in Stripe Dashboard (test mode)');
    expect(card.find(Tag).text).toBe('Test mode');
  });

  it('formats yen without decimals', async () => {
    const card = await renderLinked(
      customerStatus({
        currency: 'jpy',
        subscription: { ...customerStatus().subscription!, mrr: 5000, currency: 'jpy' },
        lastPayment: { amount: 5000, currency: 'jpy', at: T0 - 10 * DAY, status: 'succeeded' },
        lifetimeValue: 120_000,
        openInvoiceCount: 1,
        openAmountDue: 5000,
        nextInvoiceAmount: 5000,
      }),
    );
    const root = card.getRootNode();
    expect(item(root, 'MRR')).toBe('¥5,000');
    expect(item(root, 'Last payment')).toBe('¥5,000 on Feb 21, 2026 Succeeded');
    expect(item(root, 'Lifetime value')).toBe('¥120,000');
    expect(item(root, 'Open invoices')).toBe('1 · ¥5,000 due');
  });
});

describe('several Stripe customers on one contact', () => {
  it('lists each customer with its own status and currency', async () => {
    const card = await renderLinked(
      customerStatus(),
      customerStatus({
        customerId: 'cus_Euro2',
        name: null,
        email: 'ada@example.eu',
        currency: 'eur',
        livemode: false,
        subscription: { ...customerStatus().subscription!, id: 'sub_2', status: 'past_due', mrr: 1999, currency: 'eur' },
        lifetimeValue: 3998,
        dashboardUrl: 'https://dashboard.stripe.com/acct_1Merchant/test/customers/cus_Euro2',
      }),
    );

    expect(card.findByTestId(Text, 'customer-count').text).toBe('2 Stripe customers are linked to this contact.');
    const first = card.findByTestId(Flex, 'customer-cus_Active1');
    const second = card.findByTestId(Flex, 'customer-cus_Euro2');
    expect(first.find(StatusTag).text).toBe('Active');
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Euro2').text).toBe('Past due');
    expect(second.find(Tag).text).toBe('Test mode');
    expect(allText(second)).toContain('ada@example.eu');
    expect(item(first, 'MRR')).toBe('$49.00');
    expect(item(second, 'MRR')).toBe('€19.99');
    expect(item(second, 'Lifetime value')).toBe('€39.98');
    expect(second.find(Link).text).toBe('Open in Stripe Dashboard (test mode)');
    expect(first.find(Link).text).toBe('Open in Stripe Dashboard');
  });
});

/** No operator-facing configuration names reach a HubSpot user. */
const OPERATOR_NAMES = /HUBSPOT_|STRIPE_|TOKEN_ENCRYPTION|DATABASE_URL/;

describe('not linked', () => {
  it('explains a portal without a Stripe install, and what a marketplace user does about it', async () => {
    const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: notLinked('no_install', 'This HubSpot account is not connected to a Stripe account yet.') }));
    const card = renderCard();
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('Stripe is not connected to this HubSpot account'));
    const text = allText(card.find(EmptyState));
    expect(text).toContain('This HubSpot account is not connected to a Stripe account yet.');
    expect(text).toContain('Stripe App Marketplace');
    expect(text).toContain('connects this HubSpot account');
    expect(text).not.toMatch(OPERATOR_NAMES);
    // "Check again" asks the backend again (nothing in Stripe to look up before a connection exists).
    card.findByTestId(Button, 'check-again').trigger('onClick');
    await card.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls.map((c) => c.url)).toEqual([`${TEST_BACKEND_URL}/api/card/v1/status`, `${TEST_BACKEND_URL}/api/card/v1/status`]);
  });

  it('tells a self-hosted merchant to set up the sync, not to install the marketplace app', async () => {
    fakeHubSpotFetch(() => ({ status: 200, body: notLinked('no_install', 'This HubSpot account is not connected to a Stripe account yet.') }));
    const card = renderCard({ BACKEND_URL: 'https://sync.merchant.example', DISTRIBUTION: 'private' });
    await card.waitFor(() => expect(card.maybeFind(EmptyState)).not.toBeNull());
    const text = allText(card.find(EmptyState));
    expect(text).toContain('whoever runs your Stripe sync service sets up the sync for this HubSpot account');
    expect(text).not.toContain('Marketplace');
    expect(text).not.toMatch(OPERATOR_NAMES);
  });

  it('explains a contact without a Stripe customer, and "Check Stripe again" asks the backend to look it up', async () => {
    const { calls } = fakeHubSpotFetch((call) =>
      call.url.endsWith('/status')
        ? { status: 200, body: notLinked('no_customer', 'No Stripe customer is linked to this contact.', { canCheckStripe: true }) }
        : { status: 200, body: linked(customerStatus()) },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('No Stripe customer for this contact'));
    const text = allText(card.find(EmptyState));
    expect(text).toContain('No Stripe customer is linked to this contact.');
    expect(text).toContain("looks this contact's email up in Stripe");
    expect(card.maybeFindByTestId(Button, 'check-again')).toBeNull();

    card.findByTestId(LoadingButton, 'check-stripe').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active'));
    expect(calls.map((c) => c.url)).toEqual([`${TEST_BACKEND_URL}/api/card/v1/status`, `${TEST_BACKEND_URL}/api/card/v1/refresh`]);
    expect(calls[1]?.body).toEqual({ portalId: 123, contactId: '123' });
  });

  it('shows why a lookup in Stripe found nothing, and what it could not do', async () => {
    fakeHubSpotFetch((call) =>
      call.url.endsWith('/status')
        ? { status: 200, body: notLinked('no_customer', 'No Stripe customer is linked to this contact.', { canCheckStripe: true }) }
        : {
            status: 200,
            body: notLinked('no_customer', 'Stripe has no test-mode customer with the email ada@example.com.', { canCheckStripe: true }),
          },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFindByTestId(LoadingButton, 'check-stripe')).not.toBeNull());
    card.findByTestId(LoadingButton, 'check-stripe').trigger('onClick');
    await card.waitFor(() => expect(allText(card.find(EmptyState))).toContain('Stripe has no test-mode customer with the email ada@example.com.'));
    expect(card.mocks.actions.addAlert.calls).toEqual([]);
  });

  it('does not offer "Check Stripe again" when the backend cannot ask Stripe', async () => {
    const { calls } = fakeHubSpotFetch(() => ({
      status: 200,
      body: notLinked('no_customer', 'No Stripe customer is linked to this contact.', { canCheckStripe: false }),
    }));
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFind(EmptyState)).not.toBeNull());
    expect(card.maybeFindByTestId(LoadingButton, 'check-stripe')).toBeNull();
    expect(allText(card.find(EmptyState))).not.toContain('Check Stripe again');
    card.findByTestId(Button, 'check-again').trigger('onClick');
    await card.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls.every((c) => c.url.endsWith('/status'))).toBe(true);
  });
});

describe('syncing', () => {
  it('shows a linked contact whose data has not arrived as syncing, never as "no Stripe customer"', async () => {
    const { calls } = fakeHubSpotFetch((_call, index) =>
      index === 0 ? { status: 200, body: { state: 'linked', customers: [], syncing: 1 } } : { status: 200, body: linked(customerStatus()) },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('Syncing with Stripe'));
    expect(allText(card.find(EmptyState))).toContain('linked to a Stripe customer whose payment data has not arrived yet');
    expect(allText(card.getRootNode())).not.toContain('No Stripe customer');
    card.findByTestId(Button, 'check-again').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active'));
    expect(calls.map((c) => c.url.split('/').pop())).toEqual(['status', 'status']);
  });

  it('says how many more linked customers are still syncing beside those it shows', async () => {
    fakeHubSpotFetch(() => ({ status: 200, body: { ...linked(customerStatus()), syncing: 2 } }));
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFindByTestId(Text, 'syncing-count')).not.toBeNull());
    expect(card.findByTestId(Text, 'syncing-count').text).toBe('2 more linked Stripe customers are still syncing.');
  });
});

describe('freshness', () => {
  it('says how long ago our data of the customer changed', async () => {
    const card = await renderLinked(
      customerStatus({ updatedAt: new Date(Date.now() - 3 * 60_000 - 10_000).toISOString() }),
      customerStatus({ customerId: 'cus_Old', updatedAt: new Date(Date.now() - 5 * DAY * 1000 - 60_000).toISOString() }),
    );
    expect(card.findByTestId(Text, 'updated-cus_Active1').text).toBe('Stripe data updated 3 minutes ago');
    expect(card.findByTestId(Text, 'updated-cus_Old').text).toBe('Stripe data updated 5 days ago');
  });
});

describe('the profile', () => {
  it('calls the backend the profile names', async () => {
    const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: linked(customerStatus()) }));
    const card = renderCard({ BACKEND_URL: 'https://sync.other.example/', DISTRIBUTION: 'marketplace' });
    await card.waitFor(() => expect(card.maybeFind(LoadingSpinner)).toBeNull());
    expect(calls[0]?.url).toBe('https://sync.other.example/api/card/v1/status');
  });

  it.each([
    ['no variables at all', null],
    ['no BACKEND_URL', { DISTRIBUTION: 'marketplace' }],
    ['a BACKEND_URL that is not https', { BACKEND_URL: 'http://sync.example.com' }],
    ['a BACKEND_URL placeholder left as is', { BACKEND_URL: '${BACKEND_URL}' }],
  ])('says plainly that the card is not set up when the profile gave %s, and fetches nothing', async (_what, variables) => {
    const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: linked(customerStatus()) }));
    const card = renderCard(variables as Record<string, string> | null);
    await settle();
    const error = card.find(ErrorState);
    expect(error.props.title).toBe('This card is not set up');
    expect(allText(error)).toContain('BACKEND_URL variable of the project profile');
    expect(calls).toEqual([]);
  });
});

describe('errors', () => {
  it('shows the backend error and retries on request', async () => {
    const { calls } = fakeHubSpotFetch((_call, index) =>
      index === 0
        ? { status: 503, body: { error: { code: 'internal', message: 'The database is not answering.' } } }
        : { status: 200, body: linked(customerStatus()) },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.find(ErrorState).props.title).toBe("Couldn't load Stripe payment status"));
    expect(allText(card.find(ErrorState))).toContain('The database is not answering.');

    card.findByTestId(Button, 'retry').trigger('onClick');
    expect(card.find(LoadingSpinner)).toBeDefined();
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active'));
    expect(calls).toHaveLength(2);
    expect(calls[1]?.url).toBe(`${TEST_BACKEND_URL}/api/card/v1/status`);
  });

  it('says the service is unreachable when hubspot.fetch itself fails', async () => {
    fakeHubSpotFetch(() => new TypeError('Failed to fetch'));
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFind(ErrorState)).not.toBeNull());
    expect(allText(card.find(ErrorState))).toContain('Could not reach the Stripe sync service');
  });

  it('refuses an answer of the wrong shape instead of rendering nonsense', async () => {
    fakeHubSpotFetch(() => ({ status: 200, body: { state: 'linked', customers: [{ id: 'cus_1' }] } }));
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFind(ErrorState)).not.toBeNull());
    expect(allText(card.find(ErrorState))).toContain('does not understand');
  });
});
