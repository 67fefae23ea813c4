import { Client } from 'pg';
import { startServer, type RunningServer } from '../../src/server';
import { syncEngineServerOptions } from '../../src/sync/engine';
import { createLogger } from '../../src/logger';
import { READ_MODEL_TABLES } from '../../src/adapters/store/db';
import { committedReadModelGeneration } from '../../src/adapters/store/read-model-generation';
import { migratedDb } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { waitFor } from '../helpers/server';
import { CARD_ENV, CARD_SECRET, cardCall } from './card-client';
import { customerStory, T0 } from './card-seed';

/**
 * The card's kept answers on PostgreSQL, where several instances share one database: a change applied through one
 * instance (or by anything else that writes the database) is answered by the next card request on another, however
 * often that one answered the contact before. Instance A is the sync harness; instance B is a second server on the
 * same database and the same fake HubSpot.
 */

const OTHER_ACCOUNT = 'acct_cardinstances';
const OTHER_PORTAL = 6161;
if (process.env.DATABASE_URL) describe('card answers across instances on one PostgreSQL', () => {
  let a: SyncHarness;
  let b: RunningServer;
  let sql: Client;
  const contactOf = (customerId: string, portal = TEST_PORTAL_ID) =>
    a.hubspot.portal(portal).contactByProperty('stripe_customer_id', customerId)?.id ?? '';
  const onB = (portalId: number, contactId: string) => cardCall(b.url, '/status', { portalId, contactId });

  beforeAll(async () => {
    a = await startSyncHarness({ kind: 'postgres', hubspot: { clientSecret: CARD_SECRET }, env: { ...CARD_ENV, STRIPE_APP_SECRET: TEST_APP_SECRET } });
    await connectHubSpot(a.server.url, a.hubspot, { caller: { accountId: OTHER_ACCOUNT }, mode: 'test', portalId: OTHER_PORTAL });
    await a.send(...customerStory('cus_instances', 'instances@example.com'), ...customerStory('cus_instoauth', 'oauth@example.com', { account: OTHER_ACCOUNT }));
    await a.idle();
    b = await startServer({ ...a.server.config, port: 0 }, { ...syncEngineServerOptions(), logger: createLogger({ level: 'silent' }) });
    sql = new Client({ connectionString: a.server.database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await b?.close();
    await a?.stop();
  });

  it('answers on one instance a change applied through the other, at the next request', async () => {
    const contactId = contactOf('cus_instances');
    for (let i = 0; i < 3; i++) expect((await onB(TEST_PORTAL_ID, contactId)).body.customers[0].name).toBe('Name of cus_instances');
    const renamed = stripeObject('customer', { id: 'cus_instances', email: 'instances@example.com', name: 'Renamed on A', created: T0, currency: 'usd', delinquent: false });
    await a.send(stripeEvent('customer.updated', renamed, { created: T0 + 40 * 86_400 }));
    // Applied: the read model holds it (whichever instance's worker applied it).
    await waitFor(async () => (await a.server.db.query<{ n: string }>(`SELECT status->>'name' AS n FROM customers WHERE customer_id = 'cus_instances'`)).rows[0]?.n === 'Renamed on A', {
      what: 'the rename to be applied',
    });
    // No waiting on B: its next answer has it.
    expect((await onB(TEST_PORTAL_ID, contactId)).body.customers[0].name).toBe('Renamed on A');
    await a.idle();
  });

  it('answers what any writer of the database committed, even a change made outside the product', async () => {
    const contactId = contactOf('cus_instances');
    // Many requests at once keep B's shared generation reads busy; each answer after the commit must have it.
    await Promise.all(Array.from({ length: 10 }, () => onB(TEST_PORTAL_ID, contactId)));
    for (const name of ['Edited 1', 'Edited 2', 'Edited 3']) {
      await sql.query(`UPDATE customers SET status = jsonb_set(status, '{name}', to_jsonb($1::text)) WHERE customer_id = 'cus_instances'`, [name]);
      const answers = await Promise.all(Array.from({ length: 10 }, () => onB(TEST_PORTAL_ID, contactId)));
      expect(answers.map((r) => r.body.customers[0].name)).toEqual(Array(10).fill(name));
    }
  });

  it('stops answering a portal on B the moment its account disconnects through A', async () => {
    const contactId = contactOf('cus_instoauth', OTHER_PORTAL);
    expect(contactId).not.toBe('');
    for (let i = 0; i < 2; i++) expect((await onB(OTHER_PORTAL, contactId)).body.state).toBe('linked');
    const off = await appRequest(a.server.url, 'DELETE', '/hubspot/connection?mode=test', { accountId: OTHER_ACCOUNT });
    expect(off.body).toEqual({ disconnected: true });
    expect((await onB(OTHER_PORTAL, contactId)).body).toMatchObject({ state: 'not_linked', reason: 'no_install' });
  });
});

if (process.env.DATABASE_URL) describe('the read model generation on PostgreSQL', () => {
  it('moves at the commit of every transaction that writes a read-model table, once, and never for a rollback', async () => {
    const { db, target } = await migratedDb('postgres');
    try {
      const { rows } = await db.query<{ table: string }>(
        `SELECT DISTINCT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'read_model_generation'`,
      );
      expect(rows.map((r) => r.table).sort()).toEqual([...READ_MODEL_TABLES].sort());
      const g = async () => BigInt(await committedReadModelGeneration(db));
      const before = await g();
      await db.transaction(async (tx) => {
        for (let i = 0; i < 3; i++) {
          await tx.query(`INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by) VALUES ('', false, $1, 1, $2, 'created')`, [`cus_g${i}`, String(i)]);
        }
        // Not before the commit: a reader in between sees the old generation with the old rows.
        expect(await g()).toBe(before);
      });
      expect(await g()).toBe(before + 1n);
      await db
        .transaction(async (tx) => {
          await tx.query(`DELETE FROM contact_links`);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await g()).toBe(before + 1n);
      await db.query(`DELETE FROM contact_links`);
      await db.query(`TRUNCATE contact_links`);
      expect(await g()).toBe(before + 3n);
    } finally {
      await db.close();
      await target.drop();
    }
  });
});

describe('the read model generation on the embedded database', () => {
  it('is counted in the process (the only writer): no triggers, the table stays at zero', async () => {
    const { db, target } = await migratedDb('pglite');
    try {
      const { rows } = await db.query(`SELECT 1 FROM pg_trigger WHERE tgname LIKE 'read_model_generation%'`);
      expect(rows).toEqual([]);
      const before = db.readModelGeneration!();
      await db.query(`INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by) VALUES ('', false, 'cus_e', 1, '1', 'created')`);
      expect(db.readModelGeneration!()).toBe(before + 1);
      expect(await committedReadModelGeneration(db)).toBe('0');
    } finally {
      await db.close();
      await target.drop();
    }
  });
});
