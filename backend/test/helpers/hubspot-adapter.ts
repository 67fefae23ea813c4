import type { Db } from '../../src/adapters/store/db';
import { createHubSpotAdapter, staticTokenAuth, type HubSpotAdapter, type HubSpotAdapterOptions } from '../../src/adapters/hubspot/adapter';
import type { HubSpotPortal } from '../../src/adapters/hubspot/portal';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';
import { migratedDb, type TestDatabase } from './db';

/**
 * The real HubSpot adapter against a fake HubSpot, on a migrated embedded database: opened in `beforeAll`,
 * closed in `afterAll`. `newPortal()` answers a fresh portal (its own private-app token) each call.
 */
export interface AdapterFixture {
  readonly db: Db;
  readonly fake: FakeHubSpot;
  readonly adapter: HubSpotAdapter;
  newPortal(): { portalId: number; portal: HubSpotPortal };
}

export function useHubSpotAdapter(options: Omit<HubSpotAdapterOptions, 'db' | 'apiBaseUrl'> & { firstPortal?: number } = {}): AdapterFixture {
  const { firstPortal = 7000, ...adapterOptions } = options;
  let opened: { db: Db; target: TestDatabase; fake: FakeHubSpot; adapter: HubSpotAdapter } | undefined;
  let nextPortal = firstPortal;
  beforeAll(async () => {
    const { db, target } = await migratedDb('pglite');
    const fake = await startFakeHubSpot();
    opened = { db, target, fake, adapter: createHubSpotAdapter({ db, apiBaseUrl: fake.url, ...adapterOptions }) };
  });
  afterAll(async () => {
    opened?.adapter.close();
    await opened?.fake.close();
    await opened?.db.close();
    await opened?.target.drop();
  });
  const get = () => {
    if (!opened) throw new Error('the adapter fixture is opened in beforeAll');
    return opened;
  };
  return {
    get db() {
      return get().db;
    },
    get fake() {
      return get().fake;
    },
    get adapter() {
      return get().adapter;
    },
    newPortal() {
      const portalId = ++nextPortal;
      get().fake.addPrivateAppToken(`pat-${portalId}`, portalId);
      return { portalId, portal: get().adapter.portal(staticTokenAuth(portalId, `pat-${portalId}`)) };
    },
  };
}
