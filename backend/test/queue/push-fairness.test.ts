import type { Db } from '../../src/adapters/store/db';
import { claimDirty } from '../../src/adapters/store/push-store';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { waitFor } from '../helpers/server';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

const T0 = 1_768_000_000;

describe.each(dbKinds())('the pusher takes merchants` changed customers in turns on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  /** A changed customer of (account, test mode), changed `secondsAgo` ago. */
  const dirty = (account: string, customer: string, secondsAgo: number, priority: 'live' | 'backfill' = 'live') =>
    db.query(
      `INSERT INTO customers (account_key, livemode, customer_id, status, version, synced_version, dirty_since, push_priority)
       VALUES ($1, false, $2, '{}'::jsonb, 1, 0, now() - make_interval(secs => $3::int), $4)`,
      [account, customer, secondsAgo, priority],
    );
  const claim = async (limit: number, token: string) =>
    (await claimDirty(db, { limit, leaseSeconds: 60, settleMs: 0, token })).map((c) => `${c.key.account}/${c.key.customerId}`).sort();

  it('a quiet merchant`s change is leased before a flooding merchant`s older backlog; backfill writes still come last', async () => {
    for (let i = 0; i < 10; i++) await dirty('acct_flood', `cus_a${i}`, 600 - i);
    await dirty('acct_quiet', 'cus_b_live', 5);
    await dirty('acct_quiet', 'cus_b_backfill', 900, 'backfill');

    // Turns: a0 and b_live, then a1, then a2 (the backfill write waits for every live one).
    expect(await claim(4, 'first')).toEqual(['acct_flood/cus_a0', 'acct_flood/cus_a1', 'acct_flood/cus_a2', 'acct_quiet/cus_b_live']);
    const rest = await claim(100, 'second');
    expect(rest).toHaveLength(8);
    expect(rest).toContain('acct_quiet/cus_b_backfill');
    expect(rest).not.toContain('acct_quiet/cus_b_live');
    expect(await claim(100, 'third')).toEqual([]);
  });
});

describe.each(dbKinds())('one merchant`s slow HubSpot writes do not hold back another`s on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes the live-mode merchant`s new customer while the test-mode merchant`s write is still held by HubSpot', async () => {
    const created = (id: string, livemode: boolean) =>
      stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com`, created: T0 }), { created: T0, livemode });
    // Both merchants' first customers: the portal's properties are provisioned, so the next write is a contact's.
    await h.send(created('cus_warm_a', false), created('cus_warm_b', true));
    await h.idle();
    const from = h.hubspot.requests.length;
    // HubSpot holds the next write (the test-mode merchant's contact create) for 4 s.
    h.hubspot.inject.delayNext(1, 4_000);
    await h.send(created('cus_slow_a', false));
    await waitFor(() => h.hubspot.requests.slice(from).some((r) => r.path === '/crm/v3/objects/contacts/batch/create'), {
      what: "the test-mode merchant's create to reach HubSpot",
      intervalMs: 10,
    });
    const heldAt = Date.now();
    await h.send(created('cus_quick_b', true));
    await waitFor(() => h.contactOf('cus_quick_b') !== undefined, { what: "the live-mode merchant's contact", intervalMs: 10, timeoutMs: 10_000 });
    const quickMs = Date.now() - heldAt;
    // Written beside the held one, not after it.
    expect(h.contactOf('cus_slow_a')).toBeUndefined();
    expect(quickMs).toBeLessThan(3_000);
    await h.idle();
    expect(h.contactOf('cus_slow_a')).toBeDefined();
  }, 60_000);
});
