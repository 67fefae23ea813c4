import type { Queryable } from '../../src/adapters/store/db';
import { insertEvents } from '../../src/adapters/store/inbox';
import { purgeSettledPayloads } from '../../src/adapters/store/retention';
import { createLogger } from '../../src/logger';
import { startEventMaintenance } from '../../src/queue/event-sweeper';
import { JobQueue } from '../../src/queue/job-queue';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { dbKinds, migratedDb } from '../helpers/db';
import { waitFor } from '../helpers/server';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject, succeededCharge } from '../helpers/stripe-fixtures';

/**
 * Personal data retention: payloads of settled events are removed after EVENT_RETENTION_DAYS (the activity log
 * keeps id, type, account, created and outcome), and a customer deleted in Stripe keeps no email or name anywhere —
 * stored objects, read model, what HubSpot last received, event payloads — while its object versions stay, so a late
 * `customer.updated` still never brings it back.
 */

const NOW = Math.floor(Date.now() / 1000);

async function payloadOf(db: Queryable, id: string): Promise<{ payload: Record<string, unknown>; purged: boolean } | undefined> {
  const { rows } = await db.query<{ payload: Record<string, unknown>; purged: boolean }>(
    'SELECT payload, payload_purged_at IS NOT NULL AS purged FROM stripe_events WHERE id = $1',
    [id],
  );
  return rows[0];
}

/** Every place we store something of a customer, as text, to look for personal data in. */
async function everythingAbout(db: Queryable, customerId: string): Promise<string> {
  const parts = await Promise.all([
    db.query('SELECT data FROM stripe_objects WHERE customer_id = $1', [customerId]),
    db.query('SELECT email, status, synced_properties, synced_status FROM customers WHERE customer_id = $1', [customerId]),
    db.query('SELECT payload FROM stripe_events WHERE customer_id = $1', [customerId]),
  ]);
  return JSON.stringify(parts.map((p) => p.rows));
}

describe.each(dbKinds())('personal data retention (%s)', (kind) => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({ kind, env: { STRIPE_APP_SECRET: TEST_APP_SECRET } });
  });
  afterAll(() => h?.stop());

  it('removes the payloads of settled events past the retention, keeping what the activity log shows', async () => {
    const account = 'acct_retention';
    const customerId = randomId('cus');
    const old = stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: 'kept-too-long@example.com' }), { account });
    const recent = stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'recent@example.com' }), { account });
    await h.send(old, recent);
    await h.idle();
    // Received 31 days ago and settled; and an old event never processed (its payload is still needed).
    await h.server.db.query(`UPDATE stripe_events SET received_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
    const pending = randomId('evt_pending');
    await insertEvents(h.server.db, [
      { id: pending, type: 'customer.updated', accountId: account, livemode: false, created: NOW, rawPayload: '{"email":"waiting@example.com"}', status: 'received', statusReason: null },
    ]);
    await h.server.db.query(`UPDATE stripe_events SET received_at = now() - interval '31 days' WHERE id = $1`, [pending]);

    const entryOf = async () =>
      (await appRequest(h.server.url, 'GET', '/activity?mode=test', { accountId: account })).body.events.find((e: { id: string }) => e.id === old.id);
    const before = await entryOf();
    expect(before).toMatchObject({ type: 'customer.created', created: old.created });

    expect(await purgeSettledPayloads(h.server.db, 30)).toBe(1);
    const purged = await payloadOf(h.server.db, old.id as string);
    expect(purged?.purged).toBe(true);
    expect(purged?.payload).toEqual({ id: old.id, object: 'event', type: 'customer.created', created: old.created, livemode: false, account, payload_removed: true });
    expect((await payloadOf(h.server.db, recent.id as string))?.payload).toEqual(recent);
    expect((await payloadOf(h.server.db, pending))?.purged).toBe(false);
    expect(await purgeSettledPayloads(h.server.db, 30)).toBe(0);
    await h.server.db.query('DELETE FROM stripe_events WHERE id = $1', [pending]); // never to be processed: not left for the next test
    // The activity log shows it as before.
    expect(await entryOf()).toEqual(before);
  });

  it('keeps no personal data of a deleted customer, and a late update never brings it back', async () => {
    const customerId = randomId('cus');
    const person = { email: 'gone.person@example.com', name: 'Gone Person', phone: '+15555550123' };
    const created = stripeEvent('customer.created', stripeObject('customer', { id: customerId, ...person }), { created: NOW - 100 });
    const invoice = stripeEvent(
      'invoice.paid',
      stripeObject('invoice', { id: randomId('in'), customer: customerId, customer_email: person.email, customer_name: person.name, status: 'paid' }),
      { created: NOW - 90 },
    );
    const charge = stripeEvent(
      'charge.succeeded',
      { ...succeededCharge(randomId('ch'), customerId, 1500, NOW - 90), billing_details: { email: person.email, name: person.name } },
      { created: NOW - 90 },
    );
    await h.send(created, invoice, charge);
    await h.idle();
    expect(await everythingAbout(h.server.db, customerId)).toContain(person.email); // synced as usual

    const deleted = stripeEvent('customer.deleted', stripeObject('customer', { id: customerId, ...person, deleted: true }), { created: NOW - 10 });
    await h.send(deleted);
    await h.idle();
    const after = await everythingAbout(h.server.db, customerId);
    for (const value of Object.values(person)) expect(after).not.toContain(value);
    const { rows } = await h.server.db.query<{ version_event: string; deleted: boolean; email: string | null }>(
      `SELECT version_event, (data->>'deleted')::boolean AS deleted, data->>'email' AS email FROM stripe_objects WHERE kind = 'customer' AND object_id = $1`,
      [customerId],
    );
    expect(rows).toEqual([{ version_event: deleted.id, deleted: true, email: null }]);
    const status = await h.server.db.query<{ email: string | null; status: { deleted: boolean; name: string | null } }>(
      'SELECT email, status FROM customers WHERE customer_id = $1',
      [customerId],
    );
    expect(status.rows[0]).toMatchObject({ email: null, status: { deleted: true, name: null } });

    // Late deliveries older than the deletion: an update (loses to the deletion's version) and a new invoice.
    const lateEmail = 'late.person@example.com';
    const lateUpdate = stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: lateEmail, name: 'Late Name' }), { created: NOW - 50 });
    const lateInvoice = stripeEvent(
      'invoice.paid',
      stripeObject('invoice', { id: randomId('in'), customer: customerId, customer_email: lateEmail, customer_name: 'Late Name', status: 'paid' }),
      { created: NOW - 40 },
    );
    await h.send(lateUpdate, lateInvoice);
    await h.idle();
    const late = await everythingAbout(h.server.db, customerId);
    for (const value of [lateEmail, 'Late Name', person.email]) expect(late).not.toContain(value);
    for (const e of [lateUpdate, lateInvoice]) expect((await payloadOf(h.server.db, e.id as string))?.purged).toBe(true);
    expect((await h.server.db.query<{ status: { deleted: boolean } }>('SELECT status FROM customers WHERE customer_id = $1', [customerId])).rows[0].status.deleted).toBe(true);
    expect(
      (await h.server.db.query<{ version_event: string }>(`SELECT version_event FROM stripe_objects WHERE kind = 'customer' AND object_id = $1`, [customerId])).rows[0]
        .version_event,
    ).toBe(deleted.id);
  });
});

describe.each(dbKinds())('the scheduled payload retention (%s)', (kind) => {
  it('runs on its own', async () => {
    const { db, target } = await migratedDb(kind);
    const queue = await JobQueue.start(db, { expireSeconds: 30, retryLimit: 0 }, createLogger({ level: 'silent' }));
    try {
      const id = randomId('evt_old');
      await insertEvents(db, [
        { id, type: 'customer.updated', accountId: null, livemode: false, created: NOW, rawPayload: '{"email":"old@example.com"}', status: 'ignored', statusReason: 'x' },
      ]);
      await db.query(`UPDATE stripe_events SET received_at = now() - interval '3 days' WHERE id = $1`, [id]);
      startEventMaintenance({ db, queue, logger: createLogger({ level: 'silent' }), stuckMinutes: 10, retentionDays: 2, purgeEveryMs: 50, sweepEveryMs: 60_000 });
      await waitFor(async () => (await payloadOf(db, id))?.purged, { what: 'the payload removed' });
    } finally {
      await queue.stop(1_000);
      await db.close();
      await target.drop();
    }
  });
});
