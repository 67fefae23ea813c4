import type { Db } from '../../src/adapters/store/db';
import { insertEvents, loadEvents } from '../../src/adapters/store/inbox';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

type Json = Record<string, unknown>;

describe.each(dbKinds())('applying a worker batch in one transaction on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  async function store(events: Json[]): Promise<void> {
    await insertEvents(
      db,
      events.map((e) => ({
        id: e.id as string,
        type: e.type as string,
        accountId: null,
        livemode: false,
        created: e.created as number,
        rawPayload: JSON.stringify(e),
        status: 'received' as const,
        statusReason: null,
      })),
    );
  }
  const process = async (events: Json[]) => createApplyProcessor({ db }).process(await loadEvents(db, events.map((e) => e.id as string)));
  const outcomes = async (events: Json[]) =>
    new Map(
      (
        await db.query<{ id: string; status: string; status_reason: string | null; customer_version: number | null }>(
          'SELECT id, status, status_reason, customer_version::int AS customer_version FROM stripe_events WHERE id = ANY($1::text[])',
          [events.map((e) => e.id)],
        )
      ).rows.map((r) => [r.id, r]),
    );
  const customer = async (id: string) =>
    (
      await db.query<{ version: string; status: CustomerStatus }>(
        `SELECT version, status FROM customers WHERE account_key = '' AND livemode = false AND customer_id = $1`,
        [id],
      )
    ).rows[0];

  /** 40 customers; each created, then subscribed; the odd ones cancel in the same second as a late `active` update. */
  function batch(created: number) {
    const events: Json[] = [];
    const customers: string[] = [];
    const superseded: string[] = [];
    for (let i = 0; i < 40; i++) {
      const cus = randomId('cus');
      customers.push(cus);
      events.push(stripeEvent('customer.created', stripeObject('customer', { id: cus, email: `c${i}@example.com` }), { created }));
      const sub = randomId('sub');
      const active = stripeEvent('customer.subscription.updated', stripeObject('subscription', { id: sub, customer: cus, status: 'active' }), {
        created: created + 1,
      });
      events.push(active);
      if (i % 2 === 1) {
        const canceled = stripeEvent('customer.subscription.deleted', stripeObject('subscription', { id: sub, customer: cus, status: 'canceled' }), {
          created: created + 1,
        });
        // Delivered before the `active` update of the same second: the batch must still end at canceled.
        events.splice(events.length - 1, 0, canceled);
        superseded.push(active.id as string);
      }
    }
    return { events, customers, superseded };
  }

  it('folds many customers at once by the order rule and records every event’s outcome', async () => {
    const { events, customers, superseded } = batch(1_700_000_000);
    await store(events);
    await process(events);
    const out = await outcomes(events);
    for (const e of events) {
      const o = out.get(e.id as string)!;
      if (superseded.includes(e.id as string)) expect(o).toMatchObject({ status: 'skipped', status_reason: expect.stringMatching(/^Superseded/) });
      else expect(o).toMatchObject({ status: 'applied', status_reason: null, customer_version: 1 });
    }
    for (const [i, cus] of customers.entries()) {
      const c = await customer(cus);
      expect(Number(c.version)).toBe(1);
      expect(c.status.email).toBe(`c${i}@example.com`);
      expect(c.status.subscription?.status).toBe(i % 2 === 1 ? 'canceled' : 'active');
    }
  });

  it('a retried batch changes nothing and keeps the outcomes (no event turns "superseded" by itself)', async () => {
    const { events, customers, superseded } = batch(1_700_001_000);
    await store(events);
    await process(events);
    const first = await outcomes(events);
    await process(events);
    const second = await outcomes(events);
    for (const e of events) {
      const id = e.id as string;
      expect(second.get(id)?.status).toBe(superseded.includes(id) ? 'skipped' : 'applied');
      expect(second.get(id)?.customer_version).toBe(first.get(id)?.customer_version);
    }
    for (const cus of customers) expect(Number((await customer(cus)).version)).toBe(1);
  });

  it('two batches over the same customers in opposite orders, at once, both commit (no deadlock) to the same end state', async () => {
    const { events, customers } = batch(1_700_002_000);
    await store(events);
    const reversed = [...events].reverse();
    await Promise.all([process(events), process(reversed), process(events.slice(20)), process(reversed.slice(30))]);
    for (const [i, cus] of customers.entries()) {
      expect((await customer(cus)).status.subscription?.status).toBe(i % 2 === 1 ? 'canceled' : 'active');
    }
  });
});
