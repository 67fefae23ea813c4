/**
 * `npm run demo`: the whole product in one process with no accounts. A fake HubSpot on 127.0.0.1, the backend
 * (webhooks → queue → apply → batched HubSpot writes) on the embedded database in a temporary directory, a
 * story of signed Stripe events told chapter by chapter, then the HubSpot contacts, companies, deals, revenue
 * movements and tickets, and what became of every event. Fake Klaviyo, Loops, Intercom and Salesforce are connected
 * in test mode through the Stripe App's signed API before the story starts: the same story lands in them too
 * (demo-destinations.ts).
 * Everything it starts is stopped and deleted at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { saveSettings } from '../src/adapters/store/settings-store';
import { loadConfig, type LogLevel } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer } from '../src/server';
import { syncEngineServerOptions } from '../src/sync/engine';
import { startFakeHubSpot, type FakeContact, type FakeHubSpot } from '../test/fakes/hubspot/server';
import { signatureHeader } from '../test/helpers/stripe-fixtures';
import { contactRow, formatOutcomes, formatTable, type ContactRow, type OutcomeCount } from './demo-report';
import { ACME_DOMAIN, buildStory, EVENT_IDS, PEOPLE } from './demo-story';
import { contactRecordsLine, crmLines, crmView, type CrmView } from './demo-crm';
import { waitUntilDestinationsIdle, waitUntilIdle } from './demo-idle';
import { destinationChecks, startDemoDestinations, type DemoDestinations, type DemoKind, type DestinationFigures } from './demo-destinations';
import { DESTINATION_LABELS } from '@stripe-hubspot-sync/contracts';
import { countCalls, OBJECT_KINDS } from '../bench/burst-lib/hubspot-calls';

const WEBHOOK_SECRET = 'whsec_demo_secret';
const HUBSPOT_TOKEN = 'pat-demo-private-app';
const PORTAL_ID = 4242;

export interface DemoOptions {
  /** Where lines go (default console.log). */
  print?: (line: string) => void;
  /** Server log level (default `silent`; DEMO_LOG_LEVEL overrides). */
  logLevel?: LogLevel;
  /** On Ctrl-C / SIGTERM, delete the temporary directory and exit 130 (the command line sets it). */
  exitOnSignal?: boolean;
}

export interface DemoCheck {
  ok: boolean;
  text: string;
}

export interface DemoResult {
  contacts: (ContactRow & { customerId: string | null })[];
  outcomes: OutcomeCount[];
  duplicates: number;
  /** Companies, deals, movements and tickets in the portal at the end. */
  crm: CrmView;
  checks: DemoCheck[];
  hubspotCalls: number;
  /** Klaviyo and Loops at the end: profiles/contacts, events by name, the calls each fake received. */
  destinations: Record<DemoKind, DestinationFigures>;
  seconds: number;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'stripe-hubspot-demo-'));
  const interrupted = () => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  };
  if (opts.exitOnSignal) for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, interrupted);
  let hubspot: FakeHubSpot | undefined;
  let server: RunningServer | undefined;
  let destinations: DemoDestinations | undefined;
  try {
    hubspot = await startFakeHubSpot();
    destinations = await startDemoDestinations();
    hubspot.addPrivateAppToken(HUBSPOT_TOKEN, PORTAL_ID);
    // An explicit environment: the demo never picks up a DATABASE_URL or a real token from the shell.
    const config = loadConfig({
      NODE_ENV: 'development',
      PORT: '0',
      DATA_DIR: dataDir,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
      HUBSPOT_API_BASE_URL: hubspot.url,
      HUBSPOT_PRIVATE_APP_MODES: 'test',
      ...destinations.env,
    });
    const level = (process.env.DEMO_LOG_LEVEL as LogLevel | undefined) ?? opts.logLevel ?? 'silent';
    print('Starting a fake HubSpot, fake Klaviyo, Loops, Intercom and Salesforce, and the backend on the embedded database (nothing leaves this machine)…');
    server = await startServer(config, { logger: createLogger({ level }), ...syncEngineServerOptions() });
    print(`Backend at ${server.url}, fake HubSpot at ${hubspot.url} (portal ${PORTAL_ID}, private-app token, test mode)`);
    print(Object.values(destinations.views).map((v) => `fake ${DESTINATION_LABELS[v.kind]} at ${v.url}`).join(', ').replace(/^f/, 'F'));
    print(`${await destinations.connect(server.url)}\n`);

    const db = server.db;
    // The defaults (companies, deals and timeline on) plus tickets on failed payments, which are off by default.
    // A private-app install serves one account: its settings are stored under the empty account key.
    const settings = defaultSettings();
    settings.crm.tickets.enabled = true;
    await saveSettings(db, '', false, settings);
    print('Settings: contacts, companies, a deal per subscription, revenue movements and tickets on failed payments (high priority)\n');
    const portal = hubspot.portal(PORTAL_ID);
    let duplicates = 0;
    for (const [i, chapter] of buildStory(Math.floor(Date.now() / 1000)).entries()) {
      print(`${i + 1}. ${chapter.title}`);
      const touched = new Set<string>();
      for (const d of chapter.deliveries) {
        const reply = await deliver(server.url, d.event);
        const duplicate = reply.duplicate === true;
        if (duplicate) duplicates += 1;
        print(`   → ${d.say}${duplicate ? '   [acknowledged: already stored, ignored]' : ''}`);
        const cus = customerOf(d.event);
        if (cus) touched.add(cus);
      }
      await waitUntilIdle(db);
      await waitUntilDestinationsIdle(db);
      const now = crmView(portal);
      for (const id of touched) {
        const c = portal.contactByProperty('stripe_customer_id', id);
        if (c) {
          print(`   HubSpot now: ${oneLine(c)}`);
          const records = contactRecordsLine(portal, c.id, now);
          if (records) print(`                ${records}`);
        } else print(`   HubSpot now: (no contact for ${id})`);
        for (const line of await destinations.chapterLines(db, id)) print(line);
      }
      print('');
    }

    const contacts = [...portal.contacts.values()]
      .filter((c) => !c.archived)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((c) => ({ ...contactRow(c.properties), customerId: c.properties.stripe_customer_id ?? null }));
    print(`HubSpot contacts in portal ${PORTAL_ID}:`);
    for (const line of formatTable(contacts)) print(`  ${line}`);
    const crm = crmView(portal);
    for (const line of crmLines(crm, PORTAL_ID)) print(line);

    const { rows } = await db.query<{ status: string; status_reason: string | null; n: string }>(
      'SELECT status, status_reason, count(*) AS n FROM stripe_events GROUP BY status, status_reason',
    );
    const outcomes = rows.map((r) => ({ status: r.status, reason: r.status_reason, count: Number(r.n) }));
    print('\nWhat became of each Stripe event:');
    for (const line of formatOutcomes(outcomes, duplicates)) print(`  ${line}`);

    const calls = countCalls(hubspot.requests, { portalId: PORTAL_ID });
    const hubspotCalls = calls.total;
    print(
      `\nHubSpot API calls: ${calls.total} — ${calls.byKind.write} batch writes, ${calls.byKind.match} batch reads, ` +
        `${calls.byKind.search} searches, ${calls.byKind.setup} once-per-portal setup calls (account, "Stripe" property groups and properties, the deal pipeline)`,
    );
    print(`  by object: ${OBJECT_KINDS.filter((k) => calls.byObject[k] > 0).map((k) => `${k} ${calls.byObject[k]}`).join(', ')}`);

    const figures = destinations.figures();
    for (const line of destinations.reportLines(figures)) print(line);

    const { ada, grace, alan, hedy, mary, katherine } = PEOPLE;
    const hubspotFacts = (id: string) => {
      const p = portal.contactByProperty('stripe_customer_id', id)?.properties ?? {};
      return { email: p.email, status: p.stripe_subscription_status };
    };
    const checks = [
      ...(await runChecks(db, portal.contacts, duplicates)),
      ...crmChecks(crm),
      ...(await destinationChecks(db, destinations, figures, {
        customers: [ada, grace, alan, hedy, mary].map((x) => ({ id: x.id, name: x.name, hubspot: hubspotFacts(x.id) })),
        live: { id: katherine.id, email: katherine.email },
        duplicate: { id: grace.id, name: grace.name, invoiceId: 'in_demo_grace_1' },
      })),
    ];
    print('\nChecks:');
    for (const c of checks) print(`  ${c.ok ? '✓' : '✗'} ${c.text}`);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    print(`\nDone in ${seconds} s. Everything the demo started is stopped and its temporary files are deleted.`);
    return { contacts, outcomes, duplicates, crm, checks, hubspotCalls, destinations: figures, seconds };
  } finally {
    await server?.close().catch(() => undefined);
    await hubspot?.close().catch(() => undefined);
    await destinations?.close();
    rmSync(dataDir, { recursive: true, force: true });
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, interrupted);
  }
}

/** POSTs a signed event like Stripe does; answers the JSON reply (throws unless 200). */
async function deliver(baseUrl: string, event: object): Promise<{ duplicate?: boolean }> {
  const payload = JSON.stringify(event);
  const res = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(payload, WEBHOOK_SECRET) },
    body: payload,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`the webhook answered ${res.status}: ${text}`);
  return JSON.parse(text) as { duplicate?: boolean };
}

function customerOf(event: Record<string, unknown>): string | undefined {
  const o = (event.data as { object: Record<string, unknown> }).object;
  const id = o.object === 'customer' ? o.id : o.customer;
  return typeof id === 'string' ? id : undefined;
}

function oneLine(c: FakeContact): string {
  const r = contactRow(c.properties);
  return `${r.email} · ${r.status} · ${r.plan} · MRR ${r.mrr} · last payment ${r.lastPayment} · failed ${r.failed} · LTV ${r.ltv} · lifecycle ${r.lifecycle}`;
}

async function runChecks(
  db: RunningServer['db'],
  all: Map<string, FakeContact>,
  duplicates: number,
): Promise<DemoCheck[]> {
  const live = [...all.values()].filter((c) => !c.archived);
  const of = (id: string) => live.filter((c) => c.properties.stripe_customer_id === id);
  const status = async (id: string) =>
    (await db.query<{ status: string; status_reason: string | null }>('SELECT status, status_reason FROM stripe_events WHERE id = $1', [id])).rows[0];
  const { ada, grace, alan, katherine, hedy, mary } = PEOPLE;
  const graceRows = (await db.query<{ n: string }>('SELECT count(*) AS n FROM stripe_events WHERE id = $1', [EVENT_IDS.graceInvoicePaid])).rows;
  const late = await status(EVENT_IDS.adaLatePastDue);
  const liveEvent = await status(EVENT_IDS.katherineLive);
  const guest = await status(EVENT_IDS.guestNoEmail);
  const p = (id: string) => of(id)[0]?.properties ?? {};
  return [
    {
      ok: live.length === 5 && [ada, grace, alan, hedy, mary].every((x) => of(x.id).length === 1),
      text: `one contact per test-mode customer with an email: ${live.length} contacts for Ada, Grace, Alan, Hedy and Mary`,
    },
    {
      ok: duplicates === 1 && Number(graceRows[0]?.n) === 1 && p(grace.id).stripe_lifetime_value === '1200.00',
      text: `the duplicate delivery was stored once and counted once (Grace's LTV ${p(grace.id).stripe_lifetime_value ?? '—'}, not 2400.00)`,
    },
    {
      ok: p(ada.id).stripe_subscription_status === 'active' && late?.status === 'skipped',
      text: `the late past_due event did not win: Ada is ${p(ada.id).stripe_subscription_status ?? '—'} (late event ${late?.status ?? 'missing'}: ${late?.status_reason ?? ''})`,
    },
    {
      ok: p(grace.id).email === grace.newEmail && !live.some((c) => c.properties.email === grace.email),
      text: `the email change updated Grace's contact (${p(grace.id).email ?? '—'}) instead of creating a second one`,
    },
    {
      ok: p(alan.id).stripe_total_refunded === '100.00' && p(alan.id).stripe_lifetime_value === '150.00',
      text: `Alan's refund: refunded ${p(alan.id).stripe_total_refunded ?? '—'}, LTV ${p(alan.id).stripe_lifetime_value ?? '—'}`,
    },
    {
      ok: p(ada.id).stripe_failed_payment_count === '1' && p(ada.id).stripe_last_payment_status === 'succeeded',
      text: `Ada's failed renewal is counted (${p(ada.id).stripe_failed_payment_count ?? '—'}) and her last payment is the recovery (${p(ada.id).stripe_last_payment_status ?? '—'})`,
    },
    {
      ok: of(katherine.id).length === 0 && liveEvent?.status === 'skipped' && guest?.status === 'skipped',
      text: `a live-mode event and a customer without email were skipped, with reasons, and wrote nothing`,
    },
  ];
}

/** What the story implies beyond contacts: companies by domain (free mail skipped), deals, movements, tickets. */
function crmChecks(v: CrmView): DemoCheck[] {
  const { ada, grace, alan, hedy, mary } = PEOPLE;
  const acme = v.companies.filter((c) => c.domain === ACME_DOMAIN);
  const freeMail: string[] = [ada.email, grace.newEmail, alan.email];
  const dealOf = (sub: string) => v.deals.filter((d) => d.subscriptionId === sub);
  const hedyDeal = dealOf('sub_demo_hedy');
  const kinds = (email: string) => v.movements.filter((m) => m.contact === email).map((m) => m.title);
  const adaTickets = v.tickets.filter((t) => t.contact === ada.email);
  return [
    {
      ok: v.companies.length === 1 && acme.length === 1 && acme[0].name === hedy.businessName && acme[0].contacts.join() === [hedy.email, mary.email].sort().join(),
      text: `one company, ${acme[0]?.name ?? '—'} (${ACME_DOMAIN}), with Hedy and Mary (matched by domain); none for the free-mail customers`,
    },
    {
      ok: !v.companies.some((c) => c.contacts.some((e) => freeMail.includes(e))),
      text: 'free-mail addresses (gmail.com, outlook.com) made no company',
    },
    {
      ok: v.deals.length === 3 && ['sub_demo_ada', 'sub_demo_grace', 'sub_demo_hedy'].every((s) => dealOf(s).length === 1),
      text: `one deal per subscription: ${v.deals.length} deals (Ada, Grace, Acme) and none for Alan's one-off payment`,
    },
    {
      ok: hedyDeal.length === 1 && hedyDeal[0].stage === 'Active' && /Business/.test(hedyDeal[0].name) && hedyDeal[0].company === hedy.businessName,
      text: `Acme's deal moved from Trialing to ${hedyDeal[0]?.stage ?? '—'} and follows the plan change ("${hedyDeal[0]?.name ?? '—'}", ${hedyDeal[0]?.amount ?? '—'})`,
    },
    {
      ok: kinds(hedy.email).join() === ['Trial started', 'Trial converted', 'Upgrade'].join(),
      text: `Acme's movements, once each: ${kinds(hedy.email).join(', ') || '—'} (the plan change is the upgrade)`,
    },
    {
      ok: kinds(ada.email).filter((k) => k === 'Payment failed').length === 1 && kinds(ada.email).filter((k) => k === 'Payment recovered').length === 1,
      text: `Ada's movements: ${kinds(ada.email).join(', ') || '—'}`,
    },
    {
      ok: adaTickets.length === 1 && /closed/i.test(adaTickets[0].stage),
      text: `Ada's failed renewal opened one ticket, closed on recovery (${adaTickets[0]?.stage ?? 'no ticket'})`,
    },
  ];
}

if (require.main === module) {
  runDemo({ exitOnSignal: true }).then(
    (r) => process.exit(r.checks.every((c) => c.ok) ? 0 : 1),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
