import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/**
 * Stripe objects and events built from Stripe's own example objects (`specs/stripe/fixtures3.json` at the repository root),
 * with ids, emails, amounts and statuses overridden per test, and signed with Stripe's real algorithm.
 */

const FIXTURES_PATH = join(__dirname, '..', '..', '..', 'specs', 'stripe', 'fixtures3.json');
let resources: Record<string, Record<string, unknown>> | undefined;

function load(): Record<string, Record<string, unknown>> {
  resources ??= (JSON.parse(readFileSync(FIXTURES_PATH, 'utf8')) as { resources: Record<string, Record<string, unknown>> })
    .resources;
  return resources;
}

type Json = Record<string, unknown>;

/** A deep copy of Stripe's example object of that resource (`customer`, `invoice`, `checkout.session`, …). */
export function fixture(resource: string): Json {
  const r = load()[resource];
  if (!r) throw new Error(`no Stripe fixture for ${resource}`);
  return structuredClone(r);
}

/** Stripe's example object with `overrides` merged in (plain objects merge deeply; arrays and values replace). */
export function stripeObject(resource: string, overrides: Json = {}): Json {
  return deepMerge(fixture(resource), overrides);
}

/** A captured, paid card charge in USD (`refunded` minor units refunded so far), shaped like the fixture's. */
export function succeededCharge(id: string, customer: string, amount: number, created: number, refunded = 0): Json {
  return stripeObject('charge', {
    id,
    customer,
    amount,
    amount_captured: amount,
    amount_refunded: refunded,
    refunded: refunded >= amount,
    currency: 'usd',
    status: 'succeeded',
    paid: true,
    captured: true,
    created,
    invoice: null,
    payment_intent: null,
  });
}

export function deepMerge(base: Json, overrides: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    const b = out[k];
    out[k] = isPlainObject(v) && isPlainObject(b) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

export interface EventOptions {
  id?: string;
  created?: number;
  livemode?: boolean;
  account?: string;
  previousAttributes?: Json;
  apiVersion?: string;
}

/** A Stripe event of `type` carrying `object`, shaped like the `event` fixture. */
export function stripeEvent(type: string, object: Json, opts: EventOptions = {}): Json {
  const event = fixture('event');
  const livemode = opts.livemode ?? false;
  const out: Json = {
    ...event,
    id: opts.id ?? randomId('evt'),
    type,
    created: opts.created ?? Math.floor(Date.now() / 1000),
    livemode,
    api_version: opts.apiVersion ?? '2025-09-30.clover',
    data: {
      object: { ...object, livemode },
      ...(opts.previousAttributes ? { previous_attributes: opts.previousAttributes } : {}),
    },
    pending_webhooks: 1,
  };
  if (opts.account) out.account = opts.account;
  return out;
}

/** The `Stripe-Signature` header for `payload`, made by the stripe library's own test helper. */
export function signatureHeader(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
}
