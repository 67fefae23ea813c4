jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
  createOAuthState: jest.fn(async () => ({ state: 'oauth-state-1', challenge: 'pkce-challenge-1' })),
}));

import { Banner, Select, SettingsView, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import { defaultSettings, validateSettings, type PutSettingsRequest, type SyncSettings } from '../data/contracts';
import { apiError, installFakeBackend, ok, type FakeBackend, type Reply } from '../../test/fakeBackend';
import { CONNECTION, settingsResponse, viewProps } from '../../test/fixtures';
import { renderView, unmountAll } from '../../test/render';
import { AppSettings } from './AppSettings';

let backend: FakeBackend;

/** PUT /settings as the backend answers it: the same schema, 400 invalid_settings with paths, else the saved document. */
function putLikeTheBackend(req: { body: unknown }): Reply {
  const parsed = validateSettings((req.body as PutSettingsRequest).settings);
  if (!parsed.ok) return apiError(400, 'invalid_settings', 'The settings are not valid', parsed.errors);
  return ok(settingsResponse({ settings: parsed.settings }));
}

beforeEach(() => {
  backend = installFakeBackend({
    'GET /settings': ok(settingsResponse()),
    'GET /backfill': ok({ backfill: null }),
    'PUT /settings': putLikeTheBackend,
  });
});

afterEach(() => {
  unmountAll();
  backend.restore();
  jest.clearAllMocks();
});

async function loaded(settings: SyncSettings = defaultSettings(), over: Parameters<typeof settingsResponse>[0] = {}) {
  backend.route('GET /settings', ok(settingsResponse({ settings, ...over })));
  const view = renderView(<AppSettings {...viewProps()} />);
  await view.settle();
  return view;
}

type Wrapper = Awaited<ReturnType<typeof loaded>>['wrapper'];

const LABELS = {
  companies: 'Link contacts to companies',
  createCompanies: 'Create missing companies',
  deals: 'A deal for each subscription',
  amount: 'Deal amount',
  checkoutDeals: 'Deals for one-off Checkout payments',
  timeline: 'Revenue movements on the contact’s timeline',
  tickets: 'A ticket for each unpaid invoice',
  pipeline: 'Ticket pipeline ID',
  priority: 'Ticket priority',
};

const toggle = (w: Wrapper, label: string, checked: boolean) =>
  w.act(() => w.find(Switch, { label })!.trigger('onChange', { target: { checked } }));
const choose = (w: Wrapper, label: string, value: string) =>
  w.act(() => w.find(Select, { label })!.trigger('onChange', { target: { value } }));
const type = (w: Wrapper, value: string) =>
  w.act(() => w.find(TextField, { label: LABELS.pipeline })!.trigger('onChange', { target: { value } }));
const save = (w: Wrapper) => w.act(() => w.find(SettingsView)!.trigger('onSave', {}));
const pipeline = (w: Wrapper) => w.find(TextField, { label: LABELS.pipeline })!;

describe('AppSettings — companies, deals, timeline, tickets', () => {
  it('shows the defaults: companies, deals and timeline on, tickets off with the default pipeline and high priority', async () => {
    const { wrapper } = await loaded();
    expect(wrapper).toContainText('Companies, deals, timeline and tickets');
    expect(wrapper.find(Switch, { label: LABELS.companies })).toHaveProps({ checked: true });
    expect(wrapper.find(Switch, { label: LABELS.createCompanies })).toHaveProps({ checked: true, disabled: false });
    expect(wrapper.find(Switch, { label: LABELS.deals })).toHaveProps({ checked: true });
    expect(wrapper.find(Select, { label: LABELS.amount })).toHaveProps({ value: 'mrr', disabled: false });
    expect(wrapper.find(Switch, { label: LABELS.checkoutDeals })).toHaveProps({ checked: false });
    expect(wrapper.find(Switch, { label: LABELS.timeline })).toHaveProps({ checked: true });
    expect(wrapper.find(Switch, { label: LABELS.tickets })).toHaveProps({ checked: false });
    // Tickets are off: their pipeline and priority wait, greyed.
    expect(pipeline(wrapper)).toHaveProps({ value: '', disabled: true, invalid: false });
    expect(wrapper.find(Select, { label: LABELS.priority })).toHaveProps({ value: 'HIGH', disabled: true });
  });

  it('says in plain words what each part writes, what it needs and its default', async () => {
    const { wrapper } = await loaded();
    const description = (c: typeof Switch | typeof Select | typeof TextField, label: string) =>
      String(wrapper.find(c, { label })!.prop('description'));
    expect(description(Switch, LABELS.companies)).toMatch(/free email domains .* skipped.*On by default\.$/);
    expect(description(Switch, LABELS.deals)).toMatch(/“Stripe subscriptions” pipeline.*On by default\.$/);
    expect(description(Select, LABELS.amount)).toMatch(/Default: monthly \(MRR\)\.$/);
    expect(description(Switch, LABELS.checkoutDeals)).toMatch(/Off by default\.$/);
    expect(description(Switch, LABELS.timeline)).toMatch(
      /marketplace app get timeline events; private app connections get notes.*On by default\.$/,
    );
    expect(description(Switch, LABELS.tickets)).toMatch(/closed when the invoice is paid or voided.*Off by default\.$/);
    expect(description(TextField, LABELS.pipeline)).toMatch(/Leave it empty for HubSpot’s default support pipeline/);
    expect(description(Select, LABELS.priority)).toMatch(/Default: high\.$/);
    const amountOptions = wrapper.find(Select, { label: LABELS.amount })!.text;
    expect(amountOptions).toContain('Monthly recurring revenue (MRR)');
    expect(amountOptions).toContain('Annual recurring revenue (ARR)');
    expect(wrapper.find(Select, { label: LABELS.priority })!.text).toBe('LowMediumHighUrgent');
  });

  it('tells where the timeline goes for this mode’s connection: events for the marketplace app, notes for a private app', async () => {
    const first = await loaded();
    expect(first.wrapper).toContainText('connected with the marketplace app: movements are written as timeline events');
    unmountAll();

    const second = await loaded(defaultSettings(), { connection: { ...CONNECTION, kind: 'private_app' } });
    expect(second.wrapper).toContainText('connected with a private app token: movements are written as notes');
    expect(second.wrapper).not.toContainText('written as timeline events');
  });

  it('round-trips: what was loaded is saved back with only the merchant’s changes', async () => {
    const stored = defaultSettings();
    stored.events = stored.events.filter((e) => e !== 'invoice.upcoming');
    stored.fields.mrr.property = 'monthly_revenue';
    stored.crm = {
      companies: { enabled: true, create: false },
      deals: { enabled: true, amount: 'arr', checkoutDeals: true },
      timeline: { enabled: false },
      tickets: { enabled: true, pipelineId: '5551234', priority: 'URGENT' },
    };
    const { wrapper, settle } = await loaded(structuredClone(stored));
    expect(wrapper.find(Switch, { label: LABELS.createCompanies })).toHaveProps({ checked: false });
    expect(wrapper.find(Select, { label: LABELS.amount })).toHaveProps({ value: 'arr' });
    expect(wrapper.find(Switch, { label: LABELS.timeline })).toHaveProps({ checked: false });
    expect(pipeline(wrapper)).toHaveProps({ value: '5551234', disabled: false });
    expect(wrapper.find(Select, { label: LABELS.priority })).toHaveProps({ value: 'URGENT', disabled: false });

    // Saved untouched: exactly the stored document.
    save(wrapper);
    await settle();
    expect(backend.calls('PUT /settings').map((r) => r.body)).toEqual([{ mode: 'test', settings: stored }]);

    choose(wrapper, LABELS.priority, 'LOW');
    choose(wrapper, LABELS.amount, 'mrr');
    toggle(wrapper, LABELS.timeline, true);
    type(wrapper, '');
    save(wrapper);
    await settle();
    const expected = structuredClone(stored);
    expected.crm.tickets.priority = 'LOW';
    expected.crm.tickets.pipelineId = null;
    expected.crm.deals.amount = 'mrr';
    expected.crm.timeline.enabled = true;
    expect(backend.calls('PUT /settings')[1].body).toEqual({ mode: 'test', settings: expected });
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Saved');
    // What the backend saved is what the page shows.
    expect(pipeline(wrapper)).toHaveProps({ value: '' });
    expect(wrapper.find(Select, { label: LABELS.priority })).toHaveProps({ value: 'LOW' });
  });

  it('keeps the settings under a part that is turned off, greys them, and saves them', async () => {
    const { wrapper, settle } = await loaded();
    toggle(wrapper, LABELS.tickets, true);
    type(wrapper, '777');
    choose(wrapper, LABELS.priority, 'MEDIUM');
    toggle(wrapper, LABELS.tickets, false);
    toggle(wrapper, LABELS.companies, false);
    toggle(wrapper, LABELS.deals, false);
    expect(pipeline(wrapper)).toHaveProps({ value: '777', disabled: true });
    expect(wrapper.find(Switch, { label: LABELS.createCompanies })).toHaveProps({ checked: true, disabled: true });
    expect(wrapper.find(Select, { label: LABELS.amount })).toHaveProps({ disabled: true });
    expect(wrapper.find(Switch, { label: LABELS.checkoutDeals })).toHaveProps({ disabled: true });

    save(wrapper);
    await settle();
    expect((backend.calls('PUT /settings')[0].body as PutSettingsRequest).settings.crm).toEqual({
      companies: { enabled: false, create: true },
      deals: { enabled: false, amount: 'mrr', checkoutDeals: false },
      timeline: { enabled: true },
      tickets: { enabled: false, pipelineId: '777', priority: 'MEDIUM' },
    });
  });

  it('refuses a pipeline id of only spaces with the schema’s error on the pipeline field, and saves once it is emptied', async () => {
    const { wrapper, settle } = await loaded();
    toggle(wrapper, LABELS.tickets, true);
    type(wrapper, '   ');
    expect(pipeline(wrapper)).toHaveProps({
      value: '   ',
      invalid: true,
      error: 'Enter a ticket pipeline ID, or leave it empty for HubSpot’s default support pipeline',
    });
    expect(wrapper).not.toContainComponent(Banner, { title: 'Settings were not saved' });

    save(wrapper);
    await settle();
    expect(backend.calls('PUT /settings')).toHaveLength(0);
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Fix the highlighted fields, then save again');

    // Tickets turned off with the bad value still there: the field stays editable so it can be fixed.
    toggle(wrapper, LABELS.tickets, false);
    expect(pipeline(wrapper)).toHaveProps({ disabled: false, invalid: true });

    type(wrapper, '');
    expect(pipeline(wrapper)).toHaveProps({ invalid: false, error: undefined, disabled: true });
    save(wrapper);
    await settle();
    const [put] = backend.calls('PUT /settings');
    expect((put.body as PutSettingsRequest).settings.crm.tickets).toEqual({ enabled: false, pipelineId: null, priority: 'HIGH' });
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Saved');
  });

  it('puts the backend’s errors on the crm controls, a part’s own error in its part, and clears one when it is edited', async () => {
    backend.route(
      'PUT /settings',
      apiError(400, 'invalid_settings', 'The settings are not valid', [
        { path: 'crm.tickets.pipelineId', message: 'HubSpot has no ticket pipeline 999' },
        { path: 'crm.deals.amount', message: 'Invalid option: expected one of "mrr"|"arr"' },
        { path: 'crm.companies', message: 'Unrecognized key: "domainsOnly"' },
      ]),
    );
    const stored = defaultSettings();
    stored.crm.tickets = { enabled: true, pipelineId: '999', priority: 'HIGH' };
    const { wrapper, settle } = await loaded(stored);
    save(wrapper);
    await settle();

    expect(pipeline(wrapper)).toHaveProps({ invalid: true, error: 'HubSpot has no ticket pipeline 999' });
    expect(wrapper.find(Select, { label: LABELS.amount })).toHaveProps({
      invalid: true,
      error: 'Invalid option: expected one of "mrr"|"arr"',
    });
    expect(wrapper.find(Banner, { title: 'Companies' })).toHaveProps({ description: 'Unrecognized key: "domainsOnly"' });
    // Every message has its place: nothing in the page's general banner.
    expect(wrapper).not.toContainComponent(Banner, { title: 'Settings were not saved' });
    expect(wrapper.find(SettingsView)!.prop('statusMessage')).toBe('Fix the highlighted fields, then save again');

    type(wrapper, '1000');
    expect(pipeline(wrapper)).toHaveProps({ invalid: false, error: undefined });
    expect(wrapper.find(Select, { label: LABELS.amount })).toHaveProps({ invalid: true });
  });
});
