/**
 * The destinations beside HubSpot in `npm run demo`: fake Klaviyo, Loops, Intercom and Salesforce on 127.0.0.1 (one
 * view over each: test/fakes/destinations.ts), connected in test mode through the Stripe App's signed API as a
 * merchant does from the Dashboard (a key for the first three, Connect with Salesforce's OAuth flow for Salesforce), then what each holds after every chapter, tables and call counts at the end, and the checks
 * that tie them to HubSpot.
 */
import { randomBytes } from 'node:crypto';
import { DESTINATION_LABELS, type DestinationKind, type DestinationSettings, type FieldKey } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from '../src/adapters/store/db';
import { startFakeDestinations, type FakeDestinationKind, type FakeDestinationView, type HeldEvent, type HeldProfile } from '../test/fakes/destinations';
import { table } from './demo-crm';

/** The merchant's own Stripe account (the self-hosted backend's STRIPE_ACCOUNT_ID). */
export const DEMO_ACCOUNT_ID = 'acct_1DemoMerchant00000';

const LABELS: Record<DestinationKind, string> = DESTINATION_LABELS;
/** The destinations of the demo, in the order they are shown. */
export const DEMO_KINDS = ['klaviyo', 'loops', 'intercom', 'salesforce'] as const satisfies readonly FakeDestinationKind[];
export type DemoKind = (typeof DEMO_KINDS)[number];
const KINDS: readonly DemoKind[] = DEMO_KINDS;
/** What each destination calls a customer's record. */
const NOUN: Record<DemoKind, string> = { klaviyo: 'profile', loops: 'contact', intercom: 'contact', salesforce: 'contact' };
/** "Klaviyo now:", "Intercom now:" … padded to one column. */
const NOW_WIDTH = Math.max(...KINDS.map((k) => LABELS[k].length)) + 6;

/** One profile (Klaviyo) or contact (Loops, Intercom) as the demo shows it. */
export interface DestinationProfileRow {
  customerId: string;
  email: string;
  status: string;
  plan: string;
  mrr: string;
  /** Events this profile holds, by name, in the order they landed (a revenue movement with its kind). */
  events: string[];
}

export interface DestinationFigures {
  kind: DemoKind;
  /** Profiles (Klaviyo) or contacts (Loops, Intercom) at the end, by customer id. */
  profiles: DestinationProfileRow[];
  /** Stored events by name. */
  events: { name: string; count: number }[];
  storedEvents: number;
  /** Requests the fake received (every answer counted), in all and per endpoint. */
  calls: number;
  callsByEndpoint: Record<string, number>;
  /** calls / storedEvents, two decimals. */
  callsPerEvent: number;
  /** Calls made once per connection (key check, account, property setup), counted in `calls`. */
  setupCalls: number;
}

/** What the checks compare a destination with: HubSpot's contact of a customer. */
export interface HubSpotFacts {
  email: string | undefined;
  status: string | undefined;
}

export interface DemoDestinations {
  views: Record<DemoKind, FakeDestinationView>;
  /** What the backend needs to connect them: the app API's secret and account, a key to seal API keys, the fakes' URLs. */
  env: Record<string, string>;
  /** Connects each in test mode through the signed app API; answers the line to print. */
  connect(serverUrl: string): Promise<string>;
  /** One line per destination for a customer touched by a chapter (what it holds, or why it holds nothing). */
  chapterLines(db: Queryable, customerId: string): Promise<string[]>;
  figures(): Record<DemoKind, DestinationFigures>;
  /** Tables and call counts for the end of the demo. */
  reportLines(f: Record<DemoKind, DestinationFigures>): string[];
  close(): Promise<void>;
}

export async function startDemoDestinations(): Promise<DemoDestinations> {
  const started = await startFakeDestinations(KINDS, (kind) => ({ name: `Demo ${LABELS[kind]}`, klaviyoJobPolls: 0 }));
  const views = Object.fromEntries(started.map((v) => [v.kind, v])) as Record<DemoKind, FakeDestinationView>;
  const appSecret = `absec_demo_${randomBytes(16).toString('hex')}`;
  const settings = new Map<DestinationKind, DestinationSettings>();
  const prop = (kind: DestinationKind, key: FieldKey) => settings.get(kind)?.fields[key]?.property ?? key;

  const profilesOf = (kind: DemoKind): HeldProfile[] => views[kind].profiles();
  const eventsOf = (kind: DemoKind): HeldEvent[] => views[kind].events();

  const row = (kind: DemoKind, p: HeldProfile): DestinationProfileRow => {
    const v = (key: FieldKey) => str(p.properties[prop(kind, key)]) ?? '—';
    const mrr = p.properties[prop(kind, 'mrr')];
    const currency = str(p.properties[prop(kind, 'currency')]);
    return {
      customerId: p.customerId ?? '—',
      email: p.email ?? '—',
      status: v('subscriptionStatus'),
      plan: v('plan'),
      mrr: mrr === undefined || mrr === null || mrr === '' ? '—' : `${Number(mrr).toFixed(2)}${currency ? ` ${currency}` : ''}`,
      events: eventsOf(kind)
        .filter((e) => e.customerId !== null && e.customerId === p.customerId)
        .map((e) => {
          const movement = str(e.properties.movement);
          return movement && e.name === 'Revenue Movement' ? `${e.name} (${movement})` : e.name;
        }),
    };
  };

  const callsOf = (kind: DemoKind): Record<string, number> =>
    views[kind].requests().reduce<Record<string, number>>((acc, r) => ((acc[r.name] = (acc[r.name] ?? 0) + 1), acc), {});

  return {
    views,
    env: {
      STRIPE_APP_SECRET: appSecret,
      STRIPE_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ...Object.assign({}, ...started.map((v) => v.env)),
    },

    async connect(serverUrl) {
      const caller = { accountId: DEMO_ACCOUNT_ID, userId: 'usr_demo_merchant', secret: appSecret };
      const connected: string[] = [];
      for (const kind of KINDS) {
        const d = await views[kind].connect(serverUrl, caller);
        settings.set(kind, d.settings);
        connected.push(`${LABELS[kind]} ("${d.label}", ${d.auth === 'oauth' ? 'OAuth' : `key …${d.keyHint.slice(-4)}`})`);
      }
      return (
        `Connected ${connected.slice(0, -1).join(', ')} and ${connected[connected.length - 1]} in test mode through the Stripe App's signed API, ` +
        `as a merchant does (keys and tokens checked with each destination, then stored sealed with TOKEN_ENCRYPTION_KEY)`
      );
    },

    async chapterLines(db, customerId) {
      const { rows } = await db.query<{ kind: DestinationKind; dead: boolean; last_error: string | null }>(
        `SELECT d.kind, dc.dead_version IS NOT NULL AS dead, dc.last_error
           FROM destination_customers dc JOIN destinations d ON d.id = dc.destination_id
          WHERE dc.customer_id = $1 AND d.livemode = false`,
        [customerId],
      );
      return KINDS.map((kind) => {
        const matches = profilesOf(kind).filter((p) => p.customerId === customerId);
        const label = `${LABELS[kind]} now:`.padEnd(NOW_WIDTH);
        if (matches.length === 0) {
          const book = rows.find((r) => r.kind === kind);
          const why = !book
            ? 'not a customer of the test-mode connection'
            : book.dead
              ? `a dead letter (replayable from the app): ${book.last_error ?? 'no reason given'}`
              : book.last_error
                ? `not written yet: ${book.last_error}`
                : 'nothing to write';
          return `   ${label}(no ${NOUN[kind]} for ${customerId}: ${why})`;
        }
        const r = row(kind, matches[0]);
        const events = r.events.length > 0 ? countedList(r.events) : 'none yet';
        const who = r.email === '—' ? `${customerId} (no email)` : r.email;
        return `   ${label}${who} · ${r.status} · ${r.plan} · MRR ${r.mrr} · events: ${events}${matches.length > 1 ? `   [${matches.length} profiles!]` : ''}`;
      });
    },

    figures() {
      const out = {} as Record<DemoKind, DestinationFigures>;
      for (const kind of KINDS) {
        const events = eventsOf(kind);
        const byName = new Map<string, number>();
        for (const e of events) byName.set(e.name, (byName.get(e.name) ?? 0) + 1);
        const callsByEndpoint = callsOf(kind);
        const calls = Object.values(callsByEndpoint).reduce((s, n) => s + n, 0);
        const setupCalls = Object.entries(callsByEndpoint)
          .filter(([endpoint]) => SETUP_ENDPOINT.test(endpoint))
          .reduce((s, [, n]) => s + n, 0);
        out[kind] = {
          kind,
          profiles: profilesOf(kind)
            .map((p) => row(kind, p))
            .sort((a, b) => a.customerId.localeCompare(b.customerId)),
          events: [...byName].map(([name, count]) => ({ name, count })).sort((a, b) => a.name.localeCompare(b.name)),
          storedEvents: events.length,
          calls,
          callsByEndpoint,
          callsPerEvent: events.length > 0 ? Math.round((calls / events.length) * 100) / 100 : 0,
          setupCalls,
        };
      }
      return out;
    },

    reportLines(f) {
      const out: string[] = [];
      for (const kind of KINDS) {
        const x = f[kind];
        const noun = `${NOUN[kind]}s`;
        out.push('', `${LABELS[kind]} ${noun} (test-mode connection):`);
        const rows = x.profiles.map((r) => ({ ...r, events: String(r.events.length) }));
        for (const l of rows.length > 0
          ? table([['customerId', 'Customer'], ['email', 'Email'], ['status', 'Subscription'], ['plan', 'Plan'], ['mrr', 'MRR'], ['events', 'Events']], rows)
          : ['(none)'])
          out.push(`  ${l}`);
        out.push(`${LABELS[kind]} events by name: ${x.events.map((e) => `${e.name} ${e.count}`).join(', ') || 'none'} (${x.storedEvents} in all)`);
      }
      out.push('');
      for (const kind of KINDS) {
        const x = f[kind];
        const parts = Object.entries(x.callsByEndpoint)
          .sort((a, b) => b[1] - a[1])
          .map(([endpoint, n]) => `${endpoint} ${n}`);
        const writes = x.calls - x.setupCalls;
        const perEvent = x.storedEvents > 0 ? (writes / x.storedEvents).toFixed(2) : '—';
        out.push(`${LABELS[kind]} API calls: ${x.calls} for ${x.storedEvents} stored events (${x.callsPerEvent} per stored event) — ${parts.join(', ')}`);
        const setup = kind === 'klaviyo' ? 'key check' : kind === 'salesforce' ? 'OAuth token, field checks' : 'key check, custom properties';
        out.push(`  ${x.setupCalls} of them once per connection (${setup}); the other ${writes} are ${perEvent} per stored event`);
      }
      out.push('  (the demo waits after every chapter, so each chapter is its own small write; a burst shares calls across customers)');
      return out;
    },

    async close() {
      await Promise.all(started.map((v) => v.close().catch(() => undefined)));
    },
  };
}

/** "Klaviyo, Loops and Intercom" */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The destinations' checks: one profile/contact per customer with HubSpot's status, each event once, nothing of live mode. */
export async function destinationChecks(
  db: Queryable,
  d: DemoDestinations,
  f: Record<DemoKind, DestinationFigures>,
  args: {
    /** Test-mode customers with an email, and what HubSpot holds for each. */
    customers: { id: string; name: string; hubspot: HubSpotFacts }[];
    /** The live-mode customer of the story (its id and email). */
    live: { id: string; email: string };
    /** A customer whose event Stripe delivered twice, and that event's invoice (its paid event's key). */
    duplicate: { id: string; name: string; invoiceId: string };
  },
): Promise<{ ok: boolean; text: string }[]> {
  const { rows } = await db.query<{ kind: DestinationKind; n: string }>(
    `SELECT d.kind, count(s.event_key) AS n FROM destinations d LEFT JOIN destination_event_sends s ON s.destination_id = d.id
      WHERE d.livemode = false GROUP BY d.kind`,
  );
  const sent = new Map(rows.map((r) => [r.kind, Number(r.n)]));
  const keysOf = (kind: DemoKind) => d.views[kind].events().map((e) => e.key);
  const repeated = (keys: (string | null)[]) => keys.length - new Set(keys).size + keys.filter((k) => k === null).length;
  const mismatches = (kind: DemoKind) =>
    args.customers.flatMap((c) => {
      const mine = f[kind].profiles.filter((p) => p.customerId === c.id);
      if (mine.length !== 1) return [`${c.name}: ${mine.length} ${NOUN[kind]}s`];
      const p = mine[0];
      return p.status === c.hubspot.status && p.email === c.hubspot.email ? [] : [`${c.name}: ${p.email} ${p.status} (HubSpot ${c.hubspot.email} ${c.hubspot.status})`];
    });
  const statuses = args.customers.map((c) => `${c.name.split(' ')[0]} ${c.hubspot.status ?? '—'}`).join(', ');
  const named = new RegExp(`${escape(args.live.id)}|${escape(args.live.email)}`);
  const liveRequests = KINDS.reduce((n, k) => n + d.views[k].requests().filter((r) => named.test(JSON.stringify(r.body ?? ''))).length, 0);
  const liveHeld = KINDS.filter((k) => f[k].profiles.some((p) => p.customerId === args.live.id || p.email === args.live.email));
  const paidKey = `${args.duplicate.invoiceId}:paid`;
  const dup = KINDS.map((k) => ({
    kind: k,
    profiles: f[k].profiles.filter((p) => p.customerId === args.duplicate.id).length,
    paid: d.views[k].events().filter((e) => e.key === paidKey).length,
  }));
  const labels = KINDS.map((k) => LABELS[k]);
  return [
    ...KINDS.map((kind, i) => {
      const m = mismatches(kind);
      return {
        ok: m.length === 0,
        text: `one ${LABELS[kind]} ${NOUN[kind]} per test-mode customer with an email, with its HubSpot email and subscription status${i === 0 ? ` (${statuses})` : ''}${m.length ? `: ${m.join('; ')}` : ''}`,
      };
    }),
    {
      ok: KINDS.every((k) => repeated(keysOf(k)) === 0 && sent.get(k) === keysOf(k).length),
      text: `no event landed twice: ${andList(KINDS.map((k) => `${keysOf(k).length} ${LABELS[k]} events with ${new Set(keysOf(k).filter((x) => x !== null)).size} distinct ${KEY_NAME[k]}`))}, each recorded once as sent`,
    },
    {
      ok: dup.every((x) => x.profiles === 1 && x.paid === 1),
      text: `the duplicate delivery made no second profile or event: ${args.duplicate.name} has ${andList(dup.map((x) => `${x.profiles} ${LABELS[x.kind]} ${NOUN[x.kind]}`))}, "${paidKey}" landed ${andList(dup.map((x) => `${x.paid}× in ${LABELS[x.kind]}`))}`,
    },
    {
      ok: liveRequests === 0 && liveHeld.length === 0,
      text: `the live-mode event reached none of ${andList(labels)} (${liveRequests} requests named ${args.live.id}; the connections are test mode)`,
    },
  ];
}

/** What keeps an event from landing twice in each destination. */
const KEY_NAME: Record<DemoKind, string> = {
  klaviyo: 'unique_id',
  loops: 'Idempotency-Key',
  intercom: 'name, time and invoice or movement',
  salesforce: 'Stripe_Event_Key__c',
};

/**
 * Endpoints called once per connection: the key check (Klaviyo's account, Loops' api-key, Intercom's /me), the
 * custom properties (Loops' contact properties, Intercom's data attributes) and Salesforce's OAuth token and field
 * checks (describes; the adapter reads them once per pass).
 */
const SETUP_ENDPOINT = /^get_accounts$|api-key|contacts\/properties|data_attributes|\/me$|\/describe$|oauth2\/token$/;

function str(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : String(v);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** ["A", "B", "A"] → "A ×2, B" (first-seen order). */
function countedList(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  // By name: Loops receives a customer's events a few at a time, in no fixed order, and the line must read the same on every run.
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, c]) => (c > 1 ? `${n} ×${c}` : n))
    .join(', ');
}
