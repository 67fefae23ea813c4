import { stripeEvent } from '../../helpers/stripe-fixtures';
import { buildCharge, buildCustomer, buildInvoice, buildSubscription, type BuildContext } from './builders';
import type { FakeStripeAccount, StripeJson } from './types';

/** The account the platform key acts as when a request has no `Stripe-Account` header. */
export const PLATFORM_ACCOUNT = 'acct_platform';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** murmur3's 32-bit finaliser: a fast, well-spread, deterministic mix (unsigned result). */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * One account's data in one mode. Ids are deterministic (a hash of account, mode and a counter), so
 * the same calls on a fresh account give the same ids; objects added without `created` get a clock
 * that starts a week ago and ticks one second per object.
 */
export class FakeAccount implements FakeStripeAccount {
  readonly customers = new Map<string, StripeJson>();
  readonly subscriptions = new Map<string, StripeJson>();
  readonly invoices = new Map<string, StripeJson>();
  readonly charges = new Map<string, StripeJson>();
  readonly events = new Map<string, StripeJson>();
  readonly undeliveredEvents = new Set<string>();
  readonly ctx: BuildContext;
  private counter = 0;
  private clock = Math.floor(Date.now() / 1000) - 7 * 86_400;
  private readonly shared = new Map<string, string>();
  private readonly salt: number;

  constructor(
    readonly accountId: string,
    readonly livemode: boolean,
  ) {
    this.salt = fnv1a(`${accountId}|${livemode}`);
    this.ctx = {
      livemode,
      accountId,
      newId: (prefix) => this.newId(prefix),
      sharedId: (prefix, key) => {
        const k = `${prefix}:${key}`;
        let id = this.shared.get(k);
        if (!id) this.shared.set(k, (id = this.newId(prefix)));
        return id;
      },
    };
  }

  private newId(prefix: string): string {
    const n = this.counter++;
    let s = '';
    for (let word = 0; word < 3; word++) {
      let h = mix32(this.salt ^ mix32(n * 3 + word + 1));
      for (let i = 0; i < 5 && s.length < 14; i++) {
        s += BASE62[h % 62];
        h = Math.floor(h / 62);
      }
    }
    return `${prefix}_${s}`;
  }

  private created(overrides: StripeJson): number {
    return typeof overrides.created === 'number' ? overrides.created : this.clock++;
  }

  private store(map: Map<string, StripeJson>, obj: StripeJson): StripeJson {
    const id = obj.id as string;
    if (map.has(id)) throw new Error(`fake stripe: ${id} already exists in ${this.accountId}`);
    map.set(id, obj);
    return obj;
  }

  private liveCustomer(customerId: string): StripeJson {
    const c = this.customers.get(customerId);
    if (!c || c.deleted) throw new Error(`fake stripe: no customer ${customerId} in ${this.accountId} (livemode ${this.livemode})`);
    return c;
  }

  addCustomer(overrides: StripeJson = {}): StripeJson {
    return this.store(this.customers, buildCustomer(this.ctx, this.created(overrides), overrides));
  }

  addSubscription(customerId: string, overrides: StripeJson = {}): StripeJson {
    const customer = this.liveCustomer(customerId);
    const sub = buildSubscription(this.ctx, customerId, this.created(overrides), overrides);
    customer.currency ??= sub.currency;
    return this.store(this.subscriptions, sub);
  }

  /**
   * `overrides.subscription` (an id) is a shorthand: the invoice bills that subscription (its
   * `parent.subscription_details`, line and amounts) and the key itself is not kept, as in the
   * current API. The subscription's `latest_invoice` follows the newest invoice.
   */
  addInvoice(customerId: string, overrides: StripeJson = {}): StripeJson {
    const customer = this.liveCustomer(customerId);
    const { subscription: subId, ...rest } = overrides;
    let subscription: StripeJson | undefined;
    if (subId !== undefined && subId !== null) {
      subscription = this.subscriptions.get(subId as string);
      if (!subscription) throw new Error(`fake stripe: no subscription ${String(subId)} in ${this.accountId}`);
    }
    const seq = (customer.next_invoice_sequence as number | undefined) ?? 1;
    const invoice = buildInvoice(
      this.ctx,
      { customer, ...(subscription ? { subscription } : {}), number: `${String(customer.invoice_prefix)}-${String(seq).padStart(4, '0')}` },
      this.created(rest),
      rest,
    );
    if (invoice.number) customer.next_invoice_sequence = seq + 1;
    customer.currency ??= invoice.currency;
    if (subscription) {
      const latest = subscription.latest_invoice ? this.invoices.get(subscription.latest_invoice as string) : undefined;
      if (!latest || (latest.created as number) <= (invoice.created as number)) subscription.latest_invoice = invoice.id;
    }
    return this.store(this.invoices, invoice);
  }

  addCharge(customerId: string, overrides: StripeJson = {}): StripeJson {
    const customer = this.liveCustomer(customerId);
    return this.store(this.charges, buildCharge(this.ctx, customer, this.created(overrides), overrides));
  }

  /** An event carrying a copy of `object`; `delivered` (default true) sets `pending_webhooks` and delivery bookkeeping. */
  addEvent(type: string, object: StripeJson, opts: { delivered?: boolean; created?: number } = {}): StripeJson {
    const delivered = opts.delivered ?? true;
    const event = stripeEvent(type, structuredClone(object), {
      id: this.newId('evt'),
      created: opts.created ?? Math.floor(Date.now() / 1000),
      livemode: this.livemode,
      ...(this.accountId !== PLATFORM_ACCOUNT ? { account: this.accountId } : {}),
    });
    event.pending_webhooks = delivered ? 0 : 1;
    this.store(this.events, event);
    if (!delivered) this.undeliveredEvents.add(event.id as string);
    return event;
  }

  markUndelivered(eventId: string): void {
    const event = this.requireEvent(eventId);
    this.undeliveredEvents.add(eventId);
    event.pending_webhooks = Math.max(1, Number(event.pending_webhooks ?? 0));
  }

  markDelivered(eventId: string): void {
    const event = this.requireEvent(eventId);
    this.undeliveredEvents.delete(eventId);
    event.pending_webhooks = 0;
  }

  private requireEvent(eventId: string): StripeJson {
    const event = this.events.get(eventId);
    if (!event) throw new Error(`fake stripe: no event ${eventId} in ${this.accountId}`);
    return event;
  }

  /** As at Stripe, deleting a customer cancels its subscriptions at once. */
  deleteCustomer(customerId: string): StripeJson {
    this.liveCustomer(customerId);
    const now = Math.floor(Date.now() / 1000);
    for (const sub of this.subscriptions.values()) {
      if (sub.customer === customerId && sub.status !== 'canceled' && sub.status !== 'incomplete_expired') {
        Object.assign(sub, { status: 'canceled', canceled_at: now, ended_at: now });
      }
    }
    const deleted = { id: customerId, object: 'customer', deleted: true };
    this.customers.set(customerId, deleted);
    return deleted;
  }

  /** The stored object of that id, whatever its kind (for `expand[]`). */
  resolve(id: string): StripeJson | undefined {
    const maps: Record<string, Map<string, StripeJson>> = { cus: this.customers, sub: this.subscriptions, in: this.invoices, ch: this.charges, evt: this.events };
    return maps[id.slice(0, id.indexOf('_'))]?.get(id);
  }
}
