import { Alert, Button, DescriptionListItem, LoadingButton, StatusTag } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { useState } from 'react';
import { StripePaymentCard } from '../src/app/cards/components/StripePaymentCard';
import { customerStatus, deferred, fakeHubSpotFetch, linked, type FakeAnswer } from './fixtures';
import { allText, MARKETPLACE_VARIABLES, renderCard, TEST_BACKEND_URL } from './render';

afterEach(() => jest.restoreAllMocks());

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const active = customerStatus();
const pastDue = customerStatus({
  subscription: { ...active.subscription!, status: 'past_due' },
  failedPaymentCount: 1,
  lastFailureReason: 'Insufficient funds.',
  lifetimeValue: 63_700,
  lastSyncedAt: '2026-03-03T16:30:00.000Z',
});

describe('Refresh', () => {
  it('asks /refresh, keeps the current view while it waits, then shows the new state', async () => {
    const refreshAnswer = deferred<FakeAnswer>();
    const { calls } = fakeHubSpotFetch((call) =>
      call.url.endsWith('/status') ? { status: 200, body: linked(active) } : refreshAnswer.promise,
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active'));
    expect(card.findByTestId(LoadingButton, 'refresh').props.loading).toBe(false);

    card.findByTestId(LoadingButton, 'refresh').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(LoadingButton, 'refresh').props.loading).toBe(true));
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active');
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      [`${TEST_BACKEND_URL}/api/card/v1/status`, { portalId: 123, contactId: '123' }],
      [`${TEST_BACKEND_URL}/api/card/v1/refresh`, { portalId: 123, contactId: '123' }],
    ]);
    expect(calls[1]?.timeout).toBeLessThan(15_000);

    refreshAnswer.resolve({ status: 200, body: linked(pastDue) });
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Past due'));
    expect(allText(card.find(DescriptionListItem, { label: 'Lifetime value' }))).toBe('$637.00');
    expect(card.findByTestId(LoadingButton, 'refresh').props.loading).toBe(false);
    expect(card.mocks.actions.addAlert.calls).toEqual([[{ type: 'success', message: 'Stripe payment status refreshed.' }]]);
  });

  it('keeps the last answer and says why when a refresh fails', async () => {
    fakeHubSpotFetch((call) =>
      call.url.endsWith('/status')
        ? { status: 200, body: linked(active) }
        : { status: 502, body: { error: { code: 'stripe_unavailable', message: 'Stripe did not answer in time.' } } },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFindByTestId(LoadingButton, 'refresh')).not.toBeNull());

    card.findByTestId(LoadingButton, 'refresh').trigger('onClick');
    await card.waitFor(() => expect(card.maybeFind(Alert)).not.toBeNull());
    expect(card.find(Alert).props.title).toBe('Refresh failed');
    expect(allText(card.find(Alert))).toContain('Stripe did not answer in time.');
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active');
    expect(card.findByTestId(LoadingButton, 'refresh').props.loading).toBe(false);
    expect(card.mocks.actions.addAlert.calls).toEqual([]);
  });

  it('shows the backend’s warning when the refresh could not ask Stripe, and never says "refreshed"', async () => {
    const warning = 'Stripe did not answer within 8 s; showing the last synced state.';
    fakeHubSpotFetch((call) =>
      call.url.endsWith('/status') ? { status: 200, body: linked(active) } : { status: 200, body: { ...linked(active), warning } },
    );
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFindByTestId(LoadingButton, 'refresh')).not.toBeNull());
    expect(card.maybeFindByTestId(Alert, 'warning')).toBeNull();

    card.findByTestId(LoadingButton, 'refresh').trigger('onClick');
    await card.waitFor(() => expect(card.maybeFindByTestId(Alert, 'warning')).not.toBeNull());
    const alert = card.findByTestId(Alert, 'warning');
    expect(alert.props.title).toBe('Not refreshed from Stripe');
    expect(alert.props.variant).toBe('warning');
    expect(allText(alert)).toBe(warning);
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active');
    expect(card.mocks.actions.addAlert.calls).toEqual([]);
    expect(allText(card.getRootNode())).not.toMatch(/refreshed\./);
  });

  it('ignores an older refresh that answers after a newer one', async () => {
    const first = deferred<FakeAnswer>();
    const second = deferred<FakeAnswer>();
    fakeHubSpotFetch((call, index) => {
      if (call.url.endsWith('/status')) return { status: 200, body: linked(active) };
      return index === 1 ? first.promise : second.promise;
    });
    const card = renderCard();
    await card.waitFor(() => expect(card.maybeFindByTestId(LoadingButton, 'refresh')).not.toBeNull());

    card.findByTestId(LoadingButton, 'refresh').trigger('onClick');
    await settle();
    card.findByTestId(LoadingButton, 'refresh').trigger('onClick');
    await settle();

    second.resolve({ status: 200, body: linked(pastDue) });
    await card.waitFor(() => expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Past due'));
    first.resolve({ status: 200, body: linked(customerStatus({ subscription: { ...active.subscription!, status: 'canceled' } })) });
    await settle();
    await settle();
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Past due');
  });
});

describe('stale answers', () => {
  it('shows the current contact even when the previous contact answers last', async () => {
    const forFirstContact = deferred<FakeAnswer>();
    const { calls } = fakeHubSpotFetch((call) =>
      call.body?.contactId === '123'
        ? forFirstContact.promise
        : { status: 200, body: linked(customerStatus({ customerId: 'cus_Second', name: 'Grace Hopper' })) },
    );
    const card = createRenderer('crm.record.sidebar');
    card.mocks.context.variables = MARKETPLACE_VARIABLES;
    /** A host that switches the card to another contact, as HubSpot does when the user opens another record. */
    function Switcher() {
      const [, setSwitched] = useState(false);
      return (
        <>
          <Button
            testId="switch"
            onClick={() => {
              card.mocks.context.crm.objectId = 456;
              setSwitched(true);
            }}
          >
            Other contact
          </Button>
          <StripePaymentCard />
        </>
      );
    }
    card.render(<Switcher />);
    await settle();

    card.findByTestId(Button, 'switch').trigger('onClick');
    await card.waitFor(() => expect(card.maybeFindByTestId(StatusTag, 'subscription-status-cus_Second')).not.toBeNull());
    forFirstContact.resolve({ status: 200, body: linked(customerStatus({ customerId: 'cus_First', name: 'Ada Lovelace' })) });
    await settle();
    await settle();

    expect(card.maybeFindByTestId(StatusTag, 'subscription-status-cus_First')).toBeNull();
    expect(allText(card.getRootNode())).toContain('Grace Hopper');
    expect(calls.map((c) => c.body?.contactId)).toEqual(['123', '456']);
  });
});
