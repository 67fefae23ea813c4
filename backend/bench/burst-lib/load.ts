/**
 * Load generator of the burst and latency benches, run in its own process (`runLoadProcess` forks this file;
 * the request and the result travel over IPC). It builds the same deterministic plan as the bench process, then
 * sends its events over keep-alive connections, each signed as it is sent (as Stripe signs each delivery: a long
 * flood never carries a stale signature): as fast as it can at a fixed concurrency
 * (burst), or open-loop at a fixed rate (steady). Times are epoch milliseconds, comparable with the fake
 * HubSpot's request log on the same machine.
 */
import { fork } from 'node:child_process';
import { Agent } from 'node:http';
import { signatureHeader } from '../../test/helpers/stripe-fixtures';
import { summarize, type LatencySummary } from '../lib/latency';
import { postSignedWebhook, type Prepared } from '../load/webhook-load';
import { burstPlan, steadyPlan, type BurstPlanOptions, type PlannedEvent, type SteadyPlanOptions } from './events';

export type PlanSpec = { kind: 'burst'; opts: BurstPlanOptions } | { kind: 'steady'; opts: SteadyPlanOptions };

export function buildPlan(spec: PlanSpec): PlannedEvent[] {
  return spec.kind === 'burst' ? burstPlan(spec.opts) : steadyPlan(spec.opts);
}

export interface LoadRequest {
  url: string;
  secret: string;
  plan: PlanSpec;
  /** Requests in flight at most. */
  concurrency: number;
  /** Open loop at this many events per second; absent: as fast as possible. */
  ratePerSecond?: number;
}

export interface LoadResult {
  count: number;
  ok: number;
  duplicates: number;
  errors: Record<string, number>;
  /** When the first request was sent and the last answer came (epoch ms). */
  firstSendAt: number;
  lastAckAt: number;
  /** Epoch ms each planned event was sent at (plan order). */
  sentAt: number[];
  ackPerSecond: number;
  ackMs: LatencySummary;
}

export async function runLoad(req: LoadRequest): Promise<LoadResult> {
  const url = new URL(req.url);
  const bodies = buildPlan(req.plan).map((p) => JSON.stringify(p.event));
  const signed = (i: number): Prepared => ({ body: Buffer.from(bodies[i]), signature: signatureHeader(bodies[i], req.secret) });
  const prepared = bodies;
  const agent = new Agent({ keepAlive: true, maxSockets: req.concurrency });
  const sentAt = new Array<number>(prepared.length).fill(0);
  const ackMs = new Array<number>(prepared.length).fill(0);
  const errors: Record<string, number> = {};
  let ok = 0;
  let duplicates = 0;
  let lastAckAt = 0;

  const sendOne = async (i: number) => {
    sentAt[i] = Date.now();
    const t0 = performance.now();
    try {
      const res = await postSignedWebhook(agent, url, signed(i));
      if (res.status === 200) {
        ok += 1;
        if (res.duplicate) duplicates += 1;
      } else errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      errors[code] = (errors[code] ?? 0) + 1;
    }
    ackMs[i] = performance.now() - t0;
    lastAckAt = Math.max(lastAckAt, Date.now());
  };

  const started = Date.now();
  if (req.ratePerSecond) {
    const interval = 1000 / req.ratePerSecond;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < prepared.length; i++) {
      const wait = started + i * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(sendOne(i));
    }
    await Promise.all(inFlight);
  } else {
    let next = 0;
    const worker = async () => {
      while (next < prepared.length) await sendOne(next++);
    };
    await Promise.all(Array.from({ length: req.concurrency }, worker));
  }
  agent.destroy();
  const firstSendAt = Math.min(...sentAt);
  return {
    count: prepared.length,
    ok,
    duplicates,
    errors,
    firstSendAt,
    lastAckAt,
    sentAt,
    ackPerSecond: Math.round(ok / Math.max(0.001, (lastAckAt - firstSendAt) / 1000)),
    ackMs: summarize(ackMs),
  };
}

/** Runs `runLoad` in a child process (the load must not share the bench process's event loop). */
export function runLoadProcess(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (msg: { result?: LoadResult; error?: string }) => {
      settled = true;
      if (msg.result) resolve(msg.result);
      else reject(new Error(msg.error));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code} before answering`));
    });
    child.send(req);
  });
}

// Forked: take the request over IPC, answer the result, exit.
if (require.main === module && process.send) {
  process.once('message', (req: LoadRequest) => {
    runLoad(req).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (err: Error) => process.send?.({ error: err.stack ?? err.message }, () => process.exit(1)),
    );
  });
}
