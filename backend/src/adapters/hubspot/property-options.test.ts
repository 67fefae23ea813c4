import { useHubSpotAdapter } from '../../../test/helpers/hubspot-adapter';
import { completedOptions, ensurePropertyGroupAndProperties, type PropertyDefinition } from './properties';

/**
 * A multi-select whose options follow the merchant's products: existing options are completed through HubSpot's
 * PATCH (which replaces the whole list), never dropped — against the fake HubSpot, through the real SDK.
 */

const hs = useHubSpotAdapter({ retry: { baseDelayMs: 10, maxAttempts: 2 }, firstPortal: 9500 });

const GROUP = { name: 'stripe', label: 'Stripe' };
const products = (...options: [string, string][]): PropertyDefinition => ({
  name: 'stripe_products_bought',
  label: 'Products bought',
  type: 'enumeration',
  fieldType: 'checkbox',
  options: options.map(([value, label], i) => ({ label, value, displayOrder: i, hidden: false })),
});

describe('completedOptions', () => {
  const theirs = [
    { label: 'Analytics', value: 'prod_A', displayOrder: 0, hidden: false },
    { label: 'Set up by hand', value: 'manual', displayOrder: 5, hidden: true },
  ];

  it('is null when every option is there under its label', () => {
    expect(completedOptions([{ label: 'Analytics', value: 'prod_A' }], theirs)).toBeNull();
    expect(completedOptions([], theirs)).toBeNull();
  });

  it('keeps every existing option as it is, appends the missing ones after them, and relabels renamed products', () => {
    expect(completedOptions([{ label: 'Analytics Pro', value: 'prod_A' }, { label: 'Backup', value: 'prod_B' }], theirs)).toEqual([
      { label: 'Analytics Pro', value: 'prod_A', displayOrder: 0, hidden: false },
      { label: 'Set up by hand', value: 'manual', displayOrder: 5, hidden: true },
      { label: 'Backup', value: 'prod_B', displayOrder: 6, hidden: false },
    ]);
  });

  it('keeps HubSpot’s label when ours is only the value (the product’s name is not known)', () => {
    expect(completedOptions([{ label: 'prod_A', value: 'prod_A' }], theirs)).toBeNull();
  });
});

describe('ensurePropertyGroupAndProperties: options of an existing multi-select', () => {
  it('adds new products to the property, keeps those HubSpot has, and then accepts a value naming them all', async () => {
    const { portalId, portal } = hs.newPortal();
    const first = await ensurePropertyGroupAndProperties(portal, GROUP, [products(['prod_A', 'Analytics'])]);
    expect(first.created).toEqual(['stripe_products_bought']);
    expect(first).not.toHaveProperty('optionsUpdated');
    const props = () => hs.fake.portal(portalId).properties.get('stripe_products_bought') as { options: { value: string; label: string; hidden: boolean }[] };

    // A HubSpot user adds an option of their own and hides ours.
    const options = [{ label: 'Analytics', value: 'prod_A', displayOrder: 0, hidden: true }, { label: 'Manual', value: 'manual', displayOrder: 1, hidden: false }];
    await portal.call('crm', 'properties.update', (c, sdk) => c.crm.properties.coreApi.update('contacts', 'stripe_products_bought', { options }, sdk));

    const second = await ensurePropertyGroupAndProperties(portal, GROUP, [products(['prod_B', 'Backup'], ['prod_C', 'prod_C'])]);
    expect(second).toMatchObject({ created: [], existing: ['stripe_products_bought'], failed: [], optionsUpdated: ['stripe_products_bought'] });
    expect(props().options.map((o) => [o.value, o.label, o.hidden])).toEqual([
      ['prod_A', 'Analytics', true],
      ['manual', 'Manual', false],
      ['prod_B', 'Backup', false],
      ['prod_C', 'prod_C', false],
    ]);

    // Nothing new: no write at all.
    const patches = () => hs.fake.requests.filter((r) => r.portalId === portalId && r.method === 'PATCH').length;
    const before = patches();
    const third = await ensurePropertyGroupAndProperties(portal, GROUP, [products(['prod_B', 'Backup'])]);
    expect(third).not.toHaveProperty('optionsUpdated');
    expect(patches()).toBe(before);

    // A rename in Stripe relabels the option, its value (and the lists built on it) unchanged.
    await ensurePropertyGroupAndProperties(portal, GROUP, [products(['prod_C', 'Cloud storage'])]);
    expect(props().options.find((o) => o.value === 'prod_C')?.label).toBe('Cloud storage');

    const created = await portal.call('crm', 'contacts.create', (c, sdk) =>
      c.crm.contacts.basicApi.create({ properties: { email: 'multi@example.com', stripe_products_bought: 'prod_A;prod_B;prod_C' }, associations: [] }, sdk),
    );
    expect(created.properties.stripe_products_bought).toBe('prod_A;prod_B;prod_C');
  });
});
