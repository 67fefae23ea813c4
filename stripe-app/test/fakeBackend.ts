import { APP_API_PREFIX } from '../src/data/contracts';

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

export type Handler = (req: SeenRequest) => Reply | Promise<Reply>;

export const BACKEND_ORIGIN = 'https://backend.test';

/**
 * A fake of the browser's `fetch` standing in for our backend: routes keyed by "METHOD /path",
 * every request recorded. Unknown routes answer 404 with the API's error body.
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
    const route = table.get(`${req.method} ${req.path}`);
    const reply: Reply = route
      ? typeof route === 'function'
        ? await route(req)
        : route
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
