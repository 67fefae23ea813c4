import { Flex, Text } from '@hubspot/ui-extensions';
import type { RevenueMovementSummary } from '../lib/contracts';
import { formatDate, movementAmount, movementLabel, movementMrr, type DisplayPrefs } from '../lib/format';

export interface MovementsProps {
  customerId: string;
  movements: RevenueMovementSummary[];
  prefs: DisplayPrefs;
}

/** The customer's latest revenue movements, newest first: what, how much, when, and MRR before and after. */
export function Movements({ customerId, movements, prefs }: MovementsProps) {
  if (movements.length === 0) return null;
  return (
    <Flex direction="column" gap="xs" testId={`movements-${customerId}`}>
      <Text format={{ fontWeight: 'demibold' }}>Latest revenue movements</Text>
      {movements.map((m) => {
        const mrr = movementMrr(m, prefs);
        return (
          <Flex direction="column" gap="flush" key={m.id} testId={`movement-${m.id}`}>
            <Text inline>{`${movementLabel(m)} · ${movementAmount(m, prefs)}`}</Text>
            <Text variant="microcopy">{[formatDate(m.occurredAt, prefs), mrr].filter(Boolean).join(' · ')}</Text>
          </Flex>
        );
      })}
    </Flex>
  );
}
