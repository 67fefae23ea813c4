import { dbKinds, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import type { Db } from './db';
import { writesReadModel } from './db';
import { crmFactsOf, crmFactsSql, parseCrmFacts } from './customer-crm-read';

/**
 * The read side of a customer's HubSpot records: what is and is not read (another portal's deal, a company without a
 * HubSpot id, a retracted movement), the order and the bounds, on both databases; and that a write to any table it
 * reads makes the card read again (the embedded database's read-model generation).
 */

const A = 'acct_crmread';

describe.each(dbKinds())('customer CRM facts on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    await db.query(`INSERT INTO customers (account_key, livemode, customer_id) VALUES ($1, false, 'cus_r1'), ($1, false, 'cus_r2')`, [A]);
    const sub = (id: string, status: string, created: number | null, version: number) =>
      db.query(
        `INSERT INTO stripe_objects (account_key, livemode, kind, object_id, customer_id, version_created, version_rank, version_event, data)
         VALUES ($1, false, 'subscription', $2, 'cus_r1', $5, 1, 'evt_' || $2, jsonb_build_object('status', $3::text, 'plan', 'P ' || $2, 'mrr', 500,
                 'currency', 'eur', 'currentPeriodEnd', 1800000000, 'cancelAtPeriodEnd', false) || CASE WHEN $4::bigint IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('created', $4::bigint) END)`,
        [A, id, status, created, version],
      );
    await sub('sub_r_old', 'canceled', 1_600_000_000, 1_600_000_000);
    await sub('sub_r_live', 'active', 1_500_000_000, 1_500_000_000);
    await sub('sub_r_nocreated', 'past_due', null, 1_700_000_000);
    // An invoice of the customer is not a subscription.
    await db.query(
      `INSERT INTO stripe_objects (account_key, livemode, kind, object_id, customer_id, version_created, version_rank, version_event, data)
       VALUES ($1, false, 'invoice', 'in_r1', 'cus_r1', 1, 1, 'evt_i', '{"status":"paid"}')`,
      [A],
    );
    await db.query(
      `INSERT INTO hubspot_deals (account_key, livemode, portal_id, deal_key, customer_id, kind, deal_id)
       VALUES ($1, false, 77, 'sub_r_live', 'cus_r1', 'subscription', '501'), ($1, false, 88, 'sub_r_old', 'cus_r1', 'subscription', '502')`,
      [A],
    );
    await db.query(
      `INSERT INTO crm_companies (account_key, livemode, portal_id, company_key, company_id, written)
       VALUES ($1, false, 77, 'domain:engines.example', '9001', '{"name":"Engines"}'), ($1, false, 77, 'customer:cus_r2', NULL, NULL)`,
      [A],
    );
    await db.query(
      `INSERT INTO crm_company_members (account_key, livemode, customer_id, portal_id, company_key)
       VALUES ($1, false, 'cus_r1', 77, 'domain:engines.example'), ($1, false, 'cus_r2', 77, 'customer:cus_r2')`,
      [A],
    );
    const movement = (id: string, at: number, retracted = false) =>
      db.query(
        `INSERT INTO revenue_movements (account_key, livemode, movement_id, customer_id, kind, occurred_at, currency, amount, mrr_before, mrr_after,
                                       subject_id, source_created, source_rank, source_event, retracted_at)
         VALUES ($1, false, $2, 'cus_r1', 'upgrade', $3, 'eur', 250, 500, 750, 'sub_r_live', $3, 1, 'evt_' || $2, CASE WHEN $4 THEN now() END)`,
        [A, id, at, retracted],
      );
    for (let i = 0; i < 11; i++) await movement(`mv_${String(i).padStart(2, '0')}`, 1_700_000_000 + i * 10);
    await movement('mv_retracted', 1_800_000_000, true);
    await movement('mv_tie_a', 1_700_000_100);
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it('reads every subscription (live first, newest first), each with its deal in this portal only', async () => {
    const facts = await crmFactsOf(db, A, false, 'cus_r1', 77);
    expect(facts.subscriptions.map((s) => [s.id, s.status, s.dealId])).toEqual([
      // Live: the one without `created` counts by its version's time.
      ['sub_r_nocreated', 'past_due', null],
      ['sub_r_live', 'active', '501'],
      // The deal of sub_r_old is in portal 88: not this contact's portal.
      ['sub_r_old', 'canceled', null],
    ]);
    expect(facts.subscriptions[1]).toMatchObject({ plan: 'P sub_r_live', mrr: 500, currency: 'eur', currentPeriodEnd: 1_800_000_000, cancelAtPeriodEnd: false, at: 1_500_000_000 });
  });

  it('reads the company with a HubSpot id, and none while the company has no id yet', async () => {
    expect((await crmFactsOf(db, A, false, 'cus_r1', 77)).company).toEqual({ companyId: '9001', key: 'domain:engines.example', writtenName: 'Engines', businessName: null });
    expect((await crmFactsOf(db, A, false, 'cus_r2', 77)).company).toBeNull();
    expect((await crmFactsOf(db, A, false, 'cus_r1', 88)).company).toBeNull();
  });

  it('reads the ten newest movements, never a retracted one, ties in the ledger’s order', async () => {
    const { movements } = await crmFactsOf(db, A, false, 'cus_r1', 77);
    expect(movements.map((m) => m.id)).toEqual(['mv_tie_a', 'mv_10', 'mv_09', 'mv_08', 'mv_07', 'mv_06', 'mv_05', 'mv_04', 'mv_03', 'mv_02']);
    expect(movements[1]).toEqual({ id: 'mv_10', kind: 'upgrade', occurredAt: 1_700_000_100, amount: 250, currency: 'eur', mrrBefore: 500, mrrAfter: 750 });
  });

  it('without a portal (no contact) reads subscriptions and movements but no deal or company', async () => {
    const facts = await crmFactsOf(db, A, false, 'cus_r1', null);
    expect(facts.subscriptions.map((s) => s.dealId)).toEqual([null, null, null]);
    expect(facts.company).toBeNull();
    expect(facts.movements).toHaveLength(10);
  });

  it('another account or mode reads nothing', async () => {
    expect(await crmFactsOf(db, 'acct_other', false, 'cus_r1', 77)).toEqual({ subscriptions: [], company: null, movements: [] });
    expect(await crmFactsOf(db, A, true, 'cus_r1', 77)).toEqual({ subscriptions: [], company: null, movements: [] });
  });

  it('a write to any table the card reads moves the embedded database’s read-model generation', async () => {
    if (!db.readModelGeneration) return;
    for (const sql of [
      `UPDATE stripe_objects SET updated_at = now() WHERE account_key = '${A}' AND object_id = 'sub_r_live'`,
      `UPDATE hubspot_deals SET updated_at = now() WHERE account_key = '${A}'`,
      `UPDATE crm_companies c SET updated_at = now() WHERE c.account_key = '${A}'`,
      `UPDATE crm_company_members m SET associated_contact_id = NULL WHERE m.account_key = '${A}'`,
      `UPDATE revenue_movements SET updated_at = now() WHERE account_key = '${A}' AND movement_id = 'mv_00'`,
    ]) {
      const before = db.readModelGeneration();
      await db.query(sql);
      expect([sql, db.readModelGeneration()]).toEqual([sql, before + 1]);
    }
  });
});

describe('the CRM facts expression', () => {
  it('takes column references only', () => {
    expect(() => crmFactsSql({ account: 'l.account_key', livemode: 'l.livemode', customer: 'l.customer_id', portal: "1); DROP TABLE x; --" })).toThrow(
      /not a column reference/,
    );
  });

  it('refuses text that is not its shape, and reads nothing from no row', () => {
    expect(() => parseCrmFacts('{"s":"x","c":null,"m":[]}')).toThrow(/Unexpected CRM facts/);
    expect(parseCrmFacts(null)).toEqual({ subscriptions: [], company: null, movements: [] });
  });

  it('writes to the tables it reads count as read-model writes; their neighbours do not', () => {
    expect(writesReadModel('INSERT INTO hubspot_deals (account_key) VALUES ($1)')).toBe(true);
    expect(writesReadModel('DELETE FROM revenue_movements WHERE false')).toBe(true);
    expect(writesReadModel('INSERT INTO revenue_movements_written (account_key) VALUES ($1)')).toBe(false);
    expect(writesReadModel('INSERT INTO stripe_object_versions (account_key) VALUES ($1)')).toBe(false);
  });
});
