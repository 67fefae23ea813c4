import type { Queryable } from '../../src/adapters/store/db';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { deriveCustomerStatus } from '../../src/domain/customer-view';
import { mapStripeObject } from '../../src/domain/events';
import type { ObjectRecord } from '../../src/domain/records';
import { canonical } from '../../src/domain/sync/status';
import { createLogger } from '../../src/logger';
import { stripeForMode, stripeKeys } from '../../src/jobs/backfill/service';
import type { FakeStripe, FakeStripeAccount } from '../fakes/stripe';

export const silentLogger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent' });

/** Stripe clients of both modes pointed at the fake (its default keys). */
export function fakeStripeFor(fake: FakeStripe) {
  return stripeForMode(stripeKeys('sk_test_fake', 'sk_live_fake'), fake.url);
}

/**
 * What every customer's read model must be once the account is backfilled: its objects at the fake, mapped and
 * folded by the domain alone (no database), keyed by customer id. `readAt` gives each object's read time (the
 * version a backfill stores, which the domain uses as the time of an unpaid invoice's failure); default 1.
 */
export function expectedStatuses(
  account: FakeStripeAccount,
  accountKey: string,
  livemode: boolean,
  readAt: Map<string, number> = new Map(),
): Map<string, CustomerStatus> {
  const byCustomer = new Map<string, ObjectRecord[]>();
  const meta = (type: string, id: string) => ({ id: 'expected', type: `${type}.backfill`, created: readAt.get(id) ?? 1, livemode });
  for (const map of [account.customers, account.subscriptions, account.invoices, account.charges]) {
    for (const o of map.values()) {
      if (o.deleted) continue;
      const out = mapStripeObject(o, meta(String(o.object), String(o.id)));
      if ('skip' in out || !out.customerId) continue;
      byCustomer.set(out.customerId, [...(byCustomer.get(out.customerId) ?? []), ...out.records]);
    }
  }
  const out = new Map<string, CustomerStatus>();
  for (const [customerId, records] of byCustomer) {
    out.set(customerId, deriveCustomerStatus(records, { accountId: accountKey || null, livemode, lastSyncedAt: null, updatedAt: '', customerId }));
  }
  return out;
}

/** The stored read model of every customer of (account, mode). */
export async function storedStatuses(db: Queryable, account: string, livemode: boolean): Promise<Map<string, CustomerStatus>> {
  const { rows } = await db.query<{ customer_id: string; status: CustomerStatus }>(
    'SELECT customer_id, status FROM customers WHERE account_key = $1 AND livemode = $2 AND status IS NOT NULL',
    [account, livemode],
  );
  return new Map(rows.map((r) => [r.customer_id, r.status]));
}

/** When the stored version of each object was read (`version_created`), by object id. */
export async function storedReadTimes(db: Queryable, account: string, livemode: boolean): Promise<Map<string, number>> {
  const { rows } = await db.query<{ object_id: string; version_created: string }>(
    'SELECT object_id, version_created FROM stripe_objects WHERE account_key = $1 AND livemode = $2',
    [account, livemode],
  );
  return new Map(rows.map((r) => [r.object_id, Number(r.version_created)]));
}

/** Customer ids whose stored status differs from the expected one (bookkeeping timestamps aside). */
export function differences(expected: Map<string, CustomerStatus>, stored: Map<string, CustomerStatus>): string[] {
  const facts = (s: CustomerStatus | undefined) => {
    if (!s) return 'missing';
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { updatedAt, lastSyncedAt, ...rest } = s;
    return canonical(rest);
  };
  const ids = new Set([...expected.keys(), ...stored.keys()]);
  return [...ids].filter((id) => facts(expected.get(id)) !== facts(stored.get(id)));
}

/** List requests the fake answered for that account, by path, in order. */
export function listRequests(fake: FakeStripe, account: string, livemode: boolean) {
  return fake.requests.filter((r) => r.account === account && r.livemode === livemode && r.method === 'GET' && /^\/v1\/(customers|subscriptions|invoices|charges)$/.test(r.path));
}

export async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 60_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
