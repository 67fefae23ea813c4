import { getMockContextProps } from '@stripe/ui-extension-sdk/testing';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import {
  defaultDestinationSettings,
  defaultSettings,
  type ActivityResponse,
  type BackfillProgress,
  type CustomerSyncResponse,
  type DestinationActivityResponse,
  type DestinationKind,
  type DestinationSummary,
  type GetSettingsResponse,
  type HubSpotConnection,
  type Mode,
  type PendingHubSpotConnection,
} from '../src/data/contracts';
import { BACKEND_ORIGIN } from './fakeBackend';

export const USER_ID = 'usr_test_1';
export const ACCOUNT_ID = 'acct_test_1';

/** Context props of a view in the given mode, with the manifest's BACKEND_URL pointing at the fake. */
export function viewProps(
  opts: {
    mode?: Mode;
    objectId?: string;
    oauthContext?: ExtensionContextValue['oauthContext'];
    backendUrl?: string | null;
  } = {},
): ExtensionContextValue {
  const props = getMockContextProps({
    userContext: { id: USER_ID, account: { id: ACCOUNT_ID } },
    environment: {
      mode: opts.mode ?? 'test',
      viewportID: 'test',
      objectContext: opts.objectId ? { id: opts.objectId, object: 'customer' } : undefined,
      constants: opts.backendUrl === null ? {} : { BACKEND_URL: opts.backendUrl ?? BACKEND_ORIGIN },
    },
  });
  return opts.oauthContext ? { ...props, oauthContext: opts.oauthContext } : props;
}

export const CONNECTION: HubSpotConnection = {
  portalId: 424242,
  hubDomain: 'acme.hubspot.com',
  connectedAt: '2024-05-01T10:00:00.000Z',
  kind: 'oauth',
};

/** A portal HubSpot authorized, waiting for the merchant's confirmation (POST /hubspot/connect's answer). */
export function pendingConnection(over: Partial<PendingHubSpotConnection> = {}): PendingHubSpotConnection {
  return {
    portalId: 424242,
    hubDomain: 'acme.hubspot.com',
    authorizedBy: 'owner@acme.example',
    confirmBy: '2024-05-01T10:30:00.000Z',
    willSend: {
      properties: ['stripe_customer_id', 'stripe_mrr'],
      knownCustomers: 12,
      createContacts: true,
      setLifecycleCustomer: true,
      createTaskOnFailure: false,
      importExisting: true,
    },
    ...over,
  };
}

export function settingsResponse(over: Partial<GetSettingsResponse> = {}): GetSettingsResponse {
  return { mode: 'test', settings: defaultSettings(), connection: CONNECTION, isDefault: false, ...over };
}

export function backfill(over: Partial<BackfillProgress> = {}): BackfillProgress {
  return {
    id: 'bf_1',
    status: 'running',
    phase: 'customers',
    done: 250,
    total: 1000,
    percent: 25,
    etaSeconds: 120,
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: null,
    error: null,
    ...over,
  };
}

export function activityResponse(over: Partial<ActivityResponse> = {}): ActivityResponse {
  return {
    mode: 'test',
    counts24h: { synced: 12, skipped: 3, failed: 2, ignored: 5, pending: 1 },
    events: [
      {
        id: 'evt_synced',
        type: 'invoice.paid',
        created: 1714557600,
        receivedAt: '2024-05-01T10:00:01.000Z',
        outcome: 'synced',
        reason: null,
        customerId: 'cus_A',
      },
      {
        id: 'evt_skipped',
        type: 'customer.created',
        created: 1714557700,
        receivedAt: '2024-05-01T10:01:41.000Z',
        outcome: 'skipped',
        reason: 'Customer has no email address',
        customerId: 'cus_B',
      },
      {
        id: 'evt_failed',
        type: 'charge.succeeded',
        created: 1714557800,
        receivedAt: '2024-05-01T10:03:21.000Z',
        outcome: 'failed',
        reason: 'Property "stripe_mrr" does not exist',
        customerId: 'cus_C',
      },
    ],
    deadLetters: [
      {
        id: 'dl_1',
        customerId: 'cus_C',
        eventId: 'evt_failed',
        message: 'Property "stripe_mrr" does not exist',
        createdAt: '2024-05-01T10:03:25.000Z',
        attempts: 5,
      },
      {
        id: 'dl_2',
        customerId: 'cus_D',
        eventId: 'evt_other',
        message: 'Contact was merged',
        createdAt: '2024-05-01T10:04:00.000Z',
        attempts: 3,
      },
    ],
    failedEvents: [],
    ...over,
  };
}

export function customerResponse(over: Partial<CustomerSyncResponse> = {}): CustomerSyncResponse {
  return {
    mode: 'test',
    customerId: 'cus_A',
    state: 'synced',
    reason: null,
    contact: { id: '901', portalId: 424242, url: 'https://app.hubspot.com/contacts/424242/record/0-1/901' },
    status: null,
    syncedFields: [
      { key: 'subscriptionStatus', property: 'stripe_subscription_status', value: 'active' },
      { key: 'mrr', property: 'stripe_mrr', value: '49.00' },
    ],
    ...over,
  };
}

const SUMMARY_NAMES: Record<DestinationKind, { label: string; keyHint: string }> = {
  klaviyo: { label: 'Acme (Klaviyo)', keyHint: 'k9Qa' },
  loops: { label: 'Acme team (Loops)', keyHint: 'L00p' },
  intercom: { label: 'Acme workspace (Intercom)', keyHint: 'Tok3' },
  salesforce: { label: 'Salesforce acme.my.salesforce.com', keyHint: 'OAuth' },
};

/** A connected destination of test mode with its kind's default settings (Intercom: in the United States region). */
export function destinationSummary(kind: DestinationKind, over: Partial<DestinationSummary> = {}): DestinationSummary {
  return {
    id: `dst_${kind}`,
    kind,
    mode: 'test',
    ...SUMMARY_NAMES[kind],
    ...(kind === 'intercom' ? { region: 'us' as const } : {}),
    connectedAt: '2024-05-01T12:00:00.000Z',
    health: { state: 'ok', message: null, checkedAt: '2024-05-01T12:00:00.000Z' },
    settings: defaultDestinationSettings(kind),
    counts: { synced: 40, pending: 2, failed: 1 },
    ...over,
  };
}

/** A destination's activity line: counts, recent writes and dead letters (without mode and id, added by the fake). */
export function destinationActivity(
  over: Partial<Omit<DestinationActivityResponse, 'mode' | 'destinationId'>> = {},
): Omit<DestinationActivityResponse, 'mode' | 'destinationId'> {
  return {
    counts: { synced: 40, pending: 2, failed: 2 },
    recent: [
      { customerId: 'cus_R1', syncedAt: '2024-05-02T08:00:00.000Z', events: 3 },
      { customerId: 'cus_R2', syncedAt: '2024-05-02T07:30:00.000Z', events: 1 },
    ],
    deadLetters: [
      { customerId: 'cus_DL1', message: 'Invalid email address', attempts: 5, failedAt: '2024-05-02T06:00:00.000Z' },
      { customerId: 'cus_DL2', message: 'Property stripeMrr has the wrong type', attempts: 3, failedAt: '2024-05-02T06:30:00.000Z' },
    ],
    ...over,
  };
}
