import { startFakeHubSpot, type FakeHubSpot, type FakeHubSpotOptions, type FakeContact } from '../fakes/hubspot/server';
import { startTestServer, postWebhook, type TestServer, type TestServerOptions } from './server';
import type { DbKind } from './db';
import { syncEngineServerOptions, type SyncEngineOptions } from '../../src/sync/engine';

export const TEST_PORTAL_ID = 4242;
export const TEST_PRIVATE_APP_TOKEN = 'pat-test-private-app-token';

export interface SyncHarness {
  server: TestServer;
  hubspot: FakeHubSpot;
  portalId: number;
  /** Posts signed events in order and expects each to be acknowledged. */
  send(...events: object[]): Promise<void>;
  /** Waits until every event is settled and every customer is written (or settled as failed/skipped). */
  idle(timeoutMs?: number): Promise<void>;
  /** The portal's live (not archived) contacts. */
  contacts(): FakeContact[];
  contactOf(customerId: string): FakeContact | undefined;
  eventStatus(id: string): Promise<{ status: string; status_reason: string | null } | undefined>;
  stop(): Promise<void>;
}

export interface SyncHarnessOptions {
  kind: DbKind;
  hubspot?: FakeHubSpotOptions;
  /** Extra environment for the server. */
  env?: Record<string, string>;
  engine?: SyncEngineOptions;
  /** Use a fake HubSpot that is already running (several servers, one HubSpot). */
  sharedHubSpot?: FakeHubSpot;
  server?: Partial<TestServerOptions>;
  /** Connect the portal with a private-app token (default true); false leaves connecting to OAuth. */
  privateApp?: boolean;
}

/**
 * The whole product in one process: the backend (webhooks → queue → apply → pusher) on a fresh database, writing
 * to a fake HubSpot over real HTTP through the real @hubspot/api-client, connected with a private-app token.
 */
export async function startSyncHarness(opts: SyncHarnessOptions): Promise<SyncHarness> {
  const hubspot = opts.sharedHubSpot ?? (await startFakeHubSpot(opts.hubspot));
  hubspot.addPrivateAppToken(TEST_PRIVATE_APP_TOKEN, TEST_PORTAL_ID);
  const server = await startTestServer({
    kind: opts.kind,
    env: {
      ...(opts.privateApp === false ? {} : { HUBSPOT_ACCESS_TOKEN: TEST_PRIVATE_APP_TOKEN }),
      HUBSPOT_API_BASE_URL: hubspot.url,
      ...opts.env,
    },
    queue: { pollingIntervalSeconds: 0.5, maintenanceIntervalSeconds: 1 },
    ...syncEngineServerOptions({ pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50 }, ...opts.engine }),
    ...opts.server,
  });
  const portal = () => hubspot.portal(TEST_PORTAL_ID);
  const harness: SyncHarness = {
    server,
    hubspot,
    portalId: TEST_PORTAL_ID,
    async send(...events) {
      for (const e of events) {
        const r = await postWebhook(server.url, e);
        if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${JSON.stringify(r.body)}`);
      }
    },
    async idle(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await server.db.query<{ pending: string }>(
          `SELECT (SELECT count(*) FROM stripe_events WHERE status IN ('received', 'applied'))
                + (SELECT count(*) FROM customers WHERE version > synced_version)
                + (SELECT count(*) FROM property_resends) AS pending`,
        );
        if (Number(rows[0].pending) === 0) return;
        if (Date.now() > deadline) {
          const stuck = await server.db.query(
            `SELECT customer_id, version, synced_version, sync_state, sync_reason, attempts, next_attempt_at, claimed_until
               FROM customers WHERE version > synced_version LIMIT 5`,
          );
          throw new Error(`not idle after ${timeoutMs} ms: ${rows[0].pending} pending: ${JSON.stringify(stuck.rows)}`);
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    },
    contacts: () => [...portal().contacts.values()].filter((c) => !c.archived),
    contactOf: (customerId) => portal().contactByProperty('stripe_customer_id', customerId),
    async eventStatus(id) {
      const { rows } = await server.db.query<{ status: string; status_reason: string | null }>(
        'SELECT status, status_reason FROM stripe_events WHERE id = $1',
        [id],
      );
      return rows[0];
    },
    async stop() {
      await server.stop();
      if (!opts.sharedHubSpot) await hubspot.close();
    },
  };
  return harness;
}
