import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkScopes, FAKE_APP_ID, requiredScopeGroups, TokenStore } from './auth';
import {
  defaultFailureBody,
  errorBody,
  fail,
  invalidApiKey,
  HubSpotHttpError,
  rateLimitBody,
  validationError,
  type HandlerResult,
} from './errors';
import { Injector, RollingLimiter } from './limits';
import { answerLost } from './lost-answers';
import { Portal } from './portal';
import { Router, type Route } from './router';
import { accountRoutes } from './routes/account';
import { associationRoutes } from './routes/associations-v4';
import { contactBasicRoutes } from './routes/contacts-basic';
import { contactBatchRoutes } from './routes/contacts-batch';
import { oauthRoutes } from './routes/oauth';
import { objectBasicRoutes } from './routes/objects-basic';
import { objectBatchRoutes } from './routes/objects-batch';
import { pipelineRoutes } from './routes/pipelines';
import { propertyRoutes } from './routes/properties';
import { objectSearchRoutes, searchRoutes } from './routes/search';
import { taskRoutes } from './routes/tasks';
import { taskBatchRoutes } from './routes/tasks-batch';
import { timelineRoutes } from './routes/timeline';
import { validateRequestBody } from './spec-validator';
import { TimelineTemplates } from './timeline';
import type { FakeHubSpot, FakeHubSpotOptions, RecordedRequest, RequestFilter } from './types';

export type {
  AssociableType,
  CrmObjectType,
  FakeAssociation,
  FakeAssociationType,
  FakeContact,
  FakeEventTemplate,
  FakeObject,
  FakePipeline,
  FakePipelineStage,
  FakeTimelineEvent,
  FakeHubSpot,
  FakeHubSpotInject,
  FakeHubSpotOptions,
  FakePortal,
  FakeTask,
  IssueCodeOptions,
  RecordedRequest,
  RequestFilter,
} from './types';

/**
 * A fake HubSpot API on 127.0.0.1 for tests, reached through the real `@hubspot/api-client` with
 * `basePath: fake.url`. It follows HubSpot's published OpenAPI contracts (`specs/hubspot`): request
 * bodies are validated against each operation's schema and answers use HubSpot's shapes and error bodies.
 * Each portal (HubSpot account) has its own contacts, companies, deals, tickets, notes, tasks, properties,
 * pipelines, associations and timeline events; the bearer token decides the portal. Timeline event templates
 * belong to the fake's one app. See README.md in this folder for the behaviours it models.
 */
export async function startFakeHubSpot(options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> {
  const opts = {
    burstLimit: options.burstLimit ?? 110,
    burstWindowMs: options.burstWindowMs ?? 10_000,
    searchPerSecond: options.searchPerSecond ?? 5,
    searchLagMs: options.searchLagMs ?? 0,
    latencyMs: options.latencyMs ?? 0,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 1800,
    clientId: options.clientId ?? 'test-client-id',
    clientSecret: options.clientSecret ?? 'test-client-secret',
    validateBodies: options.validateBodies ?? true,
    seed: options.seed ?? 1,
    developerApiKey: options.developerApiKey ?? 'test-developer-api-key',
  };
  const portals = new Map<number, Portal>();
  const tokens = new TokenStore();
  const requests: RecordedRequest[] = [];
  const burst = new RollingLimiter(opts.burstLimit, opts.burstWindowMs);
  const search = new RollingLimiter(opts.searchPerSecond, 1000);
  const injector = new Injector(opts.seed);
  /** Stand-in for OAuth and developer routes, which act for no portal. */
  const noPortal = new Portal(0);
  const templates = new TimelineTemplates();

  const portal = (id: number): Portal => {
    let p = portals.get(id);
    if (!p) portals.set(id, (p = new Portal(id)));
    return p;
  };

  const objectTypes = ['companies', 'deals', 'tickets', 'notes'] as const;
  const routes: Route[] = [
    ...searchRoutes,
    ...contactBatchRoutes,
    ...contactBasicRoutes,
    ...taskRoutes,
    ...taskBatchRoutes,
    ...objectTypes.flatMap((t) => [...objectSearchRoutes(t), ...objectBatchRoutes(t)]),
    ...objectTypes.flatMap((t) => objectBasicRoutes(t)),
    ...propertyRoutes,
    ...pipelineRoutes,
    ...associationRoutes,
    ...timelineRoutes({ templates, appId: FAKE_APP_ID }),
    ...accountRoutes,
    ...oauthRoutes({
      tokens,
      clientId: () => opts.clientId,
      clientSecret: () => opts.clientSecret,
      lifetimeSeconds: () => opts.tokenLifetimeSeconds,
    }),
  ];
  const router = new Router(routes);

  /** Auth, rate limits and injected failures of a CRM request; returns the rate-limit headers. */
  function admit(route: Route, req: IncomingMessage, record: RecordedRequest): Record<string, string> {
    if (route.kind === 'developer') {
      if (record.query.hapikey !== opts.developerApiKey) throw invalidApiKey();
      const injected = injector.next(route.write === true);
      if (injected) throw new HttpFailure(injected.status, injected.body ?? defaultFailureBody(injected.status), {});
      return {};
    }
    const auth = tokens.authenticate(req.headers.authorization, record.at);
    if (auth instanceof HubSpotHttpError) throw auth;
    const portalId = auth.portalId;
    record.portalId = portalId;
    const used = burst.count(portalId, record.at);
    const overBurst = used >= burst.limit;
    const overSearch = route.kind === 'search' && search.count(portalId, record.at) >= search.limit;
    if (!overBurst) burst.record(portalId, record.at);
    if (!overBurst && !overSearch && route.kind === 'search') search.record(portalId, record.at);
    const headers = {
      'X-HubSpot-RateLimit-Max': String(burst.limit),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, burst.limit - used - (overBurst ? 0 : 1))),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(burst.windowMs),
    };
    if (overBurst || overSearch) {
      throw new HttpFailure(429, rateLimitBody(overBurst ? 'TEN_SECONDLY_ROLLING' : 'SECONDLY'), headers);
    }
    if (route.oauthOnly && auth.scopes === null) {
      const refused = checkScopes([], ['timeline'])!;
      const message = 'This API needs an OAuth access token of the app that owns the event template: private-app tokens cannot send timeline events.';
      throw new HttpFailure(refused.status, { ...refused.body, message }, headers);
    }
    for (const group of requiredScopeGroups(record.path, route.write === true)) {
      const missing = checkScopes(auth.scopes, group);
      if (missing) throw new HttpFailure(missing.status, missing.body, headers);
    }
    const injected = injector.next(route.write === true);
    if (injected) throw new HttpFailure(injected.status, injected.body ?? defaultFailureBody(injected.status), headers);
    return headers;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const record: RecordedRequest = { method, path: url.pathname, query: queryOf(url), status: 0, body: undefined, portalId: null, at };
    requests.push(record);
    let result: HandlerResult;
    let headers: Record<string, string> = {};
    try {
      const matched = router.match(method, url.pathname);
      if (!matched) throw fail(404, 'OBJECT_NOT_FOUND', `No HubSpot endpoint ${method} ${url.pathname} in this fake`);
      if ('allowed' in matched) {
        throw fail(405, 'METHOD_NOT_ALLOWED', `HTTP ${method} is not supported by ${url.pathname}: use ${matched.allowed.join(', ')}`);
      }
      const { route, params } = matched;
      const parsed = parseBody(raw, route.form === true);
      record.body = parsed.value;
      if (route.kind !== 'oauth') headers = admit(route, req, record);
      if (parsed.error) throw parsed.error;
      if (opts.validateBodies && route.op) validateRequestBody(route.op, parsed.value);
      const hold = route.kind === 'oauth' ? 0 : injector.nextHold(route.write === true);
      if (hold > 0) await new Promise((r) => setTimeout(r, hold));
      const owner = record.portalId === null ? noPortal : portal(record.portalId);
      result = await route.handler({
        portal: owner,
        body: parsed.value,
        query: record.query,
        params,
        now: new Date(at),
        searchLagMs: opts.searchLagMs,
      });
    } catch (e) {
      if (e instanceof HttpFailure) {
        result = { status: e.status, body: e.body };
        headers = { ...headers, ...e.headers };
      } else if (e instanceof HubSpotHttpError) {
        result = { status: e.status, body: e.body };
      } else {
        console.error('fake HubSpot: handler crashed', e);
        result = { status: 500, body: errorBody('INTERNAL_ERROR', e instanceof Error ? e.message : String(e)) };
      }
    }
    if (answerLost(requests, record, res, result)) return;
    const latency = injector.latencyMs ?? opts.latencyMs;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    record.status = result.status;
    send(res, result, { ...headers, ...(result.headers ?? {}) });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error('fake HubSpot: request failed', e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    portal,
    appId: FAKE_APP_ID,
    developerApiKey: opts.developerApiKey,
    eventTemplates: () => [...templates.list],
    addPrivateAppToken: (token, portalId) => tokens.addPrivateAppToken(token, portalId),
    issueAuthorizationCode: (code, portalId, issueOpts) => tokens.issueCode(code, portalId, issueOpts),
    expireAccessTokens: () => tokens.expireAll(),
    revokePrivateAppToken: (token) => tokens.removePrivateAppToken(token),
    uninstallApp: (portalId) => tokens.revokePortalGrants(portalId),
    requests,
    requestCount: (filter: RequestFilter = {}) => requests.filter((r) => matchesFilter(r, filter)).length,
    inject: {
      failNext: (count, status, body) => injector.failNext(count, status, body),
      failRate: (fraction, status) => injector.failRate(fraction, status),
      lockNext: (count) => injector.lockNext(count),
      delayNext: (count, ms) => injector.delayNext(count, ms),
      latency: (ms) => (injector.latencyMs = ms),
      setBurstLimit: (limit, windowMs) => {
        burst.limit = limit;
        if (windowMs !== undefined) burst.windowMs = windowMs;
      },
      seed: (seed) => injector.seed(seed),
      clear: () => {
        injector.clear();
        burst.limit = opts.burstLimit;
        burst.windowMs = opts.burstWindowMs;
      },
    },
    reset: () => {
      portals.clear();
      templates.clear();
      tokens.clear();
      requests.length = 0;
      injector.clear();
      burst.clear();
      search.clear();
      burst.limit = opts.burstLimit;
      burst.windowMs = opts.burstWindowMs;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A failure answered with extra headers (429s and injected failures keep the rate-limit headers). */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${status}`);
  }
}

function matchesFilter(r: RecordedRequest, f: RequestFilter): boolean {
  return (
    (f.portalId === undefined || r.portalId === f.portalId) &&
    (f.pathPrefix === undefined || r.path.startsWith(f.pathPrefix)) &&
    (f.method === undefined || r.method === f.method.toUpperCase())
  );
}

function queryOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, form: boolean): { value: unknown; error?: HubSpotHttpError } {
  if (raw.length === 0) return { value: undefined };
  if (form) return { value: Object.fromEntries(new URLSearchParams(raw)) };
  try {
    return { value: JSON.parse(raw) as unknown };
  } catch (e) {
    return { value: raw, error: validationError(`Invalid input JSON on line 1, column 1: ${(e as Error).message}`) };
  }
}

function send(res: ServerResponse, result: HandlerResult, headers: Record<string, string>): void {
  if (result.status === 204 || result.body === undefined) {
    res.writeHead(result.status, headers).end();
    return;
  }
  const text = typeof result.body === 'string';
  const payload = text ? (result.body as string) : JSON.stringify(result.body);
  res
    .writeHead(result.status, {
      'Content-Type': text ? 'text/html;charset=utf-8' : 'application/json;charset=utf-8',
      'Content-Length': String(Buffer.byteLength(payload)),
      ...headers,
    })
    .end(payload);
}
