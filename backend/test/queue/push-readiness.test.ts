import { insertEvents, type NewInboxEvent } from '../../src/adapters/store/inbox';
import { ARRIVAL_WINDOW_MS, pushReadiness } from '../../src/adapters/store/push-readiness';
import { dbKinds, useMigratedDb } from '../helpers/db';
import { randomId } from '../helpers/stripe-fixtures';

/** What the HubSpot pusher's batching decides on, read from a real database: ready customers, backlog, arrivals. */
describe.each(dbKinds())('push readiness on %s', (kind) => {
  const database = useMigratedDb(kind);

  function event(accountId: string): NewInboxEvent {
    return { id: randomId('evt'), type: 'customer.updated', accountId, livemode: false, created: 1_700_000_000, rawPayload: '{"object":"event"}', status: 'received', statusReason: null };
  }
  async function readyCustomer(account: string): Promise<void> {
    await database().query(
      `INSERT INTO customers (account_key, livemode, customer_id, email, status, version, dirty_since)
       VALUES ($1, false, $2, 'a@example.com', '{}'::jsonb, 1, now())`,
      [account, randomId('cus')],
    );
  }

  it("counts a merchant's events received in the last half second (a burst still arriving), not another merchant's, and none once it stops", async () => {
    const bursting = randomId('acct');
    const quiet = randomId('acct');
    await readyCustomer(bursting);
    await readyCustomer(quiet);
    await insertEvents(database(), Array.from({ length: 60 }, () => event(bursting)));
    const now = await pushReadiness(database());
    expect(now.find((m) => m.account === bursting)).toMatchObject({ ready: 1, arriving: 60, backlog: 60 });
    expect(now.find((m) => m.account === quiet)).toMatchObject({ ready: 1, arriving: 0 });
    await new Promise((r) => setTimeout(r, ARRIVAL_WINDOW_MS + 200));
    const later = await pushReadiness(database());
    // Still to apply, but no longer arriving.
    expect(later.find((m) => m.account === bursting)).toMatchObject({ arriving: 0, backlog: 60 });
  });
});
