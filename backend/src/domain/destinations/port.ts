import { DELETION_CHOICES, type DestinationKind, type OnCustomerDeleted } from '@stripe-hubspot-sync/contracts';
import type { DealStageKey } from '../crm/deal-stages';

/**
 * The destination port: what the sync engine needs from a place the computed facts of Stripe customers go to
 * (HubSpot, Klaviyo, Loops, Intercom, Salesforce), in domain terms. It has two parts:
 *
 * - **What every destination declares** (`DestinationTraits`, `DestinationErrorClass`, `DestinationEngine`): what it
 *   can hold, its identity strategy, its batching, its rate budget, and the port's four error classes its failures
 *   fall into. Every destination is registered with them (`adapters/destinations/registry.ts`, HubSpot included),
 *   and the engine starts, wakes and stops each destination's pusher through `DestinationEngine`.
 * - **How its records are written.** The profile destinations (Klaviyo, Loops, Intercom, Salesforce) implement
 *   `DestinationAdapter` below and share one pusher (`jobs/destinations/push.ts`). HubSpot holds more than a profile
 *   and its events: contacts linked by a stored id and followed through merges, several customers rolled up on one
 *   contact, companies, a deal per subscription, tickets, timeline events, tasks. Its adapter implements the traits,
 *   the error classes and `check` of this port, and writes through its own write surface (`domain/sync/ports.ts`:
 *   `CrmGateway`, `CrmObjectStage`) with its own pusher (`jobs/push-contacts.ts`). See docs/destinations.md.
 *
 * Identity: a profile is keyed by the Stripe customer id (the destination's external id / user id), then by
 * email. An email change is sent under the customer id, with the email we last wrote, so the destination moves
 * the same profile to the new address instead of making a second one.
 */

/** Every destination of the port: HubSpot and the profile destinations (`DestinationKind`). */
export type DestinationPortKind = 'hubspot' | DestinationKind;

/** How a Stripe customer is found in a destination, in the order tried. */
export type IdentityKey =
  /** The destination's own id of the record, kept by us once it is known (HubSpot's contact id, followed through merges). */
  | 'stored_id'
  /** The Stripe customer id, held by the destination as an external id, user id or unique property. */
  | 'customer_id'
  /** The customer's email (case-insensitive): an existing record with it is adopted, never duplicated. */
  | 'email';

/** One limit of a destination's rate budget: at most `count` requests per `windowMs` in `bucket`, per `per`. */
export interface RateLimit {
  bucket: string;
  count: number;
  windowMs: number;
  /** Whose requests share it (a HubSpot portal, a Klaviyo account, a Loops team, …). */
  per: string;
}

/** What a destination declares through the port; static per kind. */
export interface DestinationTraits {
  readonly kind: DestinationPortKind;
  readonly holds: {
    /** What a Stripe customer becomes there (`contact`, `profile`). */
    readonly profile: string;
    /** Whether a custom property must be declared before it is written (`declared`), or any name is taken (`free`). */
    readonly properties: 'declared' | 'free';
    /** What a payment or revenue event becomes there (a timeline event, a metric event, a custom object record). */
    readonly events: string;
    /** What a customer deleted in Stripe can do to its profile, besides keeping it (the merchant chooses). */
    readonly removal: readonly Exclude<OnCustomerDeleted, 'keep'>[];
    /** More records written for a customer (companies, deals, tickets, tasks; accounts, opportunities). */
    readonly records: readonly string[];
  };
  /** How a customer is found, in order. */
  readonly identity: readonly IdentityKey[];
  /** Most profiles one write call takes (the pusher chunks to it). */
  readonly maxProfilesPerCall: number;
  /** Most events one call takes. */
  readonly maxEventsPerCall: number;
  /** Shared by every backend instance through the database (HubSpot's rate budget, the destinations' pacer). */
  readonly rateBudget: readonly RateLimit[];
}

/** The deletion choices a profile destination offers besides keeping the profile (`DELETION_CHOICES`). */
export function removalChoices(kind: DestinationKind): Exclude<OnCustomerDeleted, 'keep'>[] {
  return DELETION_CHOICES[kind].filter((c): c is Exclude<OnCustomerDeleted, 'keep'> => c !== 'keep');
}

/** What checking a destination's connection now found: the port's class of the failure when it failed. */
export type ConnectionCheck =
  | { ok: true; label: string; /** Customers that waited on the connection and are now due. */ woken: number }
  | { ok: false; errorClass: DestinationErrorClass; message: string };

/**
 * A destination's pusher as the engine runs it: woken when customers change, stopped at shutdown. Each runs on its
 * own (leases, retries, dead letters, pacing in the database): one that is down or slow holds back only itself.
 */
export interface DestinationEngine {
  /** The destinations it writes. */
  readonly kinds: readonly DestinationPortKind[];
  wake(): void;
  stop(): Promise<void>;
}

/** A property value as the destination stores it: text, a number (money in major units), a flag, or an ISO date. */
export type DestinationValue = string | number | boolean | null;

export interface ProfileWrite {
  /** The Stripe customer id: the destination's external id (Klaviyo `external_id`, Loops `userId`). */
  customerId: string;
  email: string | null;
  /** The email this destination last received for the customer (null: none yet); differs from `email` after a change. */
  previousEmail: string | null;
  firstName: string | null;
  lastName: string | null;
  /** The destination's own id of the profile or contact, once known. */
  externalId: string | null;
  /** The merchant's chosen fields, under the merchant's chosen names. */
  properties: Record<string, DestinationValue>;
  /**
   * The customer's subscriptions, as the domain derives a deal from each (`domain/crm/deals.ts`): given only to an
   * adapter whose `related.subscriptions` is set (other passes never read the records they come from).
   */
  subscriptions?: SubscriptionWrite[];
  /** The company the customer belongs to (`domain/crm/companies.ts`), or null: given only when `related.company` is set. */
  company?: CompanyWrite | null;
}

/**
 * A subscription as a CRM record (a Salesforce Opportunity): derived from the stored records, which only move
 * forward, so a late event never moves it back.
 */
export interface SubscriptionWrite {
  /** The Stripe subscription id. */
  key: string;
  /** The deal stage of its status (`stageOfStatus`). */
  stage: DealStageKey;
  /** The Stripe status (`active`, `past_due`, `canceled`, …). */
  status: string;
  /** The plan, then the customer's name ("Pro – Ada Lovelace"). */
  name: string;
  /** What it costs per month, in major units of `currency` (null when Stripe named no currency). */
  monthlyAmount: number | null;
  /** Upper-case ISO code. */
  currency: string | null;
  /** `YYYY-MM-DD`: when the trial ends or ended, else when it was created; a canceled one when it ended. */
  closeDate: string | null;
}

/** The company a customer belongs to: its business name, else its company email domain (free mail never). */
export interface CompanyWrite {
  /** `domain:<d>` or `customer:<id>` (`companyTargetOf`). */
  key: string;
  name: string;
  domain: string | null;
}

export interface DestinationEvent {
  /** Unique per destination: derived from the Stripe event (Klaviyo `unique_id`, Loops `Idempotency-Key`). */
  key: string;
  customerId: string;
  email: string | null;
  /** The event's name in the destination (e.g. `Successfully Paid`). */
  name: string;
  /** When it happened (unix seconds, from Stripe). */
  time: number;
  /** The amount in major units of `currency` (e.g. 49.99), when the event has one. */
  value: number | null;
  /** Upper-case ISO currency code, with `value`. */
  currency: string | null;
  /** At most 10 flat keys (the smallest limit among destinations). */
  properties: Record<string, DestinationValue>;
}

/** How a call or a record failed, which decides what the engine does next. */
export type DestinationErrorClass =
  /** Try again later (5xx, network, a timeout): the record is retried with backoff. */
  | 'retryable'
  /** The destination asked us to slow down: wait `retryAfterMs`, then retry; never counts toward a dead letter. */
  | 'rate_limited'
  /** This record is refused for good (invalid email, a value the destination rejects): a dead letter, replayable. */
  | 'record'
  /** The key or token is refused (revoked, wrong): the destination is marked broken and nothing more is sent. */
  | 'connection';

/** The port's class of a failure a profile adapter threw: its own, or `retryable` for anything unexpected. */
export function destinationErrorClass(err: unknown): DestinationErrorClass {
  return err instanceof DestinationError ? err.errorClass : 'retryable';
}

/** Thrown by an adapter when a whole call fails (per-record refusals come back in the result maps instead). */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';
  readonly errorClass: DestinationErrorClass;
  readonly retryAfterMs: number | null;
  readonly status: number | null;
  constructor(errorClass: DestinationErrorClass, message: string, opts: { retryAfterMs?: number | null; status?: number | null } = {}) {
    super(message);
    this.errorClass = errorClass;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.status = opts.status ?? null;
  }
}

export type RecordResult =
  | { ok: true; externalId: string | null }
  | { ok: false; errorClass: 'record' | 'retryable'; message: string };

export type PropertyType = 'string' | 'number' | 'boolean' | 'date';

export interface PropertyDefinition {
  name: string;
  type: PropertyType;
}

/**
 * Shared, database-backed pacing of one destination's requests across every backend instance. `bucket` names a
 * limit (e.g. `profiles` for Klaviyo's profile-import tier); `acquire` waits until a request fits under every limit
 * of the bucket; `penalize` makes every instance wait (after a 429's Retry-After, or when headers say none is left).
 */
export interface RatePacer {
  acquire(bucket: string, limits: readonly { count: number; windowMs: number }[]): Promise<void>;
  penalize(bucket: string, waitMs: number): Promise<void>;
}

/** A profile destination's writes (Klaviyo, Loops, Intercom, Salesforce), with its traits. */
export interface DestinationAdapter extends DestinationTraits {
  readonly kind: DestinationKind;
  /**
   * What else `upsertProfiles` wants of each customer (absent: nothing): its subscriptions, its company. The
   * pusher reads the customers' records for it only then. A related record the destination refuses makes the
   * customer's result a `record` error naming it (a dead letter, replayable), like a refused profile.
   */
  readonly related?: { readonly subscriptions: boolean; readonly company: boolean };
  /** Checks the key with the destination: answers a label for the merchant (account or team name); throws a `connection` error when refused. */
  check(): Promise<{ label: string }>;
  /** Creates the custom properties the destination needs declared before use (Loops); a no-op where none is needed. */
  ensureProperties(definitions: readonly PropertyDefinition[]): Promise<void>;
  /** Creates or updates profiles by customer id, then email. One result per `customerId`. `backfill`: bulk semantics, no flows. */
  upsertProfiles(profiles: readonly ProfileWrite[], opts: { backfill: boolean }): Promise<Map<string, RecordResult>>;
  /** Sends events, each at most once per `key` on the destination's side too. One result per `key`. */
  sendEvents(events: readonly DestinationEvent[], opts: { backfill: boolean }): Promise<Map<string, RecordResult>>;
  /** What a Stripe customer's deletion does to its profile, as the merchant chose. */
  removeProfile(profile: { customerId: string; email: string | null; externalId: string | null }, how: Exclude<OnCustomerDeleted, 'keep'>): Promise<RecordResult>;
}

/**
 * OAuth access tokens of a destination connected with OAuth (Klaviyo), shared by every instance through the
 * database: the engine makes it; the adapter only asks it for a token to send as `Authorization: Bearer`.
 */
export interface OAuthTokenSource {
  /** The access token to send now: refreshed first (and the new tokens persisted, sealed) when it is about to expire. */
  accessToken(): Promise<string>;
  /**
   * The destination refused `rejected` (401): new tokens, unless another instance already replaced it (then the
   * current ones). Throws a `connection` DestinationError when the refresh is refused (revoked, uninstalled).
   */
  refreshAfter(rejected: string): Promise<string>;
}

/** What an adapter is made from: the stored key, the API's base URL (a fake's in tests), the shared pacer. */
export interface DestinationAdapterInput {
  /** The API key ('' when `oauth` is given). */
  apiKey: string;
  /** OAuth tokens instead of an API key (adapters that support it: Klaviyo, Salesforce, Intercom). */
  oauth?: OAuthTokenSource;
  baseUrl: string;
  pacer: RatePacer;
  /** Per-call timeout (ms). */
  timeoutMs?: number;
  /**
   * What an adapter may keep across the passes of one destination in this process (an adapter is made per pass):
   * e.g. Salesforce's describes of the org, kept a few minutes. Never the truth: an adapter reads again before it
   * refuses anything on the strength of what it kept.
   */
  memo?: Map<string, unknown>;
}
