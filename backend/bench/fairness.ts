/**
 * Bench section `fairness`: one merchant's flood must not starve another. Against the real server process (the
 * private-app setup, which serves test and live mode as two tenants — (account, mode) pairs — writing to one
 * portal), tenant A (test mode) is flooded with `events` signed events as fast as the load generator sends them,
 * while tenant B (live mode) sends 5 events per second from the flood's start until A's events are all settled.
 * Reported: B's end-to-end latency (send → HubSpot receiving the contact write carrying the change) during the
 * flood, and A's drain time (first send → every event settled) against its floor (the HubSpot calls made over the
 * budget of 10 per second, or the time the flood took to send if longer). Runs on the embedded database, and on
 * PostgreSQL too when DATABASE_URL is set. BENCH_FAIRNESS_EVENTS sets the flood's size, BENCH_FAIRNESS_DB=postgres|pglite
 * runs one database, BENCH_INGEST_DEFER_MS sets the server's INGEST_PRIORITY_MAX_DEFER_MS (how long the worker yields
 * to acknowledgements before each fetch during the flood).
 */
import { Agent } from 'node:http';
import type { DbKind } from '../test/helpers/db';
import { signatureHeader } from '../test/helpers/stripe-fixtures';
import { summarize, type LatencySummary } from './lib/latency';
import { BENCH_APP_SECRET, BENCH_WEBHOOK_SECRET, OUR_BUDGET_PER_10S, startBenchBackend, warmUp, type BenchBackend } from './burst-lib/backend';
import { connectHubSpot } from '../test/helpers/hubspot-oauth';
import { steadyPlan, type PlannedEvent } from './burst-lib/events';
import { countCalls } from './burst-lib/hubspot-calls';
import { contactWritesByCustomer, matchLatencies, type SentChange } from './burst-lib/latency-match';
import { runLoadProcess, type LoadResult, type PlanSpec } from './burst-lib/load';
import { postSignedWebhook } from './load/webhook-load';

export interface FairnessOptions {
  /** A's flood (default 50,000; BENCH_FAIRNESS_EVENTS). */
  events: number;
  /**
   * A's flood on the embedded database (default 10,000; BENCH_FAIRNESS_EVENTS_EMBEDDED): its single thread
   * acknowledges a mixed load at ~100–500 events/s, so 50,000 events take over a quarter of an hour to send there.
   */
  embeddedEvents: number;
  /** B's steady rate. */
  quietPerSecond: number;
  seed: number;
}

export const FAIRNESS_DEFAULTS: FairnessOptions = {
  events: Number(process.env.BENCH_FAIRNESS_EVENTS ?? 50_000),
  embeddedEvents: Number(process.env.BENCH_FAIRNESS_EVENTS_EMBEDDED ?? process.env.BENCH_FAIRNESS_EVENTS ?? 10_000),
  quietPerSecond: 5,
  seed: 23,
};

export const FAIRNESS_TARGETS = { quietP99Ms: 3000, maxDrainOverFloor: 1.5 } as const;

const BUDGET_PER_SECOND = OUR_BUDGET_PER_10S / 10;

/** Merchant B: another Stripe account that installed the app, connected by OAuth to a portal of its own. */
const QUIET_ACCOUNT = 'acct_benchquiet';
const QUIET_PORTAL = 5353;
/** The marketplace setup beside the private app: OAuth client (the fake HubSpot's default client). */
const OAUTH_ENV = { HUBSPOT_CLIENT_ID: 'test-client-id', HUBSPOT_CLIENT_SECRET: 'test-client-secret', TOKEN_ENCRYPTION_KEY: 'be'.repeat(32) };

export interface FairnessRun {
  database: DbKind;
  flood: { events: number; customers: number; sendSeconds: number; ackPerSecond: number; errors: Record<string, number> };
  drain: { seconds: number; floorSeconds: number; overFloor: number; hubspotCalls: number };
  quiet: {
    ratePerSecond: number;
    sent: number;
    latencyMs: LatencySummary & { samples: number };
    /** B's webhook acknowledgement times (the ingest's share of its latency). */
    ackMs: LatencySummary;
    matching: { matched: number; superseded: number; unmatched: number };
    errors: Record<string, number>;
  };
  maxQueueDepth: number;
  /**
   * Where A's time went, per 10 s from the flood's first send: A's HubSpot calls (our budget allows 100) and the
   * event jobs waiting to be applied at the end of each window.
   */
  timeline: { callsPer10s: number[]; queueDepthPer10s: number[] };
  met: { quietP99: boolean; drain: boolean };
}

export async function runFairnessSection(opts: Partial<FairnessOptions> = {}): Promise<Record<string, unknown>> {
  const o: FairnessOptions = { ...FAIRNESS_DEFAULTS, ...opts };
  // BENCH_FAIRNESS_DB=postgres|pglite runs one database only (profiling).
  const kinds = (process.env.DATABASE_URL ? (['pglite', 'postgres'] as DbKind[]) : (['pglite'] as DbKind[])).filter(
    (k) => !process.env.BENCH_FAIRNESS_DB || k === process.env.BENCH_FAIRNESS_DB,
  );
  const runs: FairnessRun[] = [];
  for (const kind of kinds) {
    const run = await runOnce(kind, o);
    console.log(JSON.stringify(run));
    runs.push(run);
  }
  return {
    database: runs.map((r) => r.database).join(' + '),
    events: { postgres: o.events, pglite: o.embeddedEvents },
    quietPerSecond: o.quietPerSecond,
    target: { ...FAIRNESS_TARGETS },
    runs,
    notes: [
      "A is the backend's own account (test mode, the private-app token's portal); B another Stripe account that installed the app (live mode, connected by OAuth to a portal of its own): two tenants of one queue and one pusher, each portal with its own rate budget.",
      "Latency of B: from sending the webhook to the fake HubSpot receiving the contact write carrying the change; B's first event per customer creates the contact.",
      'Drain floor: the HubSpot calls of the run over the budget (10/s), or the time the flood took to be acknowledged when that is longer.',
    ],
  };
}

async function runOnce(kind: DbKind, o: FairnessOptions): Promise<FairnessRun> {
  const backend = await startBenchBackend({ kind, env: { ...OAUTH_ENV, ...(process.env.BENCH_INGEST_DEFER_MS ? { INGEST_PRIORITY_MAX_DEFER_MS: process.env.BENCH_INGEST_DEFER_MS } : {}) } });
  try {
    await warmUp(backend, o.seed);
    await connectHubSpot(backend.url, backend.hubspot, { caller: { accountId: QUIET_ACCOUNT, secret: BENCH_APP_SECRET }, mode: 'live', portalId: QUIET_PORTAL });
    await warmUpQuiet(backend, o);
    const start = Math.floor(Date.now() / 1000) - 200 * 86_400;
    const events = kind === 'pglite' ? o.embeddedEvents : o.events;
    const customers = Math.max(1, Math.round(events / 5));
    const plan: PlanSpec = { kind: 'burst', opts: { customers, events, seed: o.seed, start } };
    const stopWatch = backend.watchQueueDepth();
    const quiet = startQuietTenant(backend, o);
    const load = await runLoadProcess({ url: backend.url, secret: BENCH_WEBHOOK_SECRET, plan, concurrency: 16 });
    if (load.ok !== load.count) throw new Error(`flood not fully acknowledged: ${JSON.stringify(load.errors)}`);
    const settled = await waitDrained(backend, load.count + 1, 1_800_000);
    const sentB = await quiet.stop();
    const queueDepth = await stopWatch();
    // B's last events are written within seconds; the log is read once they had the time.
    await waitForWrites(backend, sentB, 30_000);

    const calls = countCalls(backend.hubspot.requests, { portalId: backend.portalId, from: load.firstSendAt });
    const drainSeconds = (settled.at - load.firstSendAt) / 1000;
    const floorSeconds = Math.max(calls.total / BUDGET_PER_SECOND, (load.lastAckAt - load.firstSendAt) / 1000);
    const match = matchB(backend, sentB.changes);
    const latency = summarize(match.latencies);
    return {
      database: backend.kind,
      flood: floodFigures(load, customers),
      drain: { seconds: round(drainSeconds), floorSeconds: round(floorSeconds), overFloor: round(drainSeconds / floorSeconds), hubspotCalls: calls.total },
      quiet: {
        ratePerSecond: o.quietPerSecond,
        sent: sentB.changes.length,
        latencyMs: { ...latency, samples: match.latencies.length },
        ackMs: summarize(sentB.ackMs),
        matching: { matched: match.latencies.length, superseded: match.superseded, unmatched: match.unmatched },
        errors: sentB.errors,
      },
      maxQueueDepth: queueDepth.max,
      timeline: timelineOf(backend, load.firstSendAt, settled.at, queueDepth.series),
      met: { quietP99: latency.p99 < FAIRNESS_TARGETS.quietP99Ms, drain: drainSeconds / floorSeconds <= FAIRNESS_TARGETS.maxDrainOverFloor },
    };
  } finally {
    await backend.stop();
  }
}

function floodFigures(load: LoadResult, customers: number): FairnessRun['flood'] {
  return { events: load.count, customers, sendSeconds: round((load.lastAckAt - load.firstSendAt) / 1000), ackPerSecond: load.ackPerSecond, errors: load.errors };
}

interface QuietSent {
  changes: SentChange[];
  ackMs: number[];
  errors: Record<string, number>;
}

/** B: live-mode events at `quietPerSecond`, sent from this process, until `stop`. */
function startQuietTenant(backend: BenchBackend, o: FairnessOptions): { stop(): Promise<QuietSent> } {
  // Enough events for an hour; the loop stops long before.
  const plan = steadyPlan({ customers: 20, events: o.quietPerSecond * 3600, seed: o.seed + 1 }).map(ofQuietMerchant);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const url = new URL(backend.url);
  const sent: QuietSent = { changes: [], ackMs: [], errors: {} };
  const inFlight: Promise<void>[] = [];
  let stopped = false;
  const started = Date.now();
  const loop = (async () => {
    for (let i = 0; i < plan.length && !stopped; i++) {
      const wait = started + (i * 1000) / o.quietPerSecond - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopped) break;
      const p = plan[i];
      const body = JSON.stringify(p.event);
      const sentAt = Date.now();
      inFlight.push(
        postSignedWebhook(agent, url, { body: Buffer.from(body), signature: signatureHeader(body, BENCH_WEBHOOK_SECRET) }).then(
          (res) => {
            sent.ackMs.push(Date.now() - sentAt);
            if (res.status === 200) sent.changes.push({ customerId: p.customerId, property: p.expect!.property, value: p.expect!.value, sentAt });
            else sent.errors[String(res.status)] = (sent.errors[String(res.status)] ?? 0) + 1;
          },
          (err: unknown) => {
            const code = (err as NodeJS.ErrnoException).code ?? String(err);
            sent.errors[code] = (sent.errors[code] ?? 0) + 1;
          },
        ),
      );
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
      agent.destroy();
      sent.changes.sort((a, b) => a.sentAt - b.sentAt);
      return sent;
    },
  };
}

/** The planned event as merchant B's: live mode, sent for its account (an app install's event names the account). */
function ofQuietMerchant(p: PlannedEvent): PlannedEvent {
  const data = p.event.data as { object: Record<string, unknown> };
  return { ...p, event: { ...p.event, account: QUIET_ACCOUNT, livemode: true, data: { ...data, object: { ...data.object, livemode: true } } } };
}

/** B's portal provisioned (property group and properties) before the flood, as A's is by `warmUp`. */
async function warmUpQuiet(backend: BenchBackend, o: FairnessOptions): Promise<void> {
  const [first] = steadyPlan({ customers: 1, events: 1, seed: o.seed + 2000 }).map(ofQuietMerchant);
  const agent = new Agent({ keepAlive: false });
  const body = JSON.stringify(first.event);
  const res = await postSignedWebhook(agent, new URL(backend.url), { body: Buffer.from(body), signature: signatureHeader(body, BENCH_WEBHOOK_SECRET) });
  agent.destroy();
  if (res.status !== 200) throw new Error(`B's warm-up event answered ${res.status}`);
  const portal = backend.hubspot.portal(QUIET_PORTAL);
  const deadline = Date.now() + 60_000;
  while (![...portal.contacts.values()].some((c) => c.properties.stripe_customer_id === first.customerId)) {
    if (Date.now() > deadline) throw new Error("B's warm-up customer never reached its portal");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function matchB(backend: BenchBackend, sent: SentChange[]) {
  const portal = backend.hubspot.portal(QUIET_PORTAL);
  const customerOf = new Map([...portal.contacts.values()].map((c) => [c.id, c.properties.stripe_customer_id]));
  const writes = contactWritesByCustomer(backend.hubspot.requests, QUIET_PORTAL, (id) => customerOf.get(id));
  return matchLatencies(sent, writes);
}

async function waitForWrites(backend: BenchBackend, sent: QuietSent, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && matchB(backend, sent.changes).unmatched > 0) await new Promise((r) => setTimeout(r, 500));
}

/**
 * Like `backend.waitSettled`, but light on a loaded server: polls the cheap `queue_depth` metric each second and
 * asks the activity counts (a scan of the day's events) only once no job waits; a count that times out is asked
 * again at the next poll.
 */
async function waitDrained(backend: BenchBackend, expected: number, timeoutMs: number): Promise<{ at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`flood not drained after ${timeoutMs} ms`);
    const text = await fetch(`${backend.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.text())
      .catch(() => '');
    if (/^queue_depth 0$/m.test(text)) {
      const counts = await backend.outcomes().catch(() => undefined);
      const answered = Date.now();
      const stored = counts ? Object.values(counts).reduce((x, y) => x + y, 0) : 0;
      if (counts && stored >= expected && counts.pending === 0) return { at: answered };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function timelineOf(backend: BenchBackend, from: number, to: number, depth: [number, number][]): FairnessRun['timeline'] {
  const windows = Math.max(1, Math.ceil((to - from) / 10_000));
  const callsPer10s = new Array<number>(windows).fill(0);
  for (const r of backend.hubspot.requests) {
    if (r.portalId !== backend.portalId || r.at < from || r.at >= to) continue;
    callsPer10s[Math.floor((r.at - from) / 10_000)] += 1;
  }
  const queueDepthPer10s = callsPer10s.map((_, w) => {
    const end = from + (w + 1) * 10_000;
    const last = depth.filter(([t]) => t <= end).pop();
    return last ? last[1] : 0;
  });
  return { callsPer10s, queueDepthPer10s };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
