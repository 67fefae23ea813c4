import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { detailOf, KLAVIYO_OPERATIONS, operation, pointerOf, type KlaviyoOperation, type KlaviyoOperationId } from './spec';

export { KLAVIYO_OPERATIONS, type KlaviyoOperationId } from './spec';

/**
 * A fake Klaviyo API on 127.0.0.1 for tests, reached through the real `klaviyo-api` SDK (each API object's
 * `basePath` set to `fake.url`). It holds to Klaviyo's published operation files (`specs/klaviyo/*.json`,
 * revision 2026-07-15): request bodies are validated against each operation's schema (a refused body gets
 * Klaviyo's JSON:API 400), successful answers are checked against the documented response schemas before they
 * leave, and each operation is rate limited at the tier its description documents. One account, one private key.
 * See README.md in this folder for the behaviours it models and where each comes from.
 */

type Json = Record<string, unknown>;

export interface FakeKlaviyoOptions {
  /** The account's private API key. */
  apiKey?: string;
  /** The account's organization name (`contact_information.organization_name`). */
  organizationName?: string;
  /** GETs of a bulk profile import job answered `processing` before it completes (0: complete at the first poll). Default 1. */
  jobPollsBeforeComplete?: number;
  /** Lower limits than documented, per operation (tests of pacing). */
  limits?: Partial<Record<KlaviyoOperationId, { burstPerSecond: number; steadyPerMinute: number }>>;
  /**
   * An OAuth app registered with this account: `/oauth/token` and `/oauth/revoke` answer for it, and the access
   * tokens it issues are accepted as `Authorization: Bearer` by every operation.
   */
  oauth?: {
    clientId: string;
    clientSecret: string;
    /** Lifetime of an access token (seconds; default 3600, as Klaviyo's). */
    accessTokenTtlSeconds?: number;
    /** Each refresh answers a new refresh token and retires the one used (default true). */
    rotateRefreshTokens?: boolean;
  };
}

/** What the fake's token endpoint saw (never the tokens themselves). */
export interface RecordedTokenRequest {
  path: '/oauth/token' | '/oauth/revoke';
  grantType: string | null;
  /** The client authenticated with HTTP Basic as Klaviyo documents. */
  clientAuthenticated: boolean;
  status: number;
  error: string | null;
}

export interface FakeKlaviyoOAuthState {
  tokenRequests: RecordedTokenRequest[];
  /** Refresh tokens revoked through `/oauth/revoke`, in order. */
  revoked: string[];
  /** The refresh token a refresh would accept now (the newest issued, not revoked), if any. */
  activeRefreshTokens(): string[];
}

export interface FakeKlaviyoProfile {
  id: string;
  email: string | null;
  phone_number: string | null;
  external_id: string | null;
  first_name: string | null;
  last_name: string | null;
  properties: Json;
  created: string;
  updated: string;
}

export interface FakeKlaviyoEvent {
  id: string;
  profileId: string;
  metric: string;
  uniqueId: string;
  time: string;
  value: number | null;
  valueCurrency: string | null;
  properties: Json;
  /** Sent with `backfill: true`: recorded without triggering flows. */
  backfill: boolean;
}

export interface FakeImportError {
  code: string;
  title: string;
  detail: string;
  pointer: string;
  originalPayload: Json;
}

export interface FakeImportJob {
  id: string;
  status: 'queued' | 'processing' | 'complete' | 'cancelled';
  createdAt: string;
  completedAt: string | null;
  records: Json[];
  polls: number;
  profileIds: string[];
  errors: FakeImportError[];
}

export interface RecordedKlaviyoRequest {
  operation: KlaviyoOperationId | null;
  method: string;
  path: string;
  status: number;
  body: unknown;
  /** How the request authenticated: a private key, an OAuth Bearer token, or neither. */
  auth: 'api_key' | 'bearer' | null;
}

export interface FakeKlaviyoState {
  profiles: Map<string, FakeKlaviyoProfile>;
  events: FakeKlaviyoEvent[];
  /** Events not stored: a repeated `unique_id` for the same profile and metric, or a profile that could not be resolved. */
  droppedEvents: { reason: string; metric: string; uniqueId: string | null }[];
  jobs: Map<string, FakeImportJob>;
  /** Identifiers of each deletion request, in order. */
  deletions: { id?: string; email?: string; phone_number?: string; deleted: string[] }[];
  /** Requests that reached the fake, per operation (refused ones too: 401, 429, 5xx, 400). */
  calls: Partial<Record<KlaviyoOperationId, number>>;
  requests: RecordedKlaviyoRequest[];
  oauth: FakeKlaviyoOAuthState;
  profileByExternalId(externalId: string): FakeKlaviyoProfile | undefined;
  profileByEmail(email: string): FakeKlaviyoProfile | undefined;
  eventsOf(profileId: string): FakeKlaviyoEvent[];
}

export interface FakeKlaviyoControls {
  /** From now on the key is refused (401), as after the merchant revokes it. */
  revokeKey(): void;
  /** The next `n` requests (of `op`, or any) answer 429 with `Retry-After: retryAfterSeconds`. */
  throttleNext(n: number, retryAfterSeconds: number, op?: KlaviyoOperationId): void;
  /** The next `n` requests (of `op`, or any) answer `status` (a 5xx) with Klaviyo's error body. */
  failNext(n: number, status: number, op?: KlaviyoOperationId): void;
  /**
   * Plays the merchant's approval on Klaviyo's authorize page: answers the code Klaviyo would send to the redirect,
   * bound to the PKCE challenge (S256) and redirect URI of the authorize URL. Valid for 5 minutes, once.
   */
  issueCode(args: { challenge: string; redirectUri: string; scope?: string; challengeMethod?: string }): string;
  /** Every access token issued so far expires now (a 401 until refreshed). */
  expireAccessTokens(): void;
  /** Every refresh token is refused from now on (`invalid_grant`), as after the merchant uninstalls the app. */
  refuseRefreshTokens(): void;
}

export interface FakeKlaviyo {
  url: string;
  apiKey: string;
  state: FakeKlaviyoState;
  controls: FakeKlaviyoControls;
  close(): Promise<void>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ACCOUNT_ID = 'XyZ123';

interface ErrorItem {
  id: string;
  status: number;
  code: string;
  title: string;
  detail: string;
  source: { pointer?: string; parameter?: string };
  meta?: Json;
}

/** A refusal, answered as Klaviyo's JSON:API error document `{ errors: [...] }`. */
class KlaviyoFailure extends Error {
  constructor(
    readonly status: number,
    readonly errors: ErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors[0]?.detail ?? String(status));
  }
}

function failure(status: number, code: string, title: string, detail: string, source: ErrorItem['source'] = { pointer: '/data/' }, meta?: Json) {
  return new KlaviyoFailure(status, [{ id: randomUUID(), status, code, title, detail, source, ...(meta ? { meta } : {}) }]);
}

const invalid = (detail: string, pointer: string) => failure(400, 'invalid', 'Invalid input.', detail, { pointer });

/** Klaviyo-style profile ids: 26 characters of Crockford base32, starting `01`. */
function profileId(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return `01${[...randomBytes(24)].map((b) => alphabet[b % 32]).join('')}`;
}

export async function startFakeKlaviyo(options: FakeKlaviyoOptions = {}): Promise<FakeKlaviyo> {
  const apiKey = options.apiKey ?? 'pk_fake0000klaviyo0000test0000key';
  const organizationName = options.organizationName ?? 'Fake Klaviyo Store';
  const pollsBeforeComplete = options.jobPollsBeforeComplete ?? 1;
  let revoked = false;
  let url = '';
  const throttles: { left: number; retryAfter: number; op?: KlaviyoOperationId }[] = [];
  const failures: { left: number; status: number; op?: KlaviyoOperationId }[] = [];
  const windows = new Map<KlaviyoOperationId, { secStart: number; secCount: number; minStart: number; minCount: number }>();
  const ops = KLAVIYO_OPERATIONS.map((id) => operation(id));

  const profiles = new Map<string, FakeKlaviyoProfile>();
  const events: FakeKlaviyoEvent[] = [];
  const codes = new Map<string, { challenge: string; method: string; redirectUri: string; scope: string; expiresAt: number; used: boolean }>();
  const accessTokens = new Map<string, { expiresAt: number; refreshToken: string }>();
  const refreshTokens = new Map<string, { active: boolean; scope: string }>();
  const eventKeys = new Set<string>();
  const find = (field: 'email' | 'external_id' | 'phone_number', value: string) => {
    for (const p of profiles.values()) {
      const v = p[field];
      if (v !== null && (field === 'email' ? v.toLowerCase() === value.toLowerCase() : v === value)) return p;
    }
    return undefined;
  };
  const state: FakeKlaviyoState = {
    profiles,
    events,
    droppedEvents: [],
    jobs: new Map(),
    deletions: [],
    calls: {},
    requests: [],
    oauth: {
      tokenRequests: [],
      revoked: [],
      activeRefreshTokens: () => [...refreshTokens.entries()].filter(([, r]) => r.active).map(([t]) => t),
    },
    profileByExternalId: (x) => find('external_id', x),
    profileByEmail: (x) => find('email', x),
    eventsOf: (id) => events.filter((e) => e.profileId === id),
  };

  const take = <T extends { left: number; op?: KlaviyoOperationId }>(queue: T[], op: KlaviyoOperationId): T | undefined => {
    const i = queue.findIndex((q) => q.left > 0 && (!q.op || q.op === op));
    if (i < 0) return undefined;
    const q = queue[i]!;
    if (--q.left <= 0) queue.splice(i, 1);
    return q;
  };

  /**
   * Klaviyo's fixed windows per account and operation: burst (1 s) and steady (1 min). Answers the headers of the
   * steady window, or throws a 429 whose `Retry-After` is the wait until the full window resets.
   */
  function limit(op: KlaviyoOperation, now: number): Record<string, string> {
    const l = options.limits?.[op.id] ?? op.limits;
    let w = windows.get(op.id);
    if (!w) windows.set(op.id, (w = { secStart: now, secCount: 0, minStart: now, minCount: 0 }));
    if (now - w.secStart >= 1000) Object.assign(w, { secStart: now, secCount: 0 });
    if (now - w.minStart >= 60_000) Object.assign(w, { minStart: now, minCount: 0 });
    const reset = Math.max(1, Math.ceil((w.minStart + 60_000 - now) / 1000));
    const headers = (remaining: number) => ({
      'RateLimit-Limit': String(l.steadyPerMinute),
      'RateLimit-Remaining': String(Math.max(0, remaining)),
      'RateLimit-Reset': String(reset),
    });
    const over = w.minCount >= l.steadyPerMinute ? reset : w.secCount >= l.burstPerSecond ? Math.max(1, Math.ceil((w.secStart + 1000 - now) / 1000)) : 0;
    if (over > 0) throw throttled(over, headers(l.steadyPerMinute - w.minCount));
    w.secCount++;
    w.minCount++;
    return headers(l.steadyPerMinute - w.minCount);
  }

  function throttled(retryAfter: number, headers: Record<string, string>): KlaviyoFailure {
    const f = failure(429, 'throttled', 'Request was throttled.', `Request was throttled. Expected available in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`);
    return new KlaviyoFailure(429, f.errors, { ...headers, 'Retry-After': String(retryAfter) });
  }

  /**
   * Creates or updates a profile by Klaviyo's identity rules: with `id`, that profile (404 when none), its
   * identifiers included (an email change moves the same profile); without, the profile any identifier matches
   * (external_id, email, phone_number), or a new one. An identifier that belongs to another profile is a 409
   * `duplicate_profile` with that profile's id in `meta.duplicate_profile_id`. A field sent as null is cleared;
   * a field not sent is kept; properties are merged key by key.
   */
  function writeProfile(resource: Json, base: string, at: string): { profile: FakeKlaviyoProfile; created: boolean } {
    const attrs = (resource.attributes ?? {}) as Json;
    const str = (k: string) => (typeof attrs[k] === 'string' && attrs[k] !== '' ? (attrs[k] as string) : null);
    const email = str('email');
    if (email !== null && !EMAIL.test(email)) throw invalid(`Invalid email address: '${email}'`, `${base}/attributes/email`);
    const identifiers = (['external_id', 'email', 'phone_number'] as const)
      .map((k) => [k, str(k)] as const)
      .filter((e): e is readonly ['external_id' | 'email' | 'phone_number', string] => e[1] !== null);
    let target: FakeKlaviyoProfile | undefined;
    const id = typeof resource.id === 'string' && resource.id !== '' ? resource.id : null;
    if (id) {
      target = profiles.get(id);
      if (!target) throw failure(404, 'not_found', 'Not found.', `A profile with id ${id} does not exist.`, { pointer: `${base}/id` });
    } else {
      if (identifiers.length === 0) {
        throw invalid('A profile needs at least one identifier: email, phone_number or external_id.', `${base}/attributes`);
      }
      target = identifiers.map(([k, v]) => find(k, v)).find((p) => p !== undefined);
    }
    for (const [k, v] of identifiers) {
      const other = find(k, v);
      if (other && other !== target) {
        throw failure(409, 'duplicate_profile', 'Conflict.', 'A profile already exists with one of these identifiers.', { pointer: `${base}/attributes` }, {
          duplicate_profile_id: other.id,
        });
      }
    }
    const created = !target;
    const profile: FakeKlaviyoProfile = target ?? {
      id: profileId(),
      email: null,
      phone_number: null,
      external_id: null,
      first_name: null,
      last_name: null,
      properties: {},
      created: at,
      updated: at,
    };
    for (const k of ['email', 'phone_number', 'external_id', 'first_name', 'last_name'] as const) {
      if (k in attrs) profile[k] = (attrs[k] as string | null) ?? null;
    }
    if (attrs.properties === null) profile.properties = {};
    else if (attrs.properties && typeof attrs.properties === 'object') profile.properties = { ...profile.properties, ...(attrs.properties as Json) };
    profile.updated = at;
    profiles.set(profile.id, profile);
    return { profile, created };
  }

  const profileResource = (p: FakeKlaviyoProfile) => ({
    type: 'profile',
    id: p.id,
    attributes: {
      email: p.email,
      phone_number: p.phone_number,
      external_id: p.external_id,
      first_name: p.first_name,
      last_name: p.last_name,
      organization: null,
      locale: null,
      title: null,
      image: null,
      created: p.created,
      updated: p.updated,
      last_event_date: null,
      location: null,
      properties: p.properties,
    },
    links: { self: `${url}/api/profiles/${p.id}/` },
  });

  const jobResource = (j: FakeImportJob) => ({
    type: 'profile-bulk-import-job',
    id: j.id,
    attributes: {
      status: j.status,
      created_at: j.createdAt,
      total_count: j.records.length,
      completed_count: j.status === 'complete' ? j.records.length - j.errors.length : 0,
      failed_count: j.errors.length,
      completed_at: j.completedAt,
      expires_at: null,
      started_at: j.status === 'queued' ? null : j.createdAt,
    },
    links: { self: `${url}/api/profile-bulk-import-jobs/${j.id}/` },
  });

  function runJob(job: FakeImportJob, at: string): void {
    job.records.forEach((record, i) => {
      const pointer = `/data/attributes/profiles/data/${i}`;
      try {
        job.profileIds.push(writeProfile(record, pointer, at).profile.id);
      } catch (e) {
        if (!(e instanceof KlaviyoFailure)) throw e;
        const err = e.errors[0]!;
        job.errors.push({ code: err.code, title: err.title, detail: err.detail, pointer: err.source.pointer ?? pointer, originalPayload: record });
      }
    });
    job.status = 'complete';
    job.completedAt = at;
  }

  function page<T>(items: T[], query: URLSearchParams, path: string): { slice: T[]; links: Json } {
    const size = Math.min(100, Math.max(1, Number(query.get('page[size]') ?? 20) || 20));
    const from = Math.max(0, Number(query.get('page[cursor]') ?? 0) || 0);
    const slice = items.slice(from, from + size);
    const self = `${url}${path}`;
    const links: Json = { self };
    if (from + size < items.length) links.next = `${self}?page[size]=${size}&page[cursor]=${from + size}`;
    return { slice, links };
  }

  function jobOf(id: string): FakeImportJob {
    const job = state.jobs.get(id);
    if (!job) throw failure(404, 'not_found', 'Not found.', `A profile bulk import job with id ${id} does not exist.`, { parameter: 'id' });
    return job;
  }

  /** Checks the events of one bulk entry (or one single event) before anything is stored: the request is all or nothing. */
  function checkEvent(attrs: Json, base: string, now: number): void {
    const time = attrs.time;
    if (typeof time === 'string') {
      const t = Date.parse(time);
      if (!(t >= Date.UTC(1990, 0, 1)) || t > now + 365 * 86_400_000) {
        throw invalid('The time must be after the year 1990 and can only be up to 1 year in the future.', `${base}/attributes/time`);
      }
    }
    const name = ((attrs.metric as Json | undefined)?.data as Json | undefined)?.attributes as Json | undefined;
    if (typeof name?.name === 'string' && (name.name.length === 0 || name.name.length >= 128)) {
      throw invalid('The metric name must be 1 to 127 characters.', `${base}/attributes/metric/data/attributes/name`);
    }
  }

  function checkEventProfile(profile: Json, base: string): void {
    const attrs = (profile.attributes ?? {}) as Json;
    const email = attrs.email;
    if (typeof email === 'string' && !EMAIL.test(email)) throw invalid(`Invalid email address: '${email}'`, `${base}/attributes/email`);
    const known = profile.id || ['email', 'phone_number', 'external_id'].some((k) => typeof attrs[k] === 'string' && attrs[k] !== '');
    if (!known) throw invalid('A profile identifier is required: id, email, phone_number or external_id.', `${base}/attributes`);
  }

  /**
   * Stores an event. A `unique_id` repeated for the same profile and metric is not processed (the spec: "the
   * request will fail and no events will be processed"; processing happens after the 202, so the sender sees no
   * error): the repeat is dropped and the first kept. Without `unique_id`, the time to the second stands in.
   */
  function storeEvent(profileResourceIn: Json, attrs: Json, entryBackfill: boolean, at: string): void {
    const metric = String((((attrs.metric as Json).data as Json).attributes as Json).name);
    const time = typeof attrs.time === 'string' ? new Date(Math.floor(Date.parse(attrs.time) / 1000) * 1000).toISOString() : at;
    const uniqueId = typeof attrs.unique_id === 'string' ? attrs.unique_id : time;
    let profile: FakeKlaviyoProfile;
    try {
      profile = writeProfile(profileResourceIn, '/data', at).profile;
    } catch (e) {
      if (!(e instanceof KlaviyoFailure)) throw e;
      state.droppedEvents.push({ reason: e.errors[0]!.code, metric, uniqueId });
      return;
    }
    const key = `${profile.id}\u0000${metric}\u0000${uniqueId}`;
    if (eventKeys.has(key)) {
      state.droppedEvents.push({ reason: 'duplicate unique_id', metric, uniqueId });
      return;
    }
    eventKeys.add(key);
    events.push({
      id: randomUUID(),
      profileId: profile.id,
      metric,
      uniqueId,
      time,
      value: typeof attrs.value === 'number' ? attrs.value : null,
      valueCurrency: typeof attrs.value_currency === 'string' ? attrs.value_currency : null,
      properties: (attrs.properties ?? {}) as Json,
      backfill: entryBackfill || attrs.backfill === true,
    });
  }

  type Handler = (ctx: { body: Json; params: Record<string, string>; query: URLSearchParams; path: string; now: number; at: string }) => {
    status: number;
    body?: unknown;
  };

  const handlers: Record<KlaviyoOperationId, Handler> = {
    get_accounts: () => ({
      status: 200,
      body: {
        data: [
          {
            type: 'account',
            id: ACCOUNT_ID,
            attributes: {
              test_account: false,
              contact_information: {
                default_sender_name: organizationName,
                default_sender_email: 'hello@example.com',
                website_url: 'https://example.com',
                organization_name: organizationName,
                street_address: { address1: '1 Example Street', address2: null, city: 'Boston', region: 'MA', country: 'US', zip: '02110' },
              },
              industry: null,
              timezone: 'US/Eastern',
              preferred_currency: 'USD',
              public_api_key: 'AbC123',
              locale: 'en-US',
            },
            links: { self: `${url}/api/accounts/${ACCOUNT_ID}/` },
          },
        ],
        links: { self: `${url}/api/accounts/` },
      },
    }),
    create_or_update_profile: ({ body, at }) => {
      const { profile, created } = writeProfile(body.data as Json, '/data', at);
      return { status: created ? 201 : 200, body: { data: profileResource(profile) } };
    },
    get_profiles: ({ query, path }) => {
      const filter = query.get('filter');
      let list = [...profiles.values()];
      if (filter) {
        const m = /^(equals|any)\((id|email|phone_number|external_id),(.+)\)$/.exec(filter);
        if (!m) throw failure(400, 'invalid', 'Invalid input.', `Invalid filter: ${filter}`, { parameter: 'filter' });
        let values: string[];
        try {
          const parsed = JSON.parse(m[3]!) as unknown;
          values = (Array.isArray(parsed) ? parsed : [parsed]).map(String);
        } catch {
          throw failure(400, 'invalid', 'Invalid input.', `Invalid filter value: ${m[3]}`, { parameter: 'filter' });
        }
        const field = m[2] as 'id' | 'email' | 'phone_number' | 'external_id';
        list = list.filter((p) => p[field] !== null && values.some((v) => (field === 'email' ? v.toLowerCase() === p.email!.toLowerCase() : v === p[field])));
      }
      const { slice, links } = page(list, query, path);
      return { status: 200, body: { data: slice.map(profileResource), links } };
    },
    bulk_import_profiles: ({ body, at }) => {
      const records = (((body.data as Json).attributes as Json).profiles as Json).data as Json[];
      if (records.length > 10_000) throw invalid('A job accepts up to 10,000 profiles.', '/data/attributes/profiles/data');
      const job: FakeImportJob = { id: randomUUID().replace(/-/g, ''), status: 'queued', createdAt: at, completedAt: null, records, polls: 0, profileIds: [], errors: [] };
      state.jobs.set(job.id, job);
      return { status: 202, body: { data: jobResource(job) } };
    },
    get_bulk_import_profiles_job: ({ params, at }) => {
      const job = jobOf(params.job_id!);
      if (job.status !== 'complete' && job.status !== 'cancelled') {
        if (job.polls >= pollsBeforeComplete) runJob(job, at);
        else job.status = 'processing';
        job.polls++;
      }
      return { status: 200, body: { data: jobResource(job) } };
    },
    get_errors_for_bulk_import_profiles_job: ({ params, query, path }) => {
      const job = jobOf(params.id!);
      const { slice, links } = page(job.errors, query, path);
      return {
        status: 200,
        body: {
          data: slice.map((e, i) => ({
            type: 'import-error',
            id: `${job.id}-${i}-${e.pointer}`,
            attributes: { code: e.code, title: e.title, detail: e.detail, source: { pointer: e.pointer }, original_payload: e.originalPayload },
          })),
          links,
        },
      };
    },
    get_profile_ids_for_bulk_import_profiles_job: ({ params, query, path }) => {
      const job = jobOf(params.id!);
      const { slice, links } = page(job.profileIds, query, path);
      return { status: 200, body: { data: slice.map((id) => ({ type: 'profile', id })), links } };
    },
    bulk_create_events: ({ body, now, at }) => {
      const entries = (((body.data as Json).attributes as Json)['events-bulk-create'] as Json).data as Json[];
      const count = entries.reduce((n, e) => n + (((e.attributes as Json).events as Json).data as Json[]).length, 0);
      if (count > 1000) throw invalid('Accepts up to 1,000 events per request.', '/data/attributes/events-bulk-create/data');
      entries.forEach((entry, i) => {
        const base = `/data/attributes/events-bulk-create/data/${i}`;
        const attrs = entry.attributes as Json;
        checkEventProfile((attrs.profile as Json).data as Json, `${base}/attributes/profile/data`);
        ((attrs.events as Json).data as Json[]).forEach((ev, j) => checkEvent(ev.attributes as Json, `${base}/attributes/events/data/${j}`, now));
      });
      for (const entry of entries) {
        const attrs = entry.attributes as Json;
        for (const ev of (attrs.events as Json).data as Json[]) storeEvent((attrs.profile as Json).data as Json, ev.attributes as Json, attrs.backfill === true, at);
      }
      return { status: 202 };
    },
    create_event: ({ body, now, at }) => {
      const attrs = (body.data as Json).attributes as Json;
      checkEventProfile((attrs.profile as Json).data as Json, '/data/attributes/profile/data');
      checkEvent(attrs, '/data', now);
      storeEvent((attrs.profile as Json).data as Json, attrs, false, at);
      return { status: 202 };
    },
    request_profile_deletion: ({ body }) => {
      const data = (((body.data as Json).attributes as Json).profile as Json).data as Json;
      const attrs = (data.attributes ?? {}) as Json;
      const given: { id?: string; email?: string; phone_number?: string } = {};
      if (typeof data.id === 'string' && data.id) given.id = data.id;
      if (typeof attrs.email === 'string' && attrs.email) given.email = attrs.email;
      if (typeof attrs.phone_number === 'string' && attrs.phone_number) given.phone_number = attrs.phone_number;
      if (Object.keys(given).length !== 1) {
        throw invalid('Exactly one profile identifier is required: id, email or phone_number.', '/data/attributes/profile/data');
      }
      const doomed = [...profiles.values()].filter(
        (p) => p.id === given.id || (given.email && p.email?.toLowerCase() === given.email.toLowerCase()) || (given.phone_number && p.phone_number === given.phone_number),
      );
      for (const p of doomed) {
        profiles.delete(p.id);
        for (let i = events.length - 1; i >= 0; i--) if (events[i]!.profileId === p.id) events.splice(i, 1);
      }
      state.deletions.push({ ...given, deleted: doomed.map((p) => p.id) });
      return { status: 202 };
    },
  };

  function admit(req: IncomingMessage, op: KlaviyoOperation, now: number): Record<string, string> {
    const auth = req.headers.authorization;
    if (!auth) throw failure(401, 'not_authenticated', 'Authentication credentials were not provided.', 'Missing or invalid private key.');
    if (auth.startsWith('Bearer ')) {
      const token = accessTokens.get(auth.slice(7));
      if (!options.oauth || !token || token.expiresAt <= Date.now()) {
        throw failure(401, 'authentication_failed', 'Incorrect authentication credentials.', 'The access token is invalid or has expired.');
      }
    } else if (revoked || auth !== `Klaviyo-API-Key ${apiKey}`) {
      throw failure(401, 'authentication_failed', 'Incorrect authentication credentials.', 'Missing or invalid private key.');
    }
    const revision = req.headers.revision;
    if (typeof revision !== 'string') throw failure(400, 'invalid', 'Invalid input.', 'The revision header is required.', { parameter: 'revision' });
    if (revision !== op.revision) {
      throw failure(400, 'invalid', 'Invalid input.', `This fake knows revision ${op.revision} only, not ${revision}.`, { parameter: 'revision' });
    }
    const throttle = take(throttles, op.id);
    if (throttle) throw throttled(throttle.retryAfter, {});
    const fail = take(failures, op.id);
    if (fail) throw failure(fail.status, 'error', 'A server error occurred.', 'A server error occurred.');
    return limit(op, now);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const parsedUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    if (method === 'POST' && (parsedUrl.pathname === '/oauth/token' || parsedUrl.pathname === '/oauth/revoke')) {
      const answer = oauthEndpoint(parsedUrl.pathname, req, raw);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    const authHeader = req.headers.authorization ?? '';
    const record: RecordedKlaviyoRequest = {
      operation: null,
      method,
      path: parsedUrl.pathname,
      status: 0,
      body: undefined,
      auth: authHeader.startsWith('Bearer ') ? 'bearer' : authHeader.startsWith('Klaviyo-API-Key ') ? 'api_key' : null,
    };
    state.requests.push(record);
    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      let matched: { op: KlaviyoOperation; params: Record<string, string> } | undefined;
      for (const op of ops) {
        const m = op.method === method ? op.pattern.exec(parsedUrl.pathname) : null;
        if (m) matched = { op, params: { ...(m.groups ?? {}) } };
      }
      if (!matched) throw failure(404, 'not_found', 'Not found.', `No operation ${method} ${parsedUrl.pathname} in this fake.`);
      const { op, params } = matched;
      record.operation = op.id;
      state.calls[op.id] = (state.calls[op.id] ?? 0) + 1;
      headers = admit(req, op, now);
      let parsed: unknown;
      if (op.request) {
        try {
          parsed = raw.length > 0 ? JSON.parse(raw) : undefined;
        } catch {
          throw failure(400, 'parse_error', 'Malformed request.', 'JSON parse error.');
        }
        record.body = parsed;
        if (parsed === undefined || !op.request(parsed)) {
          const errs = op.request.errors ?? [];
          throw new KlaviyoFailure(
            400,
            (errs.length > 0 ? errs : [null]).slice(0, 10).map((e) => ({
              id: randomUUID(),
              status: 400,
              code: 'invalid',
              title: 'Invalid input.',
              detail: e ? detailOf(e) : 'A request body is required.',
              source: { pointer: e ? pointerOf(e) : '/data' },
            })),
          );
        }
      }
      const answer = handlers[op.id]({ body: (parsed ?? {}) as Json, params, query: parsedUrl.searchParams, path: parsedUrl.pathname, now, at });
      status = answer.status;
      body = answer.body;
      if (!op.responses.has(status)) throw new Error(`fake Klaviyo: ${op.id} answered ${status}, which its spec does not document`);
      const check = op.responses.get(status);
      if (check && !check(body)) {
        throw new Error(`fake Klaviyo: ${op.id} answered off its spec: ${JSON.stringify(check.errors?.slice(0, 3))}`);
      }
    } catch (e) {
      if (e instanceof KlaviyoFailure) {
        status = e.status;
        body = { errors: e.errors };
        headers = { ...headers, ...e.headers };
      } else {
        console.error('fake Klaviyo: handler crashed', e);
        status = 500;
        body = { errors: [{ id: randomUUID(), status: 500, code: 'error', title: 'Fake crashed.', detail: e instanceof Error ? e.message : String(e), source: {} }] };
      }
    }
    record.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...headers, ...(text ? { 'Content-Type': 'application/vnd.api+json' } : {}) });
    res.end(text);
  }

  /**
   * Klaviyo's token and revoke endpoints (RFC 6749 / 7636 / 7009 as Klaviyo's OAuth guide uses them): form-encoded,
   * the client authenticated with HTTP Basic (`client_id:client_secret`); errors as `{error, error_description}`.
   */
  function oauthEndpoint(path: '/oauth/token' | '/oauth/revoke', req: IncomingMessage, raw: string): { status: number; body: Json } {
    const form = new URLSearchParams(raw);
    const grantType = path === '/oauth/token' ? form.get('grant_type') : null;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, ...secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const clientAuthenticated = Boolean(options.oauth && id === options.oauth.clientId && secret.join(':') === options.oauth.clientSecret);
    const record: RecordedTokenRequest = { path, grantType, clientAuthenticated, status: 200, error: null };
    state.oauth.tokenRequests.push(record);
    const refuse = (status: number, error: string, description: string) => {
      record.status = status;
      record.error = error;
      return { status, body: { error, error_description: description } };
    };
    if (!options.oauth) return refuse(404, 'not_found', 'No OAuth app on this fake.');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return refuse(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    }
    if (!clientAuthenticated) return refuse(401, 'invalid_client', 'Client authentication failed.');
    const ttl = options.oauth.accessTokenTtlSeconds ?? 3600;
    const issue = (refreshToken: string, scope: string) => {
      const accessToken = `kat_${randomBytes(24).toString('base64url')}`;
      accessTokens.set(accessToken, { expiresAt: Date.now() + ttl * 1000, refreshToken });
      return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, refresh_token: refreshToken, scope } };
    };
    const newRefreshToken = (scope: string) => {
      const t = `krt_${randomBytes(24).toString('base64url')}`;
      refreshTokens.set(t, { active: true, scope });
      return t;
    };
    if (path === '/oauth/revoke') {
      const token = form.get('token');
      if (!token) return refuse(400, 'invalid_request', 'token is required.');
      const r = refreshTokens.get(token);
      if (r) {
        r.active = false;
        state.oauth.revoked.push(token);
        for (const [t, a] of accessTokens) if (a.refreshToken === token) accessTokens.delete(t);
      }
      return { status: 200, body: {} };
    }
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!code || code.used || code.expiresAt <= Date.now()) return refuse(400, 'invalid_grant', 'The authorization code is invalid, expired or used.');
      code.used = true;
      if (form.get('redirect_uri') !== code.redirectUri) return refuse(400, 'invalid_grant', 'redirect_uri does not match the authorization request.');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse(400, 'invalid_request', 'code_verifier is required (43-128 characters).');
      const actual = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
      const expected = Buffer.from(code.challenge);
      if (code.method !== 'S256' || actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        return refuse(400, 'invalid_grant', 'The code_verifier does not match the code_challenge.');
      }
      return issue(newRefreshToken(code.scope), code.scope);
    }
    if (grantType === 'refresh_token') {
      const used = form.get('refresh_token') ?? '';
      const r = refreshTokens.get(used);
      if (!r || !r.active) return refuse(400, 'invalid_grant', 'The refresh token is invalid or revoked.');
      if (options.oauth.rotateRefreshTokens ?? true) {
        r.active = false;
        return issue(newRefreshToken(r.scope), r.scope);
      }
      return issue(used, r.scope);
    }
    return refuse(400, 'unsupported_grant_type', `grant_type ${grantType ?? '(none)'} is not supported.`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error('fake Klaviyo: request failed', e);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    state,
    controls: {
      revokeKey: () => {
        revoked = true;
      },
      throttleNext: (n, retryAfter, op) => {
        throttles.push({ left: n, retryAfter, op });
      },
      failNext: (n, status, op) => {
        failures.push({ left: n, status, op });
      },
      issueCode: ({ challenge, redirectUri, scope, challengeMethod }) => {
        const code = `kcode_${randomBytes(16).toString('base64url')}`;
        codes.set(code, { challenge, method: challengeMethod ?? 'S256', redirectUri, scope: scope ?? '', expiresAt: Date.now() + 5 * 60_000, used: false });
        return code;
      },
      expireAccessTokens: () => {
        for (const t of accessTokens.values()) t.expiresAt = 0;
      },
      refuseRefreshTokens: () => {
        for (const r of refreshTokens.values()) r.active = false;
      },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
