import { Button, EmptyState, Flex, Text } from '@hubspot/ui-extensions';
import type { CardResponse } from '../lib/contracts';

type NotLinkedReason = Extract<CardResponse, { state: 'not_linked' }>['reason'];

export interface NotLinkedProps {
  reason: NotLinkedReason;
  /** The backend's own explanation, shown as is. */
  message: string;
  busy: boolean;
  onCheckAgain: () => void;
}

const COPY: Record<NotLinkedReason, { title: string; todo: string; action: string }> = {
  no_install: {
    title: 'Stripe is not connected to this HubSpot account',
    todo:
      'To fix it, a Stripe admin installs the Stripe → HubSpot sync app from the Stripe App Marketplace, opens its ' +
      'settings in the Stripe Dashboard and connects this HubSpot account.',
    action: 'Check again',
  },
  no_customer: {
    title: 'No Stripe customer for this contact',
    todo:
      'Stripe customers are matched to contacts by email. Check that this contact has the same email as the ' +
      'customer in Stripe, or open the customer in the Stripe Dashboard and press "Sync now" in the app.',
    action: 'Check Stripe again',
  },
};

/** Why there is nothing to show, and what to do about it. */
export function NotLinked({ reason, message, busy, onCheckAgain }: NotLinkedProps) {
  const copy = COPY[reason];
  return (
    <EmptyState title={copy.title} layout="vertical" imageName={reason === 'no_install' ? 'integrations' : 'contacts'}>
      <Flex direction="column" gap="sm">
        <Text>{message}</Text>
        <Text>{copy.todo}</Text>
        <Button variant="secondary" onClick={onCheckAgain} disabled={busy} testId="check-again">
          {copy.action}
        </Button>
      </Flex>
    </EmptyState>
  );
}
