/**
 * Bench section `latency-curve`: webhook acknowledgement latency against offered load. One real server
 * process (as `npm start` runs it, see burst-lib/backend.ts) takes signed events open-loop at fixed rates
 * (25 → 400 events/s, a few seconds each) from the forked load generator; each step records the achieved
 * rate and ack p50/p99. Between steps the server is given a bounded time to drain its backlog. The server
 * process's resident memory is sampled throughout, and its peak (VmHWM in /proc/<pid>/status) read at the end.
 * Runs on the embedded database, then on PostgreSQL when DATABASE_URL is set.
 */
import { watchMemory, type MemoryFigures } from './lib/memory';
import { BENCH_WEBHOOK_SECRET, startBenchBackend, warmUp } from './burst-lib/backend';
import { runLoadProcess, type PlanSpec } from './burst-lib/load';
import type { DbKind } from '../test/helpers/db';

export interface LatencyCurveOptions {
  rates: number[];
  secondsPerRate: number;
  customers: number;
  /** Longest wait for the previous step's events to be applied before the next step. */
  drainTimeoutMs: number;
  kind?: DbKind;
}

export const LATENCY_CURVE_DEFAULTS: LatencyCurveOptions = {
  rates: (process.env.BENCH_CURVE_RATES ?? '25,50,100,200,400').split(',').map(Number),
  secondsPerRate: Number(process.env.BENCH_CURVE_SECONDS ?? 5),
  customers: 100,
  drainTimeoutMs: 30_000,
};

export interface LatencyCurvePoint {
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  errors: Record<string, number>;
}

export interface LatencyCurveResult {
  [key: string]: unknown;
  database: DbKind;
  secondsPerRate: number;
  points: LatencyCurvePoint[];
  /** VmHWM of the server process after all steps (its start included). */
  peakRssMb: number | null;
  memory: MemoryFigures;
  notes: string[];
}

export interface LatencyCurveSectionResult {
  [key: string]: unknown;
  pglite: LatencyCurveResult;
  postgres: LatencyCurveResult | { skipped: string };
}

export async function runLatencyCurveSection(opts: Partial<LatencyCurveOptions> = {}): Promise<LatencyCurveSectionResult> {
  const pglite = await runLatencyCurve({ ...opts, kind: 'pglite' });
  if (!process.env.DATABASE_URL) {
    console.log('latency-curve/postgres: skipped (DATABASE_URL is not set)');
    return { pglite, postgres: { skipped: 'DATABASE_URL is not set' } };
  }
  return { pglite, postgres: await runLatencyCurve({ ...opts, kind: 'postgres' }) };
}

export async function runLatencyCurve(opts: Partial<LatencyCurveOptions> = {}): Promise<LatencyCurveResult> {
  const o: LatencyCurveOptions = { ...LATENCY_CURVE_DEFAULTS, ...opts };
  const backend = await startBenchBackend({ kind: o.kind });
  const memoryWatch = watchMemory(backend.server.child.pid ?? -1, { metricsUrl: backend.url });
  const notes: string[] = [
    'Open loop: events are sent on a fixed schedule whatever the answers; the ack time includes any wait for a free connection (16 at most) once the server falls behind.',
  ];
  try {
    await warmUp(backend, 21);
    let sent = 1;
    const points: LatencyCurvePoint[] = [];
    for (const [step, rate] of o.rates.entries()) {
      const plan: PlanSpec = {
        kind: 'steady',
        opts: { customers: o.customers, events: Math.round(rate * o.secondsPerRate), seed: 100 + step, start: Math.floor(Date.now() / 1000) - 86_400 },
      };
      const load = await runLoadProcess({ url: backend.url, secret: BENCH_WEBHOOK_SECRET, plan, concurrency: 16, ratePerSecond: rate });
      sent += load.ok;
      const seconds = Math.max(0.001, (load.lastAckAt - load.firstSendAt) / 1000);
      const point = { rate, achieved: Math.round((load.ok / seconds) * 10) / 10, p50: load.ackMs.p50, p99: load.ackMs.p99, errors: load.errors };
      points.push(point);
      console.log(`latency-curve/${backend.kind}: offered ${rate}/s → acked ${point.achieved}/s, ack p50 ${point.p50} ms, p99 ${point.p99} ms`);
      try {
        await backend.waitSettled(sent, o.drainTimeoutMs, 250);
      } catch {
        notes.push(`After the ${rate}/s step the backlog was not applied within ${o.drainTimeoutMs / 1000} s; the next step ran with it still being applied.`);
      }
    }
    const memory = await memoryWatch.stop();
    console.log(`latency-curve/${backend.kind}: server peak RSS ${memory.peakRssMb} MB (largest sample ${memory.maxSampledRssMb} MB)`);
    const saturated = points.find((p) => p.achieved < p.rate * 0.9);
    if (saturated) {
      notes.push(`At ${saturated.rate}/s offered the server acknowledged ${saturated.achieved}/s: past its capacity on this machine, requests queue and the ack time grows with the queue.`);
    }
    notes.push('Peak RSS: VmHWM of the server process (the node process running src/main.ts) after all steps, its start included; the embedded database runs inside it.');
    return { database: backend.kind, secondsPerRate: o.secondsPerRate, points, peakRssMb: memory.peakRssMb, memory, notes };
  } finally {
    await memoryWatch.stop();
    await backend.stop();
  }
}
