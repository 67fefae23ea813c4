/**
 * Bench section `card`: latency of the HubSpot card's `POST /api/card/v1/status` against the real server process
 * (spawned like `npm start`), at 20 concurrent clients, target p95 < 15 ms on PostgreSQL (issue target).
 *
 * Seeding goes through the product itself: ~1,000 customers arrive as signed Stripe webhooks (customer, subscription,
 * paid invoice, charge), the real pusher writes them to a fake HubSpot (private-app portal) and links each customer
 * to its contact. The load generator then runs in its own process (this file, forked) and sends signed `/status`
 * requests for random linked contacts over keep-alive connections, each signed at send time with HubSpot's v3 recipe.
 *
 * The issue's target is PostgreSQL's, "in three consecutive runs": PostgreSQL is measured BENCH_CARD_RUNS times (default
 * 3), each run a fresh database, server and seeding, one after the other; the target is met only when every run met
 * it, and the figures kept are the slowest run's (all runs' p95 listed beside them).
 *
 * Run: `runCardSection()` (PGlite always; PostgreSQL too when DATABASE_URL is set). Env overrides:
 * BENCH_CARD_CUSTOMERS, BENCH_CARD_REQUESTS, BENCH_CARD_WARMUP, BENCH_CARD_CONCURRENCY, BENCH_CARD_RUNS; BENCH_CARD_SERVER_NODE_ARGS
 * (node options for the server process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/card-prof`).
 */
import { execSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, percentile } from './lib/latency';
import { freshDatabase, type DbKind } from '../test/helpers/db';
import { spawnServerProcess, type ServerProcess } from '../test/helpers/server';
import { signatureHeader } from '../test/helpers/stripe-fixtures';
import { startFakeHubSpot, type FakeHubSpot } from '../test/fakes/hubspot/server';
import { hubspotSignatureV3 } from '../test/card/card-client';
import { customerStory } from '../test/card/card-seed';
import { CARD_API_PREFIX } from '@stripe-hubspot-sync/contracts';

const WEBHOOK_SECRET = 'whsec_card_bench';
const CLIENT_SECRET = 'card-bench-client-secret';
const PORTAL_ID = 4242;
const TOKEN = 'pat-card-bench';
export const CARD_TARGET_P95_MS = 15;

export interface CardBenchOptions {
  customers: number;
  requests: number;
  warmup: number;
  concurrency: number;
  /** Consecutive runs of PostgreSQL, each from a fresh database and server (the embedded database runs once). */
  postgresRuns: number;
  /** Database kinds to measure (default: pglite, and postgres when DATABASE_URL is set). */
  kinds?: DbKind[];
}

export const CARD_DEFAULTS: CardBenchOptions = {
  customers: Number(process.env.BENCH_CARD_CUSTOMERS ?? 1_000),
  requests: Number(process.env.BENCH_CARD_REQUESTS ?? 10_000),
  warmup: Number(process.env.BENCH_CARD_WARMUP ?? 1_000),
  concurrency: Number(process.env.BENCH_CARD_CONCURRENCY ?? 20),
  postgresRuns: Math.max(1, Number(process.env.BENCH_CARD_RUNS ?? 3)),
};

interface LoadRequest {
  url: string;
  secret: string;
  portalId: number;
  contactIds: string[];
  requests: number;
  warmup: number;
  concurrency: number;
  /** Requests one at a time after the concurrent phase: the service time without queueing. */
  serialRequests: number;
}

interface LoadResult {
  requests: number;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  statuses: Record<string, number>;
  states: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** One request at a time. */
  serialLatencyMs: { p50: number; p95: number; p99: number; max: number };
}

/** Runs the card section and answers its JSON (figures per database kind, the target and whether it was met). */
export async function runCardSection(opts: Partial<CardBenchOptions> = {}): Promise<Record<string, unknown>> {
  const o: CardBenchOptions = { ...CARD_DEFAULTS, ...opts };
  const kinds = o.kinds ?? (process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);
  const out: Record<string, unknown> = {
    command: 'npm run bench -- card',
    endpoint: `POST ${CARD_API_PREFIX}/status`,
    seeding: 'signed Stripe webhooks → real pusher → fake HubSpot (private-app portal); links made by the product',
    customers: o.customers,
    requests: o.requests,
    warmup: o.warmup,
    concurrency: o.concurrency,
    targetP95Ms: CARD_TARGET_P95_MS,
  };
  for (const kind of ['pglite', 'postgres'] as DbKind[]) {
    if (!kinds.includes(kind)) {
      out[kind] = { skipped: kind === 'postgres' ? 'DATABASE_URL is not set' : 'not asked' };
      continue;
    }
    const count = kind === 'postgres' ? o.postgresRuns : 1;
    const runs: (Awaited<ReturnType<typeof benchOne>> & { met: boolean })[] = [];
    for (let i = 0; i < count; i++) {
      const r = await benchOne(kind, o);
      const met = r.latencyMs.p95 < CARD_TARGET_P95_MS && r.statuses['200'] === r.requests;
      runs.push({ ...r, met });
      const l = r.latencyMs;
      console.log(
        `card/${kind}${count > 1 ? ` run ${i + 1}/${count}` : ''}: p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms at ${o.concurrency} concurrent ` +
          `(${r.requestsPerSecond} req/s, statuses ${JSON.stringify(r.statuses)}, states ${JSON.stringify(r.states)}); ` +
          `one at a time p50 ${r.serialLatencyMs.p50} ms, p95 ${r.serialLatencyMs.p95} ms; server CPU ${r.serverCpuMsPerRequest} ms/request — ` +
          `target p95 < ${CARD_TARGET_P95_MS} ms: ${met ? 'met' : 'NOT met'}`,
      );
    }
    // The slowest run's figures, and every run's p95: the target holds only if it held in each.
    const slowest = runs.reduce((a, b) => (b.latencyMs.p95 > a.latencyMs.p95 ? b : a));
    out[kind] = { ...slowest, met: runs.every((r) => r.met), ...(count > 1 ? { runsP95Ms: runs.map((r) => r.latencyMs.p95) } : {}) };
  }
  // The issue's target is PostgreSQL's: said once more, per run, with the load the machine had meanwhile.
  const pg = out.postgres as { met?: boolean; latencyMs?: { p95: number }; runsP95Ms?: number[] };
  out.postgresTargetMet = pg.met ?? null;
  const p95s = pg.runsP95Ms ? `${pg.runsP95Ms.join(' / ')} ms in ${pg.runsP95Ms.length} consecutive runs` : `${pg.latencyMs?.p95} ms`;
  console.log(
    pg.latencyMs
      ? `card: PostgreSQL p95 ${p95s} — target p95 < ${CARD_TARGET_P95_MS} ms ${pg.met ? 'MET' : 'NOT MET'} (load average ${loadavg().map((l) => l.toFixed(2)).join(', ')})`
      : 'card: PostgreSQL not measured (DATABASE_URL is not set): the target is not judged',
  );
  return out;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; NaN elsewhere). */
function cpuTimeMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const hz = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
    return (ticks * 1000) / hz;
  } catch {
    return NaN;
  }
}

async function benchOne(kind: DbKind, o: CardBenchOptions): Promise<LoadResult & { seedSeconds: number; serverCpuMsPerRequest: number }> {
  const dataDir = kind === 'pglite' ? mkdtempSync(join(tmpdir(), 'shs-card-bench-')) : undefined;
  const database = await freshDatabase(kind, dataDir ? { dataDir } : {});
  const hubspot = await startFakeHubSpot({ burstLimit: 100_000, searchPerSecond: 1_000 });
  hubspot.addPrivateAppToken(TOKEN, PORTAL_ID);
  let server: ServerProcess | undefined;
  try {
    server = await spawnServerProcess({
      capture: false,
      env: {
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        HUBSPOT_ACCESS_TOKEN: TOKEN,
        HUBSPOT_PRIVATE_APP_PORTAL_ID: String(PORTAL_ID),
        HUBSPOT_API_BASE_URL: hubspot.url,
        HUBSPOT_RATE_LIMIT_PER_10S: '10000',
        HUBSPOT_CLIENT_ID: 'card-bench-client',
        HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        TOKEN_ENCRYPTION_KEY: 'ef'.repeat(32),
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir as string }),
      },
      // Node options for the server only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it); none by default.
      nodeArgs: process.env.BENCH_CARD_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean),
    });
    const started = Date.now();
    const contactIds = await seed(server.url, hubspot, o.customers);
    const seedSeconds = Math.round((Date.now() - started) / 100) / 10;
    console.log(`card/${kind}: seeded ${contactIds.length} linked customers in ${seedSeconds} s`);
    const cpuBefore = cpuTimeMs(server.child.pid);
    const result = await runLoadProcess({
      url: server.url,
      secret: CLIENT_SECRET,
      portalId: PORTAL_ID,
      contactIds,
      requests: o.requests,
      warmup: o.warmup,
      concurrency: o.concurrency,
      serialRequests: Math.min(1_000, Math.max(100, Math.round(o.requests / 10))),
    });
    const cpuMs = cpuTimeMs(server.child.pid) - cpuBefore;
    const served = o.warmup + o.requests + Math.min(1_000, Math.max(100, Math.round(o.requests / 10)));
    return { ...result, seedSeconds, serverCpuMsPerRequest: Math.round((cpuMs / served) * 1000) / 1000 };
  } finally {
    await server?.stop('SIGTERM');
    await hubspot.close();
    await database.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Sends each customer's story as signed webhooks and waits until every customer is a linked contact in HubSpot. */
async function seed(url: string, hubspot: FakeHubSpot, customers: number): Promise<string[]> {
  const ids = Array.from({ length: customers }, (_, i) => `cus_cardbench${String(i).padStart(5, '0')}`);
  const bodies = ids.flatMap((id, i) =>
    customerStory(id, `${id.slice(4)}@example.com`, { unitAmount: 1000 + (i % 7) * 500, failedRenewal: i % 10 === 0, refunded: i % 13 === 0 ? 500 : 0 }).map((e) =>
      JSON.stringify(e),
    ),
  );
  let next = 0;
  const post = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(`${url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(body, WEBHOOK_SECRET) },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 200) throw new Error(`seeding webhook answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, post));

  const portal = hubspot.portal(PORTAL_ID);
  const deadline = Date.now() + 300_000;
  let contactIds: string[] = [];
  let lastRequests = -1;
  for (;;) {
    contactIds = ids.map((id) => portal.contactByProperty('stripe_customer_id', id)?.id).filter((c): c is string => !!c);
    // Every customer has its contact, every contact its last payment, and HubSpot has been quiet for a moment.
    const complete = contactIds.length === ids.length && ids.every((id) => portal.contactByProperty('stripe_customer_id', id)?.properties.stripe_last_payment_amount);
    if (complete && hubspot.requests.length === lastRequests) return contactIds;
    lastRequests = hubspot.requests.length;
    if (Date.now() > deadline) throw new Error(`seeding incomplete: ${contactIds.length}/${ids.length} contacts after 300 s`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function runLoadProcess(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CARD_BENCH_ROLE: 'load' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (msg: { result?: LoadResult; error?: string }) => (msg.result ? resolve(msg.result) : reject(new Error(msg.error))));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`card load generator exited with ${code}`));
    });
    child.send(req);
  });
}

// ---------- the load generator (forked child) ----------

function statusCall(agent: Agent, base: URL, req: LoadRequest, contactId: string): Promise<{ status: number; state: string }> {
  const path = `${CARD_API_PREFIX}/status?portalId=${req.portalId}&userId=1&userEmail=bench%40example.com&appId=1`;
  const body = Buffer.from(JSON.stringify({ portalId: req.portalId, contactId }));
  const ts = String(Date.now());
  const signature = hubspotSignatureV3(req.secret, 'POST', `${base.origin}${path}`, body.toString('utf8'), ts);
  return new Promise((resolve, reject) => {
    const r = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-hubspot-signature-v3': signature,
          'x-hubspot-request-timestamp': ts,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const m = /"state":"([a-z_]+)"/.exec(text);
          resolve({ status: res.statusCode ?? 0, state: m?.[1] ?? 'none' });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

async function phase(agent: Agent, base: URL, req: LoadRequest, count: number, concurrency = req.concurrency) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const states: Record<string, number> = {};
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      const contactId = req.contactIds[Math.floor(Math.random() * req.contactIds.length)];
      const t0 = process.hrtime.bigint();
      let key: string;
      try {
        const r = await statusCall(agent, base, req, contactId);
        key = String(r.status);
        states[r.state] = (states[r.state] ?? 0) + 1;
      } catch (err) {
        key = (err as NodeJS.ErrnoException).code ?? 'error';
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, statuses, states, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export async function runCardLoad(req: LoadRequest): Promise<LoadResult> {
  const base = new URL(req.url);
  const agent = new Agent({ keepAlive: true, maxSockets: req.concurrency });
  await phase(agent, base, req, req.warmup);
  const r = await phase(agent, base, req, req.requests);
  const serial = await phase(agent, base, req, req.serialRequests, 1);
  agent.destroy();
  const summary = (latencies: number[]) => {
    const s = summarize(latencies);
    const p95 = percentile([...latencies].sort((a, b) => a - b), 95);
    return { p50: s.p50, p95: Math.round(p95 * 100) / 100, p99: s.p99, max: s.max };
  };
  return {
    requests: req.requests,
    concurrency: req.concurrency,
    seconds: Math.round(r.seconds * 1000) / 1000,
    requestsPerSecond: Math.round(r.latencies.length / r.seconds),
    statuses: r.statuses,
    states: r.states,
    latencyMs: summary(r.latencies),
    serialLatencyMs: summary(serial.latencies),
  };
}

if (require.main === module && process.env.CARD_BENCH_ROLE === 'load' && process.send) {
  process.once('message', (req: LoadRequest) => {
    runCardLoad(req).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (err: Error) => process.send?.({ error: err.stack ?? err.message }, () => process.exit(1)),
    );
  });
}
