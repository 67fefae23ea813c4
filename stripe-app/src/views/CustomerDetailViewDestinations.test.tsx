jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
}));

import { Badge, Box } from '@stripe/ui-extension-sdk/ui';
import type { CustomerDestinationState } from '../data/contracts';
import { installFakeBackend, ok, type FakeBackend } from '../../test/fakeBackend';
import { customerResponse, viewProps } from '../../test/fixtures';
import { hasText, renderView, unmountAll } from '../../test/render';
import { CustomerDetailView } from './CustomerDetailView';

let backend: FakeBackend;

beforeEach(() => {
  backend = installFakeBackend({ 'GET /customers/cus_A': ok(customerResponse()) });
});

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function loaded() {
  const view = renderView(<CustomerDetailView {...viewProps({ objectId: 'cus_A' })} />);
  await view.settle();
  return view;
}

const STATES: CustomerDestinationState[] = [
  {
    destinationId: 'dst_klaviyo',
    kind: 'klaviyo',
    label: 'Acme (Klaviyo)',
    state: 'synced',
    externalId: '01HV8K3Z',
    lastSyncedAt: '2024-05-02T08:00:00.000Z',
    message: null,
  },
  {
    destinationId: 'dst_loops',
    kind: 'loops',
    label: 'Acme team',
    state: 'failed',
    externalId: null,
    lastSyncedAt: '2024-05-01T07:15:00.000Z',
    message: 'Loops refused the contact: invalid email address',
  },
  {
    destinationId: 'dst_other',
    kind: 'klaviyo',
    label: 'Klaviyo',
    state: 'pending',
    externalId: null,
    lastSyncedAt: null,
    message: 'Waiting out a rate limit',
  },
];

describe('CustomerDetailView — destinations', () => {
  it('lists each destination’s state, last sync and message', async () => {
    backend.route('GET /customers/cus_A', ok(customerResponse({ destinations: STATES })));
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('Other destinations');
    // Klaviyo: synced, with its profile id.
    expect(hasText(wrapper, Box, 'Acme (Klaviyo)')).toBe(true);
    expect(hasText(wrapper, Box, 'Last synced 2024-05-02 08:00 UTC · Klaviyo profile 01HV8K3Z')).toBe(true);
    // Loops: failed, with its words; a bare label gets its kind.
    expect(hasText(wrapper, Box, 'Acme team (Loops)')).toBe(true);
    expect(hasText(wrapper, Badge, 'Sync failed')).toBe(true);
    expect(hasText(wrapper, Box, 'Last synced 2024-05-01 07:15 UTC')).toBe(true);
    expect(hasText(wrapper, Box, 'Loops refused the contact: invalid email address')).toBe(true);
    // Pending, never written yet.
    expect(hasText(wrapper, Badge, 'Sync pending')).toBe(true);
    expect(hasText(wrapper, Box, 'Never synced')).toBe(true);
    expect(hasText(wrapper, Box, 'Waiting out a rate limit')).toBe(true);
    // HubSpot's own state is still there: its badge plus Klaviyo's.
    expect(wrapper.findAll(Badge).filter((b) => b.text === 'Synced')).toHaveLength(2);
  });

  it('says "Not synced yet" for a destination the customer has not reached', async () => {
    backend.route(
      'GET /customers/cus_A',
      ok(customerResponse({ destinations: [{ ...STATES[0], state: 'not_synced', externalId: null, lastSyncedAt: null }] })),
    );
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Not synced yet')).toBe(true);
    expect(hasText(wrapper, Box, 'Never synced')).toBe(true);
  });

  it('shows no destinations section when the backend sends none, or an empty list', async () => {
    const first = await loaded();
    expect(first.wrapper).not.toContainText('Other destinations');
    first.unmount();
    backend.route('GET /customers/cus_A', ok(customerResponse({ destinations: [] })));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainText('Other destinations');
    expect(wrapper).toContainText('HubSpot contact 901 in portal 424242');
  });
});
