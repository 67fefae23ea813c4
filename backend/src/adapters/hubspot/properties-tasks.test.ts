import { useHubSpotAdapter } from '../../../test/helpers/hubspot-adapter';
import { PermanentHubSpotError } from './errors';
import { ensurePropertyGroupAndProperties, type PropertyDefinition } from './properties';
import { createTask, TASK_TO_CONTACT_ASSOCIATION_TYPE } from './tasks';

/** Property provisioning and tasks against the fake HubSpot, through the real SDK. */

const hs = useHubSpotAdapter({ retry: { baseDelayMs: 10, maxAttempts: 2 }, firstPortal: 9000 });

const GROUP = { name: 'stripe', label: 'Stripe' };
const DEFINITIONS: PropertyDefinition[] = [
  { name: 'stripe_customer_id', label: 'Stripe customer ID', type: 'string', fieldType: 'text', hasUniqueValue: true },
  { name: 'stripe_mrr', label: 'MRR', type: 'number', fieldType: 'number', description: 'Monthly recurring revenue' },
  { name: 'stripe_customer_since', label: 'Customer since', type: 'date', fieldType: 'date' },
  {
    name: 'stripe_subscription_status',
    label: 'Subscription status',
    type: 'enumeration',
    fieldType: 'select',
    options: ['active', 'past_due', 'canceled'].map((v) => ({ label: v, value: v })),
  },
  { name: 'stripe_delinquent', label: 'Delinquent', type: 'bool', fieldType: 'booleancheckbox', options: [{ label: 'Yes', value: 'true' }, { label: 'No', value: 'false' }] },
];

describe('ensurePropertyGroupAndProperties', () => {
  it('creates the group and every property, and a second run creates nothing', async () => {
    const { portalId, portal } = hs.newPortal();
    const first = await ensurePropertyGroupAndProperties(portal, GROUP, DEFINITIONS);
    expect(first).toMatchObject({ groupCreated: true, existing: [], mismatched: [], failed: [] });
    expect(first.created).toEqual(DEFINITIONS.map((d) => d.name));
    const props = hs.fake.portal(portalId).properties;
    expect(props.get('stripe_customer_id')).toMatchObject({ hasUniqueValue: true, groupName: 'stripe', type: 'string' });
    expect(props.get('stripe_subscription_status')?.options).toHaveLength(3);
    expect(props.get('stripe_mrr')).toMatchObject({ description: 'Monthly recurring revenue' });

    const posts = () => hs.fake.requests.filter((r) => r.portalId === portalId && r.method === 'POST').length;
    const before = posts();
    const second = await ensurePropertyGroupAndProperties(portal, GROUP, DEFINITIONS);
    expect(second).toEqual({ groupCreated: false, created: [], existing: DEFINITIONS.map((d) => d.name), mismatched: [], failed: [] });
    expect(posts()).toBe(before);
  });

  it('reports a same-named property of another type, and HubSpot’s refusals, without stopping', async () => {
    const { portal } = hs.newPortal();
    await ensurePropertyGroupAndProperties(portal, GROUP, [{ name: 'stripe_mrr', label: 'MRR', type: 'string', fieldType: 'text' }]);
    const report = await ensurePropertyGroupAndProperties(portal, GROUP, [
      ...DEFINITIONS,
      { name: 'hs_reserved', label: 'Bad', type: 'string', fieldType: 'text' },
      { name: 'stripe_bad_type', label: 'Bad', type: 'number', fieldType: 'booleancheckbox' },
    ]);
    expect(report.mismatched).toEqual([{ name: 'stripe_mrr', expected: 'number/number', actual: 'string/text' }]);
    expect(report.failed.map((f) => f.name)).toEqual(['hs_reserved', 'stripe_bad_type']);
    expect(report.failed[0]!.message).toMatch(/reserved/);
    expect(report.created).toHaveLength(4);
  });
});

describe('createTask', () => {
  it('creates a task associated with the contact (type 204)', async () => {
    const { portalId, portal } = hs.newPortal();
    const contact = hs.fake.portal(portalId).addContact({ email: 'late@example.com' });
    const dueAt = new Date('2030-01-02T03:04:05.000Z');
    const { id } = await createTask(portal, contact.id, { subject: 'Payment failed', body: 'Card declined', dueAt });
    const [task] = hs.fake.portal(portalId).tasks;
    expect(task).toMatchObject({
      id,
      properties: { hs_task_subject: 'Payment failed', hs_task_body: 'Card declined', hs_timestamp: String(dueAt.getTime()), hs_task_status: 'NOT_STARTED' },
    });
    expect(task!.associations).toEqual([
      { to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TASK_TO_CONTACT_ASSOCIATION_TYPE }] },
    ]);
  });

  it('fails permanently for a contact that does not exist', async () => {
    const { portal } = hs.newPortal();
    await expect(createTask(portal, '123456789', { subject: 's', body: 'b', dueAt: new Date() })).rejects.toBeInstanceOf(
      PermanentHubSpotError,
    );
  });
});
