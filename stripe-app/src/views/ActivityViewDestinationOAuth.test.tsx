jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Banner, Link, Select } from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import {
  deferred,
  installDestinationRoutes,
  installFakeBackend,
  ok,
  type FakeBackend,
  type FakeDestinations,
  type FakeDestinationsSeed,
} from '../../test/fakeBackend';
import { activityResponse, customerResponse, destinationSummary, pendingConnection, viewProps } from '../../test/fixtures';
import { hasText, renderView, unmountAll } from '../../test/render';
import { appSettingsUrl } from '../links';
import { ActivityView } from './ActivityView';
import { CustomerDetailView } from './CustomerDetailView';

// A code is posted once per app session (the hook remembers it across views): each test uses its own codes.

let backend: FakeBackend;
let store: FakeDestinations;

function install(seed: FakeDestinationsSeed = {}) {
  backend = installFakeBackend({
    'GET /activity': ok(activityResponse()),
    'GET /customers/cus_A': ok(customerResponse()),
  });
  store = installDestinationRoutes(backend, { destinations: [destinationSummary('loops')], ...seed });
}

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function drawer(oauthContext: ExtensionContextValue['oauthContext']) {
  const view = renderView(<ActivityView {...viewProps({ oauthContext })} />);
  await view.settle(3);
  return view;
}

const sourceOptions = (w: Awaited<ReturnType<typeof drawer>>['wrapper']) => w.find(Select, { label: 'Activity of' })!.text;

describe('ActivityView — a destination’s OAuth return', () => {
  it('finishes Klaviyo’s return once: connected, and Klaviyo joins the activity filter', async () => {
    install({ oauth: { klaviyo: true } });
    store.oauthStates.set('klaviyo.fake1', { mode: 'test', used: false });
    const { wrapper, settle } = await drawer({ code: 'kl-drawer-1', state: 'klaviyo.fake1' });
    expect(backend.calls('POST /destinations/klaviyo/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'kl-drawer-1', state: 'klaviyo.fake1' },
    ]);
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'Klaviyo connected' })!.prop('description')).toBe(
      'Klaviyo (OAuth) is connected with Klaviyo for test mode. Choose what it receives in the app’s settings.',
    );
    expect(wrapper.find(Link, { href: appSettingsUrl('test') })).toBeTruthy();
    // The list is read again: the new destination is in the filter, HubSpot's activity still shows.
    expect(sourceOptions(wrapper)).toBe('HubSpotAcme team (Loops)Klaviyo (OAuth)');
    expect(wrapper).toContainText('Recent events');
    expect(wrapper).not.toContainComponent(Banner, { title: 'HubSpot connection' });
    await settle();
    expect(backend.calls('POST /destinations/klaviyo/connect')).toHaveLength(1);
  });

  it('finishes Salesforce’s return to its own route, with a “finishing” state first', async () => {
    install({ oauth: { salesforce: true } });
    store.oauthStates.set('salesforce.fake1', { mode: 'test', used: false, environment: 'sandbox' });
    const held = deferred<void>();
    backend.route('POST /destinations/:kind/connect', async (req, params) => {
      await held.promise;
      return store.handlers['POST /destinations/:kind/connect'](req, params);
    });
    const { wrapper, settle } = await drawer({ code: 'sf-drawer-1', state: 'salesforce.fake1' });
    expect(wrapper).toContainText('Connecting Salesforce…');
    held.resolve();
    await settle(3);
    expect(backend.calls('POST /destinations/salesforce/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'sf-drawer-1', state: 'salesforce.fake1' },
    ]);
    expect(backend.calls('POST /destinations/klaviyo/connect')).toHaveLength(0);
    expect(wrapper).not.toContainText('Connecting Salesforce…');
    expect(wrapper.find(Banner, { title: 'Salesforce connected' })!.prop('description')).toMatch(
      /^Acme Inc\. \(Salesforce\) is connected with Salesforce for test mode\./,
    );
    expect(store.destinations.find((d) => d.kind === 'salesforce')).toMatchObject({ environment: 'sandbox', auth: 'oauth' });
    expect(sourceOptions(wrapper)).toBe('HubSpotAcme team (Loops)Acme Inc. (Salesforce)');
  });

  it('shows Salesforce’s missing fields verbatim', async () => {
    install({ oauth: { salesforce: true }, salesforceMissingFields: ['Stripe_Mrr__c'] });
    store.oauthStates.set('salesforce.fake1', { mode: 'test', used: false, environment: 'production' });
    const { wrapper } = await drawer({ code: 'sf-drawer-2', state: 'salesforce.fake1' });
    expect(wrapper.find(Banner, { title: 'Salesforce not connected' })!.prop('description')).toBe(
      'Connecting Salesforce failed: Your Salesforce org has no field Stripe_Mrr__c on Contact: create it (Setup › Object Manager › Contact › Fields & Relationships), then connect again.',
    );
    expect(sourceOptions(wrapper)).toBe('HubSpotAcme team (Loops)');
  });

  it('leaves HubSpot’s own return to HubSpot', async () => {
    install({ oauth: { klaviyo: true, salesforce: true } });
    backend.route('POST /hubspot/connect', { status: 200, body: { pending: pendingConnection() } });
    const { wrapper } = await drawer({ code: 'hs-code-1', state: 'oauth-state-1', verifier: 'v1' });
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(1);
    expect(backend.requests.filter((r) => /^\/destinations\/[a-z]+\/connect$/.test(r.path))).toHaveLength(0);
    expect(wrapper).toContainComponent(Banner, { title: 'Connect this HubSpot portal?' });
    expect(hasText(wrapper, Banner, 'Salesforce connected')).toBe(false);
  });
});

describe('CustomerDetailView — a destination’s OAuth return', () => {
  it('finishes it there too and reads the customer again', async () => {
    install({ oauth: { salesforce: true } });
    store.oauthStates.set('salesforce.fake1', { mode: 'test', used: false, environment: 'production' });
    const view = renderView(
      <CustomerDetailView {...viewProps({ objectId: 'cus_A', oauthContext: { code: 'sf-customer-1', state: 'salesforce.fake1' } })} />,
    );
    await view.settle(3);
    expect(backend.calls('POST /destinations/salesforce/connect')).toHaveLength(1);
    expect(view.wrapper.find(Banner, { title: 'Salesforce connected' })).toBeTruthy();
    expect(backend.calls('GET /customers/cus_A').length).toBeGreaterThanOrEqual(2);
  });
});
