jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Badge, Banner, Button } from '@stripe/ui-extension-sdk/ui';
import type { ConnectionHealth, HubSpotConnection } from '../data/contracts';
import { apiError, installFakeBackend, ok, type FakeBackend } from '../../test/fakeBackend';
import { CONNECTION, settingsResponse, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { AppSettings } from './AppSettings';

/** The settings page shows what HubSpot refuses of the connection, and offers what fixes it. */

let backend: FakeBackend;

const health = (over: Partial<ConnectionHealth> = {}): ConnectionHealth => ({
  state: 'ok',
  code: null,
  message: null,
  since: null,
  waiting: 0,
  propertyProblems: [],
  ...over,
});

function withConnection(connection: HubSpotConnection) {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse({ connection })),
    'GET /backfill': ok({ backfill: null }),
  });
}

async function loaded() {
  const view = renderView(<AppSettings {...viewProps()} />);
  await view.settle();
  return view;
}

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

describe('HubSpot connection health', () => {
  it('a healthy connection says Connected and nothing more', async () => {
    withConnection({ ...CONNECTION, health: health() });
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Connected')).toBe(true);
    expect(wrapper).not.toContainComponent(Banner, { title: 'Writing to HubSpot is paused' });
    expect(wrapper).not.toContainComponent(Banner, { title: 'Reconnect HubSpot' });
    expect(hasText(wrapper, Button, 'Reconnect HubSpot')).toBe(false);
  });

  it('a paused private-app connection: HubSpot’s reason, since when, what is kept, and no reconnect button', async () => {
    withConnection({
      ...CONNECTION,
      kind: 'private_app',
      health: health({
        state: 'paused',
        code: 'INVALID_AUTHENTICATION',
        message: 'Authentication credentials not found.',
        since: '2024-06-01T08:30:00.000Z',
        waiting: 12,
      }),
    });
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Paused')).toBe(true);
    expect(hasText(wrapper, Badge, 'Connected')).toBe(false);
    const banner = wrapper.find(Banner, { title: 'Writing to HubSpot is paused' })!;
    expect(banner.prop('type')).toBe('caution');
    const text = banner.prop('description') as string;
    expect(text).toContain('“Authentication credentials not found.” (INVALID_AUTHENTICATION)');
    expect(text).toContain('Since 2024-06-01 08:30 UTC');
    expect(text).toContain('12 customers are kept');
    expect(text).toContain('resumes by itself');
    expect(wrapper).toContainText('private app token');
    expect(hasText(wrapper, Button, 'Reconnect HubSpot')).toBe(false);
  });

  it('a broken OAuth connection offers Reconnect, which leads to HubSpot', async () => {
    withConnection({
      ...CONNECTION,
      health: health({ state: 'broken', code: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', since: '2024-06-02T09:00:00.000Z', waiting: 1 }),
    });
    backend.route('GET /hubspot/authorize-url', ok({ url: 'https://app.hubspot.com/oauth/authorize?client_id=x&state=oauth-state-1' }));
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Badge, 'Reconnect needed')).toBe(true);
    const banner = wrapper.find(Banner, { title: 'Reconnect HubSpot' })!;
    expect(banner.prop('type')).toBe('critical');
    expect(banner.prop('description')).toContain('(BAD_REFRESH_TOKEN)');
    expect(banner.prop('description')).toContain('1 customer is kept and written as soon as you reconnect');

    wrapper.act(() => byText(wrapper, Button, 'Reconnect HubSpot').trigger('onPress'));
    await settle();
    expect(backend.calls('GET /hubspot/authorize-url')[0].query).toEqual({ mode: 'test', state: 'oauth-state-1', challenge: 'pkce-challenge-1' });
    expect(byText(wrapper, Button, 'Continue to HubSpot').prop('href')).toBe('https://app.hubspot.com/oauth/authorize?client_id=x&state=oauth-state-1');
  });

  it('lists the properties HubSpot would not create', async () => {
    withConnection({
      ...CONNECTION,
      health: health({ propertyProblems: [{ property: 'stripe_mrr', message: 'Property limit reached', since: '2024-06-03T10:00:00.000Z' }] }),
    });
    const { wrapper } = await loaded();
    expect(hasText(wrapper, Badge, 'Connected')).toBe(true);
    const banner = wrapper.find(Banner, { title: 'Some fields are not written' })!;
    expect(banner.prop('description')).toContain('stripe_mrr (“Property limit reached”, since 2024-06-03 10:00 UTC)');
    expect(banner.prop('description')).toContain('The other fields are written');
  });
});

describe('Test HubSpot connection', () => {
  const paused = () => ({
    ...CONNECTION,
    kind: 'private_app' as const,
    health: health({ state: 'paused', code: 'INVALID_AUTHENTICATION', message: 'Authentication credentials not found.', since: '2024-06-01T08:30:00.000Z', waiting: 3 }),
  });

  it('a paused connection that works again: the check lifts the pause and says what happens to the kept customers', async () => {
    withConnection(paused());
    const message = `HubSpot portal ${CONNECTION.portalId} answers: the connection works. The 3 customers kept while it was refused are being written now.`;
    backend.route('POST /hubspot/connection/test', ok({ ok: true, message, connection: { ...CONNECTION, kind: 'private_app', health: health() } }));
    const { wrapper, settle } = await loaded();
    expect(hasText(wrapper, Badge, 'Paused')).toBe(true);

    wrapper.act(() => byText(wrapper, Button, 'Test HubSpot connection').trigger('onPress'));
    await settle();
    const calls = backend.calls('POST /hubspot/connection/test');
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toEqual({ mode: 'test' });
    expect(hasText(wrapper, Badge, 'Connected')).toBe(true);
    expect(wrapper).not.toContainComponent(Banner, { title: 'Writing to HubSpot is paused' });
    expect(wrapper.find(Banner, { title: 'HubSpot answers' })!.prop('description')).toBe(message);
  });

  it('a connection HubSpot still refuses stays paused, with what the check found', async () => {
    withConnection(paused());
    const message = 'HubSpot refuses our access: Authentication credentials not found. Writing is paused and every change is kept.';
    backend.route('POST /hubspot/connection/test', ok({ ok: false, message, connection: paused() }));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Test HubSpot connection').trigger('onPress'));
    await settle();
    expect(hasText(wrapper, Badge, 'Paused')).toBe(true);
    const banner = wrapper.find(Banner, { title: 'HubSpot did not accept the check' })!;
    expect(banner.prop('type')).toBe('caution');
    expect(banner.prop('description')).toBe(message);
  });

  it('a check the backend cannot make is an error, and the connection shown is unchanged', async () => {
    withConnection({ ...CONNECTION, health: health() });
    backend.route('POST /hubspot/connection/test', apiError(404, 'not_connected', 'No HubSpot portal is connected for test mode'));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Test HubSpot connection').trigger('onPress'));
    await settle();
    const banner = wrapper.find(Banner, { title: 'HubSpot connection' })!;
    expect(banner.prop('type')).toBe('critical');
    expect(banner.prop('description')).toContain('Could not check the HubSpot connection');
    expect(hasText(wrapper, Badge, 'Connected')).toBe(true);
    expect(wrapper).not.toContainComponent(Banner, { title: 'HubSpot answers' });
  });
});
