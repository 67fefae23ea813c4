import { completenessPlugin, type CompletenessHandle } from '../../src/jobs/backfill/plugin';
import { startBackfillRunner, type BackfillRunner } from '../../src/jobs/backfill/runner';
import { desiredProperties } from '../../src/domain/sync/contact-write';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { PLATFORM_ACCOUNT, seedAccount, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { differences, expectedStatuses, fakeStripeFor, silentLogger, storedReadTimes, storedStatuses, until } from './helpers';

/**
 * The whole product: the merchant starts a backfill from the Stripe App; the runner is killed in the middle and
 * another one resumes it; every customer ends up as exactly one HubSpot contact with the right properties —
 * contacts that already existed (same email) are linked, not duplicated.
 */
const N = 300;
const OWN_ACCOUNT = 'acct_selfhosted';

describe.each(dbKinds())('backfill to HubSpot end to end (%s)', (kind) => {
  let fake: FakeStripe;
  let h: SyncHarness;
  let handle: CompletenessHandle | undefined;
  let second: BackfillRunner | undefined;
  let kill: (() => void) | null = null;
  const killed = new Promise<void>((resolve) => (kill = resolve));

  beforeAll(async () => {
    fake = await startFakeStripe({ ratePerSecond: 100_000 });
    seedAccount(fake.account(PLATFORM_ACCOUNT, false), N);
    h = await startSyncHarness({
      kind,
      hubspot: { burstLimit: 5000 },
      env: {
        STRIPE_API_KEY: 'sk_test_fake',
        STRIPE_API_BASE_URL: fake.url,
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: OWN_ACCOUNT,
        HUBSPOT_RATE_LIMIT_PER_10S: '4000',
      },
      engine: {
        plugins: [
          completenessPlugin({
            runner: {
              owner: 'instance-a',
              leaseSeconds: 2,
              pollMs: 100,
              ratePerSecond: { test: 1000 },
              onCheckpoint: (c) => c.phase === 'invoices' && kill?.(),
            },
            recovery: { tickMs: 3_600_000 },
            expose: (x) => (handle = x),
          }),
        ],
      },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await h?.stop();
    await fake?.close();
  });

  // Folds a few thousand Stripe objects (part of them twice, the runner is killed midway): ~9 s alone, several
  // times that on a CI machine running two suites at once; its waits allow 120 s each.
  it('gives every customer exactly one correct contact after a crash and a resume', async () => {
    // Ten customers already have a contact (another tool created them).
    const portal = h.hubspot.portal(h.portalId);
    for (let i = 0; i < 10; i++) portal.addContact({ email: `c${i * 7}@example.com`, firstname: `Existing ${i}` });

    const caller = { accountId: OWN_ACCOUNT };
    const started = await appRequest(h.server.url, 'POST', '/backfill', caller, { mode: 'test' });
    expect(started.status).toBe(200);
    expect(started.body.backfill).toMatchObject({ status: 'running', phase: 'customers' });

    await killed;
    await handle!.runner.kill();
    second = startBackfillRunner({ db: h.server.db, logger: silentLogger, stripeFor: fakeStripeFor(fake), owner: 'instance-b', pollMs: 100, ratePerSecond: { test: 1000 } });
    const done = await until(async () => {
      const r = await appRequest(h.server.url, 'GET', '/backfill?mode=test', caller);
      return r.body.backfill?.status === 'completed' ? r.body.backfill : null;
    }, 'the backfill', 120_000, 200);
    expect(done).toMatchObject({ percent: 100, phase: 'done' });
    await h.idle(120_000);

    const account = fake.account(PLATFORM_ACCOUNT, false);
    const stored = await storedStatuses(h.server.db, '', false);
    expect(differences(expectedStatuses(account, '', false, await storedReadTimes(h.server.db, '', false)), stored)).toEqual([]);

    const contacts = h.contacts();
    expect(contacts).toHaveLength(N);
    const byCustomer = new Map<string, number>();
    for (const c of contacts) byCustomer.set(c.properties.stripe_customer_id, (byCustomer.get(c.properties.stripe_customer_id) ?? 0) + 1);
    expect([...byCustomer.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(contacts.map((c) => c.properties.email)).size).toBe(N);
    const settings = defaultSettings();
    const wrong = [...stored].filter(([customerId, status]) => {
      const contact = h.contactOf(customerId);
      if (!contact) return true;
      // An empty value is an unset property.
      return Object.entries(desiredProperties(status, settings)).some(([k, v]) => (contact.properties[k] ?? '') !== v);
    });
    expect(wrong.map(([id]) => id)).toEqual([]);
    // The contacts that existed were linked by email and kept their own data.
    expect(portal.contactByEmail('c7@example.com')?.properties.firstname).toBe('Existing 1');
    const links = await h.server.db.query<{ matched_by: string; n: number }>(
      `SELECT matched_by, count(*)::int AS n FROM contact_links GROUP BY matched_by ORDER BY matched_by`,
    );
    expect(links.rows).toEqual([
      { matched_by: 'created', n: N - 10 },
      { matched_by: 'email', n: 10 },
    ]);
  }, 240_000);
});
