import type { HandlerResult } from './errors';
import type { Portal } from './portal';
import type { OperationRef } from './spec-validator';

/** Route table types shared by the route modules and the server. */

export interface Context {
  /** The authenticated portal (CRM routes only). */
  portal: Portal;
  body: unknown;
  query: Record<string, string>;
  params: Record<string, string>;
  now: Date;
  /** Index lag currently configured (ms). */
  searchLagMs: number;
}

/**
 * `crm`: authenticated, rate limited, subject to injected failures; `search` as crm plus the per-second
 * search limit; `developer`: authenticated by the app's developer API key (`?hapikey=`), for no portal, not
 * rate limited, subject to injected failures (timeline event templates); `oauth`: none of that.
 */
export type RouteKind = 'crm' | 'search' | 'developer' | 'oauth';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path with `:name` parameters, e.g. `/crm/v3/objects/contacts/:contactId`. */
  path: string;
  kind: RouteKind;
  /** Writes are what `inject.lockNext` locks. */
  write?: boolean;
  /** The spec operation whose requestBody schema validates the body. */
  op?: OperationRef;
  /** Body is form-encoded (OAuth). */
  form?: boolean;
  /** Only an OAuth access token may call it: private-app tokens are refused with 403 (timeline events). */
  oauthOnly?: boolean;
  handler(ctx: Context): HandlerResult | Promise<HandlerResult>;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

export class Router {
  private compiled: Compiled[] = [];

  constructor(routes: Route[]) {
    for (const route of routes) {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((seg) => {
          if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(seg.slice(1));
          return '([^/]+)';
        })
        .join('/');
      this.compiled.push({ route, regex: new RegExp(`^${source}/?$`), names });
    }
  }

  /** The first route matching method and path (literal segments win: list them first). */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { route: c.route, params };
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}
