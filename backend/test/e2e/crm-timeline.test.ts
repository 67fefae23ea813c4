import { Client } from '@hubspot/api-client';
import type { TimelineEventTemplateCreateRequest } from '@hubspot/api-client/lib/codegen/crm/timeline';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET, type AppCaller } from '../helpers/app-api';
import { oauthAttempt, requestAuthorizeUrl } from '../helpers/hubspot-oauth';
import { chargeSucceeded, invoiceEvent, refundEvent, subscriptionEvent, type SubState } from '../helpers/movement-events';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';
import { ALL_SCOPES } from '../fakes/hubspot/test-support';
import { clearLostAnswers, loseAnswers } from '../fakes/hubspot/lost-answers';
import { TIMELINE_TEMPLATE } from '../../src/domain/crm/timeline';

/**
 * Revenue movements on the contact, signed webhooks in → fake HubSpot out: notes for a private-app install (and an
 * OAuth install without the timeline scope), timeline events of the app's template for a marketplace install. Each
 * movement exactly once: shuffled and duplicated delivery (an upgrade arriving after the downgrade that followed it),
 * and a create whose answer was lost. The "last MRR change" contact properties follow.
 */

type Json = Record<string, unknown>;
const T = 1_790_000_000;
const basic: SubState = { status: 'active', amount: 1000, plan: 'Basic' };
const pro: SubState = { status: 'active', amount: 3000, plan: 'Pro' };
const team: SubState = { status: 'active', amount: 2000, plan: 'Team' };
const PUSHER = { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } };
const HUBSPOT_RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const MARKER = /\[Stripe movement ([^\]]+)\]/;

/** A customer's story: created with an email, a Basic subscription; then an upgrade to Pro and a downgrade to Team. */
function planChanges(c: string, account?: string) {
  const sub = { id: `sub_${c}`, customer: c };
  const at = (e: Json) => (account ? { ...e, account } : e);
  return {
    sub,
    customer: at(stripeEvent('customer.created', stripeObject('customer', { id: c, email: `${c}@example.com`, created: T }), { id: `evt_${c}_cus`, created: T })),
    created: at(subscriptionEvent('created', sub, basic, { id: `evt_${c}_new`, created: T + 10 })),
    upgrade: at(subscriptionEvent('updated', sub, pro, { id: `evt_${c}_up`, created: T + 100, before: basic })),
    downgrade: at(subscriptionEvent('updated', sub, team, { id: `evt_${c}_down`, created: T + 200, before: pro })),
    ids: { new: `${sub.id}:evt_${c}_new:new`, upgrade: `${sub.id}:evt_${c}_up:upgrade`, downgrade: `${sub.id}:evt_${c}_down:downgrade` },
  };
}

function paymentStory(c: string, account?: string) {
  const at = (e: Json) => (account ? { ...e, account } : e);
  const inv = { id: `in_${c}`, customer: c, amount: 4999 };
  const ch = { id: `ch_${c}`, customer: c, amount: 2500 };
  return {
    customer: at(stripeEvent('customer.created', stripeObject('customer', { id: c, email: `${c}@example.com`, created: T }), { id: `evt_${c}_cus`, created: T })),
    failed: at(invoiceEvent('payment_failed', inv, { id: `evt_${c}_fail`, created: T + 300, attempt: 1 })),
    paid: at(invoiceEvent('paid', inv, { id: `evt_${c}_paid`, created: T + 400, attempt: 2 })),
    charge: at(chargeSucceeded(ch, { id: `evt_${c}_ch`, created: T + 500 })),
    refund: at(refundEvent(ch, 500, { id: `evt_${c}_refund`, created: T + 600, previousRefunded: 0 })),
    ids: { failed: `${inv.id}:failed:1`, recovered: `${inv.id}:recovered`, refund: `${ch.id}:refund:500` },
  };
}

/** The movement ids the notes on a contact carry, sorted (one entry per note). */
function noteMovements(hubspot: FakeHubSpot, portalId: number, contactId: string): string[] {
  const portal = hubspot.portal(portalId);
  const ids = new Set(portal.associations('notes', 'contacts').filter((a) => a.toId === contactId).map((a) => a.fromId));
  return portal
    .notes()
    .filter((n) => ids.has(n.id))
    .map((n) => MARKER.exec(n.properties.hs_note_body ?? '')?.[1] ?? `unmarked:${n.id}`)
    .sort();
}

const sorted = (ids: string[]) => [...ids].sort();

describe.each(dbKinds())('revenue movements as notes (private app) on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, engine: { pusher: PUSHER, hubspotRetry: HUBSPOT_RETRY } });
  });
  afterAll(async () => {
    await h?.stop();
  });
  const notesOf = (customerId: string) => noteMovements(h.hubspot, h.portalId, h.contactOf(customerId)!.id);
  const noteCreates = () => h.hubspot.requestCount({ portalId: h.portalId, pathPrefix: '/crm/v3/objects/notes/batch/create', method: 'POST' });

  it('an upgrade delivered after the downgrade that followed it, twice over: exactly new, upgrade, downgrade, once each', async () => {
    const s = planChanges('cus_tln1');
    await h.send(s.customer, s.created);
    await h.idle();
    expect(notesOf('cus_tln1')).toEqual([s.ids.new]);
    expect(h.contactOf('cus_tln1')!.properties).toMatchObject({ stripe_last_mrr_movement: 'new', stripe_last_mrr_change_amount: '10.00' });

    await h.send(s.downgrade, s.downgrade);
    await h.idle();
    expect(notesOf('cus_tln1')).toEqual(sorted([s.ids.new, s.ids.downgrade]));
    // The upgrade comes late: its subscription version is superseded, yet its movement reaches the contact.
    await h.send(s.upgrade, s.created, s.upgrade);
    await h.idle();
    expect(notesOf('cus_tln1')).toEqual(sorted([s.ids.new, s.ids.upgrade, s.ids.downgrade]));
    const contact = h.contactOf('cus_tln1')!;
    expect(contact.properties).toMatchObject({
      stripe_last_mrr_movement: 'downgrade',
      stripe_last_mrr_change_amount: '-10.00',
      stripe_last_mrr_change_date: String((T + 200) * 1000),
      stripe_mrr: '20.00',
      stripe_plan: 'Team',
    });
    const note = h.hubspot.portal(h.portalId).notes().find((n) => (n.properties.hs_note_body ?? '').includes(s.ids.upgrade))!;
    expect(note.properties.hs_note_body).toContain('Upgrade: MRR +$20.00 ($10.00 → $30.00), Basic → Pro');
    expect(new Date(note.properties.hs_timestamp!).getTime()).toBe((T + 100) * 1000);

    // Nothing new: no note call.
    const before = noteCreates();
    await h.send(s.downgrade, s.upgrade);
    await h.idle();
    expect(noteCreates()).toBe(before);
    expect(notesOf('cus_tln1')).toHaveLength(3);
  });

  it('shuffled in one burst with duplicates: the same three movements, once each', async () => {
    const s = planChanges('cus_tln2');
    await h.send(s.customer, s.downgrade, s.upgrade, s.created, s.upgrade, s.downgrade, s.created);
    await h.idle();
    await h.idle();
    expect(notesOf('cus_tln2')).toEqual(sorted([s.ids.new, s.ids.upgrade, s.ids.downgrade]));
    expect(h.contactOf('cus_tln2')!.properties.stripe_last_mrr_movement).toBe('downgrade');
  });

  it('a note create whose answer was lost: found on the contact by the next pass, never made twice', async () => {
    const s = planChanges('cus_tln3');
    loseAnswers(h.hubspot, 1, { method: 'POST', pathPrefix: '/crm/v3/objects/notes/batch/create' });
    const reads = () => h.hubspot.requestCount({ portalId: h.portalId, pathPrefix: '/crm/v4/associations/contacts/notes/batch/read', method: 'POST' });
    const readsBefore = reads();
    const createsBefore = noteCreates();
    await h.send(s.customer, s.created);
    await h.idle();
    clearLostAnswers(h.hubspot);
    expect(notesOf('cus_tln3')).toEqual([s.ids.new]);
    // One create sent (its answer lost, never sent again blindly), one look on the contact that found it.
    expect(noteCreates() - createsBefore).toBe(1);
    expect(reads() - readsBefore).toBe(1);
    const written = await h.server.db.query<{ hubspot_id: string }>(
      `SELECT hubspot_id FROM revenue_movements_written WHERE movement_id = $1 AND portal_id = $2`,
      [s.ids.new, h.portalId],
    );
    expect(written.rows).toEqual([{ hubspot_id: h.hubspot.portal(h.portalId).notes().find((n) => (n.properties.hs_note_body ?? '').includes(s.ids.new))!.id }]);
    expect((await h.server.db.query(`SELECT 1 FROM revenue_movement_sends`)).rows).toHaveLength(0);
    expect((await h.server.db.query(`SELECT 1 FROM dead_letters WHERE customer_id = 'cus_tln3'`)).rows).toHaveLength(0);
  });

  it('payment failed then recovered, and a refund: one note each', async () => {
    const p = paymentStory('cus_tln4');
    await h.send(p.customer, p.paid, p.failed, p.failed);
    await h.idle();
    await h.send(p.charge, p.refund, p.refund);
    await h.idle();
    expect(notesOf('cus_tln4')).toEqual(sorted([p.ids.failed, p.ids.recovered, p.ids.refund]));
    const bodies = h.hubspot.portal(h.portalId).notes().map((n) => n.properties.hs_note_body ?? '');
    expect(bodies.find((b) => b.includes(p.ids.failed))).toContain('Payment failed: $49.99');
    expect(bodies.find((b) => b.includes(p.ids.recovered))).toContain('Payment recovered: $49.99');
    expect(bodies.find((b) => b.includes(p.ids.refund))).toContain('Refund: $5.00 on payment ch_cus_tln4');
    // Payment movements do not change MRR: no last MRR change.
    expect(h.contactOf('cus_tln4')!.properties.stripe_last_mrr_movement ?? '').toBe('');
  });

  it('the timeline turned off: no note', async () => {
    const off = defaultSettings();
    off.crm.timeline.enabled = false;
    await h.server.db.query(
      `INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)
       ON CONFLICT (account_key, livemode) DO UPDATE SET settings = EXCLUDED.settings`,
      [JSON.stringify(off)],
    );
    const s = planChanges('cus_tln5');
    await h.send(s.customer, s.created);
    await h.idle();
    expect(h.contactOf('cus_tln5')!.properties.stripe_last_mrr_movement).toBe('new');
    expect(notesOf('cus_tln5')).toEqual([]);
  });
});

describe.each(dbKinds())('revenue movements as timeline events (marketplace app) on %s', (kind) => {
  const ACCOUNT = 'acct_timeline1';
  const NO_SCOPE_ACCOUNT = 'acct_timeline2';
  const PORTAL = 5150;
  const OTHER_PORTAL = 5151;
  let fake: FakeHubSpot;
  let h: SyncHarness;
  let templateId: string;
  let codes = 0;

  /** The merchant connects test mode through OAuth, HubSpot granting `scopes`. */
  async function connect(caller: AppCaller, portalId: number, scopes: string[]) {
    const attempt = oauthAttempt();
    const authorize = await requestAuthorizeUrl(h.server.url, caller, 'test', attempt);
    const url = new URL(authorize.body.url);
    const code = `code-timeline-${++codes}`;
    fake.issueAuthorizationCode(code, portalId, {
      scopes,
      redirectUri: url.searchParams.get('redirect_uri') ?? undefined,
      codeChallenge: url.searchParams.get('code_challenge') ?? undefined,
    });
    const connected = await appRequest(h.server.url, 'POST', '/hubspot/connect', caller, { mode: 'test', code, state: attempt.state, verifier: attempt.verifier });
    expect(connected.status).toBe(200);
    const confirmed = await appRequest(h.server.url, 'POST', '/hubspot/connect/confirm', caller, { mode: 'test', portalId });
    expect(confirmed.status).toBe(200);
  }

  beforeAll(async () => {
    fake = await startFakeHubSpot();
    // The template is the app's, made once with its developer API key (never with a portal's token).
    const developer = new Client({ developerApiKey: fake.developerApiKey, basePath: fake.url, numberOfApiCallRetries: 0 });
    const template = await developer.crm.timeline.templatesApi.create(fake.appId, TIMELINE_TEMPLATE as unknown as TimelineEventTemplateCreateRequest);
    templateId = template.id;
    h = await startSyncHarness({
      kind,
      sharedHubSpot: fake,
      privateApp: false,
      engine: { pusher: PUSHER, hubspotRetry: HUBSPOT_RETRY },
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_APP_ID: 'com.stripe-hubspot-sync.app',
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
        HUBSPOT_TIMELINE_TEMPLATE_ID: templateId,
      },
    });
    await connect({ accountId: ACCOUNT }, PORTAL, ALL_SCOPES);
  });
  afterAll(async () => {
    await h?.stop();
    await fake?.close();
  });

  const contactOf = (portalId: number, customerId: string) => fake.portal(portalId).contactByProperty('stripe_customer_id', customerId)!;
  const eventsOn = (contactId: string) =>
    fake
      .portal(PORTAL)
      .timelineEvents()
      .filter((e) => e.objectId === contactId);
  const eventIds = (customerId: string) => sorted(eventsOn(contactOf(PORTAL, customerId).id).map((e) => e.id));
  const eventCreates = () => fake.requestCount({ portalId: PORTAL, pathPrefix: '/integrators/timeline/v3/events/batch/create', method: 'POST' });

  it('upgrade then downgrade, shuffled and duplicated, the upgrade late: three events keyed by the movement ids, no notes', async () => {
    const s = planChanges('cus_tle1', ACCOUNT);
    await h.send(s.customer, s.created);
    await h.idle();
    await h.send(s.downgrade, s.downgrade);
    await h.idle();
    await h.send(s.upgrade, s.upgrade, s.created);
    await h.idle();
    const contact = contactOf(PORTAL, 'cus_tle1');
    expect(eventIds('cus_tle1')).toEqual(sorted([s.ids.new, s.ids.upgrade, s.ids.downgrade]));
    const upgrade = eventsOn(contact.id).find((e) => e.id === s.ids.upgrade)!;
    expect(upgrade).toMatchObject({ eventTemplateId: templateId, objectType: 'contacts', timestamp: new Date((T + 100) * 1000).toISOString() });
    expect(upgrade.tokens).toMatchObject({ movement: 'upgrade', amount: '20.00', mrrBefore: '10.00', mrrAfter: '30.00', currency: 'USD', plan: 'Pro', previousPlan: 'Basic' });
    expect(noteMovements(fake, PORTAL, contact.id)).toEqual([]);
    expect(contact.properties).toMatchObject({ stripe_last_mrr_movement: 'downgrade', stripe_last_mrr_change_amount: '-10.00' });

    const before = eventCreates();
    await h.send(s.upgrade, s.downgrade);
    await h.idle();
    expect(eventCreates()).toBe(before);
  });

  it('an event create whose answer was lost is sent again under its id: HubSpot keeps one, and it counts as written', async () => {
    const s = planChanges('cus_tle2', ACCOUNT);
    loseAnswers(fake, 1, { method: 'POST', pathPrefix: '/integrators/timeline/v3/events/batch/create', as: 502 });
    const before = eventCreates();
    await h.send(s.customer, s.created);
    await h.idle();
    clearLostAnswers(fake);
    expect(eventIds('cus_tle2')).toEqual([s.ids.new]);
    expect(eventCreates() - before).toBe(2);
    const { rows } = await h.server.db.query(`SELECT 1 FROM revenue_movements_written WHERE movement_id = $1 AND portal_id = $2`, [s.ids.new, PORTAL]);
    expect(rows).toHaveLength(1);
    expect((await h.server.db.query(`SELECT 1 FROM dead_letters WHERE customer_id = 'cus_tle2'`)).rows).toHaveLength(0);
  });

  it('payment failed then recovered, and a refund: one event each', async () => {
    const p = paymentStory('cus_tle3', ACCOUNT);
    await h.send(p.customer, p.failed, p.paid, p.paid);
    await h.idle();
    await h.send(p.refund, p.charge, p.refund);
    await h.idle();
    expect(eventIds('cus_tle3')).toEqual(sorted([p.ids.failed, p.ids.recovered, p.ids.refund]));
    const refund = eventsOn(contactOf(PORTAL, 'cus_tle3').id).find((e) => e.id === p.ids.refund)!;
    expect(refund.tokens).toMatchObject({ movement: 'refund', amount: '5.00', stripeObject: 'ch_cus_tle3' });
    expect(refund.tokens).not.toHaveProperty('mrrAfter');
  });

  it('an OAuth install without the timeline scope gets notes', async () => {
    const settings = defaultSettings();
    settings.crm.companies.enabled = false;
    settings.crm.deals.enabled = false;
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ($1, false, $2)`, [NO_SCOPE_ACCOUNT, JSON.stringify(settings)]);
    await connect({ accountId: NO_SCOPE_ACCOUNT }, OTHER_PORTAL, ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write']);
    const s = planChanges('cus_tle4', NO_SCOPE_ACCOUNT);
    await h.send(s.customer, s.created, s.upgrade);
    await h.idle();
    const contact = contactOf(OTHER_PORTAL, 'cus_tle4');
    expect(noteMovements(fake, OTHER_PORTAL, contact.id)).toEqual(sorted([s.ids.new, s.ids.upgrade]));
    expect(fake.portal(OTHER_PORTAL).timelineEvents()).toEqual([]);
    expect(fake.requestCount({ portalId: OTHER_PORTAL, pathPrefix: '/integrators/timeline' })).toBe(0);
  });
});
