/**
 * The system under test of the burst and latency benches: the real server process (`node --import tsx
 * src/main.ts`, as `npm start` runs it) on a fresh database — PostgreSQL when DATABASE_URL is set, else the
 * embedded database in a temporary directory — connected with a private-app token to a fake HubSpot running
 * in the bench process with HubSpot's burst limit (110 per 10 s). Progress is read through the signed Stripe
 * App API (`GET /activity`), which works on both databases (an embedded database has one process only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_API_PREFIX, defaultSettings, type ActivityResponse, type CrmObjectSettings, type EventOutcome } from '@stripe-hubspot-sync/contracts';
import { startFakeHubSpot, type FakeHubSpot } from '../../test/fakes/hubspot/server';
import { freshDatabase, type DbKind, type TestDatabase } from '../../test/helpers/db';
import { spawnServerProcess, type ServerProcess } from '../../test/helpers/server';
import { signatureHeader } from '../../test/helpers/stripe-fixtures';
import { startScriptLaunch } from '../lib/start-flags';
import { burstPlan } from './events';
import { runLoadProcess, type PlanSpec } from './load';

export const BENCH_WEBHOOK_SECRET = 'whsec_bench_burst';
export const BENCH_APP_SECRET = 'absec_bench_app_secret';
export const BENCH_ACCOUNT_ID = 'acct_benchmerchant';
const APP_SECRET = BENCH_APP_SECRET;
const ACCOUNT_ID = BENCH_ACCOUNT_ID;
export const HUBSPOT_BURST_LIMIT = 110;
export const HUBSPOT_WINDOW_MS = 10_000;
export const OUR_BUDGET_PER_10S = 100;

export interface BenchBackendOptions {
  /** Default: postgres when DATABASE_URL is set, else pglite. */
  kind?: DbKind;
  /** Extra server environment. */
  env?: Record<string, string>;
  /** The portal our private-app token belongs to. */
  portalId?: number;
}

export interface BenchBackend {
  kind: DbKind;
  url: string;
  hubspot: FakeHubSpot;
  portalId: number;
  server: ServerProcess;
  /** Outcome counts of the events stored in the last 24 h (test mode), from the app API. */
  outcomes(): Promise<Record<EventOutcome, number>>;
  /**
   * Polls until `expected` events are stored and none is pending (every event applied and every customer's
   * write settled); answers when the poll that saw it was answered (epoch ms) and the counts. Throws after
   * `timeoutMs`.
   */
  waitSettled(expected: number, timeoutMs: number, pollMs?: number): Promise<{ at: number; outcomes: Record<EventOutcome, number> }>;
  /** Saves the test-mode settings: the defaults with this `crm` section (what is written beyond contacts). */
  setCrm(crm: CrmObjectSettings): Promise<void>;
  /** Samples the server's `queue_depth` metric (event jobs waiting to be applied) until the answer is called. */
  watchQueueDepth(intervalMs?: number): () => Promise<{ max: number; samples: number; series: [number, number][] }>;
  stop(): Promise<void>;
}

export function defaultKind(): DbKind {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

export async function startBenchBackend(opts: BenchBackendOptions = {}): Promise<BenchBackend> {
  const kind = opts.kind ?? defaultKind();
  const portalId = opts.portalId ?? 4242;
  const token = `pat-bench-${portalId}`;
  const hubspot = await startFakeHubSpot({ burstLimit: HUBSPOT_BURST_LIMIT, burstWindowMs: HUBSPOT_WINDOW_MS });
  hubspot.addPrivateAppToken(token, portalId);
  const dataDir = kind === 'pglite' ? mkdtempSync(join(tmpdir(), 'shs-bench-burst-')) : undefined;
  let database: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  const cleanup = async () => {
    await server?.stop('SIGTERM');
    await database?.drop().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await hubspot.close();
  };
  try {
    database = await freshDatabase(kind, dataDir ? { dataDir } : {});
    const launch = startScriptLaunch();
    server = await spawnServerProcess({
      nodeArgs: launch.nodeArgs,
      env: {
        ...launch.env,
        STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
        STRIPE_APP_SECRET: APP_SECRET,
        STRIPE_ACCOUNT_ID: ACCOUNT_ID,
        HUBSPOT_ACCESS_TOKEN: token,
        HUBSPOT_API_BASE_URL: hubspot.url,
        HUBSPOT_RATE_LIMIT_PER_10S: String(OUR_BUDGET_PER_10S),
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir as string }),
        ...opts.env,
      },
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const running = server;

  const appHeaders = () => {
    const payload = JSON.stringify({ user_id: 'usr_bench', account_id: ACCOUNT_ID });
    return {
      'content-type': 'application/json',
      'stripe-signature': signatureHeader(payload, APP_SECRET),
      'x-stripe-user-id': 'usr_bench',
      'x-stripe-account-id': ACCOUNT_ID,
    };
  };
  const outcomes = async (): Promise<Record<EventOutcome, number>> => {
    const res = await fetch(`${running.url}${APP_API_PREFIX}/activity?mode=test&limit=1`, { headers: appHeaders(), signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`GET /activity answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as ActivityResponse).counts24h;
  };

  return {
    kind,
    url: running.url,
    hubspot,
    portalId,
    server: running,
    outcomes,
    async setCrm(crm) {
      const res = await fetch(`${running.url}${APP_API_PREFIX}/settings?mode=test`, {
        method: 'PUT',
        headers: appHeaders(),
        body: JSON.stringify({ settings: { ...defaultSettings(), crm } }),
        signal: AbortSignal.timeout(20_000),
      });
      if (res.status !== 200) throw new Error(`PUT /settings answered ${res.status}: ${await res.text()}`);
    },
    async waitSettled(expected, timeoutMs, pollMs = 100) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await outcomes();
        // Dated by the answer: an upper bound of when the last event settled (by at most one poll and a query).
        const answered = Date.now();
        const stored = Object.values(counts).reduce((a, b) => a + b, 0);
        if (stored >= expected && counts.pending === 0) return { at: answered, outcomes: counts };
        if (Date.now() > deadline) {
          throw new Error(`not settled after ${timeoutMs} ms: ${stored}/${expected} stored, outcomes ${JSON.stringify(counts)}`);
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    watchQueueDepth(intervalMs = 500) {
      let max = 0;
      let samples = 0;
      let stopped = false;
      const series: [number, number][] = [];
      const loop = (async () => {
        while (!stopped) {
          const text = await fetch(`${running.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
            .then((r) => r.text())
            .catch(() => '');
          const m = /^queue_depth (\d+)/m.exec(text);
          if (m) {
            samples += 1;
            max = Math.max(max, Number(m[1]));
            series.push([Date.now(), Number(m[1])]);
          }
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      })();
      return async () => {
        stopped = true;
        await loop;
        return { max, samples, series };
      };
    },
    stop: cleanup,
  };
}

/**
 * One customer through the whole pipeline before a measurement (the portal lookup and the property
 * provisioning happen once per portal); answers the HubSpot calls it took. `events` > 1: the customer's story of
 * the burst plan (a subscription, so the deal pipeline and the records beyond contacts are provisioned too).
 */
export async function warmUp(backend: BenchBackend, seed: number, events = 1): Promise<number> {
  const before = backend.hubspot.requestCount({ portalId: backend.portalId });
  const plan: PlanSpec =
    events === 1
      ? { kind: 'steady', opts: { customers: 1, events: 1, seed: seed + 1000 } }
      : { kind: 'burst', opts: { customers: 1, events, seed: subscriberSeed(seed + 1000, events) } };
  const load = await runLoadProcess({ url: backend.url, secret: BENCH_WEBHOOK_SECRET, plan, concurrency: 1 });
  if (load.ok !== events) throw new Error(`warm-up events not acknowledged: ${JSON.stringify(load.errors)}`);
  await backend.waitSettled(events, 120_000);
  return backend.hubspot.requestCount({ portalId: backend.portalId }) - before;
}

/**
 * Waits until the portal's calls so far (the warm-up's setup: portal lookup, property groups and properties) have
 * left our budget's rolling 10-s window, so the measured burst meets an installed product's portal, not one still
 * in its first minute of setup; answers how long it waited (ms).
 */
export async function waitSetupOutOfWindow(backend: BenchBackend): Promise<number> {
  const own = backend.hubspot.requests.filter((r) => r.portalId === backend.portalId);
  const last = own.length > 0 ? Math.max(...own.map((r) => r.at)) : 0;
  // Our budget's window (10 s) and the margin it adds for a request's way to HubSpot (250 ms), plus a poll's time.
  const wait = Math.max(0, last + 10_000 + 250 + 100 - Date.now());
  await new Promise((r) => setTimeout(r, wait));
  return wait;
}

/** The first seed from `from` whose one-customer burst plan is a subscriber's story (its second event creates a subscription). */
function subscriberSeed(from: number, events: number): number {
  for (let s = from; ; s++) if (burstPlan({ customers: 1, events, seed: s })[1]?.type === 'customer.subscription.created') return s;
}
