import { z } from 'zod';
import { FIELD_CATALOG, FIELD_KEYS, type FieldKey } from './catalog';
import type { Mode } from './api';

/**
 * Destinations beside HubSpot: where the same computed, order-safe facts of each Stripe customer also go. Each
 * destination belongs to one Stripe account in one mode, has its own settings (which events, which fields under
 * which names, what a deleted customer becomes), its own push state, dead letters and activity line.
 * Shared by the backend (validation of what the app saves) and the Stripe App (validation before saving).
 */

export const DESTINATION_KINDS = ['klaviyo', 'loops', 'intercom', 'salesforce'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

export const DESTINATION_LABELS: Readonly<Record<DestinationKind, string>> = {
  klaviyo: 'Klaviyo',
  loops: 'Loops',
  intercom: 'Intercom',
  salesforce: 'Salesforce',
};

/**
 * How each kind can be connected from the Stripe App: with a key the merchant pastes (`api_key`), with "Connect with
 * …" (`oauth`, the backend's own OAuth client for that destination), or both. Salesforce has no long-lived key: only
 * OAuth (web-server flow with refresh tokens).
 */
export const DESTINATION_CONNECT_METHODS: Readonly<Record<DestinationKind, readonly ('api_key' | 'oauth')[]>> = {
  klaviyo: ['api_key', 'oauth'],
  loops: ['api_key'],
  intercom: ['api_key', 'oauth'],
  salesforce: ['oauth'],
};
export const OAUTH_DESTINATION_KINDS = ['klaviyo', 'intercom', 'salesforce'] as const;
export type OAuthDestinationKind = (typeof OAUTH_DESTINATION_KINDS)[number];

/** Salesforce orgs sign in at a production or a sandbox login host (login.salesforce.com, test.salesforce.com). */
export const SALESFORCE_ENVIRONMENTS = ['production', 'sandbox'] as const;
export type SalesforceEnvironment = (typeof SALESFORCE_ENVIRONMENTS)[number];
export const SALESFORCE_ENVIRONMENT_LABELS: Readonly<Record<SalesforceEnvironment, string>> = {
  production: 'Production (login.salesforce.com)',
  sandbox: 'Sandbox (test.salesforce.com)',
};

/** Intercom hosts each workspace in one region; its API is at that region's address. */
export const INTERCOM_REGIONS = ['us', 'eu', 'au'] as const;
export type IntercomRegion = (typeof INTERCOM_REGIONS)[number];
export const INTERCOM_REGION_LABELS: Readonly<Record<IntercomRegion, string>> = {
  us: 'United States',
  eu: 'Europe',
  au: 'Australia',
};

/**
 * The events a destination can receive, computed from the customer's folded history (never one webhook): each sent
 * once per destination, keyed by the Stripe event that made it (Klaviyo `unique_id`, Loops `Idempotency-Key`).
 */
export const DESTINATION_EVENT_CATALOG = [
  { key: 'issued_invoice', name: 'Issued Invoice', description: 'An invoice is finalized and sent for payment.' },
  { key: 'successfully_paid', name: 'Successfully Paid', description: 'A payment succeeds.' },
  { key: 'failed_payment', name: 'Failed Payment', description: 'A payment fails.' },
  { key: 'refunded', name: 'Refunded', description: 'A payment is refunded (fully or in part).' },
  {
    key: 'revenue_movement',
    name: 'Revenue Movement',
    description: 'New, upgrade, downgrade, churn, reactivation, trial started or converted, payment recovered, dispute.',
  },
] as const;
export type DestinationEventKey = (typeof DESTINATION_EVENT_CATALOG)[number]['key'];
export const DESTINATION_EVENT_KEYS = DESTINATION_EVENT_CATALOG.map((e) => e.key) as unknown as readonly [
  DestinationEventKey,
  ...DestinationEventKey[],
];

/** What a Stripe customer's deletion does to its profile or contact in the destination. */
export const ON_CUSTOMER_DELETED = ['keep', 'unsubscribe', 'delete'] as const;
export type OnCustomerDeleted = (typeof ON_CUSTOMER_DELETED)[number];

/**
 * Which deletion choices each destination offers (Klaviyo has no unsubscribe of a whole profile from us; Intercom
 * unsubscribes a contact from email, or deletes it).
 */
export const DELETION_CHOICES: Readonly<Record<DestinationKind, readonly OnCustomerDeleted[]>> = {
  klaviyo: ['keep', 'delete'],
  loops: ['keep', 'unsubscribe', 'delete'],
  intercom: ['keep', 'unsubscribe', 'delete'],
  salesforce: ['keep'],
};

/**
 * Property names: Klaviyo takes any profile property name; Loops wants camelCase contact properties; Intercom's
 * custom data attributes take letters, digits, `_` and spaces (never `.` or `$`).
 */
export const DESTINATION_PROPERTY_PATTERNS: Readonly<Record<DestinationKind, { pattern: RegExp; message: string }>> = {
  klaviyo: {
    pattern: /^[A-Za-z][A-Za-z0-9_ ]{0,99}$/,
    message: 'Use letters, digits, spaces and _; start with a letter; at most 100 characters',
  },
  loops: {
    pattern: /^[a-z][A-Za-z0-9]{0,99}$/,
    message: 'Use camelCase: a lower-case letter first, then letters and digits; at most 100 characters',
  },
  intercom: {
    pattern: /^[A-Za-z][A-Za-z0-9_ ]{0,189}$/,
    message: 'Use letters, digits, spaces and _; start with a letter; at most 190 characters',
  },
  // A custom field's API name: at most 40 letters, digits and single underscores, starting with a letter, then __c.
  salesforce: {
    pattern: /^(?=.{1,43}$)[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$/,
    message: 'Use a custom field API name: up to 40 letters, digits and single underscores, starting with a letter, then __c',
  },
};

/**
 * The default property name of a field in a destination: `stripe_mrr` in Klaviyo and Intercom, `stripeMrr` in Loops,
 * `Stripe_Mrr__c` in Salesforce.
 */
export function defaultDestinationProperty(kind: DestinationKind, key: FieldKey): string {
  const snake = FIELD_CATALOG.find((f) => f.key === key)!.defaultProperty;
  if (kind === 'klaviyo' || kind === 'intercom') return snake;
  if (kind === 'salesforce') return `${snake.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('_')}__c`;
  return snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export interface DestinationFieldSetting {
  enabled: boolean;
  property: string;
}

export interface DestinationSettings {
  events: DestinationEventKey[];
  fields: Record<FieldKey, DestinationFieldSetting>;
  onCustomerDeleted: OnCustomerDeleted;
}

export function defaultDestinationSettings(kind: DestinationKind): DestinationSettings {
  return {
    events: [...DESTINATION_EVENT_KEYS],
    fields: Object.fromEntries(
      FIELD_CATALOG.map((f) => [f.key, { enabled: f.defaultEnabled, property: defaultDestinationProperty(kind, f.key) }]),
    ) as Record<FieldKey, DestinationFieldSetting>,
    onCustomerDeleted: kind === 'loops' ? 'unsubscribe' : 'keep',
  };
}

function destinationSettingsSchema(kind: DestinationKind) {
  const { pattern, message } = DESTINATION_PROPERTY_PATTERNS[kind];
  const field = z.object({ enabled: z.boolean(), property: z.string().regex(pattern, message) }).strict();
  const defaults = defaultDestinationSettings(kind);
  const fieldsShape = Object.fromEntries(FIELD_KEYS.map((k) => [k, field.default(defaults.fields[k])])) as unknown as Record<
    FieldKey,
    typeof field
  >;
  return z
    .object({
      events: z.array(z.enum(DESTINATION_EVENT_KEYS)).refine((a) => new Set(a).size === a.length, 'Each event at most once'),
      fields: z.object(fieldsShape).strict(),
      onCustomerDeleted: z.enum(ON_CUSTOMER_DELETED),
    })
    .strict()
    .superRefine((s, ctx) => {
      const seen = new Map<string, string>();
      for (const key of FIELD_KEYS) {
        const f = s.fields[key];
        if (!f.enabled) continue;
        const other = seen.get(f.property);
        if (other) ctx.addIssue({ code: 'custom', path: ['fields', key, 'property'], message: `Property ${f.property} is already used by ${other}` });
        seen.set(f.property, key);
      }
      if (!s.fields.customerId.enabled) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', 'customerId', 'enabled'],
          message: 'The Stripe customer ID links profiles to customers and cannot be turned off',
        });
      }
      if (!DELETION_CHOICES[kind].includes(s.onCustomerDeleted)) {
        ctx.addIssue({
          code: 'custom',
          path: ['onCustomerDeleted'],
          message: `${DESTINATION_LABELS[kind]} offers: ${DELETION_CHOICES[kind].join(', ')}`,
        });
      }
    });
}

export type DestinationSettingsValidation =
  | { ok: true; settings: DestinationSettings }
  | { ok: false; errors: { path: string; message: string }[] };

/** Validates a destination's settings document; errors carry a dotted path (e.g. `fields.mrr.property`). */
export function validateDestinationSettings(kind: DestinationKind, input: unknown): DestinationSettingsValidation {
  const r = destinationSettingsSchema(kind).safeParse(input);
  if (r.success) return { ok: true, settings: r.data as DestinationSettings };
  return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
}

export function isDestinationKind(v: unknown): v is DestinationKind {
  return typeof v === 'string' && (DESTINATION_KINDS as readonly string[]).includes(v);
}

// ---------- The Stripe App's API for destinations (under APP_API_PREFIX; every call signed, tenant from the signature) ----------

/** `ok`: the last call answered; `broken`: the key was refused (revoked, wrong) — nothing is sent until it is replaced. */
export type DestinationHealthState = 'ok' | 'broken' | 'unknown';

export interface DestinationHealth {
  state: DestinationHealthState;
  /** Why it is broken, in the destination's own words. */
  message: string | null;
  checkedAt: string | null;
}

export interface DestinationCounts {
  /** Customers whose current facts the destination holds. */
  synced: number;
  /** Customers with facts not yet written (including those waiting out a rate limit or a retry). */
  pending: number;
  /** Customers the destination refused for good (dead letters, replayable). */
  failed: number;
}

export interface DestinationSummary {
  id: string;
  kind: DestinationKind;
  mode: Mode;
  /** What the merchant sees: e.g. the Klaviyo account's name or the Loops team's name, else the kind's label. */
  label: string;
  /** The key's last four characters, to tell keys apart (OAuth: `Connected with Klaviyo`); no secret leaves the backend. */
  keyHint: string;
  /** How it is connected: a private API key, or OAuth tokens ("Connect with Klaviyo"). Absent (older backends): an API key. */
  auth?: DestinationAuthKind;
  /** Intercom: the workspace's region. */
  region?: IntercomRegion;
  /** Salesforce: the org's login environment. */
  environment?: SalesforceEnvironment;
  connectedAt: string;
  health: DestinationHealth;
  settings: DestinationSettings;
  counts: DestinationCounts;
}

/** GET /destinations?mode= */
export interface ListDestinationsResponse {
  mode: Mode;
  destinations: DestinationSummary[];
}

/** POST /destinations — connects with an API key (checked with the destination before it is stored, encrypted). */
export interface CreateDestinationRequest {
  mode: Mode;
  kind: DestinationKind;
  apiKey: string;
  /** Absent: the kind's defaults. */
  settings?: DestinationSettings;
  /** Intercom only: the workspace's region (absent: us). */
  region?: IntercomRegion;
}
export interface DestinationResponse {
  destination: DestinationSummary;
}

/** How a destination's credentials were given: a private API key, or OAuth tokens (authorization code with PKCE). */
export type DestinationAuthKind = 'api_key' | 'oauth';

/**
 * "Connect with …" for the kinds that offer OAuth (DESTINATION_CONNECT_METHODS; the backend needs that destination's
 * OAuth client: KLAVIYO_CLIENT_ID/SECRET, INTERCOM_CLIENT_ID/SECRET, SALESFORCE_CLIENT_ID/SECRET — else 503
 * `not_configured` and the app offers the key only, or nothing for Salesforce):
 *
 * 1. GET /destinations/:kind/authorize-url?mode=[&environment=production|sandbox (Salesforce)][&region=us|eu|au
 *    (Intercom)] → `{url}`: the destination's authorize page with a state the backend issued (single use, 10
 *    minutes, bound to the signed account, mode and user, and to the environment or region asked for) and, where the
 *    destination supports it (Klaviyo, Salesforce), an S256 code challenge whose verifier never leaves the backend.
 *    Its redirect is the Stripe Dashboard's apps-oauth page of this app.
 * 2. The Dashboard opens the app with `oauthContext` {code, state}; the state's prefix (OAUTH_STATE_PREFIXES) says
 *    which destination it belongs to (none of them: HubSpot's). POST /destinations/:kind/connect {mode, code, state}
 *    → `DestinationResponse` (201): the state is consumed, the code exchanged (with the verifier), the connection
 *    checked (Salesforce: the fields the sync needs, named exactly when missing), the tokens stored sealed.
 */
export const OAUTH_STATE_PREFIXES: Readonly<Record<OAuthDestinationKind, string>> = {
  klaviyo: 'klaviyo.',
  intercom: 'intercom.',
  salesforce: 'salesforce.',
};
export const KLAVIYO_OAUTH_STATE_PREFIX = OAUTH_STATE_PREFIXES.klaviyo;

/** The destination an OAuth `state` was issued for, from its prefix; null for any other state (HubSpot's). */
export function oauthDestinationOfState(state: string | null | undefined): OAuthDestinationKind | null {
  if (!state) return null;
  return OAUTH_DESTINATION_KINDS.find((k) => state.startsWith(OAUTH_STATE_PREFIXES[k])) ?? null;
}

export interface DestinationAuthorizeUrlResponse {
  url: string;
}
export interface ConnectDestinationOAuthRequest {
  mode: Mode;
  code: string;
  state: string;
}
/** @deprecated the same shapes under their older names (Klaviyo was the first OAuth destination). */
export type KlaviyoAuthorizeUrlResponse = DestinationAuthorizeUrlResponse;
export type ConnectKlaviyoRequest = ConnectDestinationOAuthRequest;

/** PUT /destinations/:id/settings */
export interface PutDestinationSettingsRequest {
  mode: Mode;
  settings: DestinationSettings;
}

/** POST /destinations/:id/test — calls the destination with the stored key now. */
export interface TestDestinationResponse {
  ok: boolean;
  message: string;
  health: DestinationHealth;
}

/**
 * DELETE /destinations/:id — `confirm` must repeat the destination's id: nothing is disconnected on a stray call.
 * The key is deleted; what the destination already holds stays there.
 */
export interface DeleteDestinationRequest {
  mode: Mode;
  confirm: string;
}
export interface DeleteDestinationResponse {
  disconnected: boolean;
}

/** A customer a destination refused for good: replayable once the cause is fixed. */
export interface DestinationDeadLetter {
  customerId: string;
  message: string;
  attempts: number;
  failedAt: string;
}

/** GET /destinations/:id/activity?mode= — the destination's own line of the activity log. */
export interface DestinationActivityResponse {
  mode: Mode;
  destinationId: string;
  counts: DestinationCounts;
  /** Newest writes first (at most 50). */
  recent: { customerId: string; syncedAt: string; events: number }[];
  deadLetters: DestinationDeadLetter[];
}

/** POST /destinations/:id/dead-letters/replay — `customerIds` or `all: true`. */
export interface DestinationReplayRequest {
  mode: Mode;
  customerIds?: string[];
  all?: boolean;
}

/** A customer's state in one destination (the customer view). */
export interface CustomerDestinationState {
  destinationId: string;
  kind: DestinationKind;
  label: string;
  state: 'synced' | 'pending' | 'failed' | 'not_synced';
  /** The destination's id of the profile or contact, once written. */
  externalId: string | null;
  lastSyncedAt: string | null;
  message: string | null;
}
