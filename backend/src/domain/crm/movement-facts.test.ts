import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { Movement } from '../movements';
import { toHubSpotProperties } from '../properties';
import { rollUp } from '../sync/contact-rollup';
import { latestMrrChange, movementsKey, mrrChangeOf, withMovementFacts } from './movement-facts';

function movement(id: string, kind: Movement['kind'], occurredAt: number, amount: number): Movement {
  return {
    id,
    customerId: 'cus_A',
    kind,
    occurredAt,
    currency: 'usd',
    amount,
    mrrBefore: null,
    mrrAfter: null,
    subjectId: 'sub_1',
    source: { created: occurredAt, rank: 1, eventId: `evt_${id}` },
    details: {},
  };
}

const status = (over: Partial<CustomerStatus> = {}): CustomerStatus => ({
  accountId: 'acct_1',
  livemode: false,
  customerId: 'cus_A',
  email: 'a@example.com',
  name: null,
  currency: 'usd',
  customerSince: 1_600_000_000,
  subscription: null,
  lastPayment: null,
  lastFailureReason: null,
  failedPaymentCount: 0,
  openInvoiceCount: 0,
  openAmountDue: 0,
  lifetimeValue: 0,
  totalRefunded: 0,
  disputedAmount: 0,
  nextInvoiceAmount: null,
  delinquent: false,
  deleted: false,
  dashboardUrl: 'https://dashboard.stripe.com/acct_1/test/customers/cus_A',
  updatedAt: '2024-01-01T00:00:00.000Z',
  lastSyncedAt: null,
  ...over,
});

describe('movement facts of a status', () => {
  const upgrade = movement('up', 'upgrade', 1_700_000_000, 1000);
  const downgrade = movement('down', 'downgrade', 1_700_100_000, -500);
  const failed = movement('in_1:failed:1', 'payment_failed', 1_700_200_000, 4999);

  it('the last MRR change is the latest movement that changed MRR, not a later payment movement', () => {
    expect(mrrChangeOf([upgrade, downgrade, failed])).toEqual({ at: 1_700_100_000, amount: -500, currency: 'usd', kind: 'downgrade' });
    expect(mrrChangeOf([downgrade, upgrade])).toEqual(mrrChangeOf([upgrade, downgrade]));
    expect(mrrChangeOf([failed])).toBeUndefined();
  });

  it('the key changes with the set of movements, not their order; none: no key', () => {
    expect(movementsKey([upgrade, downgrade])).toBe(movementsKey([downgrade, upgrade, upgrade]));
    expect(movementsKey([upgrade])).not.toBe(movementsKey([upgrade, downgrade]));
    expect(movementsKey([])).toBeUndefined();
  });

  it('set from the movements when known, else carried over from the previous status; none: left out', () => {
    const withFacts = withMovementFacts(status(), [upgrade, downgrade], null);
    expect(withFacts.lastMrrChange?.kind).toBe('downgrade');
    expect(withFacts.movementsKey).toBe(movementsKey([upgrade, downgrade]));
    const carried = withMovementFacts(status({ openAmountDue: 5 }), undefined, withFacts);
    expect(carried).toMatchObject({ openAmountDue: 5, lastMrrChange: withFacts.lastMrrChange, movementsKey: withFacts.movementsKey });
    const none = withMovementFacts(status(), [], withFacts);
    expect(none).not.toHaveProperty('lastMrrChange');
    expect(none).not.toHaveProperty('movementsKey');
    expect(withMovementFacts(status(), undefined, null)).toEqual(status());
  });

  it('the contact properties: date, signed amount in the currency, the kind; empty without one', () => {
    const props = toHubSpotProperties(withMovementFacts(status(), [upgrade, downgrade], null), defaultSettings());
    expect(props).toMatchObject({
      stripe_last_mrr_change_date: String(1_700_100_000 * 1000),
      stripe_last_mrr_change_amount: '-5.00',
      stripe_last_mrr_movement: 'downgrade',
    });
    expect(toHubSpotProperties(status(), defaultSettings())).toMatchObject({
      stripe_last_mrr_change_date: '',
      stripe_last_mrr_change_amount: '',
      stripe_last_mrr_movement: '',
    });
  });

  it('customers sharing a contact: the latest change of those counted in the contact’s currency', () => {
    const a = status({ customerId: 'cus_A', lastMrrChange: { at: 100, amount: 1000, currency: 'usd', kind: 'new' } });
    const b = status({ customerId: 'cus_B', customerSince: 1_700_000_000, lastMrrChange: { at: 200, amount: -300, currency: 'usd', kind: 'downgrade' } });
    const eur = status({ customerId: 'cus_C', customerSince: 1_800_000_000, currency: 'eur', lastMrrChange: { at: 300, amount: 9, currency: 'eur', kind: 'new' } });
    expect(latestMrrChange([a, b])).toEqual(b.lastMrrChange);
    expect(rollUp([a, b, eur]).lastMrrChange).toEqual(b.lastMrrChange);
    expect(rollUp([status()]).lastMrrChange).toBeUndefined();
  });
});
