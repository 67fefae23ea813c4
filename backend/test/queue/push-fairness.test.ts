import type { Db } from '../../src/adapters/store/db';
import { claimDirty } from '../../src/adapters/store/push-store';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';

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
