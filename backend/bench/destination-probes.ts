/**
 * The destinations of the `destinations` bench section, one probe each: the fake it runs (with the service's
 * documented rate limits), how the bench backend connects to it through the signed Stripe App API, and what the fake
 * holds in the end (each customer's newest email and subscription status; each invoice's Issued Invoice /
 * Successfully Paid event; no profile or event twice), read the same way for every destination.
 */
import { defaultDestinationProperty, type ListDestinationsResponse } from '@stripe-hubspot-sync/contracts';
import { FAKE_DESTINATION_KINDS, startFakeDestination, type FakeDestinationKind, type FakeDestinationView } from '../test/fakes/destinations';
import { appRequest, type AppCaller } from '../test/helpers/app-api';
import type { PlannedEvent } from './burst-lib/events';
import { BENCH_ACCOUNT_ID, BENCH_APP_SECRET, type BenchBackend } from './burst-lib/backend';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// What every destination must end with, from the plan.

export interface Expected {
  /** Customer id → its newest email. */
  email: Map<string, string>;
  /** Customer id → its subscription's newest status (subscribers only). */
  status: Map<string, string>;
  /** Event keys every destination must hold (each invoice's issued, each paid invoice's paid). */
  keys: Set<string>;
}

export function expectedOf(events: PlannedEvent[]): Expected {
  const email = new Map<string, string>();
  const status = new Map<string, string>();
  const keys = new Set<string>();
  for (const e of events) {
    const o = (e.event.data as { object: Json }).object;
    if (o.object === 'customer' && typeof o.email === 'string') email.set(e.customerId, o.email);
    if (o.object === 'subscription' && typeof o.status === 'string') status.set(e.customerId, o.status);
    if (o.object === 'invoice' && typeof o.id === 'string') {
      keys.add(`${o.id}:issued`);
      if (o.status === 'paid') keys.add(`${o.id}:paid`);
    }
  }
  return { email, status, keys };
}

export interface DestinationState {
  /** Customers whose profile (by customer id) has the newest email and subscription status. */
  profilesNewest: number;
  missingProfiles: number;
  wrongFacts: string[];
  /** Expected event keys not found. */
  missingKeys: number;
  /** Events held, and keys held more than once (per profile and event name). */
  events: number;
  duplicateKeys: string[];
  /** Profiles / contacts held for a customer id more than once. */
  duplicateProfiles: number;
}

/** What a fake holds, in common terms: profiles by customer id, and events with the key they stand for. */
interface Holdings {
  profiles: { customerId: string; email: string | null; status: unknown }[];
  events: { owner: string; name: string; key: string | null }[];
}

function compare(h: Holdings, x: Expected): DestinationState {
  const byCustomer = new Map<string, { email: string | null; status: unknown }[]>();
  for (const p of h.profiles) byCustomer.set(p.customerId, [...(byCustomer.get(p.customerId) ?? []), p]);
  let profilesNewest = 0;
  let missingProfiles = 0;
  let duplicateProfiles = 0;
  const wrongFacts: string[] = [];
  for (const [cus, email] of x.email) {
    const list = byCustomer.get(cus);
    if (!list || list.length === 0) {
      missingProfiles += 1;
      continue;
    }
    if (list.length > 1) duplicateProfiles += 1;
    const p = list[0]!;
    const status = x.status.get(cus);
    const ok = p.email?.toLowerCase() === email.toLowerCase() && (status === undefined || p.status === status);
    if (ok) profilesNewest += 1;
    else if (wrongFacts.length < 5) wrongFacts.push(`${cus}: email ${p.email} (want ${email}), status ${String(p.status)} (want ${status ?? 'any'})`);
  }
  const keys = new Set(h.events.map((e) => e.key));
  const held = new Map<string, number>();
  for (const e of h.events) {
    const k = `${e.owner}|${e.name}|${e.key ?? '(no key)'}`;
    held.set(k, (held.get(k) ?? 0) + 1);
  }
  let missingKeys = 0;
  for (const key of x.keys) if (!keys.has(key)) missingKeys += 1;
  const duplicateKeys = [...held].filter(([, n]) => n > 1).map(([k]) => k);
  return { profilesNewest, missingProfiles, wrongFacts, missingKeys, events: h.events.length, duplicateKeys, duplicateProfiles };
}

export const converged = (s: DestinationState, customers: number) =>
  s.profilesNewest === customers && s.missingKeys === 0 && s.duplicateKeys.length === 0 && s.duplicateProfiles === 0;

// ---------------------------------------------------------------------------------------------------------------
// The signed Stripe App API of the bench backend (the self-hosted account).

const CALLER: AppCaller = { accountId: BENCH_ACCOUNT_ID, userId: 'usr_bench', secret: BENCH_APP_SECRET };

export async function listDestinations(backend: BenchBackend): Promise<ListDestinationsResponse['destinations']> {
  const r = await appRequest(backend.url, 'GET', '/destinations?mode=test', CALLER);
  if (r.status !== 200) throw new Error(`GET /destinations answered ${r.status}: ${JSON.stringify(r.body)}`);
  return (r.body as ListDestinationsResponse).destinations;
}

// ---------------------------------------------------------------------------------------------------------------
// The probes: a fake destination (test/fakes/destinations.ts) and the rate that bounds its drain.

export interface DestinationProbe {
  kind: ProbeKind;
  label: string;
  view: FakeDestinationView;
  connect(backend: BenchBackend): Promise<void>;
  /** The documented request rate that bounds the drain (calls per second), when one does at this size. */
  ratePerSecond: number | null;
}

export const PROBE_KINDS = FAKE_DESTINATION_KINDS;
export type ProbeKind = FakeDestinationKind;

const LABELS: Record<ProbeKind, string> = { klaviyo: 'Klaviyo', loops: 'Loops', intercom: 'Intercom', salesforce: 'Salesforce' };
/** Intercom's default: 10,000 calls a minute for an app, spread over six 10-second periods. */
const INTERCOM_PER_PERIOD = 1666;
// Klaviyo's tiers are far above what bulk calls need; Salesforce's is a daily allowance (15,000 a day in the fake, as a
// Developer Edition org), not a rate: both are bounded by their call counts at this size.
const RATE: Record<ProbeKind, number | null> = { klaviyo: null, loops: 10, intercom: INTERCOM_PER_PERIOD / 10, salesforce: null };

export function destinationState(p: DestinationProbe, x: Expected): DestinationState {
  const statusProperty = defaultDestinationProperty(p.kind, 'subscriptionStatus');
  return compare(
    {
      profiles: p.view.profiles().flatMap((q) => (q.customerId ? [{ customerId: q.customerId, email: q.email, status: q.properties[statusProperty] }] : [])),
      events: p.view.events().map((e) => ({ owner: e.customerId ?? '(none)', name: e.name, key: e.key })),
    },
    x,
  );
}

export async function startProbe(kind: ProbeKind): Promise<DestinationProbe> {
  const view = await startFakeDestination(kind, { name: `Bench ${LABELS[kind]}`, intercomPerPeriod: INTERCOM_PER_PERIOD });
  return {
    kind,
    label: LABELS[kind],
    view,
    connect: async (b) => void (await view.connect(b.url, CALLER)),
    ratePerSecond: RATE[kind],
  };
}
