import {
  Alert,
  DescriptionList,
  DescriptionListItem,
  Flex,
  Heading,
  Link,
  StatusTag,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import type { CardCustomer, CustomerStatus } from '../lib/contracts';
import {
  customerCurrency,
  customerLabel,
  formatDate,
  formatDateTime,
  money,
  PAYMENT_STATUS_VIEW,
  SUBSCRIPTION_STATUS_VIEW,
  timeAgo,
  type DisplayPrefs,
} from '../lib/format';
import { Movements } from './Movements';
import { Subscriptions } from './Subscriptions';

export interface CustomerSectionProps {
  /** The read model, with its HubSpot records when the backend sends them (older backends do not). */
  customer: CardCustomer;
  prefs: DisplayPrefs;
}

/**
 * One Stripe customer's payment health: status, plan and MRR, payments, invoices, totals, its HubSpot company, every
 * subscription with its deal, the latest revenue movements, link, freshness and sync time.
 */
export function CustomerSection({ customer, prefs }: CustomerSectionProps) {
  const currency = customerCurrency(customer);
  const sub = customer.subscription;
  const status = SUBSCRIPTION_STATUS_VIEW[sub?.status ?? 'none'] ?? SUBSCRIPTION_STATUS_VIEW.none;
  const troubled = sub?.status === 'past_due' || sub?.status === 'unpaid' || customer.delinquent;

  return (
    <Flex direction="column" gap="sm" testId={`customer-${customer.customerId}`}>
      <Flex direction="row" justify="between" align="center" wrap="wrap" gap="xs">
        <Heading>{customerLabel(customer)}</Heading>
        <Flex direction="row" gap="xs" align="center">
          {customer.livemode ? null : <Tag variant="warning">Test mode</Tag>}
          <StatusTag variant={status.variant} testId={`subscription-status-${customer.customerId}`}>
            {status.label}
          </StatusTag>
        </Flex>
      </Flex>

      {customer.deleted ? (
        <Alert title="Deleted in Stripe" variant="warning">
          This customer was deleted in Stripe. The figures below are its last known state.
        </Alert>
      ) : null}
      {troubled && !customer.deleted ? (
        <Alert title="Payment problem" variant="danger">
          {customer.failedPaymentCount > 0
            ? `${plural(customer.failedPaymentCount, 'failed payment')}. ${customer.lastFailureReason ?? ''}`.trim()
            : 'Stripe marks this customer as delinquent.'}
        </Alert>
      ) : null}

      <DescriptionList direction="row">
        <DescriptionListItem label="Plan">{sub ? (sub.plan ?? 'Unnamed plan') : 'No subscription'}</DescriptionListItem>
        <DescriptionListItem label="MRR">{sub ? money(sub.mrr, sub.currency, prefs) : money(0, currency, prefs)}</DescriptionListItem>
        <DescriptionListItem label="Next renewal">{renewal(customer, prefs)}</DescriptionListItem>
        <DescriptionListItem label="Cancels at period end">{sub ? (sub.cancelAtPeriodEnd ? 'Yes' : 'No') : '—'}</DescriptionListItem>
        <DescriptionListItem label="Last payment">
          {customer.lastPayment ? (
            <Flex direction="row" gap="xs" align="center" wrap="wrap">
              <Text inline>
                {money(customer.lastPayment.amount, customer.lastPayment.currency, prefs)} on {formatDate(customer.lastPayment.at, prefs)}
              </Text>
              <StatusTag variant={PAYMENT_STATUS_VIEW[customer.lastPayment.status].variant} testId={`payment-status-${customer.customerId}`}>
                {PAYMENT_STATUS_VIEW[customer.lastPayment.status].label}
              </StatusTag>
            </Flex>
          ) : (
            'No payments yet'
          )}
        </DescriptionListItem>
        <DescriptionListItem label="Failed payments">{String(customer.failedPaymentCount)}</DescriptionListItem>
        <DescriptionListItem label="Open invoices">
          {customer.openInvoiceCount > 0
            ? `${customer.openInvoiceCount} · ${money(customer.openAmountDue, currency, prefs)} due`
            : 'None'}
        </DescriptionListItem>
        {customer.nextInvoiceAmount !== null ? (
          <DescriptionListItem label="Next invoice">{money(customer.nextInvoiceAmount, currency, prefs)}</DescriptionListItem>
        ) : null}
        <DescriptionListItem label="Refunds">{money(customer.totalRefunded, currency, prefs)}</DescriptionListItem>
        {customer.disputedAmount > 0 ? (
          <DescriptionListItem label="Disputed">{money(customer.disputedAmount, currency, prefs)}</DescriptionListItem>
        ) : null}
        <DescriptionListItem label="Lifetime value">{money(customer.lifetimeValue, currency, prefs)}</DescriptionListItem>
        <DescriptionListItem label="Customer since">
          {customer.customerSince !== null ? formatDate(customer.customerSince, prefs) : '—'}
        </DescriptionListItem>
        {customer.company ? (
          <DescriptionListItem label="Company">
            <Link href={{ url: customer.company.hubspotUrl }} testId={`company-link-${customer.customerId}`}>
              {customer.company.name}
            </Link>
          </DescriptionListItem>
        ) : null}
      </DescriptionList>

      <Subscriptions customerId={customer.customerId} subscriptions={customer.subscriptions ?? []} prefs={prefs} />
      <Movements customerId={customer.customerId} movements={customer.movements ?? []} prefs={prefs} />

      <Link href={{ url: customer.dashboardUrl, external: true }} testId={`dashboard-link-${customer.customerId}`}>
        {customer.livemode ? 'Open in Stripe Dashboard' : 'Open in Stripe Dashboard (test mode)'}
      </Link>
      <Text variant="microcopy" testId={`updated-${customer.customerId}`}>
        {`Stripe data updated ${timeAgo(customer.updatedAt, prefs) ?? formatDateTime(customer.updatedAt, prefs)}`}
      </Text>
      <Text variant="microcopy" testId={`last-synced-${customer.customerId}`}>
        {customer.lastSyncedAt
          ? `Last synced to HubSpot ${formatDateTime(customer.lastSyncedAt, prefs)}`
          : 'Not synced to HubSpot yet'}
      </Text>
    </Flex>
  );
}

function renewal(customer: CustomerStatus, prefs: DisplayPrefs): string {
  const sub = customer.subscription;
  if (!sub || sub.currentPeriodEnd === null || sub.status === 'canceled' || sub.status === 'incomplete_expired') return '—';
  const date = formatDate(sub.currentPeriodEnd, prefs);
  return sub.cancelAtPeriodEnd ? `Ends ${date}` : date;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
