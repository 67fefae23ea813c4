import { Failures, sendJson, type JsonAnswer } from '../destinations/json-request';
import {
  DestinationError,
  type DestinationAdapter,
  type DestinationAdapterInput,
  type DestinationEvent,
  type DestinationValue,
  type ProfileWrite,
  type PropertyDefinition,
  type RecordResult,
  type DestinationTraits,
  removalChoices,
} from '../../domain/destinations/port';
import type { DealStageKey } from '../../domain/crm/deal-stages';
import {
  ACCOUNT_KEY_FIELD,
  COLLECTION_MAX,
  CONTACT_EMAIL_MAX,
  CONTACT_KEY_FIELD,
  EVENT_FIELDS,
  EVENT_KEY_FIELD,
  EVENT_OBJECT,
  OPPORTUNITY_KEY_FIELD,
  OPPORTUNITY_STAGES,
  SALESFORCE_API_VERSION,
  contactLookupQueries,
  errorCodeOf,
  errorText,
  messageOf,
  missingFields,
  opportunityFields,
  parseLimitInfo,
  recordName,
  upsertResult,
  type Answer,
  type QueryResult,
  type SalesforceDescribe,
  type UpsertResult,
  type WantedField,
} from './shapes';

/**
 * The Salesforce destination: Stripe customers become Salesforce Contacts, upserted by the External ID field
 * `Stripe_Customer_Id__c` (the Stripe customer id) through sObject Collections (`PATCH
 * /services/data/vXX.X/composite/sobjects/Contact/Stripe_Customer_Id__c`, ≤ 200 records a call, `allOrNone: false`,
 * one UpsertResult per record); computed facts are the merchant's custom fields (API names ending in `__c`).
 *
 * Identity (docs/destinations.md, "Identity"): by the customer id, then by email. The customers of a call that were
 * never written (`externalId` null) and have an email are looked up first, in ONE SOQL query per call (`GET
 * /query?q=SELECT Id, Email, LastModifiedDate FROM Contact WHERE Stripe_Customer_Id__c = null AND Email IN (…) ORDER
 * BY LastModifiedDate DESC`, split only when it would outgrow the request URI or SOQL's 100,000 characters, pages
 * followed through `nextRecordsUrl`); each Contact found (emails compare case-insensitively, as in SOQL; when several
 * share the email, the most recently modified; the others are left alone) is adopted: ONE sObject Collections update
 * (`PATCH /composite/sobjects`, ≤ 200 a request) sets its `Stripe_Customer_Id__c`, so the upsert by external id then
 * updates it instead of making a duplicate. A Contact holding another customer id is never adopted. No query at all
 * when every customer of the call was written before.
 *
 * Accounts and Opportunities (docs/destinations.md, "Salesforce: Accounts and Opportunities"): a business customer
 * (a business name, or an email on a company domain: `companyTargetOf`) gets an Account upserted by its own
 * `Stripe_Customer_Id__c` (Name: the business name, else the domain; Website: the domain) BEFORE the Contacts, and
 * its Contact then carries `Account: {Stripe_Customer_Id__c}` (a relationship by external id: no read). Each
 * subscription (`desiredDeals`) is an Opportunity upserted by `Stripe_Subscription_Id__c` after the Contacts:
 * Name, StageName (`OPPORTUNITY_STAGES`), Amount (per month, major units), CloseDate, the currency in
 * `CurrencyIsoCode` when the org has multiple currencies (the describe shows the field), else in
 * `Stripe_Currency__c` when the org has that field, `Account` and `Contact` (the primary contact, `ContactId`) by
 * external id. Salesforce lets `ContactId` be set only when an Opportunity is created: when the describe says it
 * is not updateable, an Opportunity the destination's memo knows it wrote is sent without it, and those Salesforce
 * answers `INVALID_FIELD_FOR_INSERT_UPDATE` on it (they existed: written before a restart, or by someone else) are
 * sent again without it, in one more collection call. Every upsert batches across the customers of the call
 * (≤ 200 records a request); describes are kept for 10 minutes across the passes of one destination (its memo) and
 * read again before anything is refused for a missing field. A refused Account or Opportunity makes
 * its customer's result a `record` error naming it (the Contact is still written), so the pusher dead-letters it.
 *
 * A small `fetch` client over Salesforce's documented REST API (no jsforce: its current major needs Node 22).
 * `input.baseUrl` is the org's instance URL; the access token is `input.apiKey`, or comes from
 * `opts.accessToken()` / `input.oauth` (the OAuth web-server flow with refresh tokens is slotted in there: on a 401
 * the adapter asks `onUnauthorized` / `oauth.refreshAfter` once for a new token and retries; without one, or when
 * the new token is refused too, the call fails `connection`).
 *
 * Fields: Salesforce custom fields are created by an admin (Setup → Object Manager) or a Metadata/Tooling API setup
 * step, which is out of scope here: `check()` and `ensureProperties()` read the object's describe and fail
 * `connection` naming exactly the fields the org lacks, so the merchant knows what to add before anything is sent.
 *
 * Events: Salesforce has no event stream in this design. Each event is a record of the custom object
 * `Stripe_Payment__c`, upserted by its External ID field `Stripe_Event_Key__c` (the event's key, so a repeat never
 * makes a second record) in collections of 200, carrying `Name` (the event's name, with the movement's label for a
 * revenue movement: `Revenue Movement: Upgrade`, so a list view tells them apart), `Stripe_Customer_Id__c`,
 * `Amount__c`, `Currency__c`, `Occurred_At__c`. An org without that object answers each event a `record` error
 * saying so (the contact itself is still written).
 *
 * Budget: the org's API requests are a rolling 24-hour allowance shared with every other integration. Every
 * answer's `Sforce-Limit-Info: api-usage=N/M` is read; the adapter never spends the last 10%: once an answer shows
 * usage at 90% it penalizes the shared `org` bucket (every instance waits) and further calls fail `rate_limited`
 * until the wait has passed, when one request probes again. A 403 `REQUEST_LIMIT_EXCEEDED` does the same with a
 * longer wait. 5xx, timeouts and network failures are retried (3 attempts) before failing `retryable`.
 */

const ORG_BUCKET = 'org';
/** Salesforce sets no per-second rate on REST calls (it limits the daily total and long-running concurrency): a gentle cap. */
const ORG_LIMITS = [{ count: 25, windowMs: 1000 }] as const;
const FAILURE_ATTEMPTS = 3;

/** What Salesforce holds and how it is written, as the destination port declares it. */
export const SALESFORCE_TRAITS = {
  kind: 'salesforce',
  holds: {
    profile: 'Contact (Stripe_Customer_Id__c)',
    properties: 'declared',
    events: 'Stripe_Payment__c record (Stripe_Event_Key__c)',
    removal: removalChoices('salesforce'),
    records: ['Account', 'Opportunity'],
  },
  identity: ['customer_id', 'email'],
  maxProfilesPerCall: COLLECTION_MAX,
  maxEventsPerCall: COLLECTION_MAX,
  rateBudget: ORG_LIMITS.map((l) => ({ bucket: ORG_BUCKET, ...l, per: 'Salesforce org' })),
} as const satisfies DestinationTraits;

export interface SalesforceAdapterOptions {
  /** Where the access token comes from (default: `input.oauth`, else `input.apiKey`). */
  accessToken?: () => Promise<string>;
  /** Called once when a token is refused (401); the next `accessToken()` is used for one retry. */
  onUnauthorized?: (rejected: string) => Promise<void>;
  apiVersion?: string;
  /** Share of the daily allowance never spent. Default 0.1. */
  reserveFraction?: number;
  /** Wait after reaching the reserve before one request probes again (ms). Default 15 minutes. */
  reserveWaitMs?: number;
  /** Wait after a 403 REQUEST_LIMIT_EXCEEDED (ms). Default 1 hour. */
  limitExceededWaitMs?: number;
  /** Backoff unit between attempts after a 5xx or a network failure (ms). Default 200. */
  failureBackoffMs?: number;
  /** What is written besides Contacts (default: all). Off: not asked of the pusher, not required by `check()`. */
  objects?: { accounts?: boolean; opportunities?: boolean; events?: boolean };
  /** Stage values to use instead of `OPPORTUNITY_STAGES` (an org with its own sales process). */
  stages?: Partial<Record<DealStageKey, string>>;
  /**
   * Describes kept across adapter instances of one org (the pusher makes an instance per pass), for
   * `describeTtlMs` (default 10 minutes). A describe that lacks what is wanted is read again before anything is
   * refused, so a field an admin just added is seen at the next pass.
   */
  describeCache?: SalesforceDescribeCache;
  describeTtlMs?: number;
}

/** Subscription keys whose Opportunity a destination's memo remembers as written (beyond: forgotten, then relearned). */
const WRITTEN_OPPORTUNITIES_KEPT = 50_000;

/** Describes of one org by object, with when they were read (ms since epoch). */
export type SalesforceDescribeCache = Map<string, { at: number; describe: SalesforceDescribe | null }>;

/** What a destination's memo keeps under `key` (see `DestinationAdapterInput.memo`); without a memo, this pass's own. */
function memoEntry<T>(memo: Map<string, unknown> | undefined, key: string, make: () => T): T {
  if (!memo) return make();
  let v = memo.get(key) as T | undefined;
  if (v === undefined) memo.set(key, (v = make()));
  return v;
}

/** The describe cache kept in a destination's memo. */
function describeCacheOf(memo: Map<string, unknown> | undefined): SalesforceDescribeCache | undefined {
  return memo ? memoEntry<SalesforceDescribeCache>(memo, 'salesforce:describes', () => new Map()) : undefined;
}

/** The Salesforce adapter: the destination port, under its own kind (not yet one of the contracts' kinds). */
export type SalesforceDestinationAdapter = Omit<DestinationAdapter, 'kind'> & { readonly kind: 'salesforce' };

export function createSalesforceAdapter(input: DestinationAdapterInput, opts: SalesforceAdapterOptions = {}): SalesforceDestinationAdapter {
  const instance = input.baseUrl.replace(/\/+$/, '');
  const version = opts.apiVersion ?? SALESFORCE_API_VERSION;
  const root = `${instance}/services/data/${version}`;
  const timeoutMs = input.timeoutMs ?? 30_000;
  const { pacer } = input;
  const reserveFraction = opts.reserveFraction ?? 0.1;
  const reserveWaitMs = opts.reserveWaitMs ?? 15 * 60_000;
  const limitExceededWaitMs = opts.limitExceededWaitMs ?? 60 * 60_000;
  const backoffMs = opts.failureBackoffMs ?? 200;
  const tokenOf: () => Promise<string> = opts.accessToken ?? (input.oauth ? () => input.oauth!.accessToken() : async () => input.apiKey);
  const onUnauthorized: ((rejected: string) => Promise<void>) | null =
    opts.onUnauthorized ?? (input.oauth ? async (rejected) => void (await input.oauth!.refreshAfter(rejected)) : null);

  /** This instance's latest reading of the allowance, and until when it does not spend (ms since epoch). */
  let usage: { used: number; max: number } | null = null;
  let holdUntil = 0;
  /** Field types by object, from describes (values are shaped to them: a date field takes `YYYY-MM-DD`). */
  const fieldTypes = new Map<string, Map<string, string>>();

  const reserveOf = (max: number) => Math.ceil(max * reserveFraction);
  const inReserve = (u: { used: number; max: number }) => u.used >= u.max - reserveOf(u.max);
  const reserveError = () => {
    const u = usage ? ` (${usage.used}/${usage.max} used)` : '';
    return new DestinationError('rate_limited', `Salesforce: the org's daily API allowance is down to its reserve${u}; the last ${Math.round(reserveFraction * 100)}% is left to the org's other integrations`, {
      retryAfterMs: Math.max(1000, holdUntil - Date.now()),
    });
  };

  async function hold(waitMs: number) {
    holdUntil = Math.max(holdUntil, Date.now() + waitMs);
    await pacer.penalize(ORG_BUCKET, waitMs);
  }

  async function request(method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<Answer> {
    const what = `${method} ${path}`;
    const failures = new Failures('Salesforce', what, { attempts: FAILURE_ATTEMPTS, backoffMs, timeoutMs });
    let reauthorized = false;
    for (;;) {
      if (Date.now() < holdUntil) throw reserveError();
      await pacer.acquire(ORG_BUCKET, ORG_LIMITS);
      const token = await tokenOf();
      let answer: JsonAnswer;
      try {
        answer = await sendJson(`${root}${path}`, { method, token, body, timeoutMs });
      } catch (err) {
        await failures.noAnswer(err);
        continue;
      }
      const { res, body: parsed } = answer;
      const limit = parseLimitInfo(res.headers.get('sforce-limit-info'));
      if (limit) {
        usage = limit;
        if (inReserve(limit)) await hold(reserveWaitMs);
      }
      const code = errorCodeOf(parsed);
      if (res.status === 401) {
        if (onUnauthorized && !reauthorized) {
          reauthorized = true;
          await onUnauthorized(token);
          continue;
        }
        throw new DestinationError('connection', `Salesforce refused the access token (401 ${code ?? ''}): ${messageOf(parsed) ?? 'Session expired or invalid'}`.replace(' )', ')'), { status: 401 });
      }
      if (res.status === 403 && code === 'REQUEST_LIMIT_EXCEEDED') {
        await hold(limitExceededWaitMs);
        throw new DestinationError('rate_limited', `Salesforce ${what}: the org's daily API allowance is spent (403 REQUEST_LIMIT_EXCEEDED: ${messageOf(parsed) ?? 'TotalRequests Limit exceeded.'})`, {
          retryAfterMs: limitExceededWaitMs,
          status: 403,
        });
      }
      if (res.status === 403) {
        // API access disabled for the org or the user's profile, or an insufficient permission: the merchant must act.
        throw new DestinationError('connection', `Salesforce refused ${what} (403 ${code ?? ''}): ${messageOf(parsed) ?? 'forbidden'}`, { status: 403 });
      }
      if (res.status >= 500) {
        await failures.serverError(res.status, messageOf(parsed));
        continue;
      }
      return { status: res.status, body: parsed };
    }
  }

  /**
   * Describes, read once per adapter instance (a pass), or taken from the org's shared cache while fresh: the
   * object's fields, or null when the org has no such object. `reused` are those taken from the cache.
   */
  const describes = new Map<string, Promise<SalesforceDescribe | null>>();
  const reused = new Set<string>();
  const shared = opts.describeCache ?? describeCacheOf(input.memo);
  /** Opportunities this destination wrote (kept in its memo across passes): they exist, so no ContactId for them. */
  const written: Set<string> = memoEntry(input.memo, 'salesforce:opportunities', () => new Set<string>());
  const ttlMs = opts.describeTtlMs ?? 10 * 60_000;
  function describe(object: string): Promise<SalesforceDescribe | null> {
    let d = describes.get(object);
    if (!d) {
      const cached = shared?.get(object);
      if (cached && Date.now() - cached.at < ttlMs) {
        reused.add(object);
        if (cached.describe) fieldTypes.set(object, new Map(cached.describe.fields.map((f) => [f.name, f.type])));
        d = Promise.resolve(cached.describe);
      } else {
        d = describeNow(object);
        d.then((v) => shared?.set(object, { at: Date.now(), describe: v })).catch(() => describes.delete(object));
      }
      describes.set(object, d);
    }
    return d;
  }
  /** Reads again the describes taken from the cache among `objects`: true when there were any. */
  function refresh(objects: readonly string[]): boolean {
    const stale = objects.filter((o) => reused.has(o));
    for (const o of stale) {
      reused.delete(o);
      describes.delete(o);
      shared?.delete(o);
    }
    return stale.length > 0;
  }

  async function describeNow(object: string): Promise<SalesforceDescribe | null> {
    const a = await request('GET', `/sobjects/${object}/describe`);
    if (a.status === 404) return null;
    const d = a.body as SalesforceDescribe | null;
    if (a.status !== 200 || !d || !Array.isArray(d.fields)) {
      throw new DestinationError('retryable', `Salesforce could not describe ${object} (${a.status}): ${messageOf(a.body) ?? 'unexpected answer'}`, { status: a.status });
    }
    fieldTypes.set(object, new Map(d.fields.map((f) => [f.name, f.type])));
    return d;
  }

  /**
   * What the org lacks of each object, object by object in the order given: a missing key field as
   * `Stripe_Customer_Id__c (Text, External ID, Unique)`, one that is not an External ID as such, a missing object
   * as `the object itself (with …)`.
   */
  async function lacksOf(wanted: readonly { object: string; fields: readonly WantedField[] }[]): Promise<{ object: string; missing: string[] }[]> {
    const out: { object: string; missing: string[] }[] = [];
    for (const w of wanted) {
      const d = await describe(w.object);
      const keys = new Set(w.fields.filter((f) => f.externalId).map((f) => f.name));
      const label = (name: string) => (keys.has(name) ? `${name} (Text, External ID, Unique)` : name);
      if (!d) out.push({ object: w.object, missing: [`the object itself (with ${w.fields.map((f) => label(f.name)).join(', ')})`] });
      else {
        const missing = missingFields(d, w.fields).map((m) => (keys.has(m) ? label(m) : m));
        if (missing.length > 0) out.push({ object: w.object, missing });
      }
    }
    return out;
  }

  /** Fails `connection` with one message naming everything the org lacks, object by object. */
  async function requireFields(wanted: readonly { object: string; fields: readonly WantedField[] }[]): Promise<void> {
    let missing = await lacksOf(wanted);
    // A cached describe may predate an admin's fix: read those again before refusing.
    if (missing.length > 0 && refresh(missing.map((m) => m.object))) missing = await lacksOf(wanted);
    if (missing.length === 0) return;
    const count = missing.reduce((n, m) => n + m.missing.length, 0);
    throw new DestinationError(
      'connection',
      `Salesforce: the org lacks what the sync needs — ${missing.map((m) => `${m.object}: ${m.missing.join(', ')}`).join('; ')}. An admin adds ${count > 1 ? 'them' : 'it'} in Setup → Object Manager (the object → Fields & Relationships), then reconnects.`,
    );
  }

  /** A value as the field takes it: dates as `YYYY-MM-DD`, date-times as ISO 8601; null clears the field. */
  function fieldValue(object: string, name: string, v: DestinationValue): DestinationValue {
    if (v === null || v === undefined) return null;
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    const type = fieldTypes.get(object)?.get(name);
    if (typeof v === 'string' && type === 'date') {
      const t = Date.parse(v);
      return Number.isNaN(t) ? v : new Date(t).toISOString().slice(0, 10);
    }
    if (typeof v === 'string' && type === 'datetime') {
      const t = Date.parse(v);
      return Number.isNaN(t) ? v : new Date(t).toISOString();
    }
    return v;
  }

  /** Upserts records of `object` by `keyField` in collections of 200: one result per key. */
  async function upsertCollection(
    object: string,
    keyField: string,
    rows: { key: string; fields: Record<string, unknown> }[],
    /** Filled with each refused record's errors as Salesforce answered them. */
    refusals?: Map<string, NonNullable<UpsertResult['errors']>>,
  ): Promise<Map<string, RecordResult>> {
    const results = new Map<string, RecordResult>();
    for (let i = 0; i < rows.length; i += COLLECTION_MAX) {
      const chunk = rows.slice(i, i + COLLECTION_MAX);
      const a = await request('PATCH', `/composite/sobjects/${object}/${keyField}`, {
        allOrNone: false,
        records: chunk.map((r) => ({ attributes: { type: object }, ...r.fields, [keyField]: r.key })),
      });
      if (a.status === 200 && Array.isArray(a.body) && a.body.length === chunk.length) {
        chunk.forEach((r, j) => {
          const answer = (a.body as UpsertResult[])[j]!;
          results.set(r.key, upsertResult(answer, object, keyField, r.key));
          if (answer.success !== true) refusals?.set(r.key, answer.errors ?? []);
        });
        continue;
      }
      // The whole request was refused (a 400/404: a field or the object the org lacks, a malformed body): each record is.
      const message = `Salesforce refused the ${object} upsert (${a.status} ${errorCodeOf(a.body) ?? ''}): ${messageOf(a.body) ?? 'unexpected answer'}`;
      const errorClass = a.status >= 300 && a.status < 500 ? 'record' : 'retryable';
      for (const r of chunk) results.set(r.key, { ok: false, errorClass, message });
    }
    return results;
  }

  const accounts = opts.objects?.accounts ?? true;
  const opportunities = opts.objects?.opportunities ?? true;
  const events = opts.objects?.events ?? true;
  const stages: Record<DealStageKey, string> = { ...OPPORTUNITY_STAGES, ...opts.stages };

  /** Everything the org must hold for what is enabled, object by object. */
  const needed = (contactFields: readonly WantedField[]) => [
    { object: 'Contact', fields: [{ name: CONTACT_KEY_FIELD, externalId: true }, ...contactFields] },
    ...(accounts ? [{ object: 'Account', fields: [{ name: ACCOUNT_KEY_FIELD, externalId: true }] }] : []),
    ...(opportunities ? [{ object: 'Opportunity', fields: [{ name: OPPORTUNITY_KEY_FIELD, externalId: true }] }] : []),
    ...(events ? [{ object: EVENT_OBJECT, fields: [{ name: EVENT_KEY_FIELD, externalId: true }, ...EVENT_FIELDS.map((name) => ({ name }))] }] : []),
  ];

  /** The path under the API root of a `nextRecordsUrl` (`/services/data/vXX.X/query/01g…-2000`). */
  function pathOfNext(url: unknown): string {
    const prefix = `/services/data/${version}/`;
    if (typeof url !== 'string' || !url.startsWith(prefix)) {
      throw new DestinationError('retryable', `Salesforce answered a query page without a usable nextRecordsUrl (${String(url)})`);
    }
    return url.slice(prefix.length - 1);
  }

  /**
   * Adopts, for the customers never written (`externalId` null) with an email, the Contact without a customer id that
   * has that email (case-insensitive; the most recently modified when several do): one query (more only when it
   * would not fit one request), then one collection update setting `Stripe_Customer_Id__c` on those found, so the
   * upsert by external id updates them. Answers the customers whose Contact must not be written now (the lookup or
   * their adoption was refused: writing would make the duplicate this avoids), by customer id.
   */
  async function adoptByEmail(profiles: readonly ProfileWrite[]): Promise<Map<string, RecordResult & { ok: false }>> {
    const held = new Map<string, RecordResult & { ok: false }>();
    /** The first customer of the call with each email (lower case): a Contact is adopted by one customer only. */
    const wanted = new Map<string, { profile: ProfileWrite; email: string }>();
    for (const p of profiles) {
      const email = p.externalId === null ? p.email?.trim() : undefined;
      if (!email || email.length > CONTACT_EMAIL_MAX) continue;
      const k = email.toLowerCase();
      if (!wanted.has(k)) wanted.set(k, { profile: p, email });
    }
    if (wanted.size === 0) return held;
    const holdAll = (errorClass: 'record' | 'retryable', message: string, which: Iterable<{ profile: ProfileWrite }>) => {
      for (const w of which) held.set(w.profile.customerId, { ok: false, errorClass, message });
    };

    /** The Contact to adopt for each email (lower case): the first row, as rows come most recently modified first. */
    const found = new Map<string, string>();
    for (const soql of contactLookupQueries([...wanted.values()].map((w) => w.email))) {
      let path = `/query?q=${encodeURIComponent(soql)}`;
      for (;;) {
        const a = await request('GET', path);
        const page = a.body as QueryResult | null;
        if (a.status !== 200 || !page || !Array.isArray(page.records)) {
          holdAll(
            a.status >= 400 && a.status < 500 ? 'record' : 'retryable',
            `Salesforce refused the lookup of existing Contacts by email (${a.status} ${errorCodeOf(a.body) ?? ''}): ${messageOf(a.body) ?? 'unexpected answer'}; the Contact is not written until the lookup succeeds (no duplicate is made)`,
            wanted.values(),
          );
          return held;
        }
        for (const r of page.records) {
          if (typeof r.Id !== 'string' || typeof r.Email !== 'string') continue;
          const k = r.Email.toLowerCase();
          if (wanted.has(k) && !found.has(k)) found.set(k, r.Id);
        }
        if (page.done !== false) break;
        path = pathOfNext(page.nextRecordsUrl);
      }
    }

    const adopt = [...wanted].filter(([k]) => found.has(k)).map(([k, w]) => ({ ...w, id: found.get(k)! }));
    for (let i = 0; i < adopt.length; i += COLLECTION_MAX) {
      const chunk = adopt.slice(i, i + COLLECTION_MAX);
      const a = await request('PATCH', '/composite/sobjects', {
        allOrNone: false,
        records: chunk.map((x) => ({ attributes: { type: 'Contact' }, id: x.id, [CONTACT_KEY_FIELD]: x.profile.customerId })),
      });
      if (a.status !== 200 || !Array.isArray(a.body) || a.body.length !== chunk.length) {
        holdAll(
          a.status >= 400 && a.status < 500 ? 'record' : 'retryable',
          `Salesforce refused adopting the Contacts found by email (${a.status} ${errorCodeOf(a.body) ?? ''}): ${messageOf(a.body) ?? 'unexpected answer'}; the Contact is not written until it succeeds (no duplicate is made)`,
          chunk,
        );
        continue;
      }
      chunk.forEach((x, j) => {
        const r = (a.body as UpsertResult[])[j]!;
        if (r.success === true) return;
        const errors = r.errors ?? [];
        // Another Contact already holds the customer id (a Unique key): the upsert updates that one. The Contact was
        // deleted meanwhile: the upsert makes a new one. Either way nothing is duplicated.
        if (errors.length > 0 && errors.every((e) => e.statusCode === 'DUPLICATE_VALUE' || e.statusCode === 'ENTITY_IS_DELETED')) return;
        held.set(x.profile.customerId, {
          ok: false,
          errorClass: 'record',
          message: `Salesforce refused adopting Contact ${x.id} (it has the customer's email ${x.email}): ${errors.map(errorText).join('; ') || 'no message'}; the Contact is not written until it succeeds (no duplicate is made)`,
        });
      });
    }
    return held;
  }

  /** The Accounts of the business customers among `profiles`: one result per customer id (absent: no company). */
  async function upsertAccounts(profiles: readonly ProfileWrite[]): Promise<Map<string, RecordResult>> {
    const rows = profiles
      .filter((p) => p.company)
      .map((p) => ({
        key: p.customerId,
        fields: { Name: p.company!.name.slice(0, 255), ...(p.company!.domain ? { Website: p.company!.domain } : {}) },
      }));
    return rows.length > 0 ? upsertCollection('Account', ACCOUNT_KEY_FIELD, rows) : new Map();
  }

  /** The Opportunities of these customers' subscriptions: the failures, by customer id. */
  async function upsertOpportunities(
    owners: readonly { profile: ProfileWrite; account: boolean }[],
  ): Promise<Map<string, RecordResult & { ok: false }>> {
    const failures = new Map<string, RecordResult & { ok: false }>();
    const subs = owners.flatMap((o) => (o.profile.subscriptions ?? []).map((sub) => ({ ...o, sub })));
    if (subs.length === 0) return failures;
    const d = await describe('Opportunity');
    const lacks = d ? missingFields(d, [{ name: OPPORTUNITY_KEY_FIELD, externalId: true }]) : ['the object itself'];
    if (lacks.length > 0) {
      const message = `Salesforce: Opportunity lacks ${lacks.join(', ')}; subscriptions are not written until an admin adds it (Text, External ID, Unique)`;
      for (const s of subs) failures.set(s.profile.customerId, { ok: false, errorClass: 'record', message });
      return failures;
    }
    const fields = new Map(d!.fields.map((f) => [f.name, f]));
    const contactField = fields.get('ContactId');
    const linkContact = contactField !== undefined && contactField.createable !== false;
    const rowOf = (s: (typeof subs)[number], withContact: boolean) => ({
      key: s.sub.key,
      fields: opportunityFields(s.sub, fields, stages, s.profile.customerId, { account: s.account, contact: withContact }),
    });
    const refusals = new Map<string, NonNullable<UpsertResult['errors']>>();
    // Those this destination already wrote exist: sent without ContactId at once (no refusal, no second call).
    const answered = await upsertCollection(
      'Opportunity',
      OPPORTUNITY_KEY_FIELD,
      subs.map((s) => rowOf(s, linkContact && !written.has(s.sub.key))),
      refusals,
    );
    // `ContactId` can be set only when an Opportunity is created: those that existed are sent again without it.
    const existed = linkContact && contactField.updateable === false
      ? subs.filter((s) => (refusals.get(s.sub.key) ?? []).some((e) => e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && (e.fields ?? []).includes('ContactId')))
      : [];
    if (existed.length > 0) {
      const again = await upsertCollection('Opportunity', OPPORTUNITY_KEY_FIELD, existed.map((s) => rowOf(s, false)));
      for (const [k, r] of again) answered.set(k, r);
    }
    if (written.size > WRITTEN_OPPORTUNITIES_KEPT) written.clear();
    for (const [k, r] of answered) if (r.ok) written.add(k);
    for (const s of subs) {
      const r = answered.get(s.sub.key) ?? { ok: false as const, errorClass: 'retryable' as const, message: 'No answer for this Opportunity' };
      if (r.ok) continue;
      const prior = failures.get(s.profile.customerId);
      const message = `subscription ${s.sub.key}: ${r.message}`;
      failures.set(s.profile.customerId, {
        ok: false,
        errorClass: prior?.errorClass === 'retryable' || r.errorClass === 'retryable' ? 'retryable' : 'record',
        message: prior ? `${prior.message}; ${message}` : message,
      });
    }
    return failures;
  }

  return {
    ...SALESFORCE_TRAITS,
    related: { subscriptions: opportunities, company: accounts },

    async check() {
      await requireFields(needed([{ name: 'Email' }, { name: 'LastName' }]));
      return { label: `Salesforce ${new URL(instance).host}` };
    },

    async ensureProperties(definitions: readonly PropertyDefinition[]) {
      await requireFields([{ object: 'Contact', fields: [{ name: CONTACT_KEY_FIELD, externalId: true }, ...definitions.map((d) => ({ name: d.name }))] }]);
    },

    async upsertProfiles(profiles: readonly ProfileWrite[]) {
      // Values are shaped to the fields' types (a date field takes YYYY-MM-DD): one describe per adapter instance.
      if (!fieldTypes.has('Contact') && profiles.some((p) => Object.values(p.properties).some((v) => typeof v === 'string'))) await describe('Contact');
      // Customers never written adopt the Contact that has their email; those whose lookup or adoption was refused
      // are not written now (a new Contact would be the duplicate this avoids).
      const held = await adoptByEmail(profiles);
      // Accounts first, so that Contacts (and Opportunities) can name theirs by external id.
      const accountResults = accounts ? await upsertAccounts(profiles) : new Map<string, RecordResult>();
      const contacts = await upsertCollection(
        'Contact',
        CONTACT_KEY_FIELD,
        profiles.filter((p) => !held.has(p.customerId)).map((p) => {
          const fields: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(p.properties)) fields[k] = fieldValue('Contact', k, v);
          if (p.email) fields.Email = p.email;
          if (p.firstName !== null) fields.FirstName = p.firstName;
          // LastName is required on a Contact: the customer id stands in while the name is unknown.
          fields.LastName = p.lastName && p.lastName.trim() !== '' ? p.lastName : p.customerId;
          if (accountResults.get(p.customerId)?.ok) fields.Account = { [ACCOUNT_KEY_FIELD]: p.customerId };
          return { key: p.customerId, fields };
        }),
      );
      const written = profiles.filter((p) => contacts.get(p.customerId)?.ok);
      const opportunityFailures = opportunities
        ? await upsertOpportunities(written.map((p) => ({ profile: p, account: accountResults.get(p.customerId)?.ok === true })))
        : new Map<string, RecordResult & { ok: false }>();
      const out = new Map<string, RecordResult>();
      for (const p of profiles) {
        const contact = held.get(p.customerId) ?? contacts.get(p.customerId) ?? { ok: false as const, errorClass: 'retryable' as const, message: 'No answer for this Contact' };
        const account = accountResults.get(p.customerId);
        const failures = [account && !account.ok ? account : null, opportunityFailures.get(p.customerId) ?? null].filter((f): f is RecordResult & { ok: false } => f !== null);
        if (!contact.ok || failures.length === 0) {
          out.set(p.customerId, contact);
          continue;
        }
        // The Contact is written; a related record is not: the customer is retried (or dead-lettered) for it.
        out.set(p.customerId, {
          ok: false,
          errorClass: failures.some((f) => f.errorClass === 'retryable') ? 'retryable' : 'record',
          message: failures.map((f) => f.message).join('; '),
        });
      }
      return out;
    },

    async sendEvents(events: readonly DestinationEvent[]) {
      if (events.length === 0) return new Map();
      const wanted = [{ name: EVENT_KEY_FIELD, externalId: true }, ...EVENT_FIELDS.map((name) => ({ name }))];
      let d = await describe(EVENT_OBJECT);
      let lacking = d ? missingFields(d, wanted) : [EVENT_OBJECT];
      if (lacking.length > 0 && refresh([EVENT_OBJECT])) {
        d = await describe(EVENT_OBJECT);
        lacking = d ? missingFields(d, wanted) : [EVENT_OBJECT];
      }
      if (lacking.length > 0) {
        const message = d
          ? `Salesforce: ${EVENT_OBJECT} lacks ${lacking.join(', ')}; events are not recorded until an admin adds ${lacking.length > 1 ? 'them' : 'it'}`
          : `Salesforce: the org has no ${EVENT_OBJECT} custom object; events are not recorded until an admin creates it (with ${EVENT_KEY_FIELD} as External ID)`;
        return new Map(events.map((e) => [e.key, { ok: false, errorClass: 'record', message } as RecordResult]));
      }
      const answered = await upsertCollection(
        EVENT_OBJECT,
        EVENT_KEY_FIELD,
        events.map((e) => ({
          key: e.key,
          fields: {
            Name: recordName(e).slice(0, 80),
            Stripe_Customer_Id__c: e.customerId,
            Amount__c: e.value,
            Currency__c: e.currency,
            Occurred_At__c: new Date(e.time * 1000).toISOString(),
          },
        })),
      );
      return new Map([...answered].map(([k, r]) => [k, r.ok ? { ok: true, externalId: null } : r]));
    },

    async removeProfile(profile) {
      return {
        ok: false,
        errorClass: 'record',
        message: `Salesforce records stay: contact ${profile.customerId} is neither deleted nor unsubscribed by the sync (a Salesforce user decides what becomes of it)`,
      };
    },
  };
}
