import {
  APP_API_PREFIX,
  DESTINATION_LABELS,
  INTERCOM_REGIONS,
  OAUTH_DESTINATION_KINDS,
  OAUTH_STATE_PREFIXES,
  SALESFORCE_ENVIRONMENTS,
  defaultDestinationSettings,
  isDestinationKind,
  oauthDestinationOfState,
  validateDestinationSettings,
  type DeleteDestinationResponse,
  type DestinationActivityResponse,
  type DestinationAuthorizeUrlResponse,
  type DestinationResponse,
  type DestinationSummary,
  type IntercomRegion,
  type ListDestinationsResponse,
  type Mode,
  type OAuthDestinationKind,
  type SalesforceEnvironment,
  type ReplayResponse,
  type TestDestinationResponse,
} from '../src/data/contracts';

/** One request as the backend would see it. */
export interface SeenRequest {
  method: string;
  /** Path below the app API prefix, e.g. `/settings`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

export type Reply =
  | { status: number; body?: unknown; raw?: string }
  | 'network-error'
  /** Never answers; aborts when the client aborts (a timeout). */
  | 'hang';

/** `params`: the `:name` segments of a pattern route such as `POST /destinations/:id/test`. */
export type Handler = (req: SeenRequest, params: Record<string, string>) => Reply | Promise<Reply>;

export const BACKEND_ORIGIN = 'https://backend.test';

/** Finds the route of a request: the exact key first, then a pattern key with `:name` segments. */
function findRoute(
  table: Map<string, Handler | Reply>,
  method: string,
  path: string,
): { route: Handler | Reply; params: Record<string, string> } | null {
  const exact = table.get(`${method} ${path}`);
  if (exact) return { route: exact, params: {} };
  const segments = path.split('/');
  for (const [key, route] of Array.from(table.entries())) {
    const [m, pattern] = key.split(' ');
    if (m !== method || !pattern.includes(':')) continue;
    const parts = pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = parts.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = decodeURIComponent(segments[i]);
        return segments[i] !== '';
      }
      return part === segments[i];
    });
    if (matches) return { route, params };
  }
  return null;
}

/**
 * A fake of the browser's `fetch` standing in for our backend: routes keyed by "METHOD /path" (or a pattern such as
 * "GET /destinations/:id/activity"), every request recorded. Unknown routes answer 404 with the API's error body.
 */
export function installFakeBackend(routes: Record<string, Handler | Reply> = {}) {
  const table = new Map<string, Handler | Reply>(Object.entries(routes));
  const requests: SeenRequest[] = [];
  const original = globalThis.fetch;

  const fake = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.origin !== BACKEND_ORIGIN || !url.pathname.startsWith(APP_API_PREFIX)) {
      throw new TypeError(`fetch to an unexpected URL: ${url.href}`);
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const req: SeenRequest = {
      method: init.method ?? 'GET',
      path: url.pathname.slice(APP_API_PREFIX.length),
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const found = findRoute(table, req.method, req.path);
    const reply: Reply = found
      ? typeof found.route === 'function'
        ? await found.route(req, found.params)
        : found.route
      : { status: 404, body: { error: { code: 'not_found', message: `No route ${req.method} ${req.path}` } } };
    if (reply === 'network-error') throw new TypeError('Failed to fetch');
    if (reply === 'hang') {
      return new Promise<Response>((_, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
      });
    }
    const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    return new Response(text === '' ? null : text, {
      status: reply.status,
      headers: { 'content-type': reply.raw !== undefined ? 'text/plain' : 'application/json' },
    });
  };
  globalThis.fetch = fake as typeof fetch;

  return {
    requests,
    route(key: string, handler: Handler | Reply) {
      table.set(key, handler);
    },
    /** Requests to one route, e.g. `calls('PUT /settings')`. */
    calls(key: string): SeenRequest[] {
      return requests.filter((r) => `${r.method} ${r.path}` === key);
    },
    restore() {
      globalThis.fetch = original;
    },
  };
}

export type FakeBackend = ReturnType<typeof installFakeBackend>;

/** A reply the test releases when it wants, to look at in-between states (saving, syncing). */
export function deferred<T = Reply>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

export function apiError(status: number, code: string, message: string, details?: { path: string; message: string }[]): Reply {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } } };
}

// ---------- Destinations (Klaviyo, Loops, Intercom, Salesforce): the routes of `packages/contracts/src/destinations.ts`, in memory ----------

/** When a fake destination checks or tests a key. */
export const DESTINATION_CHECKED_AT = '2024-05-02T09:00:00.000Z';

export interface FakeDestinationsSeed {
  /** Connected destinations of both modes. */
  destinations?: DestinationSummary[];
  /** A destination's activity by id (counts, recent writes, dead letters); absent: its counts and nothing else. */
  activity?: Record<string, Omit<DestinationActivityResponse, 'mode' | 'destinationId'>>;
  /** API keys the destination refuses when connecting (422 `destination_refused`), with its words. */
  refusedKeys?: Record<string, string>;
  /** What POST /destinations/:id/test answers, by id; absent: ok when the destination is not broken. */
  testAnswers?: Record<string, TestDestinationResponse>;
  /** "Connect with Klaviyo" is configured on the backend (else the authorize URL answers 503 `not_configured`). */
  klaviyoOAuth?: boolean;
  /** The kinds whose "Connect with …" the backend has an OAuth client for (Klaviyo: or `klaviyoOAuth`). */
  oauth?: Partial<Record<OAuthDestinationKind, boolean>>;
  /** Salesforce custom fields missing in the org: connecting answers 400 `bad_request` naming them. */
  salesforceMissingFields?: string[];
}

/** A state issued by GET /destinations/:kind/authorize-url (its prefix names the kind), and whether it was used. */
export interface FakeOAuthState {
  mode: Mode;
  used: boolean;
  environment?: SalesforceEnvironment;
  region?: IntercomRegion;
}

/** The fake's authorize pages: Salesforce's login host by environment, Intercom's app by region. */
function authorizeUrl(kind: OAuthDestinationKind, state: string, o: { environment?: SalesforceEnvironment; region?: IntercomRegion }): string {
  const pkce = `code_challenge_method=S256&code_challenge=${'c'.repeat(43)}`;
  if (kind === 'salesforce') {
    const host = o.environment === 'sandbox' ? 'test.salesforce.com' : 'login.salesforce.com';
    return `https://${host}/services/oauth2/authorize?response_type=code&client_id=fake-sf&state=${state}&${pkce}`;
  }
  if (kind === 'intercom') {
    const host = o.region && o.region !== 'us' ? `app.${o.region}.intercom.com` : 'app.intercom.com';
    return `https://${host}/oauth?client_id=fake-ic&state=${state}`;
  }
  return `https://www.klaviyo.com/oauth/authorize?response_type=code&state=${state}&${pkce}`;
}

/** What the fake names a destination connected with OAuth. */
const OAUTH_LABELS: Record<OAuthDestinationKind, string> = {
  klaviyo: 'Klaviyo (OAuth)',
  intercom: 'Acme workspace (Intercom)',
  salesforce: 'Acme Inc. (Salesforce)',
};

function isMode(v: unknown): v is Mode {
  return v === 'test' || v === 'live';
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const bodyOf = (req: SeenRequest) => (typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {});

/**
 * The destination routes of the backend, answering the contract types from an in-memory store that the test can
 * read (`store.destinations`, `store.activity`) and seed. Validation of settings is the contract's own
 * (`validateDestinationSettings`), as the backend's; a destination of the other mode is not found.
 */
export function installDestinationRoutes(backend: FakeBackend, seed: FakeDestinationsSeed = {}) {
  const store = {
    destinations: (seed.destinations ?? []).map((d) => clone(d)),
    activity: clone(seed.activity ?? {}) as NonNullable<FakeDestinationsSeed['activity']>,
    refusedKeys: { ...(seed.refusedKeys ?? {}) },
    testAnswers: { ...(seed.testAnswers ?? {}) },
    created: 0,
    /** States issued by GET /destinations/:kind/authorize-url (any OAuth kind), and whether each was used. */
    oauthStates: new Map<string, FakeOAuthState>(),
  };
  const oauthConfigured = (kind: OAuthDestinationKind) => seed.oauth?.[kind] ?? (kind === 'klaviyo' && seed.klaviyoOAuth === true);
  const badRequest = (message: string) => apiError(400, 'bad_request', message);
  const find = (id: string, mode: unknown) => store.destinations.find((d) => d.id === id && d.mode === mode);
  const notFound = (id: string) => apiError(404, 'not_found', `No destination ${id} in this mode`);
  /** The fake's own handlers, by route: a test can hold an answer back and then let the fake give it. */
  const handlers: Record<string, Handler> = {};
  const on = (key: string, handler: Handler) => {
    handlers[key] = handler;
    backend.route(key, handler);
  };
  const activityOf = (d: DestinationSummary): DestinationActivityResponse => ({
    mode: d.mode,
    destinationId: d.id,
    ...(store.activity[d.id] ?? { counts: d.counts, recent: [], deadLetters: [] }),
  });

  on('GET /destinations', (req) => {
    if (!isMode(req.query.mode)) return badRequest('mode must be test or live');
    const answer: ListDestinationsResponse = {
      mode: req.query.mode,
      destinations: store.destinations.filter((d) => d.mode === req.query.mode),
    };
    return ok(answer);
  });

  on('POST /destinations', (req) => {
    const { mode, kind, apiKey, settings, region } = bodyOf(req);
    if (!isMode(mode)) return badRequest('mode must be test or live');
    if (!isDestinationKind(kind)) return badRequest('kind must be klaviyo, loops, intercom or salesforce');
    // As the backend: Salesforce connects with OAuth only.
    if (kind === 'salesforce') return badRequest('Salesforce connects with Connect with Salesforce only: it takes no API key');
    if (typeof apiKey !== 'string' || apiKey.trim().length < 8) {
      return apiError(400, 'bad_request', 'The destination is not valid', [{ path: 'apiKey', message: 'Enter the API key' }]);
    }
    // As the backend: a region for Intercom only, one of Intercom's; absent means us.
    if (region !== undefined && (kind !== 'intercom' || !(INTERCOM_REGIONS as readonly unknown[]).includes(region))) {
      const message = kind === 'intercom' ? `region must be one of ${INTERCOM_REGIONS.join(', ')}` : 'Only Intercom has a region';
      return apiError(400, 'bad_request', 'The destination is not valid', [{ path: 'region', message }]);
    }
    let chosen = defaultDestinationSettings(kind);
    if (settings !== undefined) {
      const checked = validateDestinationSettings(kind, settings);
      if (!checked.ok) return apiError(400, 'invalid_settings', 'The settings are not valid', checked.errors);
      chosen = checked.settings;
    }
    if (store.destinations.some((d) => d.mode === mode && d.kind === kind)) {
      return apiError(409, 'already_connected', `${DESTINATION_LABELS[kind]} is already connected in ${mode} mode; disconnect it first`);
    }
    const refused = store.refusedKeys[apiKey];
    if (refused !== undefined) return apiError(422, 'destination_refused', `The key was refused: ${refused}`);
    store.created += 1;
    const destination: DestinationSummary = {
      id: `dst_${kind}_${store.created}`,
      kind,
      mode,
      label: DESTINATION_LABELS[kind],
      keyHint: apiKey.slice(-4),
      connectedAt: DESTINATION_CHECKED_AT,
      health: { state: 'ok', message: null, checkedAt: DESTINATION_CHECKED_AT },
      settings: chosen,
      counts: { synced: 0, pending: 0, failed: 0 },
      ...(kind === 'intercom' ? { region: INTERCOM_REGIONS.find((r) => r === region) ?? 'us' } : {}),
    };
    store.destinations.push(destination);
    const answer: DestinationResponse = { destination };
    return { status: 201, body: answer };
  });

  on('GET /destinations/:kind/authorize-url', (req, { kind }) => {
    if (!isMode(req.query.mode)) return badRequest('mode must be test or live');
    const oauthKind = OAUTH_DESTINATION_KINDS.find((k) => k === kind);
    if (!oauthKind) return apiError(404, 'not_found', `${kind} has no Connect with …`);
    const { environment, region } = req.query;
    // As the backend: an environment for Salesforce only, a region for Intercom only.
    if (environment !== undefined && (oauthKind !== 'salesforce' || !(SALESFORCE_ENVIRONMENTS as readonly string[]).includes(environment))) {
      return badRequest(oauthKind === 'salesforce' ? `environment must be one of ${SALESFORCE_ENVIRONMENTS.join(', ')}` : 'Only Salesforce has an environment');
    }
    if (region !== undefined && (oauthKind !== 'intercom' || !(INTERCOM_REGIONS as readonly string[]).includes(region))) {
      return badRequest(oauthKind === 'intercom' ? `region must be one of ${INTERCOM_REGIONS.join(', ')}` : 'Only Intercom has a region');
    }
    if (!oauthConfigured(oauthKind)) {
      return apiError(503, 'not_configured', `Connect with ${DESTINATION_LABELS[oauthKind]} is not configured on this backend`);
    }
    const state = `${OAUTH_STATE_PREFIXES[oauthKind]}fake${store.oauthStates.size + 1}`;
    const issued: FakeOAuthState = { mode: req.query.mode, used: false };
    if (oauthKind === 'salesforce') issued.environment = SALESFORCE_ENVIRONMENTS.find((e) => e === environment) ?? 'production';
    if (oauthKind === 'intercom') issued.region = INTERCOM_REGIONS.find((r) => r === region) ?? 'us';
    store.oauthStates.set(state, issued);
    const answer: DestinationAuthorizeUrlResponse = { url: authorizeUrl(oauthKind, state, issued) };
    return ok(answer);
  });

  on('POST /destinations/:kind/connect', (req, { kind }) => {
    const oauthKind = OAUTH_DESTINATION_KINDS.find((k) => k === kind);
    if (!oauthKind) return apiError(404, 'not_found', `${kind} has no Connect with …`);
    const { mode, code, state } = bodyOf(req);
    if (!isMode(mode) || typeof code !== 'string' || typeof state !== 'string') return badRequest('mode, code and state are required');
    const label = DESTINATION_LABELS[oauthKind];
    if (!oauthConfigured(oauthKind)) return apiError(503, 'not_configured', `Connect with ${label} is not configured on this backend`);
    const issued = store.oauthStates.get(state);
    if (!issued || issued.used || issued.mode !== mode || oauthDestinationOfState(state) !== oauthKind) {
      return apiError(400, 'invalid_oauth_state', `This ${label} authorization was not started by you from this app. Connect again.`);
    }
    issued.used = true;
    if (store.destinations.some((d) => d.mode === mode && d.kind === oauthKind)) {
      return apiError(409, 'already_connected', `${label} is already connected in ${mode} mode; disconnect it first`);
    }
    const missing = oauthKind === 'salesforce' ? seed.salesforceMissingFields ?? [] : [];
    if (missing.length > 0) {
      return badRequest(`Your Salesforce org has no field ${missing.join(', ')} on Contact: create ${missing.length === 1 ? 'it' : 'them'} (Setup › Object Manager › Contact › Fields & Relationships), then connect again.`);
    }
    store.created += 1;
    const destination: DestinationSummary = {
      id: `dst_${oauthKind}_${store.created}`,
      kind: oauthKind,
      mode,
      label: OAUTH_LABELS[oauthKind],
      keyHint: 'OAuth',
      auth: 'oauth',
      ...(issued.region ? { region: issued.region } : {}),
      ...(issued.environment ? { environment: issued.environment } : {}),
      connectedAt: DESTINATION_CHECKED_AT,
      health: { state: 'ok', message: null, checkedAt: DESTINATION_CHECKED_AT },
      settings: defaultDestinationSettings(oauthKind),
      counts: { synced: 0, pending: 0, failed: 0 },
    };
    store.destinations.push(destination);
    const answer: DestinationResponse = { destination };
    return { status: 201, body: answer };
  });

  on('PUT /destinations/:id/settings', (req, { id }) => {
    const { mode, settings } = bodyOf(req);
    const d = find(id, mode);
    if (!d) return notFound(id);
    const checked = validateDestinationSettings(d.kind, settings);
    if (!checked.ok) return apiError(400, 'invalid_settings', 'The settings are not valid', checked.errors);
    d.settings = checked.settings;
    const answer: DestinationResponse = { destination: d };
    return ok(answer);
  });

  on('POST /destinations/:id/test', (req, { id }) => {
    const d = find(id, bodyOf(req).mode);
    if (!d) return notFound(id);
    const answer: TestDestinationResponse = store.testAnswers[id] ?? {
      ok: d.health.state !== 'broken',
      message: d.health.state === 'broken' ? `The key was refused: ${d.health.message ?? ''}` : `Connected to ${d.label}`,
      health: { ...d.health, state: d.health.state === 'broken' ? 'broken' : 'ok', checkedAt: DESTINATION_CHECKED_AT },
    };
    d.health = answer.health;
    return ok(answer);
  });

  on('DELETE /destinations/:id', (req, { id }) => {
    const { mode, confirm } = bodyOf(req);
    const d = find(id, mode);
    if (!d) return notFound(id);
    if (confirm !== id) return badRequest('Confirm the disconnection: send confirm with the destination id');
    store.destinations = store.destinations.filter((x) => x !== d);
    const answer: DeleteDestinationResponse = { disconnected: true };
    return ok(answer);
  });

  on('GET /destinations/:id/activity', (req, { id }) => {
    const d = find(id, req.query.mode);
    if (!d) return notFound(id);
    return ok(activityOf(d));
  });

  on('POST /destinations/:id/dead-letters/replay', (req, { id }) => {
    const { mode, customerIds, all } = bodyOf(req);
    const d = find(id, mode);
    if (!d) return notFound(id);
    if (all !== true && !(Array.isArray(customerIds) && customerIds.every((c) => typeof c === 'string'))) {
      return badRequest('Give customerIds or all: true');
    }
    const activity = activityOf(d);
    const chosen = activity.deadLetters.filter((l) => all === true || (customerIds as string[]).includes(l.customerId));
    const counts = {
      ...activity.counts,
      failed: activity.counts.failed - chosen.length,
      pending: activity.counts.pending + chosen.length,
    };
    store.activity[id] = {
      counts,
      recent: activity.recent,
      deadLetters: activity.deadLetters.filter((l) => !chosen.includes(l)),
    };
    d.counts = counts;
    const answer: ReplayResponse = { replayed: chosen.length };
    return ok(answer);
  });

  return Object.assign(store, { handlers });
}

export type FakeDestinations = ReturnType<typeof installDestinationRoutes>;
