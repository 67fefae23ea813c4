/**
 * The naive baseline of the burst bench: the classic custom webhook recipe. For each Stripe event, find the
 * contact by searching HubSpot for the customer's email, then create it or update it with the event's facts —
 * one search and one write per event, no batching, no stored link. To be fair it is given the same limits we
 * obey: a client-side budget of 100 calls per 10 s and HubSpot's 5 searches per second (429s are retried).
 * Emails of events that carry none (subscriptions, invoices, charges) come from the customer as the recipe
 * would fetch it from Stripe — a Stripe call, not counted here.
 */
import type { PlannedEvent } from './events';

type Json = Record<string, unknown>;

/** The properties the recipe writes (created in the baseline's portal before the measurement). */
export const NAIVE_PROPERTIES: { name: string; type: 'string' | 'number'; fieldType: 'text' | 'number' }[] = [
  { name: 'stripe_customer_id', type: 'string', fieldType: 'text' },
  { name: 'stripe_subscription_status', type: 'string', fieldType: 'text' },
  { name: 'stripe_last_payment_amount', type: 'number', fieldType: 'number' },
  { name: 'stripe_last_payment_status', type: 'string', fieldType: 'text' },
  { name: 'stripe_total_refunded', type: 'number', fieldType: 'number' },
];

export interface NaiveOptions {
  hubspotUrl: string;
  token: string;
  events: PlannedEvent[];
  budgetPer10s: number;
  searchesPerSecond: number;
}

export interface NaiveResult {
  events: number;
  searches: number;
  creates: number;
  updates: number;
  /** Contacts created for a customer that already had one (an email change found nothing by the new email). */
  duplicateContacts: number;
  /** 429 answers (retried). */
  rateLimited: number;
  errors: string[];
  startedAt: number;
  finishedAt: number;
}

/**
 * A rolling-window limiter: at most `limit` calls per `windowMs`. A call holds its slot from `acquire` until
 * the `done` it answers is called, and is dated by that moment: HubSpot dates a call by its arrival, which is
 * somewhere in between, so the window the server sees is never fuller than ours.
 */
export class RollingWindow {
  /** One entry per call in the window: its end time, Infinity while in flight. */
  private readonly slots: { t: number }[] = [];
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Milliseconds to wait before the next call may start at `now` (0 = now). */
  waitMs(now: number): number {
    for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i].t <= now - this.windowMs) this.slots.splice(i, 1);
    if (this.slots.length < this.limit) return 0;
    const oldest = Math.min(...this.slots.map((s) => s.t));
    return oldest === Infinity ? 5 : oldest + this.windowMs - now + 1;
  }

  /** Waits for a free slot; call the answer when the call has completed. */
  async acquire(): Promise<() => void> {
    for (let w = this.waitMs(Date.now()); w > 0; w = this.waitMs(Date.now())) await new Promise((r) => setTimeout(r, w));
    const slot = { t: Infinity };
    this.slots.push(slot);
    return () => {
      if (slot.t === Infinity) slot.t = Date.now();
    };
  }
}

/** What the recipe writes for an event: the facts in its payload, mapped naively. */
export function naiveProperties(type: string, object: Json): Record<string, string> {
  const money = (minor: unknown) => (typeof minor === 'number' ? (minor / 100).toFixed(2) : '0');
  const props: Record<string, string> = {};
  const customer = object.object === 'customer' ? object.id : object.customer;
  if (typeof customer === 'string') props.stripe_customer_id = customer;
  if (type.startsWith('customer.subscription.')) props.stripe_subscription_status = String(object.status);
  if (type === 'invoice.paid') Object.assign(props, { stripe_last_payment_amount: money(object.amount_paid), stripe_last_payment_status: 'succeeded' });
  if (type === 'invoice.payment_failed') Object.assign(props, { stripe_last_payment_amount: money(object.amount_due), stripe_last_payment_status: 'failed' });
  if (type === 'charge.succeeded') Object.assign(props, { stripe_last_payment_amount: money(object.amount), stripe_last_payment_status: 'succeeded' });
  if (type === 'charge.refunded') props.stripe_total_refunded = money(object.amount_refunded);
  return props;
}

export async function runNaive(opts: NaiveOptions): Promise<NaiveResult> {
  const budget = new RollingWindow(opts.budgetPer10s, 10_000);
  const searchBudget = new RollingWindow(opts.searchesPerSecond, 1_000);
  const result: NaiveResult = { events: 0, searches: 0, creates: 0, updates: 0, duplicateContacts: 0, rateLimited: 0, errors: [], startedAt: Date.now(), finishedAt: 0 };
  const emails = new Map<string, string>();
  const contactsOf = new Map<string, number>();

  const call = async (method: string, path: string, body: unknown, search = false): Promise<{ status: number; body: Json }> => {
    for (;;) {
      const searchDone = search ? await searchBudget.acquire() : undefined;
      const done = await budget.acquire();
      const res = await fetch(`${opts.hubspotUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }).finally(() => {
        done();
        searchDone?.();
      });
      const json = (await res.json().catch(() => ({}))) as Json;
      if (res.status !== 429) return { status: res.status, body: json };
      result.rateLimited += 1;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  };

  for (const planned of opts.events) {
    result.events += 1;
    const object = (planned.event.data as { object: Json }).object;
    if (object.object === 'customer' && typeof object.email === 'string') emails.set(planned.customerId, object.email);
    const email = emails.get(planned.customerId);
    if (!email) continue;
    const found = await call(
      'POST',
      '/crm/v3/objects/contacts/search',
      { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }], properties: ['email'], sorts: [], limit: 1, after: '0' },
      true,
    );
    result.searches += 1;
    const id = (found.body.results as { id: string }[] | undefined)?.[0]?.id;
    const properties = naiveProperties(planned.type, object);
    const written = id
      ? await call('PATCH', `/crm/v3/objects/contacts/${id}`, { properties })
      : await call('POST', '/crm/v3/objects/contacts', { properties: { email, ...properties }, associations: [] });
    if (written.status >= 300) {
      if (result.errors.length < 5) result.errors.push(`${written.status} ${String(written.body.message ?? '')}`);
      continue;
    }
    if (id) result.updates += 1;
    else {
      result.creates += 1;
      const n = (contactsOf.get(planned.customerId) ?? 0) + 1;
      contactsOf.set(planned.customerId, n);
      if (n > 1) result.duplicateContacts += 1;
    }
  }
  result.finishedAt = Date.now();
  return result;
}
