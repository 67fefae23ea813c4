import { PROPERTY_GROUP, SUBSCRIPTION_STATUSES, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { byPrimary, rollUp } from '../sync/contact-rollup';
import { fieldValue, type PropertyDefinition } from '../properties';
import { emailDomain, isFreeMailDomain } from './free-mail';

/**
 * Which HubSpot company a Stripe customer belongs to, and what the company carries (pure).
 *
 * A company is keyed by what makes it one:
 * - `domain:<d>`: customers whose email is on a company domain `d` (not a consumer provider's, see free-mail.ts)
 *   share one company — found by domain in HubSpot, or created with that domain;
 * - `customer:<id>`: a customer with a business name and no company domain (a free-mail address, or none) has a
 *   company of its own, found again by the unique customer-id property.
 * A customer with neither (or deleted in Stripe) has no company.
 *
 * The company's Stripe properties are the roll-up of its customers, as a contact's are (contact-rollup.ts): the
 * primary customer (created first) in the unique `stripe_customer_id`, every id in `stripe_customer_ids`, the MRR of
 * all of them in the primary's currency (customers in another currency are listed but add nothing), the best
 * subscription status. The name is written only on companies we created (never on one a HubSpot user made).
 */

export const COMPANY_ID_PROPERTY = 'stripe_customer_id';

export interface CompanyCustomerFacts {
  customerId: string;
  email: string | null;
  /** The Stripe customer's `business_name`, when it has one. */
  businessName: string | null;
  deleted: boolean;
}

export interface CompanyTarget {
  key: string;
  /** The company domain (domain keys only). */
  domain: string | null;
}

const MAX_NAME = 200;

/** The company a customer belongs to, or null when it has none. */
export function companyTargetOf(c: CompanyCustomerFacts): CompanyTarget | null {
  if (c.deleted) return null;
  const domain = emailDomain(c.email);
  if (domain && !isFreeMailDomain(domain)) return { key: `domain:${domain}`, domain };
  if (cleanName(c.businessName)) return { key: `customer:${c.customerId}`, domain: null };
  return null;
}

/** The domain a key stands for (null for a customer's own company). */
export function domainOfKey(key: string): string | null {
  return key.startsWith('domain:') ? key.slice('domain:'.length) : null;
}

function cleanName(name: string | null | undefined): string | null {
  if (typeof name !== 'string') return null;
  const n = name.replace(/\s+/g, ' ').trim();
  if (!n) return null;
  return n.length > MAX_NAME ? `${n.slice(0, MAX_NAME - 1)}…` : n;
}

export interface CompanyMember {
  status: CustomerStatus;
  businessName: string | null;
}

/**
 * The properties a company should hold for its members (any order; none left: our values cleared). `withName`:
 * the company is ours (we created it), so its name follows the primary business name, else the domain.
 */
export function companyProperties(key: string, members: readonly CompanyMember[], withName: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (members.length === 0) {
    Object.assign(out, { stripe_customer_id: '', stripe_customer_ids: '', stripe_mrr: '', stripe_currency: '', stripe_subscription_status: 'none' });
    return out;
  }
  const facts = rollUp(members.map((m) => m.status));
  out.stripe_customer_id = fieldValue('customerId', facts);
  out.stripe_customer_ids = fieldValue('customerIds', facts);
  out.stripe_mrr = fieldValue('mrr', facts);
  out.stripe_currency = fieldValue('currency', facts);
  out.stripe_subscription_status = fieldValue('subscriptionStatus', facts);
  if (withName) {
    const name = companyName(key, members);
    if (name) out.name = name;
  }
  return out;
}

/** The business name of the first member (primary order) that has one, else the domain. */
export function companyName(key: string, members: readonly CompanyMember[]): string | null {
  const ordered = [...members].sort((a, b) => byPrimary(a.status, b.status));
  for (const m of ordered) {
    const name = cleanName(m.businessName);
    if (name) return name;
  }
  return domainOfKey(key);
}

/** The properties of a company to create: its roll-up, its name, and its domain (domain keys). */
export function companyCreateProperties(key: string, members: readonly CompanyMember[]): Record<string, string> {
  const out = companyProperties(key, members, true);
  const domain = domainOfKey(key);
  if (domain) out.domain = domain;
  return out;
}

/** The properties of `desired` that differ from what we last wrote (all of them when we never wrote). */
export function changedProperties(desired: Record<string, string>, written: Record<string, string> | null): Record<string, string> {
  if (!written) return { ...desired };
  return Object.fromEntries(Object.entries(desired).filter(([k, v]) => written[k] !== v));
}

/** Our company properties, in the "Stripe" group of companies (`stripe_customer_id` has unique values). */
export function companyPropertyDefinitions(): PropertyDefinition[] {
  const base = { groupName: PROPERTY_GROUP.name, formField: false as const };
  return [
    {
      ...base,
      name: COMPANY_ID_PROPERTY,
      label: 'Stripe customer ID',
      description: 'The primary Stripe customer (created first) of this company; unique, used to find the company again.',
      type: 'string',
      fieldType: 'text',
      hasUniqueValue: true,
      displayOrder: 1,
    },
    {
      ...base,
      name: 'stripe_customer_ids',
      label: 'Stripe customer IDs',
      description: 'Every Stripe customer of this company (same email domain, or its own business name), the primary first.',
      type: 'string',
      fieldType: 'text',
      displayOrder: 2,
    },
    {
      ...base,
      name: 'stripe_mrr',
      label: 'MRR',
      description: "Monthly recurring revenue of the company's Stripe customers, in the Stripe currency.",
      type: 'number',
      fieldType: 'number',
      displayOrder: 3,
    },
    {
      ...base,
      name: 'stripe_currency',
      label: 'Stripe currency',
      description: 'The currency of the MRR (the primary customer’s); customers in another currency are listed but not added.',
      type: 'string',
      fieldType: 'text',
      displayOrder: 4,
    },
    {
      ...base,
      name: 'stripe_subscription_status',
      label: 'Subscription status',
      description: "The best status among the company's subscriptions (active first), or none.",
      type: 'enumeration',
      fieldType: 'select',
      options: SUBSCRIPTION_STATUSES.map((value, i) => ({ label: statusLabel(value), value, displayOrder: i, hidden: false })),
      displayOrder: 5,
    },
  ];
}

function statusLabel(value: string): string {
  if (value === 'none') return 'None';
  const words = value.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
