import type { CustomerDestinationState } from './destinations';
import type { FieldKey, PaymentStatusValue, SubscriptionStatusValue, SyncEventType } from './catalog';
import type { SyncSettings } from './settings';

/**
 * Request and response types of our own HTTP API, shared by the backend, the Stripe App and the HubSpot card.
 * Money is always in the currency's minor units (cents); timestamps are unix seconds unless named `…At` (ISO).
 */

export type Mode = 'test' | 'live';

/** Every error body: `{error:{code,message}}`, with field errors for invalid settings. */
export type ApiErrorCode =
  | 'bad_request'
  | 'invalid_signature'
  | 'stale_signature'
  | 'missing_signature'
  | 'malformed_json'
  | 'payload_too_large'
  | 'invalid_settings'
  | 'not_found'
  | 'not_connected'
  | 'forbidden'
  | 'hubspot_error'
  | 'stripe_unavailable'
  | 'not_configured'
  | 'service_unavailable'
  /** Too many requests with a refused signature from one address (Retry-After says when to try again). */
  | 'too_many_requests'
  /** The app was uninstalled from this Stripe account (in this mode) and the install has not come back yet. */
  | 'uninstalled'
  /** A HubSpot connection attempt whose OAuth state or PKCE verifier we did not issue to this caller, or that expired or was used. */
  | 'invalid_oauth_state'
  /** A destination (Klaviyo, Loops, …) refused the API key, or could not be reached to check it. */
  | 'destination_refused'
  /** This account already has a destination of that kind in this mode. */
  | 'already_connected'
  | 'internal';

export interface ApiError {
  error: { code: ApiErrorCode; message: string; details?: { path: string; message: string }[] };
}

// ---------- Read model: what the HubSpot card and the Stripe App show of one customer ----------

export interface SubscriptionSummary {
  id: string;
  status: SubscriptionStatusValue;
  plan: string | null;
  /** Monthly recurring revenue in minor units of `currency`. */
  mrr: number;
  currency: string;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  /** When its trial ends, while it is trialing (absent from statuses derived before this field existed). */
  trialEnd?: number | null;
}

/** A Stripe product the customer paid for: its id (`prod_…`) and its name when a payload named it. */
export interface ProductBought {
  id: string;
  name: string | null;
  /** When a Stripe event last named it so (the newest name wins); absent while no payload named it. */
  namedAt?: number;
}

export interface PaymentSummary {
  amount: number;
  currency: string;
  at: number;
  status: PaymentStatusValue;
}

/** The latest revenue movement that changed a customer's MRR (derived by the backend from its history). */
export interface MrrChangeSummary {
  /** Unix seconds. */
  at: number;
  /** The MRR change in minor units of `currency`: negative for a downgrade or churn. */
  amount: number;
  currency: string | null;
  /** new, upgrade, downgrade, churn, reactivation or trial_converted. */
  kind: string;
}

export interface CustomerStatus {
  accountId: string;
  livemode: boolean;
  customerId: string;
  email: string | null;
  name: string | null;
  /** Lower-case ISO code, as Stripe writes it. */
  currency: string | null;
  customerSince: number | null;
  subscription: SubscriptionSummary | null;
  lastPayment: PaymentSummary | null;
  lastFailureReason: string | null;
  failedPaymentCount: number;
  openInvoiceCount: number;
  openAmountDue: number;
  lifetimeValue: number;
  totalRefunded: number;
  disputedAmount: number;
  /** When the most recent refund was issued (absent from statuses derived before this field existed). */
  refundIssuedAt?: number | null;
  /** Products paid for, by id (absent from statuses derived before this field existed). */
  productsBought?: ProductBought[];
  /** The latest revenue movement that changed MRR (absent: none, or a status derived before movements existed). */
  lastMrrChange?: MrrChangeSummary;
  /**
   * Bookkeeping, not shown: changes with the set of the customer's revenue movements (absent: none), so a customer
   * with a new movement is written again (its movements go to HubSpot) even when nothing else changed.
   */
  movementsKey?: string;
  nextInvoiceAmount: number | null;
  delinquent: boolean;
  deleted: boolean;
  dashboardUrl: string;
  /** When our database last changed for this customer (ISO). */
  updatedAt: string;
  /** When HubSpot last received this state (ISO), null before the first write. */
  lastSyncedAt: string | null;
}

// ---------- HubSpot records beside the contact: subscriptions and their deals, the company, revenue movements ----------

/** What happened to a customer's revenue (derived by the backend from the customer's history, never from one event). */
export type RevenueMovementKind =
  | 'new'
  | 'upgrade'
  | 'downgrade'
  | 'churn'
  | 'reactivation'
  | 'trial_started'
  | 'trial_converted'
  | 'payment_failed'
  | 'payment_recovered'
  | 'refund'
  | 'dispute';

export const REVENUE_MOVEMENT_KINDS: readonly RevenueMovementKind[] = [
  'new',
  'upgrade',
  'downgrade',
  'churn',
  'reactivation',
  'trial_started',
  'trial_converted',
  'payment_failed',
  'payment_recovered',
  'refund',
  'dispute',
];

/** How the Stripe App and the card name each movement. */
export const REVENUE_MOVEMENT_LABELS: Readonly<Record<RevenueMovementKind, string>> = {
  new: 'New subscription',
  upgrade: 'Upgrade',
  downgrade: 'Downgrade',
  churn: 'Churn',
  reactivation: 'Reactivation',
  trial_started: 'Trial started',
  trial_converted: 'Trial converted',
  payment_failed: 'Payment failed',
  payment_recovered: 'Payment recovered',
  refund: 'Refund',
  dispute: 'Dispute',
};

/**
 * One of the customer's subscriptions (every one, not only the main one `CustomerStatus.subscription` shows), with
 * the HubSpot deal that stands for it. `mrr` is this subscription's own contribution to MRR (0 unless active or
 * past due), in its own `currency`.
 */
export interface CustomerSubscription {
  id: string;
  status: SubscriptionStatusValue;
  plan: string | null;
  mrr: number;
  currency: string;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  /** The deal's page in HubSpot (in the portal the customer's contact is in); null while no deal was written. */
  hubspotDealUrl: string | null;
}

/** The HubSpot company the customer is associated with. */
export interface CustomerCompany {
  /** The name we gave it (a company we created), else its domain, else the customer's business name. */
  name: string;
  hubspotUrl: string;
}

/** A revenue movement; amounts in minor units of `currency` (MRR before/after: subscription movements only). */
export interface RevenueMovementSummary {
  id: string;
  kind: RevenueMovementKind;
  /** Unix seconds. */
  occurredAt: number;
  /** Signed: a downgrade or churn is negative. */
  amount: number;
  currency: string | null;
  mrrBefore: number | null;
  mrrAfter: number | null;
}

/** The HubSpot records that hang off one customer's contact, and its latest revenue movements. */
export interface CustomerCrmRecords {
  /** Live subscriptions first, then the newest; at most 25. */
  subscriptions: CustomerSubscription[];
  company: CustomerCompany | null;
  /** Newest first, at most 10. */
  movements: RevenueMovementSummary[];
}

/** A customer as the card shows it: the read model, and (from backends that have them) its HubSpot records. */
export type CardCustomer = CustomerStatus & Partial<CustomerCrmRecords>;

// ---------- Stripe App API: prefix /api/app/v1 ----------
// Every request carries `Stripe-Signature` (fetchStripeSignature()), `X-Stripe-User-Id` and
// `X-Stripe-Account-Id`; the signature is checked against JSON.stringify({user_id, account_id}).
// The mode comes as `?mode=test|live` (GET) or `mode` in the JSON body.

export const APP_API_PREFIX = '/api/app/v1';

export interface HubSpotConnection {
  portalId: number;
  hubDomain: string | null;
  connectedAt: string;
  /** `oauth` for marketplace installs, `private_app` for a self-hosted token. */
  kind: 'oauth' | 'private_app';
  /** Whether HubSpot accepts this connection now (absent from backends that do not report it). */
  health?: ConnectionHealth;
}

/**
 * `ok`: writing. `paused`: HubSpot refuses our token or its scopes (401/403) — every change is kept, the connection
 * is checked every minute and writing resumes by itself once HubSpot accepts it. `broken`: HubSpot revoked the
 * authorization (app uninstalled, refresh token refused) — every change is kept until the merchant reconnects.
 */
export interface ConnectionHealth {
  state: 'ok' | 'paused' | 'broken';
  /** HubSpot's code (e.g. INVALID_AUTHENTICATION, MISSING_SCOPES, BAD_REFRESH_TOKEN) and message; null when ok. */
  code: string | null;
  message: string | null;
  /** Since when HubSpot refuses it (ISO); null when ok. */
  since: string | null;
  /** Customers whose latest facts are waiting to be written to HubSpot. */
  waiting: number;
  /** Our properties HubSpot would not (re)create in this portal: writes go out without them. */
  propertyProblems: { property: string; message: string; since: string }[];
}

/** GET /settings?mode= */
export interface GetSettingsResponse {
  mode: Mode;
  settings: SyncSettings;
  connection: HubSpotConnection | null;
  /** True when the merchant never saved settings (defaults shown). */
  isDefault: boolean;
}

/** PUT /settings — 400 `invalid_settings` with `details` on error. */
export interface PutSettingsRequest {
  mode: Mode;
  settings: SyncSettings;
}
export type PutSettingsResponse = GetSettingsResponse;

/**
 * Connecting HubSpot (OAuth 2 with state and PKCE), in three signed calls:
 *
 * 1. GET /hubspot/authorize-url?mode=&state=&challenge= — `state` and `challenge` (the PKCE S256 challenge) come
 *    from the SDK's createOAuthState(). The backend records the state for this account, mode and Dashboard user
 *    (10 minutes, single use) and answers HubSpot's authorize URL, which the view opens.
 * 2. POST /hubspot/connect {mode, code, state, verifier} — what the Dashboard hands back in `oauthContext`. Refused
 *    (400 `invalid_oauth_state`, nothing stored) unless the state is one we issued to this caller, unexpired and
 *    unused, and the verifier matches its challenge. The answer is a *pending* connection: the portal and what
 *    confirming will send. Nothing is written to HubSpot yet.
 * 3. POST /hubspot/connect/confirm {mode, portalId} — the same user confirms that portal: it becomes the connection
 *    of this mode, every known customer is queued for a write and the import of existing data starts.
 *    POST /hubspot/connect/cancel {mode} drops the pending connection instead.
 */
export interface AuthorizeUrlQuery {
  mode: Mode;
  state: string;
  challenge: string;
}
export interface AuthorizeUrlResponse {
  url: string;
}

export interface ConnectHubSpotRequest {
  mode: Mode;
  code: string;
  state: string;
  verifier: string;
}

/** An authorized HubSpot portal waiting for the merchant's confirmation. */
export interface PendingHubSpotConnection {
  portalId: number;
  /** The portal's domain, as HubSpot names it. */
  hubDomain: string | null;
  /** The HubSpot user who authorized. */
  authorizedBy: string | null;
  /** Confirm before this (ISO); afterwards connect again. */
  confirmBy: string;
  /** What confirming starts sending to this portal (this mode's settings). */
  willSend: {
    /** HubSpot contact properties written. */
    properties: string[];
    /** Stripe customers already known here, written right away. */
    knownCustomers: number;
    createContacts: boolean;
    setLifecycleCustomer: boolean;
    createTaskOnFailure: boolean;
    /** The import of existing Stripe customers starts too. */
    importExisting: boolean;
  };
}
export interface ConnectHubSpotResponse {
  pending: PendingHubSpotConnection;
}

export interface ConfirmHubSpotRequest {
  mode: Mode;
  /** The portal the merchant was shown: confirming another one is refused. */
  portalId: number;
}
export interface ConfirmHubSpotResponse {
  connection: HubSpotConnection;
}

export interface CancelHubSpotResponse {
  canceled: boolean;
}

/** DELETE /hubspot/connection?mode= */
export interface DisconnectHubSpotResponse {
  disconnected: boolean;
}

/**
 * POST /hubspot/connection/test {mode} — checks the connection with HubSpot now, as the minute's check does: when
 * HubSpot answers, a pause is lifted and the customers it kept are written; when HubSpot refuses our access, the
 * connection is paused (or to reconnect). 404 `not_connected` when this mode has no portal.
 */
export interface TestHubSpotConnectionResponse {
  ok: boolean;
  /** What the check found, for the merchant. */
  message: string;
  /** The connection after the check (its health). */
  connection: HubSpotConnection;
}

export type EventOutcome = 'pending' | 'synced' | 'skipped' | 'failed' | 'ignored';

export interface ActivityEvent {
  id: string;
  type: string;
  created: number;
  receivedAt: string;
  outcome: EventOutcome;
  /** Why skipped or ignored, HubSpot's message when HubSpot refused it, or our error when it could not be processed. */
  reason: string | null;
  customerId: string | null;
  /** When failed: `hubspot` (HubSpot refused the write: see the dead letters) or `processing` (see `failedEvents`). */
  failure?: 'hubspot' | 'processing';
}

/**
 * An event that could not be processed (its retries ran out, or no job ran it): nothing of it reached the
 * customer. POST /events/replay processes it again.
 */
export interface FailedEvent {
  id: string;
  type: string;
  created: number;
  receivedAt: string;
  /** When it was marked failed (ISO). */
  failedAt: string;
  reason: string;
  /** False once its payload was removed (EVENT_RETENTION_DAYS): a backfill brings its facts back instead. */
  replayable: boolean;
}

export interface DeadLetter {
  id: string;
  customerId: string | null;
  eventId: string | null;
  message: string;
  createdAt: string;
  attempts: number;
}

/** GET /activity?mode=&outcome=&limit= */
export interface ActivityResponse {
  mode: Mode;
  counts24h: Record<EventOutcome, number>;
  events: ActivityEvent[];
  deadLetters: DeadLetter[];
  /** Events that could not be processed, newest first (at most 100). */
  failedEvents: FailedEvent[];
}

/** POST /dead-letters/replay — `ids` or `all: true`. */
export interface ReplayRequest {
  mode: Mode;
  ids?: string[];
  all?: boolean;
}
export interface ReplayResponse {
  replayed: number;
}

/** POST /events/replay — failed events (`FailedEvent`) processed again: `ids` or `all: true`. Answers `ReplayResponse`. */
export type ReplayEventsRequest = ReplayRequest;

export type CustomerSyncState = 'synced' | 'pending' | 'failed' | 'skipped' | 'not_synced';

/** GET /customers/:id?mode= */
export interface CustomerSyncResponse {
  mode: Mode;
  customerId: string;
  state: CustomerSyncState;
  reason: string | null;
  contact: { id: string; portalId: number; url: string } | null;
  status: CustomerStatus | null;
  syncedFields: { key: FieldKey; property: string; value: string | null }[];
  /** Every subscription with its HubSpot deal link (absent from backends older than these fields). */
  subscriptions?: CustomerSubscription[];
  /** The HubSpot company the customer is associated with; null when none. */
  company?: CustomerCompany | null;
  /** The latest revenue movements, newest first (at most 10). */
  movements?: RevenueMovementSummary[];
  /** The customer's state in each connected destination besides HubSpot (Klaviyo, Loops, …). */
  destinations?: CustomerDestinationState[];
}

/** POST /customers/:id/sync — queue a fresh push of this customer to HubSpot. */
export interface SyncNowResponse {
  queued: boolean;
}

export interface BackfillProgress {
  id: string;
  status: 'running' | 'completed' | 'canceled' | 'failed';
  phase: 'customers' | 'subscriptions' | 'invoices' | 'charges' | 'done';
  done: number;
  total: number | null;
  percent: number | null;
  etaSeconds: number | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

/** GET /backfill?mode= ; POST /backfill {mode} ; POST /backfill/cancel {mode} */
export interface BackfillResponse {
  backfill: BackfillProgress | null;
}

// ---------- HubSpot card API: prefix /api/card/v1 ----------
// Called by hubspot.fetch, signed with X-HubSpot-Signature-v3 over the full URL, which carries the query HubSpot
// appends (portalId, userId, userEmail, appId). Body carries portalId (equal to the signed query's) and contactId.
// POST /status answers from our database; POST /refresh reads Stripe first (a linked contact's customers, or an
// unlinked contact's email looked up in Stripe when `canCheckStripe`).

export const CARD_API_PREFIX = '/api/card/v1';

export interface CardRequest {
  portalId: number;
  contactId: string;
}

export type CardNotLinkedReason = 'no_install' | 'no_customer';

export type CardResponse =
  | {
      state: 'linked';
      /** The linked customers whose data we hold (with their subscriptions, company and movements). */
      customers: CardCustomer[];
      /** Linked customers whose data has not arrived yet (shown as syncing, never as "no customer"). */
      syncing: number;
      /** Set when a refresh could not ask Stripe: the figures are the last synced state. */
      warning?: string;
    }
  | {
      state: 'not_linked';
      reason: CardNotLinkedReason;
      message: string;
      /** Whether /refresh looks the contact's email up in Stripe (the backend can read Stripe in this mode). */
      canCheckStripe: boolean;
      /** Set when a lookup in Stripe could not be made or completed. */
      warning?: string;
    };

export type { SyncEventType };
