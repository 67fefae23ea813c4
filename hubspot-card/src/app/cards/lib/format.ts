import {
  formatMoney,
  REVENUE_MOVEMENT_LABELS,
  type CustomerStatus,
  type PaymentStatusValue,
  type RevenueMovementSummary,
  type SubscriptionStatusValue,
} from './contracts';

/** Pure display helpers: labels, tag variants, dates and money for the card. */

export type TagVariant = 'danger' | 'warning' | 'info' | 'success' | 'default';

export const SUBSCRIPTION_STATUS_VIEW: Record<SubscriptionStatusValue, { label: string; variant: TagVariant }> = {
  active: { label: 'Active', variant: 'success' },
  trialing: { label: 'Trialing', variant: 'info' },
  past_due: { label: 'Past due', variant: 'warning' },
  unpaid: { label: 'Unpaid', variant: 'danger' },
  canceled: { label: 'Canceled', variant: 'default' },
  incomplete: { label: 'Incomplete', variant: 'warning' },
  incomplete_expired: { label: 'Incomplete (expired)', variant: 'default' },
  paused: { label: 'Paused', variant: 'default' },
  none: { label: 'No subscription', variant: 'default' },
};

export const PAYMENT_STATUS_VIEW: Record<PaymentStatusValue, { label: string; variant: TagVariant }> = {
  succeeded: { label: 'Succeeded', variant: 'success' },
  failed: { label: 'Failed', variant: 'danger' },
  refunded: { label: 'Refunded', variant: 'warning' },
};

/** Locale and time zone of the HubSpot user and portal; dates show in the portal's zone. */
export interface DisplayPrefs {
  locale: string;
  timeZone: string;
}

export const DEFAULT_PREFS: DisplayPrefs = { locale: 'en-US', timeZone: 'UTC' };

/** HubSpot gives locales like `en-us`; Intl wants a valid tag and zone, so fall back rather than throw. */
export function displayPrefs(locale: string | undefined, timeZone: string | undefined): DisplayPrefs {
  return { locale: validLocale(locale), timeZone: validTimeZone(timeZone) };
}

function validLocale(locale: string | undefined): string {
  if (!locale) return DEFAULT_PREFS.locale;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? DEFAULT_PREFS.locale;
  } catch {
    return DEFAULT_PREFS.locale;
  }
}

function validTimeZone(timeZone: string | undefined): string {
  if (!timeZone) return DEFAULT_PREFS.timeZone;
  try {
    new Intl.DateTimeFormat(DEFAULT_PREFS.locale, { timeZone });
    return timeZone;
  } catch {
    return DEFAULT_PREFS.timeZone;
  }
}

/** A unix-seconds timestamp as a date, e.g. "Mar 3, 2026". */
export function formatDate(unixSeconds: number, prefs: DisplayPrefs): string {
  return new Intl.DateTimeFormat(prefs.locale, { dateStyle: 'medium', timeZone: prefs.timeZone }).format(new Date(unixSeconds * 1000));
}

/** An ISO timestamp as date and time, e.g. "Mar 3, 2026, 10:15 AM". */
export function formatDateTime(iso: string, prefs: DisplayPrefs): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(prefs.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: prefs.timeZone }).format(date);
}

/** The currency the customer's totals are in: the customer's, else the subscription's, else the last payment's. */
export function customerCurrency(customer: CustomerStatus): string | null {
  return customer.currency ?? customer.subscription?.currency ?? customer.lastPayment?.currency ?? null;
}

/**
 * Money in minor units through the shared formatter; "—" when no currency is known (nothing was ever charged) or
 * the backend sent something that is not a currency code (a bad value must not take the whole card down).
 */
export function money(minor: number, currency: string | null, prefs: DisplayPrefs): string {
  if (!currency) return '—';
  try {
    return formatMoney(minor, currency, prefs.locale);
  } catch {
    return '—';
  }
}

/** What to call a customer: its name, else its email, else its id. */
export function customerLabel(customer: CustomerStatus): string {
  return customer.name || customer.email || customer.customerId;
}

/**
 * How long ago an ISO time was, in the user's words: "now", "3 minutes ago", "2 hours ago", "yesterday", "5 days
 * ago". A time slightly in the future (clocks differ) counts as now; an unreadable one answers null.
 */
export function timeAgo(iso: string, prefs: DisplayPrefs, nowMs: number = Date.now()): string | null {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  const seconds = Math.max(0, (nowMs - at) / 1000);
  const rtf = new Intl.RelativeTimeFormat(prefs.locale, { numeric: 'auto' });
  if (seconds < 60) return rtf.format(0, 'second');
  if (seconds < 3600) return rtf.format(-Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return rtf.format(-Math.floor(seconds / 3600), 'hour');
  return rtf.format(-Math.floor(seconds / 86_400), 'day');
}

/** What a movement is called ("Upgrade", "Payment failed"). */
export function movementLabel(m: RevenueMovementSummary): string {
  return REVENUE_MOVEMENT_LABELS[m.kind] ?? m.kind;
}

/** The movements whose amount is a change of MRR: shown with a sign. */
const MRR_CHANGES = new Set<RevenueMovementSummary['kind']>(['new', 'upgrade', 'downgrade', 'churn', 'reactivation', 'trial_converted']);

/** A movement's amount: "+$20.00" or "−$5.00" (a real minus) for a change of MRR, else as is ("$40.00"). */
export function movementAmount(m: RevenueMovementSummary, prefs: DisplayPrefs): string {
  const abs = money(Math.abs(m.amount), m.currency, prefs);
  if (!MRR_CHANGES.has(m.kind) || m.amount === 0 || abs === '—') return abs;
  return `${m.amount > 0 ? '+' : '−'}${abs}`;
}

/** MRR before and after a subscription movement ("MRR $10.00 → $30.00"); null for the others. */
export function movementMrr(m: RevenueMovementSummary, prefs: DisplayPrefs): string | null {
  if (m.mrrBefore === null || m.mrrAfter === null) return null;
  return `MRR ${money(m.mrrBefore, m.currency, prefs)} → ${money(m.mrrAfter, m.currency, prefs)}`;
}
