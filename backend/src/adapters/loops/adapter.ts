import { Failures, sendJson, type JsonAnswer } from '../destinations/json-request';
import { createHash } from 'node:crypto';
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
 * The Loops destination: Stripe customers become Loops contacts (`userId` = the Stripe customer id), computed facts
 * become custom contact properties, and the product's events go to `POST /v1/events/send`.
 *
 * Over Loops' documented HTTP API with `fetch` rather than the `loops` SDK (7.3.0): the SDK's `apiRoot` can be set,
 * but it hides the headers of a successful answer (`x-ratelimit-remaining`, which the shared pacer needs), takes no
 * abort signal (no per-call timeout) and turns a 429 into an error without the answer. Requests and answers follow
 * the shapes of Loops' OpenAPI document (`specs/loops/openapi.json`).
 *
 * Loops allows 10 requests per second per team: every request first takes a slot of the shared `team` bucket; an
 * answer saying none is left, or a 429, makes every instance wait a second. The API key is sent only in the
 * Authorization header and never appears in a message.
 */

const TEAM_BUCKET = 'team';
const TEAM_LIMITS = [{ count: 10, windowMs: 1000 }] as const;
/** What Loops holds and how it is written, as the destination port declares it. */
export const LOOPS_TRAITS = {
  kind: 'loops',
  holds: {
    profile: 'contact (userId: the customer id)',
    properties: 'declared',
    events: 'event (Idempotency-Key: the event key)',
    removal: removalChoices('loops'),
    records: [],
  },
  identity: ['customer_id', 'email'],
  maxProfilesPerCall: 50,
  maxEventsPerCall: 50,
  rateBudget: TEAM_LIMITS.map((l) => ({ bucket: TEAM_BUCKET, ...l, per: 'Loops team' })),
} as const satisfies DestinationTraits;
/** Loops' rate window: the wait after a 429 or when no request is left. */
const PENALTY_MS = 1000;
/** Attempts of one request on a 429 before the call fails `rate_limited`. */
const RATE_LIMIT_ATTEMPTS = 3;
/** Attempts of one request on a 5xx, a timeout or a network failure before it fails `retryable`. */
const FAILURE_ATTEMPTS = 3;
const FAILURE_BACKOFF_MS = 200;
/** Requests of one call in flight at once (the pacer keeps them under the team's rate). */
const CONCURRENCY = 4;
/** Loops' limit on an `Idempotency-Key`. */
const IDEMPOTENCY_KEY_MAX = 100;

interface Answer {
  status: number;
  body: unknown;
}

export function createLoopsAdapter(input: DestinationAdapterInput): DestinationAdapter {
  const root = `${input.baseUrl.replace(/\/+$/, '')}/api/v1/`;
  const timeoutMs = input.timeoutMs ?? 30_000;
  const { pacer } = input;
  /** Property types learned from `ensureProperties` (dates are written as ISO 8601 date-times). */
  const knownTypes = new Map<string, PropertyDefinition['type']>();

  async function request(method: 'GET' | 'POST' | 'PUT', path: string, opts: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
    const url = new URL(path, root);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const what = `${method} ${url.pathname}`;
    let throttled = 0;
    const failures = new Failures('Loops', what, { attempts: FAILURE_ATTEMPTS, backoffMs: FAILURE_BACKOFF_MS, timeoutMs });
    for (;;) {
      await pacer.acquire(TEAM_BUCKET, TEAM_LIMITS);
      let answer: JsonAnswer;
      try {
        answer = await sendJson(url, { method, token: input.apiKey, body: opts.body, headers: opts.headers, timeoutMs });
      } catch (err) {
        await failures.noAnswer(err);
        continue;
      }
      const { res, body } = answer;
      if (res.headers.get('x-ratelimit-remaining') === '0') await pacer.penalize(TEAM_BUCKET, PENALTY_MS);
      if (res.status === 401 || res.status === 403) {
        throw new DestinationError('connection', `Loops refused the API key (${res.status}): ${messageOf(body) ?? 'Invalid API key'}`, { status: res.status });
      }
      if (res.status === 429) {
        if (res.headers.get('x-ratelimit-remaining') !== '0') await pacer.penalize(TEAM_BUCKET, PENALTY_MS);
        if (++throttled >= RATE_LIMIT_ATTEMPTS) {
          throw new DestinationError('rate_limited', `Loops ${what}: rate limit exceeded (429) ${throttled} times`, { retryAfterMs: PENALTY_MS, status: 429 });
        }
        continue;
      }
      if (res.status >= 500) {
        await failures.serverError(res.status, messageOf(body));
        continue;
      }
      return { status: res.status, body };
    }
  }

  /** A contact-level answer as a record result: 2xx ok; another 4xx refused for good with Loops' message. */
  function recordResult(a: Answer, what: string, okStatuses: number[] = []): RecordResult {
    if ((a.status >= 200 && a.status < 300) || okStatuses.includes(a.status)) {
      const id = (a.body as { id?: unknown } | null)?.id;
      return { ok: true, externalId: typeof id === 'string' ? id : null };
    }
    return { ok: false, errorClass: 'record', message: `Loops refused ${what} (${a.status}): ${messageOf(a.body) ?? 'no message'}` };
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
          if (err instanceof DestinationError && err.errorClass === 'retryable') {
            results.set(key(item), { ok: false, errorClass: 'retryable', message: err.message });
          } else {
            stop ??= err instanceof DestinationError ? err : new DestinationError('retryable', `Loops: ${String(err)}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    if (stop) throw stop;
    return results;
  }

  function flatProperties(props: Record<string, DestinationValue>): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(props)) {
      // Loops' contract takes string, number or boolean values; an unknown value is left as it is in Loops.
      if (v === null || v === undefined) continue;
      if (typeof v === 'number' && !Number.isFinite(v)) continue;
      out[k] = knownTypes.get(k) === 'date' && typeof v === 'string' ? loopsDate(v) : v;
    }
    return out;
  }

  return {
    ...LOOPS_TRAITS,

    async check() {
      const a = await request('GET', 'api-key');
      const team = (a.body as { teamName?: unknown } | null)?.teamName;
      if (a.status !== 200 || typeof team !== 'string') {
        throw new DestinationError('retryable', `Loops GET /api/v1/api-key answered ${a.status}: ${messageOf(a.body) ?? 'no team name'}`, { status: a.status });
      }
      return { label: team };
    },

    async ensureProperties(definitions) {
      for (const d of definitions) knownTypes.set(d.name, d.type);
      const a = await request('GET', 'contacts/properties', { query: { list: 'custom' } });
      if (a.status !== 200 || !Array.isArray(a.body)) {
        throw new DestinationError('retryable', `Loops could not list contact properties (${a.status}): ${messageOf(a.body) ?? 'unexpected answer'}`, { status: a.status });
      }
      const existing = new Set((a.body as { key?: unknown }[]).map((p) => String(p.key)));
      for (const d of definitions) {
        if (existing.has(d.name)) continue;
        const created = await request('POST', 'contacts/properties', { body: { name: d.name, type: d.type } });
        if (created.status !== 200) {
          throw new DestinationError('record', `Loops refused to create the contact property ${d.name} (${created.status}): ${messageOf(created.body) ?? 'no message'}`, {
            status: created.status,
          });
        }
        existing.add(d.name);
      }
    },

    async upsertProfiles(profiles) {
      return eachItem(
        profiles,
        (p) => p.customerId,
        async (p: ProfileWrite) => {
          // Keyed by userId (the Stripe customer id): Loops updates the contact with that userId (moving it to a new
          // email after a change), else the contact with the email (giving it the userId), else creates one.
          const body: Record<string, unknown> = { ...flatProperties(p.properties), userId: p.customerId };
          if (p.email) body.email = p.email;
          if (p.firstName !== null) body.firstName = p.firstName;
          if (p.lastName !== null) body.lastName = p.lastName;
          return recordResult(await request('PUT', 'contacts/update', { body }), `contact ${p.customerId}`);
        },
      );
    },

    async sendEvents(events) {
      return eachItem(
        events,
        (e) => e.key,
        async (e: DestinationEvent) => {
          const eventProperties: Record<string, string | number | boolean> = flatProperties(e.properties);
          if (e.value !== null) eventProperties.value = e.value;
          if (e.currency !== null) eventProperties.currency = e.currency;
          const body: Record<string, unknown> = { eventName: e.name, userId: e.customerId, eventProperties };
          if (e.email) body.email = e.email;
          const a = await request('POST', 'events/send', { body, headers: { 'Idempotency-Key': idempotencyKey(e.key) } });
          // 409: Loops already took an event under this key (inside its 24-hour window): it was sent.
          if (a.status === 409) return { ok: true, externalId: null };
          const r = recordResult(a, `event ${e.key}`);
          return r.ok ? { ok: true, externalId: null } : r;
        },
      );
    },

    async removeProfile(profile, how) {
      if (how === 'delete') {
        const a = await request('POST', 'contacts/delete', { body: { userId: profile.customerId } });
        // 404: the contact is already gone, which is what was asked.
        const r = recordResult(a, `deleting contact ${profile.customerId}`, [404]);
        return r.ok ? { ok: true, externalId: null } : r;
      }
      // Unsubscribe only a contact that exists: an update for a missing one would create it.
      const found = await request('GET', 'contacts/find', { query: { userId: profile.customerId } });
      if (found.status !== 200 || !Array.isArray(found.body)) return recordResult(found, `finding contact ${profile.customerId}`);
      if (found.body.length === 0) return { ok: true, externalId: null };
      const a = await request('PUT', 'contacts/update', { body: { userId: profile.customerId, subscribed: false } });
      return recordResult(a, `unsubscribing contact ${profile.customerId}`);
    },
  };
}

function messageOf(body: unknown): string | null {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown };
    if (typeof b.message === 'string') return b.message;
    if (typeof b.error === 'string') return b.error;
  }
  return null;
}

/** A date for a Loops date property: an ISO 8601 date-time (a bare `YYYY-MM-DD` is midnight UTC). */
function loopsDate(v: string): string {
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : new Date(t).toISOString();
}

/** Loops takes keys of at most 100 characters; a longer one is replaced by its SHA-256 (stable, so still unique). */
function idempotencyKey(key: string): string {
  return key.length <= IDEMPOTENCY_KEY_MAX ? key : createHash('sha256').update(key).digest('hex');
}

