import { dbKinds, migratedDb } from '../../../test/helpers/db';
import { deleteAccountData } from './data-deletion';
import type { Db } from './db';
import {
  claimCompanies,
  membershipsOf,
  membersOf,
  recordCreating,
  releaseCompanies,
  saveCompanies,
  saveMemberships,
  type CompanyScope,
} from './companies-store';

/**
 * The companies tables (migration 013): one pass at a time holds a company row (two instances never create one
 * company twice), memberships move customers between companies, and an uninstall or a deleted customer takes them
 * along.
 */
const ACCOUNT = 'acct_companies';
const scope: CompanyScope = { account: ACCOUNT, livemode: true, portalId: 91 };

describe.each(dbKinds())('companies storage (%s)', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const m = await migratedDb(kind);
    db = m.db;
    drop = () => m.target.drop();
    for (const id of ['cus_1', 'cus_2', 'cus_3']) {
      await db.query(
        `INSERT INTO customers (account_key, livemode, customer_id, email, status, version) VALUES ($1, true, $2, $3, $4, 1)`,
        [ACCOUNT, id, `${id}@acme.io`, JSON.stringify({ customerId: id, email: `${id}@acme.io` })],
      );
    }
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('a company row is held by one pass at a time; released or expired, another takes it', async () => {
    const first = await claimCompanies(db, scope, ['domain:acme.io', 'domain:b.io'], 'pass-1', 60);
    expect([...first.keys()].sort()).toEqual(['domain:acme.io', 'domain:b.io']);
    expect(first.get('domain:acme.io')).toMatchObject({ companyId: null, uniqueValue: null, createdByUs: false, written: null });

    // Two passes at once (another instance): the second gets only what the first does not hold.
    const [second, third] = await Promise.all([
      claimCompanies(db, scope, ['domain:acme.io', 'domain:c.io'], 'pass-2', 60),
      claimCompanies(db, scope, ['domain:c.io'], 'pass-3', 60),
    ]);
    expect(second.has('domain:acme.io')).toBe(false);
    expect(second.size + third.size).toBe(1);

    await releaseCompanies(db, scope, 'pass-1');
    // A lease that ran out a second ago (as a crashed pass's does; 0 s could still hold within the clock's tick):
    expect([...(await claimCompanies(db, scope, ['domain:acme.io'], 'pass-4', -1)).keys()]).toEqual(['domain:acme.io']);
    // it has expired: a crashed pass does not hold a company for ever.
    expect([...(await claimCompanies(db, scope, ['domain:acme.io'], 'pass-5', 60)).keys()]).toEqual(['domain:acme.io']);
    await releaseCompanies(db, scope, 'pass-2');
    await releaseCompanies(db, scope, 'pass-3');
    await releaseCompanies(db, scope, 'pass-5');
  });

  it('keeps what a create carries before it is sent, then the company; moves members and forgets their association', async () => {
    await claimCompanies(db, scope, ['domain:acme.io', 'customer:cus_3'], 'pass-6', 60);
    await recordCreating(db, scope, [{ key: 'domain:acme.io', uniqueValue: 'cus_1' }]);
    let rows = await claimCompanies(db, scope, ['domain:acme.io'], 'pass-6', 60);
    expect(rows.get('domain:acme.io')).toMatchObject({ companyId: null, uniqueValue: 'cus_1', createdByUs: true });
    await saveCompanies(db, scope, [{ key: 'domain:acme.io', companyId: '5001', createdByUs: true, uniqueValue: 'cus_1', written: { stripe_mrr: '10.00' } }]);
    rows = await claimCompanies(db, scope, ['domain:acme.io'], 'pass-6', 60);
    expect(rows.get('domain:acme.io')).toMatchObject({ companyId: '5001', written: { stripe_mrr: '10.00' } });

    await saveMemberships(db, scope, [
      { customerId: 'cus_1', key: 'domain:acme.io' },
      { customerId: 'cus_2', key: 'domain:acme.io' },
    ]);
    await db.query(`UPDATE crm_company_members SET associated_contact_id = '77' WHERE customer_id = 'cus_2'`);
    await saveMemberships(db, scope, [
      { customerId: 'cus_1', key: null },
      { customerId: 'cus_2', key: 'customer:cus_3' },
      { customerId: 'cus_3', key: 'customer:cus_3' },
    ]);
    const now = await membershipsOf(db, scope, ['cus_1', 'cus_2', 'cus_3']);
    expect(now.has('cus_1')).toBe(false);
    expect(now.get('cus_2')).toEqual({ key: 'customer:cus_3', associatedContactId: null });
    const members = await membersOf(db, scope, ['domain:acme.io', 'customer:cus_3']);
    expect(members.get('domain:acme.io')).toEqual([]);
    expect(members.get('customer:cus_3')!.map((m) => m.customerId).sort()).toEqual(['cus_2', 'cus_3']);
    await releaseCompanies(db, scope, 'pass-6');
  });

  it('a deleted customer leaves its company; an uninstall deletes the companies of the account', async () => {
    await db.query(`DELETE FROM customers WHERE account_key = $1 AND customer_id = 'cus_3'`, [ACCOUNT]);
    expect((await membersOf(db, scope, ['customer:cus_3'])).get('customer:cus_3')!.map((m) => m.customerId)).toEqual(['cus_2']);
    await deleteAccountData(db, ACCOUNT, true);
    const left = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM crm_companies WHERE account_key = $1) + (SELECT count(*) FROM crm_company_members WHERE account_key = $1) AS n`,
      [ACCOUNT],
    );
    expect(Number(left.rows[0]!.n)).toBe(0);
  });
});
