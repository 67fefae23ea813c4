import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { productOptions, propertyDefinitions, toHubSpotProperties } from './properties';
import { rollUp } from './sync/contact-rollup';

/** Trial end date, products bought (a multi-select) and refund issued date as HubSpot properties. */

const base: CustomerStatus = {
  accountId: '',
  livemode: false,
  customerId: 'cus_A',
  email: 'a@x.io',
  name: null,
  currency: 'usd',
  customerSince: 1_700_000_000,
  subscription: { id: 'sub_1', status: 'trialing', plan: 'Pro', mrr: 0, currency: 'usd', currentPeriodEnd: 1_760_000_000, cancelAtPeriodEnd: false, trialEnd: 1_760_054_400 },
  lastPayment: null,
  lastFailureReason: null,
  failedPaymentCount: 0,
  openInvoiceCount: 0,
  openAmountDue: 0,
  lifetimeValue: 0,
  totalRefunded: 0,
  disputedAmount: 0,
  refundIssuedAt: 1_750_000_000,
  productsBought: [
    { id: 'prod_B', name: null },
    { id: 'prod_A', name: 'Analytics', namedAt: 1_700_000_000 },
  ],
  nextInvoiceAmount: null,
  delinquent: false,
  deleted: false,
  dashboardUrl: 'https://dashboard.stripe.com/test/customers/cus_A',
  updatedAt: '2026-01-01T00:00:00.000Z',
  lastSyncedAt: null,
};

describe('new contact facts as HubSpot values', () => {
  it('writes the trial end and refund dates as midnight UTC, and the products as sorted option values joined by ;', () => {
    expect(toHubSpotProperties(base, defaultSettings())).toMatchObject({
      stripe_trial_end_date: String(Date.UTC(2025, 9, 10)),
      stripe_refund_issued_date: String(Date.UTC(2025, 5, 15)),
      stripe_products_bought: 'prod_A;prod_B',
    });
  });

  it('clears them when unknown: no trial running, no refund, nothing bought, or a status derived before they existed', () => {
    const cleared = { stripe_trial_end_date: '', stripe_refund_issued_date: '', stripe_products_bought: '' };
    const active = { ...base.subscription!, status: 'active' as const };
    expect(toHubSpotProperties({ ...base, subscription: active, refundIssuedAt: null, productsBought: [] }, defaultSettings())).toMatchObject(cleared);
    const old: CustomerStatus = { ...base, subscription: { ...active } };
    delete old.refundIssuedAt;
    delete old.productsBought;
    delete old.subscription!.trialEnd;
    expect(toHubSpotProperties(old, defaultSettings())).toMatchObject(cleared);
  });
});

describe('products bought: the multi-select property', () => {
  const spec = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'specs', 'hubspot', 'crm-properties-v3.json'), 'utf8')) as {
    components: { schemas: Record<string, unknown> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addSchema({ $id: 'hs', components: spec.components });
  const validCreate = ajv.getSchema('hs#/components/schemas/PropertyCreate')!;

  it('is an enumeration with checkboxes whose options are the given products (value = id, label = name, else id)', () => {
    const products = [{ id: 'prod_B', name: null }, { id: 'prod_A', name: ' Analytics ' }, { id: 'prod_A', name: 'Analytics' }, { id: 'bad;id', name: 'x' }];
    const def = propertyDefinitions(defaultSettings(), products).find((d) => d.name === 'stripe_products_bought')!;
    expect(def).toMatchObject({ type: 'enumeration', fieldType: 'checkbox', groupName: 'stripe' });
    expect(def.options).toEqual([
      { label: 'Analytics', value: 'prod_A', displayOrder: 0, hidden: false },
      { label: 'prod_B', value: 'prod_B', displayOrder: 1, hidden: false },
    ]);
    expect(validCreate(def) ? null : validCreate.errors).toBeNull();
    expect(productOptions([])).toEqual([]);
    // Without products the definition still validates (no options yet).
    const empty = propertyDefinitions(defaultSettings()).find((d) => d.name === 'stripe_products_bought')!;
    expect(empty.options).toEqual([]);
    expect(validCreate(empty) ? null : validCreate.errors).toBeNull();
  });

  it('is left out with its field, under the merchant’s name otherwise', () => {
    const settings = defaultSettings();
    settings.fields.productsBought = { enabled: true, property: 'bought' };
    expect(propertyDefinitions(settings, [{ id: 'prod_A', name: null }]).find((d) => d.name === 'bought')?.options).toHaveLength(1);
    settings.fields.productsBought = { enabled: false, property: 'bought' };
    expect(propertyDefinitions(settings).some((d) => d.name === 'bought')).toBe(false);
    expect(toHubSpotProperties(base, settings)).not.toHaveProperty('bought');
  });
});

describe('a contact of several customers', () => {
  it('carries every customer’s products (the newest name of each) and the latest refund, whatever their currency', () => {
    const other: CustomerStatus = {
      ...base,
      customerId: 'cus_B',
      customerSince: 1_600_000_000,
      currency: 'eur',
      refundIssuedAt: 1_760_000_000,
      productsBought: [{ id: 'prod_A', name: 'Analytics Pro', namedAt: 1_710_000_000 }, { id: 'prod_C', name: null }],
    };
    const facts = rollUp([base, other]);
    expect(facts.productsBought).toEqual([
      { id: 'prod_A', name: 'Analytics Pro', namedAt: 1_710_000_000 },
      { id: 'prod_B', name: null },
      { id: 'prod_C', name: null },
    ]);
    expect(facts.refundIssuedAt).toBe(1_760_000_000);
    expect(toHubSpotProperties(facts, defaultSettings()).stripe_products_bought).toBe('prod_A;prod_B;prod_C');
    expect(rollUp([{ ...base, refundIssuedAt: null }, { ...other, refundIssuedAt: null }]).refundIssuedAt).toBeNull();
  });
});
