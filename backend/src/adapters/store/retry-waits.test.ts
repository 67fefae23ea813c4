import type { Db } from './db';
import { dbKinds, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { claimDirty, holdForConnection, markRetry, resendProperties, wakeConnection, wakePortal, type DirtyCustomer } from './push-store';
import { clearConnectionFailure, connectionFailure, recordConnectionFailure } from './connection-health';

/** Customers waiting on HubSpot: woken by their portal or their connection, and properties written again. */

describe.each(dbKinds())('waiting customers on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let n = 0;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db.close();
    await target.drop();
  });

  /** A dirty customer of a fresh account, claimed by a pusher. */
  async function claimed(account = `acct_w${++n}`): Promise<{ c: DirtyCustomer; token: string }> {
    const id = `cus_${n}`;
    await db.query(
      `INSERT INTO customers (account_key, livemode, customer_id, status, version, synced_version, synced_properties)
       VALUES ($1, false, $2, '{}'::jsonb, 2, 1, '{"stripe_plan":"Pro","stripe_mrr":"10"}'::jsonb)`,
      [account, id],
    );
    const token = `tok-${n}`;
    const all = await claimDirty(db, { limit: 100, leaseSeconds: 60, settleMs: 0, token });
    const c = all.find((x) => x.key.customerId === id)!;
    return { c, token };
  }
  const row = async (c: DirtyCustomer) =>
    (
      await db.query<{ due: boolean; attempts: number; waiting_on_portal: string | null; synced_version: string; synced_properties: Record<string, string> }>(
        `SELECT (next_attempt_at IS NULL OR next_attempt_at <= now()) AS due, attempts, waiting_on_portal::text AS waiting_on_portal,
                synced_version, synced_properties
           FROM customers WHERE account_key = $1 AND customer_id = $2`,
        [c.key.account, c.key.customerId],
      )
    ).rows[0]!;

  it('a portal answering again wakes the customers waiting out its outage, and only those', async () => {
    const a = await claimed();
    const b = await claimed();
    await markRetry(db, a.c, a.token, 'HubSpot answered 503', { baseMs: 600_000, waitingOnPortal: 77 });
    await markRetry(db, b.c, b.token, 'HubSpot answered 503', { baseMs: 600_000, waitingOnPortal: 78 });
    expect(await row(a.c)).toMatchObject({ due: false, attempts: 1, waiting_on_portal: '77' });

    expect(await wakePortal(db, 79)).toBe(0);
    expect(await wakePortal(db, 77)).toBe(1);
    expect(await row(a.c)).toMatchObject({ due: true, attempts: 0, waiting_on_portal: null });
    expect(await row(b.c)).toMatchObject({ due: false, waiting_on_portal: '78' });
  });

  if (kind === 'pglite') {
    it('writes nothing when nobody waits on the portal (the card keeps what it read)', async () => {
      const before = db.readModelGeneration!();
      expect(await wakePortal(db, 12345)).toBe(0);
      expect(db.readModelGeneration!()).toBe(before);
    });
  }

  it('a refused connection holds its customers without counting attempts; a working one makes them due', async () => {
    const account = `acct_hold${++n}`;
    const a = await claimed(account);
    await recordConnectionFailure(db, { accountKey: account, livemode: false, portalId: 5, state: 'paused', code: 'INVALID_AUTHENTICATION', message: 'no' }, 60_000);
    await holdForConnection(db, [a.c], a.token, 'Waiting: HubSpot refuses our access', 600_000);
    expect(await row(a.c)).toMatchObject({ due: false, attempts: 0 });
    expect(await connectionFailure(db, account, false)).toMatchObject({ state: 'paused', code: 'INVALID_AUTHENTICATION', portalId: 5 });

    expect(await clearConnectionFailure(db, account, false)).toBe(true);
    expect(await wakeConnection(db, account, false)).toBe(1);
    expect(await row(a.c)).toMatchObject({ due: true });
    expect(await connectionFailure(db, account, false)).toBeNull();
  });

  it('writes properties created again for contacts linked before, not after', async () => {
    const old = await claimed();
    const fresh = await claimed();
    for (const x of [old, fresh]) await db.query(`UPDATE customers SET synced_version = version, claim_token = NULL WHERE customer_id = $1`, [x.c.key.customerId]);
    const link = (x: { c: DirtyCustomer }, at: string) =>
      db.query(
        `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by, linked_at)
         VALUES ($1, false, $2, 900, $3, 'created', $4)`,
        [x.c.key.account, x.c.key.customerId, `c-${x.c.key.customerId}`, at],
      );
    await link(old, '2024-01-01T00:00:00Z');
    await link(fresh, '2024-03-01T00:00:00Z');
    expect(await resendProperties(db, 900, ['stripe_plan'], new Date('2024-02-01T00:00:00Z'))).toBe(1);
    const o = await row(old.c);
    expect(Number(o.synced_version)).toBeLessThan(2);
    expect(o.synced_properties).toEqual({ stripe_mrr: '10' });
    const f = await row(fresh.c);
    expect(Number(f.synced_version)).toBe(2);
    expect(f.synced_properties).toEqual({ stripe_plan: 'Pro', stripe_mrr: '10' });
  });
});
