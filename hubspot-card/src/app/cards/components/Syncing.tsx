import { Button, EmptyState, Flex, Text } from '@hubspot/ui-extensions';

export interface SyncingProps {
  /** Linked Stripe customers whose data has not arrived yet. */
  count: number;
  busy: boolean;
  onCheckAgain: () => void;
}

/** A contact linked to Stripe customers whose data is still on its way: syncing, not "no customer". */
export function Syncing({ count, busy, onCheckAgain }: SyncingProps) {
  const customers = count === 1 ? 'a Stripe customer' : `${count} Stripe customers`;
  return (
    <EmptyState title="Syncing with Stripe" layout="vertical" imageName="contacts">
      <Flex direction="column" gap="sm">
        <Text>{`This contact is linked to ${customers} whose payment data has not arrived yet. It usually takes a few seconds.`}</Text>
        <Button variant="secondary" onClick={onCheckAgain} disabled={busy} testId="check-again">
          Check again
        </Button>
      </Flex>
    </EmptyState>
  );
}
