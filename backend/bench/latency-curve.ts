/**
 * Bench section `latency-curve`: webhook acknowledgement latency against offered load. One real server
 * process (as `npm start` runs it, see burst-lib/backend.ts) takes signed events open-loop at fixed rates
 * (25 → 400 events/s, a few seconds each) from the forked load generator; each step records the achieved
 * rate and ack p50/p99. Between steps the server is given a bounded time to drain its backlog. At the end the
 * server process's peak resident memory (VmHWM in /proc/<pid>/status) is read.
 */
import { readFileSync } from 'node:fs';
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
  peakRssMb: number | null;
  notes: string[];
}

/** Peak resident set size of a live process in MB (Linux), or null where /proc is not readable. */
export function peakRssMb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

export async function runLatencyCurveSection(opts: Partial<LatencyCurveOptions> = {}): Promise<LatencyCurveResult> {
  const o: LatencyCurveOptions = { ...LATENCY_CURVE_DEFAULTS, ...opts };
  const backend = await startBenchBackend({ kind: o.kind });
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
    const rss = peakRssMb(backend.server.child.pid ?? -1);
    const saturated = points.find((p) => p.achieved < p.rate * 0.9);
    if (saturated) {
      notes.push(`At ${saturated.rate}/s offered the server acknowledged ${saturated.achieved}/s: past its capacity on this machine, requests queue and the ack time grows with the queue.`);
    }
    notes.push('Peak RSS: VmHWM of the server process (the node process running src/main.ts) after all steps; the embedded database runs inside it.');
    return { database: backend.kind, secondsPerRate: o.secondsPerRate, points, peakRssMb: rss, notes };
  } finally {
    await backend.stop();
  }
}
