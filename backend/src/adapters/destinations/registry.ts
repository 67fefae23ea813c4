import type { DestinationKind } from '@stripe-hubspot-sync/contracts';
import {
  destinationErrorClass,
  type DestinationAdapter,
  type DestinationAdapterInput,
  type DestinationErrorClass,
  type DestinationPortKind,
  type DestinationTraits,
} from '../../domain/destinations/port';
import { createKlaviyoAdapter, KLAVIYO_TRAITS } from '../klaviyo/adapter';
import { createLoopsAdapter, LOOPS_TRAITS } from '../loops/adapter';
import { createIntercomAdapter, INTERCOM_TRAITS } from '../intercom/adapter';
import { createSalesforceAdapter, SALESFORCE_TRAITS } from '../salesforce/adapter';
import { HUBSPOT_TRAITS, hubspotErrorClass } from '../hubspot/destination';

/**
 * Every destination of the port, HubSpot included: its traits (what it holds, identity, batching, rate budget) and
 * the port's error class of a failure its calls throw. The engine runs each destination's pusher through
 * `DestinationEngine`; the profile destinations are written through the adapters below.
 */
export const DESTINATION_PORT: Readonly<Record<DestinationPortKind, { traits: DestinationTraits; classify(err: unknown): DestinationErrorClass }>> = {
  hubspot: { traits: HUBSPOT_TRAITS, classify: hubspotErrorClass },
  klaviyo: { traits: KLAVIYO_TRAITS, classify: destinationErrorClass },
  loops: { traits: LOOPS_TRAITS, classify: destinationErrorClass },
  intercom: { traits: INTERCOM_TRAITS, classify: destinationErrorClass },
  salesforce: { traits: SALESFORCE_TRAITS, classify: destinationErrorClass },
};

/** The adapters of the profile destinations, by kind: adding one is an adapter, an entry here and one above. */
export type AdapterFactories = Readonly<Record<DestinationKind, (input: DestinationAdapterInput) => DestinationAdapter>>;

export const DESTINATION_ADAPTERS: AdapterFactories = {
  klaviyo: createKlaviyoAdapter,
  loops: createLoopsAdapter,
  intercom: createIntercomAdapter,
  salesforce: createSalesforceAdapter,
};
