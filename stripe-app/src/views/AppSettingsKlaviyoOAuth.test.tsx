jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Banner, Box, Button, Select, TextField } from '@stripe/ui-extension-sdk/ui';
import { installDestinationRoutes, installFakeBackend, ok, type FakeBackend, type FakeDestinations } from '../../test/fakeBackend';
import { settingsResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { AppSettings } from './AppSettings';

let backend: FakeBackend;
let store: FakeDestinations;

function install(klaviyoOAuth: boolean) {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse()),
    'GET /backfill': ok({ backfill: null }),
  });
  store = installDestinationRoutes(backend, { destinations: [], klaviyoOAuth });
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

describe('AppSettings — Connect with Klaviyo', () => {
  it('offers "Connect with Klaviyo" beside the API key when the backend answers an authorize URL', async () => {
    install(true);
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    await settle();
    expect(backend.calls('GET /destinations/klaviyo/authorize-url').map((r) => r.query)).toEqual([{ mode: 'test' }]);
    const button = byText(wrapper, Button, 'Connect with Klaviyo');
    const url = new URL(String(button.prop('href')));
    expect(url.searchParams.get('state')).toMatch(/^klaviyo\./);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    // The API key form stays, for self-hosters.
    expect(wrapper.find(TextField, { label: 'API key' })).toBeTruthy();
    expect(hasText(wrapper, Button, 'Connect Klaviyo')).toBe(true);
    // Loops has no OAuth here.
    wrapper.act(() => wrapper.find(Select, { label: 'Destination' })!.trigger('onChange', { target: { value: 'loops' } }));
    expect(hasText(wrapper, Button, 'Connect with Klaviyo')).toBe(false);
  });

  it('offers only the API key when the backend answers not_configured', async () => {
    install(false);
    const { wrapper, settle } = await loaded();
    press(wrapper, 'Add destination');
    await settle();
    expect(backend.calls('GET /destinations/klaviyo/authorize-url')).toHaveLength(1);
    expect(hasText(wrapper, Button, 'Connect with Klaviyo')).toBe(false);
    expect(wrapper.find(TextField, { label: 'API key' })).toBeTruthy();
    expect(hasText(wrapper, Button, 'Connect Klaviyo')).toBe(true);
  });

  it('completes Klaviyo’s way back once: posts the code and state, and lists the OAuth destination', async () => {
    install(true);
    store.oauthStates.set('klaviyo.fake1', { mode: 'test', used: false });
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'kl-code-1', state: 'klaviyo.fake1' } }));
    await settle();
    expect(backend.calls('POST /destinations/klaviyo/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'kl-code-1', state: 'klaviyo.fake1' },
    ]);
    // Not mistaken for HubSpot's way back.
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
    expect(wrapper.find(Banner, { title: 'Destinations' })!.prop('description')).toBe('Klaviyo (OAuth) is connected with Klaviyo for test mode.');
    expect(hasText(wrapper, Box, 'Klaviyo · connected with Klaviyo · connected 2024-05-02 09:00 UTC')).toBe(true);
    await settle();
    expect(backend.calls('POST /destinations/klaviyo/connect')).toHaveLength(1);
  });

  it('says why when the backend refuses the state, and lists nothing', async () => {
    install(true);
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'kl-code-2', state: 'klaviyo.not-issued' } }));
    await settle();
    expect(backend.calls('POST /destinations/klaviyo/connect')).toHaveLength(1);
    expect(wrapper.find(Banner, { title: 'Klaviyo not connected' })!.prop('description')).toMatch(/^Connecting Klaviyo failed: .*not started by you/);
    expect(hasText(wrapper, Box, 'No destination is connected for test mode.')).toBe(true);
    expect(backend.calls('POST /hubspot/connect')).toHaveLength(0);
  });
});
