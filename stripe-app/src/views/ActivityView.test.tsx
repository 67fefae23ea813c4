jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Badge, Banner, Box, Button, Link, Select, Spinner } from '@stripe/ui-extension-sdk/ui';
import { apiError, deferred, installFakeBackend, ok, type FakeBackend, type Reply } from '../../test/fakeBackend';
import { activityResponse, CONNECTION, pendingConnection, viewProps } from '../../test/fixtures';
import { byText, hasText, renderView, unmountAll } from '../../test/render';
import { ActivityView } from './ActivityView';
import type { ActivityEvent, FailedEvent } from '../data/contracts';

let backend: FakeBackend;

beforeEach(() => {
  backend = installFakeBackend({ 'GET /activity': ok(activityResponse()) });
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

describe('ActivityView', () => {
  it('shows a spinner while loading', () => {
    backend.route('GET /activity', () => new Promise<Reply>(() => undefined));
    const { wrapper } = renderView(<ActivityView {...viewProps()} />);
    expect(wrapper).toContainComponent(Spinner);
    expect(wrapper).toContainText('Loading activity…');
  });

  it('shows the counts of the last 24 hours and the mode', async () => {
    const { wrapper } = await loaded();
    expect(backend.calls('GET /activity')[0].query).toEqual({ mode: 'test', limit: '50' });
    expect(hasText(wrapper, Badge, 'Test mode')).toBe(true);
    const counts = wrapper.findAll(Box).map((b) => b.text);
    for (const c of ['12Synced', '3Skipped', '2Failed', '5Ignored', '1Pending']) expect(counts).toContain(c);
  });

  it('lists recent events with their outcome and the reason or HubSpot’s message', async () => {
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('invoice.paid');
    expect(hasText(wrapper, Badge, 'Synced')).toBe(true);
    expect(hasText(wrapper, Badge, 'Skipped')).toBe(true);
    expect(hasText(wrapper, Badge, 'Failed')).toBe(true);
    expect(hasText(wrapper, Box, 'Skipped: Customer has no email address')).toBe(true);
    expect(hasText(wrapper, Box, 'HubSpot said: Property "stripe_mrr" does not exist')).toBe(true);
  });

  it('filters by outcome through the backend', async () => {
    const { wrapper, settle } = await loaded();
    backend.route('GET /activity', (req) =>
      ok(activityResponse({ events: activityResponse().events.filter((e) => e.outcome === req.query.outcome) })),
    );
    wrapper.act(() => wrapper.find(Select, { label: 'Show' })!.trigger('onChange', { target: { value: 'failed' } }));
    expect(wrapper).toContainText('Loading events…');
    expect(wrapper).toContainText('Needs attention (2)');
    await settle();
    expect(wrapper).not.toContainText('Loading events…');
    expect(backend.calls('GET /activity')[1].query).toEqual({ mode: 'test', outcome: 'failed', limit: '50' });
    expect(wrapper.find(Select, { label: 'Show' })).toHaveProps({ value: 'failed' });
    expect(wrapper).toContainText('charge.succeeded');
    expect(wrapper).not.toContainText('invoice.paid');
  });

  it('says so when a filter matches nothing', async () => {
    backend.route('GET /activity', ok(activityResponse({ events: [] })));
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainText('No events received yet in this mode.');
    wrapper.act(() => wrapper.find(Select, { label: 'Show' })!.trigger('onChange', { target: { value: 'pending' } }));
    await settle();
    expect(wrapper).toContainText('No pending events.');
  });

  it('replays one dead letter, shows it pending, then reloads', async () => {
    const answer = deferred();
    backend.route('POST /dead-letters/replay', () => answer.promise);
    const { wrapper, settle } = await loaded();
    expect(wrapper).toContainText('Needs attention (2)');
    expect(wrapper).toContainText('Contact was merged');

    const replayButtons = wrapper.findAll(Button).filter((b) => b.text === 'Replay');
    expect(replayButtons).toHaveLength(2);
    wrapper.act(() => replayButtons[1].trigger('onPress'));
    await settle();
    const buttons = wrapper.findAll(Button).filter((b) => b.text === 'Replay');
    expect(buttons[1].prop('pending')).toBe(true);
    expect(buttons[0].prop('disabled')).toBe(true);
    expect(backend.calls('POST /dead-letters/replay').map((r) => r.body)).toEqual([{ mode: 'test', ids: ['dl_2'] }]);

    backend.route('GET /activity', ok(activityResponse({ deadLetters: activityResponse().deadLetters.slice(0, 1) })));
    answer.resolve(ok({ replayed: 1 }));
    await settle();
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('1 item was queued for another try.');
    expect(backend.calls('GET /activity')).toHaveLength(2);
    expect(wrapper).toContainText('Needs attention (1)');
    expect(wrapper).not.toContainText('Contact was merged');
  });

  it('replays all dead letters', async () => {
    backend.route('POST /dead-letters/replay', ok({ replayed: 2 }));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Replay all').trigger('onPress'));
    await settle();
    expect(backend.calls('POST /dead-letters/replay').map((r) => r.body)).toEqual([{ mode: 'test', all: true }]);
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('2 items were queued for another try.');
  });

  it('keeps the list and explains a failed replay', async () => {
    backend.route('POST /dead-letters/replay', apiError(409, 'bad_request', 'Already replaying'));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => byText(wrapper, Button, 'Replay all').trigger('onPress'));
    await settle();
    expect(wrapper.find(Banner, { title: 'Replay' })).toHaveProps({ type: 'critical', description: 'Replay failed: Already replaying' });
    expect(wrapper).toContainText('Needs attention (2)');
  });

  it('a merchant not connected yet: "not connected", a link to the settings page, nothing that says otherwise', async () => {
    backend.route('GET /activity', apiError(409, 'not_connected', 'No HubSpot connection for test mode'));
    const { wrapper } = await loaded();
    expect(wrapper.find(Banner, { title: 'HubSpot is not connected' })!.prop('description')).toMatch(/test mode/);
    expect(byText(wrapper, Link, 'Open the app’s settings to connect HubSpot').prop('href')).toBe(
      'https://dashboard.stripe.com/test/settings/apps/com.stripe-hubspot-sync.app',
    );
    expect(wrapper).not.toContainComponent(Banner, { title: 'HubSpot connected' });
    expect(wrapper).not.toContainText('Needs attention');
  });

  it('links to the live-mode settings page in live mode', async () => {
    backend.route('GET /activity', apiError(409, 'not_connected', 'No HubSpot connection for live mode'));
    const { wrapper } = await loaded(viewProps({ mode: 'live' }));
    expect(byText(wrapper, Link, 'Open the app’s settings to connect HubSpot').prop('href')).toBe(
      'https://dashboard.stripe.com/settings/apps/com.stripe-hubspot-sync.app',
    );
  });

  it('explains an unreachable backend and retries', async () => {
    backend.route('GET /activity', 'network-error');
    const { wrapper, settle } = await loaded();
    expect(wrapper.find(Banner, { title: 'Activity could not be loaded' })!.prop('description')).toMatch(/can’t be reached/);
    backend.route('GET /activity', ok(activityResponse()));
    wrapper.act(() => byText(wrapper, Button, 'Try again').trigger('onPress'));
    await settle();
    expect(wrapper).toContainText('Needs attention (2)');
  });

  it('finishes a HubSpot OAuth that returned to the drawer: confirm, then the activity of the new connection', async () => {
    backend.route('GET /activity', apiError(409, 'not_connected', 'No HubSpot connection for test mode'));
    backend.route('POST /hubspot/connect', ok({ pending: pendingConnection() }));
    const confirmed = deferred();
    backend.route('POST /hubspot/connect/confirm', () => confirmed.promise);
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'c1', state: 's1', verifier: 'v1' } }));
    expect(backend.calls('POST /hubspot/connect').map((r) => r.body)).toEqual([
      { mode: 'test', code: 'c1', state: 's1', verifier: 'v1' },
    ]);
    const banners = () => wrapper.findAll(Banner).map((b) => b.prop('title'));
    // Waiting for the merchant: the portal to confirm, not "not connected" (and certainly not "connected").
    expect(banners()).toContain('Connect this HubSpot portal?');
    expect(banners()).not.toContain('HubSpot is not connected');
    expect(banners()).not.toContain('HubSpot connected');

    backend.route('GET /activity', ok(activityResponse()));
    wrapper.act(() => byText(wrapper, Button, 'Connect this portal').trigger('onPress'));
    await settle();
    expect(backend.calls('GET /activity')).toHaveLength(1);
    confirmed.resolve(ok({ connection: CONNECTION }));
    await settle();
    expect(backend.calls('POST /hubspot/connect/confirm').map((r) => r.body)).toEqual([{ mode: 'test', portalId: 424242 }]);
    // The activity is loaded again for the new connection: only "connected" is said.
    expect(backend.calls('GET /activity')).toHaveLength(2);
    expect(banners()).toContain('HubSpot connected');
    expect(banners()).not.toContain('HubSpot is not connected');
    expect(wrapper.find(Banner, { title: 'HubSpot connected' })!.prop('description')).toMatch(/424242/);
    expect(wrapper).toContainText('Needs attention (2)');
  });

  it('never says "connected" while the reloaded activity still says not connected', async () => {
    backend.route('GET /activity', apiError(409, 'not_connected', 'No HubSpot connection for test mode'));
    backend.route('POST /hubspot/connect', ok({ pending: pendingConnection() }));
    backend.route('POST /hubspot/connect/confirm', ok({ connection: CONNECTION }));
    const { wrapper, settle } = await loaded(viewProps({ oauthContext: { code: 'c1', state: 's1', verifier: 'v1' } }));
    wrapper.act(() => byText(wrapper, Button, 'Connect this portal').trigger('onPress'));
    await settle();
    expect(backend.calls('GET /activity')).toHaveLength(2);
    const titles = wrapper.findAll(Banner).map((b) => b.prop('title'));
    expect(titles).toContain('HubSpot is not connected');
    expect(titles).not.toContain('HubSpot connected');
  });
});

describe('ActivityView — answers arriving out of order', () => {
  it('never lets an older filter’s answer replace the newer one', async () => {
    const { wrapper, settle } = await loaded();
    const failed = deferred();
    const pending = deferred();
    backend.route('GET /activity', (req) => (req.query.outcome === 'failed' ? failed.promise : pending.promise));
    const select = () => wrapper.find(Select, { label: 'Show' })!;
    wrapper.act(() => select().trigger('onChange', { target: { value: 'failed' } }));
    await settle();
    wrapper.act(() => select().trigger('onChange', { target: { value: 'pending' } }));
    await settle();

    const pendingEvent = { ...activityResponse().events[0], id: 'evt_pending', type: 'customer.updated', outcome: 'pending' as const };
    pending.resolve(ok(activityResponse({ events: [pendingEvent] })));
    await settle();
    failed.resolve(ok(activityResponse({ events: activityResponse().events.filter((e) => e.outcome === 'failed') })));
    await settle();

    expect(wrapper).toContainText('customer.updated');
    expect(wrapper).not.toContainText('charge.succeeded');
  });
});

describe('ActivityView — events that could not be processed', () => {
  const FAILED: FailedEvent[] = [
    {
      id: 'evt_bad_1',
      type: 'invoice.paid',
      created: 1714557900,
      receivedAt: '2024-05-01T10:05:00.000Z',
      failedAt: '2024-05-01T12:00:00.000Z',
      reason: 'Could not be processed (11 attempts): the database is away',
      replayable: true,
    },
    {
      id: 'evt_bad_2',
      type: 'customer.updated',
      created: 1714000000,
      receivedAt: '2024-04-25T00:00:00.000Z',
      failedAt: '2024-04-25T02:00:00.000Z',
      reason: 'Never processed: no job ran it, even after it was enqueued again. Replay it to try again.',
      replayable: false,
    },
  ];
  const processingFailure: ActivityEvent = {
    id: 'evt_bad_1',
    type: 'invoice.paid',
    created: 1714557900,
    receivedAt: '2024-05-01T10:05:00.000Z',
    outcome: 'failed',
    reason: 'Could not be processed (11 attempts): the database is away',
    customerId: null,
    failure: 'processing',
  };

  beforeEach(() => {
    backend.route('GET /activity', ok(activityResponse({ failedEvents: FAILED, events: [processingFailure] })));
  });

  /** The section: the largest box that starts with its heading (remote-ui finds host components only). */
  const section = (wrapper: Awaited<ReturnType<typeof loaded>>['wrapper']) =>
    wrapper
      .findAll(Box)
      .filter((b) => b.text.startsWith('Could not be processed ('))
      .sort((a, b) => b.findAll(Button).length - a.findAll(Button).length)[0];

  it('lists them with our error, and says which ones can no longer be replayed', async () => {
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('Could not be processed (2)');
    expect(hasText(wrapper, Box, 'Could not be processed (11 attempts): the database is away')).toBe(true);
    // One Replay: the event whose data is still kept.
    expect(section(wrapper).findAll(Button).map((b) => b.text)).toEqual(['Replay all', 'Replay']);
    expect(section(wrapper)).toContainText('cannot be replayed');
    // In the event list, our own error is not presented as HubSpot's.
    expect(wrapper).not.toContainText('HubSpot said: Could not be processed');
  });

  it('replays one, shows it pending, then reloads', async () => {
    const answer = deferred();
    backend.route('POST /events/replay', () => answer.promise);
    const { wrapper, settle } = await loaded();
    const replay = () => section(wrapper).findAll(Button).find((b) => b.text === 'Replay')!;
    wrapper.act(() => replay().trigger('onPress'));
    await settle();
    expect(replay().prop('pending')).toBe(true);
    expect(backend.calls('POST /events/replay').map((r) => r.body)).toEqual([{ mode: 'test', ids: ['evt_bad_1'] }]);
    expect(backend.calls('POST /dead-letters/replay')).toHaveLength(0);

    backend.route('GET /activity', ok(activityResponse({ failedEvents: FAILED.slice(1) })));
    answer.resolve(ok({ replayed: 1 }));
    await settle();
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('1 event was queued to be processed again.');
    expect(backend.calls('GET /activity')).toHaveLength(2);
    expect(wrapper).toContainText('Could not be processed (1)');
  });

  it('replays all of them', async () => {
    backend.route('POST /events/replay', ok({ replayed: 1 }));
    const { wrapper, settle } = await loaded();
    wrapper.act(() => section(wrapper).findAll(Button).find((b) => b.text === 'Replay all')!.trigger('onPress'));
    await settle();
    expect(backend.calls('POST /events/replay').map((r) => r.body)).toEqual([{ mode: 'test', all: true }]);
    expect(wrapper.find(Banner, { title: 'Replay' })!.prop('description')).toBe('1 event was queued to be processed again.');
  });

  it('shows nothing of them when every event was processed', async () => {
    backend.route('GET /activity', ok(activityResponse()));
    const { wrapper } = await loaded();
    expect(wrapper).not.toContainText('Could not be processed');
    expect(wrapper).toContainText('Needs attention (2)');
  });
});
