import type { CustomerStatus, SubscriptionSummary } from '@stripe-hubspot-sync/contracts';
import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import {
  changedProperties,
  companyCreateProperties,
  companyName,
  companyProperties,
  companyPropertyDefinitions,
  companyTargetOf,
  type CompanyMember,
} from './companies';
import { emailDomain, isFreeMailDomain } from './free-mail';

const T0 = 1_700_000_000;

function status(id: string, over: Partial<CustomerStatus> = {}): CustomerStatus {
  return {
    accountId: '',
    livemode: false,
    customerId: id,
    email: `${id}@acme.io`,
    name: null,
    currency: 'usd',
    customerSince: T0,
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
    dashboardUrl: `https://dashboard.stripe.com/test/customers/${id}`,
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastSyncedAt: null,
    ...over,
  };
}

const sub = (s: SubscriptionSummary['status'], mrr: number, currency = 'usd'): SubscriptionSummary => ({
  id: `sub_${s}_${mrr}`,
  status: s,
  plan: 'Pro',
  mrr,
  currency,
  currentPeriodEnd: T0 + 86_400 * 30,
  cancelAtPeriodEnd: false,
});

const member = (s: CustomerStatus, businessName: string | null = null): CompanyMember => ({ status: s, businessName });

describe('email domains and the free-mail list', () => {
  it('takes the lower-cased domain of a usable address only', () => {
    expect(emailDomain('Ann@Acme.IO')).toBe('acme.io');
    expect(emailDomain('ann@mail.acme.co.uk.')).toBe('mail.acme.co.uk');
    expect(emailDomain('a@b@acme.io')).toBe('acme.io');
    for (const bad of [null, undefined, '', 'acme.io', '@acme.io', 'ann@localhost', 'ann@acme', 'ann@-acme.io', 'ann@acme..io']) {
      expect(emailDomain(bad)).toBeNull();
    }
  });

  it('knows consumer providers, exactly and by family, and nothing else', () => {
    for (const d of ['gmail.com', 'GoogleMail.com', 'icloud.com', 'proton.me', 'web.de', 'mail.ru', 'qq.com', '163.com', 'aol.com']) {
      expect(isFreeMailDomain(d)).toBe(true);
    }
    for (const d of ['yahoo.com', 'yahoo.fr', 'yahoo.co.uk', 'hotmail.com.br', 'outlook.de', 'live.com', 'gmx.net', 'gmx.de', 'yandex.ru']) {
      expect(isFreeMailDomain(d)).toBe(true);
    }
    for (const d of ['acme.io', 'example.com', 'yahoo-inc.com', 'yahoo.acme.com', 'mail.gmail.acme.com', 'live.acme.io', 'stripe.com']) {
      expect(isFreeMailDomain(d)).toBe(false);
    }
  });
});

describe('which company a customer belongs to', () => {
  const facts = (email: string | null, businessName: string | null = null, deleted = false) => ({ customerId: 'cus_A', email, businessName, deleted });

  it('an email on a company domain: the domain, whatever the business name', () => {
    expect(companyTargetOf(facts('ann@Acme.io'))).toEqual({ key: 'domain:acme.io', domain: 'acme.io' });
    expect(companyTargetOf(facts('ann@acme.io', 'Acme Ltd'))).toEqual({ key: 'domain:acme.io', domain: 'acme.io' });
  });

  it('a free-mail address is skipped: a business name gives the customer a company of its own, else none', () => {
    expect(companyTargetOf(facts('ann@gmail.com'))).toBeNull();
    expect(companyTargetOf(facts('ann@yahoo.co.uk', 'Ann’s Bakery'))).toEqual({ key: 'customer:cus_A', domain: null });
    expect(companyTargetOf(facts(null, 'Ann’s Bakery'))).toEqual({ key: 'customer:cus_A', domain: null });
    expect(companyTargetOf(facts(null, '   '))).toBeNull();
    expect(companyTargetOf(facts(null))).toBeNull();
  });

  it('a customer deleted in Stripe has none', () => {
    expect(companyTargetOf(facts('ann@acme.io', 'Acme', true))).toBeNull();
  });
});

describe('what a company carries', () => {
  it('the roll-up of its customers: primary id, every id, MRR in the primary currency, the best status', () => {
    const a = status('cus_A', { customerSince: T0 + 10, subscription: sub('past_due', 2000) });
    const b = status('cus_B', { customerSince: T0, subscription: sub('active', 4550) });
    const e = status('cus_E', { customerSince: T0 + 20, currency: 'eur', subscription: sub('active', 9900, 'eur') });
    const props = companyProperties('domain:acme.io', [member(a), member(e), member(b)], false);
    expect(props).toEqual({
      stripe_customer_id: 'cus_B',
      stripe_customer_ids: 'cus_B;cus_A;cus_E',
      stripe_mrr: '65.50',
      stripe_currency: 'USD',
      stripe_subscription_status: 'active',
    });
  });

  it('the same whatever order the members come in', () => {
    const ms = [
      member(status('cus_A', { customerSince: T0 + 1, subscription: sub('trialing', 0) })),
      member(status('cus_B', { customerSince: T0 + 1, subscription: sub('canceled', 0) })),
      member(status('cus_C', { customerSince: T0 + 2, subscription: sub('active', 1000) })),
    ];
    const want = companyProperties('domain:acme.io', ms, true);
    expect(companyProperties('domain:acme.io', [...ms].reverse(), true)).toEqual(want);
    expect(companyProperties('domain:acme.io', [ms[1]!, ms[2]!, ms[0]!], true)).toEqual(want);
    expect(want.stripe_subscription_status).toBe('active');
  });

  it('without customers: our values cleared', () => {
    expect(companyProperties('domain:acme.io', [], true)).toEqual({
      stripe_customer_id: '',
      stripe_customer_ids: '',
      stripe_mrr: '',
      stripe_currency: '',
      stripe_subscription_status: 'none',
    });
  });

  it('a name only on companies we created: the primary business name, else the domain', () => {
    const a = member(status('cus_A', { customerSince: T0 + 5 }), 'Acme Labs');
    const b = member(status('cus_B', { customerSince: T0 }), null);
    expect(companyName('domain:acme.io', [a, b])).toBe('Acme Labs');
    expect(companyName('domain:acme.io', [b])).toBe('acme.io');
    expect(companyName('customer:cus_A', [member(status('cus_A'), '  Ann’s   Bakery ')])).toBe('Ann’s Bakery');
    expect(companyProperties('domain:acme.io', [a, b], false)).not.toHaveProperty('name');
    expect(companyProperties('domain:acme.io', [a, b], true).name).toBe('Acme Labs');
  });

  it('a company to create gets its domain (domain keys only)', () => {
    expect(companyCreateProperties('domain:acme.io', [member(status('cus_A'))])).toMatchObject({ domain: 'acme.io', name: 'acme.io', stripe_customer_id: 'cus_A' });
    expect(companyCreateProperties('customer:cus_A', [member(status('cus_A'), 'Bakery')])).not.toHaveProperty('domain');
  });

  it('only what changed since our last write is sent', () => {
    const desired = { stripe_mrr: '10.00', stripe_customer_id: 'cus_A', name: 'Acme' };
    expect(changedProperties(desired, null)).toEqual(desired);
    expect(changedProperties(desired, { stripe_mrr: '5.00', stripe_customer_id: 'cus_A', name: 'Acme', domain: 'acme.io' })).toEqual({ stripe_mrr: '10.00' });
    expect(changedProperties(desired, { ...desired })).toEqual({});
  });

  it('its properties: in the Stripe group, the customer id unique, the status one of Stripe’s', () => {
    const defs = companyPropertyDefinitions();
    expect(defs.map((d) => d.name)).toEqual(['stripe_customer_id', 'stripe_customer_ids', 'stripe_mrr', 'stripe_currency', 'stripe_subscription_status']);
    expect(defs.every((d) => d.groupName === 'stripe')).toBe(true);
    expect(defs.filter((d) => d.hasUniqueValue).map((d) => d.name)).toEqual(['stripe_customer_id']);
    expect(defs.find((d) => d.name === 'stripe_subscription_status')!.options!.map((o) => o.value)).toContain('none');
  });
});

describe('the customer mapper keeps the business name', () => {
  it('when Stripe sends one (API 2025-09-30 and later), and only then', () => {
    const out = mapEvent(stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_A', business_name: 'Acme Ltd' })));
    if ('skip' in out) throw new Error(out.skip);
    expect(out.records[0]!.data).toMatchObject({ businessName: 'Acme Ltd' });
    const none = mapEvent(stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_A', business_name: null })));
    if ('skip' in none) throw new Error(none.skip);
    expect(none.records[0]!.data).not.toHaveProperty('businessName');
  });
});
