/**
 * Every fake destination behind one view, for the demo and the bench: start it, the backend environment that points
 * the adapter at it, connect it through the signed Stripe App API as a merchant does, and read back what it holds
 * in common terms — profiles (contacts) by Stripe customer id with their properties, events with the key they stand
 * for, the requests it answered. Each fake keeps its own richer state for tests that need it (`fake`).
 */
import { REVENUE_MOVEMENT_LABELS, type DestinationKind, type DestinationSettings, type DestinationSummary } from '@stripe-hubspot-sync/contracts';
import { appRequest, type AppCaller } from '../helpers/app-api';
import { startFakeKlaviyo, type FakeKlaviyo } from './klaviyo/server';
import { startFakeLoops, type FakeLoops } from './loops/server';
import { startFakeIntercom, type FakeIntercom } from './intercom/server';
import { startFakeSalesforce, type FakeSalesforce } from './salesforce/server';
import { fakeSalesforceOAuth, type FakeSalesforceOAuth } from './salesforce/oauth';
import { addDefaultSyncFields } from './salesforce/default-fields';

export interface HeldProfile {
  customerId: string | null;
  email: string | null;
  properties: Record<string, unknown>;
}

export interface HeldEvent {
  customerId: string | null;
  name: string;
  /** The event's key as the sync makes it (`in_…:paid`, a movement id), as far as the destination keeps it. */
  key: string | null;
  properties: Record<string, unknown>;
}

export interface FakeDestinationView {
  kind: DestinationKind;
  url: string;
  /** The backend environment that points this destination's adapter at the fake. */
  env: Record<string, string>;
  /** Connects it in test mode through the signed app API; answers the destination as the app sees it. */
  connect(serverUrl: string, caller: AppCaller): Promise<DestinationSummary & { settings: DestinationSettings }>;
  profiles(): HeldProfile[];
  events(): HeldEvent[];
  /** Every request answered (refused ones too), by operation or endpoint, with its status and body. */
  requests(): { name: string; status: number; body: unknown }[];
  /** Answers that told the caller to slow down (429s). */
  throttled(): number;
  close(): Promise<void>;
}

export interface FakeDestinationOptions {
  /** The name the destination's account goes by (Klaviyo organization, Loops team, Intercom app). */
  name?: string;
  /** Intercom: requests per 10-second period (default Intercom's 1,666). */
  intercomPerPeriod?: number;
  /** Klaviyo: polls of a bulk profile import job answered `processing` before it completes (the fake's default: 1). */
  klaviyoJobPolls?: number;
}

async function connectWithKey(serverUrl: string, caller: AppCaller, body: Record<string, unknown>) {
  const r = await appRequest(serverUrl, 'POST', '/destinations', caller, { mode: 'test', ...body });
  if (r.status !== 201) throw new Error(`connecting ${String(body.kind)} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return (r.body as { destination: DestinationSummary & { settings: DestinationSettings } }).destination;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function klaviyoView(k: FakeKlaviyo): FakeDestinationView {
  const owners = () => new Map([...k.state.profiles.values()].map((p) => [p.id, p.external_id]));
  return {
    kind: 'klaviyo',
    url: k.url,
    env: { KLAVIYO_API_BASE_URL: k.url },
    connect: (serverUrl, caller) => connectWithKey(serverUrl, caller, { kind: 'klaviyo', apiKey: k.apiKey }),
    profiles: () => [...k.state.profiles.values()].map((p) => ({ customerId: p.external_id, email: p.email, properties: p.properties })),
    events: () => {
      const owner = owners();
      return k.state.events.map((e) => ({ customerId: owner.get(e.profileId) ?? null, name: e.metric, key: e.uniqueId, properties: e.properties }));
    },
    requests: () => k.state.requests.map((r) => ({ name: r.operation ?? `${r.method} ${r.path}`, status: r.status, body: r.body })),
    throttled: () => k.state.requests.filter((r) => r.status === 429).length,
    close: () => k.close(),
  };
}

function loopsView(l: FakeLoops): FakeDestinationView {
  return {
    kind: 'loops',
    url: l.url,
    env: { LOOPS_API_BASE_URL: l.url },
    connect: (serverUrl, caller) => connectWithKey(serverUrl, caller, { kind: 'loops', apiKey: l.apiKey }),
    profiles: () => [...l.state.contacts.values()].map((c) => ({ customerId: c.userId, email: c.email, properties: c.properties })),
    events: () => {
      const owner = new Map([...l.state.contacts.values()].map((c) => [c.id, c.userId]));
      return l.state.events.map((e) => ({ customerId: owner.get(e.contactId) ?? null, name: e.eventName, key: e.idempotencyKey, properties: e.eventProperties }));
    },
    requests: () => l.state.requests.map((r) => ({ name: `${r.method} ${r.path}`, status: r.status, body: r.body })),
    throttled: () => l.state.throttled,
    close: () => l.close(),
  };
}

function intercomView(i: FakeIntercom): FakeDestinationView {
  return {
    kind: 'intercom',
    url: i.url,
    env: { INTERCOM_API_BASE_URL: i.url },
    connect: (serverUrl, caller) => connectWithKey(serverUrl, caller, { kind: 'intercom', apiKey: i.token }),
    profiles: () => [...i.state.contacts.values()].map((c) => ({ customerId: c.external_id, email: c.email, properties: c.custom_attributes })),
    // Intercom events carry no id of ours (Intercom dedupes by name, time and user): an invoice's Issued Invoice and
    // Successfully Paid are told by the invoice in their metadata (their keys are `in_…:issued` / `in_…:paid`);
    // other events by name, subject and time.
    events: () => {
      const owner = new Map([...i.state.contacts.values()].map((c) => [c.id, c.external_id]));
      return i.state.events.map((e) => {
        const invoice = text(e.metadata.invoiceId);
        const suffix = e.event_name === 'Issued Invoice' ? 'issued' : e.event_name === 'Successfully Paid' ? 'paid' : null;
        const key = invoice && suffix ? `${invoice}:${suffix}` : `${e.event_name}:${text(e.metadata.subjectId) ?? text(e.metadata.chargeId) ?? '-'}:${e.created_at}`;
        return { customerId: owner.get(e.contactId) ?? null, name: e.event_name, key, properties: e.metadata };
      });
    },
    requests: () => i.state.requests.map((r) => ({ name: r.endpoint, status: r.status, body: r.body })),
    throttled: () => i.state.throttled,
    close: () => i.close(),
  };
}

const MOVEMENT_OF_LABEL = new Map(Object.entries(REVENUE_MOVEMENT_LABELS).map(([kind, label]) => [label, kind]));

/** The OAuth client the backend is configured with for the fake Salesforce (SALESFORCE_CLIENT_ID / _SECRET). */
const SALESFORCE_CLIENT = { clientId: '3MVG9fake-salesforce-client', clientSecret: 'fake-salesforce-client-secret' };

/**
 * Salesforce connects with OAuth only: the app asks the backend for the authorize URL (its state and PKCE challenge),
 * the admin approves on the org's login page (the fake issues a code for that challenge and redirect), and the app
 * posts the code and state back. The org has every field of the default settings, as an admin makes them.
 */
function salesforceView(org: FakeSalesforce, oauth: FakeSalesforceOAuth): FakeDestinationView {
  const records = (object: string) => [...(org.state.records.get(object)?.values() ?? [])];
  return {
    kind: 'salesforce',
    url: org.url,
    env: {
      SALESFORCE_CLIENT_ID: SALESFORCE_CLIENT.clientId,
      SALESFORCE_CLIENT_SECRET: SALESFORCE_CLIENT.clientSecret,
      SALESFORCE_LOGIN_URL: org.url,
      SALESFORCE_SANDBOX_LOGIN_URL: org.url,
    },
    async connect(serverUrl, caller) {
      const a = await appRequest(serverUrl, 'GET', '/destinations/salesforce/authorize-url?mode=test&environment=production', caller);
      if (a.status !== 200) throw new Error(`Salesforce's authorize URL answered ${a.status}: ${JSON.stringify(a.body)}`);
      const url = new URL((a.body as { url: string }).url);
      const code = oauth.issueCode({
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: url.searchParams.get('redirect_uri') ?? '',
        scope: url.searchParams.get('scope') ?? undefined,
      });
      const r = await appRequest(serverUrl, 'POST', '/destinations/salesforce/connect', caller, { mode: 'test', code, state: url.searchParams.get('state') });
      if (r.status !== 201) throw new Error(`connecting salesforce answered ${r.status}: ${JSON.stringify(r.body)}`);
      return (r.body as { destination: DestinationSummary & { settings: DestinationSettings } }).destination;
    },
    profiles: () => records('Contact').map((c) => ({ customerId: text(c.Stripe_Customer_Id__c), email: text(c.Email), properties: c })),
    // A payment record per event, keyed by the event's key (Stripe_Event_Key__c, an External ID); a revenue
    // movement's Name carries its label ("Revenue Movement: Upgrade"), read back as the event's name and kind.
    events: () =>
      records('Stripe_Payment__c').map((p) => {
        const [name = '', label] = String(p.Name ?? '').split(': ');
        const movement = label === undefined ? undefined : MOVEMENT_OF_LABEL.get(label);
        return { customerId: text(p.Stripe_Customer_Id__c), name, key: text(p.Stripe_Event_Key__c), properties: { ...p, ...(movement ? { movement } : {}) } };
      }),
    requests: () => org.state.requests.map((r) => ({ name: `${r.method} ${r.path.replace(/^\/services\/data\/v[\d.]+/, '')}`, status: r.status, body: r.body })),
    throttled: () => org.state.limitRefusals,
    close: () => org.close(),
  };
}

/** The kinds with a fake view here. */
export const FAKE_DESTINATION_KINDS = ['klaviyo', 'loops', 'intercom', 'salesforce'] as const satisfies readonly DestinationKind[];
export type FakeDestinationKind = (typeof FAKE_DESTINATION_KINDS)[number];

export async function startFakeDestination(kind: FakeDestinationKind, options: FakeDestinationOptions = {}): Promise<FakeDestinationView> {
  switch (kind) {
    case 'klaviyo':
      return klaviyoView(await startFakeKlaviyo({ organizationName: options.name ?? 'Fake Klaviyo', ...(options.klaviyoJobPolls !== undefined ? { jobPollsBeforeComplete: options.klaviyoJobPolls } : {}) }));
    case 'loops':
      return loopsView(await startFakeLoops({ teamName: options.name ?? 'Fake Loops' }));
    case 'intercom':
      return intercomView(await startFakeIntercom({ appName: options.name ?? 'Fake Intercom', ...(options.intercomPerPeriod ? { limitPerPeriod: options.intercomPerPeriod } : {}) }));
    case 'salesforce': {
      const org = await startFakeSalesforce();
      addDefaultSyncFields(org);
      return salesforceView(org, fakeSalesforceOAuth(org, SALESFORCE_CLIENT));
    }
  }
}

/** Starts several; on a failure closes the ones already started. */
export async function startFakeDestinations(kinds: readonly FakeDestinationKind[], options: (kind: FakeDestinationKind) => FakeDestinationOptions = () => ({})): Promise<FakeDestinationView[]> {
  const started: FakeDestinationView[] = [];
  try {
    for (const k of kinds) started.push(await startFakeDestination(k, options(k)));
    return started;
  } catch (err) {
    await Promise.all(started.map((v) => v.close().catch(() => undefined)));
    throw err;
  }
}
