/**
 * Bench section `e2e-latency`: a steady 50 signed events per second for about 20 s against the real server
 * process; for each event, the time from its send to HubSpot receiving the write of the change it carries
 * (found in the fake HubSpot's request log by customer and value). The pusher waits `settleMs` (200 ms by
 * default in push-contacts.ts) after a customer changes before writing it: latency traded for fewer calls.
 */
import type { DbKind } from '../test/helpers/db';
import { summarize, type LatencySummary } from './lib/latency';
import { BENCH_WEBHOOK_SECRET, startBenchBackend, warmUp } from './burst-lib/backend';
import { steadyPlan } from './burst-lib/events';
import { countCalls, type CallCounts } from './burst-lib/hubspot-calls';
import { contactWritesByCustomer, matchLatencies, type SentChange } from './burst-lib/latency-match';
import { runLoadProcess, type PlanSpec } from './burst-lib/load';

export interface E2eLatencyOptions {
  ratePerSecond: number;
  seconds: number;
  customers: number;
  seed: number;
  kind?: DbKind;
}

export const E2E_LATENCY_DEFAULTS: E2eLatencyOptions = {
  ratePerSecond: Number(process.env.BENCH_E2E_RATE ?? 50),
  seconds: Number(process.env.BENCH_E2E_SECONDS ?? 20),
  customers: Number(process.env.BENCH_E2E_CUSTOMERS ?? 100),
  seed: 11,
};

export const E2E_LATENCY_TARGETS = { p50Ms: 1000, p99Ms: 3000 } as const;

export interface E2eLatencyResult {
  [key: string]: unknown;
  database: DbKind;
  ratePerSecond: number;
  seconds: number;
  events: number;
  customers: number;
  send: { achievedPerSecond: number; ackMs: LatencySummary; errors: Record<string, number> };
  latencyMs: LatencySummary & { samples: number };
  target: { p50Ms: number; p99Ms: number };
  met: { p50: boolean; p99: boolean };
  matching: { matched: number; superseded: number; unmatched: number };
  /** Most event jobs seen waiting to be applied (queue_depth, sampled every 500 ms). */
  maxQueueDepth: number;
  hubspotCalls: CallCounts & { perSecond: number; per100Events: number };
  notes: string[];
}

export async function runE2eLatencySection(opts: Partial<E2eLatencyOptions> = {}): Promise<E2eLatencyResult> {
  const o: E2eLatencyOptions = { ...E2E_LATENCY_DEFAULTS, ...opts };
  const backend = await startBenchBackend({ kind: o.kind });
  try {
    await warmUp(backend, o.seed);
    const plan: PlanSpec = {
      kind: 'steady',
      opts: { customers: o.customers, events: Math.round(o.ratePerSecond * o.seconds), seed: o.seed, start: Math.floor(Date.now() / 1000) - 86_400 },
    };
    const events = steadyPlan(plan.opts);
    const stopWatch = backend.watchQueueDepth();
    const load = await runLoadProcess({ url: backend.url, secret: BENCH_WEBHOOK_SECRET, plan, concurrency: 16, ratePerSecond: o.ratePerSecond });
    if (load.ok !== load.count) throw new Error(`not every event was acknowledged: ${JSON.stringify(load.errors)}`);
    await backend.waitSettled(load.count + 1, 300_000);
    const queueDepth = await stopWatch();

    const portal = backend.hubspot.portal(backend.portalId);
    const customerOf = new Map([...portal.contacts.values()].map((c) => [c.id, c.properties.stripe_customer_id]));
    const writes = contactWritesByCustomer(backend.hubspot.requests, backend.portalId, (id) => customerOf.get(id));
    const sent: SentChange[] = events.map((e, i) => ({
      customerId: e.customerId,
      property: e.expect!.property,
      value: e.expect!.value,
      sentAt: load.sentAt[i],
    }));
    const match = matchLatencies(sent, writes);
    const latency = summarize(match.latencies);
    const calls = countCalls(backend.hubspot.requests, { portalId: backend.portalId, from: load.firstSendAt });
    const sendSeconds = (load.lastAckAt - load.firstSendAt) / 1000;
    const notes = [
      'Latency: from the load generator sending the webhook to the fake HubSpot receiving the contact write that carries the change (same machine clock).',
      `The server runs with its defaults (pusher settleMs 200, pollMs 250): every write waits for a customer to be quiet for 200 ms, which bounds the calls (${calls.total} for ${load.count} events) at the cost of that much latency.`,
    ];
    if (load.ackMs.p50 > 1000) {
      notes.push(`The server did not keep up with ${o.ratePerSecond} events/s: webhook acknowledgements themselves took ${Math.round(load.ackMs.p50)} ms at p50 (requests queued).`);
    }
    if (queueDepth.max > o.ratePerSecond) {
      notes.push(`Applying fell behind: up to ${queueDepth.max} event jobs waited in the queue (more than a second of input), and latency grows with that backlog.`);
    }
    if (calls.total / sendSeconds >= 9) {
      notes.push(`HubSpot calls ran at ${Math.round((calls.total / sendSeconds) * 10) / 10}/s, at the budget of 10/s: writes waited for the rate budget.`);
    }
    if (match.superseded > 0) notes.push(`${match.superseded} events were folded with a newer change of the same customer into one write (their latency is that write's).`);
    if (match.unmatched > 0) notes.push(`${match.unmatched} events had no matching write: a missing write is a bug, look at the outcomes.`);
    return {
      database: backend.kind,
      ratePerSecond: o.ratePerSecond,
      seconds: o.seconds,
      events: load.count,
      customers: o.customers,
      send: { achievedPerSecond: Math.round((load.count / sendSeconds) * 10) / 10, ackMs: load.ackMs, errors: load.errors },
      latencyMs: { ...latency, samples: match.latencies.length },
      target: { ...E2E_LATENCY_TARGETS },
      met: { p50: latency.p50 < E2E_LATENCY_TARGETS.p50Ms, p99: latency.p99 < E2E_LATENCY_TARGETS.p99Ms },
      matching: { matched: match.latencies.length, superseded: match.superseded, unmatched: match.unmatched },
      maxQueueDepth: queueDepth.max,
      hubspotCalls: {
        ...calls,
        perSecond: Math.round((calls.total / sendSeconds) * 10) / 10,
        per100Events: Math.round((calls.total / load.count) * 1000) / 10,
      },
      notes,
    };
  } finally {
    await backend.stop();
  }
}
