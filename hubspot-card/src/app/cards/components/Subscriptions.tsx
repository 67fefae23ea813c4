import { Flex, Link, StatusTag, Text } from '@hubspot/ui-extensions';
import type { CustomerSubscription } from '../lib/contracts';
import { formatDate, money, SUBSCRIPTION_STATUS_VIEW, type DisplayPrefs } from '../lib/format';

export interface SubscriptionsProps {
  customerId: string;
  subscriptions: CustomerSubscription[];
  prefs: DisplayPrefs;
}

/** Every subscription of the customer (live ones first), each with its MRR, renewal and the link to its HubSpot deal. */
export function Subscriptions({ customerId, subscriptions, prefs }: SubscriptionsProps) {
  if (subscriptions.length === 0) return null;
  return (
    <Flex direction="column" gap="xs" testId={`subscriptions-${customerId}`}>
      <Text format={{ fontWeight: 'demibold' }}>{subscriptions.length === 1 ? 'Subscription' : `Subscriptions (${subscriptions.length})`}</Text>
      {subscriptions.map((sub) => (
        <SubscriptionRow key={sub.id} sub={sub} prefs={prefs} />
      ))}
    </Flex>
  );
}

function SubscriptionRow({ sub, prefs }: { sub: CustomerSubscription; prefs: DisplayPrefs }) {
  const status = SUBSCRIPTION_STATUS_VIEW[sub.status] ?? SUBSCRIPTION_STATUS_VIEW.none;
  return (
    <Flex direction="column" gap="flush" testId={`subscription-${sub.id}`}>
      <Flex direction="row" gap="xs" align="center" wrap="wrap">
        <Text inline>{sub.plan ?? 'Unnamed plan'}</Text>
        <StatusTag variant={status.variant} testId={`subscription-row-status-${sub.id}`}>
          {status.label}
        </StatusTag>
      </Flex>
      <Text variant="microcopy">{details(sub, prefs)}</Text>
      {sub.hubspotDealUrl ? (
        <Link href={{ url: sub.hubspotDealUrl }} testId={`deal-link-${sub.id}`}>
          Open the deal
        </Link>
      ) : (
        <Text variant="microcopy" testId={`no-deal-${sub.id}`}>
          No HubSpot deal yet
        </Text>
      )}
    </Flex>
  );
}

/** "$30.00 / month · renews Mar 23, 2026" (or "ends …" when it cancels at period end). */
function details(sub: CustomerSubscription, prefs: DisplayPrefs): string {
  const parts = [`${money(sub.mrr, sub.currency || null, prefs)} MRR`];
  const ended = sub.status === 'canceled' || sub.status === 'incomplete_expired';
  if (sub.currentPeriodEnd !== null && !ended) {
    parts.push(`${sub.cancelAtPeriodEnd ? 'ends' : 'renews'} ${formatDate(sub.currentPeriodEnd, prefs)}`);
  }
  return parts.join(' · ');
}
