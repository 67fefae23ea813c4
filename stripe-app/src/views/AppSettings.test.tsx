jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { createOAuthState, isSourceInAuthorizedCSP } from '@stripe/ui-extension-sdk/utils';
import { Badge, Banner, Button, Checkbox, SettingsView, Spinner, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import { defaultSettings, type PutSettingsRequest } from '../data/contracts';
import { apiError, deferred, installFakeBackend, ok, type FakeBackend, type Reply } from '../../test/fakeBackend';
import { backfill, CONNECTION, pendingConnection, settingsResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { BACKFILL_POLL_MS } from '../pages/settings/useBackfill';
import { AppSettings } from './AppSettings';

let backend: FakeBackend;

beforeEach(() => {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse()),
    'GET /backfill': ok({ backfill: null }),
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

const propertyField = (w: ReturnType<typeof renderView>['wrapper'], label: string) =>
  w.find(TextField, { label: `HubSpot property for ${label}` })!;

describe('AppSettings — loading and errors', () => {
  it('shows a spinner and no Save button while loading', () => {
    backend.route('GET /settings', () => new Promise<Reply>(() => undefined));
    const { wrapper } = renderView(<AppSettings {...viewProps()} />);
    expect(wrapper).toContainComponent(Spinner);
    expect(wrapper).toContainText('Loading settings…');
    expect(wrapper.find(SettingsView)!.prop('onSave')).toBeUndefined();
  });

  it('explains an unreachable backend and loads again on retry', async () => {
    backend.route('GET /settings', 'network-error');
    const { wrapper, settle } = await loaded();
    const banner = wrapper.find(Banner, { title: 'Settings could not be loaded' })!;
    expect(banner).not.toBeNull();
    expect(banner.prop('description')).toMatch(/can’t be reached/);
    expect(wrapper).not.toContainComponent(Checkbox);

    backend.route('GET /settings', ok(settingsResponse()));
    wrapper.act(() => byText(wrapper, Button, 'Try again').trigger('onPress'));
    await settle();
    expect(wrapper).not.toContainComponent(Banner, { title: 'Settings could not be loaded' });
    expect(wrapper).toContainComponent(Checkbox, { label: 'invoice.paid' });
  });

  it('says so when the manifest has no BACKEND_URL, without calling anything', async () => {
    const { wrapper } = await loaded(viewProps({ backendUrl: null }));
    const description = wrapper.find(Banner, { title: 'Settings could not be loaded' })!.prop('description');
    expect(description).toMatch(/not set up with the address of its sync service/);
    expect(description).not.toMatch(/BACKEND_URL/);
    expect(backend.requests).toHaveLength(0);
  });

  it('tells a backend the app’s connect-src does not allow apart from an unreachable one', async () => {
    backend.route('GET /settings', 'network-error');
    jest.mocked(isSourceInAuthorizedCSP).mockResolvedValueOnce(false);
    const { wrapper } = await loaded();
    const description = wrapper.find(Banner, { title: 'Settings could not be loaded' })!.prop('description');
    expect(description).toMatch(/configuration does not allow it to reach its sync service at https:\/\/backend\.test/);
    expect(description).not.toMatch(/can’t be reached/);
    expect(jest.mocked(isSourceInAuthorizedCSP).mock.calls[0][0]).toBe('https://backend.test/api/app/v1/settings?mode=test');
  });

  it('never shows a merchant the operator’s words: a 503 naming an environment variable', async () => {
    backend.route('GET /settings', apiError(503, 'internal', 'The Stripe App API is not configured (STRIPE_APP_SECRET)'));
    const { wrapper } = await loaded();
    const description = wrapper.find(Banner, { title: 'Settings could not be loaded' })!.prop('description');
    expect(description).toMatch(/^Something went wrong in the sync service\./);
    expect(description).not.toMatch(/STRIPE_APP_SECRET|configured/);
  });
});

describe('AppSettings — mode', () => {
  it('shows test mode and asks for test-mode settings', async () => {
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Test mode')).toBe(true);
    expect(backend.calls('GET /settings')[0].query).toEqual({ mode: 'test' });
  });

  it('shows live mode, loads and saves live-mode settings', async () => {
    backend.route('GET /settings', ok(settingsResponse({ mode: 'live' })));
    backend.route('PUT /settings', (req) => ok({ ...settingsResponse({ mode: 'live' }), settings: (req.body as PutSettingsRequest).settings }));
    const { wrapper, settle } = await loaded(viewProps({ mode: 'live' }));
    expect(hasText(wrapper, Badge, 'Live mode')).toBe(true);
    expect(wrapper).toContainText('apply to live mode only');
    expect(backend.calls('GET /settings')[0].query).toEqual({ mode: 'live' });

    wrapper.act(() => wrapper.find(SettingsView)!.trigger('onSave', {}));
    await settle();
    expect((backend.calls('PUT /settings')[0].body as PutSettingsRequest).mode).toBe('live');
  });
});

describe('AppSettings — HubSpot connection', () => {
  it('shows the connected portal and disconnects', async () => {
    backend.route('DELETE /hubspot/connection', ok({ disconnected: true }));
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Badge, 'Connected')).toBe(true);
    expect(wrapper).toContainText('Portal 424242 (acme.hubspot.com)');

    wrapper.act(() => byText(wrapper, Button, 'Disconnect HubSpot').trigger('onPress'));
    expect(byText(wrapper, Button, 'Disconnect HubSpot').prop('pending')).toBe(true);
    await settle();
    const del = backend.calls('DELETE /hubspot/connection');
    expect(del).toHaveLength(1);
    expect(del[0].query).toEqual({ mode: 'test' });
    expect(hasText(wrapper, Badge, 'Not connected')).toBe(true);
    expect(hasText(wrapper, Button, 'Connect HubSpot')).toBe(true);
  });

  it('connects: OAuth state from the SDK, authorize URL from the backend, then a link to HubSpot', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    backend.route('GET /hubspot/authorize-url', ok({ url: 'https://app.hubspot.com/oauth/authorize?client_id=x&state=oauth-state-1' }));
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Badge, 'Not connected')).toBe(true);
    expect(wrapper).toContainText('No HubSpot portal is connected for test mode');

    wrapper.act(() => byText(wrapper, Button, 'Connect HubSpot').trigger('onPress'));
    await settle();
    expect(createOAuthState).toHaveBeenCalledTimes(1);
    expect(backend.calls('GET /hubspot/authorize-url')[0].query).toEqual({
      mode: 'test',
      state: 'oauth-state-1',
      challenge: 'pkce-challenge-1',
    });
    expect(byText(wrapper, Button, 'Continue to HubSpot').prop('href')).toBe(
      'https://app.hubspot.com/oauth/authorize?client_id=x&state=oauth-state-1',
    );
  });

  it('reports a failure to start the connection', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    backend.route(
      'GET /hubspot/authorize-url',
      apiError(503, 'not_connected', 'HubSpot OAuth is not configured on this backend (HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET)'),
    );
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Connect HubSpot').trigger('onPress'));
    await settle();
    expect(wrapper.find(Banner, { title: 'HubSpot connection' })!.prop('description')).toBe(
      'Could not start the HubSpot connection: The sync service is not set up to connect HubSpot accounts yet. Contact the app’s support.',
    );
    expect(hasText(wrapper, Button, 'Connect HubSpot')).toBe(true);
  });

  it('finishes OAuth: posts code, state and verifier, shows the portal and what will be sent, connects only on confirm', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    const answer = deferred();
    backend.route('POST /hubspot/connect', () => answer.promise);
    backend.route('POST /hubspot/connect/confirm', ok({ connection: { ...CONNECTION, portalId: 777, hubDomain: 'other.hubspot.com' } }));
    const props = viewProps({ oauthContext: { code: 'code-123', state: 'oauth-state-1', verifier: 'verifier-9' } });
    const { wrapper, settle } = await loaded(props);
    expect(wrapper).toContainText('Finishing the HubSpot connection…');
    expect(backend.calls('POST /hubspot/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'code-123', state: 'oauth-state-1', verifier: 'verifier-9' },
    ]);
    const connectedAndNot = () => [hasText(wrapper, Badge, 'Connected'), hasText(wrapper, Badge, 'Not connected')];
    expect(connectedAndNot()).toEqual([false, false]);

    answer.resolve(ok({ pending: pendingConnection({ portalId: 777, hubDomain: 'other.hubspot.com' }) }));
    await settle();
    const ask = wrapper.find(Banner, { title: 'Connect this HubSpot portal?' })!;
    expect(ask.prop('description')).toMatch(/^HubSpot authorized other\.hubspot\.com \(portal 777\), signed in as owner@acme\.example\. Nothing has been sent/);
    expect(wrapper).toContainText('Contact properties written: stripe_customer_id, stripe_mrr.');
    expect(wrapper).toContainText('The 12 customers already synced here are written right away.');
    expect(wrapper).toContainText('Your existing Stripe customers are imported.');
    // Neither "connected" nor "not connected" while the merchant decides; nothing confirmed yet.
    expect(connectedAndNot()).toEqual([false, false]);
    expect(backend.calls('POST /hubspot/connect/confirm')).toHaveLength(0);
    expect(backend.calls('GET /backfill')).toHaveLength(1);

    wrapper.act(() => byText(wrapper, Button, 'Connect this portal').trigger('onPress'));
    expect(byText(wrapper, Button, 'Connect this portal').prop('pending')).toBe(true);
    await settle();
    expect(backend.calls('POST /hubspot/connect/confirm').map((r) => r.body)).toEqual([{ mode: 'test', portalId: 777 }]);
    expect(connectedAndNot()).toEqual([true, false]);
    expect(wrapper).toContainText('Portal 777 (other.hubspot.com)');
    expect(wrapper.find(Banner, { title: 'HubSpot connected' })!.prop('description')).toMatch(/portal 777\) is connected for test mode/);
    // The import the connection started: its progress is read again.
    expect(backend.calls('GET /backfill')).toHaveLength(2);
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(1);
  });

  it('cancels a portal it does not want: nothing connected', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    backend.route('POST /hubspot/connect', ok({ pending: pendingConnection() }));
    backend.route('POST /hubspot/connect/cancel', ok({ canceled: true }));
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'c', state: 's', verifier: 'v' } }));
    wrapper.act(() => byText(wrapper, Button, 'Cancel').trigger('onPress'));
    await settle();
    expect(backend.calls('POST /hubspot/connect/cancel').map((r) => r.body)).toEqual([{ mode: 'test' }]);
    expect(backend.calls('POST /hubspot/connect/confirm')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'HubSpot connection' })!.prop('description')).toMatch(/^Nothing was connected/);
    expect(hasText(wrapper, Badge, 'Not connected')).toBe(true);
    expect(hasText(wrapper, Badge, 'Connected')).toBe(false);
  });

  it('shows why the backend refused the authorization, and stays not connected', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    backend.route(
      'POST /hubspot/connect',
      apiError(400, 'invalid_oauth_state', 'This HubSpot authorization was already used. Start the connection again.'),
    );
    const { wrapper } = await loaded(viewProps({ oauthContext: { code: 'c', state: 's', verifier: 'v' } }));
    expect(wrapper.find(Banner, { title: 'HubSpot connection' })!.prop('description')).toBe(
      'Connecting HubSpot failed: This HubSpot authorization was already used. Start the connection again.',
    );
    expect(hasText(wrapper, Badge, 'Not connected')).toBe(true);
    expect(hasText(wrapper, Button, 'Connect HubSpot')).toBe(true);
    expect(wrapper).not.toContainComponent(Banner, { title: 'Connect this HubSpot portal?' });
  });

  it('shows an OAuth error from HubSpot without calling the backend', async () => {
    backend.route('GET /settings', ok(settingsResponse({ connection: null })));
    const { wrapper } = await loaded(viewProps({ oauthContext: { error: 'access_denied' } }));
    expect(wrapper.find(Banner, { title: 'HubSpot connection' })!.prop('description')).toMatch(/access_denied/);
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
  });
});

describe('AppSettings — events, fields, options', () => {
  it('groups events by object with their descriptions, defaults selected', async () => {
    backend.route('GET /settings', ok(settingsResponse({ isDefault: true })));
    const { wrapper } = await loaded();
    for (const title of ['Customers', 'Checkout', 'Subscriptions', 'Invoices', 'Payments and disputes']) {
      expect(wrapper).toContainText(title);
    }
    const paid = wrapper.find(Checkbox, { label: 'invoice.paid' })!;
    expect(paid).toHaveProps({ checked: true, description: 'An invoice is paid: last payment, open amount due.' });
    expect(wrapper.findAll(Checkbox).every((c) => c.prop('checked') === true)).toBe(true);
    expect(wrapper).toContainComponent(Banner, { title: 'Recommended settings' });
  });

  it('shows each field with its switch and property, the customer id locked on', async () => {
    const { wrapper } = await loaded();
    expect(wrapper.find(Switch, { label: 'MRR' })).toHaveProps({ checked: true });
    expect(propertyField(wrapper, 'MRR')).toHaveProps({ value: 'stripe_mrr', disabled: false });
    expect(wrapper.find(Switch, { label: 'Stripe customer ID' })).toHaveProps({ disabled: true });
    expect(wrapper.find(Switch, { label: 'Create contacts' })).toHaveProps({ checked: true });
    expect(wrapper.find(Switch, { label: 'Create a task when a payment fails' })).toHaveProps({ checked: false });
  });

  it('validates a property name as it is typed and refuses to save it', async () => {
    const { wrapper, settle } = await loaded();
    wrapper.act(() => propertyField(wrapper, 'MRR').trigger('onChange', { target: { value: 'Monthly Revenue' } }));
    expect(propertyField(wrapper, 'MRR')).toHaveProps({ value: 'Monthly Revenue', invalid: true });
    expect(propertyField(wrapper, 'MRR').prop('error')).toMatch(/lower-case letters/);

    wrapper.act(() => wrapper.find(SettingsView)!.trigger('onSave', {}));
    await settle();
    expect(backend.calls('PUT /settings')).toHaveLength(0);
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Fix the highlighted fields, then save again');

    wrapper.act(() => propertyField(wrapper, 'MRR').trigger('onChange', { target: { value: 'monthly_revenue' } }));
    expect(propertyField(wrapper, 'MRR').prop('error')).toBeUndefined();
  });

  it('saves exactly what was edited, signed, and shows Saving… then Saved', async () => {
    const answer = deferred();
    backend.route('PUT /settings', () => answer.promise);
    const { wrapper, settle } = await loaded();

    wrapper.act(() => wrapper.find(Checkbox, { label: 'invoice.upcoming' })!.trigger('onChange', { target: { checked: false } }));
    wrapper.act(() => propertyField(wrapper, 'MRR').trigger('onChange', { target: { value: 'monthly_revenue' } }));
    wrapper.act(() => wrapper.find(Switch, { label: 'Plan' })!.trigger('onChange', { target: { checked: false } }));
    wrapper.act(() =>
      wrapper.find(Switch, { label: 'Create a task when a payment fails' })!.trigger('onChange', { target: { checked: true } }),
    );
    expect(propertyField(wrapper, 'Plan')).toHaveProps({ disabled: true });

    wrapper.act(() => wrapper.find(SettingsView)!.trigger('onSave', {}));
    await settle();
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Saving…');

    const [put] = backend.calls('PUT /settings');
    const expected = defaultSettings();
    expected.events = expected.events.filter((e) => e !== 'invoice.upcoming');
    expected.fields.mrr.property = 'monthly_revenue';
    expected.fields.plan.enabled = false;
    expected.options.createTaskOnFailure = true;
    expect(put.body).toEqual({ mode: 'test', settings: expected });
    expect(put.headers).toMatchObject({
      'content-type': 'application/json',
      'stripe-signature': 't=1700000000,v1=fake-signature',
      'x-stripe-user-id': 'usr_test_1',
      'x-stripe-account-id': 'acct_test_1',
    });

    answer.resolve(ok(settingsResponse({ settings: expected })));
    await settle();
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Saved');
    expect(propertyField(wrapper, 'MRR')).toHaveProps({ value: 'monthly_revenue' });
    expect(wrapper.find(Checkbox, { label: 'invoice.upcoming' })).toHaveProps({ checked: false });
  });

  it('puts the server’s validation errors next to their fields', async () => {
    backend.route(
      'PUT /settings',
      apiError(400, 'invalid_settings', 'Settings are invalid', [
        { path: 'fields.plan.property', message: 'stripe_plan exists in HubSpot with another type' },
        { path: 'options.createContacts', message: 'Not allowed for private app tokens' },
      ]),
    );
    const { wrapper, settle } = await loaded();
    wrapper.act(() => wrapper.find(SettingsView)!.trigger('onSave', {}));
    await settle();

    expect(propertyField(wrapper, 'Plan')).toHaveProps({
      error: 'stripe_plan exists in HubSpot with another type',
      invalid: true,
    });
    expect(wrapper.find(Switch, { label: 'Create contacts' })).toHaveProps({ error: 'Not allowed for private app tokens' });
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Fix the highlighted fields, then save again');

    wrapper.act(() => propertyField(wrapper, 'Plan').trigger('onChange', { target: { value: 'stripe_plan_name' } }));
    expect(propertyField(wrapper, 'Plan').prop('error')).toBeUndefined();
    expect(wrapper.find(Switch, { label: 'Create contacts' })).toHaveProps({ error: 'Not allowed for private app tokens' });
  });

  it('keeps the edits and says why when saving fails', async () => {
    backend.route('PUT /settings', 'network-error');
    const { wrapper, settle } = await loaded();
    wrapper.act(() => propertyField(wrapper, 'MRR').trigger('onChange', { target: { value: 'mrr_usd' } }));
    wrapper.act(() => wrapper.find(SettingsView)!.trigger('onSave', {}));
    await settle();
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toMatch(/^Not saved: The sync service can’t be reached/);
    expect(wrapper).toContainComponent(Banner, { title: 'Settings were not saved' });
    expect(propertyField(wrapper, 'MRR')).toHaveProps({ value: 'mrr_usd' });
  });
});

describe('AppSettings — import of existing data', () => {
  it('shows progress of a running import and cancels it', async () => {
    backend.route('GET /backfill', ok({ backfill: backfill() }));
    backend.route('POST /backfill/cancel', ok({ backfill: backfill({ status: 'canceled', finishedAt: '2024-05-01T10:05:00.000Z' }) }));
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainText('25% · 250 of 1000 customers imported · about 2 min left');

    wrapper.act(() => byText(wrapper, Button, 'Cancel import').trigger('onPress'));
    await settle();
    expect(backend.calls('POST /backfill/cancel').map((r) => r.body)).toEqual([{ mode: 'test' }]);
    expect(hasText(wrapper, Badge, 'Canceled')).toBe(true);
    expect(hasText(wrapper, Button, 'Import again')).toBe(true);
  });

  it('polls a running import until it is done, then stops', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const done = backfill({ status: 'completed', phase: 'done', done: 1000, percent: 100, finishedAt: '2024-05-01T10:06:00.000Z' });
      const answers = [backfill(), done];
      backend.route('GET /backfill', () => ok({ backfill: answers.shift() ?? done }));
      const { wrapper } = renderView(<AppSettings {...viewProps()} />);
      const flush = async () => {
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        wrapper.act(() => null);
      };
      await flush();
      expect(wrapper).toContainText('25% · 250 of 1000 customers imported');
      expect(backend.calls('GET /backfill')).toHaveLength(1);

      jest.advanceTimersByTime(BACKFILL_POLL_MS);
      await flush();
      expect(backend.calls('GET /backfill')).toHaveLength(2);
      expect(hasText(wrapper, Badge, 'Completed')).toBe(true);

      jest.advanceTimersByTime(BACKFILL_POLL_MS * 3);
      await flush();
      expect(backend.calls('GET /backfill')).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts an import', async () => {
    backend.route('POST /backfill', ok({ backfill: backfill({ done: 0, percent: 0 }) }));
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainText('No import has run in this mode yet.');
    wrapper.act(() => byText(wrapper, Button, 'Start import').trigger('onPress'));
    await settle();
    expect(backend.calls('POST /backfill').map((r) => r.body)).toEqual([{ mode: 'test' }]);
    expect(hasText(wrapper, Button, 'Cancel import')).toBe(true);
  });

  it('hides the section when the backend has no import endpoint', async () => {
    backend.route('GET /backfill', apiError(404, 'not_found', 'No such route'));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainText('Import existing data');
  });
});
