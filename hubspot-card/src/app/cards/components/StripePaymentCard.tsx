import { Alert, Button, Divider, ErrorState, Flex, LoadingButton, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import { cardRequestFrom } from '../lib/cardApi';
import type { CustomerStatus } from '../lib/contracts';
import { displayPrefs, type DisplayPrefs } from '../lib/format';
import { useCardData } from '../lib/useCardData';
import { CustomerSection } from './CustomerSection';
import { NotLinked } from './NotLinked';

/** What the card reads of HubSpot's extension context (a CRM record in the sidebar). */
export interface CardContext {
  portal: { id: number; timezone?: string };
  crm: { objectId: number };
  user?: { locale?: string };
}

export interface CardActions {
  addAlert?: (alert: { type?: 'info' | 'warning' | 'success' | 'danger' | 'tip'; message: string; title?: string }) => void;
}

export interface StripePaymentCardProps {
  context: CardContext;
  actions?: CardActions;
}

/** The contact's live Stripe payment status. Everything it needs comes in through props. */
export function StripePaymentCard({ context, actions }: StripePaymentCardProps) {
  const prefs = displayPrefs(context.user?.locale, context.portal.timezone);
  const { state, reload, refresh } = useCardData(cardRequestFrom(context), () =>
    actions?.addAlert?.({ type: 'success', message: 'Stripe payment status refreshed.' }),
  );

  if (state.status === 'loading') {
    return <LoadingSpinner label="Loading Stripe payment status" showLabel layout="centered" />;
  }

  if (state.status === 'error') {
    return (
      <ErrorState title="Couldn't load Stripe payment status" type="error">
        <Text>{state.error.message}</Text>
        <Button variant="primary" onClick={reload} testId="retry">
          Try again
        </Button>
      </ErrorState>
    );
  }

  const { data, refreshing, refreshError } = state;
  if (data.state === 'not_linked') {
    return <NotLinked reason={data.reason} message={data.message} busy={refreshing} onCheckAgain={refresh} />;
  }
  if (data.customers.length === 0) {
    return (
      <NotLinked
        reason="no_customer"
        message="The Stripe sync service found no customer for this contact."
        busy={refreshing}
        onCheckAgain={refresh}
      />
    );
  }

  return (
    <Flex direction="column" gap="md">
      {refreshError ? (
        <Alert title="Refresh failed" variant="danger">
          {refreshError.message} The figures below are from the last successful load.
        </Alert>
      ) : null}
      {data.customers.length > 1 ? (
        <Text testId="customer-count">{data.customers.length} Stripe customers are linked to this contact.</Text>
      ) : null}
      <CustomerList customers={data.customers} prefs={prefs} />
      <LoadingButton variant="secondary" loading={refreshing} onClick={refresh} testId="refresh">
        Refresh from Stripe
      </LoadingButton>
    </Flex>
  );
}

function CustomerList({ customers, prefs }: { customers: CustomerStatus[]; prefs: DisplayPrefs }) {
  return (
    <>
      {customers.map((customer, index) => (
        <Flex direction="column" gap="md" key={`${customer.accountId}/${customer.customerId}`}>
          {index > 0 ? <Divider /> : null}
          <CustomerSection customer={customer} prefs={prefs} />
        </Flex>
      ))}
    </>
  );
}
