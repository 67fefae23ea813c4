import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FakeAccount, PLATFORM_ACCOUNT } from './account';
import { apiError, invalidKey, missingKey, rateLimited, StripeHttpError, unrecognizedUrl } from './errors';
import { parseQuery, type Params } from './params';
import { RollingWindow } from './rate';
import { route } from './routes';
import type { FakeStripe, FakeStripeOptions, FakeStripeRequest } from './types';

/**
 * A fake Stripe API on 127.0.0.1 for tests, reached through the real `stripe` SDK:
 * `new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 })`.
 * Order of checks per request: down (500) → key (401) → rate limit per account+mode (429) → route.
 */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const apiKeys = new Set(options.apiKeys ?? ['sk_test_fake', 'sk_live_fake']);
  const retentionSeconds = (options.eventRetentionDays ?? 30) * 86_400;
  let rate = options.ratePerSecond;
  let latency = options.latencyMs ?? 0;
  let down = false;
  let requestSeq = 0;
  const accounts = new Map<string, FakeAccount>();
  const windows = new Map<string, RollingWindow>();
  const requests: FakeStripeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const accountOf = (accountId: string, livemode: boolean): FakeAccount => {
    const key = `${accountId}|${livemode}`;
    let acc = accounts.get(key);
    if (!acc) accounts.set(key, (acc = new FakeAccount(accountId, livemode)));
    return acc;
  };
  const windowOf = (accountId: string, livemode: boolean): RollingWindow => {
    const key = `${accountId}|${livemode}`;
    let w = windows.get(key);
    if (!w) windows.set(key, (w = new RollingWindow()));
    return w;
  };

  function answer(req: IncomingMessage): { status: number; body: unknown; record: Omit<FakeStripeRequest, 'status'> } {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const method = req.method ?? 'GET';
    const accountId = headerValue(req, 'stripe-account') ?? PLATFORM_ACCOUNT;
    const key = bearerKey(req);
    const livemode = key !== undefined && key.includes('_live_');
    let query: Params = {};
    const record = () => ({ method, path: url.pathname, query, account: accountId, livemode, at: Date.now() });
    try {
      query = parseQuery(url.search);
      if (down) throw apiError();
      if (key === undefined) throw missingKey();
      if (!apiKeys.has(key)) throw invalidKey(key);
      const limit = rate ?? (livemode ? 100 : 25);
      if (!windowOf(accountId, livemode).admit(performance.now(), limit)) throw rateLimited();
      const body = method === 'GET'
        ? route(url.pathname, query, { account: accountOf(accountId, livemode), eventsSince: Math.floor(Date.now() / 1000) - retentionSeconds })
        : undefined;
      if (body === undefined) throw unrecognizedUrl(method, url.pathname);
      return { status: 200, body, record: record() };
    } catch (err) {
      if (!(err instanceof StripeHttpError)) throw err;
      return { status: err.status, body: { error: err.body }, record: record() };
    }
  }

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      let out: ReturnType<typeof answer>;
      try {
        out = answer(req);
      } catch (err) {
        out = { status: 500, body: { error: { type: 'api_error', message: `fake stripe crashed: ${String(err)}` } }, record: { method: req.method ?? '', path: req.url ?? '', query: {}, account: '', livemode: false, at: Date.now() } };
      }
      requests.push({ ...out.record, status: out.status });
      const send = () => writeJson(res, out.status, out.body, `req_fake${String(++requestSeq).padStart(10, '0')}`, headerValue(req, 'stripe-version'));
      if (latency <= 0) return send();
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, latency);
      timers.add(t);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = '127.0.0.1';

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    account: accountOf,
    requests,
    requestCount(filter = {}) {
      return requests.filter((r) =>
        (filter.account === undefined || r.account === filter.account) &&
        (filter.pathPrefix === undefined || r.path.startsWith(filter.pathPrefix))).length;
    },
    peakRequestsPerSecond: (account, livemode) => windows.get(`${account}|${livemode}`)?.peak() ?? 0,
    setRatePerSecond(n) {
      rate = n;
    },
    setLatency(ms) {
      latency = ms;
    },
    setDown(d) {
      down = d;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** The secret key from `Authorization: Bearer <key>` or Basic auth (key as the user name), as Stripe accepts. */
function bearerKey(req: IncomingMessage): string | undefined {
  const auth = headerValue(req, 'authorization');
  if (!auth) return undefined;
  const [scheme, value] = auth.split(/\s+/, 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':')[0] || undefined;
  return undefined;
}

function writeJson(res: ServerResponse, status: number, body: unknown, requestId: string, version: string | undefined): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': requestId,
    ...(version ? { 'stripe-version': version } : {}),
  });
  res.end(text);
}
