import type { Db } from './db';
import { dbKinds, freshDatabase, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { loadMigrations, migrate } from './migrate';
import { lockCustomers, type CustomerKey } from './sync-store';
import { recordHistory, recordMovements, type HistoryItem } from './movements-store';
import { markMovementsWritten, movementsOf, unwrittenMovements } from './movements-store-read';
import { deleteAccountData } from './data-deletion';
import { mapEvent, type StripeEventInput } from '../../domain/events';
import { previousAttributesOf } from '../../domain/movements-history';
import { invoiceEvent, refundEvent, subscriptionEvent } from '../../../test/helpers/movement-events';

type Json = Record<string, unknown>;
const T = 1_760_000_000;
const DAY = 86_400;
const basic = { status: 'active', amount: 1000, plan: 'Basic' };
const pro = { status: 'active', amount: 3000, plan: 'Pro' };

describe.each(dbKinds())('revenue movement storage on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let n = 0;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  const fresh = (): CustomerKey => ({ account: `acct_mv${++n}`, livemode: false, customerId: `cus_mv${n}` });

  /** Applies events' history the way the apply transaction does: customers locked, then `recordHistory`. */
  async function apply(key: CustomerKey, events: Json[], opts: { fromApi?: boolean } = {}) {
    const item: HistoryItem = {
      key,
      batches: events.map((e) => {
        const mapped = mapEvent(e as unknown as StripeEventInput);
        if ('skip' in mapped) throw new Error(mapped.skip);
        return {
          eventId: opts.fromApi ? null : (e.id as string),
          records: mapped.records,
          source: { type: e.type as string, previous: previousAttributesOf(e) },
        };
      }),
    };
    return db.transaction(async (tx) => {
      await lockCustomers(tx, [key]);
      return recordHistory(tx, [item]);
    });
  }
  const sub = (key: CustomerKey) => ({ id: `sub_${key.customerId}`, customer: key.customerId });
  const count = async (table: string, key: CustomerKey) =>
    Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE account_key = $1 AND livemode = $2`, [key.account, key.livemode])).rows[0].n,
    );
  const ledger = async (key: CustomerKey) =>
    (
      await db.query<{ movement_id: string; retracted: boolean }>(
        `SELECT movement_id, retracted_at IS NOT NULL AS retracted FROM revenue_movements WHERE account_key = $1 AND livemode = $2 ORDER BY movement_id`,
        [key.account, key.livemode],
      )
    ).rows;

  it('stores each version once; a duplicate delivery derives nothing and changes nothing', async () => {
    const key = fresh();
    const e0 = subscriptionEvent('created', sub(key), basic, { id: `evt_${n}_0`, created: T });
    const e1 = subscriptionEvent('updated', sub(key), pro, { id: `evt_${n}_1`, created: T + DAY, before: basic });
    const first = await apply(key, [e1, e0, e1]);
    expect([...first.values()][0].map((m) => m.kind)).toEqual(['new', 'upgrade']);
    expect(await count('stripe_object_versions', key)).toBe(2);
    const again = await apply(key, [e0, e1]);
    expect(again.size).toBe(0);
    expect(await count('stripe_object_versions', key)).toBe(2);
    expect((await ledger(key)).map((r) => r.movement_id)).toEqual([`sub_${key.customerId}:evt_${n}_0:new`, `sub_${key.customerId}:evt_${n}_1:upgrade`]);
    const versions = await db.query<{ from_event: boolean; facts: Json }>(
      'SELECT from_event, facts FROM stripe_object_versions WHERE account_key = $1 ORDER BY version_created',
      [key.account],
    );
    expect(versions.rows.map((r) => r.from_event)).toEqual([true, true]);
    expect(versions.rows[1].facts).toMatchObject({ status: 'active', monthlyAmount: 3000, before: { status: 'active', monthlyAmount: 1000, plan: 'Basic' } });
  });

  it('an API read is history but no movement', async () => {
    const key = fresh();
    await apply(key, [subscriptionEvent('updated', sub(key), basic, { id: 'refresh_1', created: T, before: basic })], { fromApi: true });
    expect(await count('stripe_object_versions', key)).toBe(1);
    expect(await ledger(key)).toEqual([]);
  });

  it('lists what a portal has not received, marks it written once per portal, and refuses unknown ids without marking anything', async () => {
    const key = fresh();
    const inv = { id: `in_${n}`, customer: key.customerId, amount: 700 };
    await apply(key, [
      subscriptionEvent('created', sub(key), basic, { id: `evt_${n}_0`, created: T }),
      invoiceEvent('payment_failed', inv, { id: `evt_${n}_f`, created: T + DAY, attempt: 1 }),
      invoiceEvent('paid', inv, { id: `evt_${n}_p`, created: T + 2 * DAY, attempt: 2 }),
    ]);
    const all = await unwrittenMovements(db, key.account, false, 11, [key.customerId, 'cus_unknown']);
    expect(all.map((m) => m.kind)).toEqual(['new', 'payment_failed', 'payment_recovered']);
    expect(all[1]).toMatchObject({ id: `${inv.id}:failed:1`, amount: 700, currency: 'usd', occurredAt: T + DAY, mrrBefore: null, customerId: key.customerId });
    expect(all[0]).toMatchObject({ mrrBefore: 0, mrrAfter: 1000, amount: 1000, source: { created: T, eventId: `evt_${n}_0` } });

    expect(await markMovementsWritten(db, key.account, false, 11, [{ movementId: all[0].id, hubspotId: 'hs-1' }, { movementId: all[1].id }])).toBe(2);
    expect(await markMovementsWritten(db, key.account, false, 11, [{ movementId: all[0].id, hubspotId: 'hs-1' }])).toBe(0);
    expect(await markMovementsWritten(db, key.account, false, 11, [{ movementId: all[1].id, hubspotId: 'hs-2' }])).toBe(1);
    expect((await unwrittenMovements(db, key.account, false, 11, [key.customerId])).map((m) => m.kind)).toEqual(['payment_recovered']);
    expect(await unwrittenMovements(db, key.account, false, 12, [key.customerId])).toHaveLength(3);
    // The other mode has none of them.
    expect(await unwrittenMovements(db, key.account, true, 11, [key.customerId])).toEqual([]);

    await expect(markMovementsWritten(db, key.account, false, 12, [{ movementId: all[2].id }, { movementId: 'in_nope:recovered' }])).rejects.toThrow(
      /Unknown revenue movements.*in_nope:recovered/,
    );
    await expect(markMovementsWritten(db, key.account, true, 12, [{ movementId: all[2].id }])).rejects.toThrow(/Unknown revenue movements/);
    expect(await unwrittenMovements(db, key.account, false, 12, [key.customerId])).toHaveLength(3);
    const hubspotIds = await db.query<{ hubspot_id: string | null }>(
      'SELECT hubspot_id FROM revenue_movements_written WHERE account_key = $1 ORDER BY movement_id',
      [key.account],
    );
    expect(hubspotIds.rows.map((r) => r.hubspot_id)).toEqual(['hs-2', 'hs-1']);
  });

  it('refuses bad arguments with a clear error', async () => {
    await expect(unwrittenMovements(db, 'acct', false, -1, ['cus'])).rejects.toThrow(/Invalid portalId/);
    await expect(unwrittenMovements(db, 'acct', false, 1, [''])).rejects.toThrow(/Invalid customerIds/);
    await expect(markMovementsWritten(db, 'acct', false, 1, [{ movementId: '' }])).rejects.toThrow(/Invalid written movements/);
    await expect(movementsOf(db, 'acct', false, 'cus', 0)).rejects.toThrow(/Invalid limit/);
    await expect(recordMovements(db, 'acct', 'yes' as unknown as boolean, ['cus'])).rejects.toThrow(/Invalid account and mode/);
  });

  it('the card’s list is newest first and limited', async () => {
    const key = fresh();
    const ch = { id: `ch_${n}`, customer: key.customerId, amount: 5000 };
    await apply(key, [
      subscriptionEvent('created', sub(key), basic, { id: `evt_${n}_0`, created: T }),
      refundEvent(ch, 1000, { id: `evt_${n}_r1`, created: T + DAY, previousRefunded: 0 }),
      refundEvent(ch, 1500, { id: `evt_${n}_r2`, created: T + 2 * DAY, previousRefunded: 1000 }),
    ]);
    const list = await movementsOf(db, key.account, false, key.customerId, 2);
    expect(list.map((m) => [m.id, m.amount])).toEqual([
      [`${ch.id}:refund:1500`, 500],
      [`${ch.id}:refund:1000`, 1000],
    ]);
  });

  it('a late event that changes what a deletion meant retracts the movement derived without it, and keeps the row', async () => {
    const key = fresh();
    const e0 = subscriptionEvent('created', sub(key), basic, { id: `evt_${n}_0`, created: T });
    const del = subscriptionEvent('deleted', sub(key), { ...basic, status: 'canceled' }, { id: `evt_${n}_d`, created: T + 30 * DAY });
    await apply(key, [e0, del]);
    const churnAtDeletion = `sub_${key.customerId}:evt_${n}_d:churn`;
    const [written] = await unwrittenMovements(db, key.account, false, 11, [key.customerId]);
    await markMovementsWritten(db, key.account, false, 11, [{ movementId: written.id }]);
    expect((await movementsOf(db, key.account, false, key.customerId)).map((m) => m.id)).toContain(churnAtDeletion);

    // It had gone unpaid before it was deleted: the churn is then, and the deletion changes no MRR.
    const unpaid = subscriptionEvent('updated', sub(key), { ...basic, status: 'unpaid' }, { id: `evt_${n}_u`, created: T + 20 * DAY, before: basic });
    await apply(key, [unpaid]);
    expect((await movementsOf(db, key.account, false, key.customerId)).map((m) => m.id)).toEqual([
      `sub_${key.customerId}:evt_${n}_u:churn`,
      `sub_${key.customerId}:evt_${n}_0:new`,
    ]);
    expect(await ledger(key)).toContainEqual({ movement_id: churnAtDeletion, retracted: true });
    expect((await unwrittenMovements(db, key.account, false, 11, [key.customerId])).map((m) => m.kind)).toEqual(['churn']);

    // The whole history, derived again, agrees; a retracted movement derived again loses its retraction.
    const again = await recordMovements(db, key.account, false, [key.customerId, 'cus_not_ours']);
    expect(again.get(key.customerId)?.map((m) => m.kind)).toEqual(['new', 'churn']);
    expect([...again.keys()]).toEqual([key.customerId]);
    await db.query(`DELETE FROM revenue_movements WHERE account_key = $1 AND movement_id LIKE '%:new'`, [key.account]);
    await recordMovements(db, key.account, false, [key.customerId]);
    expect((await movementsOf(db, key.account, false, key.customerId)).map((m) => m.kind)).toEqual(['churn', 'new']);
  });

  it('an uninstall takes the history, the ledger and the written markers with the customers', async () => {
    const key = fresh();
    await apply(key, [subscriptionEvent('created', sub(key), basic, { id: `evt_${n}_0`, created: T })]);
    const [m] = await unwrittenMovements(db, key.account, false, 11, [key.customerId]);
    await markMovementsWritten(db, key.account, false, 11, [{ movementId: m.id }]);
    await deleteAccountData(db, key.account, false);
    for (const table of ['stripe_object_versions', 'revenue_movements', 'revenue_movements_written']) expect(await count(table, key)).toBe(0);
  });
});

describe.each(dbKinds())('migration 012 on an install with data, on %s', (kind) => {
  it('starts the history from the stored objects, as snapshots without personal data', async () => {
    const target = await freshDatabase(kind);
    const db = await target.open();
    try {
      await migrate(db, loadMigrations().filter((m) => m.version < 12));
      await db.query(`INSERT INTO customers (account_key, livemode, customer_id) VALUES ('', false, 'cus_old')`);
      await db.query(
        `INSERT INTO stripe_objects (account_key, livemode, kind, object_id, customer_id, version_created, version_rank, version_event, data)
         VALUES ('', false, 'invoice', 'in_old', 'cus_old', 1, 0, 'evt_old', '{"status":"paid","email":"a@b.c","name":"A"}'),
                ('', false, 'customer', 'cus_old', 'cus_old', 1, 0, 'evt_old', '{"email":"a@b.c"}')`,
      );
      expect(await migrate(db)).toContain(12);
      const { rows } = await db.query<{ kind: string; from_event: boolean; facts: Json }>('SELECT kind, from_event, facts FROM stripe_object_versions');
      expect(rows).toEqual([{ kind: 'invoice', from_event: false, facts: { status: 'paid' } }]);
    } finally {
      await db.close();
      await target.drop();
    }
  });
});
