import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { headerMaxLength, requestBodyProblem } from './spec-validator';

/**
 * A fake Loops API (one team) on 127.0.0.1 for tests, held to Loops' published OpenAPI document (`specs/loops`):
 * request bodies are validated against each operation's schema, answers use the documented shapes and the error
 * shape `{ success: false, message }`. Models what the product relies on:
 *
 * - bearer auth with the team's API key (401 `Invalid API key` otherwise; `controls.revokeKey()`);
 * - the documented rate limit, 10 requests per second per team (rolling second), with `x-ratelimit-limit` and
 *   `x-ratelimit-remaining` on every answer and a 429 above it;
 * - contacts keyed by id, unique by email and by `userId`; `PUT /contacts/update` updates the contact found by
 *   `userId`, else by email (giving it the `userId`), else creates one; an email change goes through `userId`;
 * - custom contact properties (`GET|POST /contacts/properties`, plus the older `GET /contacts/customFields`). Loops
 *   documents "make sure to create the properties in Loops before using them"; a key sent without one is created
 *   by Loops with a type inferred from the value, which can never be changed afterwards. The fake does the same and
 *   lists such keys in `state.autoCreatedProperties`, so tests can assert none ever happens;
 * - `POST /events/send` with the `Idempotency-Key` header (≤ 100 characters): a key seen inside the window (24 h) is
 *   answered 409 "Idempotency key has been used" and the event is not sent again;
 * - injected failures: `controls.throttleNext(n)` (429s), `controls.failNext(n, status)` (5xx).
 */

export interface FakeLoopsOptions {
  apiKey?: string;
  teamName?: string;
  /** Requests per rolling second per team. Default 10 (Loops' documented baseline). */
  ratePerSecond?: number;
  /** How long an Idempotency-Key is remembered (ms). Default 24 h. */
  idempotencyWindowMs?: number;
  validateBodies?: boolean;
}

export type LoopsPropertyType = 'string' | 'number' | 'boolean' | 'date';

export interface FakeLoopsContact {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  source: string;
  subscribed: boolean;
  userGroup: string;
  userId: string | null;
  mailingLists: Record<string, boolean>;
  optInStatus: null;
  /** Custom properties, by key. */
  properties: Record<string, string | number | boolean>;
}

export interface FakeLoopsEvent {
  contactId: string;
  eventName: string;
  eventProperties: Record<string, unknown>;
  idempotencyKey: string | null;
  at: number;
}

export interface FakeLoopsState {
  contacts: Map<string, FakeLoopsContact>;
  /** Custom contact properties, by key. */
  properties: Map<string, { key: string; label: string; type: LoopsPropertyType }>;
  /** Keys Loops created on the fly because a request used them before they were created. */
  autoCreatedProperties: string[];
  events: FakeLoopsEvent[];
  /** Calls per endpoint (`PUT /api/v1/contacts/update`), every answer counted (429s and failures too). */
  calls: Record<string, number>;
  /** Every request as received (headers lower-case; no Authorization). */
  requests: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: unknown; status: number }[];
  /** Answers of status 429 given. */
  throttled: number;
}

export interface FakeLoopsControls {
  /** The key stops working (every call answers 401). */
  revokeKey(): void;
  /** The next `n` authenticated calls answer 429 (with `x-ratelimit-remaining: 0`). */
  throttleNext(n: number): void;
  /** The next `n` authenticated calls answer `status` (default 500). */
  failNext(n: number, status?: number): void;
  /** Finds a contact by email or userId. */
  contact(by: { email?: string; userId?: string }): FakeLoopsContact | undefined;
  /** Adds a contact as if made in Loops (a form, an import): no `userId` unless given. */
  seedContact(c: { email: string; userId?: string; firstName?: string }): FakeLoopsContact;
}

export interface FakeLoops {
  url: string;
  apiKey: string;
  state: FakeLoopsState;
  controls: FakeLoopsControls;
  close(): Promise<void>;
}

const PREFIX = '/api/v1';
const DEFAULT_PROPERTIES = new Set(['email', 'firstName', 'lastName', 'subscribed', 'userGroup', 'userId', 'source', 'mailingLists', 'id', 'optInStatus']);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

class LoopsFailure extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export async function startFakeLoops(options: FakeLoopsOptions = {}): Promise<FakeLoops> {
  const apiKey = options.apiKey ?? `test-loops-key-${randomBytes(6).toString('hex')}`;
  const teamName = options.teamName ?? 'Fake Team';
  const limit = options.ratePerSecond ?? 10;
  const windowMs = options.idempotencyWindowMs ?? 24 * 3600 * 1000;
  const validate = options.validateBodies ?? true;
  let revoked = false;
  let throttle = 0;
  const failures: number[] = [];
  const accepted: number[] = [];
  const idempotency = new Map<string, number>();

  const state: FakeLoopsState = { contacts: new Map(), properties: new Map(), autoCreatedProperties: [], events: [], calls: {}, requests: [], throttled: 0 };
  const byEmail = (email: string) => [...state.contacts.values()].find((c) => c.email.toLowerCase() === email.toLowerCase());
  const byUserId = (userId: string) => [...state.contacts.values()].find((c) => c.userId === userId);

  const newContact = (email: string): FakeLoopsContact => {
    const c: FakeLoopsContact = {
      id: `c${randomBytes(12).toString('hex')}`,
      email,
      firstName: null,
      lastName: null,
      source: 'API',
      subscribed: true,
      userGroup: '',
      userId: null,
      mailingLists: {},
      optInStatus: null,
      properties: {},
    };
    state.contacts.set(c.id, c);
    return c;
  };

  const labelOf = (key: string) => {
    const words = key.replace(/([A-Z])/g, ' $1').toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  };

  /** Applies the contact fields and custom properties of a create/update/event body to `c`. */
  const applyFields = (c: FakeLoopsContact, body: Record<string, unknown>, skip: Set<string>) => {
    for (const [k, v] of Object.entries(body)) {
      if (skip.has(k) || v === undefined) continue;
      if (k === 'firstName' || k === 'lastName') c[k] = v as string;
      else if (k === 'subscribed') c.subscribed = v as boolean;
      else if (k === 'userGroup' || k === 'source') c[k] = v as string;
      else if (k === 'mailingLists') Object.assign(c.mailingLists, v as Record<string, boolean>);
      else if (!DEFAULT_PROPERTIES.has(k)) {
        const prop = state.properties.get(k);
        if (!prop) {
          const type: LoopsPropertyType = typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
          state.properties.set(k, { key: k, label: labelOf(k), type });
          state.autoCreatedProperties.push(k);
        } else if (prop.type === 'date' && !isLoopsDate(v)) {
          throw new LoopsFailure(400, `Invalid date value for property \`${k}\`.`);
        }
        c.properties[k] = v as string | number | boolean;
      }
    }
  };

  const contactJson = (c: FakeLoopsContact) => {
    const { properties, ...rest } = c;
    return { ...rest, ...properties };
  };

  type Handler = (req: { body: Record<string, unknown>; query: Record<string, string>; headers: Record<string, string> }) => { status?: number; body: unknown };
  const routes: Record<string, { spec: string; handle: Handler }> = {
    'GET /api-key': { spec: '/api-key', handle: () => ({ body: { success: true, teamName } }) },
    'POST /contacts/create': {
      spec: '/contacts/create',
      handle: ({ body }) => {
        const email = body.email as string;
        if (!EMAIL.test(email)) throw new LoopsFailure(400, 'Invalid email address.');
        if (byEmail(email)) throw new LoopsFailure(409, 'Email or userId already exists.');
        if (typeof body.userId === 'string' && byUserId(body.userId)) throw new LoopsFailure(409, 'Email or userId already exists.');
        const c = newContact(email);
        if (typeof body.userId === 'string') c.userId = body.userId;
        applyFields(c, body, new Set(['email', 'userId']));
        return { body: { success: true, id: c.id } };
      },
    },
    'PUT /contacts/update': {
      spec: '/contacts/update',
      handle: ({ body }) => {
        const email = typeof body.email === 'string' ? body.email : undefined;
        const userId = typeof body.userId === 'string' ? body.userId : undefined;
        if (email === undefined && userId === undefined) throw new LoopsFailure(400, 'An `email` or `userId` is required.');
        if (email !== undefined && !EMAIL.test(email)) throw new LoopsFailure(400, 'Invalid email address.');
        let c = userId !== undefined ? byUserId(userId) : undefined;
        if (c) {
          if (email !== undefined && email.toLowerCase() !== c.email.toLowerCase()) {
            const other = byEmail(email);
            if (other) throw new LoopsFailure(409, 'Email already belongs to another contact.');
            c.email = email;
          }
        } else if (email !== undefined) {
          c = byEmail(email);
          if (c && userId !== undefined) {
            if (c.userId !== null && c.userId !== userId) throw new LoopsFailure(409, 'Email already belongs to a contact with a different userId.');
            c.userId = userId;
          }
          if (!c) {
            c = newContact(email);
            if (userId !== undefined) c.userId = userId;
          }
        } else {
          throw new LoopsFailure(400, 'No contact found with that userId; include an `email` to create one.');
        }
        applyFields(c, body, new Set(['email', 'userId']));
        return { body: { success: true, id: c.id } };
      },
    },
    'GET /contacts/find': {
      spec: '/contacts/find',
      handle: ({ query }) => {
        if (query.email !== undefined && query.userId !== undefined) throw new LoopsFailure(400, 'Only one parameter is permitted.');
        if (query.email === undefined && query.userId === undefined) throw new LoopsFailure(400, 'An `email` or `userId` is required.');
        const c = query.email !== undefined ? byEmail(query.email) : byUserId(query.userId!);
        return { body: c ? [contactJson(c)] : [] };
      },
    },
    'POST /contacts/delete': {
      spec: '/contacts/delete',
      handle: ({ body }) => {
        const c = typeof body.email === 'string' ? byEmail(body.email) : byUserId(body.userId as string);
        if (!c) throw new LoopsFailure(404, 'Contact not found.');
        state.contacts.delete(c.id);
        return { body: { success: true, message: 'Contact deleted.' } };
      },
    },
    'GET /contacts/properties': {
      spec: '/contacts/properties',
      handle: ({ query }) => {
        const custom = [...state.properties.values()].map((p) => ({ ...p }));
        if (query.list === 'custom') return { body: custom };
        const defaults = [
          { key: 'firstName', label: 'First Name', type: 'string' },
          { key: 'lastName', label: 'Last Name', type: 'string' },
          { key: 'email', label: 'Email', type: 'string' },
          { key: 'notes', label: 'Notes', type: 'string' },
          { key: 'source', label: 'Source', type: 'string' },
          { key: 'subscribed', label: 'Subscribed', type: 'boolean' },
          { key: 'userGroup', label: 'User Group', type: 'string' },
          { key: 'userId', label: 'User Id', type: 'string' },
        ];
        return { body: [...defaults, ...custom] };
      },
    },
    'POST /contacts/properties': {
      spec: '/contacts/properties',
      handle: ({ body }) => {
        const name = body.name as string;
        const type = body.type as string;
        if (!['string', 'number', 'boolean', 'date'].includes(type)) throw new LoopsFailure(400, 'Invalid type.');
        if (!/^[a-z][A-Za-z0-9]*$/.test(name)) throw new LoopsFailure(400, 'Property name must be in camelCase, like `planName`.');
        if (DEFAULT_PROPERTIES.has(name) || state.properties.has(name)) throw new LoopsFailure(400, `A property named \`${name}\` already exists.`);
        state.properties.set(name, { key: name, label: labelOf(name), type: type as LoopsPropertyType });
        return { body: { success: true } };
      },
    },
    'POST /events/send': {
      spec: '/events/send',
      handle: ({ body, headers }) => {
        const key = headers['idempotency-key'];
        const max = headerMaxLength('/events/send', 'post', 'Idempotency-Key') ?? 100;
        if (key !== undefined && (key.length === 0 || key.length > max)) throw new LoopsFailure(400, `Idempotency-Key must be 1 to ${max} characters.`);
        const now = Date.now();
        if (key !== undefined) {
          const seen = idempotency.get(key);
          if (seen !== undefined && now - seen < windowMs) throw new LoopsFailure(409, 'Idempotency key has been used.');
        }
        const email = typeof body.email === 'string' ? body.email : undefined;
        const userId = typeof body.userId === 'string' ? body.userId : undefined;
        if (email === undefined && userId === undefined) throw new LoopsFailure(400, 'An `email` or `userId` is required.');
        if (email !== undefined && !EMAIL.test(email)) throw new LoopsFailure(400, 'Invalid email address.');
        let c = (userId !== undefined ? byUserId(userId) : undefined) ?? (email !== undefined ? byEmail(email) : undefined);
        if (!c) {
          if (email === undefined) throw new LoopsFailure(400, 'No contact found with that userId; include an `email` to create one.');
          c = newContact(email);
          if (userId !== undefined) c.userId = userId;
        }
        applyFields(c, body, new Set(['email', 'userId', 'eventName', 'eventProperties']));
        if (key !== undefined) idempotency.set(key, now);
        state.events.push({
          contactId: c.id,
          eventName: body.eventName as string,
          eventProperties: (body.eventProperties as Record<string, unknown> | undefined) ?? {},
          idempotencyKey: key ?? null,
          at: now,
        });
        return { body: { success: true } };
      },
    },
    // The older listing of custom properties, still answered by Loops and by its older SDKs.
    'GET /contacts/customFields': {
      spec: '/contacts/properties',
      handle: () => ({ body: [...state.properties.values()].map((p) => ({ key: p.key, label: p.label, type: p.type })) }),
    },
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { success: false, message: `fake Loops: ${String(err)}` }, {});
    });
  });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const endpoint = `${method} ${url.pathname}`;
    state.calls[endpoint] = (state.calls[endpoint] ?? 0) + 1;
    const raw = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (k !== 'authorization' && typeof v === 'string') headers[k] = v;
    const query = Object.fromEntries(url.searchParams.entries());
    let parsed: unknown;
    const record = { method, path: url.pathname, query, headers, body: undefined as unknown, status: 0 };
    state.requests.push(record);
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      record.status = status;
      if (status === 429) state.throttled++;
      send(res, status, body, extra);
    };

    const route = url.pathname.startsWith(PREFIX) ? routes[`${method} ${url.pathname.slice(PREFIX.length)}`] : undefined;
    if (!route) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname.slice(PREFIX.length)}`));
      return answer(known ? 405 : 404, { success: false, message: known ? 'Method not allowed.' : 'Not found.' });
    }
    if (revoked || req.headers.authorization !== `Bearer ${apiKey}`) {
      return answer(401, { success: false, message: 'Invalid API key', error: 'Invalid API key' });
    }

    // The team's rate limit: a rolling second of accepted requests.
    const now = Date.now();
    while (accepted.length > 0 && accepted[0]! <= now - 1000) accepted.shift();
    if (throttle > 0 || accepted.length >= limit) {
      if (throttle > 0) throttle--;
      return answer(429, { success: false, message: 'Rate limit exceeded.' }, { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': '0' });
    }
    accepted.push(now);
    const rateHeaders = { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(Math.max(0, limit - accepted.length)) };
    const failure = failures.shift();
    if (failure !== undefined) return answer(failure, { success: false, message: 'Internal server error.' }, rateHeaders);

    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw);
      } catch {
        return answer(400, { success: false, message: 'Invalid JSON body.' }, rateHeaders);
      }
    }
    record.body = parsed;
    if (validate && method !== 'GET') {
      const problem = requestBodyProblem(route.spec, method, parsed);
      if (problem) return answer(400, { success: false, message: problem }, rateHeaders);
    }
    try {
      const out = route.handle({ body: (parsed ?? {}) as Record<string, unknown>, query, headers });
      return answer(out.status ?? 200, out.body, rateHeaders);
    } catch (err) {
      if (err instanceof LoopsFailure) return answer(err.status, { success: false, message: err.message, ...err.extra }, rateHeaders);
      throw err;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    state,
    controls: {
      revokeKey: () => {
        revoked = true;
      },
      throttleNext: (n) => {
        throttle += n;
      },
      failNext: (n, status = 500) => {
        for (let i = 0; i < n; i++) failures.push(status);
      },
      contact: (by) => (by.email !== undefined ? byEmail(by.email) : by.userId !== undefined ? byUserId(by.userId) : undefined),
      seedContact: (s) => {
        const c = newContact(s.email);
        if (s.userId) c.userId = s.userId;
        if (s.firstName) c.firstName = s.firstName;
        c.source = 'Form';
        return c;
      },
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A value Loops takes for a date property: an ISO 8601 date or date-time string, or a Unix timestamp in ms. */
function isLoopsDate(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'string') return false;
  return /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v));
}
