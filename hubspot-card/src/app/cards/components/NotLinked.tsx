import { Button, EmptyState, Flex, LoadingButton, Text } from '@hubspot/ui-extensions';
import type { CardNotLinkedReason } from '../lib/contracts';
import type { Distribution } from '../lib/profile';

export interface NotLinkedProps {
  reason: CardNotLinkedReason;
  /** The backend's own explanation, shown as is. */
  message: string;
  /** Whether "Check Stripe again" really asks Stripe (the backend says so); otherwise it is not offered. */
  canCheckStripe: boolean;
  distribution: Distribution;
  busy: boolean;
  /** Asks the backend again (status). */
  onCheckAgain: () => void;
  /** Asks the backend to look this contact up in Stripe (refresh). */
  onCheckStripe: () => void;
}

/** What to do about a portal no Stripe account is connected to, by how the app was installed. */
const CONNECT: Record<Distribution, string> = {
  marketplace:
    'To fix it, a Stripe admin installs the Stripe → HubSpot sync app from the Stripe App Marketplace, opens its ' +
    'settings in the Stripe Dashboard and connects this HubSpot account.',
  private:
    'To fix it, whoever runs your Stripe sync service sets up the sync for this HubSpot account (its HubSpot access ' +
    'and its Stripe account), then checks again here.',
};

const MATCHING = 'Stripe customers are matched to contacts by their Stripe customer id, or by email.';

/** Why there is nothing to show, and what to do about it. */
export function NotLinked({ reason, message, canCheckStripe, distribution, busy, onCheckAgain, onCheckStripe }: NotLinkedProps) {
  if (reason === 'no_install') {
    return (
      <EmptyState title="Stripe is not connected to this HubSpot account" layout="vertical" imageName="integrations">
        <Flex direction="column" gap="sm">
          <Text>{message}</Text>
          <Text>{CONNECT[distribution]}</Text>
          <Button variant="secondary" onClick={onCheckAgain} disabled={busy} testId="check-again">
            Check again
          </Button>
        </Flex>
      </EmptyState>
    );
  }
  return (
    <EmptyState title="No Stripe customer for this contact" layout="vertical" imageName="contacts">
      <Flex direction="column" gap="sm">
        <Text>{message}</Text>
        <Text>
          {canCheckStripe
            ? `${MATCHING} "Check Stripe again" looks this contact's email up in Stripe now.`
            : `${MATCHING} A customer appears here once Stripe tells the sync service about it, for example at its next payment.`}
        </Text>
        {canCheckStripe ? (
          <LoadingButton variant="secondary" loading={busy} onClick={onCheckStripe} testId="check-stripe">
            Check Stripe again
          </LoadingButton>
        ) : (
          <Button variant="secondary" onClick={onCheckAgain} disabled={busy} testId="check-again">
            Check again
          </Button>
        )}
      </Flex>
    </EmptyState>
  );
}
