/**
 * What the database holds per event: ingests a deterministic burst of signed Stripe events (the bench's burst plan,
 * subscribers' later events alternating renewals and plan changes) through the real webhook route of an in-process
 * backend on a fresh PostgreSQL database with companies, deals, revenue movements (notes), tickets and failed-payment
 * tasks on, lets every event apply and every customer reach the fake HubSpot, then prints rows and bytes per event of each table (heap with TOAST, indexes) — as left by
 * the run, after VACUUM FULL (live data only), and after the payload retention has replaced every settled payload
 * by its stub. The database is dropped at the end. Not a benchmark: sizes only (quoted in docs/scaling.md).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx scripts/storage-footprint.ts [events] [customers]
 */
import { cpus, loadavg } from 'node:os';
import { defaultSettings, type SyncSettings } from '@stripe-hubspot-sync/contracts';
import { startSyncHarness, type SyncHarness } from '../test/helpers/sync-harness';
import { postWebhook } from '../test/helpers/server';
import { burstPlan } from '../bench/burst-lib/events';
import { purgeSettledPayloads } from '../src/adapters/store/retention';

interface TableSize {
  table: string;
  rows: number;
  heap: number;
  indexes: number;
  total: number;
}

const events = Number(process.argv[2] ?? 5000);
const customers = Number(process.argv[3] ?? 500);
const CONCURRENCY = 8;

/**
 * Everything that keeps rows on: companies (created by domain), a deal per subscription, revenue movements on the
 * contact (notes, as for a private-app install), a ticket per unpaid invoice and a task per failed payment. Set
 * explicitly so the sizes do not move with the defaults.
 */
function footprintSettings(): SyncSettings {
  const s = defaultSettings();
  s.crm = {
    companies: { enabled: true, create: true },
    deals: { enabled: true, amount: 'mrr', checkoutDeals: false },
    timeline: { enabled: true },
    tickets: { enabled: true, pipelineId: null, priority: 'HIGH' },
  };
  s.options.createTaskOnFailure = true;
  return s;
}

/** Posts one signed event; a 503 (the shared database busy) is sent again after a pause, as Stripe would. */
async function sendRetrying(h: SyncHarness, event: object): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const r = await postWebhook(h.server.url, event);
    if (r.status === 200) return;
    if (r.status !== 503 || attempt === 5) throw new Error(`webhook answered ${r.status}: ${JSON.stringify(r.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
}

async function sizes(h: SyncHarness): Promise<TableSize[]> {
  const { rows } = await h.server.db.query<{ table: string; label: string; heap: string; indexes: string; total: string }>(
    // pg-boss keeps each queue's jobs in a partition of pgboss.job (named in pgboss.queue): sized one by one.
    `SELECT n.nspname || '.' || c.relname AS table, COALESCE('pgboss.job[' || q.name || ']', '') AS label,
            pg_table_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes, pg_total_relation_size(c.oid) AS total
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pgboss.queue q ON n.nspname = 'pgboss' AND q.partition_name = c.relname
      WHERE c.relkind = 'r' AND n.nspname IN ('public', 'pgboss')
      ORDER BY pg_total_relation_size(c.oid) DESC`,
  );
  const out: TableSize[] = [];
  for (const r of rows) {
    const count = await h.server.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${r.table}`);
    out.push({ table: r.label || r.table, rows: Number(count.rows[0].n), heap: Number(r.heap), indexes: Number(r.indexes), total: Number(r.total) });
  }
  return out.filter((t) => t.rows > 0);
}

function print(title: string, list: TableSize[]): void {
  const per = (n: number, of = events) => (n / of).toFixed(n / of < 10 ? 2 : 0);
  console.log(`\n${title}\n`);
  console.log('| Table | Rows | Rows per event | Heap+TOAST bytes/event | Index bytes/event | Total bytes/event | Total bytes/customer |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const t of list) {
    console.log(`| ${t.table} | ${t.rows} | ${per(t.rows)} | ${per(t.heap)} | ${per(t.indexes)} | ${per(t.total)} | ${per(t.total, customers)} |`);
  }
  const sum = list.reduce((s, t) => s + t.total, 0);
  console.log(`| **all** | | | | | **${per(sum)}** | **${per(sum, customers)}** |`);
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('set DATABASE_URL (a PostgreSQL server where a database may be created)');
  const plan = burstPlan({ customers, events, seed: 16, planChanges: true });
  const meanBody = plan.reduce((s, p) => s + JSON.stringify(p.event).length, 0) / plan.length;
  const h = await startSyncHarness({ kind: 'postgres' });
  try {
    // The burst's events carry no account and are test mode: the settings of ('', test).
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)`, [JSON.stringify(footprintSettings())]);
    const started = Date.now();
    // A few requests in flight; each customer's events may arrive out of order, which the apply step is built for.
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < plan.length) await sendRetrying(h, plan[next++].event);
      }),
    );
    await h.idle(300_000);
    const seconds = (Date.now() - started) / 1000;
    const outcome = await h.server.db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM stripe_events GROUP BY status ORDER BY status');
    console.log(`# Storage footprint, ${new Date().toISOString()}`);
    console.log(`${events} events over ${customers} customers (bench burst plan with plan changes, seed 16), mean signed body ${Math.round(meanBody)} bytes;`);
    console.log('settings.crm: companies (create), deals, timeline (notes: private-app install), tickets on; a task per failed payment;');
    console.log(`PostgreSQL ${(await h.server.db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load ${loadavg().map((l) => l.toFixed(2)).join(', ')}, node ${process.version}`);
    console.log(`ingested, applied and pushed in ${seconds.toFixed(1)} s (${CONCURRENCY} in flight; not a benchmark); ${h.contacts().length} contacts in the fake HubSpot`);
    console.log(`event outcomes: ${outcome.rows.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    const portal = h.hubspot.portal(h.portalId);
    console.log(`in the fake HubSpot: ${portal.companies().length} companies, ${portal.deals().length} deals, ${portal.notes().length} notes, ${portal.tickets().length} tickets`);
    const kinds = await h.server.db.query<{ kind: string; n: string }>('SELECT kind, count(*) AS n FROM revenue_movements GROUP BY kind ORDER BY count(*) DESC, kind');
    console.log(`revenue movements: ${kinds.rows.map((r) => `${r.kind} ${r.n}`).join(', ')}`);

    // Row writes in this database (PostgreSQL's statistics, flushed by idle backends within about 10 s).
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const w = (
      await h.server.db.query<{ ins: string; upd: string; del: string }>(
        `SELECT tup_inserted AS ins, tup_updated AS upd, tup_deleted AS del FROM pg_stat_database WHERE datname = current_database()`,
      )
    ).rows[0];
    const perEvent = (n: string) => (Number(n) / events).toFixed(2);
    console.log(`row writes per event, every table and the migrations included: ${perEvent(w.ins)} inserted, ${perEvent(w.upd)} updated, ${perEvent(w.del)} deleted`);

    await h.server.db.query('ANALYZE');
    print('## As left by the run (dead row versions of updated rows included)', await sizes(h));
    await h.server.db.query('VACUUM FULL');
    print('## After VACUUM FULL (live rows only)', await sizes(h));
    const purged = await purgeSettledPayloads(h.server.db, 0, { batch: 10_000 });
    await h.server.db.query('VACUUM FULL');
    print(`## After the payload retention (${purged} settled payloads replaced by stubs), VACUUM FULL`, await sizes(h));
  } finally {
    await h.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
