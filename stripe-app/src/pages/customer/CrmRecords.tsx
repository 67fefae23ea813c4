import { Badge, Box, Inline, Link } from '@stripe/ui-extension-sdk/ui';
import {
  formatMoney,
  REVENUE_MOVEMENT_LABELS,
  type CustomerCompany,
  type CustomerSubscription,
  type CustomerSyncResponse,
  type RevenueMovementSummary,
  type SubscriptionStatusValue,
} from '../../data/contracts';
import { formatTime } from '../../format';

/**
 * The customer's records in HubSpot beside its contact: the company it is associated with, every subscription with
 * the link to its deal, and its latest revenue movements. Nothing of them from a backend that does not send them.
 */

type BadgeType = 'neutral' | 'urgent' | 'warning' | 'negative' | 'positive' | 'info';

const STATUS_BADGE: Record<SubscriptionStatusValue, { label: string; type: BadgeType }> = {
  active: { label: 'Active', type: 'positive' },
  trialing: { label: 'Trialing', type: 'info' },
  past_due: { label: 'Past due', type: 'warning' },
  unpaid: { label: 'Unpaid', type: 'negative' },
  canceled: { label: 'Canceled', type: 'neutral' },
  incomplete: { label: 'Incomplete', type: 'warning' },
  incomplete_expired: { label: 'Incomplete (expired)', type: 'neutral' },
  paused: { label: 'Paused', type: 'neutral' },
  none: { label: 'Unknown', type: 'neutral' },
};

/** Minor units in a currency ("$49.00"); "—" when the currency is unknown or not one. */
export function money(minor: number, currency: string | null): string {
  if (!currency) return '—';
  try {
    return formatMoney(minor, currency);
  } catch {
    return '—';
  }
}

/** The movements whose amount is a change of MRR: shown with a sign. */
const MRR_CHANGES = new Set<string>(['new', 'upgrade', 'downgrade', 'churn', 'reactivation', 'trial_converted']);

/** "Upgrade +$20.00 · MRR $10.00 → $30.00", "Payment failed $49.00". */
export function movementText(m: RevenueMovementSummary): string {
  const abs = money(Math.abs(m.amount), m.currency);
  const sign = MRR_CHANGES.has(m.kind) && m.amount !== 0 && abs !== '—' ? (m.amount > 0 ? '+' : '−') : '';
  const mrr = m.mrrBefore !== null && m.mrrAfter !== null ? ` · MRR ${money(m.mrrBefore, m.currency)} → ${money(m.mrrAfter, m.currency)}` : '';
  return `${REVENUE_MOVEMENT_LABELS[m.kind] ?? m.kind} ${sign}${abs}${mrr}`;
}

function Company({ company }: { company: CustomerCompany }) {
  return (
    <Box css={{ stack: 'y', gap: 'xsmall' }}>
      <Box>{`HubSpot company: ${company.name}`}</Box>
      <Link href={company.hubspotUrl} target="_blank" external>
        Open the company in HubSpot
      </Link>
    </Box>
  );
}

function Subscription({ sub }: { sub: CustomerSubscription }) {
  const badge = STATUS_BADGE[sub.status] ?? STATUS_BADGE.none;
  const ended = sub.status === 'canceled' || sub.status === 'incomplete_expired';
  const period =
    sub.currentPeriodEnd !== null && !ended ? ` · ${sub.cancelAtPeriodEnd ? 'ends' : 'renews'} ${formatTime(sub.currentPeriodEnd).slice(0, 10)}` : '';
  return (
    <Box css={{ stack: 'y', gap: 'xsmall' }}>
      <Inline css={{ gap: 'small' }}>
        <Box css={{ font: 'bodyEmphasized' }}>{sub.plan ?? 'Unnamed plan'}</Box>
        <Badge type={badge.type}>{badge.label}</Badge>
      </Inline>
      <Box css={{ font: 'caption', color: 'secondary' }}>{`${sub.id} · ${money(sub.mrr, sub.currency || null)} MRR${period}`}</Box>
      {sub.hubspotDealUrl ? (
        <Link href={sub.hubspotDealUrl} target="_blank" external>
          Open the deal in HubSpot
        </Link>
      ) : (
        <Box css={{ font: 'caption' }}>No HubSpot deal yet.</Box>
      )}
    </Box>
  );
}

export function CrmRecords({ data }: { data: CustomerSyncResponse }) {
  const subscriptions = data.subscriptions ?? [];
  const movements = data.movements ?? [];
  if (!data.company && subscriptions.length === 0 && movements.length === 0) return null;
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      {data.company ? <Company company={data.company} /> : null}
      {subscriptions.length > 0 ? (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Box css={{ font: 'heading' }}>{subscriptions.length === 1 ? 'Subscription and deal' : 'Subscriptions and deals'}</Box>
          {subscriptions.map((sub) => (
            <Subscription key={sub.id} sub={sub} />
          ))}
        </Box>
      ) : null}
      {movements.length > 0 ? (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Box css={{ font: 'heading' }}>Latest revenue movements</Box>
          {movements.map((m) => (
            <Box key={m.id} css={{ stack: 'y' }}>
              <Box>{movementText(m)}</Box>
              <Box css={{ font: 'caption', color: 'secondary' }}>{formatTime(m.occurredAt)}</Box>
            </Box>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
