import pino from 'pino';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../../adapters/store/db';
import { createHubSpotAdapter, staticTokenAuth, type HubSpotAdapter } from '../../adapters/hubspot/adapter';
import { propertyProblems } from '../../adapters/store/connection-health';
import { DEAL_PIPELINE_LABEL, DEAL_STAGES } from '../../domain/crm/deal-stages';
import { dbKinds, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../../../test/fakes/hubspot/server';
import { startRefusingProxy, type RefusingProxy } from '../../../test/helpers/refusing-proxy';
import { DEALS_PROBLEM, dealSetup } from './deal-provisioning';
import type { ObjectWriterContext } from './stage';

/**
 * What deals need in a portal, provisioned through the real SDK against the fake HubSpot: once (then from the
 * database, no call), HubSpot's default pipeline standing in where ours cannot be created, and an install without
 * the deals scopes recorded as a problem of the connection rather than refusing it.
 */
describe.each(dbKinds())('deal provisioning on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let fake: FakeHubSpot;
  let proxy: RefusingProxy;
  let direct: HubSpotAdapter;
  let viaProxy: HubSpotAdapter;
  let nextPortal = kind === 'pglite' ? 7100 : 7200;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    fake = await startFakeHubSpot();
    proxy = await startRefusingProxy(fake.url);
    const retry = { baseDelayMs: 5, maxAttempts: 3, lockedDelayMs: 5, rateLimitDelayMs: 5 };
    direct = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry });
    viaProxy = createHubSpotAdapter({ db, apiBaseUrl: proxy.url, retry });
  });
  afterAll(async () => {
    direct?.close();
    viaProxy?.close();
    await proxy?.close();
    await fake?.close();
    await db?.close();
    await target?.drop();
  });

  function ctxFor(adapter: HubSpotAdapter, portalId: number, token: string): ObjectWriterContext {
    return {
      db,
      logger: pino({ level: 'silent' }),
      portal: adapter.portal(staticTokenAuth(portalId, token)),
      authKind: 'private_app',
      account: '',
      livemode: false,
      settings: defaultSettings(),
      companyOf: new Map(),
    };
  }
  function privatePortal(adapter: HubSpotAdapter = direct): { portalId: number; ctx: ObjectWriterContext } {
    const portalId = ++nextPortal;
    fake.addPrivateAppToken(`pat-${portalId}`, portalId);
    return { portalId, ctx: ctxFor(adapter, portalId, `pat-${portalId}`) };
  }
  const calls = (portalId: number) => fake.requests.filter((r) => r.portalId === portalId).length;

  it('provisions properties, pipeline and currencies once; after that the setup comes from the database', async () => {
    const { portalId, ctx } = privatePortal();
    const setup = await dealSetup(ctx);
    if ('problem' in setup) throw new Error(setup.problem);

    const pipeline = fake.portal(portalId).pipelines('deals').find((p) => p.label === DEAL_PIPELINE_LABEL)!;
    expect(setup.pipelineId).toBe(pipeline.id);
    expect(setup.fallback).toBe(false);
    expect(DEAL_STAGES.map((s) => pipeline.stages.find((x) => x.id === setup.stageIds[s.key])?.label)).toEqual(DEAL_STAGES.map((s) => s.label));
    expect([...setup.currencies].sort()).toEqual(['EUR', 'GBP', 'USD']);
    const props = fake.portal(portalId).propertiesOf('deals');
    expect(props.get('stripe_subscription_id')).toMatchObject({ groupName: 'stripe', hasUniqueValue: true, type: 'string' });
    expect(props.get('stripe_checkout_session_id')).toMatchObject({ hasUniqueValue: true });

    const made = calls(portalId);
    const again = await dealSetup(ctx);
    expect(again).toEqual(setup);
    expect(calls(portalId)).toBe(made);
  });

  it('finds our pipeline by its label and adds the stages it lacks instead of making a second one', async () => {
    const { portalId, ctx } = privatePortal();
    // A pipeline of ours from before (an earlier version, or a create whose answer was lost), with two stages.
    const made = await fetch(`${fake.url}/crm/v3/pipelines/deals`, {
      method: 'POST',
      headers: { authorization: `Bearer pat-${portalId}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        label: DEAL_PIPELINE_LABEL,
        displayOrder: 3,
        stages: [
          { label: 'Trialing', displayOrder: 0, metadata: { probability: '0.5' } },
          { label: 'Active', displayOrder: 1, metadata: { probability: '1.0' } },
        ],
      }),
    });
    const existing = (await made.json()) as { id: string; stages: { id: string; label: string }[] };
    const setup = await dealSetup(ctx);
    if ('problem' in setup) throw new Error(setup.problem);
    expect(setup.pipelineId).toBe(existing.id);
    expect(setup.stageIds.trialing).toBe(existing.stages.find((s) => s.label === 'Trialing')!.id);
    const pipelines = fake.portal(portalId).pipelines('deals').filter((p) => p.label === DEAL_PIPELINE_LABEL);
    expect(pipelines).toHaveLength(1);
    expect(pipelines[0]!.stages.map((s) => s.label).sort()).toEqual(DEAL_STAGES.map((s) => s.label).sort());

    // Our record of it lost: found again, nothing made.
    await db.query('DELETE FROM hubspot_deal_setup WHERE portal_id = $1', [portalId]);
    expect(await dealSetup(ctx)).toMatchObject({ pipelineId: existing.id, stageIds: setup.stageIds });
    expect(fake.portal(portalId).pipelines('deals')).toHaveLength(2);
  });

  it.each([
    ['400', { status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'Pipeline limit reached for this portal' } }],
    ['403 (not a scope)', { status: 403, body: { status: 'error', category: 'FORBIDDEN', message: 'Your subscription does not include additional deal pipelines' } }],
  ])("a portal refusing a second pipeline (%s): HubSpot's default pipeline stands in", async (_what, refusal) => {
    const { portalId, ctx } = privatePortal(viaProxy);
    proxy.refuse((m, p, auth) => m === 'POST' && p === '/crm/v3/pipelines/deals' && auth === `Bearer pat-${portalId}`, refusal);
    const refusedBefore = proxy.refused();
    const setup = await dealSetup(ctx);
    if ('problem' in setup) throw new Error(setup.problem);
    expect(proxy.refused()).toBe(refusedBefore + 1);
    expect(setup).toMatchObject({ pipelineId: 'default', fallback: true });
    expect(setup.stageIds).toMatchObject({ active: 'closedwon', canceled: 'closedlost', one_off_paid: 'closedwon' });
    expect(fake.portal(portalId).pipelines('deals').map((p) => p.id)).toEqual(['default']);
    expect(await propertyProblems(db, portalId)).toEqual([]);
  });

  it('an install without the deals scopes: a problem of the deals, shown with the connection, not a refused connection', async () => {
    const portalId = ++nextPortal;
    const code = `code-${portalId}`;
    fake.issueAuthorizationCode(code, portalId, { scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write'] });
    const exchange = await fetch(`${fake.url}/oauth/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'test-client-id',
        client_secret: 'test-client-secret',
        redirect_uri: 'https://example.com/back',
        code,
      }).toString(),
    });
    const { access_token: token } = (await exchange.json()) as { access_token: string };
    const ctx = ctxFor(direct, portalId, token);

    const setup = await dealSetup(ctx);
    expect(setup).toEqual({ problem: expect.stringContaining('deals scopes') });
    expect((await propertyProblems(db, portalId)).map((p) => p.property)).toEqual([DEALS_PROBLEM]);
    // Tried again only after a while: no call now.
    const made = fake.requests.length;
    expect(await dealSetup(ctx)).toEqual(setup);
    expect(fake.requests.length).toBe(made);
  });
});
