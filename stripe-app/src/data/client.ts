import { fetchStripeSignature, isSourceInAuthorizedCSP } from '@stripe/ui-extension-sdk/utils';
import {
  APP_API_PREFIX,
  type ActivityResponse,
  type AuthorizeUrlQuery,
  type AuthorizeUrlResponse,
  type BackfillResponse,
  type CancelHubSpotResponse,
  type ConfirmHubSpotRequest,
  type ConfirmHubSpotResponse,
  type ConnectHubSpotRequest,
  type ConnectHubSpotResponse,
  type CreateDestinationRequest,
  type CustomerSyncResponse,
  type DeleteDestinationRequest,
  type DeleteDestinationResponse,
  type DestinationActivityResponse,
  type DestinationKind,
  type DestinationReplayRequest,
  type DestinationResponse,
  type DestinationSettings,
  type DisconnectHubSpotResponse,
  type TestHubSpotConnectionResponse,
  type EventOutcome,
  type GetSettingsResponse,
  type IntercomRegion,
  type ListDestinationsResponse,
  type Mode,
  type PutDestinationSettingsRequest,
  type PutSettingsRequest,
  type PutSettingsResponse,
  type ReplayEventsRequest,
  type ReplayRequest,
  type ReplayResponse,
  type SyncNowResponse,
  type SyncSettings,
  type TestDestinationResponse,
  type ConnectDestinationOAuthRequest,
  type DestinationAuthorizeUrlResponse,
  type OAuthDestinationKind,
  type SalesforceEnvironment,
} from './contracts';
import { ApiRequestError, blockedByCspMessage, errorFromResponse, toRequestError } from './errors';

/** Who is calling and for which mode: every request carries it. */
export interface ApiContext {
  /** The backend's origin (and optional base path), from the manifest constant BACKEND_URL. */
  backendUrl: string;
  userId: string;
  accountId: string;
  mode: Mode;
}

export interface ClientOptions {
  /** Abort a request after this long; the default suits a Dashboard iframe. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

type Query = Record<string, string | number | undefined>;

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Query;
  body?: Record<string, unknown>;
}

function buildUrl(ctx: ApiContext, path: string, query: Query | undefined): string {
  const base = ctx.backendUrl.replace(/\/+$/, '');
  const params = Object.entries(query ?? {})
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${base}${APP_API_PREFIX}${path}${params ? `?${params}` : ''}`;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function signature(): Promise<string> {
  try {
    return await fetchStripeSignature();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ApiRequestError('missing_signature', `Could not get a Stripe signature for this request: ${reason}`);
  }
}

/** One signed JSON request with a timeout; resolves to the parsed body or rejects with ApiRequestError. */
export async function request<T>(ctx: ApiContext, spec: RequestSpec, options: ClientOptions = {}): Promise<T> {
  if (!ctx.backendUrl) {
    throw new ApiRequestError('not_configured', 'The manifest gives the views no BACKEND_URL constant: there is no sync service to call.');
  }
  const sig = await signature();
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Stripe-Signature': sig,
    'X-Stripe-User-Id': ctx.userId,
    'X-Stripe-Account-Id': ctx.accountId,
  };
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify({ mode: ctx.mode, ...spec.body });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  // The mode travels in the query for GET/DELETE and in the JSON body otherwise.
  const url = buildUrl(ctx, spec.path, spec.body === undefined ? { mode: ctx.mode, ...spec.query } : spec.query);
  try {
    let res: Response;
    try {
      res = await fetch(url, { method: spec.method, headers, body, signal: controller.signal });
    } catch (err) {
      // The Dashboard's CSP refuses a URL outside the manifest's connect-src with the same error as a network
      // failure: ask which it was.
      if (!timedOut && (await outsideConnectSrc(url))) throw new ApiRequestError('blocked_by_csp', blockedByCspMessage(url));
      throw err;
    }
    const parsed = await readBody(res);
    if (!res.ok) throw errorFromResponse(res.status, parsed);
    if (parsed === undefined || typeof parsed !== 'object') {
      throw new ApiRequestError('bad_response', 'The sync service sent an answer this app does not understand.', res.status);
    }
    return parsed as T;
  } catch (err) {
    if (timedOut) {
      throw new ApiRequestError('timeout', `The sync service did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    }
    throw toRequestError(err);
  } finally {
    clearTimeout(timer);
  }
}

/** True only when the Dashboard says the URL is outside the app's connect-src (unknown counts as allowed). */
async function outsideConnectSrc(url: string): Promise<boolean> {
  try {
    return (await isSourceInAuthorizedCSP(url)) === false;
  } catch {
    return false;
  }
}

export interface ActivityQuery {
  outcome?: EventOutcome;
  limit?: number;
}

export type ReplaySelection = { ids: string[] } | { all: true };

/** Which of a destination's dead letters to replay: some customers, or all of them. */
export type DestinationReplaySelection = { customerIds: string[] } | { all: true };

/** What an authorize URL is asked for: Salesforce's login environment, Intercom's region (ignored for other kinds). */
export interface DestinationAuthorizeOptions {
  environment?: SalesforceEnvironment;
  region?: IntercomRegion;
}

/** Typed calls of the app API (`@stripe-hubspot-sync/contracts`, `packages/contracts/src/api.ts`), bound to one user, account and mode. */
export function createBackendClient(ctx: ApiContext, options: ClientOptions = {}) {
  const call = <T>(spec: RequestSpec) => request<T>(ctx, spec, options);
  const customerPath = (id: string) => `/customers/${encodeURIComponent(id)}`;
  const destinationPath = (id: string) => `/destinations/${encodeURIComponent(id)}`;
  return {
    context: ctx,
    getSettings: () => call<GetSettingsResponse>({ method: 'GET', path: '/settings' }),
    saveSettings: (settings: SyncSettings) => {
      const body: Omit<PutSettingsRequest, 'mode'> = { settings };
      return call<PutSettingsResponse>({ method: 'PUT', path: '/settings', body });
    },
    getAuthorizeUrl: (state: string, challenge: string) => {
      const query: Omit<AuthorizeUrlQuery, 'mode'> = { state, challenge };
      return call<AuthorizeUrlResponse>({ method: 'GET', path: '/hubspot/authorize-url', query: { ...query } });
    },
    connectHubSpot: (input: Omit<ConnectHubSpotRequest, 'mode'>) =>
      call<ConnectHubSpotResponse>({ method: 'POST', path: '/hubspot/connect', body: { ...input } }),
    confirmHubSpot: (portalId: number) => {
      const body: Omit<ConfirmHubSpotRequest, 'mode'> = { portalId };
      return call<ConfirmHubSpotResponse>({ method: 'POST', path: '/hubspot/connect/confirm', body: { ...body } });
    },
    cancelHubSpot: () => call<CancelHubSpotResponse>({ method: 'POST', path: '/hubspot/connect/cancel', body: {} }),
    disconnectHubSpot: () => call<DisconnectHubSpotResponse>({ method: 'DELETE', path: '/hubspot/connection' }),
    testHubSpotConnection: () => call<TestHubSpotConnectionResponse>({ method: 'POST', path: '/hubspot/connection/test', body: {} }),
    getActivity: (query: ActivityQuery = {}) =>
      call<ActivityResponse>({ method: 'GET', path: '/activity', query: { outcome: query.outcome, limit: query.limit } }),
    replayDeadLetters: (selection: ReplaySelection) => {
      const body: Omit<ReplayRequest, 'mode'> = selection;
      return call<ReplayResponse>({ method: 'POST', path: '/dead-letters/replay', body: { ...body } });
    },
    replayFailedEvents: (selection: ReplaySelection) => {
      const body: Omit<ReplayEventsRequest, 'mode'> = selection;
      return call<ReplayResponse>({ method: 'POST', path: '/events/replay', body: { ...body } });
    },
    getCustomer: (customerId: string) => call<CustomerSyncResponse>({ method: 'GET', path: customerPath(customerId) }),
    syncCustomer: (customerId: string) =>
      call<SyncNowResponse>({ method: 'POST', path: `${customerPath(customerId)}/sync`, body: {} }),
    getBackfill: () => call<BackfillResponse>({ method: 'GET', path: '/backfill' }),
    startBackfill: () => call<BackfillResponse>({ method: 'POST', path: '/backfill', body: {} }),
    cancelBackfill: () => call<BackfillResponse>({ method: 'POST', path: '/backfill/cancel', body: {} }),
    // Destinations besides HubSpot (`packages/contracts/src/destinations.ts`).
    listDestinations: () => call<ListDestinationsResponse>({ method: 'GET', path: '/destinations' }),
    /** The API key travels in this one request only; the backend keeps it, encrypted, and never sends it back. */
    /** `settings` absent: the kind's defaults; `region`: Intercom only (absent: the backend takes us). */
    createDestination: (kind: DestinationKind, apiKey: string, options: { settings?: DestinationSettings; region?: IntercomRegion } = {}) => {
      const body: Omit<CreateDestinationRequest, 'mode'> = { kind, apiKey };
      if (options.settings) body.settings = options.settings;
      if (options.region) body.region = options.region;
      return call<DestinationResponse>({ method: 'POST', path: '/destinations', body: { ...body } });
    },
    /**
     * "Connect with …" (Klaviyo, Intercom, Salesforce): the destination's authorize URL with a state (and, where the
     * destination supports it, an S256 challenge) the backend issued. `environment`: Salesforce only; `region`:
     * Intercom only. 503 `not_configured`: the backend has no OAuth client for that kind.
     */
    destinationAuthorizeUrl: (kind: OAuthDestinationKind, options: DestinationAuthorizeOptions = {}) =>
      call<DestinationAuthorizeUrlResponse>({
        method: 'GET',
        path: `/destinations/${encodeURIComponent(kind)}/authorize-url`,
        query: {
          environment: kind === 'salesforce' ? options.environment : undefined,
          region: kind === 'intercom' ? options.region : undefined,
        },
      }),
    /** Posts the code and state the destination sent back (through the Dashboard's OAuth redirect); the backend keeps any verifier. */
    connectDestinationOAuth: (kind: OAuthDestinationKind, input: Omit<ConnectDestinationOAuthRequest, 'mode'>) => {
      const body: Omit<ConnectDestinationOAuthRequest, 'mode'> = { code: input.code, state: input.state };
      return call<DestinationResponse>({ method: 'POST', path: `/destinations/${encodeURIComponent(kind)}/connect`, body: { ...body } });
    },
    saveDestinationSettings: (id: string, settings: DestinationSettings) => {
      const body: Omit<PutDestinationSettingsRequest, 'mode'> = { settings };
      return call<DestinationResponse>({ method: 'PUT', path: `${destinationPath(id)}/settings`, body: { ...body } });
    },
    testDestination: (id: string) =>
      call<TestDestinationResponse>({ method: 'POST', path: `${destinationPath(id)}/test`, body: {} }),
    /** `confirm` must repeat the destination's id: the view sends it only after the merchant confirmed. */
    deleteDestination: (id: string, confirm: string) => {
      const body: Omit<DeleteDestinationRequest, 'mode'> = { confirm };
      return call<DeleteDestinationResponse>({ method: 'DELETE', path: destinationPath(id), body: { ...body } });
    },
    getDestinationActivity: (id: string) =>
      call<DestinationActivityResponse>({ method: 'GET', path: `${destinationPath(id)}/activity` }),
    replayDestinationDeadLetters: (id: string, selection: DestinationReplaySelection) => {
      const body: Omit<DestinationReplayRequest, 'mode'> = selection;
      return call<ReplayResponse>({ method: 'POST', path: `${destinationPath(id)}/dead-letters/replay`, body: { ...body } });
    },
  };
}

export type BackendClient = ReturnType<typeof createBackendClient>;
