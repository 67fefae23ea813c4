import {
  REVENUE_MOVEMENT_KINDS,
  SUBSCRIPTION_STATUSES,
  type CustomerCompany,
  type CustomerCrmRecords,
  type CustomerSubscription,
  type RevenueMovementKind,
  type RevenueMovementSummary,
  type SubscriptionStatusValue,
} from '@stripe-hubspot-sync/contracts';
import { domainOfKey } from './companies';
import { hubspotRecordUrl } from './hubspot-links';

/**
 * What the Stripe App's customer view and the HubSpot card show beside a customer's read model (pure): every
 * subscription with the link to its HubSpot deal, the HubSpot company it is associated with, and its latest revenue
 * movements — from the stored facts the store reads in one go (adapters/store/customer-crm-read.ts).
 */

/** A subscription record's stored facts, and the HubSpot deal written for it in the contact's portal. */
export interface StoredSubscriptionFacts {
  id: string;
  status: unknown;
  plan: unknown;
  mrr: unknown;
  currency: unknown;
  currentPeriodEnd: unknown;
  cancelAtPeriodEnd: unknown;
  /** When Stripe created it (unix seconds), else its version's time. */
  at: unknown;
  dealId: string | null;
}

export interface StoredCompanyFacts {
  companyId: string;
  key: string;
  /** The name we last wrote (companies we created). */
  writtenName: string | null;
  /** The customer's Stripe business name. */
  businessName: string | null;
}

export interface StoredMovementFacts {
  id: string;
  kind: string;
  occurredAt: unknown;
  amount: unknown;
  currency: unknown;
  mrrBefore: unknown;
  mrrAfter: unknown;
}

export interface StoredCrmFacts {
  subscriptions: StoredSubscriptionFacts[];
  company: StoredCompanyFacts | null;
  movements: StoredMovementFacts[];
}

export const NO_CRM_FACTS: StoredCrmFacts = { subscriptions: [], company: null, movements: [] };

/** Most subscriptions listed; the store reads no more. */
export const MAX_SUBSCRIPTIONS = 25;
/** Most movements listed ("the latest movements"); the store reads no more. */
export const MAX_MOVEMENTS = 10;

/** Live (counted first, as the main subscription is chosen): the customer-view's rule. */
const LIVE = new Set(['active', 'trialing', 'past_due', 'unpaid']);
const STATUSES = new Set<string>(SUBSCRIPTION_STATUSES);
const KINDS = new Set<string>(REVENUE_MOVEMENT_KINDS);

export interface LinkContext {
  /** HubSpot's app origin for the portal (hubspot-links.ts). */
  origin: string;
  /** The portal the customer's contact is in; null when the customer has no contact (no deal or company links). */
  portalId: number | null;
  /** Stands in for a subscription that names no currency (the customer's). */
  currency: string | null;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Live first, then the most recently created, then the larger id: the order the main subscription is picked in. */
export function bySubscriptionOrder(a: StoredSubscriptionFacts, b: StoredSubscriptionFacts): number {
  const live = Number(LIVE.has(String(b.status))) - Number(LIVE.has(String(a.status)));
  if (live !== 0) return live;
  const at = (num(b.at) ?? 0) - (num(a.at) ?? 0);
  if (at !== 0) return at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function subscriptionOf(s: StoredSubscriptionFacts, ctx: LinkContext): CustomerSubscription {
  const status = STATUSES.has(String(s.status)) ? (String(s.status) as SubscriptionStatusValue) : 'none';
  return {
    id: s.id,
    status,
    plan: str(s.plan),
    mrr: num(s.mrr) ?? 0,
    currency: str(s.currency) ?? ctx.currency ?? '',
    currentPeriodEnd: num(s.currentPeriodEnd),
    cancelAtPeriodEnd: s.cancelAtPeriodEnd === true,
    hubspotDealUrl: s.dealId && ctx.portalId !== null ? hubspotRecordUrl(ctx.origin, ctx.portalId, 'deal', s.dealId) : null,
  };
}

/** The name the company is shown by: the one we gave it, else its domain, else the business name, else "Company". */
export function companyLabel(c: Pick<StoredCompanyFacts, 'key' | 'writtenName' | 'businessName'>): string {
  return str(c.writtenName?.trim()) ?? domainOfKey(c.key) ?? str(c.businessName?.trim()) ?? 'Company';
}

function companyOf(c: StoredCompanyFacts | null, ctx: LinkContext): CustomerCompany | null {
  if (!c || ctx.portalId === null) return null;
  const url = hubspotRecordUrl(ctx.origin, ctx.portalId, 'company', c.companyId);
  return url ? { name: companyLabel(c), hubspotUrl: url } : null;
}

function movementOf(m: StoredMovementFacts): RevenueMovementSummary | null {
  const occurredAt = num(m.occurredAt);
  const amount = num(m.amount);
  if (!KINDS.has(m.kind) || occurredAt === null || amount === null) return null;
  return {
    id: m.id,
    kind: m.kind as RevenueMovementKind,
    occurredAt,
    amount,
    currency: str(m.currency),
    mrrBefore: num(m.mrrBefore),
    mrrAfter: num(m.mrrAfter),
  };
}

/** The customer's HubSpot records and latest movements, as the app API and the card answer them. */
export function customerCrmRecords(facts: StoredCrmFacts, ctx: LinkContext): CustomerCrmRecords {
  return {
    subscriptions: [...facts.subscriptions].sort(bySubscriptionOrder).slice(0, MAX_SUBSCRIPTIONS).map((s) => subscriptionOf(s, ctx)),
    company: companyOf(facts.company, ctx),
    movements: facts.movements.flatMap((m) => movementOf(m) ?? []).slice(0, MAX_MOVEMENTS),
  };
}
