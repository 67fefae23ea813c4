import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { ObjectRecord } from '../records';
import { desiredDeals } from '../crm/deals';
import { companyName, companyTargetOf } from '../crm/companies';
import type { CompanyWrite, SubscriptionWrite } from './port';

/**
 * What a destination that keeps CRM records beside its contacts (Salesforce: Opportunities, Accounts) is given of
 * a customer (pure): the same subscription deals and company target HubSpot's writers derive, from the same
 * stored records — one source of truth, and order-safe because the records only move forward.
 *
 * - Subscriptions: `desiredDeals` (one per subscription; none for `incomplete`), the amount per month (MRR basis)
 *   in major units, the close date as a date.
 * - Company: `companyTargetOf` (a company email domain, else the business name; free mail and deleted customers
 *   have none), named by the business name, else the domain.
 */

/** The deal settings destinations derive with: subscriptions only, monthly amounts. */
const DEAL_SETTINGS = { enabled: true, amount: 'mrr', checkoutDeals: false } as const;

export function subscriptionWrites(status: CustomerStatus, records: readonly ObjectRecord[]): SubscriptionWrite[] {
  return desiredDeals({ customerId: status.customerId, customerName: status.name, records }, DEAL_SETTINGS)
    .filter((d) => d.kind === 'subscription')
    .map((d) => {
      const amount = d.properties.amount;
      const close = d.properties.closedate;
      return {
        key: d.key,
        stage: d.stage,
        status: d.properties.stripe_subscription_status ?? 'none',
        name: d.properties.dealname ?? 'Subscription',
        monthlyAmount: amount !== undefined && Number.isFinite(Number(amount)) ? Number(amount) : null,
        currency: d.currency,
        closeDate: close ? close.slice(0, 10) : null,
      };
    });
}

export function companyWrite(status: CustomerStatus, records: readonly ObjectRecord[]): CompanyWrite | null {
  const own = records.find((r) => r.kind === 'customer' && r.objectId === status.customerId);
  const businessName = own?.kind === 'customer' ? (own.data.businessName ?? null) : null;
  const target = companyTargetOf({ customerId: status.customerId, email: status.email, businessName, deleted: status.deleted });
  if (!target) return null;
  const name = companyName(target.key, [{ status, businessName }]);
  return name ? { key: target.key, name, domain: target.domain } : null;
}

/** The related facts an adapter asked for, to merge into its `ProfileWrite`. */
export function relatedWrites(
  status: CustomerStatus,
  records: readonly ObjectRecord[],
  wants: { subscriptions: boolean; company: boolean },
): { subscriptions?: SubscriptionWrite[]; company?: CompanyWrite | null } {
  return {
    ...(wants.subscriptions ? { subscriptions: subscriptionWrites(status, records) } : {}),
    ...(wants.company ? { company: companyWrite(status, records) } : {}),
  };
}
