import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { answerProblem, intercomVersions, requestBodyProblem, INTERCOM_SPEC_VERSION } from './spec';
import { intercomOAuthRoute } from './oauth';

/**
 * A fake Intercom REST API (one workspace) on 127.0.0.1 for tests, held to Intercom's published OpenAPI document
 * 2.14 (`specs/intercom/`): request bodies are validated against each operation's schema (400 `parameter_invalid`
 * otherwise) and the fake checks its own answers against the documented response schemas (`state.answerProblems`,
 * which tests expect empty). Errors use Intercom's `error.list` shape. Models what the product relies on:
 *
 * - `Authorization: Bearer <token>`: 401 `unauthorized` "Access Token Invalid" for a wrong or revoked token
 *   (`controls.revokeToken()`); the `Intercom-Version` header must be one the document lists (the default, absent,
 *   is the app's version) and each request's version is recorded;
 * - Intercom's documented rate limit: a per-app budget "distributed into 10 second periods" (10,000 per minute by
 *   default, so 1,666 per 10 s), every period starting afresh; authenticated answers carry `X-RateLimit-Limit` (the
 *   period's budget), `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds when the period ends); beyond
 *   the budget a 429 `rate_limit_exceeded` "Exceeded rate limit of N in 10_seconds";
 * - data attributes (`GET /data_attributes?model=contact`, `POST /data_attributes`): a contact's custom attribute
 *   must be created before a value is written to it; an unknown one is refused (400 `parameter_not_found`
 *   "Custom attribute 'x' does not exist") and a value of the wrong type too (400 `parameter_invalid`); date
 *   attributes take unix seconds;
 * - contacts: `POST /contacts` (409 `conflict` "A contact matching those details already exists with id=…" when the
 *   external_id is taken, or the email belongs to a user without one), `PUT|DELETE /contacts/{id}` (404
 *   `not_found` "User Not Found"), `GET /contacts/find_by_external_id/{external_id}` (users only), and
 *   `POST /contacts/search` with `=` filters (and `AND`), which, as documented, may not see a contact created in the
 *   last moments (`searchDelayMs`);
 * - `POST /events` (202, empty body; 404 "User Not Found" for an unknown user): an event is identified by the contact,
 *   the event name and `created_at`, and a duplicate is ignored with the same 202 (`state.duplicateEvents`); at most
 *   10 metadata keys are kept, further keys are ignored (`state.ignoredMetadataKeys`);
 * - injected failures: `controls.throttleNext(n)` (429s), `controls.failNext(n, status)` (5xx).
 */

export interface FakeIntercomOptions {
  token?: string;
  appName?: string;
  /** Requests per rate period. Default 1,666 (10,000 per minute spread over six 10-second periods). */
  limitPerPeriod?: number;
  /** The rate period (ms). Default 10,000, Intercom's; tests may shorten it. */
  periodMs?: number;
  /** A contact younger than this is not yet found by search (Intercom: "may not yet be available"). Default 0. */
  searchDelayMs?: number;
  validateBodies?: boolean;
}

export type IntercomDataType = 'string' | 'integer' | 'float' | 'boolean' | 'date' | 'datetime' | 'options';

export interface FakeIntercomAttribute {
  id: number;
  name: string;
  data_type: IntercomDataType;
  custom: boolean;
  created_at: number;
}

export interface FakeIntercomContact {
  id: string;
  external_id: string | null;
  role: 'user' | 'lead';
  email: string | null;
  name: string | null;
  unsubscribed_from_emails: boolean;
  created_at: number;
  updated_at: number;
  /** When it was made (ms), for the search delay. */
  madeAtMs: number;
  custom_attributes: Record<string, unknown>;
}

export interface FakeIntercomEvent {
  contactId: string;
  event_name: string;
  created_at: number;
  metadata: Record<string, unknown>;
}

export interface FakeIntercomState {
  contacts: Map<string, FakeIntercomContact>;
  /** Contact data attributes by name (the standard ones with `custom: false`). */
  attributes: Map<string, FakeIntercomAttribute>;
  events: FakeIntercomEvent[];
  /** Events ignored as duplicates (same contact, name and created_at). */
  duplicateEvents: number;
  /** Metadata keys beyond the 10th, ignored. */
  ignoredMetadataKeys: string[];
  /** Calls per endpoint (`PUT /contacts/{id}`), every answer counted (401s, 429s and failures too). */
  calls: Record<string, number>;
  /** Every request as received (headers lower-case, no Authorization). */
  requests: { method: string; endpoint: string; path: string; version: string | null; body: unknown; status: number; /** The first error's code of a refusal. */ error?: string }[];
  /** 429 answers given. */
  throttled: number;
  /** Answers of the fake that broke the documented response schema (tests expect none). */
  answerProblems: string[];
}

export interface FakeIntercomControls {
  revokeToken(): void;
  /** The next `n` authenticated calls answer 429 with `X-RateLimit-Remaining: 0`. */
  throttleNext(n: number): void;
  /** The next `n` authenticated calls answer `status` (default 500). */
  failNext(n: number, status?: number): void;
  contact(by: { id?: string; external_id?: string; email?: string }): FakeIntercomContact | undefined;
  /** A contact made in Intercom itself (the Messenger, an import): no external_id unless given. */
  seedContact(c: { email: string; external_id?: string; role?: 'user' | 'lead'; name?: string; /** Made just now: search does not see it yet (with `searchDelayMs`). */ justMade?: boolean }): FakeIntercomContact;
}

export interface FakeIntercom {
  url: string;
  token: string;
  state: FakeIntercomState;
  controls: FakeIntercomControls;
  close(): Promise<void>;
}

const STANDARD_ATTRIBUTES = ['name', 'email', 'phone', 'external_id', 'role', 'owner_id', 'unsubscribed_from_emails', 'created_at', 'signed_up_at', 'last_seen_at'];
const ATTRIBUTE_NAME = /^[\p{L}\p{N}\p{Sc} _-]+$/u;

class IntercomFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeIntercom(options: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  let token = options.token ?? `test-intercom-token-${randomBytes(8).toString('hex')}`;
  const appName = options.appName ?? 'Fake Workspace';
  const limit = options.limitPerPeriod ?? 1666;
  const periodMs = options.periodMs ?? 10_000;
  const searchDelayMs = options.searchDelayMs ?? 0;
  const validate = options.validateBodies ?? true;
  const versions = new Set(intercomVersions());
  const workspaceId = `ws${randomBytes(6).toString('hex')}`;
  let revoked = false;
  let throttle = 0;
  const failures: number[] = [];
  let period = { start: 0, used: 0 };
  let nextAttributeId = 1;

  const state: FakeIntercomState = {
    contacts: new Map(),
    attributes: new Map(),
    events: [],
    duplicateEvents: 0,
    ignoredMetadataKeys: [],
    calls: {},
    requests: [],
    throttled: 0,
    answerProblems: [],
  };
  const nowS = () => Math.floor(Date.now() / 1000);
  for (const name of STANDARD_ATTRIBUTES) {
    state.attributes.set(name, { id: 0, name, data_type: name.endsWith('_at') ? 'date' : name === 'owner_id' ? 'integer' : name === 'unsubscribed_from_emails' ? 'boolean' : 'string', custom: false, created_at: 0 });
  }
  const eventKeys = new Set<string>();

  const find = (by: { id?: string; external_id?: string; email?: string }) =>
    [...state.contacts.values()].find(
      (c) =>
        (by.id === undefined || c.id === by.id) &&
        (by.external_id === undefined || c.external_id === by.external_id) &&
        (by.email === undefined || (c.email ?? '').toLowerCase() === by.email.toLowerCase()),
    );

  const makeContact = (fields: { email: string | null; external_id: string | null; role: 'user' | 'lead'; name: string | null }): FakeIntercomContact => {
    const t = nowS();
    const c: FakeIntercomContact = { id: randomBytes(12).toString('hex'), ...fields, unsubscribed_from_emails: false, created_at: t, updated_at: t, madeAtMs: Date.now(), custom_attributes: {} };
    state.contacts.set(c.id, c);
    return c;
  };

  const contactJson = (c: FakeIntercomContact) => ({
    type: 'contact',
    id: c.id,
    workspace_id: workspaceId,
    external_id: c.external_id,
    role: c.role,
    email: c.email ?? '',
    email_domain: c.email?.split('@')[1] ?? '',
    phone: null,
    name: c.name,
    owner_id: null,
    has_hard_bounced: false,
    marked_email_as_spam: false,
    unsubscribed_from_emails: c.unsubscribed_from_emails,
    created_at: c.created_at,
    updated_at: c.updated_at,
    signed_up_at: null,
    last_seen_at: null,
    custom_attributes: { ...c.custom_attributes },
  });

  const attributeJson = (a: FakeIntercomAttribute) => ({
    type: 'data_attribute',
    ...(a.custom ? { id: a.id, admin_id: '1', created_at: a.created_at, updated_at: a.created_at } : {}),
    model: 'contact',
    name: a.name,
    full_name: a.custom ? `custom_attributes.${a.name}` : a.name,
    label: a.name,
    description: '',
    data_type: a.data_type === 'datetime' ? 'date' : a.data_type,
    api_writable: true,
    messenger_writable: false,
    ui_writable: true,
    custom: a.custom,
    archived: false,
  });

  const conflict = (c: FakeIntercomContact) => new IntercomFailure(409, 'conflict', `A contact matching those details already exists with id=${c.id}`);
  const notFound = () => new IntercomFailure(404, 'not_found', 'User Not Found');

  /** Checks and applies `custom_attributes` to `c` (nothing is applied when one is refused). */
  const applyCustom = (c: FakeIntercomContact, custom: unknown) => {
    if (custom === undefined || custom === null) return;
    const entries = Object.entries(custom as Record<string, unknown>);
    for (const [k, v] of entries) {
      const a = state.attributes.get(k);
      if (!a || !a.custom) throw new IntercomFailure(400, 'parameter_not_found', `Custom attribute '${k}' does not exist`);
      if (v !== null && !valueFits(a.data_type, v)) throw new IntercomFailure(400, 'parameter_invalid', `Custom attribute '${k}' is of type ${a.data_type === 'date' ? 'date (a unix timestamp)' : a.data_type}, got ${JSON.stringify(v)}`);
    }
    for (const [k, v] of entries) c.custom_attributes[k] = v;
  };

  const searchMatches = (c: FakeIntercomContact, q: Record<string, unknown>): boolean => {
    if (q.operator === 'AND' || q.operator === 'OR') {
      const parts = (q.value as Record<string, unknown>[]).map((p) => searchMatches(c, p));
      return q.operator === 'AND' ? parts.every(Boolean) : parts.some(Boolean);
    }
    if (q.operator !== '=') throw new IntercomFailure(400, 'parameter_invalid', `The fake supports only the = operator (got ${String(q.operator)})`);
    const field = String(q.field);
    const have = field.startsWith('custom_attributes.') ? c.custom_attributes[field.slice(18)] : (contactJson(c) as Record<string, unknown>)[field];
    if (field === 'email') return typeof q.value === 'string' && (c.email ?? '').toLowerCase() === q.value.toLowerCase();
    return have === q.value;
  };

  type Req = { body: Record<string, unknown>; params: Record<string, string>; query: URLSearchParams };
  type Route = { method: string; pattern: RegExp; spec: string; handle: (r: Req) => { status?: number; body: unknown } };
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/me$/,
      spec: '/me',
      handle: () => ({
        body: {
          type: 'admin',
          id: '1',
          email: 'admin@example.com',
          name: 'Fake Admin',
          email_verified: true,
          app: { type: 'app', id_code: workspaceId, name: appName, created_at: 1_700_000_000, identity_verification: false, timezone: 'Europe/London', region: 'US' },
          has_inbox_seat: true,
        },
      }),
    },
    {
      method: 'GET',
      pattern: /^\/data_attributes$/,
      spec: '/data_attributes',
      handle: ({ query }) => {
        const model = query.get('model');
        if (model !== null && !['contact', 'company', 'conversation'].includes(model)) throw new IntercomFailure(400, 'parameter_invalid', 'model must be contact, company or conversation');
        const data = model === null || model === 'contact' ? [...state.attributes.values()].map(attributeJson) : [];
        return { body: { type: 'list', data } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/data_attributes$/,
      spec: '/data_attributes',
      handle: ({ body }) => {
        const name = String(body.name);
        if (body.model !== 'contact') throw new IntercomFailure(400, 'parameter_invalid', 'The fake Intercom keeps contact data attributes only');
        if (!ATTRIBUTE_NAME.test(name)) throw new IntercomFailure(400, 'parameter_invalid', 'Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens');
        if (state.attributes.has(name)) throw new IntercomFailure(400, 'parameter_invalid', `You already have '${name}' in your people data. To save this as new people data, use a different name.`);
        const a: FakeIntercomAttribute = { id: nextAttributeId++, name, data_type: body.data_type as IntercomDataType, custom: true, created_at: nowS() };
        state.attributes.set(name, a);
        return { body: attributeJson(a) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/contacts\/search$/,
      spec: '/contacts/search',
      handle: ({ body }) => {
        const visible = [...state.contacts.values()].filter((c) => Date.now() - c.madeAtMs >= searchDelayMs);
        const data = visible.filter((c) => searchMatches(c, body.query as Record<string, unknown>)).map(contactJson);
        return { body: { type: 'list', data, total_count: data.length, pages: { type: 'pages', page: 1, per_page: 50, total_pages: data.length ? 1 : 0 } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/contacts\/find_by_external_id\/(?<external_id>[^/]+)$/,
      spec: '/contacts/find_by_external_id/{external_id}',
      handle: ({ params }) => {
        const c = find({ external_id: params.external_id! });
        if (!c || c.role !== 'user') throw notFound();
        return { body: contactJson(c) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/contacts$/,
      spec: '/contacts',
      handle: ({ body }) => {
        const role = (body.role as string | undefined) ?? 'user';
        if (role !== 'user' && role !== 'lead') throw new IntercomFailure(400, 'parameter_invalid', 'Role must be user or lead');
        const external_id = typeof body.external_id === 'string' ? body.external_id : null;
        const email = typeof body.email === 'string' ? body.email : null;
        if (external_id !== null) {
          const taken = find({ external_id });
          if (taken) throw conflict(taken);
        }
        if (email !== null && role === 'user') {
          const same = [...state.contacts.values()].find((c) => c.role === 'user' && c.external_id === null && (c.email ?? '').toLowerCase() === email.toLowerCase());
          if (same) throw conflict(same);
        }
        const c = makeContact({ email, external_id, role, name: (body.name as string | null | undefined) ?? null });
        try {
          applyCustom(c, body.custom_attributes);
        } catch (err) {
          state.contacts.delete(c.id);
          throw err;
        }
        if (typeof body.unsubscribed_from_emails === 'boolean') c.unsubscribed_from_emails = body.unsubscribed_from_emails;
        return { body: contactJson(c) };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/contacts\/(?<contact_id>[^/]+)$/,
      spec: '/contacts/{contact_id}',
      handle: ({ body, params }) => {
        const c = state.contacts.get(params.contact_id!);
        if (!c) throw notFound();
        if (typeof body.external_id === 'string' && body.external_id !== c.external_id) {
          const taken = find({ external_id: body.external_id });
          if (taken) throw conflict(taken);
        }
        if (body.role !== undefined && body.role !== 'user' && body.role !== 'lead') throw new IntercomFailure(400, 'parameter_invalid', 'Role must be user or lead');
        applyCustom(c, body.custom_attributes);
        if (typeof body.external_id === 'string') c.external_id = body.external_id;
        if (typeof body.email === 'string') c.email = body.email;
        if (body.name !== undefined) c.name = body.name as string | null;
        if (body.role !== undefined) c.role = body.role as 'user' | 'lead';
        if (typeof body.unsubscribed_from_emails === 'boolean') c.unsubscribed_from_emails = body.unsubscribed_from_emails;
        c.updated_at = nowS();
        return { body: contactJson(c) };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/contacts\/(?<contact_id>[^/]+)$/,
      spec: '/contacts/{contact_id}',
      handle: ({ params }) => {
        const c = state.contacts.get(params.contact_id!);
        if (!c) throw notFound();
        state.contacts.delete(c.id);
        return { body: { type: 'contact', id: c.id, external_id: c.external_id, deleted: true } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/events$/,
      spec: '/events',
      handle: ({ body }) => {
        const c =
          typeof body.id === 'string'
            ? state.contacts.get(body.id)
            : typeof body.user_id === 'string'
              ? find({ external_id: body.user_id })
              : typeof body.email === 'string'
                ? find({ email: body.email })
                : undefined;
        if (!c) throw notFound();
        const name = String(body.event_name);
        const createdAt = Number(body.created_at);
        const key = `${c.external_id ?? c.id}\u0000${name}\u0000${createdAt}`;
        if (eventKeys.has(key)) {
          state.duplicateEvents++;
          return { status: 202, body: undefined };
        }
        eventKeys.add(key);
        const metadata: Record<string, unknown> = {};
        for (const [k, v] of Object.entries((body.metadata as Record<string, unknown> | undefined) ?? {})) {
          if (Object.keys(metadata).length < 10) metadata[k] = v;
          else state.ignoredMetadataKeys.push(k);
        }
        state.events.push({ contactId: c.id, event_name: name, created_at: createdAt, metadata });
        return { status: 202, body: undefined };
      },
    },
  ];

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { type: 'error.list', request_id: randomUUID(), errors: [{ code: 'server_error', message: String(err) }] });
    });
  });

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(body !== undefined ? JSON.stringify(body) : undefined);
  };
  const errorBody = (code: string, message: string) => ({ type: 'error.list', request_id: randomUUID(), errors: [{ code, message }] });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (await intercomOAuthRoute(req, res, url, (t) => ((token = t), (revoked = false)))) return; // OAuth's token endpoint (oauth.ts)
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let badJson = false;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      badJson = true;
    }

    let route: Route | undefined;
    let params: Record<string, string> = {};
    for (const r of routes) {
      const m = r.method === method ? r.pattern.exec(url.pathname) : null;
      if (m) {
        route = r;
        params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
        break;
      }
    }
    const endpoint = route ? `${method} ${route.spec.replace('{contact_id}', '{id}')}` : `${method} ${url.pathname}`;
    state.calls[endpoint] = (state.calls[endpoint] ?? 0) + 1;
    const version = (req.headers['intercom-version'] as string | undefined) ?? null;
    const reply = (status: number, out: unknown, headers: Record<string, string> = {}) => {
      const error = (out as { errors?: { code: string }[] } | undefined)?.errors?.[0]?.code;
      state.requests.push({ method, endpoint, path: url.pathname, version, body, status, ...(error ? { error } : {}) });
      if (route && out !== undefined) {
        const problem = answerProblem(route.spec, method, status, out);
        if (problem) state.answerProblems.push(`${endpoint} ${status}: ${problem}`);
      }
      send(res, status, out, headers);
    };

    if (req.headers.authorization !== `Bearer ${token}` || revoked) return reply(401, errorBody('unauthorized', 'Access Token Invalid'));

    // The rate period: fixed windows of `periodMs`, every request authenticated counted.
    const now = Date.now();
    const start = Math.floor(now / periodMs) * periodMs;
    if (period.start !== start) period = { start, used: 0 };
    const reset = String(Math.ceil((start + periodMs) / 1000));
    const rateHeaders = (remaining: number) => ({ 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': reset });
    if (throttle > 0 || period.used >= limit) {
      if (throttle > 0) throttle--;
      state.throttled++;
      return reply(429, errorBody('rate_limit_exceeded', `Exceeded rate limit of ${limit} in 10_seconds`), rateHeaders(0));
    }
    period.used++;
    const headers = rateHeaders(Math.max(0, limit - period.used));

    if (version !== null && !versions.has(version)) return reply(400, errorBody('intercom_version_invalid', `Requested version ${version} is not valid`), headers);
    const failure = failures.shift();
    if (failure !== undefined) return reply(failure, errorBody('server_error', 'Server Error'), headers);
    if (!route) return reply(404, errorBody('not_found', 'Resource Not Found'), headers);
    if (badJson) return reply(400, errorBody('parameter_invalid', 'Request body is not valid JSON'), headers);
    if (validate && (method === 'POST' || method === 'PUT')) {
      const problem = requestBodyProblem(route.spec, method, body);
      if (problem) return reply(400, errorBody('parameter_invalid', problem), headers);
    }
    try {
      const out = route.handle({ body: (body ?? {}) as Record<string, unknown>, params, query: url.searchParams });
      return reply(out.status ?? 200, out.body, headers);
    } catch (err) {
      if (err instanceof IntercomFailure) return reply(err.status, errorBody(err.code, err.message), headers);
      throw err;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    state,
    controls: {
      revokeToken: () => {
        revoked = true;
      },
      throttleNext: (n) => {
        throttle += n;
      },
      failNext: (n, status = 500) => {
        for (let i = 0; i < n; i++) failures.push(status);
      },
      contact: (by) => find(by),
      seedContact: (c) => {
        const made = makeContact({ email: c.email, external_id: c.external_id ?? null, role: c.role ?? 'user', name: c.name ?? null });
        if (!c.justMade) made.madeAtMs = 0;
        return made;
      },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function valueFits(type: IntercomDataType, v: unknown): boolean {
  switch (type) {
    case 'string':
    case 'options':
      return typeof v === 'string';
    case 'integer':
    case 'date':
    case 'datetime':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
  }
}

export { INTERCOM_SPEC_VERSION };
