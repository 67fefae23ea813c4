jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Badge, Banner, Box, Button, Checkbox, Select, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import { defaultDestinationSettings, DESTINATION_PROPERTY_PATTERNS, INTERCOM_REGION_LABELS } from '../data/contracts';
import {
  apiError,
  deferred,
  DESTINATION_CHECKED_AT,
  installDestinationRoutes,
  installFakeBackend,
  ok,
  type FakeBackend,
  type FakeDestinations,
} from '../../test/fakeBackend';
import { destinationSummary, settingsResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { AppSettings } from './AppSettings';

let backend: FakeBackend;
let store: FakeDestinations;

const KLAVIYO = destinationSummary('klaviyo');
const BROKEN_LOOPS = destinationSummary('loops', {
  health: { state: 'broken', message: 'Invalid API key', checkedAt: '2024-05-02T08:00:00.000Z' },
  counts: { synced: 7, pending: 3, failed: 0 },
});

beforeEach(() => {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse()),
    'GET /backfill': ok({ backfill: null }),
  });
  store = installDestinationRoutes(backend, {
    destinations: [KLAVIYO, destinationSummary('loops', { id: 'dst_live', mode: 'live', label: 'Live team (Loops)' })],
    refusedKeys: { pk_revoked_0000: 'Klaviyo answered 401 authentication_failed' },
  });
});

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
const klaviyoProperty = (w: Wrapper, label: string) => w.find(TextField, { label: `Klaviyo property for ${label}` })!;
const loopsProperty = (w: Wrapper, label: string) => w.find(TextField, { label: `Loops property for ${label}` })!;
const intercomProperty = (w: Wrapper, label: string) => w.find(TextField, { label: `Intercom property for ${label}` })!;
const press = (w: Wrapper, text: string) => w.act(() => byText(w, Button, text).trigger('onPress'));
const allText = (w: Wrapper) => w.findAll(Box).map((b) => b.text).join('\n');

describe('AppSettings — destinations: list', () => {
  it('lists the destinations of the current mode with kind, key hint, health and counts', async () => {
    store.destinations.push(BROKEN_LOOPS, destinationSummary('intercom', { region: 'au' }));
    const { wrapper } = await loaded();
    expect(backend.calls('GET /destinations').map((r) => r.query)).toEqual([{ mode: 'test' }]);
    expect(wrapper).toContainText('Destinations');
    expect(hasText(wrapper, Box, 'Acme (Klaviyo)')).toBe(true);
    expect(hasText(wrapper, Box, 'Klaviyo · API key ending in k9Qa · connected 2024-05-01 12:00 UTC')).toBe(true);
    expect(hasText(wrapper, Box, '40 synced · 2 pending · 1 failed')).toBe(true);
    // The broken one: its badge and the destination's own words.
    expect(hasText(wrapper, Box, 'Acme team (Loops)')).toBe(true);
    expect(hasText(wrapper, Badge, 'Key refused')).toBe(true);
    expect(hasText(wrapper, Box, '7 synced · 3 pending · 0 failed')).toBe(true);
    expect(wrapper.find(Banner, { title: 'Loops refuses the key' })!.prop('description')).toMatch(/^Loops says: “Invalid API key”\. Nothing is sent/);
    // The live-mode destination is not in test mode's list.
    expect(wrapper).not.toContainText('Live team (Loops)');
    // Intercom: its region, and an access token rather than an API key.
    expect(hasText(wrapper, Box, 'Acme workspace (Intercom)')).toBe(true);
    expect(hasText(wrapper, Box, 'Intercom · Australia region · access token ending in Tok3 · connected 2024-05-01 12:00 UTC')).toBe(true);
    // Salesforce is left to add (with "Connect with Salesforce"); once it is connected too, nothing is.
    expect(hasText(wrapper, Button, 'Add destination')).toBe(true);
  });

  it('offers nothing to add once every kind is connected, and shows Salesforce with its environment', async () => {
    store.destinations.push(
      BROKEN_LOOPS,
      destinationSummary('intercom'),
      destinationSummary('salesforce', { auth: 'oauth', environment: 'sandbox' }),
    );
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Box, 'Salesforce acme.my.salesforce.com')).toBe(true);
    expect(hasText(wrapper, Box, 'Salesforce · Sandbox · connected with Salesforce · connected 2024-05-01 12:00 UTC')).toBe(true);
    expect(hasText(wrapper, Button, 'Add destination')).toBe(false);
  });

  it('hides the section when the backend has no destinations API', async () => {
    backend.route('GET /destinations', apiError(404, 'not_found', 'No route GET /destinations'));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainText('Destinations');
    expect(wrapper).toContainComponent(Checkbox, { label: 'invoice.paid' });
  });

  it('explains a failed load and loads again on retry, the HubSpot settings unaffected', async () => {
    backend.route('GET /destinations', 'network-error');
    const { wrapper, settle } = await loaded();
    expect(wrapper.find(Banner, { title: 'Destinations could not be loaded' })!.prop('description')).toMatch(/can’t be reached/);
    expect(wrapper).toContainComponent(Checkbox, { label: 'invoice.paid' });

    installDestinationRoutes(backend, { destinations: [KLAVIYO] });
    press(wrapper, 'Try again');
    await settle();
    expect(wrapper).not.toContainComponent(Banner, { title: 'Destinations could not be loaded' });
    expect(hasText(wrapper, Box, 'Acme (Klaviyo)')).toBe(true);
  });
});

describe('AppSettings — destinations: add', () => {
  it('shows a refused key’s message, sends the key once and never shows it again; a good key connects', async () => {
    store.destinations = [];
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainText('No destination is connected for test mode.');
    press(wrapper, 'Add destination');
    const kinds = wrapper.find(Select, { label: 'Destination' })!;
    expect(kinds.prop('value')).toBe('klaviyo');
    expect(kinds.text).toBe('KlaviyoLoopsIntercomSalesforce');
    const keyField = () => wrapper.find(TextField, { label: 'API key' })!;
    expect(keyField()).toHaveProps({ type: 'password', value: '' });

    wrapper.act(() => keyField().trigger('onChange', { target: { value: 'pk_revoked_0000' } }));
    expect(keyField().prop('value')).toBe('pk_revoked_0000');
    press(wrapper, 'Connect Klaviyo');
    // The field is emptied as the key leaves, before the answer.
    expect(keyField().prop('value')).toBe('');
    await settle();
    expect(backend.calls('POST /destinations').map((r) => r.body)).toEqual([
      { mode: 'test', kind: 'klaviyo', apiKey: 'pk_revoked_0000' },
    ]);
    expect(wrapper.find(Banner, { title: 'Destination not connected' })!.prop('description')).toBe(
      'Klaviyo was not connected: The key was refused: Klaviyo answered 401 authentication_failed',
    );
    expect(keyField().prop('value')).toBe('');
    expect(hasText(wrapper, Box, 'No destination is connected for test mode.')).toBe(true);

    // Loops, with a key the fake accepts.
    wrapper.act(() => wrapper.find(Select, { label: 'Destination' })!.trigger('onChange', { target: { value: 'loops' } }));
    wrapper.act(() => keyField().trigger('onChange', { target: { value: 'loops_secret_key_AB12' } }));
    press(wrapper, 'Connect Loops');
    await settle();
    const posts = backend.calls('POST /destinations');
    expect(posts).toHaveLength(2);
    expect(posts[1].body).toEqual({ mode: 'test', kind: 'loops', apiKey: 'loops_secret_key_AB12' });
    expect(wrapper).not.toContainComponent(TextField, { label: 'API key' });
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe('Loops is connected for test mode.');
    expect(hasText(wrapper, Box, 'Loops · API key ending in AB12 · connected 2024-05-02 09:00 UTC')).toBe(true);
    expect(hasText(wrapper, Box, '0 synced · 0 pending · 0 failed')).toBe(true);
    // The key itself is nowhere on the page, and the list reloads nothing: one GET.
    expect(allText(wrapper)).not.toContain('loops_secret_key');
    expect(allText(wrapper)).not.toContain('pk_revoked');
    expect(backend.calls('GET /destinations')).toHaveLength(1);

    // Only the kind not connected yet is offered.
    press(wrapper, 'Add destination');
    expect(wrapper.find(Select, { label: 'Destination' })!.text).toBe('KlaviyoIntercomSalesforce');
    expect(wrapper.find(TextField, { label: 'API key' })!.prop('value')).toBe('');
  });

  it('asks for a key instead of sending an empty one, and shows what the backend finds wrong with a short one', async () => {
    store.destinations = [];
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    press(wrapper, 'Connect Klaviyo');
    await settle();
    expect(backend.calls('POST /destinations')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'Destination not connected' })!.prop('description')).toBe('Enter the Klaviyo API key.');

    wrapper.act(() => wrapper.find(TextField, { label: 'API key' })!.trigger('onChange', { target: { value: 'pk_1' } }));
    press(wrapper, 'Connect Klaviyo');
    await settle();
    expect(backend.calls('POST /destinations')).toHaveLength(1);
    expect(wrapper.find(Banner, { title: 'Destination not connected' })!.prop('description')).toBe(
      'Klaviyo was not connected: The destination is not valid: Enter the API key',
    );
    expect(store.destinations).toEqual([]);
  });

  it('connects Intercom with an access token and the region picked, and lists it with that region', async () => {
    store.destinations = [];
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    wrapper.act(() => wrapper.find(Select, { label: 'Destination' })!.trigger('onChange', { target: { value: 'intercom' } }));
    // Intercom's secret is an access token, a password field like the API key.
    expect(wrapper).not.toContainComponent(TextField, { label: 'API key' });
    const tokenField = () => wrapper.find(TextField, { label: 'Access token' })!;
    expect(tokenField()).toHaveProps({ type: 'password', value: '' });
    const region = () => wrapper.find(Select, { label: 'Region' })!;
    expect(region().prop('value')).toBe('us');
    expect(region().text).toBe('United StatesEuropeAustralia');

    // Nothing is sent without a token.
    press(wrapper, 'Connect Intercom');
    await settle();
    expect(backend.calls('POST /destinations')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'Destination not connected' })!.prop('description')).toBe('Enter the Intercom access token.');

    wrapper.act(() => region().trigger('onChange', { target: { value: 'eu' } }));
    expect(region().prop('value')).toBe('eu');
    wrapper.act(() => tokenField().trigger('onChange', { target: { value: 'dG9rOmIntercomSecret_EU42' } }));
    press(wrapper, 'Connect Intercom');
    // The field is emptied as the token leaves, before the answer.
    expect(tokenField().prop('value')).toBe('');
    await settle();
    expect(backend.calls('POST /destinations').map((r) => r.body)).toEqual([
      { mode: 'test', kind: 'intercom', apiKey: 'dG9rOmIntercomSecret_EU42', region: 'eu' },
    ]);
    expect(store.destinations).toHaveLength(1);
    expect(store.destinations[0]).toMatchObject({ kind: 'intercom', region: 'eu' });
    expect(wrapper).not.toContainComponent(Select, { label: 'Region' });
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe('Intercom is connected for test mode.');
    expect(hasText(wrapper, Box, `Intercom · ${INTERCOM_REGION_LABELS.eu} region · access token ending in EU42 · connected 2024-05-02 09:00 UTC`)).toBe(
      true,
    );
    expect(allText(wrapper)).toContain('Europe');
    expect(allText(wrapper)).not.toContain('IntercomSecret');
    expect(backend.calls('GET /destinations')).toHaveLength(1);
  });

  it('shows the region only for Intercom and sends none for the other kinds', async () => {
    store.destinations = [];
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    const choose = (kind: string) =>
      wrapper.act(() => wrapper.find(Select, { label: 'Destination' })!.trigger('onChange', { target: { value: kind } }));
    expect(wrapper.find(Select, { label: 'Destination' })!.prop('value')).toBe('klaviyo');
    expect(wrapper).not.toContainComponent(Select, { label: 'Region' });
    choose('loops');
    expect(wrapper).not.toContainComponent(Select, { label: 'Region' });
    expect(wrapper).toContainComponent(TextField, { label: 'API key' });
    choose('intercom');
    expect(wrapper).toContainComponent(Select, { label: 'Region' });
    // A region picked for Intercom does not follow the form to another kind.
    wrapper.act(() => wrapper.find(Select, { label: 'Region' })!.trigger('onChange', { target: { value: 'au' } }));
    choose('loops');
    expect(wrapper).not.toContainComponent(Select, { label: 'Region' });
    expect(wrapper).not.toContainComponent(TextField, { label: 'Access token' });
    wrapper.act(() => wrapper.find(TextField, { label: 'API key' })!.trigger('onChange', { target: { value: 'loops_secret_key_AB12' } }));
    press(wrapper, 'Connect Loops');
    await settle();
    expect(backend.calls('POST /destinations').map((r) => r.body)).toEqual([
      { mode: 'test', kind: 'loops', apiKey: 'loops_secret_key_AB12' },
    ]);
    expect(store.destinations[0]).not.toHaveProperty('region');
    expect(hasText(wrapper, Box, 'Loops · API key ending in AB12 · connected 2024-05-02 09:00 UTC')).toBe(true);

    // Intercom left as it opens: United States, sent as us.
    press(wrapper, 'Add destination');
    choose('intercom');
    expect(wrapper.find(Select, { label: 'Region' })!.prop('value')).toBe('us');
    wrapper.act(() => wrapper.find(TextField, { label: 'Access token' })!.trigger('onChange', { target: { value: 'ic_token_US01' } }));
    press(wrapper, 'Connect Intercom');
    await settle();
    expect(backend.calls('POST /destinations').map((r) => r.body)[1]).toEqual({
      mode: 'test',
      kind: 'intercom',
      apiKey: 'ic_token_US01',
      region: 'us',
    });
    expect(hasText(wrapper, Box, 'Intercom · United States region · access token ending in US01 · connected 2024-05-02 09:00 UTC')).toBe(true);
  });

  it('shows the key as pending while it is checked', async () => {
    const answer = deferred();
    backend.route('POST /destinations', () => answer.promise);
    store.destinations = [];
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    wrapper.act(() => wrapper.find(TextField, { label: 'API key' })!.trigger('onChange', { target: { value: 'pk_live_1234' } }));
    press(wrapper, 'Connect Klaviyo');
    await settle();
    expect(byText(wrapper, Button, 'Connect Klaviyo').prop('pending')).toBe(true);
    expect(wrapper.find(TextField, { label: 'API key' })).toHaveProps({ value: '', disabled: true });
    answer.resolve(apiError(503, 'service_unavailable', 'KLAVIYO_TIMEOUT'));
    await settle();
    expect(wrapper.find(Banner, { title: 'Destination not connected' })!.prop('description')).toMatch(
      /^Klaviyo was not connected: The sync service is not available right now\./,
    );
  });
});

describe('AppSettings — destinations: test connection', () => {
  it('tests the stored key and shows the answer, and the new health', async () => {
    store.testAnswers.dst_klaviyo = {
      ok: false,
      message: 'Klaviyo refused the key: 401 authentication_failed',
      health: { state: 'broken', message: 'authentication_failed', checkedAt: DESTINATION_CHECKED_AT },
    };
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Badge, 'Key refused')).toBe(false);
    press(wrapper, 'Test connection');
    expect(byText(wrapper, Button, 'Test connection').prop('pending')).toBe(true);
    await settle();
    expect(backend.calls('POST /destinations/dst_klaviyo/test').map((r) => r.body)).toEqual([{ mode: 'test' }]);
    expect(wrapper.find(Banner, { title: 'Acme (Klaviyo) test failed' })!.prop('description')).toBe(
      'Klaviyo refused the key: 401 authentication_failed',
    );
    expect(hasText(wrapper, Badge, 'Key refused')).toBe(true);
    expect(wrapper.find(Banner, { title: 'Klaviyo refuses the key' })!.prop('description')).toMatch(/“authentication_failed”/);
  });

  it('shows a working key’s answer', async () => {
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Test connection');
    await settle();
    expect(wrapper.find(Banner, { title: 'Acme (Klaviyo) answered' })!.prop('description')).toBe('Connected to Acme (Klaviyo)');
  });
});

describe('AppSettings — destinations: settings', () => {
  it('edits events, fields and the deletion choice and saves them with PUT', async () => {
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Edit settings');
    expect(wrapper).toContainText('Settings for Acme (Klaviyo)');
    expect(wrapper.find(Checkbox, { label: 'Refunded' })).toHaveProps({ checked: true });
    expect(klaviyoProperty(wrapper, 'MRR')).toHaveProps({ value: 'stripe_mrr' });
    expect(wrapper.find(Switch, { label: 'Send Stripe customer ID to Klaviyo' })).toHaveProps({ disabled: true, checked: true });
    // Klaviyo offers no unsubscribe of a profile.
    const deletion = () => wrapper.find(Select, { label: 'When a Stripe customer is deleted' })!;
    expect(deletion().prop('value')).toBe('keep');
    expect(deletion().text).toBe('Keep the profile as it isDelete the profile');

    wrapper.act(() => wrapper.find(Checkbox, { label: 'Refunded' })!.trigger('onChange', { target: { checked: false } }));
    // Klaviyo takes spaces in a property name.
    wrapper.act(() => klaviyoProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'Monthly revenue' } }));
    expect(klaviyoProperty(wrapper, 'MRR').prop('error')).toBeUndefined();
    wrapper.act(() => wrapper.find(Switch, { label: 'Send Plan to Klaviyo' })!.trigger('onChange', { target: { checked: false } }));
    wrapper.act(() => deletion().trigger('onChange', { target: { value: 'delete' } }));
    press(wrapper, 'Save destination settings');
    await settle();

    const expected = defaultDestinationSettings('klaviyo');
    expected.events = expected.events.filter((e) => e !== 'refunded');
    expected.fields.mrr.property = 'Monthly revenue';
    expected.fields.plan.enabled = false;
    expected.onCustomerDeleted = 'delete';
    expect(backend.calls('PUT /destinations/dst_klaviyo/settings').map((r) => r.body)).toEqual([{ mode: 'test', settings: expected }]);
    expect(store.destinations.find((d) => d.id === 'dst_klaviyo')!.settings).toEqual(expected);
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe('The settings of Acme (Klaviyo) are saved.');
    // The HubSpot settings were not saved with it.
    expect(backend.calls('PUT /settings')).toHaveLength(0);

    press(wrapper, 'Edit settings');
    expect(klaviyoProperty(wrapper, 'MRR').prop('value')).toBe('Monthly revenue');
    expect(wrapper.find(Checkbox, { label: 'Refunded' })).toHaveProps({ checked: false });
  });

  it('shows Loops’ camelCase rule inline for an invalid property name and sends nothing', async () => {
    store.destinations = [destinationSummary('loops')];
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Edit settings');
    expect(loopsProperty(wrapper, 'MRR').prop('value')).toBe('stripeMrr');
    expect(wrapper.find(Select, { label: 'When a Stripe customer is deleted' })!.text).toBe(
      'Keep the contact as it isUnsubscribe the contactDelete the contact',
    );

    wrapper.act(() => loopsProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'stripe_mrr' } }));
    expect(loopsProperty(wrapper, 'MRR')).toHaveProps({ invalid: true, error: DESTINATION_PROPERTY_PATTERNS.loops.message });
    press(wrapper, 'Save destination settings');
    await settle();
    expect(backend.calls('PUT /destinations/dst_loops/settings')).toHaveLength(0);
    expect(wrapper).toContainText('Fix the highlighted fields, then save again.');

    // Fixed: the error goes, and the save goes through.
    wrapper.act(() => loopsProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'monthlyRevenue' } }));
    expect(loopsProperty(wrapper, 'MRR').prop('error')).toBeUndefined();
    press(wrapper, 'Save destination settings');
    await settle();
    const [put] = backend.calls('PUT /destinations/dst_loops/settings');
    expect((put.body as { settings: { fields: { mrr: { property: string } } } }).settings.fields.mrr.property).toBe('monthlyRevenue');
  });

  it('holds Intercom property names to Intercom’s rule: a dot is refused inline, a space is saved', async () => {
    store.destinations = [destinationSummary('intercom', { region: 'eu' })];
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Box, 'Intercom · Europe region · access token ending in Tok3 · connected 2024-05-01 12:00 UTC')).toBe(true);
    press(wrapper, 'Edit settings');
    expect(wrapper).toContainText('Settings for Acme workspace (Intercom)');
    expect(wrapper).toContainText(`Intercom property names: ${DESTINATION_PROPERTY_PATTERNS.intercom.message}.`);
    // snake_case defaults, as Klaviyo.
    expect(intercomProperty(wrapper, 'MRR')).toHaveProps({ value: 'stripe_mrr' });
    expect(wrapper.find(Switch, { label: 'Send Stripe customer ID to Intercom' })).toHaveProps({ disabled: true, checked: true });
    const deletion = () => wrapper.find(Select, { label: 'When a Stripe customer is deleted' })!;
    expect(deletion().prop('description')).toBe('What happens to the customer’s Intercom contact.');
    expect(deletion().prop('value')).toBe('keep');
    expect(deletion().text).toBe('Keep the contact as it isUnsubscribe the contactDelete the contact');

    wrapper.act(() => intercomProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'stripe.mrr' } }));
    expect(intercomProperty(wrapper, 'MRR')).toHaveProps({ invalid: true, error: DESTINATION_PROPERTY_PATTERNS.intercom.message });
    press(wrapper, 'Save destination settings');
    await settle();
    expect(backend.calls('PUT /destinations/dst_intercom/settings')).toHaveLength(0);
    expect(wrapper).toContainText('Fix the highlighted fields, then save again.');

    // A space is fine in Intercom (Loops would refuse it).
    wrapper.act(() => intercomProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'Stripe MRR' } }));
    expect(intercomProperty(wrapper, 'MRR')).toHaveProps({ invalid: false, error: undefined });
    wrapper.act(() => deletion().trigger('onChange', { target: { value: 'unsubscribe' } }));
    press(wrapper, 'Save destination settings');
    await settle();
    const expected = defaultDestinationSettings('intercom');
    expected.fields.mrr.property = 'Stripe MRR';
    expected.onCustomerDeleted = 'unsubscribe';
    expect(backend.calls('PUT /destinations/dst_intercom/settings').map((r) => r.body)).toEqual([{ mode: 'test', settings: expected }]);
    expect(store.destinations[0].settings).toEqual(expected);
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe('The settings of Acme workspace (Intercom) are saved.');
  });

  it('puts the backend’s refusal next to the field and keeps the edits', async () => {
    backend.route(
      'PUT /destinations/:id/settings',
      apiError(400, 'invalid_settings', 'The settings are not valid', [
        { path: 'fields.plan.property', message: 'Klaviyo reserves this name' },
      ]),
    );
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Edit settings');
    wrapper.act(() => klaviyoProperty(wrapper, 'MRR').trigger('onChange', { target: { value: 'mrr' } }));
    press(wrapper, 'Save destination settings');
    await settle();
    expect(backend.calls('PUT /destinations/dst_klaviyo/settings')).toHaveLength(1);
    expect(klaviyoProperty(wrapper, 'Plan')).toHaveProps({ invalid: true, error: 'Klaviyo reserves this name' });
    expect(klaviyoProperty(wrapper, 'MRR').prop('value')).toBe('mrr');
    expect(wrapper).toContainText('Fix the highlighted fields, then save again.');
  });

  it('says why a save failed and keeps the editor open', async () => {
    backend.route('PUT /destinations/:id/settings', 'network-error');
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Edit settings');
    press(wrapper, 'Save destination settings');
    await settle();
    expect(wrapper).toContainText('Not saved: The sync service can’t be reached right now. Check your connection and try again.');
    expect(wrapper).toContainText('Settings for Acme (Klaviyo)');
  });
});

describe('AppSettings — destinations: disconnect', () => {
  it('asks for confirmation first, then sends confirm = the destination’s id', async () => {
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Disconnect');
    await settle();
    expect(backend.calls('DELETE /destinations/dst_klaviyo')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'Disconnect Acme (Klaviyo)?' })!.prop('description')).toMatch(/its API key is deleted/);

    // Changing one's mind sends nothing.
    press(wrapper, 'Keep it connected');
    await settle();
    expect(wrapper).not.toContainComponent(Banner, { title: 'Disconnect Acme (Klaviyo)?' });
    expect(backend.calls('DELETE /destinations/dst_klaviyo')).toHaveLength(0);

    press(wrapper, 'Disconnect');
    press(wrapper, 'Yes, disconnect Klaviyo');
    await settle();
    const del = backend.calls('DELETE /destinations/dst_klaviyo');
    expect(del.map((r) => [r.query, r.body])).toEqual([[{}, { mode: 'test', confirm: 'dst_klaviyo' }]]);
    expect(store.destinations.map((d) => d.id)).toEqual(['dst_live']);
    expect(hasText(wrapper, Box, 'Acme (Klaviyo)')).toBe(false);
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toMatch(/^Acme \(Klaviyo\) is disconnected/);
    expect(hasText(wrapper, Button, 'Add destination')).toBe(true);
  });

  it('keeps the destination and says why when disconnecting fails', async () => {
    backend.route('DELETE /destinations/:id', apiError(409, 'bad_request', 'A replay is running for this destination; try again in a minute.'));
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Disconnect');
    press(wrapper, 'Yes, disconnect Klaviyo');
    await settle();
    expect(wrapper.find(Banner, { title: 'Acme (Klaviyo) was not disconnected' })!.prop('description')).toBe(
      'Could not disconnect: A replay is running for this destination; try again in a minute.',
    );
    expect(hasText(wrapper, Box, 'Acme (Klaviyo)')).toBe(true);
  });
});
