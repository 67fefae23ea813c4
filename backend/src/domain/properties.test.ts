import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { FIELD_CATALOG } from '@stripe-hubspot-sync/contracts';
import { defaultSettings, type SyncSettings } from '@stripe-hubspot-sync/contracts';
import { lifecycleStageUpdate, propertyDefinitions, propertyGroupDefinition, toHubSpotProperties } from './properties';

const base: CustomerStatus = {
  accountId: 'acct_1',
  livemode: true,
  customerId: 'cus_A',
  email: 'a@x.io',
  name: 'Ann',
  currency: 'usd',
  customerSince: 1_700_000_000,
  subscription: {
    id: 'sub_1', status: 'active', plan: 'Pro', mrr: 4999, currency: 'usd', currentPeriodEnd: 1_800_000_000, cancelAtPeriodEnd: true,
  },
  lastPayment: { amount: 1999, currency: 'usd', at: 1_750_000_000, status: 'succeeded' },
  lastFailureReason: 'Card declined',
  failedPaymentCount: 2,
  openInvoiceCount: 1,
  openAmountDue: 500,
  lifetimeValue: 123456,
  totalRefunded: 1000,
  disputedAmount: 0,
  nextInvoiceAmount: 4999,
  delinquent: false,
  deleted: false,
  dashboardUrl: 'https://dashboard.stripe.com/acct_1/customers/cus_A',
  updatedAt: '2026-01-01T00:00:00.000Z',
  lastSyncedAt: null,
};

describe('toHubSpotProperties', () => {
  it('writes every default field, converted for its HubSpot type', () => {
    expect(toHubSpotProperties(base, defaultSettings())).toEqual({
      stripe_customer_id: 'cus_A',
      stripe_customer_ids: 'cus_A',
      stripe_customer_since: String(Date.UTC(2023, 10, 14)),
      stripe_subscription_status: 'active',
      stripe_plan: 'Pro',
      stripe_mrr: '49.99',
      stripe_currency: 'USD',
      stripe_next_renewal_date: String(Date.UTC(2027, 0, 15)),
      stripe_cancel_at_period_end: 'true',
      stripe_next_invoice_amount: '49.99',
      stripe_last_payment_amount: '19.99',
      stripe_last_payment_date: '1750000000000',
      stripe_last_payment_status: 'succeeded',
      stripe_last_failure_reason: 'Card declined',
      stripe_failed_payment_count: '2',
      stripe_open_amount_due: '5.00',
      stripe_lifetime_value: '1234.56',
      stripe_total_refunded: '10.00',
      stripe_disputed_amount: '0.00',
      stripe_delinquent: 'false',
      stripe_trial_end_date: '',
      stripe_products_bought: '',
      stripe_refund_issued_date: '',
      stripe_last_mrr_change_date: '',
      stripe_last_mrr_change_amount: '',
      stripe_last_mrr_movement: '',
      stripe_dashboard_url: 'https://dashboard.stripe.com/acct_1/customers/cus_A',
    });
  });

  it('converts money by currency: JPY has no decimals, KWD three', () => {
    const jpy = toHubSpotProperties({ ...base, currency: 'jpy', lifetimeValue: 5000, lastPayment: { ...base.lastPayment!, amount: 500, currency: 'jpy' } }, defaultSettings());
    expect(jpy).toMatchObject({ stripe_lifetime_value: '5000', stripe_last_payment_amount: '500', stripe_currency: 'JPY' });
    const kwd = toHubSpotProperties({ ...base, currency: 'kwd', lifetimeValue: 1005 }, defaultSettings());
    expect(kwd.stripe_lifetime_value).toBe('1.005');
  });

  it('writes only enabled fields, under the merchant’s names', () => {
    const settings: SyncSettings = defaultSettings();
    settings.fields.mrr = { enabled: true, property: 'monthly_revenue' };
    settings.fields.plan = { enabled: false, property: 'stripe_plan' };
    const props = toHubSpotProperties(base, settings);
    expect(props.monthly_revenue).toBe('49.99');
    expect(props).not.toHaveProperty('stripe_mrr');
    expect(props).not.toHaveProperty('stripe_plan');
    expect(Object.keys(props)).toHaveLength(FIELD_CATALOG.length - 1);
  });

  it('writes "none" without a subscription and clears what is unknown', () => {
    const props = toHubSpotProperties(
      { ...base, subscription: null, lastPayment: null, lastFailureReason: null, nextInvoiceAmount: null, currency: null, customerSince: null },
      defaultSettings(),
    );
    expect(props).toMatchObject({
      stripe_subscription_status: 'none',
      stripe_plan: '',
      stripe_mrr: '0.00',
      stripe_next_renewal_date: '',
      stripe_cancel_at_period_end: 'false',
      stripe_last_payment_amount: '',
      stripe_last_payment_date: '',
      stripe_last_payment_status: '',
      stripe_next_invoice_amount: '',
      stripe_currency: '',
      stripe_customer_since: '',
    });
  });

  it('clears the renewal date of an ended subscription and keeps enum values inside their options', () => {
    const canceled = toHubSpotProperties({ ...base, subscription: { ...base.subscription!, status: 'canceled' } }, defaultSettings());
    expect(canceled).toMatchObject({ stripe_subscription_status: 'canceled', stripe_next_renewal_date: '' });
    const odd = toHubSpotProperties(
      { ...base, subscription: { ...base.subscription!, status: 'bogus' as never }, lastPayment: { ...base.lastPayment!, status: 'weird' as never } },
      defaultSettings(),
    );
    expect(odd).toMatchObject({ stripe_subscription_status: 'none', stripe_last_payment_status: '' });
  });

  it('shortens very long failure reasons', () => {
    const props = toHubSpotProperties({ ...base, lastFailureReason: 'x'.repeat(5000) }, defaultSettings());
    expect(props.stripe_last_failure_reason).toHaveLength(1000);
  });
});

describe('lifecycleStageUpdate', () => {
  it('makes a paying customer a HubSpot customer', () => {
    expect(lifecycleStageUpdate(base)).toEqual({ lifecyclestage: 'customer' });
    expect(lifecycleStageUpdate({ ...base, lastPayment: { ...base.lastPayment!, status: 'refunded' } })).toEqual({ lifecyclestage: 'customer' });
    expect(lifecycleStageUpdate({ ...base, lastPayment: null, lifetimeValue: 0 })).toBeNull();
    expect(lifecycleStageUpdate({ ...base, lastPayment: { ...base.lastPayment!, status: 'failed' }, lifetimeValue: 0 })).toBeNull();
  });
});

describe('propertyDefinitions', () => {
  const spec = JSON.parse(
    readFileSync(join(__dirname, '..', '..', '..', 'specs', 'hubspot', 'crm-properties-v3.json'), 'utf8'),
  ) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addSchema({ $id: 'hs', components: spec.components });
  const validCreate = ajv.getSchema('hs#/components/schemas/PropertyCreate')!;
  const validGroup = ajv.getSchema('hs#/components/schemas/PropertyGroupCreate')!;

  it('gives a valid PropertyCreate for every enabled field, in the stripe group', () => {
    const defs = propertyDefinitions(defaultSettings());
    expect(defs).toHaveLength(FIELD_CATALOG.length);
    for (const d of defs) {
      expect(validCreate(d) ? null : validCreate.errors).toBeNull();
      expect(d.groupName).toBe('stripe');
    }
    expect(validGroup(propertyGroupDefinition())).toBe(true);
    // The schema does reject what HubSpot rejects.
    expect(validCreate({ name: 'x', label: 'X', groupName: 'stripe', type: 'money', fieldType: 'text' })).toBe(false);
    expect(validCreate({ ...defs[2], options: [{ label: 'A', value: 'a' }] })).toBe(false);
  });

  it('marks the customer id unique and gives enumerations and bools their options', () => {
    const defs = propertyDefinitions(defaultSettings());
    const byName = new Map(defs.map((d) => [d.name, d]));
    expect(byName.get('stripe_customer_id')?.hasUniqueValue).toBe(true);
    expect(defs.filter((d) => d.hasUniqueValue)).toHaveLength(1);
    const status = byName.get('stripe_subscription_status')!;
    expect(status).toMatchObject({ type: 'enumeration', fieldType: 'select' });
    expect(status.options?.map((o) => o.value)).toContain('none');
    expect(status.options?.find((o) => o.value === 'past_due')).toEqual({ label: 'Past due', value: 'past_due', displayOrder: 2, hidden: false });
    expect(byName.get('stripe_delinquent')?.options).toEqual([
      { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
      { label: 'No', value: 'false', displayOrder: 1, hidden: false },
    ]);
    expect(byName.get('stripe_mrr')).toMatchObject({ type: 'number', fieldType: 'number' });
    expect(byName.get('stripe_last_payment_date')).toMatchObject({ type: 'datetime' });
  });

  it('follows the merchant’s names and leaves out disabled fields', () => {
    const settings = defaultSettings();
    settings.fields.mrr = { enabled: true, property: 'monthly_revenue' };
    settings.fields.delinquent = { enabled: false, property: 'stripe_delinquent' };
    const names = propertyDefinitions(settings).map((d) => d.name);
    expect(names).toContain('monthly_revenue');
    expect(names).not.toContain('stripe_mrr');
    expect(names).not.toContain('stripe_delinquent');
  });
});
