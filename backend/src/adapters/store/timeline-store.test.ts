import type { Db } from './db';
import { dbKinds, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { lockCustomers, type CustomerKey } from './sync-store';
import { recordHistory } from './movements-store';
import { unwrittenMovements } from './movements-store-read';
import { forgetSends, pendingSends, recordSending, recordWritten } from './timeline-store';
import { deleteAccountData } from './data-deletion';
import { mapEvent, type StripeEventInput } from '../../domain/events';
import { previousAttributesOf } from '../../domain/movements-history';
import { subscriptionEvent } from '../../../test/helpers/movement-events';

const T = 1_760_000_000;
const PORTAL = 777;

describe.each(dbKinds())('revenue movements being sent, on %s', (kind) => {
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

  /** A customer with two movements (new, upgrade) in the ledger. */
  async function customerWithMovements(): Promise<{ key: CustomerKey; ids: string[] }> {
    const key = { account: `acct_ts${++n}`, livemode: false, customerId: `cus_ts${n}` };
    const sub = { id: `sub_ts${n}`, customer: key.customerId };
    const events = [
      subscriptionEvent('created', sub, { status: 'active', amount: 1000, plan: 'Basic' }, { id: `evt_ts${n}a`, created: T }),
      subscriptionEvent('updated', sub, { status: 'active', amount: 3000, plan: 'Pro' }, { id: `evt_ts${n}b`, created: T + 60, before: { status: 'active', amount: 1000, plan: 'Basic' } }),
    ];
    const batches = events.map((e) => {
      const mapped = mapEvent(e as unknown as StripeEventInput);
      if ('skip' in mapped) throw new Error(mapped.skip);
      return { eventId: e.id as string, records: mapped.records, source: { type: e.type as string, previous: previousAttributesOf(e) } };
    });
    await db.transaction(async (tx) => {
      await lockCustomers(tx, [key]);
      await recordHistory(tx, [{ key, batches }]);
    });
    const ids = (await unwrittenMovements(db, key.account, key.livemode, PORTAL, [key.customerId])).map((m) => m.id);
    expect(ids).toHaveLength(2);
    return { key, ids };
  }

  it('sending, then written: marked in the ledger for that portal only, no longer pending', async () => {
    const { key, ids } = await customerWithMovements();
    const scope = { account: key.account, livemode: key.livemode, portalId: PORTAL };
    await recordSending(db, scope, ids.map((movementId) => ({ movementId, customerId: key.customerId, channel: 'note' as const, contactId: '501' })));
    await recordSending(db, scope, [{ movementId: ids[0]!, customerId: key.customerId, channel: 'timeline', contactId: '502' }]);
    const pending = await pendingSends(db, scope, ids);
    expect(pending.get(ids[0]!)).toEqual({ movementId: ids[0], channel: 'timeline', contactId: '502', attempts: 2 });
    expect(pending.get(ids[1]!)).toEqual({ movementId: ids[1], channel: 'note', contactId: '501', attempts: 1 });
    // Still unwritten while only being sent.
    expect(await unwrittenMovements(db, key.account, key.livemode, PORTAL, [key.customerId])).toHaveLength(2);

    await recordWritten(db, scope, [{ movementId: ids[0]!, hubspotId: '9001' }]);
    expect((await unwrittenMovements(db, key.account, key.livemode, PORTAL, [key.customerId])).map((m) => m.id)).toEqual([ids[1]]);
    expect((await unwrittenMovements(db, key.account, key.livemode, PORTAL + 1, [key.customerId])).map((m) => m.id).sort()).toEqual([...ids].sort());
    expect([...(await pendingSends(db, scope, ids)).keys()]).toEqual([ids[1]]);
    const { rows } = await db.query<{ hubspot_id: string }>(`SELECT hubspot_id FROM revenue_movements_written WHERE account_key = $1 AND movement_id = $2`, [
      key.account,
      ids[0],
    ]);
    expect(rows).toEqual([{ hubspot_id: '9001' }]);

    await forgetSends(db, scope, [ids[1]!]);
    expect((await pendingSends(db, scope, ids)).size).toBe(0);
  });

  it('an unknown movement marks nothing; bad input throws and changes nothing', async () => {
    const { key, ids } = await customerWithMovements();
    const scope = { account: key.account, livemode: key.livemode, portalId: PORTAL };
    await recordSending(db, scope, [{ movementId: ids[0]!, customerId: key.customerId, channel: 'note', contactId: '501' }]);
    await expect(
      recordWritten(db, scope, [
        { movementId: ids[0]!, hubspotId: '1' },
        { movementId: 'nope', hubspotId: '2' },
      ]),
    ).rejects.toThrow(/Unknown revenue movements/);
    expect((await pendingSends(db, scope, ids)).size).toBe(1);
    expect(await unwrittenMovements(db, key.account, key.livemode, PORTAL, [key.customerId])).toHaveLength(2);
    await expect(recordSending(db, scope, [{ movementId: ids[1]!, customerId: key.customerId, channel: 'email' as 'note', contactId: '501' }])).rejects.toThrow(/Invalid sends/);
    await expect(pendingSends(db, { ...scope, portalId: -1 }, ids)).rejects.toThrow(/Invalid scope/);
    expect((await pendingSends(db, scope, ids)).size).toBe(1);
  });

  it('a movement sent to a portal but not before it existed in the ledger is refused by the database', async () => {
    const scope = { account: 'acct_none', livemode: false, portalId: PORTAL };
    await expect(recordSending(db, scope, [{ movementId: 'sub_x:evt_y:new', customerId: 'cus_x', channel: 'note', contactId: '1' }])).rejects.toThrow();
  });

  it('deleting the account’s data (uninstall) takes the pending sends along', async () => {
    const { key, ids } = await customerWithMovements();
    const scope = { account: key.account, livemode: key.livemode, portalId: PORTAL };
    await recordSending(db, scope, ids.map((movementId) => ({ movementId, customerId: key.customerId, channel: 'timeline' as const, contactId: '7' })));
    await deleteAccountData(db, key.account, key.livemode);
    expect((await pendingSends(db, scope, ids)).size).toBe(0);
  });
});
