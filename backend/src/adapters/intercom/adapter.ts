import { Failures, sendJson, type JsonAnswer } from '../destinations/json-request';
import type { IntercomRegion } from '@stripe-hubspot-sync/contracts';
import {
  DestinationError,
  type DestinationAdapter,
  type DestinationAdapterInput,
  type DestinationEvent,
  type DestinationValue,
  type PropertyDefinition,
  type ProfileWrite,
  type RecordResult,
  type DestinationTraits,
  removalChoices,
} from '../../domain/destinations/port';

/**
 * The Intercom destination: Stripe customers become Intercom contacts of role `user` (`external_id` = the Stripe
 * customer id), computed facts become custom contact data attributes, and the product's events become Intercom data
 * events (`POST /events`). Targets Intercom REST API version 2.14 (sent as `Intercom-Version` on every call; its
 * OpenAPI document is `specs/intercom/api.intercom.io-2.14.yaml`).
 *
 * Over Intercom's documented REST API with `fetch` rather than the `intercom-client` SDK: no new dependency was
 * added this session, and the raw answers give the rate-limit headers (`X-RateLimit-Remaining`/`-Reset`) the shared
 * pacer needs, a per-call timeout, and the 409's body (the existing contact's id).
 *
 * Limits: Intercom's default is 10,000 calls per minute per app (25,000 per workspace for private apps), "distributed
 * into 10 second periods", i.e. 1,666 per 10 s. Every request takes a slot of the shared `workspace` bucket at 1,500
 * per 10 s: 90 % of the per-app figure, leaving room for the clock offset between our rolling windows and Intercom's
 * periods and for other users of the same token. An answer with `X-RateLimit-Remaining: 0`, or a 429, makes every
 * instance wait until `X-RateLimit-Reset`. There is no bulk contact endpoint: profiles are written one by one, a few
 * at a time, and the pacer keeps the sum under the budget. The token is sent only in the Authorization header and
 * never appears in a message.
 */

export const INTERCOM_API_VERSION = '2.14';

export type { IntercomRegion };

/** The API's base URL of a workspace's region (Intercom's documented servers). */
export function intercomRegionUrl(region: IntercomRegion): string {
  switch (region) {
    case 'us':
      return 'https://api.intercom.io';
    case 'eu':
      return 'https://api.eu.intercom.io';
    case 'au':
      return 'https://api.au.intercom.io';
  }
}

const WORKSPACE_BUCKET = 'workspace';
const PERIOD_MS = 10_000;
const WORKSPACE_LIMITS = [{ count: 1500, windowMs: PERIOD_MS }] as const;
/** What Intercom holds and how it is written, as the destination port declares it. */
export const INTERCOM_TRAITS = {
  kind: 'intercom',
  holds: {
    profile: 'contact (user, external_id: the customer id)',
    properties: 'declared',
    events: 'data event',
    removal: removalChoices('intercom'),
    records: [],
  },
  identity: ['stored_id', 'customer_id', 'email'],
  maxProfilesPerCall: 50,
  maxEventsPerCall: 50,
  rateBudget: WORKSPACE_LIMITS.map((l) => ({ bucket: WORKSPACE_BUCKET, ...l, per: 'Intercom workspace' })),
} as const satisfies DestinationTraits;
/** The wait after a 429 that names no reset time: one period. */
const DEFAULT_PENALTY_MS = PERIOD_MS;
/** Bounds of a wait taken from `X-RateLimit-Reset` (unix seconds on Intercom's clock, which may differ from ours). */
const MIN_PENALTY_MS = 250;
const MAX_PENALTY_MS = PERIOD_MS + 1000;
/** Attempts of one request on a 429 before the call fails `rate_limited`. */
const RATE_LIMIT_ATTEMPTS = 3;
/** Attempts of one request on a 5xx, a timeout or a network failure before it fails `retryable`. */
const FAILURE_ATTEMPTS = 3;
const FAILURE_BACKOFF_MS = 200;
/** Profiles or events of one call in flight at once (each profile takes 1–3 requests; the pacer keeps the rate). */
const CONCURRENCY = 8;
/** Intercom keeps the first 10 metadata keys of an event and ignores the rest. */
const MAX_METADATA_KEYS = 10;

/** ISO 4217 minor units that are not 2, for Intercom's monetary amounts ("amount in cents"). */
const MINOR_UNITS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

type IntercomType = 'string' | 'integer' | 'float' | 'boolean' | 'date';
const DATA_TYPES: Record<PropertyDefinition['type'], IntercomType> = { string: 'string', number: 'float', boolean: 'boolean', date: 'date' };

interface Answer {
  status: number;
  body: unknown;
}
interface Contact {
  id: string;
  external_id: string | null;
  role: string;
  email: string | null;
}

/** A per-record refusal found midway (thrown inside one record's work, turned into its result). */
class RecordRefusal extends Error {}

export function createIntercomAdapter(input: DestinationAdapterInput): DestinationAdapter {
  const root = `${input.baseUrl.replace(/\/+$/, '')}/`;
  const timeoutMs = input.timeoutMs ?? 30_000;
  const { pacer } = input;
  // An access token pasted by the merchant, or one from "Connect with Intercom" (OAuth): Intercom's OAuth tokens do not
  // expire and cannot be refreshed, so a refused one is never retried here; the destination is broken until reconnected.
  const { oauth } = input;
  const tokenOf = oauth ? () => oauth.accessToken() : async () => input.apiKey;
  /** Contact data attributes' types by name, learned from the list (once per adapter) or from `ensureProperties`. */
  const types = new Map<string, IntercomType>();
  let listed: Promise<void> | null = null;

  const penaltyFrom = (res: Response): number | null => {
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (!Number.isFinite(reset) || reset <= 0) return null;
    return Math.min(MAX_PENALTY_MS, Math.max(MIN_PENALTY_MS, reset * 1000 - Date.now()));
  };

  async function request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: { body?: unknown; query?: Record<string, string> } = {}): Promise<Answer> {
    const url = new URL(path, root);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const what = `${method} ${url.pathname}`;
    let throttled = 0;
    const failures = new Failures('Intercom', what, { attempts: FAILURE_ATTEMPTS, backoffMs: FAILURE_BACKOFF_MS, timeoutMs });
    for (;;) {
      await pacer.acquire(WORKSPACE_BUCKET, WORKSPACE_LIMITS);
      const token = await tokenOf();
      let answer: JsonAnswer;
      try {
        answer = await sendJson(url, { method, token, body: opts.body, headers: { 'intercom-version': INTERCOM_API_VERSION }, timeoutMs });
      } catch (err) {
        await failures.noAnswer(err);
        continue;
      }
      const { res, body } = answer;
      if (res.status === 401 || res.status === 403) {
        const again = oauth ? '; the app may have been uninstalled from the workspace: connect Intercom again' : '';
        throw new DestinationError('connection', `Intercom refused the access token (${res.status}): ${messageOf(body) ?? 'Access Token Invalid'}${again}`, { status: res.status });
      }
      if (res.status === 429) {
        const wait = penaltyFrom(res) ?? DEFAULT_PENALTY_MS;
        await pacer.penalize(WORKSPACE_BUCKET, wait);
        if (++throttled >= RATE_LIMIT_ATTEMPTS) {
          throw new DestinationError('rate_limited', `Intercom ${what}: rate limit exceeded (429) ${throttled} times: ${messageOf(body) ?? 'Too Many Requests'}`, {
            retryAfterMs: wait,
            status: 429,
          });
        }
        continue;
      }
      if (res.headers.get('x-ratelimit-remaining') === '0') await pacer.penalize(WORKSPACE_BUCKET, penaltyFrom(res) ?? DEFAULT_PENALTY_MS);
      if (res.status >= 500) {
        await failures.serverError(res.status, messageOf(body));
        continue;
      }
      return { status: res.status, body };
    }
  }

  const refused = (a: Answer, what: string) => new RecordRefusal(`Intercom refused ${what} (${a.status}): ${messageOf(a.body) ?? 'no message'}`);
  const ok2xx = (a: Answer) => a.status >= 200 && a.status < 300;

  /** Lists the contact data attributes (once per adapter unless `force`), recording each one's type. */
  async function listAttributes(force = false): Promise<Set<string>> {
    const names = new Set<string>();
    const run = async () => {
      const a = await request('GET', 'data_attributes', { query: { model: 'contact' } });
      const data = (a.body as { data?: unknown } | null)?.data;
      if (a.status !== 200 || !Array.isArray(data)) {
        throw new DestinationError('retryable', `Intercom could not list contact data attributes (${a.status}): ${messageOf(a.body) ?? 'unexpected answer'}`, { status: a.status });
      }
      for (const d of data as { name?: unknown; data_type?: unknown; custom?: unknown }[]) {
        const name = String(d.name);
        names.add(name);
        if (d.custom === true) types.set(name, String(d.data_type) as IntercomType);
      }
    };
    if (force) {
      await run();
      listed = Promise.resolve();
      return names;
    }
    listed ??= run().catch((err: unknown) => {
      listed = null;
      throw err;
    });
    await listed;
    return names;
  }

  /** Our values as Intercom's custom attributes expect them: dates as unix seconds, integers whole, text as text. */
  function customAttributes(props: Record<string, DestinationValue>): Record<string, string | number | boolean | null> {
    const out: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined) {
        out[k] = null;
        continue;
      }
      if (typeof v === 'number' && !Number.isFinite(v)) continue;
      switch (types.get(k)) {
        case 'date': {
          const s = typeof v === 'string' ? unixSeconds(v) : typeof v === 'number' ? Math.floor(v > 1e12 ? v / 1000 : v) : null;
          if (s !== null) out[k] = s;
          break;
        }
        case 'integer':
          out[k] = typeof v === 'number' ? Math.round(v) : v;
          break;
        case 'string':
          out[k] = typeof v === 'string' ? v : String(v);
          break;
        default:
          out[k] = v;
      }
    }
    return out;
  }

  async function findByExternalId(customerId: string): Promise<Contact | null> {
    const a = await request('GET', `contacts/find_by_external_id/${encodeURIComponent(customerId)}`);
    if (a.status === 404) return null;
    if (a.status !== 200) throw refused(a, `finding contact ${customerId}`);
    return a.body as Contact;
  }

  /** A user with this email that is free to take the customer id (none, or the same one). */
  async function findByEmail(email: string, customerId: string): Promise<Contact | null> {
    const a = await request('POST', 'contacts/search', { body: { query: { field: 'email', operator: '=', value: email } } });
    if (a.status !== 200) throw refused(a, `searching contact ${customerId} by email`);
    const data = ((a.body as { data?: unknown } | null)?.data ?? []) as Contact[];
    const users = data.filter((c) => c.role === 'user' && (c.external_id === null || c.external_id === customerId));
    return users.find((c) => c.external_id === customerId) ?? users[0] ?? null;
  }

  async function upsert(p: ProfileWrite): Promise<RecordResult> {
    const name = [p.firstName, p.lastName].filter((s): s is string => !!s).join(' ') || null;
    const fields: Record<string, unknown> = { external_id: p.customerId };
    if (p.email) fields.email = p.email;
    if (name !== null) fields.name = name;
    const custom = customAttributes(p.properties);
    if (Object.keys(custom).length > 0) fields.custom_attributes = custom;

    const update = async (id: string): Promise<Answer> => request('PUT', `contacts/${encodeURIComponent(id)}`, { body: fields });
    const done = (a: Answer, what: string): RecordResult => {
      if (!ok2xx(a)) throw refused(a, what);
      return { ok: true, externalId: String((a.body as { id?: unknown }).id) };
    };

    // The kept Intercom id first (one call); a contact gone since then is found again below.
    if (p.externalId) {
      const a = await update(p.externalId);
      if (a.status !== 404) return done(a, `updating contact ${p.customerId}`);
    }
    let found = await findByExternalId(p.customerId);
    if (!found && p.email) found = await findByEmail(p.email, p.customerId);
    if (!found && p.previousEmail && p.previousEmail !== p.email) found = await findByEmail(p.previousEmail, p.customerId);
    if (found) return done(await update(found.id), `updating contact ${p.customerId}`);

    const created = await request('POST', 'contacts', { body: { role: 'user', ...fields } });
    if (created.status !== 409) return done(created, `creating contact ${p.customerId}`);
    // Made meanwhile, or not yet visible to search: Intercom names the contact that matched.
    const id = /id=([A-Za-z0-9]+)/.exec(messageOf(created.body) ?? '')?.[1] ?? (await findByExternalId(p.customerId))?.id;
    if (!id) throw refused(created, `creating contact ${p.customerId}`);
    return done(await update(id), `updating contact ${p.customerId}`);
  }

  /** Runs `work` over `items` with bounded concurrency; a connection or rate-limit error stops the call and is thrown. */
  async function eachItem<T>(items: readonly T[], key: (t: T) => string, work: (t: T) => Promise<RecordResult>): Promise<Map<string, RecordResult>> {
    const results = new Map<string, RecordResult>();
    let next = 0;
    let stop: DestinationError | null = null;
    const worker = async () => {
      while (stop === null && next < items.length) {
        const item = items[next++]!;
        try {
          results.set(key(item), await work(item));
        } catch (err) {
          if (err instanceof RecordRefusal) {
            results.set(key(item), { ok: false, errorClass: 'record', message: err.message });
          } else if (err instanceof DestinationError && err.errorClass === 'retryable') {
            results.set(key(item), { ok: false, errorClass: 'retryable', message: err.message });
          } else {
            stop ??= err instanceof DestinationError ? err : new DestinationError('retryable', `Intercom: ${String(err)}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    if (stop) throw stop;
    return results;
  }

  function metadataOf(e: DestinationEvent): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (e.value !== null && e.currency) {
      const cents = Math.round(e.value * 10 ** (MINOR_UNITS[e.currency.toUpperCase()] ?? 2));
      // Intercom's monetary amount takes a positive integer of minor units; anything else goes as plain values.
      if (cents >= 1) out.amount = { amount: cents, currency: e.currency.toLowerCase() };
      else Object.assign(out, { value: e.value, currency: e.currency });
    } else if (e.value !== null) {
      out.value = e.value;
    }
    for (const [k, v] of Object.entries(e.properties)) {
      if (Object.keys(out).length >= MAX_METADATA_KEYS) break;
      if (v === null || v === undefined || k in out) continue;
      if (typeof v === 'number' && !Number.isFinite(v)) continue;
      // Intercom's metadata takes text and numbers (no booleans): a flag goes as its text.
      out[k] = typeof v === 'boolean' ? String(v) : v;
    }
    return out;
  }

  /** The contact of a customer for a removal: the kept id, else by external_id; null when there is none. */
  async function removal(profile: { customerId: string; externalId: string | null }, act: (id: string) => Promise<Answer>, what: string): Promise<RecordResult> {
    try {
      if (profile.externalId) {
        const a = await act(profile.externalId);
        if (ok2xx(a)) return { ok: true, externalId: null };
        if (a.status !== 404) throw refused(a, what);
      }
      const found = await findByExternalId(profile.customerId);
      // Gone already (deleted in Intercom, or never made): what was asked is done.
      if (!found) return { ok: true, externalId: null };
      const a = await act(found.id);
      if (ok2xx(a) || a.status === 404) return { ok: true, externalId: null };
      throw refused(a, what);
    } catch (err) {
      if (err instanceof RecordRefusal) return { ok: false, errorClass: 'record', message: err.message };
      throw err;
    }
  }

  return {
    ...INTERCOM_TRAITS,

    async check() {
      const a = await request('GET', 'me');
      const app = (a.body as { app?: { name?: unknown } | null } | null)?.app;
      if (a.status !== 200 || typeof app?.name !== 'string') {
        throw new DestinationError('retryable', `Intercom GET /me answered ${a.status}: ${messageOf(a.body) ?? 'no workspace name'}`, { status: a.status });
      }
      return { label: app.name };
    },

    async ensureProperties(definitions) {
      if (definitions.length === 0) return;
      const existing = await listAttributes(true);
      for (const d of definitions) {
        if (existing.has(d.name)) continue;
        const created = await request('POST', 'data_attributes', { body: { name: d.name, model: 'contact', data_type: DATA_TYPES[d.type] } });
        if (created.status !== 200) {
          throw new DestinationError('record', `Intercom refused to create the contact data attribute ${d.name} (${created.status}): ${messageOf(created.body) ?? 'no message'}`, {
            status: created.status,
          });
        }
        existing.add(d.name);
        types.set(d.name, DATA_TYPES[d.type]);
      }
    },

    async upsertProfiles(profiles) {
      // Values are written in the attributes' types: learn them once if `ensureProperties` did not run here.
      if (profiles.some((p) => Object.keys(p.properties).some((k) => !types.has(k)))) await listAttributes();
      return eachItem(profiles, (p) => p.customerId, upsert);
    },

    async sendEvents(events) {
      return eachItem(
        events,
        (e) => e.key,
        async (e: DestinationEvent) => {
          // Intercom identifies an event by the contact (its external id), the name and created_at, and ignores a
          // repeat with the same 202: sending one again after a lost answer lands it once.
          const body: Record<string, unknown> = { event_name: e.name, created_at: Math.floor(e.time), user_id: e.customerId, metadata: metadataOf(e) };
          if (e.email) body.email = e.email;
          const a = await request('POST', 'events', { body });
          if (ok2xx(a)) return { ok: true, externalId: null };
          throw refused(a, `event ${e.key}`);
        },
      );
    },

    async removeProfile(profile, how) {
      if (how === 'delete') {
        return removal(profile, (id) => request('DELETE', `contacts/${encodeURIComponent(id)}`), `deleting contact ${profile.customerId}`);
      }
      return removal(
        profile,
        (id) => request('PUT', `contacts/${encodeURIComponent(id)}`, { body: { unsubscribed_from_emails: true } }),
        `unsubscribing contact ${profile.customerId}`,
      );
    },
  };
}

function messageOf(body: unknown): string | null {
  if (body && typeof body === 'object') {
    const errors = (body as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors
        .map((e: { code?: unknown; message?: unknown }) => (typeof e.message === 'string' ? `${e.message}${typeof e.code === 'string' ? ` (${e.code})` : ''}` : String(e.code)))
        .join('; ');
    }
    const m = (body as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return null;
}

/** A date property as Intercom's date attributes take it: unix seconds (a bare `YYYY-MM-DD` is midnight UTC). */
function unixSeconds(v: string): number | null {
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

