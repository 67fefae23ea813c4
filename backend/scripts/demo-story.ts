/**
 * The story `npm run demo` tells: signed Stripe events of a few customers' lives, in chapters, with one
 * narration line per delivery. Objects are Stripe's own example shapes (fixtures) with our ids and amounts.
 */
import { stripeEvent, stripeObject, succeededCharge } from '../test/helpers/stripe-fixtures';

type Json = Record<string, unknown>;

export interface Delivery {
  /** What happens, in plain words. */
  say: string;
  event: Json;
}

export interface Chapter {
  title: string;
  deliveries: Delivery[];
}

/** The customers of the story (ids are stable so the test and the checks can name them). */
export const PEOPLE = {
  // People paying for themselves use free mail (gmail.com, outlook.com): no company for them.
  ada: { id: 'cus_demo_ada', name: 'Ada Lovelace', email: 'ada.lovelace@gmail.com' },
  grace: { id: 'cus_demo_grace', name: 'Grace Hopper', email: 'grace@outlook.com', newEmail: 'grace.hopper@gmail.com' },
  alan: { id: 'cus_demo_alan', name: 'Alan Turing', email: 'alan.turing@outlook.com' },
  // A business: its email domain is a company's, found or created in HubSpot; a colleague joins it by domain.
  hedy: { id: 'cus_demo_hedy', name: 'Hedy Lamarr', email: 'hedy@acme-robotics.example', businessName: 'Acme Robotics' },
  mary: { id: 'cus_demo_mary', name: 'Mary Jackson', email: 'mary@acme-robotics.example' },
  katherine: { id: 'cus_demo_katherine', name: 'Katherine Johnson', email: 'katherine@example.com' },
  guest: { id: 'cus_demo_guest', name: 'Walk-in buyer', email: null },
} as const;

/** Event ids the checks look at. */
/** The company domain of the story's business. */
export const ACME_DOMAIN = 'acme-robotics.example';

export const EVENT_IDS = {
  graceInvoicePaid: 'evt_demo_grace_invoice_paid',
  adaLatePastDue: 'evt_demo_ada_past_due_delayed',
  katherineLive: 'evt_demo_katherine_live',
  guestNoEmail: 'evt_demo_guest_created',
} as const;

const DAY = 86_400;

function customer(p: { id: string; name: string; email: string | null }, created: number, extra: Json = {}): Json {
  return stripeObject('customer', { id: p.id, name: p.name, email: p.email, created, currency: 'usd', delinquent: false, ...extra });
}

function price(id: string, nickname: string, unitAmount: number, interval: 'month' | 'year'): Json {
  return stripeObject('price', {
    id,
    nickname,
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
    currency: 'usd',
    transform_quantity: null,
    recurring: { interval, interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
}

function subscription(id: string, customerId: string, status: string, p: Json, periodEnd: number, created: number, extra: Json = {}): Json {
  const base = stripeObject('subscription', { id, customer: customerId, status, cancel_at_period_end: false, currency: 'usd', created, start_date: created, trial_start: null, trial_end: null, ...extra });
  const item = { ...(base.items as { data: Json[] }).data[0], id: `si_${id.slice(4)}`, price: p, quantity: 1, current_period_end: periodEnd };
  return { ...base, items: { object: 'list', data: [item], has_more: false } };
}

function invoice(id: string, customerId: string, sub: string, amount: number, extra: Json): Json {
  return stripeObject('invoice', {
    id,
    customer: customerId,
    currency: 'usd',
    amount_due: amount,
    parent: { type: 'subscription_details', subscription_details: { subscription: sub, metadata: {} } },
    ...extra,
  });
}

function paidInvoice(id: string, customerId: string, sub: string, amount: number, at: number, attempts = 1): Json {
  return invoice(id, customerId, sub, amount, {
    status: 'paid',
    amount_paid: amount,
    amount_remaining: 0,
    attempt_count: attempts,
    attempted: true,
    created: at - 60,
    status_transitions: { paid_at: at, finalized_at: at - 60, marked_uncollectible_at: null, voided_at: null },
  });
}

/** The whole story, with event times relative to `nowSeconds` (it starts about two months ago). */
export function buildStory(nowSeconds: number): Chapter[] {
  const t0 = nowSeconds - 62 * DAY;
  const { ada, grace, alan, katherine, guest, hedy, mary } = PEOPLE;
  const pro = price('price_demo_pro', 'Pro', 4900, 'month');
  const team = price('price_demo_team', 'Team (yearly)', 120_000, 'year');
  const business = price('price_demo_business', 'Business', 19_900, 'month');
  const ev = (type: string, object: Json, created: number, opts: { id?: string; livemode?: boolean; previous?: Json } = {}) =>
    stripeEvent(type, object, { created, id: opts.id, livemode: opts.livemode, previousAttributes: opts.previous });

  const adaSub = (status: string, periodEnd: number) => subscription('sub_demo_ada', ada.id, status, pro, periodEnd, t0 + 60);
  const renewal = t0 + 30 * DAY;
  const hedySub = (status: string, p: Json, periodEnd: number) =>
    subscription('sub_demo_hedy', hedy.id, status, p, periodEnd, t0 + 42 * DAY + 60, { trial_start: t0 + 42 * DAY + 60, trial_end: t0 + 56 * DAY });
  const graceInvoicePaid = ev('invoice.paid', paidInvoice('in_demo_grace_1', grace.id, 'sub_demo_grace', 120_000, t0 + DAY + 30), t0 + DAY + 30, {
    id: EVENT_IDS.graceInvoicePaid,
  });

  return [
    {
      title: 'Ada signs up and buys the Pro plan through Checkout',
      deliveries: [
        { say: 'customer.created — a new Stripe customer, no HubSpot contact yet', event: ev('customer.created', customer(ada, t0), t0) },
        {
          say: 'checkout.session.completed — she pays in Checkout',
          event: ev(
            'checkout.session.completed',
            stripeObject('checkout.session', {
              id: 'cs_demo_ada',
              customer: ada.id,
              mode: 'subscription',
              status: 'complete',
              payment_status: 'paid',
              amount_total: 4900,
              currency: 'usd',
              subscription: 'sub_demo_ada',
              customer_details: { email: ada.email, name: ada.name },
              created: t0 + 30,
            }),
            t0 + 30,
          ),
        },
        { say: 'customer.subscription.created — Pro, $49 a month', event: ev('customer.subscription.created', adaSub('active', t0 + 30 * DAY), t0 + 60) },
        { say: 'invoice.paid — the first invoice', event: ev('invoice.paid', paidInvoice('in_demo_ada_1', ada.id, 'sub_demo_ada', 4900, t0 + 61), t0 + 61) },
        { say: 'charge.succeeded — $49.00', event: ev('charge.succeeded', succeededCharge('ch_demo_ada_1', ada.id, 4900, t0 + 61), t0 + 61) },
      ],
    },
    {
      title: 'Grace subscribes to Team, billed yearly — and Stripe delivers one event twice',
      deliveries: [
        { say: 'customer.created', event: ev('customer.created', customer(grace, t0 + DAY), t0 + DAY) },
        {
          say: 'customer.subscription.created — Team, $1,200 a year ($100 MRR)',
          event: ev('customer.subscription.created', subscription('sub_demo_grace', grace.id, 'active', team, t0 + 366 * DAY, t0 + DAY + 30), t0 + DAY + 30),
        },
        { say: 'invoice.paid — $1,200.00', event: graceInvoicePaid },
        { say: 'invoice.paid again, same event id (Stripe delivers at least once)', event: graceInvoicePaid },
        { say: 'charge.succeeded — $1,200.00', event: ev('charge.succeeded', succeededCharge('ch_demo_grace_1', grace.id, 120_000, t0 + DAY + 30), t0 + DAY + 30) },
      ],
    },
    {
      title: 'Alan buys a one-off report',
      deliveries: [
        { say: 'customer.created', event: ev('customer.created', customer(alan, t0 + 2 * DAY), t0 + 2 * DAY) },
        {
          say: 'checkout.session.completed — a one-time payment',
          event: ev(
            'checkout.session.completed',
            stripeObject('checkout.session', {
              id: 'cs_demo_alan',
              customer: alan.id,
              mode: 'payment',
              status: 'complete',
              payment_status: 'paid',
              amount_total: 25_000,
              currency: 'usd',
              subscription: null,
              customer_details: { email: alan.email, name: alan.name },
              created: t0 + 2 * DAY + 20,
            }),
            t0 + 2 * DAY + 20,
          ),
        },
        { say: 'charge.succeeded — $250.00', event: ev('charge.succeeded', succeededCharge('ch_demo_alan_1', alan.id, 25_000, t0 + 2 * DAY + 21), t0 + 2 * DAY + 21) },
      ],
    },
    {
      title: "A month later, Ada's renewal fails",
      deliveries: [
        {
          say: 'invoice.payment_failed — card declined on the renewal invoice',
          event: ev(
            'invoice.payment_failed',
            invoice('in_demo_ada_2', ada.id, 'sub_demo_ada', 4900, {
              status: 'open',
              amount_paid: 0,
              amount_remaining: 4900,
              attempt_count: 1,
              attempted: true,
              created: renewal,
              status_transitions: { paid_at: null, finalized_at: renewal, marked_uncollectible_at: null, voided_at: null },
            }),
            renewal + 60,
          ),
        },
        {
          say: 'customer.updated — Stripe marks her delinquent',
          event: ev('customer.updated', customer(ada, t0, { delinquent: true }), renewal + 61, { previous: { delinquent: false } }),
        },
        // (The customer.subscription.updated → past_due of this moment is delayed in transit: it arrives last.)
      ],
    },
    {
      title: 'Ada updates her card; the retry succeeds',
      deliveries: [
        { say: 'invoice.paid — second attempt', event: ev('invoice.paid', paidInvoice('in_demo_ada_2', ada.id, 'sub_demo_ada', 4900, renewal + 2 * DAY, 2), renewal + 2 * DAY) },
        { say: 'charge.succeeded — $49.00', event: ev('charge.succeeded', succeededCharge('ch_demo_ada_2', ada.id, 4900, renewal + 2 * DAY), renewal + 2 * DAY) },
        {
          say: 'customer.subscription.updated — back to active',
          event: ev('customer.subscription.updated', adaSub('active', renewal + 30 * DAY), renewal + 2 * DAY + 1, { previous: { status: 'past_due' } }),
        },
        {
          say: 'customer.updated — no longer delinquent',
          event: ev('customer.updated', customer(ada, t0, { delinquent: false }), renewal + 2 * DAY + 2, { previous: { delinquent: true } }),
        },
      ],
    },
    {
      title: 'Alan asks for a partial refund; Grace changes her email',
      deliveries: [
        {
          say: 'charge.refunded — $100.00 of $250.00',
          event: ev('charge.refunded', succeededCharge('ch_demo_alan_1', alan.id, 25_000, t0 + 2 * DAY + 21, 10_000), t0 + 40 * DAY),
        },
        {
          say: `customer.updated — ${grace.email} → ${grace.newEmail}`,
          event: ev('customer.updated', customer(grace, t0 + DAY, { email: grace.newEmail }), t0 + 41 * DAY, { previous: { email: grace.email } }),
        },
      ],
    },
    {
      title: 'Acme Robotics, a business, starts a 14-day trial of Pro',
      deliveries: [
        {
          say: `customer.created — ${hedy.name} of ${hedy.businessName}, ${hedy.email}: a company domain, so a company`,
          event: ev('customer.created', customer(hedy, t0 + 42 * DAY, { business_name: hedy.businessName }), t0 + 42 * DAY),
        },
        {
          say: 'customer.subscription.created — Pro, trialing: a deal in the "Stripe subscriptions" pipeline, stage Trialing',
          event: ev('customer.subscription.created', hedySub('trialing', pro, t0 + 56 * DAY), t0 + 42 * DAY + 60),
        },
      ],
    },
    {
      title: 'The trial converts; a colleague of Hedy signs up',
      deliveries: [
        {
          say: 'customer.subscription.updated — trialing → active: the same deal moves to Active (closed won), a "Trial converted" movement',
          event: ev('customer.subscription.updated', hedySub('active', pro, t0 + 86 * DAY), t0 + 56 * DAY, { previous: { status: 'trialing' } }),
        },
        { say: 'invoice.paid — $49.00', event: ev('invoice.paid', paidInvoice('in_demo_hedy_1', hedy.id, 'sub_demo_hedy', 4900, t0 + 56 * DAY + 5), t0 + 56 * DAY + 5) },
        { say: 'charge.succeeded — $49.00', event: ev('charge.succeeded', succeededCharge('ch_demo_hedy_1', hedy.id, 4900, t0 + 56 * DAY + 5), t0 + 56 * DAY + 5) },
        {
          say: `customer.created — ${mary.name}, ${mary.email}: the same company, matched by its domain`,
          event: ev('customer.created', customer(mary, t0 + 57 * DAY), t0 + 57 * DAY),
        },
      ],
    },
    {
      title: 'Acme moves up from Pro to Business ($199 a month)',
      deliveries: [
        {
          say: 'customer.subscription.updated — plan Pro → Business: the deal is renamed and its amount follows, an "Upgrade" movement',
          event: ev('customer.subscription.updated', hedySub('active', business, t0 + 86 * DAY), t0 + 58 * DAY, {
            previous: { items: hedySub('active', pro, t0 + 86 * DAY).items },
          }),
        },
      ],
    },
    {
      title: 'A late, out-of-order event arrives',
      deliveries: [
        {
          say: "customer.subscription.updated → past_due, from the failed renewal 2 days before Ada's recovery: it must not roll her back",
          event: ev('customer.subscription.updated', adaSub('past_due', renewal + 30 * DAY), renewal + 62, {
            id: EVENT_IDS.adaLatePastDue,
            previous: { status: 'active' },
          }),
        },
      ],
    },
    {
      title: 'Events this backend does not write to HubSpot, and why',
      deliveries: [
        {
          say: 'customer.created in LIVE mode — this backend serves test mode only (HUBSPOT_PRIVATE_APP_MODES=test)',
          event: ev('customer.created', customer(katherine, t0 + 50 * DAY), t0 + 50 * DAY, { id: EVENT_IDS.katherineLive, livemode: true }),
        },
        {
          say: 'customer.created without an email — nothing to match a contact by',
          event: ev('customer.created', customer(guest, t0 + 51 * DAY), t0 + 51 * DAY, { id: EVENT_IDS.guestNoEmail }),
        },
        {
          say: 'payment_intent.created — a type the sync does not handle',
          event: ev('payment_intent.created', stripeObject('payment_intent', { id: 'pi_demo_1', customer: alan.id, amount: 900, currency: 'usd' }), t0 + 52 * DAY),
        },
      ],
    },
  ];
}
