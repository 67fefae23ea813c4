import type { DestinationKind } from '@stripe-hubspot-sync/contracts';
import type { DestinationAdapter, DestinationAdapterInput } from '../../domain/destinations/port';
import { createKlaviyoAdapter } from '../klaviyo/adapter';
import { createLoopsAdapter } from '../loops/adapter';
import { createIntercomAdapter } from '../intercom/adapter';
import { createSalesforceAdapter } from '../salesforce/adapter';

/** The adapters of the destination port, by kind: adding a destination is one entry here and one adapter. */
export type AdapterFactories = Readonly<Record<DestinationKind, (input: DestinationAdapterInput) => DestinationAdapter>>;

export const DESTINATION_ADAPTERS: AdapterFactories = {
  klaviyo: createKlaviyoAdapter,
  loops: createLoopsAdapter,
  intercom: createIntercomAdapter,
  salesforce: createSalesforceAdapter,
};
