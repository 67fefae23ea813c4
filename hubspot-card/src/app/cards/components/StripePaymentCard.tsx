import {
  Alert,
  Button,
  Divider,
  ErrorState,
  Flex,
  LoadingButton,
  LoadingSpinner,
  Text,
  useExtensionActions,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import { cardRequestFrom } from '../lib/cardApi';
import type { CardCustomer, CardResponse } from '../lib/contracts';
import { displayPrefs, type DisplayPrefs } from '../lib/format';
import { cardProfile } from '../lib/profile';
import { useCardData } from '../lib/useCardData';
import { CustomerSection } from './CustomerSection';
import { NotLinked } from './NotLinked';
import { Syncing } from './Syncing';

/** The contact's live Stripe payment status, from HubSpot's extension context (a CRM record in the sidebar). */
export function StripePaymentCard() {
  const context = useExtensionContext<'crm.record.sidebar'>();
  const actions = useExtensionActions<'crm.record.sidebar'>();
  const { backendUrl, distribution } = cardProfile(context.variables);
  const prefs = displayPrefs(context.user?.locale, context.portal.timezone);
  const onRefreshed = (data: CardResponse) => {
    // Only a refresh that read Stripe says so; one that could not keeps its warning on the card instead.
    if (data.state === 'linked' && data.customers.length > 0 && !data.warning) {
      actions.addAlert?.({ type: 'success', message: 'Stripe payment status refreshed.' });
    }
  };
  const { state, reload, refresh } = useCardData(backendUrl, cardRequestFrom(context), onRefreshed);

  if (backendUrl === null) {
    return (
      <ErrorState title="This card is not set up" type="error">
        <Text>
          It was uploaded without the address of its Stripe sync service: the BACKEND_URL variable of the project profile
          is missing or not an https:// URL. The app's developer uploads it again with a profile (hs project upload
          --profile …).
        </Text>
      </ErrorState>
    );
  }

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
  const notices = (
    <>
      {refreshError ? (
        <Alert title="Refresh failed" variant="danger">
          {`${refreshError.message} What you see is from the last successful load.`}
        </Alert>
      ) : null}
      {data.warning ? (
        <Alert title="Not refreshed from Stripe" variant="warning" testId="warning">
          {data.warning}
        </Alert>
      ) : null}
    </>
  );

  if (data.state === 'not_linked') {
    return (
      <Flex direction="column" gap="md">
        {notices}
        <NotLinked
          reason={data.reason}
          message={data.message}
          canCheckStripe={data.canCheckStripe}
          distribution={distribution}
          busy={refreshing}
          onCheckAgain={reload}
          onCheckStripe={refresh}
        />
      </Flex>
    );
  }
  if (data.customers.length === 0) {
    return (
      <Flex direction="column" gap="md">
        {notices}
        <Syncing count={data.syncing} busy={refreshing} onCheckAgain={reload} />
      </Flex>
    );
  }

  return (
    <Flex direction="column" gap="md">
      {notices}
      {data.customers.length > 1 ? (
        <Text testId="customer-count">{data.customers.length} Stripe customers are linked to this contact.</Text>
      ) : null}
      {data.syncing > 0 ? (
        <Text testId="syncing-count">
          {data.syncing === 1
            ? 'One more linked Stripe customer is still syncing.'
            : `${data.syncing} more linked Stripe customers are still syncing.`}
        </Text>
      ) : null}
      <CustomerList customers={data.customers} prefs={prefs} />
      <LoadingButton variant="secondary" loading={refreshing} onClick={refresh} testId="refresh">
        Refresh from Stripe
      </LoadingButton>
    </Flex>
  );
}

function CustomerList({ customers, prefs }: { customers: CardCustomer[]; prefs: DisplayPrefs }) {
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
