/**
 * Bench section `backfill`: the first import of an existing Stripe account. A fake Stripe in the bench process is
 * seeded with 10,000 customers (their subscriptions, invoices and charges: test/fakes/stripe/seed.ts, live mode);
 * the real server process (as `npm start` runs it, see burst-lib/backend.ts) is started with a live secret key
 * pointed at it, the merchant starts the backfill through the signed Stripe App API (`POST /backfill`), and the
 * bench waits until the run is completed and every customer has its HubSpot contact in the fake HubSpot (HubSpot's
 * burst limit, our budget of 100 calls per 10 s). Reports the durations and the server process's memory: its
 * peak resident set (VmHWM), sampled RSS and the V8 heap / external memory it exports. Runs on the embedded
 * database, then on PostgreSQL when DATABASE_URL is set.
 */
import { PLATFORM_ACCOUNT, seedAccount, startFakeStripe, type FakeStripe } from '../test/fakes/stripe';
import { appRequest } from '../test/helpers/app-api';
import type { DbKind } from '../test/helpers/db';
import { BENCH_APP_SECRET, BENCH_ACCOUNT_ID, startBenchBackend, type BenchBackend } from './burst-lib/backend';
import { watchMemory, type MemoryFigures } from './lib/memory';

export interface BackfillBenchOptions {
  customers: number;
  /** Longest wait for the run to complete and for every contact to be written. */
  timeoutMs: number;
  kind?: DbKind;
}

export const BACKFILL_DEFAULTS: BackfillBenchOptions = {
  customers: Number(process.env.BENCH_BACKFILL_CUSTOMERS ?? 10_000),
  timeoutMs: 1_200_000,
};

export interface BackfillResult {
  [key: string]: unknown;
  database: DbKind;
  customers: number;
  /** Objects at the fake Stripe that the run reads. */
  stripeObjects: { customers: number; subscriptions: number; invoices: number; charges: number };
  stripeListRequests: number;
  /** From `POST /backfill` to the run's `completed` status (read and folded), and to the last contact written. */
  seconds: { completed: number; allContactsWritten: number | null };
  contacts: { expected: number; written: number };
  hubspotCalls: number;
  memory: MemoryFigures;
  notes: string[];
}

export interface BackfillSectionResult {
  [key: string]: unknown;
  pglite: BackfillResult;
  postgres: BackfillResult | { skipped: string };
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** `GET /backfill` once more after a failed request (a keep-alive socket the server was closing); a dead server throws with its last output. */
async function progress(backend: BenchBackend, caller: { accountId: string; secret: string }) {
  const get = () => appRequest(backend.url, 'GET', '/backfill?mode=live', caller);
  try {
    return await get();
  } catch (err) {
    if (backend.server.child.exitCode !== null || backend.server.child.signalCode !== null) {
      throw new Error(`the server process ended (${backend.server.child.exitCode ?? backend.server.child.signalCode}):\n${backend.server.output().slice(-3000)}`, { cause: err });
    }
    await new Promise((r) => setTimeout(r, 500));
    return get();
  }
}

export async function runBackfillSection(opts: Partial<BackfillBenchOptions> = {}): Promise<BackfillSectionResult> {
  const pglite = await runBackfill({ ...opts, kind: 'pglite' });
  if (!process.env.DATABASE_URL) {
    console.log('backfill/postgres: skipped (DATABASE_URL is not set)');
    return { pglite, postgres: { skipped: 'DATABASE_URL is not set' } };
  }
  return { pglite, postgres: await runBackfill({ ...opts, kind: 'postgres' }) };
}

export async function runBackfill(opts: Partial<BackfillBenchOptions> = {}): Promise<BackfillResult> {
  const o: BackfillBenchOptions = { ...BACKFILL_DEFAULTS, ...opts };
  const stripe: FakeStripe = await startFakeStripe();
  let backend: BenchBackend | undefined;
  try {
    const account = stripe.account(PLATFORM_ACCOUNT, true);
    seedAccount(account, o.customers);
    const stripeObjects = {
      customers: account.customers.size,
      subscriptions: account.subscriptions.size,
      invoices: account.invoices.size,
      charges: account.charges.size,
    };
    backend = await startBenchBackend({
      kind: o.kind,
      env: { STRIPE_API_KEY: 'sk_live_fake', STRIPE_API_BASE_URL: stripe.url, HUBSPOT_PRIVATE_APP_MODES: 'live' },
    });
    const running = backend;
    const watch = watchMemory(running.server.child.pid ?? -1, { metricsUrl: running.url });
    try {
      const caller = { accountId: BENCH_ACCOUNT_ID, secret: BENCH_APP_SECRET };
      const callsBefore = running.hubspot.requestCount({ portalId: running.portalId });
      const started = performance.now();
      const start = await appRequest(running.url, 'POST', '/backfill', caller, { mode: 'live' });
      if (start.status !== 200) throw new Error(`POST /backfill answered ${start.status}: ${JSON.stringify(start.body)}`);
      const deadline = Date.now() + o.timeoutMs;
      let completedAt: number | undefined;
      let writtenAt: number | undefined;
      let written = 0;
      let lastPrint = 0;
      const portal = running.hubspot.portal(running.portalId);
      for (;;) {
        if (completedAt === undefined) {
          const r = await progress(running, caller);
          const b = r.body?.backfill as { status?: string; phase?: string; percent?: number | null; error?: string | null } | undefined;
          if (b?.status === 'completed') completedAt = performance.now();
          else if (b?.status !== 'running') throw new Error(`the backfill ended ${b?.status ?? '?'}: ${b?.error ?? JSON.stringify(r.body)}`);
          if (Date.now() - lastPrint > 15_000) {
            lastPrint = Date.now();
            console.log(`backfill/${running.kind}: ${b?.phase} ${b?.percent ?? '?'}%, ${portal.contacts.size} contacts written`);
          }
        }
        written = portal.contacts.size;
        if (written >= stripeObjects.customers && writtenAt === undefined) writtenAt = performance.now();
        if (completedAt !== undefined && writtenAt !== undefined) break;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const memory = await watch.stop();
      const seconds = {
        completed: completedAt === undefined ? NaN : round((completedAt - started) / 1000),
        allContactsWritten: writtenAt === undefined ? null : round((writtenAt - started) / 1000),
      };
      if (completedAt === undefined) throw new Error(`the backfill did not complete within ${o.timeoutMs / 1000} s`);
      const notes = [
        `A live-mode backfill of ${o.customers.toLocaleString('en-US')} seeded customers (${stripeObjects.subscriptions} subscriptions, ${stripeObjects.invoices} invoices, ${stripeObjects.charges} charges) read at the runner's live rate (20 requests/s), pages of 100; contacts written through the fake HubSpot at our budget of 100 calls per 10 s.`,
        `Memory: the server process peaked at ${memory.peakRssMb} MB resident (VmHWM, its start included); ${memory.startRssMb} MB when the backfill started, ${memory.endRssMb} MB at the end` +
          (memory.atMaxRss ? ` (V8 heap ${memory.atMaxRss.heapUsedMb} MB used of ${memory.atMaxRss.heapTotalMb} MB, external ${memory.atMaxRss.externalMb} MB at the largest sample)` : '') +
          '.',
      ];
      if (writtenAt === undefined) notes.push(`Only ${written} of ${stripeObjects.customers} customers had a contact when the bench stopped waiting.`);
      const result: BackfillResult = {
        database: running.kind,
        customers: o.customers,
        stripeObjects,
        stripeListRequests: stripe.requests.filter((r) => r.method === 'GET').length,
        seconds,
        contacts: { expected: stripeObjects.customers, written },
        hubspotCalls: running.hubspot.requestCount({ portalId: running.portalId }) - callsBefore,
        memory,
        notes,
      };
      console.log(
        `backfill/${running.kind}: ${o.customers} customers completed in ${seconds.completed} s, all contacts written after ${seconds.allContactsWritten ?? '—'} s; ` +
          `server peak RSS ${memory.peakRssMb} MB (largest sample ${memory.maxSampledRssMb} MB)`,
      );
      return result;
    } finally {
      await watch.stop();
    }
  } finally {
    await backend?.stop();
    await stripe.close();
  }
}
