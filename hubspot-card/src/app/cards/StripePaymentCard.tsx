import { hubspot } from '@hubspot/ui-extensions';
import { StripePaymentCard } from './components/StripePaymentCard';

// The card's entry point (StripePaymentCard-hsmeta.json): hand HubSpot's context and actions to the component.
hubspot.extend<'crm.record.sidebar'>(({ context, actions }) => <StripePaymentCard context={context} actions={actions} />);
