import type { Db } from '../../src/adapters/store/db';
import { insertEvents, loadEvents } from '../../src/adapters/store/inbox';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { movementsOf } from '../../src/adapters/store/movements-store-read';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { seededRandom } from '../helpers/seeded-random';
import { randomId } from '../helpers/stripe-fixtures';
import { subscriptionEvent } from '../helpers/movement-events';

type Json = Record<string, unknown>;

/**
 * Revenue movements through the real apply processor: stored events, delivered shuffled and several times in
 * batches of any size, give each movement exactly once — and the ledger never holds anything else on the way.
 */
describe.each(dbKinds())('revenue movements through the apply processor on %s', (kind) => {
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
  /** One worker batch of these event ids; an id given twice is two jobs of the same event in the batch. */
  const process = async (ids: string[]) => {
    const loaded = new Map((await loadEvents(db, [...new Set(ids)])).map((e) => [e.id, e]));
    await createApplyProcessor({ db }).process(ids.map((id) => loaded.get(id)!));
  };
  const ledger = async (customer: string) =>
    (
      await db.query<{ movement_id: string; kind: string; amount: string; mrr_before: string; mrr_after: string; retracted: boolean }>(
        `SELECT movement_id, kind, amount, mrr_before, mrr_after, retracted_at IS NOT NULL AS retracted
           FROM revenue_movements WHERE account_key = '' AND livemode = false AND customer_id = $1 ORDER BY occurred_at`,
        [customer],
      )
    ).rows;

  const basic = { status: 'active', amount: 1000, plan: 'Basic' };
  const pro = { status: 'active', amount: 3000, plan: 'Pro' };
  const plus = { status: 'active', amount: 2000, plan: 'Plus' };
  const T = 1_765_000_000;

  /** Batches by event index (0 created, 1 upgrade, 2 downgrade), each event delivered three times in all. */
  const PLANS: [string, number[][]][] = [
    ['the downgrade alone first, then the creation, then the upgrade', [[2], [2, 0], [1], [0, 1, 2], [1, 0]]],
    ['the downgrade and the creation first, the upgrade last', [[2, 0], [2], [0, 2], [1, 0], [1], [1]]],
    ['the upgrade, the downgrade, then the creation', [[1], [2], [0], [2, 1, 0], [0, 1, 2]]],
    ['in order, duplicates later', [[0], [1], [2], [0, 1, 2], [2, 1, 0]]],
    ['all in one batch, three times', [[2, 1, 0, 0, 1, 2, 1, 2, 0]]],
    ...[1, 2, 3].map((seed): [string, number[][]] => {
      const random = seededRandom(seed * 7919);
      const order = [0, 1, 2, 0, 1, 2, 0, 1, 2].map((e) => ({ e, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.e);
      const batches: number[][] = [];
      for (let i = 0; i < order.length; ) {
        const size = 1 + Math.floor(random() * 3);
        batches.push(order.slice(i, i + size));
        i += size;
      }
      return [`shuffled with seed ${seed}`, batches];
    }),
  ];

  it.each(PLANS)('an upgrade then a downgrade, each delivered 3 times (%s): exactly new, upgrade, downgrade', async (_name, plan) => {
    expect(plan.flat().sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const customer = randomId('cus');
    const sub = { id: randomId('sub'), customer };
    const e0 = subscriptionEvent('created', sub, basic, { created: T });
    const e1 = subscriptionEvent('updated', sub, pro, { created: T + 86_400, before: basic });
    const e2 = subscriptionEvent('updated', sub, plus, { created: T + 2 * 86_400, before: pro });
    const byIndex = [e0, e1, e2];
    await store(byIndex);
    const expected = new Map([
      [`${sub.id}:${e0.id}:new`, { kind: 'new', amount: '1000', mrr_before: '0', mrr_after: '1000' }],
      [`${sub.id}:${e1.id}:upgrade`, { kind: 'upgrade', amount: '2000', mrr_before: '1000', mrr_after: '3000' }],
      [`${sub.id}:${e2.id}:downgrade`, { kind: 'downgrade', amount: '-1000', mrr_before: '3000', mrr_after: '2000' }],
    ]);

    for (const batch of plan) {
      await process(batch.map((i) => byIndex[i].id as string));
      // Never anything but the three movements, never one retracted.
      for (const row of await ledger(customer)) {
        expect(expected.has(row.movement_id)).toBe(true);
        expect(row.retracted).toBe(false);
      }
    }
    const rows = await ledger(customer);
    expect(rows.map((r) => r.movement_id)).toEqual([...expected.keys()]);
    for (const r of rows) expect({ kind: r.kind, amount: String(r.amount), mrr_before: String(r.mrr_before), mrr_after: String(r.mrr_after) }).toEqual(expected.get(r.movement_id));
    expect((await movementsOf(db, '', false, customer)).map((m) => m.kind)).toEqual(['downgrade', 'upgrade', 'new']);

    const status = (
      await db.query<{ status: CustomerStatus }>(`SELECT status FROM customers WHERE account_key = '' AND livemode = false AND customer_id = $1`, [customer])
    ).rows[0].status;
    expect(status.subscription?.plan).toBe('Plus');
  });

  it('an event at the edge of what Stripe’s fields hold (a far-future time, an amount beyond 64 bits) is applied, not failed', async () => {
    const customer = randomId('cus');
    const event = subscriptionEvent('created', { id: randomId('sub'), customer }, { status: 'active', amount: 2 ** 52, plan: 'Huge' }, { created: 2 ** 52 });
    const items = ((event.data as { object: Json }).object.items as { data: Json[] }).data;
    items[0].quantity = 2 ** 40;
    await store([event]);
    await process([event.id as string]);
    const outcome = await db.query<{ status: string }>('SELECT status FROM stripe_events WHERE id = $1', [event.id]);
    expect(outcome.rows[0].status).toBe('applied');
    const [m] = await movementsOf(db, '', false, customer);
    expect(m).toMatchObject({ kind: 'new', occurredAt: 2 ** 52 });
    expect(m.amount).toBeGreaterThan(2 ** 90);
  });

  it('a batch of many customers records their movements with the rest of the batch', async () => {
    const events: Json[] = [];
    const customers: string[] = [];
    for (let i = 0; i < 30; i++) {
      const customer = randomId('cus');
      customers.push(customer);
      const sub = { id: randomId('sub'), customer };
      events.push(subscriptionEvent('created', sub, basic, { created: T }), subscriptionEvent('updated', sub, pro, { created: T + 60, before: basic }));
    }
    await store(events);
    await process(events.map((e) => e.id as string).reverse());
    for (const c of customers) expect((await ledger(c)).map((r) => r.kind)).toEqual(['new', 'upgrade']);
  });
});
