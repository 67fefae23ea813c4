import { createApplyProcessor } from '../../src/jobs/apply-events';
import { startBackfillRunner, type BackfillRunner } from '../../src/jobs/backfill/runner';
import { createBackfillService } from '../../src/jobs/backfill/service';
import { customerStatus } from '../../src/adapters/store/sync-store';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, type TestServer } from '../helpers/server';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { stripeEvent } from '../helpers/stripe-fixtures';
import { fakeStripeFor, silentLogger, until } from './helpers';

/**
 * Backfill and webhooks together. A page is versioned by when it was requested, so:
 * - a webhook created after the page was read is not undone when that older page is folded later;
 * - a webhook created before the read (stale) is superseded by the read.
 */
describe.each(dbKinds())('a webhook during a backfill (%s)', (kind) => {
  let server: TestServer;
  let fake: FakeStripe;
  let runner: BackfillRunner | undefined;

  beforeAll(async () => {
    fake = await startFakeStripe({ ratePerSecond: 10_000 });
    server = await startTestServer({ kind, queue: { pollingIntervalSeconds: 0.5 }, processor: (ctx) => createApplyProcessor({ db: ctx.db }) });
  });
  afterAll(async () => {
    await runner?.stop();
    await server?.stop();
    await fake?.close();
  });

  it('is not undone by the older page, and a stale webhook is superseded by the read', async () => {
    const ACCOUNT = 'acct_race';
    const account = fake.account(ACCOUNT, false);
    const now = Math.floor(Date.now() / 1000);
    const racing = account.addCustomer({ email: 'before@example.com', created: now - 5000 });
    const stale = account.addCustomer({ email: 'current@example.com', created: now - 4000 });
    account.addCustomer({ email: 'other@example.com', created: now - 3000 });
    const key = (customerId: unknown) => ({ account: ACCOUNT, livemode: false, customerId: String(customerId) });

    // A webhook from long ago, with an email the customer no longer has.
    const old = stripeEvent('customer.updated', { ...structuredClone(stale), email: 'old@example.com' }, { account: ACCOUNT, created: now - 3500 });
    expect((await postWebhook(server.url, old)).status).toBe(200);
    await until(async () => (await customerStatus(server.db, key(stale.id)))?.email === 'old@example.com', 'the stale webhook');

    // The customers page is computed when the request arrives and answered 3 s later.
    fake.setLatency(3000);
    runner = startBackfillRunner({ db: server.db, logger: silentLogger, stripeFor: fakeStripeFor(fake), pollMs: 50, ratePerSecond: { test: 1000 } });
    const service = createBackfillService({ db: server.db, wake: runner.wake, hasKey: () => true });
    await service.start(ACCOUNT, false);
    await until(() => fake.requests.some((r) => r.account === ACCOUNT && r.path === '/v1/customers'), 'the customers page request', 10_000, 10);

    // Meanwhile the customer changes at Stripe and its webhook (created after the read began) is applied.
    racing.email = 'after@example.com';
    const update = stripeEvent('customer.updated', structuredClone(racing), {
      account: ACCOUNT,
      created: Math.floor(Date.now() / 1000) + 1,
      previousAttributes: { email: 'before@example.com' },
    });
    expect((await postWebhook(server.url, update)).status).toBe(200);
    await until(async () => (await customerStatus(server.db, key(racing.id)))?.email === 'after@example.com', 'the webhook', 10_000, 20);
    // The page has not landed yet: only the two customers the webhooks made exist.
    const before = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE account_key = $1`, [ACCOUNT]);
    expect(before.rows[0].n).toBe(2);

    fake.setLatency(0);
    await until(async () => (await service.progress(ACCOUNT, false))?.status === 'completed', 'the backfill', 30_000);
    expect((await customerStatus(server.db, key(racing.id)))?.email).toBe('after@example.com');
    expect((await customerStatus(server.db, key(stale.id)))?.email).toBe('current@example.com');
    const versions = await server.db.query<{ object_id: string; version_event: string }>(
      `SELECT object_id, version_event FROM stripe_objects WHERE account_key = $1 AND kind = 'customer' ORDER BY version_created`,
      [ACCOUNT],
    );
    const byId = Object.fromEntries(versions.rows.map((r) => [r.object_id, r.version_event]));
    expect(byId[racing.id as string]).toBe(update.id);
    expect(byId[stale.id as string]).toMatch(/^backfill_bf_/);
    expect(versions.rows).toHaveLength(3);
  });
});
