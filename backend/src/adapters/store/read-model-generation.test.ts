import { openDb, writesReadModel, type Db } from './db';
import { migrate } from './migrate';

describe('writesReadModel', () => {
  it.each([
    ['INSERT INTO customers (account_key) VALUES ($1)', true],
    ['insert into "customers" select 1', true],
    ['UPDATE customers c SET status = v.status FROM unnest($1::text[]) v', true],
    ['WITH picked AS (SELECT 1) UPDATE customers SET x = 1', true],
    ['DELETE FROM contact_links WHERE portal_id = $1', true],
    ['UPDATE hubspot_installs SET disconnected_at = now()', true],
    ['TRUNCATE TABLE customers', true],
    ['SELECT status FROM customers WHERE customer_id = $1', false],
    ['SELECT * FROM contact_links FOR UPDATE', false],
    ['UPDATE stripe_events SET status = $2', false],
    ['UPDATE customers_archive SET x = 1', false],
    ['WITH next AS (SELECT id FROM pgboss.job) UPDATE pgboss.job SET state = $1', false],
  ])('%s → %s', (sql, expected) => {
    expect(writesReadModel(sql)).toBe(expected);
  });
});

describe('the embedded database’s read-model generation', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
  });
  afterAll(() => db?.close());

  it('moves on writes to the read model only, inside transactions too, and again at their end', async () => {
    const g = () => db.readModelGeneration!();
    const start = g();
    await db.query('SELECT count(*) FROM customers');
    await db.query(`UPDATE stripe_events SET status = 'x' WHERE false`);
    expect(g()).toBe(start);
    await db.query(`INSERT INTO customers (account_key, livemode, customer_id) VALUES ('', false, 'cus_gen1')`);
    expect(g()).toBe(start + 1);
    await db.transaction(async (tx) => {
      await tx.query(`UPDATE customers SET email = 'a@example.com' WHERE customer_id = 'cus_gen1'`);
    });
    expect(g()).toBe(start + 3);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`DELETE FROM contact_links WHERE false`);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(g()).toBe(start + 5);
  });

  it('is not offered where other processes write (PostgreSQL)', async () => {
    if (!process.env.DATABASE_URL) return;
    const pg = await openDb({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 });
    try {
      expect(pg.readModelGeneration).toBeUndefined();
    } finally {
      await pg.close();
    }
  });
});
