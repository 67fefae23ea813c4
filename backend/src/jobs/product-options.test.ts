import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { dbKinds, migratedDb, type TestDatabase } from '../../test/helpers/db';
import { stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import type { Db } from '../adapters/store/db';
import { accountProducts } from '../adapters/store/products-bought';
import { mapEvent } from '../domain/events';
import type { ObjectRecord } from '../domain/records';
import { applyCustomerRecords } from './apply-events';
import { productOptionsFor, withProductOptions } from './product-options';
import { startFakeHubSpot } from '../../test/fakes/hubspot/server';
import { createHubSpotAdapter, staticTokenAuth } from '../adapters/hubspot/adapter';
import { hubspotGateway } from '../adapters/hubspot/gateway';
import { propertyDefinitions } from '../domain/properties';

/** The products of an account (read from its customers' read models) and the pass-level cache over them. */


function checkout(customer: string, id: string, product: string, name: string | null, created: number): ObjectRecord[] {
  const item = stripeObject('item', { description: name, price: stripeObject('price', { product }) });
  const event = stripeEvent(
    'checkout.session.completed',
    stripeObject('checkout.session', { id, customer, payment_status: 'paid', line_items: { object: 'list', data: [item] } }),
    { id: `evt_${id}`, created },
  );
  const out = mapEvent(event);
  if ('skip' in out) throw new Error(out.skip);
  return out.records;
}

async function buy(db: Db, account: string, customer: string, records: ObjectRecord[]): Promise<void> {
  await applyCustomerRecords(db, { account, livemode: false, customerId: customer }, [{ eventId: null, records }]);
}

async function statusOf(db: Db, account: string, customer: string): Promise<CustomerStatus> {
  const { rows } = await db.query<{ status: CustomerStatus }>(
    'SELECT status FROM customers WHERE account_key = $1 AND livemode = false AND customer_id = $2',
    [account, customer],
  );
  return rows[0]!.status;
}

describe.each(dbKinds())('products of an account on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db.close();
    await target.drop();
  });

  it('lists every product the account’s customers bought, once, with the newest name, and nothing of other accounts', async () => {
    await buy(db, 'acct_p', 'cus_1', [...checkout('cus_1', 'cs_1', 'prod_b', 'Backup', 100), ...checkout('cus_1', 'cs_2', 'prod_a', 'Old name', 200)]);
    await buy(db, 'acct_p', 'cus_2', checkout('cus_2', 'cs_3', 'prod_a', 'New name', 300));
    await buy(db, 'acct_p', 'cus_3', checkout('cus_3', 'cs_4', 'prod_c', null, 400));
    await buy(db, 'acct_other', 'cus_9', checkout('cus_9', 'cs_9', 'prod_z', 'Elsewhere', 500));
    await db.query(`INSERT INTO customers (account_key, livemode, customer_id, status) VALUES ('acct_p', false, 'cus_old', '{"customerId":"cus_old"}')`);
    expect(await accountProducts(db, 'acct_p', false)).toEqual([
      { id: 'prod_a', name: 'New name', namedAt: 300 },
      { id: 'prod_b', name: 'Backup', namedAt: 100 },
      { id: 'prod_c', name: null },
    ]);
    expect(await accountProducts(db, 'acct_p', true)).toEqual([]);
  });

  it('reads them again only when a customer to write has a product or a name it does not know, or when it is old', async () => {
    const settings = defaultSettings();
    let now = 1_000_000;
    const opts = { maxAgeMs: 60_000, now: () => now };
    await buy(db, 'acct_c', 'cus_1', checkout('cus_1', 'cs_c1', 'prod_a', 'Analytics', 100));
    const ids = async (statuses: CustomerStatus[]) => (await productOptionsFor(db, settings, 'acct_c', false, statuses, opts)).map((p) => p.id);
    expect(await ids([])).toEqual(['prod_a']);

    // Another instance's customer buys prod_b: not seen while the list is fresh and this pass does not need it.
    await buy(db, 'acct_c', 'cus_2', checkout('cus_2', 'cs_c2', 'prod_b', null, 200));
    expect(await ids([await statusOf(db, 'acct_c', 'cus_1')])).toEqual(['prod_a']);
    // A customer of this pass has prod_b: read again.
    expect(await ids([await statusOf(db, 'acct_c', 'cus_2')])).toEqual(['prod_a', 'prod_b']);

    // A newer name for a known product is read again too.
    await buy(db, 'acct_c', 'cus_3', checkout('cus_3', 'cs_c3', 'prod_a', 'Analytics Pro', 300));
    const renamed = await productOptionsFor(db, settings, 'acct_c', false, [await statusOf(db, 'acct_c', 'cus_3')], opts);
    expect(renamed.find((p) => p.id === 'prod_a')?.name).toBe('Analytics Pro');

    await buy(db, 'acct_c', 'cus_4', checkout('cus_4', 'cs_c4', 'prod_c', null, 400));
    expect(await ids([])).toEqual(['prod_a', 'prod_b']);
    now += 60_000;
    expect(await ids([])).toEqual(['prod_a', 'prod_b', 'prod_c']);

    const off = defaultSettings();
    off.fields.productsBought = { ...off.fields.productsBought, enabled: false };
    expect(await productOptionsFor(db, off, 'acct_c', false, [], opts)).toEqual([]);
  });
});


describe('a pass’s gateway adds the products its writes name', () => {
  it('makes a product that was not an option yet one, named when known, before the contact is written', async () => {
    const { db, target } = await migratedDb('pglite');
    const fake = await startFakeHubSpot();
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: { baseDelayMs: 10, maxAttempts: 2 } });
    try {
      fake.addPrivateAppToken('pat-77', 77);
      const inner = hubspotGateway(adapter.portal(staticTokenAuth(77, 'pat-77')));
      const settings = defaultSettings();
      const known = [{ id: 'prod_a', name: 'Analytics' }];
      await inner.ensureProperties(propertyDefinitions(settings, known));
      let rereads = 0;
      const gw = withProductOptions(inner, settings, known, async () => {
        rereads += 1;
        return [...known, { id: 'prod_b', name: 'Backup', namedAt: 10 }];
      });
      const write = (key: string, email: string, bought: string) => ({ key, properties: { email, stripe_products_bought: bought } });

      const created = await gw.create([write('cus_1', 'one@example.com', 'prod_a;prod_b'), write('cus_2', 'two@example.com', 'prod_c')]);
      expect([...created.values()].every((r) => r.ok)).toBe(true);
      const options = () => (fake.portal(77).properties.get('stripe_products_bought') as { options: { value: string; label: string }[] }).options;
      expect(options().map((o) => [o.value, o.label])).toEqual([['prod_a', 'Analytics'], ['prod_b', 'Backup'], ['prod_c', 'prod_c']]);
      expect(rereads).toBe(1);

      // Known now: no second update of the property, no second read.
      const propertyWrites = () => fake.requests.filter((r) => r.method !== 'GET' && r.path.includes('/properties/')).length;
      const patches = propertyWrites();
      const contact = [...created.values()][0]!;
      await gw.update([{ ...write('cus_1', 'one@example.com', 'prod_b;prod_c'), contactId: contact.ok ? contact.contactId : '' }]);
      expect(propertyWrites()).toBe(patches);
      expect(fake.portal(77).contacts.get(contact.ok ? contact.contactId : '')?.properties.stripe_products_bought).toBe('prod_b;prod_c');
      expect(rereads).toBe(1);

      const off = defaultSettings();
      off.fields.productsBought = { ...off.fields.productsBought, enabled: false };
      expect(withProductOptions(inner, off, [], async () => [])).toBe(inner);
    } finally {
      adapter.close();
      await fake.close();
      await db.close();
      await target.drop();
    }
  });
});
