import { dbKinds, migratedDb } from '../../../test/helpers/db';
import { deleteAccountData } from './data-deletion';
import { addDeadLetter, linksOf, saveLink, type DirtyCustomer } from './push-store';
import type { Db } from './db';

/**
 * A push pass still running against HubSpot when its account is uninstalled (on another instance, say) ends after the
 * account's data is gone: what it records then — a link, a dead letter — must not bring rows back.
 */
const ACCOUNT = 'acct_gone';
const key = { account: ACCOUNT, livemode: true, customerId: 'cus_inflight' };

describe.each(dbKinds())('a push that ends after its account was uninstalled (%s)', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const m = await migratedDb(kind);
    db = m.db;
    drop = () => m.target.drop();
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  const count = async (table: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE account_key = $1`, [ACCOUNT])).rows[0]!.n;

  it('records links and dead letters while the customer exists, nothing once the account is gone', async () => {
    await db.query(
      `INSERT INTO customers (account_key, livemode, customer_id, email, status, version) VALUES ($1, true, $2, 'a@example.com', '{}', 1)`,
      [ACCOUNT, key.customerId],
    );
    const leased = { key, version: 1, status: {}, syncedStatus: null, syncedProperties: null, attempts: 0, priority: 'live' } as unknown as DirtyCustomer;

    // While the account is installed, both are recorded.
    await saveLink(db, key, 77, '7701', 'created');
    await addDeadLetter(db, leased, 77, 'refused', 'VALIDATION_ERROR');
    expect([await count('contact_links'), await count('dead_letters')]).toEqual([1, 1]);

    // The uninstall lands while the pass is still talking to HubSpot...
    await deleteAccountData(db, ACCOUNT, true, { uninstall: { created: Math.floor(Date.now() / 1000) } });
    expect([await count('contact_links'), await count('dead_letters'), await count('customers')]).toEqual([0, 0, 0]);

    // ...and the pass then records what HubSpot answered: nothing comes back.
    await saveLink(db, key, 77, '7702', 'customer_id');
    await addDeadLetter(db, leased, 77, 'refused again', 'VALIDATION_ERROR');
    expect([await count('contact_links'), await count('dead_letters')]).toEqual([0, 0]);
    expect((await linksOf(db, ACCOUNT, true, 77, [key.customerId])).size).toBe(0);
  });
});
