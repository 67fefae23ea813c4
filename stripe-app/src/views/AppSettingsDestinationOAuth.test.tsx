jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Banner, Box, Button, Select, TextField } from '@stripe/ui-extension-sdk/ui';
import {
  installDestinationRoutes,
  installFakeBackend,
  ok,
  type FakeBackend,
  type FakeDestinations,
  type FakeDestinationsSeed,
} from '../../test/fakeBackend';
import { destinationSummary, settingsResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { AppSettings } from './AppSettings';

// A code is posted once per app session (the hook remembers it across views): each test uses its own codes.

let backend: FakeBackend;
let store: FakeDestinations;

function install(seed: FakeDestinationsSeed = {}) {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse()),
    'GET /backfill': ok({ backfill: null }),
  });
  store = installDestinationRoutes(backend, { destinations: [], ...seed });
}

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function loaded(props = viewProps()) {
  const view = renderView(<AppSettings {...props} />);
  await view.settle();
  return view;
}

type Wrapper = Awaited<ReturnType<typeof loaded>>['wrapper'];
const press = (w: Wrapper, text: string) => w.act(() => byText(w, Button, text).trigger('onPress'));
const pick = (w: Wrapper, label: string, value: string) =>
  w.act(() => w.find(Select, { label })!.trigger('onChange', { target: { value } }));
const hrefOf = (w: Wrapper, text: string) => new URL(String(byText(w, Button, text).prop('href')));

async function addForm(kind: string, seed: FakeDestinationsSeed = {}) {
  install(seed);
  const view = await loaded();
  press(view.wrapper, 'Add destination');
  pick(view.wrapper, 'Destination', kind);
  await view.settle();
  return view;
}

const MISSING_FIELDS_MESSAGE =
  'Your Salesforce org has no field Stripe_Mrr__c, Stripe_Customer_Id__c on Contact: create them (Setup › Object Manager › Contact › Fields & Relationships), then connect again.';

describe('AppSettings — Connect with Salesforce', () => {
  it('offers Salesforce with a Production / Sandbox choice, the authorize URL for that environment, and no key field', async () => {
    const { wrapper, settle } = await addForm('salesforce', { oauth: { salesforce: true } });
    expect(wrapper.find(Select, { label: 'Destination' })!.text).toBe('KlaviyoLoopsIntercomSalesforce');
    const environment = wrapper.find(Select, { label: 'Salesforce environment' })!;
    expect(environment.prop('value')).toBe('production');
    expect(environment.text).toBe('Production (login.salesforce.com)Sandbox (test.salesforce.com)');
    expect(backend.calls('GET /destinations/salesforce/authorize-url').map((r) => r.query)).toEqual([
      { mode: 'test', environment: 'production' },
    ]);
    const button = byText(wrapper, Button, 'Connect with Salesforce');
    expect(button.prop('target')).toBe('_blank');
    const url = hrefOf(wrapper, 'Connect with Salesforce');
    expect(url.host).toBe('login.salesforce.com');
    expect(url.searchParams.get('state')).toMatch(/^salesforce\./);
    // Salesforce has no key: no key field and no "Connect Salesforce" submit.
    expect(wrapper).not.toContainComponent(TextField, { label: 'API key' });
    expect(wrapper).not.toContainComponent(TextField, { label: 'Access token' });
    expect(hasText(wrapper, Button, 'Connect Salesforce')).toBe(false);
    expect(hasText(wrapper, Button, 'Cancel')).toBe(true);

    pick(wrapper, 'Salesforce environment', 'sandbox');
    await settle();
    expect(backend.calls('GET /destinations/salesforce/authorize-url').map((r) => r.query)).toEqual([
      { mode: 'test', environment: 'production' },
      { mode: 'test', environment: 'sandbox' },
    ]);
    expect(hrefOf(wrapper, 'Connect with Salesforce').host).toBe('test.salesforce.com');
    const issued = hrefOf(wrapper, 'Connect with Salesforce').searchParams.get('state')!;
    expect(store.oauthStates.get(issued)).toEqual({ mode: 'test', used: false, environment: 'sandbox' });

    // Back on a kind with a key: the key form, and no Salesforce offer.
    pick(wrapper, 'Destination', 'loops');
    await settle();
    expect(hasText(wrapper, Button, 'Connect with Salesforce')).toBe(false);
    expect(wrapper).toContainComponent(TextField, { label: 'API key' });
  });

  it('says plainly that Salesforce is not set up on this backend when it answers not_configured', async () => {
    const { wrapper } = await addForm('salesforce');
    expect(backend.calls('GET /destinations/salesforce/authorize-url')).toHaveLength(1);
    expect(hasText(wrapper, Button, 'Connect with Salesforce')).toBe(false);
    const banner = wrapper.find(Banner, { title: 'Salesforce is not available' })!;
    expect(banner.prop('description')).toMatch(/^Salesforce is not set up on this backend/);
    expect(wrapper).not.toContainComponent(TextField, { label: 'API key' });
    expect(wrapper).not.toContainComponent(TextField, { label: 'Access token' });
    expect(hasText(wrapper, Button, 'Connect Salesforce')).toBe(false);
  });

  it('says why the authorize URL could not be asked for, and asks again on Try again', async () => {
    install({ oauth: { salesforce: true } });
    backend.route('GET /destinations/:kind/authorize-url', 'network-error');
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    pick(wrapper, 'Destination', 'salesforce');
    await settle();
    const banner = wrapper.find(Banner, { title: 'Connect with Salesforce could not be started' })!;
    expect(banner.prop('description')).toMatch(/can’t be reached/);
    backend.route('GET /destinations/:kind/authorize-url', store.handlers['GET /destinations/:kind/authorize-url']);
    press(wrapper, 'Try again');
    await settle();
    expect(wrapper).not.toContainComponent(Banner, { title: 'Connect with Salesforce could not be started' });
    expect(hrefOf(wrapper, 'Connect with Salesforce').host).toBe('login.salesforce.com');
  });

  it('finishes Salesforce’s way back once: posts to its connect route and lists it with its environment', async () => {
    install({ oauth: { salesforce: true } });
    store.oauthStates.set('salesforce.fake1', { mode: 'test', used: false, environment: 'sandbox' });
    const props = viewProps({ oauthContext: { code: 'sf-code-1', state: 'salesforce.fake1' } });
    const first = await loaded(props);
    await first.settle();
    expect(backend.calls('POST /destinations/salesforce/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'sf-code-1', state: 'salesforce.fake1' },
    ]);
    // Neither HubSpot's way back nor another destination's.
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
    expect(backend.calls('POST /destinations/klaviyo/connect')).toHaveLength(0);
    expect(first.wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe(
      'Acme Inc. (Salesforce) is connected with Salesforce for test mode.',
    );
    expect(hasText(first.wrapper, Box, 'Salesforce · Sandbox · connected with Salesforce · connected 2024-05-02 09:00 UTC')).toBe(true);
    // Salesforce is connected: only the other kinds are left to add.
    press(first.wrapper, 'Add destination');
    expect(first.wrapper.find(Select, { label: 'Destination' })!.text).toBe('KlaviyoLoopsIntercom');
    first.unmount();

    // The view opened again with the same oauthContext: the code is not posted again.
    const again = await loaded(props);
    await again.settle();
    expect(backend.calls('POST /destinations/salesforce/connect')).toHaveLength(1);
    expect(again.wrapper).not.toContainComponent(Banner, { title: 'Salesforce not connected' });
    expect(hasText(again.wrapper, Box, 'Acme Inc. (Salesforce)')).toBe(true);
  });

  it('shows Salesforce’s missing fields verbatim, and lists nothing', async () => {
    install({ oauth: { salesforce: true }, salesforceMissingFields: ['Stripe_Mrr__c', 'Stripe_Customer_Id__c'] });
    store.oauthStates.set('salesforce.fake1', { mode: 'test', used: false, environment: 'production' });
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'sf-code-2', state: 'salesforce.fake1' } }));
    await settle();
    expect(backend.calls('POST /destinations/salesforce/connect')).toHaveLength(1);
    const description = String(wrapper.find(Banner, { title: 'Salesforce not connected' })!.prop('description'));
    expect(description).toBe(`Connecting Salesforce failed: ${MISSING_FIELDS_MESSAGE}`);
    expect(hasText(wrapper, Box, 'No destination is connected for test mode.')).toBe(true);
  });

  it('shows the 409 when Salesforce is already connected in this mode', async () => {
    install({ oauth: { salesforce: true }, destinations: [destinationSummary('salesforce', { auth: 'oauth', environment: 'production' })] });
    store.oauthStates.set('salesforce.fake7', { mode: 'test', used: false, environment: 'production' });
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'sf-code-3', state: 'salesforce.fake7' } }));
    await settle();
    expect(wrapper.find(Banner, { title: 'Salesforce not connected' })!.prop('description')).toBe(
      'Connecting Salesforce failed: Salesforce is already connected in test mode; disconnect it first',
    );
    expect(hasText(wrapper, Box, 'Salesforce · Production · connected with Salesforce · connected 2024-05-01 12:00 UTC')).toBe(true);
  });

  it('says Salesforce refused the authorization without posting anything', async () => {
    install({ oauth: { salesforce: true } });
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { error: 'access_denied', state: 'salesforce.fake1' } }));
    await settle();
    expect(wrapper.find(Banner, { title: 'Salesforce not connected' })!.prop('description')).toBe(
      'Salesforce authorization was not completed (access_denied).',
    );
    expect(backend.calls('POST /destinations/salesforce/connect')).toHaveLength(0);
    // HubSpot's panel does not take it for its own.
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
    expect(wrapper).not.toContainComponent(Banner, { title: 'HubSpot connection' });
  });

  it('offers only “keep” for a deleted customer’s Salesforce contact, and says access rather than key', async () => {
    install({ destinations: [destinationSummary('salesforce', { auth: 'oauth', environment: 'production' })] });
    const { wrapper } = await loaded();
    press(wrapper, 'Edit settings');
    const deletion = wrapper.find(Select, { label: 'When a Stripe customer is deleted' })!;
    expect(deletion.text).toBe('Keep the contact as it is');
    expect(deletion.prop('description')).toBe('What happens to the customer’s Salesforce contact.');
    press(wrapper, 'Disconnect');
    expect(wrapper.find(Banner, { title: 'Disconnect Salesforce acme.my.salesforce.com?' })!.prop('description')).toMatch(
      /its access is revoked and deleted\. .* To send again, connect with Salesforce again\.$/,
    );
  });
});

describe('AppSettings — Connect with Intercom', () => {
  it('offers Connect with Intercom for the chosen region beside the access token', async () => {
    const { wrapper, settle } = await addForm('intercom', { oauth: { intercom: true } });
    expect(backend.calls('GET /destinations/intercom/authorize-url').map((r) => r.query)).toEqual([{ mode: 'test', region: 'us' }]);
    expect(hrefOf(wrapper, 'Connect with Intercom').host).toBe('app.intercom.com');
    expect(byText(wrapper, Button, 'Connect with Intercom').prop('target')).toBe('_blank');
    expect(wrapper).toContainComponent(TextField, { label: 'Access token' });
    expect(hasText(wrapper, Button, 'Connect Intercom')).toBe(true);

    pick(wrapper, 'Region', 'eu');
    await settle();
    expect(backend.calls('GET /destinations/intercom/authorize-url').map((r) => r.query)).toEqual([
      { mode: 'test', region: 'us' },
      { mode: 'test', region: 'eu' },
    ]);
    const url = hrefOf(wrapper, 'Connect with Intercom');
    expect(url.host).toBe('app.eu.intercom.com');
    expect(store.oauthStates.get(url.searchParams.get('state')!)).toEqual({ mode: 'test', used: false, region: 'eu' });
  });

  it('offers the access token only when the backend answers not_configured', async () => {
    const { wrapper } = await addForm('intercom');
    expect(backend.calls('GET /destinations/intercom/authorize-url')).toHaveLength(1);
    expect(hasText(wrapper, Button, 'Connect with Intercom')).toBe(false);
    expect(wrapper).not.toContainComponent(Banner, { title: 'Intercom is not available' });
    expect(wrapper).toContainComponent(TextField, { label: 'Access token' });
    expect(hasText(wrapper, Button, 'Connect Intercom')).toBe(true);
  });

  it('finishes Intercom’s way back with its region', async () => {
    install({ oauth: { intercom: true } });
    store.oauthStates.set('intercom.fake1', { mode: 'test', used: false, region: 'au' });
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'ic-code-1', state: 'intercom.fake1' } }));
    await settle();
    expect(backend.calls('POST /destinations/intercom/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'ic-code-1', state: 'intercom.fake1' },
    ]);
    expect(hasText(wrapper, Box, 'Intercom · Australia region · connected with Intercom · connected 2024-05-02 09:00 UTC')).toBe(true);
  });
});
