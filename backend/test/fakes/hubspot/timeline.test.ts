import { Client } from '@hubspot/api-client';
import { TimelineEventTemplateTokenTypeEnum as TokenType } from '@hubspot/api-client/lib/codegen/crm/timeline';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { oauthClient, oauthToken, raw, sdkClient, sdkError } from './test-support';

/** Timeline v3: templates managed with the developer API key, events sent with an app's OAuth token. */

let fake: FakeHubSpot;
let dev: Client;
let hs: Client;
const PORTAL = 2401;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(async () => {
  fake.reset();
  dev = new Client({ developerApiKey: fake.developerApiKey, basePath: fake.url, numberOfApiCallRetries: 0 });
  hs = await oauthClient(fake, PORTAL);
});

async function movementTemplate() {
  return dev.crm.timeline.templatesApi.create(fake.appId, {
    name: 'Revenue movement',
    objectType: 'contacts',
    headerTemplate: '{{movement}} of {{amount}}',
    tokens: [
      { name: 'movement', label: 'Movement', type: TokenType.Enumeration, options: [{ label: 'New', value: 'new' }, { label: 'Churn', value: 'churn' }] },
      { name: 'amount', label: 'Amount', type: TokenType.Number },
      { name: 'plan', label: 'Plan', type: TokenType.String },
    ],
  });
}

describe('event templates', () => {
  it('are created and listed with the developer API key, per app', async () => {
    const t = await movementTemplate();
    expect(t).toMatchObject({ name: 'Revenue movement', objectType: 'contacts' });
    expect(t.tokens.map((x) => x.name)).toEqual(['movement', 'amount', 'plan']);
    await dev.crm.timeline.tokensApi.create(t.id, fake.appId, { name: 'currency', label: 'Currency', type: TokenType.String });
    const all = await dev.crm.timeline.templatesApi.getAll(fake.appId);
    expect(all.results.map((x) => x.id)).toEqual([t.id]);
    expect(all.results[0]!.tokens.map((x) => x.name)).toContain('currency');
    expect(fake.eventTemplates().map((x) => x.name)).toEqual(['Revenue movement']);
    expect((await sdkError(dev.crm.timeline.templatesApi.getAll(999))).code).toBe(404);
  });

  it('refuse a wrong developer key and a bearer token, a bad token definition, an unsupported object type', async () => {
    const wrong = new Client({ developerApiKey: 'nope', basePath: fake.url, numberOfApiCallRetries: 0 });
    const e = await sdkError(wrong.crm.timeline.templatesApi.getAll(fake.appId));
    expect(e.code).toBe(401);
    expect(e.body.category).toBe('INVALID_AUTHENTICATION');
    expect((await sdkError(hs.crm.timeline.templatesApi.getAll(fake.appId))).code).toBe(401);
    const enumWithout = await sdkError(
      dev.crm.timeline.templatesApi.create(fake.appId, { name: 'X', objectType: 'contacts', tokens: [{ name: 'm', label: 'M', type: TokenType.Enumeration }] }),
    );
    expect(enumWithout.code).toBe(400);
    const badName = await sdkError(
      dev.crm.timeline.templatesApi.create(fake.appId, { name: 'X', objectType: 'contacts', tokens: [{ name: 'a b', label: 'M', type: TokenType.String }] }),
    );
    expect(badName.code).toBe(400);
    expect((await sdkError(dev.crm.timeline.templatesApi.create(fake.appId, { name: 'X', objectType: 'notes', tokens: [] }))).code).toBe(400);
    const noTokens = await raw(fake, 'POST', `/integrators/timeline/v3/${fake.appId}/event-templates?hapikey=${fake.developerApiKey}`, {
      json: { name: 'X', objectType: 'contacts' },
    });
    expect(noTokens.status).toBe(400);
    expect(String(noTokens.body.message)).toContain('[tokens]');
    expect(fake.eventTemplates()).toEqual([]);
  });
});

describe('events', () => {
  it('puts an event on a contact by objectId, with its tokens and extra data, readable back', async () => {
    const t = await movementTemplate();
    const contact = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    const e = await hs.crm.timeline.eventsApi.create({
      eventTemplateId: t.id, id: 'mv_1', objectId: contact.id, tokens: { movement: 'new', amount: '49', plan: 'Pro' },
      extraData: { invoice: 'in_1' }, timestamp: new Date('2026-01-02T03:04:05Z'),
    });
    expect(e).toMatchObject({ id: 'mv_1', eventTemplateId: t.id, objectId: contact.id, objectType: 'contacts', tokens: { movement: 'new', amount: '49' } });
    expect(fake.portal(PORTAL).timelineEvents()).toEqual([
      expect.objectContaining({ id: 'mv_1', objectId: contact.id, extraData: { invoice: 'in_1' }, timestamp: '2026-01-02T03:04:05.000Z' }),
    ]);
    const back = await hs.crm.timeline.eventsApi.getById(t.id, 'mv_1');
    expect(back.tokens).toEqual({ movement: 'new', amount: '49', plan: 'Pro' });
  });

  it('refuses a duplicate id for the template with 409, keeping the first event', async () => {
    const t = await movementTemplate();
    const contact = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    await hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, id: 'mv_1', objectId: contact.id, tokens: { movement: 'new' } });
    const dup = await sdkError(hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, id: 'mv_1', objectId: contact.id, tokens: { movement: 'churn' } }));
    expect(dup.code).toBe(409);
    expect(dup.body.category).toBe('CONFLICT');
    expect(fake.portal(PORTAL).timelineEvents().map((x) => x.tokens.movement)).toEqual(['new']);
    // Without an id HubSpot makes one.
    const generated = await hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, objectId: contact.id, tokens: {} });
    expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an email finds the contact, or creates it', async () => {
    const t = await movementTemplate();
    const ada = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    const onAda = await hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, id: 'a', email: 'ADA@example.com', tokens: {} });
    expect(onAda.objectId).toBe(ada.id);
    const onNew = await hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, id: 'b', email: 'new@example.com', tokens: {} });
    expect(fake.portal(PORTAL).contactByEmail('new@example.com')?.id).toBe(onNew.objectId);
  });

  it('refuses unknown tokens, bad token values, a missing record, an unknown template, a body without tokens', async () => {
    const t = await movementTemplate();
    const contact = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    const status = async (body: Record<string, unknown>) =>
      (await sdkError(hs.crm.timeline.eventsApi.create({ eventTemplateId: t.id, objectId: contact.id, tokens: {}, ...body } as never))).code;
    expect(await status({ tokens: { colour: 'red' } })).toBe(400);
    expect(await status({ tokens: { amount: 'lots' } })).toBe(400);
    expect(await status({ tokens: { movement: 'upgrade' } })).toBe(400);
    expect(await status({ objectId: '999999' })).toBe(400);
    expect(await status({ eventTemplateId: '999999' })).toBe(404);
    const noTokens = await raw(fake, 'POST', '/integrators/timeline/v3/events', { token: await oauthToken(fake, PORTAL), json: { eventTemplateId: t.id, objectId: contact.id } });
    expect(noTokens.status).toBe(400);
    expect(fake.portal(PORTAL).timelineEvents()).toEqual([]);
  });

  it('batch create answers 207 for the refused inputs and creates the others', async () => {
    const t = await movementTemplate();
    const contact = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    const res = await hs.crm.timeline.eventsApi.createBatch({
      inputs: [
        { eventTemplateId: t.id, id: 'x1', objectId: contact.id, tokens: { movement: 'new' } },
        { eventTemplateId: t.id, id: 'x1', objectId: contact.id, tokens: { movement: 'churn' } },
        { eventTemplateId: t.id, id: 'x2', objectId: '999999', tokens: {} },
      ],
    });
    const body = res as { results: { id: string }[]; errors: { category: string; id: string }[] };
    expect(body.results.map((r) => r.id)).toEqual(['x1']);
    expect(body.errors.map((e) => [e.category, e.id])).toEqual([['CONFLICT', 'x1'], ['VALIDATION_ERROR', 'x2']]);
    expect(fake.portal(PORTAL).timelineEvents().map((e) => e.id)).toEqual(['x1']);
  });

  it('needs an OAuth token with the timeline scope: private-app tokens and tokens without it get 403', async () => {
    const t = await movementTemplate();
    const contact = fake.portal(PORTAL).addContact({ email: 'ada@example.com' });
    const event = { eventTemplateId: t.id, objectId: contact.id, tokens: {} };
    const pat = await sdkError(sdkClient(fake, PORTAL).crm.timeline.eventsApi.create(event));
    expect(pat.code).toBe(403);
    expect(pat.body.category).toBe('MISSING_SCOPES');
    expect(String(pat.body.message)).toContain('private-app');
    const noScope = await oauthClient(fake, PORTAL, ['oauth', 'crm.objects.contacts.write']);
    const e = await sdkError(noScope.crm.timeline.eventsApi.create(event));
    expect(e.code).toBe(403);
    expect(e.body.errors).toEqual([expect.objectContaining({ context: { requiredGranularScopes: ['timeline'] } })]);
    expect(fake.portal(PORTAL).timelineEvents()).toEqual([]);
    expect(fake.requestCount({ portalId: PORTAL, pathPrefix: '/integrators/timeline/v3/events' })).toBe(2);
  });
});
