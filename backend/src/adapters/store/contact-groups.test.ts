import { dbKinds, migratedDb } from '../../../test/helpers/db';
import { loadMigrations, migrate } from './migrate';
import { deferLeases, leaseGroups, linksOfContacts, releaseLeases, unlinkAndRequeue } from './contact-groups';
import { claimDirty, linksOf, saveLink } from './push-store';
import { freshDatabase } from '../../../test/helpers/db';
import type { Db } from './db';

const ACCOUNT = 'acct_groups';
const key = (customerId: string) => ({ account: ACCOUNT, livemode: false, customerId });

async function addCustomer(db: Db, customerId: string, opts: { dirty?: boolean; email?: string } = {}): Promise<void> {
  const status = { customerId, email: opts.email ?? `${customerId}@example.com` };
  await db.query(
    `INSERT INTO customers (account_key, livemode, customer_id, email, status, version, synced_version, synced_properties)
     VALUES ($1, false, $2, $3, $4, 2, $5, '{"stripe_customer_id":"x"}')`,
    [ACCOUNT, customerId, status.email, JSON.stringify(status), opts.dirty ? 1 : 2],
  );
}

const claimOf = async (db: Db, customerId: string) =>
  (
    await db.query<{ claim_token: string | null; deferred: boolean }>(
      'SELECT claim_token, next_attempt_at > now() AS deferred FROM customers WHERE customer_id = $1',
      [customerId],
    )
  ).rows[0];

describe.each(dbKinds())('a contact’s customers are leased together on %s', (kind) => {
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

  it('leases a whole group or none of it, and gives leases back', async () => {
    for (const id of ['cus_g1', 'cus_g2', 'cus_g3']) await addCustomer(db, id);
    await addCustomer(db, 'cus_g4', { dirty: true });
    // Another pusher holds cus_g4 (its own pass).
    expect((await claimDirty(db, { limit: 10, leaseSeconds: 60, settleMs: 0, token: 'other' })).map((c) => c.key.customerId)).toEqual(['cus_g4']);

    const leased = await leaseGroups(db, 'mine', 60, [
      { id: 'contact-free', members: [key('cus_g1'), key('cus_g2')] },
      { id: 'contact-busy', members: [key('cus_g3'), key('cus_g4')] },
    ]);
    expect([...leased.keys()]).toEqual(['contact-free']);
    expect(leased.get('contact-free')!.map((m) => [m.key.customerId, m.dirty, m.version]).sort()).toEqual([
      ['cus_g1', false, 2],
      ['cus_g2', false, 2],
    ]);
    expect((await claimOf(db, 'cus_g1')).claim_token).toBe('mine');
    expect((await claimOf(db, 'cus_g3')).claim_token).toBeNull();
    expect((await claimOf(db, 'cus_g4')).claim_token).toBe('other');

    // Leases this pusher already holds count as free; another token's do not.
    expect([...(await leaseGroups(db, 'mine', 60, [{ id: 'again', members: [key('cus_g1')] }])).keys()]).toEqual(['again']);
    expect((await leaseGroups(db, 'third', 60, [{ id: 'taken', members: [key('cus_g2')] }])).size).toBe(0);

    await releaseLeases(db, [key('cus_g1'), key('cus_g2'), key('cus_g4')], 'mine');
    expect((await claimOf(db, 'cus_g1')).claim_token).toBeNull();
    expect((await claimOf(db, 'cus_g4')).claim_token).toBe('other');

    // The other pusher defers cus_g4: released, due again shortly, no attempt counted.
    await deferLeases(db, [key('cus_g4')], 'other');
    expect(await claimOf(db, 'cus_g4')).toEqual({ claim_token: null, deferred: true });
    const { rows } = await db.query<{ attempts: number }>('SELECT attempts FROM customers WHERE customer_id = $1', ['cus_g4']);
    expect(rows[0]!.attempts).toBe(0);
  });

  it('unlinks customers and queues them to be matched and written in full again', async () => {
    await addCustomer(db, 'cus_u1');
    await addCustomer(db, 'cus_u2');
    await saveLink(db, key('cus_u1'), 7, 'c-1', 'email', 'cus_u1@example.com');
    await saveLink(db, key('cus_u2'), 7, 'c-1', 'created');
    expect([...(await linksOfContacts(db, ACCOUNT, false, 7, ['c-1'])).get('c-1')!.entries()].sort()).toEqual([
      ['cus_u1', { contactId: 'c-1', matchedBy: 'email', matchedEmail: 'cus_u1@example.com' }],
      ['cus_u2', { contactId: 'c-1', matchedBy: 'created', matchedEmail: null }],
    ]);
    await leaseGroups(db, 'mine', 60, [{ id: 'c-1', members: [key('cus_u1'), key('cus_u2')] }]);
    await unlinkAndRequeue(db, [key('cus_u1')], 'mine', 'moved');
    expect([...(await linksOf(db, ACCOUNT, false, 7, ['cus_u1', 'cus_u2'])).keys()]).toEqual(['cus_u2']);
    const { rows } = await db.query<{ customer_id: string; dirty: boolean; synced_properties: unknown; claim_token: string | null; sync_reason: string | null }>(
      `SELECT customer_id, version > synced_version AS dirty, synced_properties, claim_token, sync_reason
         FROM customers WHERE customer_id IN ('cus_u1', 'cus_u2') ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cus_u1', dirty: true, synced_properties: null, claim_token: null, sync_reason: 'moved' },
      { customer_id: 'cus_u2', dirty: false, synced_properties: { stripe_customer_id: 'x' }, claim_token: 'mine', sync_reason: null },
    ]);
  });
});

describe.each(dbKinds())('migration 008 on %s', (kind) => {
  it('keeps how links were made (unknown kinds as email matches on the customer’s email) and queues shared contacts for a full write', async () => {
    const target = await freshDatabase(kind);
    const db = await target.open();
    try {
      await migrate(db, loadMigrations().filter((m) => m.version < 8));
      // cus_m3 and cus_m4 share one contact; the others have one each.
      const links = [['cus_m1', 'created', 'c1'], ['cus_m2', 'conflict', 'c2'], ['cus_m3', 'email', 'c3'], ['cus_m4', 'customer_id', 'c3']] as const;
      for (const [id, how, contact] of links) {
        await db.query(
          `INSERT INTO customers (account_key, livemode, customer_id, email, status, version, synced_version, synced_properties, sync_state)
           VALUES ('', false, $1, $2, '{}', 3, 3, '{"stripe_customer_id":"x"}', 'synced')`,
          [id, `${id.toUpperCase()}@Example.com`],
        );
        await db.query(
          `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by) VALUES ('', false, $1, 1, $2, $3)`,
          [id, contact, how],
        );
      }
      await migrate(db);
      // The shared contact's customers are queued for a full write (its roll-up); the others are left alone.
      const queued = await db.query(
        `SELECT customer_id, synced_version, synced_properties IS NULL AS full, push_priority FROM customers ORDER BY customer_id`,
      );
      expect(queued.rows.map((r) => [r.customer_id, Number(r.synced_version), r.full, r.push_priority])).toEqual([
        ['cus_m1', 3, false, 'live'],
        ['cus_m2', 3, false, 'live'],
        ['cus_m3', 2, true, 'backfill'],
        ['cus_m4', 2, true, 'backfill'],
      ]);
      const { rows } = await db.query('SELECT customer_id, matched_by, matched_email FROM contact_links ORDER BY customer_id');
      expect(rows).toEqual([
        { customer_id: 'cus_m1', matched_by: 'created', matched_email: null },
        { customer_id: 'cus_m2', matched_by: 'email', matched_email: 'cus_m2@example.com' },
        { customer_id: 'cus_m3', matched_by: 'email', matched_email: 'cus_m3@example.com' },
        { customer_id: 'cus_m4', matched_by: 'customer_id', matched_email: null },
      ]);
      await expect(
        db.query(`INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by) VALUES ('', false, 'cus_x', 1, 'x', 'stored')`),
      ).rejects.toThrow(/contact_links_matched_by/);
    } finally {
      await db.close();
      await target.drop();
    }
  });
});
