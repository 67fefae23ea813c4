import { DescriptionListItem, Flex, Link, LoadingSpinner, StatusTag, Text } from '@hubspot/ui-extensions';
import type { CardCustomer, RevenueMovementSummary } from '../src/app/cards/lib/contracts';
import { DEFAULT_PREFS, movementAmount, movementLabel, movementMrr } from '../src/app/cards/lib/format';
import { customerStatus, DAY, fakeHubSpotFetch, linked, T0 } from './fixtures';
import { allText, renderCard, type CardRenderer } from './render';

/**
 * The HubSpot records beside the contact (issue 13): every subscription with the link to its deal, the company, the
 * latest revenue movements — as the card API answers them, and nothing of them from a backend that does not.
 */

afterEach(() => jest.restoreAllMocks());

const PORTAL_HOST = 'https://app-eu1.hubspot.com/contacts/123';

function withRecords(): CardCustomer {
  return {
    ...customerStatus(),
    subscriptions: [
      {
        id: 'sub_1',
        status: 'active',
        plan: 'Pro (monthly)',
        mrr: 4900,
        currency: 'usd',
        currentPeriodEnd: T0 + 20 * DAY,
        cancelAtPeriodEnd: false,
        hubspotDealUrl: `${PORTAL_HOST}/record/0-3/9001`,
      },
      {
        id: 'sub_2',
        status: 'trialing',
        plan: 'Add-on',
        mrr: 0,
        currency: 'usd',
        currentPeriodEnd: T0 + 5 * DAY,
        cancelAtPeriodEnd: true,
        hubspotDealUrl: null,
      },
      { id: 'sub_0', status: 'canceled', plan: null, mrr: 0, currency: 'usd', currentPeriodEnd: T0 - 40 * DAY, cancelAtPeriodEnd: false, hubspotDealUrl: `${PORTAL_HOST}/record/0-3/9000` },
    ],
    company: { name: 'Analytical Engines', hubspotUrl: `${PORTAL_HOST}/record/0-2/7001` },
    movements: [
      { id: 'sub_1:evt_2:upgrade', kind: 'upgrade', occurredAt: T0 - DAY, amount: 2900, currency: 'usd', mrrBefore: 2000, mrrAfter: 4900 },
      { id: 'in_1:failed:1', kind: 'payment_failed', occurredAt: T0 - 3 * DAY, amount: 4900, currency: 'usd', mrrBefore: null, mrrAfter: null },
      { id: 'sub_0:evt_1:churn', kind: 'churn', occurredAt: T0 - 40 * DAY, amount: -1000, currency: 'usd', mrrBefore: 3000, mrrAfter: 2000 },
    ],
  };
}

async function renderLinked(...customers: CardCustomer[]): Promise<CardRenderer> {
  fakeHubSpotFetch(() => ({ status: 200, body: linked(...customers) }));
  const card = renderCard();
  await card.waitFor(() => expect(card.maybeFind(LoadingSpinner)).toBeNull());
  return card;
}

describe('HubSpot records on the card', () => {
  it('lists every subscription with its status, MRR, renewal and deal link (in the same tab: a HubSpot page)', async () => {
    const card = await renderLinked(withRecords());
    const list = allText(card.find(Flex, { testId: 'subscriptions-cus_Active1' }));
    // Live ones first, as the backend orders them.
    expect(list.startsWith('Subscriptions (3) Pro (monthly) Active')).toBe(true);
    expect(list.indexOf('Add-on')).toBeLessThan(list.indexOf('Unnamed plan'));

    const first = card.findByTestId(Link, 'deal-link-sub_1');
    expect(first.props.href).toEqual({ url: 'https://app-eu1.hubspot.com/contacts/123/record/0-3/9001' });
    expect(first.text).toBe('Open the deal');
    expect(card.findByTestId(StatusTag, 'subscription-row-status-sub_1').text).toBe('Active');
    expect(card.findByTestId(StatusTag, 'subscription-row-status-sub_2').text).toBe('Trialing');
    expect(card.findByTestId(StatusTag, 'subscription-row-status-sub_0').text).toBe('Canceled');
    expect(card.findByTestId(Link, 'deal-link-sub_0').props.href).toEqual({ url: 'https://app-eu1.hubspot.com/contacts/123/record/0-3/9000' });
    // No deal written yet: said so, no link.
    expect(card.maybeFindByTestId(Link, 'deal-link-sub_2')).toBeNull();
    expect(card.findByTestId(Text, 'no-deal-sub_2').text).toBe('No HubSpot deal yet');
  });

  it('says what each subscription is worth and when it renews or ends', async () => {
    const card = await renderLinked(withRecords());
    const details = (subscriptionId: string) => allText(card.find(Flex, { testId: `subscription-${subscriptionId}` }));
    expect(details('sub_1')).toContain('$49.00 MRR · renews Mar 23, 2026');
    expect(details('sub_2')).toContain('$0.00 MRR · ends Mar 8, 2026');
    // An ended subscription has nothing to renew.
    expect(details('sub_0')).toContain('$0.00 MRR');
    expect(details('sub_0')).not.toMatch(/renews|ends/);
  });

  it('links the company the customer is associated with', async () => {
    const card = await renderLinked(withRecords());
    const link = card.findByTestId(Link, 'company-link-cus_Active1');
    expect(link.props.href).toEqual({ url: 'https://app-eu1.hubspot.com/contacts/123/record/0-2/7001' });
    expect(link.text).toBe('Analytical Engines');
    expect(allText(card.find(DescriptionListItem, { label: 'Company' }))).toBe('Analytical Engines');
  });

  it('shows the latest movements newest first, with signed amounts and MRR before and after', async () => {
    const card = await renderLinked(withRecords());
    expect(allText(card.find(Flex, { testId: 'movements-cus_Active1' })).startsWith('Latest revenue movements')).toBe(true);
    expect(allText(card.find(Flex, { testId: 'movement-in_1:failed:1' }))).toBe('Payment failed · $49.00 Feb 28, 2026');
    const texts = card.findAll(Text).map((t) => t.text);
    const upgrade = texts.indexOf('Upgrade · +$29.00');
    const failed = texts.indexOf('Payment failed · $49.00');
    const churn = texts.indexOf('Churn · −$10.00');
    expect(upgrade).toBeGreaterThan(-1);
    expect(failed).toBeGreaterThan(upgrade);
    expect(churn).toBeGreaterThan(failed);
    expect(texts[upgrade + 1]).toBe('Mar 2, 2026 · MRR $20.00 → $49.00');
    expect(texts[failed + 1]).toBe('Feb 28, 2026');
    expect(texts[churn + 1]).toBe('Jan 22, 2026 · MRR $30.00 → $20.00');
  });

  it('keeps the main subscription’s facts as before', async () => {
    const card = await renderLinked(withRecords());
    expect(allText(card.find(DescriptionListItem, { label: 'Plan' }))).toBe('Pro (monthly)');
    expect(allText(card.find(DescriptionListItem, { label: 'MRR' }))).toBe('$49.00');
    expect(card.findByTestId(StatusTag, 'subscription-status-cus_Active1').text).toBe('Active');
  });

  it('a backend without these records (or a customer with none) shows no empty sections', async () => {
    const card = await renderLinked(customerStatus(), { ...customerStatus({ customerId: 'cus_None' }), subscriptions: [], company: null, movements: [] });
    const text = allText(card.getRootNode());
    expect(text).not.toContain('Subscriptions');
    expect(text).not.toContain('Latest revenue movements');
    expect(card.maybeFind(DescriptionListItem, { label: 'Company' })).toBeNull();
    expect(card.maybeFindByTestId(Link, 'company-link-cus_Active1')).toBeNull();
  });
});

describe('movement wording', () => {
  const m = (over: Partial<RevenueMovementSummary>): RevenueMovementSummary => ({
    id: 'x',
    kind: 'upgrade',
    occurredAt: T0,
    amount: 1000,
    currency: 'usd',
    mrrBefore: 1000,
    mrrAfter: 2000,
    ...over,
  });

  it('names every kind', () => {
    expect(movementLabel(m({ kind: 'trial_converted' }))).toBe('Trial converted');
    expect(movementLabel(m({ kind: 'payment_recovered' }))).toBe('Payment recovered');
    expect(movementLabel(m({ kind: 'new' }))).toBe('New subscription');
  });

  it('signs changes of MRR, not payments, refunds or disputes', () => {
    expect(movementAmount(m({ kind: 'downgrade', amount: -500 }), DEFAULT_PREFS)).toBe('−$5.00');
    expect(movementAmount(m({ kind: 'new', amount: 1000 }), DEFAULT_PREFS)).toBe('+$10.00');
    expect(movementAmount(m({ kind: 'refund', amount: 700 }), DEFAULT_PREFS)).toBe('$7.00');
    expect(movementAmount(m({ kind: 'trial_started', amount: 2000 }), DEFAULT_PREFS)).toBe('$20.00');
    expect(movementAmount(m({ kind: 'upgrade', amount: 0 }), DEFAULT_PREFS)).toBe('$0.00');
    expect(movementAmount(m({ currency: null }), DEFAULT_PREFS)).toBe('—');
  });

  it('shows MRR before and after only for subscription movements', () => {
    expect(movementMrr(m({}), DEFAULT_PREFS)).toBe('MRR $10.00 → $20.00');
    expect(movementMrr(m({ kind: 'refund', mrrBefore: null, mrrAfter: null }), DEFAULT_PREFS)).toBeNull();
  });
});
