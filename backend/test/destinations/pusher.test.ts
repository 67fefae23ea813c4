import pino from 'pino';
import { defaultDestinationSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../../src/adapters/store/db';
import { createDbRatePacer } from '../../src/adapters/destinations/rate-pacer';
import { createLoopsAdapter } from '../../src/adapters/loops/adapter';
import { customerDestinationStates, insertDestination, destinationById } from '../../src/adapters/store/destinations-store';
import { startDestinationPusher, type DestinationPusher, type DestinationPusherOptions } from '../../src/jobs/destinations/push';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { waitFor } from '../helpers/server';
import { startFakeLoops, type FakeLoops } from '../fakes/loops/server';
import { createSalesforceAdapter } from '../../src/adapters/salesforce/adapter';
import { insertEvents, loadEvents } from '../../src/adapters/store/inbox';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { startFakeSalesforce, type FakeSalesforce } from '../fakes/salesforce/server';

/**
 * The destination pusher on its own (a real database, the real Loops adapter, the fake Loops over HTTP): it keeps
 * writing while the apply step wakes it without pause, and a refused key stops only that destination's writes,
 * leaving its customers unleased and counted against nothing. Salesforce (the real adapter, the fake Salesforce):
 * its Accounts and Opportunities come from the records the apply step folded, so a late event never moves an
 * Opportunity back; only a destination that asks for them has the records read.
 */

/** A Db that notes every statement run through it (the real database underneath). */
function recording(db: Db): { db: Db; statements: string[] } {
  const statements: string[] = [];
  const proxy = new Proxy(db, {
    get(target, key) {
      if (key === 'query') {
        return (sql: string, params?: unknown[]) => {
          statements.push(sql);
          return target.query(sql, params);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: proxy, statements };
}
/** The read of a pass's records (`recordsForCustomers`): every record of the customers. */
const READS_RECORDS = /FROM stripe_objects o\s+JOIN unnest/;

const status = (customerId: string): CustomerStatus => ({
  accountId: '',
  livemode: false,
  customerId,
  email: `${customerId}@example.com`,
  name: 'Ada Lovelace',
  currency: 'usd',
  customerSince: 1_700_000_000,
  subscription: null,
  lastPayment: null,
  lastFailureReason: null,
  failedPaymentCount: 0,
  openInvoiceCount: 0,
  openAmountDue: 0,
  lifetimeValue: 0,
  totalRefunded: 0,
  disputedAmount: 0,
  nextInvoiceAmount: null,
  delinquent: false,
  deleted: false,
  dashboardUrl: `https://dashboard.stripe.com/test/customers/${customerId}`,
  updatedAt: '2026-12-05T00:00:00.000Z',
  lastSyncedAt: null,
});

/** Only the customer id and the subscription status: two properties to create in Loops, not every field. */
function fewFields() {
  const settings = defaultDestinationSettings('loops');
  for (const f of Object.values(settings.fields)) f.enabled = false;
  settings.fields.customerId.enabled = true;
  settings.fields.subscriptionStatus.enabled = true;
  return settings;
}

describe.each(dbKinds())('destination pusher on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let loops: FakeLoops;
  let pusher: DestinationPusher | undefined;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    loops = await startFakeLoops();
    await insertDestination(db, {
      id: 'dst_000000000000000000000001',
      account: '',
      livemode: false,
      kind: 'loops',
      label: 'Loops',
      keySealed: 'unused: the test makes the adapter',
      keyHint: '••••',
      settings: fewFields(),
    });
  });
  afterEach(async () => {
    await pusher?.stop();
    pusher = undefined;
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
    await loops?.close();
  });

  const shared = () => createDbRatePacer(db);
  const start = (options: Partial<DestinationPusherOptions> = {}) =>
    startDestinationPusher({
      db,
      logger: pino({ level: 'silent' }),
      adapterFor: () => createLoopsAdapter({ apiKey: loops.apiKey, baseUrl: loops.url, pacer: shared() }),
      pollMs: 60_000,
      settleMs: 200,
      retry: { baseMs: 50, maxMs: 200 },
      ...options,
    });

  /** A pusher that waits on `busy` (at most `yieldMaxMs` per pass), with no settle time. */
  const startYielding = (busy: () => boolean, yieldMaxMs: number) => start({ settleMs: 0, yieldTo: { busy }, yieldMaxMs });

  async function changeCustomer(customerId: string): Promise<void> {
    await db.query(
      `INSERT INTO customers (account_key, livemode, customer_id, email, status, version, dirty_since)
       VALUES ('', false, $1, $2, $3::jsonb, 1, now())
       ON CONFLICT (account_key, livemode, customer_id) DO UPDATE SET status = EXCLUDED.status, version = customers.version + 1, dirty_since = now()`,
      [customerId, `${customerId}@example.com`, JSON.stringify(status(customerId))],
    );
  }

  it('writes while it is woken without pause (a stream of applied changes never postpones its pass)', async () => {
    await changeCustomer('cus_stream');
    pusher = start();
    const startedAt = Date.now();
    // The apply step wakes the pusher on every applied batch: here every 20 ms, for up to 15 s (a wake that postponed
    // the pass would hold it back for as long as the stream lasts).
    while (!loops.controls.contact({ userId: 'cus_stream' }) && Date.now() - startedAt < 15_000) {
      pusher.wake();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(loops.controls.contact({ userId: 'cus_stream' })?.properties).toMatchObject({ stripeCustomerId: 'cus_stream' });
  });

  it('waits while foreground work is busy (events to apply, a flood to acknowledge), and writes once it is quiet', async () => {
    let busy = true;
    await changeCustomer('cus_yield');
    pusher = startYielding(() => busy, 30_000);
    pusher.wake();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(loops.controls.contact({ userId: 'cus_yield' })).toBeUndefined();
    busy = false;
    await waitFor(() => loops.controls.contact({ userId: 'cus_yield' }) !== undefined, { what: 'the contact written once quiet', timeoutMs: 10_000 });
  });

  it('waits at most yieldMaxMs per pass: a backlog that never ends still lets it write', async () => {
    await changeCustomer('cus_yield_capped');
    const startedAt = Date.now();
    pusher = startYielding(() => true, 400);
    pusher.wake();
    await waitFor(() => loops.controls.contact({ userId: 'cus_yield_capped' }) !== undefined, { what: 'the contact written despite the backlog', timeoutMs: 10_000 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
  });

  it('a customer with no email is not written to Loops (its contacts need one), and says so; its email later is', async () => {
    await db.query(
      `INSERT INTO customers (account_key, livemode, customer_id, email, status, version, dirty_since)
       VALUES ('', false, 'cus_noemail', NULL, $1::jsonb, 1, now() - interval '1 second')`,
      [JSON.stringify({ ...status('cus_noemail'), email: null })],
    );
    pusher = start();
    await pusher.drain();
    const [state] = await customerDestinationStates(db, '', false, 'cus_noemail');
    expect(state).toMatchObject({ state: 'not_synced', message: 'the customer has no email, and Loops contacts need one' });
    expect(loops.controls.contact({ userId: 'cus_noemail' })).toBeUndefined();
    await changeCustomer('cus_noemail');
    await db.query(`UPDATE customers SET dirty_since = now() - interval '1 second' WHERE customer_id = 'cus_noemail'`);
    // Drained until written: the tests before this one share Loops' 10-per-second budget, so this write may be
    // paced (or answered 429 and retried) rather than sent in the first drain.
    const p = pusher;
    await waitFor(
      async () => {
        await p.drain();
        return loops.controls.contact({ userId: 'cus_noemail' }) !== undefined;
      },
      { what: 'the contact written once it has an email', timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(loops.controls.contact({ userId: 'cus_noemail' })?.email).toBe('cus_noemail@example.com');
    expect((await customerDestinationStates(db, '', false, 'cus_noemail'))[0]).toMatchObject({ state: 'synced', message: null });
  });

  it('a Loops pass reads no records (only adapters that ask for subscriptions or companies have them read)', async () => {
    await changeCustomer('cus_norecords');
    await db.query(`UPDATE customers SET dirty_since = now() - interval '1 second' WHERE customer_id = 'cus_norecords'`);
    const spy = recording(db);
    pusher = startDestinationPusher({
      db: spy.db,
      logger: pino({ level: 'silent' }),
      adapterFor: () => createLoopsAdapter({ apiKey: loops.apiKey, baseUrl: loops.url, pacer: shared() }),
      pollMs: 60_000,
      settleMs: 200,
    });
    await pusher.drain();
    expect(loops.controls.contact({ userId: 'cus_norecords' })).toBeDefined();
    expect(spy.statements.length).toBeGreaterThan(0);
    expect(spy.statements.filter((q) => READS_RECORDS.test(q))).toEqual([]);
  });

  it('a refused key marks the destination broken and leaves its customers unleased, with no attempt counted', async () => {
    await changeCustomer('cus_refused');
    loops.controls.revokeKey();
    await new Promise((r) => setTimeout(r, 300)); // settled
    pusher = start();
    await pusher.drain();
    const d = await destinationById(db, 'dst_000000000000000000000001');
    expect(d?.health.state).toBe('broken');
    const { rows } = await db.query<{ claimed_until: unknown; attempts: number; dead_at: unknown }>(
      `SELECT claimed_until, attempts, dead_at FROM destination_customers WHERE customer_id = 'cus_refused'`,
    );
    expect(rows).toEqual([{ claimed_until: null, attempts: 0, dead_at: null }]);
  });
});

describe.each(dbKinds())('destination pusher to Salesforce on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let sf: FakeSalesforce;
  let pusher: DestinationPusher | undefined;
  const DESTINATION = 'dst_000000000000000000000002';

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    const settings = defaultDestinationSettings('salesforce');
    for (const f of Object.values(settings.fields)) f.enabled = false;
    settings.fields.customerId.enabled = true;
    settings.fields.subscriptionStatus.enabled = true;
    settings.events = [];
    await insertDestination(db, {
      id: DESTINATION,
      account: '',
      livemode: false,
      kind: 'salesforce',
      label: 'Salesforce',
      keySealed: 'unused: the test makes the adapter',
      keyHint: '••••',
      settings,
      authKind: 'oauth',
    });
  });
  beforeEach(async () => {
    sf = await startFakeSalesforce();
    sf.controls.addField('Contact', { name: settingsProperty(), length: 40 });
  });
  afterEach(async () => {
    await pusher?.stop();
    pusher = undefined;
    await sf.close();
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  function settingsProperty() {
    return defaultDestinationSettings('salesforce').fields.subscriptionStatus.property;
  }

  const start = (on: Db = db) =>
    startDestinationPusher({
      db: on,
      logger: pino({ level: 'silent' }),
      adapterFor: () => createSalesforceAdapter({ apiKey: sf.accessToken, baseUrl: sf.url, pacer: createDbRatePacer(db) }),
      pollMs: 60_000,
      settleMs: 0,
      retry: { baseMs: 50, maxMs: 200 },
    });
  /** Stores and applies events as the worker does (the fold keeps each record's latest version). */
  async function apply(events: Record<string, unknown>[]): Promise<void> {
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
    await createApplyProcessor({ db }).process(await loadEvents(db, events.map((e) => e.id as string)));
  }
  const sub = (id: string, cus: string, status: string, over: Record<string, unknown> = {}) =>
    stripeObject('subscription', { id, customer: cus, status, created: 1_770_000_000, trial_end: null, ended_at: null, ...over });

  it('an Account and an Opportunity from the folded records: a cancel closes it lost, and a late `active` never moves it back', async () => {
    const cus = randomId('cus');
    const sid = randomId('sub');
    const t = 1_770_000_000;
    await apply([
      stripeEvent('customer.created', stripeObject('customer', { id: cus, email: 'ada@acme-industries.example', name: 'Ada Lovelace', business_name: 'Acme Industries' }), { created: t }),
      stripeEvent('customer.subscription.created', sub(sid, cus, 'active'), { created: t + 1 }),
    ]);
    const spy = recording(db);
    pusher = start(spy.db);
    await pusher.drain();
    expect(spy.statements.filter((q) => READS_RECORDS.test(q))).toHaveLength(1);
    const [account] = sf.controls.find('Account', 'Stripe_Customer_Id__c', cus);
    expect(account).toMatchObject({ Name: 'Acme Industries', Website: 'acme-industries.example' });
    const [contact] = sf.controls.find('Contact', 'Stripe_Customer_Id__c', cus);
    expect(contact).toMatchObject({ AccountId: account!.Id, LastName: 'Lovelace' });
    const [won] = sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', sid);
    expect(won).toMatchObject({ StageName: 'Closed Won', AccountId: account!.Id, ContactId: contact!.Id, CloseDate: '2026-02-02' });
    expect(won!.Name).toMatch(/– Ada Lovelace$/);
    expect(typeof won!.Amount).toBe('number');

    await apply([stripeEvent('customer.subscription.deleted', sub(sid, cus, 'canceled', { ended_at: t + 86_400 * 3 }), { created: t + 3 })]);
    await pusher.drain();
    // Delivered last, happened before the cancel: superseded in the records, so nothing moves.
    await apply([stripeEvent('customer.subscription.updated', sub(sid, cus, 'active'), { created: t + 2 })]);
    await db.query(`UPDATE customers SET version = version + 1, dirty_since = now() WHERE customer_id = $1`, [cus]);
    await pusher.drain();
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', sid)).toEqual([expect.objectContaining({ Id: won!.Id, StageName: 'Closed Lost', CloseDate: '2026-02-05' })]);
    expect((await customerDestinationStates(db, '', false, cus)).find((s) => s.destinationId === DESTINATION)).toMatchObject({ state: 'synced' });
  });

  it('an Opportunity Salesforce refuses (several hold the subscription id) dead-letters its customer with the reason', async () => {
    sf.controls.addField('Opportunity', { name: 'Stripe_Subscription_Id__c', externalId: true, unique: false });
    const cus = randomId('cus');
    const sid = randomId('sub');
    sf.controls.insert('Opportunity', { Name: 'Imported 1', Stripe_Subscription_Id__c: sid });
    sf.controls.insert('Opportunity', { Name: 'Imported 2', Stripe_Subscription_Id__c: sid });
    await apply([
      stripeEvent('customer.created', stripeObject('customer', { id: cus, email: `${cus}@gmail.com`, name: 'Grace Hopper', business_name: null }), { created: 1_770_010_000 }),
      stripeEvent('customer.subscription.created', sub(sid, cus, 'active'), { created: 1_770_010_001 }),
    ]);
    pusher = start();
    await pusher.drain();
    expect(sf.controls.find('Account', 'Stripe_Customer_Id__c', cus)).toEqual([]); // free mail, no business name: no Account
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', cus)).toHaveLength(1);
    const state = (await customerDestinationStates(db, '', false, cus)).find((s) => s.destinationId === DESTINATION);
    expect(state).toMatchObject({ state: 'failed', message: expect.stringContaining(`DUPLICATE_EXTERNAL_ID`) });
    expect(state!.message).toContain(`several Opportunity records hold Stripe_Subscription_Id__c = ${sid}`);
  });
});
