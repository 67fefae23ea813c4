/**
 * Bench section `ingest`: acknowledgement throughput and latency of `POST /webhooks/stripe` against the real
 * server process (spawned like `npm start`), on the embedded database and on PostgreSQL (DATABASE_URL, a fresh
 * database). The load generator runs in its own process.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type DbKind } from '../test/helpers/db';
import { spawnServerProcess } from '../test/helpers/server';
import { startScriptLaunch } from './lib/start-flags';
import type { LoadRequest, LoadResult } from './load/webhook-load';

const SECRET = 'whsec_bench';

export interface IngestTargets {
  /** events/s the acknowledgements must reach, and the p99 (ms) they must stay under. */
  minAckPerSecond: number;
  maxP99Ms?: number;
}

export const TARGETS: Record<DbKind, IngestTargets> = {
  postgres: { minAckPerSecond: 1500, maxP99Ms: 50 },
  pglite: { minAckPerSecond: 1000 },
};

export interface IngestBenchOptions {
  count: number;
  warmup: number;
  concurrency: number;
  duplicateShare: number;
}

export const DEFAULTS: IngestBenchOptions = {
  count: Number(process.env.BENCH_INGEST_COUNT ?? 20_000),
  warmup: Number(process.env.BENCH_INGEST_WARMUP ?? 1_000),
  concurrency: Number(process.env.BENCH_INGEST_CONCURRENCY ?? 32),
  duplicateShare: 0.01,
};

export async function runIngestBench(opts: IngestBenchOptions = DEFAULTS): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    command: 'npm run bench -- ingest',
    requests: opts.count,
    warmup: opts.warmup,
    concurrency: opts.concurrency,
    duplicateShare: opts.duplicateShare,
  };
  for (const kind of ['pglite', 'postgres'] as DbKind[]) {
    if (kind === 'postgres' && !process.env.DATABASE_URL) {
      console.log('ingest/postgres: skipped (DATABASE_URL is not set)');
      out.postgres = { skipped: 'DATABASE_URL is not set' };
      continue;
    }
    const result = await benchOne(kind, opts);
    const t = TARGETS[kind];
    const met = result.ackPerSecond >= t.minAckPerSecond && (t.maxP99Ms === undefined || result.latencyMs.p99 < t.maxP99Ms);
    out[kind] = { ...result, target: t, met };
    const l = result.latencyMs;
    console.log(
      `ingest/${kind}: ${result.ackPerSecond} acks/s, p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms ` +
        `(${result.ok}/${result.count} ok, errors ${JSON.stringify(result.errors)}; server CPU ${result.serverCpuMsPerRequest ?? '?'} ms/request; ` +
        `${result.jobsDoneAtLastAck} jobs run during the flood, all done ${result.drainSeconds} s after it; ` +
        `load average ${result.loadavg.join('→')}) — target ≥ ${t.minAckPerSecond}/s` +
        `${t.maxP99Ms ? `, p99 < ${t.maxP99Ms} ms` : ''}: ${met ? 'met' : 'NOT met'}`,
    );
  }
  return out;
}

/** CPU time (ms) a process has used, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return undefined;
  }
}

export interface IngestRun extends LoadResult {
  /** Server process CPU per acknowledged request (includes its worker draining the queue meanwhile). */
  serverCpuMsPerRequest?: number;
  /**
   * Acknowledgements come first: during the flood the worker applies events in small slices. Seconds from the
   * last acknowledgement until every event job has run (queue empty, no job finishing for a second), and how many
   * jobs had run by the last acknowledgement.
   */
  drainSeconds?: number;
  jobsDoneAtLastAck?: number;
  /** 1-minute load average before and after: other work on the machine skews the figures. */
  loadavg: [number, number];
}

async function benchOne(kind: DbKind, opts: IngestBenchOptions): Promise<IngestRun> {
  const dataDir = kind === 'pglite' ? mkdtempSync(join(tmpdir(), 'shs-bench-')) : undefined;
  const database = await freshDatabase(kind, dataDir ? { dataDir } : {});
  const launch = startScriptLaunch();
  const server = await spawnServerProcess({
    capture: false,
    nodeArgs: launch.nodeArgs,
    env: {
      ...launch.env,
      STRIPE_WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir as string }),
    },
  });
  try {
    const load0 = loadavg()[0];
    // The warmup is part of the load process's run: measure CPU over the whole run, per request sent.
    const cpu0 = cpuMs(server.child.pid);
    const result = await runLoadProcess({ url: server.url, secret: SECRET, ...opts });
    const loadEnded = performance.now();
    const cpu1 = cpuMs(server.child.pid);
    const jobsDoneAtLastAck = (await queueFigures(server.url)).completed;
    await waitForDrain(server.url);
    const drainSeconds = Math.round((performance.now() - loadEnded - 1000) / 100) / 10;
    return {
      ...result,
      drainSeconds,
      jobsDoneAtLastAck,
      ...(cpu0 !== undefined && cpu1 !== undefined
        ? { serverCpuMsPerRequest: Math.round(((cpu1 - cpu0) / (opts.count + opts.warmup)) * 1000) / 1000 }
        : {}),
      loadavg: [Math.round(load0 * 100) / 100, Math.round(loadavg()[0] * 100) / 100],
    };
  } finally {
    await server.stop('SIGTERM');
    await database.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The server's queue depth and completed event jobs, from /metrics. */
async function queueFigures(url: string): Promise<{ depth: number; completed: number }> {
  // A new connection each time (no keep-alive socket the server may be closing as it is reused); one retry.
  const get = () => fetch(`${url}/metrics`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) });
  const text = await (await get().catch(() => new Promise((r) => setTimeout(r, 500)).then(get))).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return { depth: value(/^queue_depth (\S+)$/m), completed: value(/^jobs_total\{outcome="completed"\} (\S+)$/m) };
}

/** Until the queue is empty and no job has finished for a second (at most 5 minutes). */
async function waitForDrain(url: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  let last = -1;
  for (;;) {
    const f = await queueFigures(url);
    if (f.depth === 0 && f.completed === last) return;
    last = f.completed;
    if (Date.now() > deadline) throw new Error(`the queue did not drain within 5 minutes (depth ${f.depth})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function runLoadProcess(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'load', 'webhook-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (msg: { result?: LoadResult; error?: string }) =>
      msg.result ? resolve(msg.result) : reject(new Error(msg.error)),
    );
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(req);
  });
}
