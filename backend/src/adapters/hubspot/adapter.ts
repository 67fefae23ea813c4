import type { Registry } from 'prom-client';
import type { Db } from '../store/db';
import { createCaller, type CallHubSpot, type PortalAuth, type RetryPolicy } from './call';
import { createHubSpotClients, type HubSpotClients } from './client';
import { createHubSpotMetrics } from './metrics';
import { bindPortal, type HubSpotPortal, type PortalCallDefaults } from './portal';
import { createRateBudget, type RateBudget } from './rate-budget';

/** Wires the HubSpot adapter's parts: clients, the database rate budget, the retrying caller, metrics. */

export interface HubSpotAdapterOptions {
  db: Db;
  /** HUBSPOT_API_BASE_URL (default https://api.hubapi.com). */
  apiBaseUrl?: string;
  /** HUBSPOT_RATE_LIMIT_PER_10S (default 100). */
  rateLimitPer10s?: number;
  /** Search requests per second per portal (default 4). */
  searchPerSecond?: number;
  /** Per-request socket timeout (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Metrics go here when given. */
  registry?: Registry;
  /** Told after each call a portal answered with success. */
  onCallSucceeded?: (portalId: number) => void;
}

export interface HubSpotAdapter {
  readonly clients: HubSpotClients;
  readonly budget: RateBudget;
  readonly callHubSpot: CallHubSpot;
  /** A portal to call as `auth` (e.g. `installs.portalAuth(db, install)`). */
  portal(auth: PortalAuth, defaults?: PortalCallDefaults): HubSpotPortal;
  close(): void;
}

export function createHubSpotAdapter(options: HubSpotAdapterOptions): HubSpotAdapter {
  const clients = createHubSpotClients({ baseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs });
  const budget = createRateBudget(options.db, {
    limitPer10s: options.rateLimitPer10s,
    searchPerSecond: options.searchPerSecond,
  });
  const metrics = options.registry ? createHubSpotMetrics(options.registry) : undefined;
  const callHubSpot = createCaller({ budget, clients, metrics, retry: options.retry, onSuccess: options.onCallSucceeded });
  return {
    clients,
    budget,
    callHubSpot,
    portal: (auth, defaults) => bindPortal(callHubSpot, auth, defaults),
    close: () => clients.close(),
  };
}

/** A private-app style auth: a fixed token for a known portal (no refresh). */
export function staticTokenAuth(portalId: number, accessToken: string): PortalAuth {
  return { portalId, accessToken: async () => accessToken };
}
