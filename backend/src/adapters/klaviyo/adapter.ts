import type { EventsBulkCreateQueryResourceObject, ProfileUpsertQueryResourceObject, Session } from 'klaviyo-api';
import {
  DestinationError,
  type DestinationAdapter,
  type DestinationAdapterInput,
  type DestinationEvent,
  type OAuthTokenSource,
  type ProfileWrite,
  type RecordResult,
  type DestinationTraits,
  removalChoices,
} from '../../domain/destinations/port';

/**
 * The Klaviyo destination, over the `klaviyo-api` SDK (revision 2026-07-15, the one the SDK sends). Each SDK API
 * object's `basePath` is set to the configured base URL (a fake's in tests). The SDK's own retries are turned off:
 * every request first takes a slot from the shared pacer under its operation's documented limits, and a 429, a 5xx
 * or a network failure is retried here, a bounded number of times, so every instance of the backend sees the
 * same waits.
 *
 * Identity: a profile's `external_id` is the Stripe customer id, then its email; when the Klaviyo profile id is
 * known it is sent too, so an email change moves that same profile instead of making a second one.
 */

/**
 * Each operation's documented rate limits (the "Rate limits" line of its description in Klaviyo's OpenAPI files,
 * `specs/klaviyo/*.json`, revision 2026-07-15). Klaviyo counts them per account and per operation, in fixed
 * windows of one second (burst) and one minute (steady); the pacer bucket is the operation's id.
 */
export const KLAVIYO_LIMITS = {
  get_accounts: { burst: 1, steady: 15 },
  create_or_update_profile: { burst: 75, steady: 750 },
  get_profiles: { burst: 75, steady: 750 },
  bulk_import_profiles: { burst: 10, steady: 150 },
  get_bulk_import_profiles_job: { burst: 10, steady: 150 },
  get_errors_for_bulk_import_profiles_job: { burst: 10, steady: 150 },
  bulk_create_events: { burst: 10, steady: 150 },
  request_profile_deletion: { burst: 3, steady: 60 },
} as const;
export type KlaviyoOperation = keyof typeof KLAVIYO_LIMITS;

/** Tuning, for tests; the defaults suit production. */
export interface KlaviyoAdapterOptions {
  /** Attempts of one request on 429, 5xx or network failure (default 4). */
  maxAttempts?: number;
  /** First wait before retrying a 5xx or network failure (ms, doubled each time, at most 5 s; default 500). */
  retryBaseMs?: number;
  /** How long to wait for a bulk profile import job (ms, default 20 s); its records are `retryable` after. */
  jobWaitMs?: number;
  /** First wait between polls of a bulk import job (ms, doubled each time, at most 2 s; default 250). */
  jobPollMs?: number;
}

/** Up to this many profiles go through Create or Update Profile one by one; more go as one bulk import job. */
const SMALL_BATCH = 5;
/** Bulk import takes 10,000 profiles and 5 MB per job; 1,000 keeps a job well under both (100 KB a profile at most). */
const MAX_PROFILES = 1000;
/** Bulk Create Events takes up to 1,000 events per request. */
const MAX_EVENTS = 1000;

/** An operation's tier as the pacer's windows: its burst per second and its steady rate per minute. */
function tierLimits(tier: { burst: number; steady: number }): { count: number; windowMs: number }[] {
  return [
    { count: tier.burst, windowMs: 1000 },
    { count: tier.steady, windowMs: 60_000 },
  ];
}

/** What Klaviyo holds and how it is written, as the destination port declares it. */
export const KLAVIYO_TRAITS = {
  kind: 'klaviyo',
  holds: {
    profile: 'profile',
    properties: 'free',
    events: 'metric event (unique_id: the event key)',
    removal: removalChoices('klaviyo'),
    records: [],
  },
  identity: ['stored_id', 'customer_id', 'email'],
  maxProfilesPerCall: MAX_PROFILES,
  maxEventsPerCall: MAX_EVENTS,
  rateBudget: Object.entries(KLAVIYO_LIMITS).flatMap(([op, l]) => tierLimits(l).map((w) => ({ bucket: op, ...w, per: 'Klaviyo account' }))),
} as const satisfies DestinationTraits;

/** A refusal Klaviyo answered that is not retried here (4xx other than 401/403/429): its JSON:API errors. */
class KlaviyoRefusal extends Error {
  constructor(
    readonly status: number,
    readonly errors: { code?: string; detail?: string; source?: { pointer?: string }; meta?: Record<string, unknown> }[],
  ) {
    super(errors.map((e) => e.detail).filter(Boolean).join('; ') || `Klaviyo answered ${status}`);
  }
}

interface HttpFailure {
  status: number | null;
  headers: Record<string, unknown>;
  data: unknown;
}

/** What an SDK (axios) error says, without anything of the request (its headers carry the key). */
function httpFailure(e: unknown): HttpFailure {
  const response = (e as { response?: { status?: number; headers?: Record<string, unknown>; data?: unknown } } | null)?.response;
  return { status: response?.status ?? null, headers: response?.headers ?? {}, data: response?.data };
}

function errorsOf(data: unknown): KlaviyoRefusal['errors'] {
  const errors = (data as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? (errors as KlaviyoRefusal['errors']) : [];
}

function header(headers: Record<string, unknown>, name: string): string | null {
  const v = headers[name.toLowerCase()] ?? headers[name];
  return v == null ? null : String(v);
}

/** `Retry-After` in ms: seconds, or an HTTP date. */
function retryAfterMs(headers: Record<string, unknown>): number | null {
  const v = header(headers, 'retry-after');
  if (v === null) return null;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

type KlaviyoSdk = typeof import('klaviyo-api');

/**
 * The SDK, loaded on first use: it is large (tens of MB resident once loaded) and a backend without a Klaviyo
 * destination never needs it.
 */
let sdkLoading: Promise<KlaviyoSdk> | null = null;
const loadSdk = (): Promise<KlaviyoSdk> => (sdkLoading ??= import('klaviyo-api'));

/** The SDK's API-key session with its own retries off and a per-request timeout. */
function pacedSession(sdk: KlaviyoSdk, apiKey: string, timeoutMs: number): Session {
  const inner = new sdk.ApiKeySession(apiKey, new sdk.RetryWithExponentialBackoff({ numRetries: 0, retryCodes: [] }));
  return {
    applyToRequest(config) {
      inner.applyToRequest(config);
      config.timeout = timeoutMs;
    },
    requestWithRetry: (config) => inner.requestWithRetry(config),
    refreshAndRetry: () => false,
  };
}

/**
 * The SDK's Bearer session for OAuth credentials, with its own retries off and a per-request timeout: each request
 * asks the token source for the access token to send (refreshed there, shared by every instance, when it is about
 * to expire). A refusal (401) is refreshed and retried once by `call` below, not by the SDK.
 */
function pacedOAuthSession(sdk: KlaviyoSdk, source: OAuthTokenSource, timeoutMs: number): Session {
  const retry = new sdk.RetryWithExponentialBackoff({ numRetries: 0, retryCodes: [] });
  return {
    async applyToRequest(config) {
      new sdk.OAuthBasicSession(await source.accessToken(), retry).applyToRequest(config);
      config.timeout = timeoutMs;
    },
    requestWithRetry: (config) => retry.requestWithRetry(config),
    refreshAndRetry: () => false,
  };
}

/** The Bearer token a failed request carried (to tell the token source which one was refused); never logged. */
function bearerOf(e: unknown): string | null {
  const headers = (e as { config?: { headers?: Record<string, unknown> } } | null)?.config?.headers;
  const auth = headers?.Authorization ?? headers?.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The index of the bulk entry a JSON:API error pointer names (`/data/attributes/<list>/data/<i>/…`). */
function entryIndex(pointer: string | undefined, list: string): number | null {
  const m = pointer ? new RegExp(`^/data/attributes/${list}/data/(\\d+)(/|$)`).exec(pointer) : null;
  return m ? Number(m[1]) : null;
}

export function createKlaviyoAdapter(input: DestinationAdapterInput, options: KlaviyoAdapterOptions = {}): DestinationAdapter {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const retryBaseMs = options.retryBaseMs ?? 500;
  const jobWaitMs = options.jobWaitMs ?? 20_000;
  const jobPollMs = options.jobPollMs ?? 250;
  const { oauth } = input;
  const credential = oauth ? 'the access token' : 'the API key';
  const baseUrl = input.baseUrl.replace(/\/+$/, '');
  const timeoutMs = input.timeoutMs ?? 30_000;
  /** The SDK's APIs on our session, made at the first call (the SDK is loaded then). */
  let apisMade: Promise<{ accounts: InstanceType<KlaviyoSdk['AccountsApi']>; profilesApi: InstanceType<KlaviyoSdk['ProfilesApi']>; eventsApi: InstanceType<KlaviyoSdk['EventsApi']>; privacy: InstanceType<KlaviyoSdk['DataPrivacyApi']> }> | null = null;
  const apis = () =>
    (apisMade ??= loadSdk().then((sdk) => {
      const session = oauth ? pacedOAuthSession(sdk, oauth, timeoutMs) : pacedSession(sdk, input.apiKey, timeoutMs);
      const made = { accounts: new sdk.AccountsApi(session), profilesApi: new sdk.ProfilesApi(session), eventsApi: new sdk.EventsApi(session), privacy: new sdk.DataPrivacyApi(session) };
      for (const api of Object.values(made)) api.basePath = baseUrl;
      return made;
    }));
  const { pacer } = input;

  /**
   * One request of `op`: a pacer slot first; then the answer's rate-limit headers (none left in the steady window:
   * every instance waits for its reset). 429: every instance waits `Retry-After`, then again, at most `maxAttempts`
   * times; 5xx and network failures back off and retry as often. 401/403 are a refused key; with OAuth, a 401 first
   * refreshes the access token (shared by every instance) and retries once.
   */
  async function call<T extends { response: { headers: unknown } }>(op: KlaviyoOperation, send: () => Promise<T>): Promise<T> {
    const limits = tierLimits(KLAVIYO_LIMITS[op]);
    // Each access token refused (401) is refreshed once: when the token another instance already refreshed to is
    // refused too, that one is refreshed in turn (at most twice per request).
    const refreshedFor = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      await pacer.acquire(op, limits);
      let failure: HttpFailure;
      let rejected: string | null = null;
      try {
        const answer = await send();
        const headers = (answer.response.headers ?? {}) as Record<string, unknown>;
        const remaining = header(headers, 'RateLimit-Remaining');
        const reset = Number(header(headers, 'RateLimit-Reset'));
        if (remaining !== null && Number(remaining) <= 0 && reset > 0) await pacer.penalize(op, reset * 1000);
        return answer;
      } catch (e) {
        // The token source's own refusals (a refused refresh: `connection`) are the answer as they are.
        if (e instanceof DestinationError) throw e;
        failure = httpFailure(e);
        rejected = bearerOf(e);
      }
      const { status, headers, data } = failure;
      const detail = errorsOf(data)
        .map((x) => x.detail)
        .filter(Boolean)
        .join('; ');
      if (status === 401 && oauth && rejected !== null && !refreshedFor.has(rejected) && refreshedFor.size < 2) {
        refreshedFor.add(rejected);
        await oauth.refreshAfter(rejected);
        attempt--;
        continue;
      }
      if (status === 401 || status === 403) {
        throw new DestinationError('connection', `Klaviyo refused ${credential} (${status}${detail ? `: ${detail}` : ''})`, { status });
      }
      if (status === 429) {
        const wait = retryAfterMs(headers) ?? Math.min(60_000, retryBaseMs * 2 ** attempt);
        await pacer.penalize(op, wait);
        if (attempt >= maxAttempts) {
          throw new DestinationError('rate_limited', `Klaviyo rate limit of ${op} (429 after ${attempt} attempts)`, { retryAfterMs: wait, status });
        }
        continue;
      }
      if (status === null || status >= 500 || status === 408) {
        if (attempt >= maxAttempts) {
          throw new DestinationError('retryable', `Klaviyo ${op} failed ${attempt} times (${status ?? 'no answer'}${detail ? `: ${detail}` : ''})`, { status });
        }
        await sleep(Math.min(5000, retryBaseMs * 2 ** (attempt - 1)));
        continue;
      }
      throw new KlaviyoRefusal(status, errorsOf(data));
    }
  }

  function profileResource(p: ProfileWrite, withId: boolean): ProfileUpsertQueryResourceObject {
    return {
      type: 'profile',
      ...(withId && p.externalId ? { id: p.externalId } : {}),
      attributes: {
        externalId: p.customerId,
        // A missing email or name is left as Klaviyo has it (null would clear it there).
        ...(p.email ? { email: p.email } : {}),
        ...(p.firstName !== null ? { firstName: p.firstName } : {}),
        ...(p.lastName !== null ? { lastName: p.lastName } : {}),
        properties: { ...p.properties },
      },
    };
  }

  function refusal(e: KlaviyoRefusal): RecordResult {
    const dup = e.errors.find((x) => x.code === 'duplicate_profile');
    const other = dup?.meta?.duplicate_profile_id;
    const message = other ? `${e.message} (Klaviyo profile ${String(other)} already has this email or external id)` : e.message;
    return { ok: false, errorClass: 'record', message: `Klaviyo refused the profile (${e.status}): ${message}` };
  }

  async function upsertOne(p: ProfileWrite): Promise<RecordResult> {
    let withId = p.externalId !== null;
    for (;;) {
      try {
        const { body } = await call('create_or_update_profile', async () => (await apis()).profilesApi.createOrUpdateProfile({ data: profileResource(p, withId) }));
        return { ok: true, externalId: body.data.id ?? null };
      } catch (e) {
        if (!(e instanceof KlaviyoRefusal)) throw e;
        // The profile id we kept no longer exists (deleted or merged in Klaviyo): find or make it by its identifiers.
        if (e.status === 404 && withId) {
          withId = false;
          continue;
        }
        return refusal(e);
      }
    }
  }

  /**
   * A bulk profile import job: spawn, poll until complete (bounded), then read its per-record errors. The job's
   * profiles relationship lists the ids it touched without saying which record each came from, so a record's
   * Klaviyo id is answered only when we already knew it (null otherwise; the next single write learns it).
   */
  async function upsertBulk(profiles: readonly ProfileWrite[]): Promise<Map<string, RecordResult>> {
    const results = new Map<string, RecordResult>();
    let pending = [...profiles];
    let job: string | null = null;
    // A request the API refuses as a whole names the refused record; it is answered and the rest sent again.
    while (pending.length > 0 && job === null) {
      const batch = pending;
      try {
        const { body } = await call('bulk_import_profiles', async () =>
          (await apis()).profilesApi.bulkImportProfiles({
            data: { type: 'profile-bulk-import-job', attributes: { profiles: { data: batch.map((p) => profileResource(p, true)) } } },
          }),
        );
        job = body.data.id;
      } catch (e) {
        if (!(e instanceof KlaviyoRefusal)) throw e;
        const refused = new Set(e.errors.map((x) => entryIndex(x.source?.pointer, 'profiles')).filter((i): i is number => i !== null && i < batch.length));
        if (refused.size === 0) refused.add(-1);
        for (const [i, p] of batch.entries()) {
          if (refused.has(i) || refused.has(-1)) results.set(p.customerId, refusal(e));
        }
        pending = batch.filter((_, i) => !refused.has(i) && !refused.has(-1));
      }
    }
    if (job === null) return results;
    const jobId = job;

    const started = Date.now();
    let wait = jobPollMs;
    let status = '';
    let failed = 0;
    for (;;) {
      const { body } = await call('get_bulk_import_profiles_job', async () => (await apis()).profilesApi.getBulkImportProfilesJob(jobId));
      status = String(body.data.attributes.status);
      failed = body.data.attributes.failedCount ?? 0;
      if (status === 'complete' || status === 'cancelled') break;
      if (Date.now() - started + wait > jobWaitMs) break;
      await sleep(wait);
      wait = Math.min(2000, wait * 2);
    }
    if (status !== 'complete') {
      // The job is an idempotent upsert: sending these records again later is safe.
      const message = `Klaviyo bulk import job ${jobId} is ${status || 'unknown'} after ${Math.round((Date.now() - started) / 1000)} s`;
      for (const p of pending) results.set(p.customerId, { ok: false, errorClass: 'retryable', message });
      return results;
    }

    const refusedBy = new Map<string, { code: string; message: string }>();
    if (failed > 0) {
      let cursor: string | undefined;
      for (;;) {
        const page = cursor;
        const { body } = await call('get_errors_for_bulk_import_profiles_job', async () =>
          (await apis()).profilesApi.getErrorsForBulkImportProfilesJob(jobId, { pageSize: 100, ...(page ? { pageCursor: page } : {}) }),
        );
        for (const err of body.data) {
          const a = err.attributes;
          const payload = a.originalPayload as { attributes?: { external_id?: unknown } } | null | undefined;
          const byPayload = typeof payload?.attributes?.external_id === 'string' ? payload.attributes.external_id : null;
          const index = entryIndex(a.source?.pointer ?? undefined, 'profiles');
          const customerId = byPayload ?? (index !== null ? pending[index]?.customerId : undefined);
          if (customerId) refusedBy.set(customerId, { code: a.code, message: `Klaviyo refused the profile (${a.code}): ${a.detail}` });
        }
        const next = body.links?.next;
        cursor = next ? (new URL(next).searchParams.get('page[cursor]') ?? undefined) : undefined;
        if (!cursor) break;
      }
    }
    for (const p of pending) {
      const refused = refusedBy.get(p.customerId);
      if (!refused) results.set(p.customerId, { ok: true, externalId: p.externalId });
      // The profile id we kept no longer exists in Klaviyo (deleted or merged): written again by its identifiers.
      else if (refused.code === 'not_found' && p.externalId) results.set(p.customerId, await upsertOne({ ...p, externalId: null }));
      else results.set(p.customerId, { ok: false, errorClass: 'record', message: refused.message });
    }
    return results;
  }

  function eventEntry(events: readonly DestinationEvent[], backfill: boolean): EventsBulkCreateQueryResourceObject {
    const first = events[0]!;
    return {
      type: 'event-bulk-create',
      attributes: {
        ...(backfill ? { backfill: true } : {}),
        profile: {
          data: { type: 'profile', attributes: { externalId: first.customerId, ...(first.email ? { email: first.email } : {}) } },
        },
        events: {
          data: events.map((e) => ({
            type: 'event',
            attributes: {
              properties: { ...e.properties },
              time: new Date(e.time * 1000),
              ...(e.value !== null ? { value: e.value } : {}),
              ...(e.value !== null && e.currency ? { valueCurrency: e.currency } : {}),
              metric: { data: { type: 'metric', attributes: { name: e.name } } },
              uniqueId: e.key,
              // History: Klaviyo's `backfill` attribute (revision 2026-07-15, on each bulk entry and each event)
              // "records the event but does NOT trigger flows", so a backfill never re-fires the merchant's flows.
              ...(backfill ? { backfill: true } : {}),
            },
          })),
        },
      },
    };
  }

  return {
    ...KLAVIYO_TRAITS,

    async check() {
      const { body } = await call('get_accounts', async () => (await apis()).accounts.getAccounts());
      const account = body.data[0];
      if (!account) throw new DestinationError('connection', 'Klaviyo answered no account for this key');
      const name = account.attributes.contactInformation?.organizationName?.trim();
      return { label: name || `Klaviyo account ${account.id}` };
    },

    async ensureProperties() {
      // Klaviyo takes any custom profile property without declaring it first.
    },

    async upsertProfiles(profiles) {
      if (profiles.length > MAX_PROFILES) throw new RangeError(`at most ${MAX_PROFILES} profiles per call`);
      if (profiles.length > SMALL_BATCH) return upsertBulk(profiles);
      const results = new Map<string, RecordResult>();
      for (const p of profiles) results.set(p.customerId, await upsertOne(p));
      return results;
    },

    async sendEvents(events, opts) {
      if (events.length > MAX_EVENTS) throw new RangeError(`at most ${MAX_EVENTS} events per call`);
      const results = new Map<string, RecordResult>();
      // One bulk entry per customer (and email), its events in the order given.
      const groups = new Map<string, DestinationEvent[]>();
      for (const e of events) {
        const k = `${e.customerId}\u0000${e.email ?? ''}`;
        const g = groups.get(k);
        if (g) g.push(e);
        else groups.set(k, [e]);
      }
      let pending = [...groups.values()];
      while (pending.length > 0) {
        const batch = pending;
        try {
          await call('bulk_create_events', async () =>
            (await apis()).eventsApi.bulkCreateEvents({
              data: { type: 'event-bulk-create-job', attributes: { eventsBulkCreate: { data: batch.map((g) => eventEntry(g, opts.backfill)) } } },
            }),
          );
          for (const g of batch) for (const e of g) results.set(e.key, { ok: true, externalId: null });
          pending = [];
        } catch (e) {
          if (!(e instanceof KlaviyoRefusal)) throw e;
          // The request is refused as a whole; the errors name the entries at fault: answer those, send the rest again.
          const refused = new Set(
            e.errors.map((x) => entryIndex(x.source?.pointer, 'events-bulk-create')).filter((i): i is number => i !== null && i < batch.length),
          );
          const all = refused.size === 0;
          const message = `Klaviyo refused the event (${e.status}): ${e.message}`;
          for (const [i, g] of batch.entries()) {
            if (all || refused.has(i)) for (const ev of g) results.set(ev.key, { ok: false, errorClass: 'record', message });
          }
          pending = all ? [] : batch.filter((_, i) => !refused.has(i));
        }
      }
      return results;
    },

    async removeProfile(profile, how) {
      if (how !== 'delete') {
        return { ok: false, errorClass: 'record', message: 'Klaviyo offers no unsubscribe of a whole profile from here; choose delete or keep' };
      }
      let id = profile.externalId;
      if (!id) {
        // Found by the customer id first (exact), so a shared email never deletes someone else's profile by mistake.
        const filter = `equals(external_id,${JSON.stringify(profile.customerId)})`;
        const { body } = await call('get_profiles', async () => (await apis()).profilesApi.getProfiles({ filter, fieldsProfile: ['email', 'external_id'], pageSize: 1 }));
        id = body.data[0]?.id ?? null;
      }
      if (!id && !profile.email) return { ok: true, externalId: null };
      const target = id ? { type: 'profile' as const, id, attributes: {} } : { type: 'profile' as const, attributes: { email: profile.email! } };
      try {
        await call('request_profile_deletion', async () =>
          (await apis()).privacy.requestProfileDeletion({ data: { type: 'data-privacy-deletion-job', attributes: { profile: { data: target } } } }),
        );
      } catch (e) {
        if (!(e instanceof KlaviyoRefusal)) throw e;
        return { ok: false, errorClass: 'record', message: `Klaviyo refused the deletion (${e.status}): ${e.message}` };
      }
      return { ok: true, externalId: null };
    },
  };
}
