import { SUBSCRIPTION_STATUSES } from '@stripe-hubspot-sync/contracts';
import {
  customerCurrency,
  customerLabel,
  displayPrefs,
  formatDate,
  formatDateTime,
  money,
  SUBSCRIPTION_STATUS_VIEW,
} from '../src/app/cards/lib/format';
import { customerStatus, T0 } from './fixtures';

const US = { locale: 'en-US', timeZone: 'UTC' };

describe('subscription status tags', () => {
  it('follow the agreed variants, and cover every status of the catalog', () => {
    const variants = Object.fromEntries(Object.entries(SUBSCRIPTION_STATUS_VIEW).map(([k, v]) => [k, v.variant]));
    expect(variants).toMatchObject({
      active: 'success',
      trialing: 'info',
      past_due: 'warning',
      unpaid: 'danger',
      canceled: 'default',
      none: 'default',
    });
    expect(Object.keys(SUBSCRIPTION_STATUS_VIEW).sort()).toEqual([...SUBSCRIPTION_STATUSES].sort());
  });
});

describe('displayPrefs', () => {
  it("keeps HubSpot's locale and the portal's time zone when Intl knows them", () => {
    expect(displayPrefs('en-us', 'Europe/Paris')).toEqual({ locale: 'en-US', timeZone: 'Europe/Paris' });
  });

  it('falls back to en-US and UTC rather than throwing', () => {
    expect(displayPrefs(undefined, undefined)).toEqual({ locale: 'en-US', timeZone: 'UTC' });
    expect(displayPrefs('not a locale!', 'Mars/Olympus_Mons')).toEqual({ locale: 'en-US', timeZone: 'UTC' });
  });
});

describe('dates', () => {
  it('formats unix seconds and ISO times in the given zone', () => {
    expect(formatDate(T0, US)).toBe('Mar 3, 2026');
    expect(formatDate(T0 - 16 * 3600, { locale: 'en-US', timeZone: 'America/Los_Angeles' })).toBe('Mar 2, 2026');
    expect(formatDateTime('2026-03-03T15:00:00.000Z', { locale: 'de-DE', timeZone: 'Europe/Berlin' })).toBe('03.03.2026, 16:00');
  });

  it('shows an unreadable ISO time as is', () => {
    expect(formatDateTime('yesterday', US)).toBe('yesterday');
  });
});

describe('money', () => {
  it('formats through the shared formatter in the user locale', () => {
    expect(money(123456, 'eur', { locale: 'de-DE', timeZone: 'UTC' })).toBe('1.234,56\u00a0€');
    expect(money(1005, 'kwd', US)).toBe('KWD\u00a01.005');
  });

  it('shows a dash without a currency or with a broken one', () => {
    expect(money(0, null, US)).toBe('—');
    expect(money(500, 'dollars', US)).toBe('—');
  });
});

describe('customer helpers', () => {
  it("uses the customer's currency, else the subscription's, else the last payment's", () => {
    expect(customerCurrency(customerStatus({ currency: 'gbp' }))).toBe('gbp');
    expect(customerCurrency(customerStatus({ currency: null }))).toBe('usd');
    expect(
      customerCurrency(
        customerStatus({ currency: null, subscription: null, lastPayment: { amount: 1, currency: 'chf', at: T0, status: 'succeeded' } }),
      ),
    ).toBe('chf');
    expect(customerCurrency(customerStatus({ currency: null, subscription: null, lastPayment: null }))).toBeNull();
  });

  it('names a customer by name, else email, else id', () => {
    expect(customerLabel(customerStatus())).toBe('Ada Lovelace');
    expect(customerLabel(customerStatus({ name: null }))).toBe('ada@example.com');
    expect(customerLabel(customerStatus({ name: null, email: null }))).toBe('cus_Active1');
  });
});
