import { dbKinds, useMigratedDb } from '../../../test/helpers/db';
import { owePropertyResends, takePropertyResends } from './push-store';

/**
 * Properties created again in a portal are owed the rewrite of the contacts linked before then: recorded with the
 * creation, taken (and cleared) once the creating pass holds no customer — it settled them, or it stopped and its
 * leases ran out. A rewrite queues only the customers linked in that portal before the creation.
 */
const PORTAL = 4711;

async function linkedCustomer(db: ReturnType<ReturnType<typeof useMigratedDb>>, customerId: string, portalId: number, linkedAt: string) {
  await db.query(
    `INSERT INTO customers (account_key, livemode, customer_id, status, version, synced_version, sync_state, synced_properties)
     VALUES ('', false, $1, '{"customerId":"x"}', 3, 3, 'synced', '{"stripe_delinquent":"false","email":"x@example.com"}')`,
    [customerId],
  );
  await db.query(
    `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by, linked_at) VALUES ('', false, $1, $2, $3, 'created', $4)`,
    [customerId, portalId, `c-${customerId}`, linkedAt],
  );
}

describe.each(dbKinds())('owed property rewrites (%s)', (kind) => {
  const db = useMigratedDb(kind);

  it('are owed only when contacts were linked before, and taken once the creating pass holds no customer', async () => {
    const createdAt = new Date('2026-02-01T00:00:00Z');
    // A portal's first provisioning (nobody linked before it) owes nothing.
    await owePropertyResends(db(), PORTAL + 2, ['stripe_delinquent'], createdAt, 'pass-0');
    expect((await db().query('SELECT 1 FROM property_resends')).rows).toEqual([]);

    await linkedCustomer(db(), 'cus_before', PORTAL, '2026-01-01T00:00:00Z');
    await linkedCustomer(db(), 'cus_other_portal', PORTAL + 1, '2026-01-01T00:00:00Z');
    await linkedCustomer(db(), 'cus_after', PORTAL, '2026-03-01T00:00:00Z');
    const claim = (customerId: string, token: string | null, seconds: number) =>
      db().query(`UPDATE customers SET claim_token = $2, claimed_until = now() + make_interval(secs => $3) WHERE customer_id = $1`, [customerId, token, seconds]);

    // The creating pass still holds a customer: the rewrite waits (its own settle would overwrite it).
    await claim('cus_after', 'pass-1', 60);
    await owePropertyResends(db(), PORTAL, ['stripe_delinquent'], createdAt, 'pass-1');
    expect(await takePropertyResends(db(), PORTAL)).toEqual({ properties: [], resent: 0 });
    // Settled: the rewrite is queued for the customer linked in that portal before the creation, without the
    // recreated property in what it last wrote; then nothing is owed.
    await claim('cus_after', null, 0);
    expect(await takePropertyResends(db(), PORTAL)).toEqual({ properties: ['stripe_delinquent'], resent: 1 });
    const { rows } = await db().query<{ customer_id: string; pending: boolean; props: Record<string, string> }>(
      `SELECT customer_id, version > synced_version AS pending, synced_properties AS props FROM customers ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cus_after', pending: false, props: { stripe_delinquent: 'false', email: 'x@example.com' } },
      { customer_id: 'cus_before', pending: true, props: { email: 'x@example.com' } },
      { customer_id: 'cus_other_portal', pending: false, props: { stripe_delinquent: 'false', email: 'x@example.com' } },
    ]);
    expect(await takePropertyResends(db(), PORTAL)).toEqual({ properties: [], resent: 0 });

    // A pass that stopped after creating properties: once its leases ran out, the next pass takes its rewrite.
    await claim('cus_other_portal', 'pass-dead', 60);
    await owePropertyResends(db(), PORTAL + 1, ['stripe_delinquent', 'stripe_customer_id'], createdAt, 'pass-dead');
    expect(await takePropertyResends(db(), PORTAL + 1)).toEqual({ properties: [], resent: 0 });
    await claim('cus_other_portal', 'pass-dead', -1);
    expect(await takePropertyResends(db(), PORTAL + 1)).toEqual({ properties: ['stripe_customer_id', 'stripe_delinquent'], resent: 1 });
    expect((await db().query('SELECT 1 FROM property_resends')).rows).toEqual([]);
  });
});
