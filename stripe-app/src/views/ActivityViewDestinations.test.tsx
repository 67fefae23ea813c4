jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Badge, Banner, Box, Button, ContextView, Select } from '@stripe/ui-extension-sdk/ui';
import {
  apiError,
  deferred,
  installDestinationRoutes,
  installFakeBackend,
  ok,
  type FakeBackend,
  type FakeDestinations,
} from '../../test/fakeBackend';
import { activityResponse, destinationActivity, destinationSummary, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { ActivityView } from './ActivityView';

let backend: FakeBackend;
let store: FakeDestinations;

beforeEach(() => {
  backend = installFakeBackend({ 'GET /activity': ok(activityResponse()) });
  store = installDestinationRoutes(backend, {
    destinations: [
      destinationSummary('klaviyo'),
      destinationSummary('loops', {
        health: { state: 'broken', message: 'Invalid API key', checkedAt: '2024-05-02T08:00:00.000Z' },
      }),
    ],
    activity: { dst_klaviyo: destinationActivity() },
  });
});

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function loaded(props = viewProps()) {
  const view = renderView(<ActivityView {...props} />);
  await view.settle();
  return view;
}

type Wrapper = Awaited<ReturnType<typeof loaded>>['wrapper'];
const choose = (w: Wrapper, value: string) =>
  w.act(() => w.find(Select, { label: 'Activity of' })!.trigger('onChange', { target: { value } }));
const replayButtons = (w: Wrapper) => w.findAll(Button).filter((b) => b.text === 'Replay');

describe('ActivityView — destinations', () => {
  it('offers no filter when no destination is connected, or the backend has none', async () => {
    store.destinations = [];
    const first = await loaded();
    expect(first.wrapper).not.toContainComponent(Select, { label: 'Activity of' });
    expect(first.wrapper).toContainText('Recent events');
    first.unmount();

    backend.route('GET /destinations', apiError(404, 'not_found', 'No route GET /destinations'));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainComponent(Select, { label: 'Activity of' });
    expect(wrapper).toContainText('invoice.paid');
  });

  it('shows HubSpot by default, and a chosen destination’s counts, recent writes and dead letters', async () => {
    const { wrapper, settle } = await loaded();
    const filter = wrapper.find(Select, { label: 'Activity of' })!;
    expect(filter.prop('value')).toBe('hubspot');
    expect(filter.text).toBe('HubSpotAcme (Klaviyo)Acme team (Loops)');
    expect(backend.calls('GET /destinations').map((r) => r.query)).toEqual([{ mode: 'test' }]);
    expect(wrapper).toContainText('invoice.paid');

    choose(wrapper, 'dst_klaviyo');
    await settle();
    expect(backend.calls('GET /destinations/dst_klaviyo/activity').map((r) => r.query)).toEqual([{ mode: 'test' }]);
    expect(wrapper.find(ContextView)!.prop('title')).toBe('Acme (Klaviyo) sync activity');
    const boxes = wrapper.findAll(Box).map((b) => b.text);
    for (const c of ['40Synced', '2Pending', '2Failed']) expect(boxes).toContain(c);
    expect(wrapper).toContainText('Needs attention (2)');
    expect(hasText(wrapper, Box, 'Invalid email address')).toBe(true);
    expect(hasText(wrapper, Box, 'cus_DL1 · 5 attempts · 2024-05-02 06:00 UTC')).toBe(true);
    expect(hasText(wrapper, Box, 'cus_R1')).toBe(true);
    expect(hasText(wrapper, Box, '2024-05-02 08:00 UTC · 3 events sent')).toBe(true);
    // HubSpot's own events are not mixed in.
    expect(wrapper).not.toContainText('invoice.paid');
    expect(wrapper).not.toContainText('Recent events');

    choose(wrapper, 'hubspot');
    await settle();
    expect(wrapper).toContainText('invoice.paid');
    expect(wrapper).not.toContainText('Invalid email address');
  });

  it('says when a destination refuses its key, with nothing written yet', async () => {
    const { wrapper, settle } = await loaded();
    choose(wrapper, 'dst_loops');
    await settle();
    expect(hasText(wrapper, Badge, 'Key refused')).toBe(true);
    expect(wrapper.find(Banner, { title: 'Loops refuses the key' })!.prop('description')).toMatch(/^Loops says: “Invalid API key”/);
    expect(wrapper).toContainText('Needs attention (0)');
    expect(wrapper).toContainText('Nothing has been written to Acme team (Loops) yet in this mode.');
  });

  it('replays one dead letter, shows it pending, then reloads the destination’s activity', async () => {
    const answer = deferred();
    const { wrapper, settle } = await loaded();
    choose(wrapper, 'dst_klaviyo');
    await settle();
    // The fake's own replay, held back until the test releases it.
    const key = 'POST /destinations/:id/dead-letters/replay';
    const replay = store.handlers[key];
    backend.route(key, async (req, params) => {
      await answer.promise;
      return replay(req, params);
    });

    expect(replayButtons(wrapper)).toHaveLength(2);
    wrapper.act(() => replayButtons(wrapper)[1].trigger('onPress'));
    await settle();
    expect(replayButtons(wrapper)[1].prop('pending')).toBe(true);
    expect(replayButtons(wrapper)[0].prop('disabled')).toBe(true);
    expect(backend.calls('POST /destinations/dst_klaviyo/dead-letters/replay').map((r) => r.body)).toEqual([
      { mode: 'test', customerIds: ['cus_DL2'] },
    ]);

    answer.resolve(ok({ released: true }));
    await settle();
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('1 customer was queued for another try.');
    expect(backend.calls('GET /destinations/dst_klaviyo/activity')).toHaveLength(2);
    expect(wrapper).toContainText('Needs attention (1)');
    expect(hasText(wrapper, Box, 'Property stripeMrr has the wrong type')).toBe(false);
    expect(wrapper.findAll(Box).map((b) => b.text)).toContain('3Pending');
  });

  it('replays all of a destination’s dead letters with the fake backend', async () => {
    const { wrapper, settle } = await loaded();
    choose(wrapper, 'dst_klaviyo');
    await settle();
    wrapper.act(() => byText(wrapper, Button, 'Replay all').trigger('onPress'));
    await settle();
    expect(backend.calls('POST /destinations/dst_klaviyo/dead-letters/replay').map((r) => r.body)).toEqual([
      { mode: 'test', all: true },
    ]);
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('2 customers were queued for another try.');
    expect(wrapper).toContainText('Needs attention (0)');
    expect(store.activity.dst_klaviyo.deadLetters).toEqual([]);
    const boxes = wrapper.findAll(Box).map((b) => b.text);
    for (const c of ['0Failed', '4Pending']) expect(boxes).toContain(c);
  });

  it('keeps the dead letters and explains a failed replay', async () => {
    backend.route('POST /destinations/:id/dead-letters/replay', apiError(409, 'bad_request', 'A replay is already running'));
    const { wrapper, settle } = await loaded();
    choose(wrapper, 'dst_klaviyo');
    await settle();
    wrapper.act(() => byText(wrapper, Button, 'Replay all').trigger('onPress'));
    await settle();
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('Replay failed: A replay is already running');
    expect(wrapper).toContainText('Needs attention (2)');
  });

  it('shows a destination’s activity while HubSpot is not connected', async () => {
    backend.route('GET /activity', apiError(409, 'not_connected', 'HubSpot is not connected'));
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainComponent(Banner, { title: 'HubSpot is not connected' });
    choose(wrapper, 'dst_klaviyo');
    await settle();
    expect(wrapper).not.toContainComponent(Banner, { title: 'HubSpot is not connected' });
    expect(wrapper).toContainText('Needs attention (2)');
  });

  it('explains a destination activity that could not be loaded, and retries', async () => {
    backend.route('GET /destinations/:id/activity', 'network-error');
    const { wrapper, settle } = await loaded();
    choose(wrapper, 'dst_klaviyo');
    await settle();
    expect(wrapper.find(Banner, { title: 'The activity of Acme (Klaviyo) could not be loaded' })!.prop('description')).toMatch(
      /can’t be reached/,
    );
    installDestinationRoutes(backend, { destinations: store.destinations, activity: { dst_klaviyo: destinationActivity() } });
    wrapper.act(() => byText(wrapper, Button, 'Try again').trigger('onPress'));
    await settle();
    expect(wrapper).toContainText('Needs attention (2)');
  });
});
