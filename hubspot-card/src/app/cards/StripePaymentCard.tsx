import { hubspot } from '@hubspot/ui-extensions';
import { StripePaymentCard } from './components/StripePaymentCard';

// The card's entry point (StripePaymentCard-hsmeta.json). The card reads HubSpot's context and actions through the
// library's hooks (useExtensionContext / useExtensionActions).
hubspot.extend<'crm.record.sidebar'>(() => <StripePaymentCard />);
