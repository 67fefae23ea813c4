import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Client } from '@hubspot/api-client';

/**
 * `@hubspot/api-client` clients, one per access token, all built from one configuration: our `basePath`, no SDK
 * retries and no SDK limiter (the SDK keeps those in a process-wide singleton that every new `Client` replaces;
 * we do retries and limits ourselves, per portal, in `call.ts` and `rate-budget.ts`). Build every `Client` of
 * the process here.
 *
 * SDK 13.4 ignores client-level `middleware` and `httpAgent` (its generated code only applies per-call
 * `_options.middleware`), so each call gets `SdkOptions` from `sdkOptions()`: a middleware that puts our
 * timeout agent on the request and records the response (status, headers, and the body of error answers).
 */

export const DEFAULT_API_BASE_URL = 'https://api.hubapi.com';

/** What one HTTP attempt answered, as seen by our per-call middleware. */
export interface ResponseCapture {
  status?: number;
  headers?: Record<string, string>;
  /** Raw body text of answers ≥ 400 (the SDK's own parsing drops or fails on some of them). */
  errorBody?: string;
}

/**
 * Per-call SDK options: pass as the last argument of any SDK method. Opaque and typed `never` because every
 * generated SDK module declares its own nominal option types (the runtime shape is the same everywhere).
 */
export type SdkOptions = never;

export interface HubSpotClients {
  readonly baseUrl: string;
  /** The cached client of this access token. */
  forToken(accessToken: string): Client;
  /** Options for one SDK call that record its response into `capture`. */
  sdkOptions(capture: ResponseCapture): SdkOptions;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export interface ClientOptions {
  /** HUBSPOT_API_BASE_URL; default https://api.hubapi.com. */
  baseUrl?: string;
  /** A request whose socket stays silent this long fails as a network error. Default 30 s. */
  timeoutMs?: number;
  /** Clients kept (least recently used are dropped). Default 1000. */
  maxClients?: number;
}

export function createHubSpotClients(options: ClientOptions = {}): HubSpotClients {
  const baseUrl = (options.baseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
  const maxClients = options.maxClients ?? 1000;
  const agent = timeoutAgent(baseUrl, options.timeoutMs ?? 30_000);
  const cache = new Map<string, Client>();

  return {
    baseUrl,
    forToken(accessToken) {
      const hit = cache.get(accessToken);
      if (hit) {
        cache.delete(accessToken);
        cache.set(accessToken, hit);
        return hit;
      }
      const client = new Client({ accessToken, basePath: baseUrl, numberOfApiCallRetries: 0 });
      cache.set(accessToken, client);
      if (cache.size > maxClients) cache.delete(cache.keys().next().value as string);
      return client;
    },
    sdkOptions(capture) {
      const middleware = {
        pre: async (ctx: { setAgent(a: http.Agent): void }) => {
          ctx.setAgent(agent);
          return ctx;
        },
        post: async (ctx: MutableResponse) => {
          capture.status = ctx.httpStatusCode;
          capture.headers = ctx.headers;
          if (ctx.httpStatusCode >= 400) {
            const text = await ctx.body.text();
            capture.errorBody = text;
            ctx.body = { text: async () => text, binary: async () => Buffer.from(text) };
          }
          return ctx;
        },
      };
      return { middleware: [middleware], middlewareMergeStrategy: 'replace' } as unknown as SdkOptions;
    },
    close() {
      agent.destroy();
    },
  };
}

interface MutableResponse {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string>; binary(): Promise<Buffer> };
}

/** A keep-alive agent whose sockets fail with a network error after `timeoutMs` of silence. */
function timeoutAgent(baseUrl: string, timeoutMs: number): http.Agent {
  const opts = { keepAlive: true, timeout: timeoutMs };
  const agent = baseUrl.startsWith('https:') ? new https.Agent(opts) : new http.Agent(opts);
  const withCreate = agent as unknown as { createConnection: (...args: unknown[]) => Socket };
  const create = withCreate.createConnection.bind(agent);
  withCreate.createConnection = (...args: unknown[]) => {
    const socket = create(...args);
    socket.on('timeout', () => {
      const err = new Error(`HubSpot request timed out after ${timeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      socket.destroy(err);
    });
    return socket;
  };
  return agent;
}
